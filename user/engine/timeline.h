/*
 * The timeline: what each thread did when, for views that draw time
 * (export, plot). It is not a second state machine: the engine's own
 * per-thread state (engine.c) reports each change as it feeds an event, and
 * the timeline turns those changes into
 *
 *   slices    the thread held the GIL, waited for it, or ran without it,
 *             from one state change to the next;
 *   instants  retries, drop requests, timeouts, forced releases;
 *   flows     waker -> woken (SCHED_WAKEUP), and releaser -> next acquirer
 *             when the GIL changed hands.
 *
 * Every ACQUIRE opens exactly one hold slice and every WAIT one wait slice,
 * so a view counts the same acquisitions as the summary. A slice whose end
 * the events contradict (a lost release, a second ACQUIRE) or do not show
 * (still open when the trace ends) carries TIMELINE_CUT.
 */
#ifndef GILTRACE_TIMELINE_H
#define GILTRACE_TIMELINE_H

#include <linux/types.h>

#include "engine/engine.h"

enum timeline_slice_kind {
	TIMELINE_HOLD,    /* ACQUIRE .. RELEASE / FORCED_RELEASE */
	TIMELINE_WAIT,    /* WAIT .. ACQUIRE */
	TIMELINE_RUN,     /* release .. next WAIT or ACQUIRE: runs without the GIL */
	TIMELINE__NSLICE,
};

enum timeline_instant_kind {
	TIMELINE_RETRY,          /* woken, but the GIL was taken again */
	TIMELINE_DROP_REQUEST,   /* asked the holder to drop the GIL */
	TIMELINE_TIMEOUT,        /* a timed wait for the GIL expired */
	TIMELINE_FORCED_RELEASE, /* let go on request, preemption or quantum end */
	TIMELINE__NINSTANT,
};

enum timeline_flow_kind {
	TIMELINE_WAKEUP,  /* the scheduler woke a GIL waiter on behalf of from */
	TIMELINE_HANDOFF, /* from released the GIL, to took it next */
};

#define TIMELINE_CUT 0x1u /* the slice's end is not the event that should end it */

struct timeline_slice {
	const struct engine_thread *thread;
	enum timeline_slice_kind kind;
	unsigned int flags;
	__u64 start, end; /* event ts, ns; end >= start */
};

struct timeline_instant {
	const struct engine_thread *thread;
	enum timeline_instant_kind kind;
	__u64 ts;
	__u16 cpu;
};

struct timeline_flow {
	enum timeline_flow_kind kind;
	__u64 id; /* 1, 2, ... in the order flows are reported */
	const struct engine_thread *from, *to;
	__u64 from_ts, to_ts;
};

/* Callbacks, all optional. The thread pointers stay valid while the
 * engine lives. */
struct timeline_ops {
	void (*slice)(void *ctx, const struct timeline_slice *s);
	void (*instant)(void *ctx, const struct timeline_instant *i);
	void (*flow)(void *ctx, const struct timeline_flow *f);
};

/* Reports the timeline of every event fed from now on to ops (copied);
 * NULL stops. Set it before the first event. */
void engine__set_timeline(struct engine *eng, const struct timeline_ops *ops, void *ctx);

/* Ends every thread's open slice at the last event's ts, with
 * TIMELINE_CUT: call once, after the last event. */
void engine__flush_timeline(struct engine *eng);

const char *timeline__slice_name(enum timeline_slice_kind k);
const char *timeline__instant_name(enum timeline_instant_kind k);
const char *timeline__flow_name(enum timeline_flow_kind k);

#endif
