/*
 * The interpreter's own view of its GIL, read from a live CPython 3.x
 * process's memory: its count of hand-offs (gil->switch_number), whether the
 * GIL is held, and the thread of the last holder. The live source streams
 * these readings as GIL_STATE events; the engine checks the hand-offs it
 * saw against them (docs/architecture.md, "the hand-off self-check").
 */
#ifndef GILTRACE_GIL_STATE_H
#define GILTRACE_GIL_STATE_H

#include <linux/types.h>

#include "target/runtimes.h"

struct gil_state {
	__u64 switch_number;
	__u64 interval;   /* gil->interval, microseconds (the layout checks) */
	__u64 holder;     /* gil->last_holder, a PyThreadState address */
	__u32 holder_tid; /* 0: not known (no holder, or unreadable) */
	__s32 locked;     /* -1 (no GIL yet, or destroyed), 0 or 1 */
	__s32 enabled;    /* free-threaded builds: gil->enabled (0 off, INT_MAX
			   * on for good, else imports in progress); 0 otherwise */
	__s32 flags;      /* GIL_STATE_LOCKED, _NO_HOLDER, and on free-threaded
			   * builds _FREE_THREADED, _GIL_OFF, _GIL_FOR_GOOD (bpf/giltrace.h) */
};

/* Reads the GIL at gil (an address in pid) laid out as l. 0, or -errno:
 * -ESRCH (the process exited or is exiting), -EFAULT (unreadable memory:
 * the address is wrong), -EPROTO (gil->locked is not -1, 0 or 1, or
 * gil->enabled is negative: the layout does not fit). */
int gil_state__read(__u32 pid, __u64 gil, const struct cpython_layout *l,
		    struct gil_state *out);

#endif
