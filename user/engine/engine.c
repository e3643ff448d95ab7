/*
 * Feeding the engine: one event at a time, no allocation except when a new
 * thread, process or CPU first shows up, no scan over threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "util/array.h"
#include "util/safe_text.h"

struct engine *engine__new(const struct engine_opts *opts)
{
	struct engine *eng = calloc(1, sizeof(*eng));

	if (!eng)
		return NULL;
	if (opts)
		eng->opts = *opts;
	eng->locks = lock_table__new();
	if (!eng->locks) {
		free(eng);
		return NULL;
	}
	return eng;
}

void engine__free(struct engine *eng)
{
	size_t i;

	if (!eng)
		return;
	for (i = 0; i < eng->nthreads; i++)
		free(eng->threads[i]);
	for (i = 0; i < eng->nprocs; i++)
		free(eng->procs[i]);
	for (i = 0; i < eng->cpus_cap; i++)
		free(eng->cpus[i]);
	free(eng->threads);
	free(eng->procs);
	free(eng->cpus);
	free(eng->cpu_acc);
	u64map__destroy(&eng->by_tid);
	blame__free(eng->blame);
	lock_table__free(eng->locks);
	holder__free(eng->holder);
	free(eng);
}

static struct engine_proc *proc_get(struct engine *eng, __u32 tgid)
{
	struct engine_proc *p, **procs;
	size_t i;

	/* Only reached when a thread is first seen: processes are few. */
	for (i = 0; i < eng->nprocs; i++)
		if (eng->procs[i]->tgid == tgid)
			return eng->procs[i];
	procs = array__reserve(eng->procs, eng->nprocs, &eng->procs_cap, sizeof(*procs), 8);
	if (!procs)
		return NULL;
	eng->procs = procs;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	eng->procs[eng->nprocs++] = p;
	return p;
}

static struct thread_slot *thread_get(struct engine *eng, __u32 tgid, __u32 tid)
{
	struct thread_slot *t = engine__slot(eng, tgid, tid), **threads;

	if (t)
		return t;
	threads = array__reserve(eng->threads, eng->nthreads, &eng->threads_cap, sizeof(*threads),
				 64);
	if (!threads)
		return NULL;
	eng->threads = threads;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (u64map__put(&eng->by_tid, thread_key(tgid, tid), (uintptr_t)t) < 0) {
		free(t);
		return NULL;
	}
	t->proc = proc_get(eng, tgid);
	if (!t->proc) {
		u64map__del(&eng->by_tid, thread_key(tgid, tid), NULL);
		free(t);
		return NULL;
	}
	t->proc->nthreads++;
	t->pub.tgid = tgid;
	t->pub.tid = tid;
	eng->threads[eng->nthreads++] = t;
	return t;
}

static struct engine_cpu *cpu_get(struct engine *eng, __u16 cpu)
{
	struct engine_cpu *c;

	if (cpu >= eng->cpus_cap) {
		size_t cap = (size_t)cpu + 1, i;
		struct engine_cpu **cpus;
		struct cpu_interval *acc;

		if (cap < 64)
			cap = 64;
		cpus = realloc(eng->cpus, cap * sizeof(*cpus));
		if (!cpus)
			return NULL;
		eng->cpus = cpus;
		acc = realloc(eng->cpu_acc, cap * sizeof(*acc));
		if (!acc)
			return NULL;
		eng->cpu_acc = acc;
		for (i = eng->cpus_cap; i < cap; i++) {
			eng->cpus[i] = NULL;
			memset(&eng->cpu_acc[i], 0, sizeof(eng->cpu_acc[i]));
		}
		eng->cpus_cap = cap;
	}
	c = eng->cpus[cpu];
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		c->cpu = cpu;
		eng->cpus[cpu] = c;
	}
	return c;
}

void engine__name_thread(struct engine *eng, __u32 tgid, __u32 tid, const char *name)
{
	struct thread_slot *t;

	if (eng->opts.tid && eng->opts.tid != tid)
		return;
	t = thread_get(eng, tgid, tid);
	if (!t || !name)
		return;
	/* From the target or a capture: views print it as it is stored. */
	safe_text__copy(t->pub.name, ENGINE_NAME_LEN, name);
}

/* The part of [start, end] that lies in the interval in progress. */
static __u64 span_in_interval(const struct engine *eng, __u64 start, __u64 end)
{
	return span(start > eng->iv_start ? start : eng->iv_start, end);
}

static void unpaired(struct engine *eng, struct thread_slot *t)
{
	t->pub.c.unpaired++;
	eng->unpaired++;
}

