/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython 3.x: take_gil/drop_gil probes (full mode) and the waits on
 * gil->cond that the futex programs hand to cond_wait_enter(),
 * cond_wait_exit() and cond_wake() (futex mode); cond mode, the default,
 * is in cpython_cond.bpf.h.
 */
#ifndef GILTRACE_CPYTHON_BPF_H
#define GILTRACE_CPYTHON_BPF_H

/*
 * CPython. take_gil() is
 *
 *	MUTEX_LOCK(gil->mutex);
 *	while (gil->locked) {
 *		saved_switchnum = gil->switch_number;
 *		COND_TIMED_WAIT(gil->cond, gil->mutex, interval, timed_out);
 *		if (timed_out && gil->locked && gil->switch_number == saved_switchnum)
 *			SET_GIL_DROP_REQUEST(interp);
 *	}
 *
 * so its events are read from the target's memory and from the futex
 * waits on gil->cond, with no probe inside the function: WAIT when the GIL
 * is locked at entry (or, having been free there, when the first wait on
 * the cond starts), TIMEOUT when such a wait returns -ETIMEDOUT,
 * DROP_REQUEST when it timed out with the GIL still locked and the switch
 * number unchanged since the wait began (CPython's own test, made here at
 * the futex return instead of after re-taking gil->mutex), RETRY when a
 * woken thread waits on the cond again. ACQUIRE is take_gil's return;
 * drop_gil's entry is a RELEASE, forced when a drop request is pending,
 * which is CPython's own test for waiting on switch_cond.
 *
 * Without take_gil (stripped interpreters, GIL_TARGET_FUTEX_ONLY) the same
 * waits give WAIT, TIMEOUT and DROP_REQUEST; ACQUIRE is derived from a cond
 * wait returning woken and RELEASE from the holder's wake of the cond, so
 * only contended acquisitions and releases are seen.
 */
struct gil_waiter {
	__u64 switch_at_wait; /* gil->switch_number when this cond wait began */
	__u8 waiting;         /* WAIT emitted for this attempt */
	__u8 woken;           /* the last cond wait ended woken: a new one is a RETRY */
	__u8 holding;         /* futex mode: an ACQUIRE was derived, no RELEASE yet */
	__u8 in_wait;         /* cond mode: inside pthread_cond_timedwait on gil->cond */
	__u8 pad[4];
};

/* LRU: in futex mode an entry lives as long as its thread, and threads
 * that exit never say so. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GILTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct gil_waiter);
} gil_waiters SEC(".maps");

static __always_inline bool drop_requested(const struct gil_target *t)
{
	__u64 addr = t->drop_req_addr;

	if (!addr)
		return false;
	if (t->flags & GIL_TARGET_DEREF) {
		addr = read_u64(addr);
		if (!addr)
			return false;
		addr += t->drop_req_off;
	}
	return read_u32(addr) & t->drop_req_mask;
}

static __always_inline struct gil_target *cpython_target(__u32 tgid)
{
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);

	return t && (t->flags & GIL_TARGET_CPYTHON) && t->gil_base ? t : NULL;
}

SEC("uprobe")
int BPF_KPROBE(cpy_take_gil)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t = cpython_target(tgid);
	struct gil_waiter w = {};

	if (!t)
		return 0;
	if (read_u32(t->gil_base + t->off_locked)) {
		__u32 cpu = bpf_get_smp_processor_id();
		__u64 now = bpf_ktime_get_ns();

		w.waiting = 1;
		emit(GIL_EV_WAIT, tgid, tid, cpu, now, t->gil_base, 0, 0);
		blame_sample(tgid, tid, cpu, now, t->gil_base);
	}
	bpf_map_update_elem(&gil_waiters, &tid, &w, BPF_ANY);
	return 0;
}

/* take_gil has given this thread the GIL: full mode at its return, cond
 * mode at its signal of gil->switch_cond. */
static __always_inline void gil_acquired(const struct gil_target *t, __u32 tgid, __u32 tid)
{
	struct gil_waiter *w = bpf_map_lookup_elem(&gil_waiters, &tid);
	bool contended = w && w->waiting;
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 now = bpf_ktime_get_ns();

	if (w)
		bpf_map_delete_elem(&gil_waiters, &tid);
	emit(GIL_EV_ACQUIRE, tgid, tid, cpu, now, t->gil_base, 0, 0);
	/* Blame: a hand-over while others may wait; take_gil has just made
	 * this thread gil->last_holder. */
	if (contended)
		blame_sample(tgid, tid, cpu, now, t->gil_base);
}

/* drop_gil lets the GIL go: full mode at its entry, cond mode at its
 * signal of gil->cond. Forced when the drop request is set, CPython's own
 * test for the forced-switch wait that follows. */
