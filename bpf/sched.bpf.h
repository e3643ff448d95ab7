/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The scheduler's view of threads blocked on the GIL: who woke them, on
 * which CPU, and how long until they ran.
 */
#ifndef GILTRACE_SCHED_BPF_H
#define GILTRACE_SCHED_BPF_H

/*
 * A thread inside a futex wait on the GIL is blocked on the GIL. Its
 * wake-up is seen twice: sched_waking runs in the waker's context (who woke
 * it, from which CPU) and sched_wakeup once the scheduler placed it (which
 * CPU it will run on); with a remote wake-up queue sched_wakeup runs on the
 * target CPU, so the waker must be taken at sched_waking.
 */
static __always_inline bool blocked_on_gil(struct task_struct *p, __u32 *tgid, __u32 *tid)
{
	struct futex_call *call;

	*tgid = BPF_CORE_READ(p, tgid);
	if (!bpf_map_lookup_elem(&traced_tgids, tgid))
		return false;
	*tid = BPF_CORE_READ(p, pid);
	call = bpf_map_lookup_elem(&futex_inflight, tid);
	return call && call->cmd != FUTEX_WAKE && call->cmd != FUTEX_WAKE_BITSET;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(sched_waking, struct task_struct *p)
{
	struct waking w;
	__u32 tgid, tid;

	if (no_gil_futex_calls() || !blocked_on_gil(p, &tgid, &tid))
		return 0;
	w.ts = bpf_ktime_get_ns();
	w.waker_tid = (__u32)bpf_get_current_pid_tgid();
	w.waker_cpu = bpf_get_smp_processor_id();
	bpf_map_update_elem(&wakings, &tid, &w, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	__u32 tid;
	struct waking *w;

	/* A wakings entry lives only while its thread is in a GIL futex call. */
	if (no_gil_futex_calls())
		return 0;
	tid = BPF_CORE_READ(p, pid);
	w = bpf_map_lookup_elem(&wakings, &tid);
	if (!w)
		return 0;
	emit(GIL_EV_SCHED_WAKEUP, BPF_CORE_READ(p, tgid), tid, BPF_CORE_READ(p, wake_cpu), w->ts,
	     0, w->waker_tid, (__s32)w->waker_cpu);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tid;
	struct waking *w;
	__u64 now;

	if (no_gil_futex_calls())
		return 0;
	tid = BPF_CORE_READ(next, pid);
	w = bpf_map_lookup_elem(&wakings, &tid);
	if (!w)
		return 0;
	now = bpf_ktime_get_ns();
	emit(GIL_EV_SCHED_RUN, BPF_CORE_READ(next, tgid), tid, bpf_get_smp_processor_id(), now, 0,
	     now - w->ts, 0);
	bpf_map_delete_elem(&wakings, &tid);
	return 0;
}

#endif /* GILTRACE_SCHED_BPF_H */
