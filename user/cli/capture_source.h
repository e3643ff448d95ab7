/*
 * A capture file as an event source for the commands that read one
 * (report, export, plot): open it, hand every record to a sink, and say on
 * stderr what a damaged or cut file gave up, so no loss goes unnoticed.
 */
#ifndef GILTRACE_CAPTURE_SOURCE_H
#define GILTRACE_CAPTURE_SOURCE_H

#include <stdbool.h>
#include <linux/types.h>

#include "capture/reader.h"
#include "engine/engine.h"

struct capture_sink {
	/* non-zero stops the reading (an output that failed): drain()
	 * returns 0 then and the sink's owner says why */
	int (*event)(void *ctx, const struct gil_event *ev);
	void (*thread)(void *ctx, __u32 tgid, __u32 tid, const char *name); /* optional */
	/* optional: a blame stack record (ctx is stack_ctx) */
	void (*stack)(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		      const struct blame_frame *frames, unsigned int nframes);
	void *ctx;
	void *stack_ctx;
	bool quiet; /* say nothing about damage: a second pass will */
};

/* Opens path, or prints "giltrace: cannot read PATH: why" and returns NULL. */
struct capture_reader *capture_source__open(const char *path);

/* Reads every record of r into sink, then reports recovery on stderr.
 * Returns 0, or 1 after "giltrace: PATH is corrupt: ..." or, on SIGINT,
 * SIGTERM or SIGHUP, "giltrace: interrupted". */
int capture_source__drain(struct capture_reader *r, const char *path,
			  const struct capture_sink *sink);

/* A sink that feeds eng: events through engine__feed(), thread names
 * through engine__name_thread(). */
struct capture_sink capture_source__engine_sink(struct engine *eng);

/* The ts of path's first event (0 if none): the origin of --from/--to.
 * A separate pass, so only when a window is asked for. */
__u64 capture_source__first_ts(const char *path);

/* --from/--to seconds (< 0: unbounded) as absolute engine_opts edges. */
__u64 capture_source__window_edge(__u64 first_ts, double s);

#endif
