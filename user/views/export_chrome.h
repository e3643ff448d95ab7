/*
 * The timeline as Chrome Trace Event JSON (opens in the Perfetto UI and
 * chrome://tracing): one track per thread, complete events for holding and
 * waiting, instant events for retries, drop requests, timeouts and forced
 * releases, flow arrows from waker to woken and from releaser to acquirer.
 * Written one event at a time: memory stays flat however long the capture.
 */
#ifndef GILTRACE_EXPORT_CHROME_H
#define GILTRACE_EXPORT_CHROME_H

/* otherData.schema of the document (docs/export.md) */
#define EXPORT_CHROME_SCHEMA 1

#include <stdio.h>
#include <linux/types.h>

#include "trace_meta.h"
#include "engine/timeline.h"

struct export_chrome;

/* Starts the document on out; timestamps count from origin_ts (ns). */
struct export_chrome *export_chrome__new(FILE *out, __u64 origin_ts);

/* Callbacks that write the timeline into x (ctx = x). */
struct timeline_ops export_chrome__timeline_ops(void);

/* Process and thread names (metadata events) of eng's threads, and the
 * closing of the document. Returns 0 or -errno. Frees x. */
int export_chrome__finish(struct export_chrome *x, const struct engine *eng,
			  const struct trace_meta *meta);

#endif
