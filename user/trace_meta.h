/*
 * What a trace was taken of: travels beside the event stream (the live
 * source fills it from /proc, the capture header stores it) so that views
 * can say what they show. The engine never reads it.
 */
#ifndef GILTRACE_TRACE_META_H
#define GILTRACE_TRACE_META_H

#include <linux/types.h>

#define META_STR 128

struct trace_meta {
	__u32 pid;                 /* main target (first one with -p A,B) */
	__u32 ncpus;               /* CPUs online on the traced machine */
	__u64 mono_to_wall_ns;     /* add to a CLOCK_MONOTONIC ts for wall time */
	char comm[META_STR];       /* target's /proc/PID/comm */
	char exe[META_STR * 2];    /* target's executable as the tracer saw it */
	char runtime[META_STR];    /* "toyvm", "cpython" */
	char version[META_STR];    /* "1", "3.11.2", ... */
	char mode[META_STR];       /* tracing mode, e.g. "hooks", "futex" */
	char kernel[META_STR];     /* uname -r of the traced machine */
	char note[META_STR * 2];   /* what the mode does not show, said once in
	                            * the summary (runtime_row.note), or "" */
};

#endif