static __always_inline void gil_released(const struct gil_target *t, __u32 tgid, __u32 tid)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 now = bpf_ktime_get_ns();
	bool forced = drop_requested(t);

	/* Blame, and the holder's function: what it ran when it was made to
	 * let go. */
	if (forced) {
		blame_sample(tgid, tid, cpu, now, t->gil_base);
		holder_sample(tgid, tid, cpu, now, t->gil_base);
	}
	emit(forced ? GIL_EV_FORCED_RELEASE : GIL_EV_RELEASE, tgid, tid, cpu, now, t->gil_base,
	     0, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(cpy_take_gil_ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gil_target *t = cpython_target(id >> 32);

	if (t)
		gil_acquired(t, id >> 32, (__u32)id);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(cpy_drop_gil)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gil_target *t = cpython_target(id >> 32);

	if (t)
		gil_released(t, id >> 32, (__u32)id);
	return 0;
}

static __always_inline bool on_cond(const struct gil_target *t, __u64 uaddr)
{
	return (t->flags & GIL_TARGET_CPYTHON) && !(t->flags & GIL_TARGET_LIBC_COND) &&
	       uaddr - (t->gil_base + t->off_cond) < t->cond_size;
}

/* A thread starts a futex wait on gil->cond. */
static __always_inline void cond_wait_enter(const struct gil_target *t, __u32 tgid, __u32 tid,
					    __u64 now)
{
	struct gil_waiter *w = bpf_map_lookup_elem(&gil_waiters, &tid);
	struct gil_waiter fresh = {};
	__u32 cpu = bpf_get_smp_processor_id();

	if (!w) {
		/* Futex mode, or take_gil's entry was missed: start here. */
		bpf_map_update_elem(&gil_waiters, &tid, &fresh, BPF_ANY);
		w = bpf_map_lookup_elem(&gil_waiters, &tid);
		if (!w)
			return;
	}
	if (!w->waiting) {
		w->waiting = 1;
		w->holding = 0;
		emit(GIL_EV_WAIT, tgid, tid, cpu, now, t->gil_base, 0, 0);
		blame_sample(tgid, tid, cpu, now, t->gil_base);
	} else if (w->woken) {
		emit(GIL_EV_RETRY, tgid, tid, cpu, now, t->gil_base, 0, 0);
	}
	w->woken = 0;
	w->switch_at_wait = read_u64(t->gil_base + t->off_switch);
}

/* That wait returned. */
static __always_inline void cond_wait_exit(const struct gil_target *t, __u32 tgid, __u32 tid,
					   __u64 now, long ret)
{
	struct gil_waiter *w = bpf_map_lookup_elem(&gil_waiters, &tid);
	__u32 cpu = bpf_get_smp_processor_id();

	if (!w || !w->waiting)
		return;
	if (ret == -ETIMEDOUT) {
		bool locked = read_u32(t->gil_base + t->off_locked);

		emit(GIL_EV_TIMEOUT, tgid, tid, cpu, now, t->gil_base, 0, 0);
		if (locked && read_u64(t->gil_base + t->off_switch) == w->switch_at_wait)
			emit(GIL_EV_DROP_REQUEST, tgid, tid, cpu, now, t->gil_base, 0, 0);
		/* Blame: who holds it now, for the next stretch of this wait. */
		if (locked)
			blame_sample(tgid, tid, cpu, now, t->gil_base);
		return;
	}
	if (ret != 0 && ret != -EAGAIN)
		return;
	if (!(t->flags & GIL_TARGET_FUTEX_ONLY)) {
		w->woken = 1;
		return;
	}
	w->waiting = 0;
	w->holding = 1;
	emit(GIL_EV_ACQUIRE, tgid, tid, cpu, now, t->gil_base, 0, 0);
}

/* Futex mode: the holder wakes a waiter on gil->cond from drop_gil. */
static __always_inline void cond_wake(const struct gil_target *t, __u32 tgid, __u32 tid, __u64 now)
{
	struct gil_waiter *w;
	bool forced;

	if (!(t->flags & GIL_TARGET_FUTEX_ONLY))
		return;
	w = bpf_map_lookup_elem(&gil_waiters, &tid);
	if (!w || !w->holding)
		return;
	w->holding = 0;
	forced = drop_requested(t);
	if (forced) {
		blame_sample(tgid, tid, bpf_get_smp_processor_id(), now, t->gil_base);
		holder_sample(tgid, tid, bpf_get_smp_processor_id(), now, t->gil_base);
	}
	emit(forced ? GIL_EV_FORCED_RELEASE : GIL_EV_RELEASE, tgid, tid,
	     bpf_get_smp_processor_id(), now, t->gil_base, 0, 0);
}

#endif /* GILTRACE_CPYTHON_BPF_H */