static void on_wait(struct engine *eng, struct thread_slot *t, const struct gil_event *ev)
{
	/* A WAIT while holding means the release was lost (a drop): the hold
	 * has no known end, so it is not counted at all. */
	if (t->pub.state == THREAD_HOLDING || t->pub.state == THREAD_WAITING)
		unpaired(eng, t);
	t->pub.c.busy++;
	t->acc.busy++;
	eng->acc.busy++;
	t->pub.state = THREAD_WAITING;
	t->since = ev->ts;
	t->seg_start = ev->ts;
}

/* A hand-off seen: inside the self-check's window, or after it until the
 * next reading moves the window's end past it. */
static void check_handoff(struct engine_proc *p, __u64 ts)
{
	struct handoff_check *c = &p->check;

	c->recent[c->nrecent++ % HANDOFF_RECENT] = ts;
	if (c->readings && handoff_near(ts, c->first_ts))
		c->near_first++;
	if (!c->readings || ts <= c->first_ts)
		return;
	if (ts <= c->last_ts)
		c->seen++;
	else
		c->seen_after++;
}

static void on_acquire(struct engine *eng, struct thread_slot *t, const struct gil_event *ev)
{
	struct engine_proc *p = t->proc;
	__u64 wait = 0;

	t->pub.c.acquisitions++;
	t->acc.acquisitions++;
	eng->acc.acquisitions++;
	p->acquisitions++;

	if (t->pub.state == THREAD_WAITING) {
		wait = span(t->since, ev->ts);
		t->pub.c.waits++;
		t->pub.c.wait_ns += wait;
		hist__add(&t->pub.wait, wait);
		hist__add(&eng->wait, wait);
		t->acc.wait_ns += span_in_interval(eng, t->since, ev->ts);
		t->acc.waits++;
		eng->acc.waits++;
		t->acc.wait_sum_ns += wait;
		if (wait > t->acc.wait_max_ns)
			t->acc.wait_max_ns = wait;
	} else if (t->pub.state == THREAD_HOLDING) {
		unpaired(eng, t);
	}
	if (t->after_release) {
		hist__add(&t->pub.io_wait, wait);
		hist__add(&eng->io_wait, wait);
		if (t->pub.state == THREAD_WAITING) {
			t->pub.io_wait_contended++;
			eng->io_wait_contended++;
			t->acc.io_waits_contended++;
			t->acc.io_wait_contended_sum_ns += wait;
		}
		t->acc.io_waits++;
		t->acc.io_wait_sum_ns += wait;
		t->after_release = 0;
	}

	/* Same thread taking the GIL again is no switch; the first
	 * acquisition seen has no previous holder to switch from. */
	if (p->last_holder && p->last_holder != t->pub.tid) {
		p->switches++;
		eng->switches++;
		eng->acc.switches++;
		check_handoff(p, ev->ts);
	}
	/* An acquisition older than the first GIL_STATE reading came before
	 * the holder that reading names. */
	if (!p->check.readings || ev->ts > p->check.first_ts)
		p->last_holder = t->pub.tid;

	t->pub.state = THREAD_HOLDING;
	t->since = ev->ts;
	t->asked_ts = 0;
	if (eng->blame)
		blame__acquired(eng, t, ev->ts);
}

/* A waiter asks the holder to let go: the holder's hold is timed from the
 * first request to its release. */
static void on_drop_request(struct engine *eng, struct thread_slot *t, const struct gil_event *ev)
{
	__u32 holder = t->proc->last_holder;
	struct thread_slot *h;

	t->pub.c.drop_requests++;
	if (!holder || holder == ENGINE_HOLDER_NULL || holder == t->pub.tid)
		return;
	h = engine__slot(eng, ev->tgid, holder);
	if (h && h->pub.state == THREAD_HOLDING && !h->asked_ts)
		h->asked_ts = ev->ts ? ev->ts : 1;
}

static void on_release(struct engine *eng, struct thread_slot *t, const struct gil_event *ev,
		       int voluntary)
{
	if (t->asked_ts) {
		hist__add(&t->pub.release_delay, span(t->asked_ts, ev->ts));
		t->asked_ts = 0;
	}
	if (voluntary) {
		t->pub.c.releases++;
	} else {
		t->pub.c.forced_switches++;
		t->acc.forced_switches++;
		eng->acc.forced_switches++;
	}
	if (!voluntary)
		holder__forced(eng, t, t->pub.state == THREAD_HOLDING,
			       t->pub.state == THREAD_HOLDING ? span(t->since, ev->ts) : 0, ev->ts);
	if (t->pub.state == THREAD_HOLDING) {
		__u64 hold = span(t->since, ev->ts);

		t->pub.c.holds++;
		t->pub.c.hold_ns += hold;
		if (hold > t->pub.c.hold_max_ns)
			t->pub.c.hold_max_ns = hold;
		t->proc->hold_ns += hold;
		t->acc.hold_ns += span_in_interval(eng, t->since, ev->ts);
	} else {
		/* Attached mid-hold, or the ACQUIRE was dropped. */
		unpaired(eng, t);
	}
	if (eng->blame)
		blame__released(eng, t, ev->ts);
	t->after_release = voluntary;
	t->pub.state = THREAD_RUNNING;
}

