/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython 3.x "cond" mode, the default: probes in the C library, not in the
 * interpreter, so a stripped build is traced as exactly as one with symbols.
 * Python/ceval_gil.c (3.8-3.13) does, under gil->mutex:
 *
 *	take_gil:  ... wait while gil->locked ...
 *	           locked = 1; if (tstate != last_holder) { last_holder = tstate;
 *	           ++switch_number; } COND_SIGNAL(gil->switch_cond);
 *	drop_gil:  locked = 0; COND_SIGNAL(gil->cond);
 *	           then, if a drop was requested, wait on switch_cond
 *
 * so pthread_cond_signal() on gil->switch_cond is every acquisition, made
 * with switch_number already counted, and on gil->cond every release, made
 * before drop_gil looks at the drop request (forced exactly when it is set,
 * CPython's own test). The waits are take_gil's pthread_cond_timedwait() on
 * gil->cond: its entry is WAIT (RETRY after a wake-up that lost the GIL),
 * its return, with gil->mutex held again as CPython's re-check has it,
 * TIMEOUT and, under CPython's condition (still locked, switch_number
 * unchanged since the wait began), DROP_REQUEST. One entry probe a
 * hand-off or release; the return probe only for threads that wait.
 */
#ifndef GILTRACE_CPYTHON_COND_BPF_H
#define GILTRACE_CPYTHON_COND_BPF_H

#define ETIMEDOUT_RET 110 /* pthread_cond_timedwait returns the error number */

static __always_inline struct gil_target *cond_target(__u32 tgid)
{
	struct gil_target *t = cpython_target(tgid);

	return t && (t->flags & GIL_TARGET_LIBC_COND) ? t : NULL;
}

SEC("uprobe")
int BPF_KPROBE(cpy_cond_signal, __u64 cond)
{
	__u64 id = bpf_get_current_pid_tgid(), now;
	__u32 tgid = id >> 32, tid = id, cpu;
	struct gil_target *t = cond_target(tgid);
	struct gil_waiter *w;
	bool contended, forced;

	if (!t)
		return 0;
	if (cond == t->gil_base + t->off_switch_cond) {
		w = bpf_map_lookup_elem(&gil_waiters, &tid);
		contended = w && w->waiting;
		if (w)
			bpf_map_delete_elem(&gil_waiters, &tid);
		cpu = bpf_get_smp_processor_id();
		now = bpf_ktime_get_ns();
		/* value: the interpreter's count of hand-offs, this one included */
		emit(GIL_EV_ACQUIRE, tgid, tid, cpu, now, t->gil_base,
		     read_u64(t->gil_base + t->off_switch), 0);
		if (contended)
			blame_sample(tgid, tid, cpu, now, t->gil_base);
	} else if (cond == t->gil_base + t->off_cond) {
		cpu = bpf_get_smp_processor_id();
		now = bpf_ktime_get_ns();
		forced = drop_requested(t);
		if (forced)
			blame_sample(tgid, tid, cpu, now, t->gil_base);
		emit(forced ? GIL_EV_FORCED_RELEASE : GIL_EV_RELEASE, tgid, tid, cpu, now,
		     t->gil_base, 0, 0);
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(cpy_cond_wait, __u64 cond)
{
	__u64 id = bpf_get_current_pid_tgid(), now;
	__u32 tgid = id >> 32, tid = id, cpu;
	struct gil_target *t = cond_target(tgid);
	struct gil_waiter fresh = {}, *w;

	if (!t || cond != t->gil_base + t->off_cond)
		return 0;
	w = bpf_map_lookup_elem(&gil_waiters, &tid);
	if (!w) {
		bpf_map_update_elem(&gil_waiters, &tid, &fresh, BPF_ANY);
		w = bpf_map_lookup_elem(&gil_waiters, &tid);
		if (!w)
			return 0;
	}
	cpu = bpf_get_smp_processor_id();
	now = bpf_ktime_get_ns();
	if (!w->waiting) {
		w->waiting = 1;
		emit(GIL_EV_WAIT, tgid, tid, cpu, now, t->gil_base, 0, 0);
		blame_sample(tgid, tid, cpu, now, t->gil_base);
	} else if (w->woken) {
		emit(GIL_EV_RETRY, tgid, tid, cpu, now, t->gil_base, 0, 0);
	}
	w->woken = 0;
	w->in_wait = 1;
	w->switch_at_wait = read_u64(t->gil_base + t->off_switch);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(cpy_cond_wait_ret, int ret)
{
	__u64 id = bpf_get_current_pid_tgid(), now;
	__u32 tgid = id >> 32, tid = id, cpu;
	struct gil_waiter *w = bpf_map_lookup_elem(&gil_waiters, &tid);
	struct gil_target *t;
	bool locked;

	/* Only waits on gil->cond are marked in_wait. */
	if (!w || !w->in_wait)
		return 0;
	w->in_wait = 0;
	t = cond_target(tgid);
	if (!t)
		return 0;
	if (ret != ETIMEDOUT_RET) {
		w->woken = 1;
		return 0;
	}
	cpu = bpf_get_smp_processor_id();
	now = bpf_ktime_get_ns();
	locked = read_u32(t->gil_base + t->off_locked);
	emit(GIL_EV_TIMEOUT, tgid, tid, cpu, now, t->gil_base, 0, 0);
	if (locked && read_u64(t->gil_base + t->off_switch) == w->switch_at_wait)
		emit(GIL_EV_DROP_REQUEST, tgid, tid, cpu, now, t->gil_base, 0, 0);
	/* Blame: who holds it now, for the next stretch of this wait. */
	if (locked)
		blame_sample(tgid, tid, cpu, now, t->gil_base);
	return 0;
}

#endif /* GILTRACE_CPYTHON_COND_BPF_H */
