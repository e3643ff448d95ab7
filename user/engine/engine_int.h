/*
 * Engine internals shared by engine.c (feeding), engine_tick.c (intervals)
 * and engine_query.c (accessors). Nothing outside user/engine/ includes it.
 */
#ifndef GILTRACE_ENGINE_INT_H
#define GILTRACE_ENGINE_INT_H

#include <stdint.h>

#include "engine/engine.h"
#include "engine/locks.h"
#include "engine/timeline.h"
#include "util/u64map.h"

/* The public record comes first so a slot's address is the record's. */
struct thread_slot {
	struct engine_thread pub;
	struct engine_proc *proc;
	__u64 since;         /* HOLDING: ACQUIRE ts; WAITING: WAIT ts */
	__u64 seg_start;     /* start of the current timed wait (WAIT/RETRY/TIMEOUT) */
	int after_release;   /* last release was voluntary: next ACQUIRE is I/O */
	__u64 asked_ts;      /* HOLDING: the hold's first drop request, 0 = none */
	__u64 tl_start;      /* timeline: when the current state began */
	__u64 tl_released;   /* timeline: ts of the last release, 0 = none */
	__u64 blame_last;    /* blame: the last stack sampled while it held the GIL */
	__u64 frame_id;      /* HOLDER_FRAME: the sample for the forced release at frame_ts */
	__u64 frame_ts;
	/* The interval in progress: its counters add up here, and
	 * engine__tick() completes a copy (length, shares) into pub.iv. */
	struct thread_interval acc;
};

struct engine {
	struct engine_opts opts;

	struct u64map by_tid;           /* thread_key() -> struct thread_slot * */
	struct thread_slot **threads;   /* insertion order */
	size_t nthreads, threads_cap;

	struct engine_proc **procs;
	size_t nprocs, procs_cap;

	struct engine_cpu **cpus; /* indexed by CPU number, NULL if unseen */
	size_t cpus_cap;
	struct cpu_interval *cpu_acc; /* same index: interval in progress */

	int have_ts;
	__u64 first_ts, last_ts;
	__u64 drops;
	__u64 unpaired;
	__u64 switches;

	struct hist wait;      /* every thread's wait, as merged */
	struct hist io_wait;
	__u64 io_wait_contended;
	struct hist timeout_span;   /* WAIT/RETRY/TIMEOUT to TIMEOUT */
	struct hist futex_timedout; /* WAKE -ETIMEDOUT: ns in the syscall */

	__u64 futex_woken, futex_timedout_n, futex_other;
	__u64 wake_calls, wake_call_woken;

	__u64 iv_start;          /* ts of the last tick, 0 before the first */
	int ticked;
	struct totals_interval acc; /* interval in progress: its counters */
	struct totals_interval iv;  /* the last closed interval */

	struct blame_table *blame; /* NULL until the first HOLDER_STACK */
	struct lock_table *locks;  /* free-threaded CPython's locks (locks.c) */
	struct holder_table *holder; /* HOLDER_FRAME samples and code names (holder.c) */

	int tl_on;               /* engine__set_timeline() was given ops */
	struct timeline_ops tl;
	void *tl_ctx;
	__u64 tl_flows;          /* flow ids handed out */
};

/* Counts the process's waiting-while-held time up to ts (engine.c). */
void engine__advance_held(struct engine_proc *p, __u64 ts);

/* Events from different CPUs may arrive slightly out of order: a duration
 * whose end precedes its start counts as 0, never as a huge unsigned. */
static inline __u64 span(__u64 start, __u64 end)
{
	return end > start ? end - start : 0;
}

/* num / den, 0 when den is 0 (nothing happened: no share, no mean). */
static inline double ratio(__u64 num, __u64 den)
{
	return den ? (double)num / (double)den : 0.0;
}

static inline __u64 thread_key(__u32 tgid, __u32 tid)
{
	return (__u64)tgid << 32 | tid;
}

/* The thread's slot, NULL when no event has named it yet. */
static inline struct thread_slot *engine__slot(const struct engine *eng, __u32 tgid, __u32 tid)
{
	__u64 v;

	return u64map__get(&eng->by_tid, thread_key(tgid, tid), &v)
		? (struct thread_slot *)(uintptr_t)v : NULL;
}

/* What the timeline needs from before an event changed the thread. */
struct timeline_pre {
	enum thread_state state;
	__u64 unpaired;
	__u32 last_holder;
};

/* blame.c: called by engine__feed() and the state machines. */
void blame__on_stack(struct engine *eng, struct thread_slot *t, const struct gil_event *ev);
void blame__advance(struct engine *eng, struct engine_proc *p, __u64 ts);
void blame__acquired(struct engine *eng, struct thread_slot *t, __u64 ts);
void blame__released(struct engine *eng, struct thread_slot *t, __u64 ts);
void blame__free(struct blame_table *b);

/* holder.c: the forced holder's function (HOLDER_FRAME). */
void holder__on_frame(struct thread_slot *t, const struct gil_event *ev);
void holder__forced(struct engine *eng, struct thread_slot *t, bool measured, __u64 hold_ns,
		    __u64 ts);
void holder__free(struct holder_table *h);

/* timeline.c: called by engine__feed() only when eng->tl_on. */
void timeline__before(const struct thread_slot *t, struct timeline_pre *pre);
void timeline__after(struct engine *eng, struct thread_slot *t, const struct gil_event *ev,
		     const struct timeline_pre *pre);
void timeline__wakeup(struct engine *eng, const struct gil_event *ev);

/* ft_gil.c: free-threaded CPython's GIL coming back. */
void ft_gil__reading(struct engine_proc *p, const struct gil_event *ev);
void ft_gil__enabled(struct engine_proc *p, const struct gil_event *ev);

/* Whether hand-off time ts is close enough to a reading at edge that the
 * reading cannot place it (HANDOFF_EDGE_NS). */
static inline int handoff_near(__u64 ts, __u64 edge)
{
	return (ts > edge ? ts - edge : edge - ts) <= HANDOFF_EDGE_NS;
}

/* The hand-offs the ring still holds near a reading at edge. */
static inline __u64 handoff_near_recent(const struct handoff_check *c, __u64 edge)
{
	__u64 n = 0;

	for (__u32 i = 0; i < c->nrecent && i < HANDOFF_RECENT; i++)
		n += handoff_near(c->recent[i], edge);
	return n;
}

#endif