static void on_timeout(struct engine *eng, struct thread_slot *t, const struct gil_event *ev)
{
	t->pub.c.timeouts++;
	/* Each timed wait restarts at WAIT, RETRY or TIMEOUT: its length is
	 * the target's switch interval, which the convoy rule compares to. */
	if (t->pub.state == THREAD_WAITING && ev->ts > t->seg_start)
		hist__add(&eng->timeout_span, ev->ts - t->seg_start);
	t->seg_start = ev->ts;
}

static void on_retry(struct engine *eng, struct thread_slot *t, const struct gil_event *ev)
{
	struct engine_cpu *c = cpu_get(eng, ev->cpu);

	t->pub.c.retries++;
	t->acc.retries++;
	eng->acc.retries++;
	t->seg_start = ev->ts;
	if (c) {
		c->failed_wakeups++;
		eng->cpu_acc[ev->cpu].failed_wakeups++;
	}
}

/* The first reading names the holder at attach: its hold is counted from
 * here, and the first acquisition by another thread is a hand-off. */
static void gil_state_at_attach(struct engine *eng, struct engine_proc *p,
				const struct gil_event *ev)
{
	struct thread_slot *t;

	if (ev->ret & GIL_STATE_NO_HOLDER) {
		if (!p->last_holder)
			p->last_holder = ENGINE_HOLDER_NULL;
		return;
	}
	if (!ev->tid)
		return;
	if (!p->last_holder)
		p->last_holder = ev->tid;
	if (!(ev->ret & GIL_STATE_LOCKED))
		return;
	t = thread_get(eng, ev->tgid, ev->tid);
	if (t && t->pub.state == THREAD_UNKNOWN) {
		engine__advance_held(p, ev->ts);
		p->holding++;
		t->pub.state = THREAD_HOLDING;
		t->since = ev->ts;
		t->tl_start = ev->ts;
	}
}

/* The end of the traced window: holds still in progress count up to it,
 * so a thread that held the GIL across the whole trace is not lost. */
static void close_holds(struct engine *eng, struct engine_proc *p, __u64 ts)
{
	size_t i;

	for (i = 0; i < eng->nthreads; i++) {
		struct thread_slot *t = eng->threads[i];
		__u64 hold;

		if (t->proc != p || t->pub.state != THREAD_HOLDING)
			continue;
		hold = span(t->since, ts);
		t->pub.c.hold_ns += hold;
		if (hold > t->pub.c.hold_max_ns)
			t->pub.c.hold_max_ns = hold;
		p->hold_ns += hold;
		t->acc.hold_ns += span_in_interval(eng, t->since, ts);
		t->since = ts;
	}
}

/* GIL_STATE (docs/architecture.md, "the hand-off self-check"). */
static void on_gil_state(struct engine *eng, const struct gil_event *ev)
{
	struct engine_proc *p = proc_get(eng, ev->tgid);
	struct handoff_check *c;

	if (!p)
		return;
	if (ev->ret & GIL_STATE_NO_READING) {
		if (ev->ret & GIL_STATE_END)
			close_holds(eng, p, ev->ts);
		return;
	}
	ft_gil__reading(p, ev);
	c = &p->check;
	if (!c->readings++) {
		c->first_ts = c->last_ts = ev->ts;
		c->first_sn = c->last_sn = ev->value;
		/* hand-offs seen just before it, as the ring keeps them */
		c->near_first += handoff_near_recent(c, c->first_ts);
		gil_state_at_attach(eng, p, ev);
	} else if (ev->ts >= c->last_ts) {
		c->seen += c->seen_after;
		c->seen_after = 0;
		c->last_ts = ev->ts;
		c->last_sn = ev->value;
	}
	if (ev->ret & GIL_STATE_END)
		close_holds(eng, p, ev->ts);
}

static void on_wake(struct engine *eng, const struct gil_event *ev)
{
	if (ev->ret == 0) {
		eng->futex_woken++;
	} else if (ev->ret == -ETIMEDOUT) {
		eng->futex_timedout_n++;
		hist__add(&eng->futex_timedout, ev->value);
	} else {
		eng->futex_other++;
	}
}

static void on_sched_wakeup(struct engine *eng, const struct gil_event *ev)
{
	struct engine_cpu *c = cpu_get(eng, ev->cpu);

	if (!c)
		return;
	c->wakeups++;
	eng->cpu_acc[ev->cpu].wakeups++;
	if (ev->ret >= 0 && (__u32)ev->ret != ev->cpu) {
		c->cross_cpu_wakeups++;
		eng->cpu_acc[ev->cpu].cross_cpu_wakeups++;
	}
}

