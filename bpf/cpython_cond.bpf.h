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

static __always_inline struct gil_target *cond_target(__u32 tgid)
{
	struct gil_target *t = cpython_target(tgid);

	return t && (t->flags & GIL_TARGET_LIBC_COND) ? t : NULL;
}

SEC("uprobe")
int BPF_KPROBE(cpy_cond_signal, __u64 cond)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t = cond_target(tgid);

	if (!t)
		return 0;
	if (cond == t->gil_base + t->off_switch_cond)
		gil_acquired(t, tgid, tid);
	else if (cond == t->gil_base + t->off_cond)
		gil_released(t, tgid, tid);
	return 0;
}

/* The same state machine as futex mode's waits on gil->cond, fed by the
 * library call instead of the syscall: every wait, also one that a signal
 * ends before it reaches the kernel. */
SEC("uprobe")
int BPF_KPROBE(cpy_cond_wait, __u64 cond)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t = cond_target(tgid);
	struct gil_waiter *w;

	if (!t || cond != t->gil_base + t->off_cond)
		return 0;
	cond_wait_enter(t, tgid, tid, bpf_ktime_get_ns());
	w = bpf_map_lookup_elem(&gil_waiters, &tid);
	if (w)
		w->in_wait = 1;
	return 0;
}

/* Returns with gil->mutex held again, where CPython re-checks: the
 * drop-request test below is CPython's own, at the same point. */
SEC("uretprobe")
int BPF_KRETPROBE(cpy_cond_wait_ret, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_waiter *w = bpf_map_lookup_elem(&gil_waiters, &tid);
	struct gil_target *t;

	/* Only waits on gil->cond are marked in_wait. */
	if (!w || !w->in_wait)
		return 0;
	w->in_wait = 0;
	t = cond_target(tgid);
	/* pthread_cond_timedwait returns the error number; the futex path
	 * hands over the syscall's -errno. */
	if (t)
		cond_wait_exit(t, tgid, tid, bpf_ktime_get_ns(), ret == ETIMEDOUT ? -ETIMEDOUT : 0);
	return 0;
}

#endif /* GILTRACE_CPYTHON_COND_BPF_H */
