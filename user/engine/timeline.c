/*
 * The timeline, from the engine's state changes: engine__feed() snapshots a
 * thread before its state machine runs (timeline__before) and hands the
 * result here (timeline__after), so slices begin and end exactly where the
 * engine's counts do.
 */
#include <stddef.h>

#include "engine/engine_int.h"

void engine__set_timeline(struct engine *eng, const struct timeline_ops *ops, void *ctx)
{
	eng->tl_on = ops != NULL;
	if (ops)
		eng->tl = *ops;
	eng->tl_ctx = ctx;
}

void timeline__before(const struct thread_slot *t, struct timeline_pre *pre)
{
	pre->state = t->pub.state;
	pre->unpaired = t->pub.c.unpaired;
	pre->last_holder = t->proc->last_holder;
}

static enum timeline_slice_kind slice_kind(enum thread_state s)
{
	switch (s) {
	case THREAD_HOLDING:
		return TIMELINE_HOLD;
	case THREAD_WAITING:
		return TIMELINE_WAIT;
	default:
		return TIMELINE_RUN;
	}
}

/* Ends t's current slice (begun in state) at ts and starts the next one. */
static void slice_end(struct engine *eng, struct thread_slot *t, enum thread_state state,
		      __u64 ts, unsigned int flags)
{
	struct timeline_slice s;

	if (state != THREAD_UNKNOWN && eng->tl.slice) {
		s.thread = &t->pub;
		s.kind = slice_kind(state);
		s.flags = flags;
		s.start = t->tl_start;
		/* events from different CPUs may come slightly out of order */
		s.end = ts > t->tl_start ? ts : t->tl_start;
		eng->tl.slice(eng->tl_ctx, &s);
	}
	t->tl_start = ts;
}

static void instant(struct engine *eng, const struct thread_slot *t,
		    enum timeline_instant_kind kind, const struct gil_event *ev)
{
	struct timeline_instant i = { .thread = &t->pub, .kind = kind, .ts = ev->ts, .cpu = ev->cpu };

	if (eng->tl.instant)
		eng->tl.instant(eng->tl_ctx, &i);
}

static void flow(struct engine *eng, enum timeline_flow_kind kind,
		 const struct engine_thread *from, __u64 from_ts,
		 const struct engine_thread *to, __u64 to_ts)
{
	struct timeline_flow f = {
		.kind = kind, .from = from, .to = to,
		.from_ts = from_ts < to_ts ? from_ts : to_ts, .to_ts = to_ts,
	};

	if (!eng->tl.flow)
		return;
	f.id = ++eng->tl_flows;
	eng->tl.flow(eng->tl_ctx, &f);
}

/* The GIL changed hands: from the previous holder's release to t. */
static void handoff(struct engine *eng, const struct thread_slot *t, __u32 prev_tid, __u64 ts)
{
	const struct thread_slot *prev;

	if (!prev_tid || prev_tid == t->pub.tid)
		return;
	prev = engine__slot(eng, t->pub.tgid, prev_tid);
	/* a holder whose release was lost handed nothing over */
	if (!prev || prev->pub.state == THREAD_HOLDING || !prev->tl_released)
		return;
	flow(eng, TIMELINE_HANDOFF, &prev->pub, prev->tl_released, &t->pub, ts);
}

void timeline__after(struct engine *eng, struct thread_slot *t, const struct gil_event *ev,
		     const struct timeline_pre *pre)
{
	unsigned int cut = t->pub.c.unpaired != pre->unpaired ? TIMELINE_CUT : 0;

	switch (ev->kind) {
	case GIL_EV_RETRY:
		instant(eng, t, TIMELINE_RETRY, ev);
		return;
	case GIL_EV_TIMEOUT:
		instant(eng, t, TIMELINE_TIMEOUT, ev);
		return;
	case GIL_EV_DROP_REQUEST:
		instant(eng, t, TIMELINE_DROP_REQUEST, ev);
		return;
	case GIL_EV_WAIT:
		slice_end(eng, t, pre->state, ev->ts, cut);
		return;
	case GIL_EV_ACQUIRE:
		slice_end(eng, t, pre->state, ev->ts, cut);
		handoff(eng, t, pre->last_holder, ev->ts);
		return;
	case GIL_EV_FORCED_RELEASE:
		instant(eng, t, TIMELINE_FORCED_RELEASE, ev);
		/* fall through */
	case GIL_EV_RELEASE:
		slice_end(eng, t, pre->state, ev->ts, cut);
		t->tl_released = ev->ts;
		return;
	default:
		return;
	}
}

void timeline__wakeup(struct engine *eng, const struct gil_event *ev)
{
	const struct thread_slot *woken, *waker;

	/* only between threads the engine knows: a flow needs both ends */
	woken = engine__slot(eng, ev->tgid, ev->tid);
	waker = ev->value ? engine__slot(eng, ev->tgid, (__u32)ev->value) : NULL;
	if (woken && waker && woken != waker)
		flow(eng, TIMELINE_WAKEUP, &waker->pub, ev->ts, &woken->pub, ev->ts);
}

void engine__flush_timeline(struct engine *eng)
{
	size_t i;

	if (!eng->tl_on)
		return;
	for (i = 0; i < eng->nthreads; i++) {
		struct thread_slot *t = eng->threads[i];

		slice_end(eng, t, t->pub.state, eng->last_ts, TIMELINE_CUT);
	}
}

const char *timeline__slice_name(enum timeline_slice_kind k)
{
	static const char *const names[TIMELINE__NSLICE] = {
		[TIMELINE_HOLD] = "holding GIL",
		[TIMELINE_WAIT] = "waiting for GIL",
		[TIMELINE_RUN] = "running without GIL",
	};

	return k < TIMELINE__NSLICE ? names[k] : "?";
}

const char *timeline__instant_name(enum timeline_instant_kind k)
{
	static const char *const names[TIMELINE__NINSTANT] = {
		[TIMELINE_RETRY] = "retry",
		[TIMELINE_DROP_REQUEST] = "drop request",
		[TIMELINE_TIMEOUT] = "timeout",
		[TIMELINE_FORCED_RELEASE] = "forced release",
	};

	return k < TIMELINE__NINSTANT ? names[k] : "?";
}

const char *timeline__flow_name(enum timeline_flow_kind k)
{
	return k == TIMELINE_WAKEUP ? "wakeup" : "handoff";
}