static void on_sched_run(struct engine *eng, const struct gil_event *ev)
{
	struct engine_cpu *c = cpu_get(eng, ev->cpu);

	if (c)
		hist__add(&c->wake_to_run, ev->value);
}

void engine__advance_held(struct engine_proc *p, __u64 ts)
{
	__u64 d = span(p->held_since, ts) * p->blame_waiting;

	if (p->holding && d) {
		p->wait_held_ns += d;
		p->acc_wait_held_ns += d;
	}
	if (ts > p->held_since)
		p->held_since = ts;
}

void engine__feed(struct engine *eng, const struct gil_event *ev)
{
	struct timeline_pre pre;
	enum thread_state before;
	struct thread_slot *t;

	/* Drops are counted whatever the filters: a report must say what it
	 * lost, and the synthetic record carries no meaningful thread. */
	if (ev->kind == GIL_EV_DROPS) {
		eng->drops += ev->value;
		return;
	}
	if (ev->kind == 0 || ev->kind >= GIL_EV__MAX)
		return;
	/* A type's name holds for every window and thread filter. */
	if (ev->kind == GIL_EV_LOCK_TYPE) {
		lock_table__feed(eng->locks, ev);
		return;
	}
	if ((eng->opts.from_ts && ev->ts < eng->opts.from_ts) ||
	    (eng->opts.to_ts && ev->ts > eng->opts.to_ts))
		return;
	if (eng->opts.tid && ev->tid != eng->opts.tid)
		return;

	if (!eng->have_ts || ev->ts < eng->first_ts)
		eng->first_ts = ev->ts;
	if (!eng->have_ts || ev->ts > eng->last_ts)
		eng->last_ts = ev->ts;
	eng->have_ts = 1;

	switch (ev->kind) {
	case GIL_EV_WAKE:
		on_wake(eng, ev);
		return;
	case GIL_EV_WAKE_CALL:
		eng->wake_calls++;
		if (ev->ret > 0)
			eng->wake_call_woken += (__u64)ev->ret;
		return;
	case GIL_EV_SCHED_WAKEUP:
		on_sched_wakeup(eng, ev);
		if (eng->tl_on)
			timeline__wakeup(eng, ev);
		return;
	case GIL_EV_SCHED_RUN:
		on_sched_run(eng, ev);
		return;
	case GIL_EV_GIL_STATE:
		/* A check of the whole process: meaningless for one thread. */
		if (!eng->opts.tid)
			on_gil_state(eng, ev);
		return;
	case GIL_EV_LOCK_WAIT:
	case GIL_EV_LOCK_SECTION:
	case GIL_EV_STW:
		/* No GIL state: the thread is only made known, for its name. */
		thread_get(eng, ev->tgid, ev->tid);
		lock_table__feed(eng->locks, ev);
		return;
	case GIL_EV_GIL_ENABLED: {
		struct engine_proc *p = proc_get(eng, ev->tgid);

		if (p)
			ft_gil__enabled(p, ev);
		return;
	}
	default:
		break;
	}

	t = thread_get(eng, ev->tgid, ev->tid);
	if (!t)
		return;
	if (eng->tl_on)
		timeline__before(t, &pre);
	before = t->pub.state;
	/* Blame: what passed since the last event is charged before this one
	 * changes who waits or holds. */
	engine__advance_held(t->proc, ev->ts);
	if (eng->blame)
		blame__advance(eng, t->proc, ev->ts);
	switch (ev->kind) {
	case GIL_EV_WAIT:
		on_wait(eng, t, ev);
		break;
	case GIL_EV_RETRY:
		on_retry(eng, t, ev);
		break;
	case GIL_EV_TIMEOUT:
		on_timeout(eng, t, ev);
		break;
	case GIL_EV_DROP_REQUEST:
		on_drop_request(eng, t, ev);
		break;
	case GIL_EV_ACQUIRE:
		on_acquire(eng, t, ev);
		break;
	case GIL_EV_RELEASE:
		on_release(eng, t, ev, 1);
		break;
	case GIL_EV_FORCED_RELEASE:
		on_release(eng, t, ev, 0);
		break;
	case GIL_EV_HOLDER_STACK:
		blame__on_stack(eng, t, ev);
		break;
	case GIL_EV_HOLDER_FRAME:
		holder__on_frame(t, ev);
		break;
	default:
		break;
	}
	if ((before == THREAD_WAITING) != (t->pub.state == THREAD_WAITING))
		t->proc->blame_waiting += t->pub.state == THREAD_WAITING ? 1 : -1;
	if ((before == THREAD_HOLDING) != (t->pub.state == THREAD_HOLDING))
		t->proc->holding += t->pub.state == THREAD_HOLDING ? 1 : -1;
	if (eng->tl_on)
		timeline__after(eng, t, ev, &pre);
}
