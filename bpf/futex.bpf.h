/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The futex syscalls on the GIL's own words, in two attach flavours
 * (syscall tracepoints, or raw sys_enter/sys_exit): each call is handed to
 * its runtime's handler (cond or semaphore) and streamed as WAKE/WAKE_CALL.
 */
#ifndef GILTRACE_FUTEX_BPF_H
#define GILTRACE_FUTEX_BPF_H

/* x86-64 syscall numbers, for the raw sys_enter/sys_exit fallback. */
#define NR_futex 202
#define NR_futex_waitv 449

static __always_inline bool on_gil(const struct gil_target *t, __u64 uaddr)
{
	return t->gil_base && uaddr - t->gil_base < t->gil_span;
}

static __always_inline int futex_enter(__u64 uaddr, __u32 op)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);
	struct futex_call call;
	__u32 cmd = op & FUTEX_CMD_MASK;

	if (!t)
		return 0;
	if (!t->gil_base && (t->flags & GIL_TARGET_SEM))
		sem_learn_gil(t);
	if (!on_gil(t, uaddr))
		return 0;
	if (cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAKE &&
	    cmd != FUTEX_WAKE_BITSET)
		return 0;
	call.ts = bpf_ktime_get_ns();
	call.uaddr = uaddr;
	call.cmd = cmd;
	call.on_cond = on_cond(t, uaddr) ? ON_COND : (t->flags & GIL_TARGET_SEM) ? ON_SEM : 0;
	if (call.on_cond == ON_SEM) {
		if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET)
			sem_wake(t, tgid, tid, call.ts);
		else
			sem_wait_enter(t, tgid, tid, call.ts);
	} else if (call.on_cond) {
		if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET)
			cond_wake(t, tgid, tid, call.ts);
		else
			cond_wait_enter(t, tgid, tid, call.ts);
	}
	__sync_fetch_and_add(&gil_futex_calls, 1);
	bpf_map_update_elem(&futex_inflight, &tid, &call, BPF_ANY);
	return 0;
}

/* Every outcome is kept, time-outs and -EAGAIN included: the new GIL's
 * timed waits are exactly what futexctn-style filters would hide. */
static __always_inline int futex_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = id;
	struct futex_call *call = bpf_map_lookup_elem(&futex_inflight, &tid);
	__u64 now;
	__u32 kind;

	if (!call)
		return 0;
	now = bpf_ktime_get_ns();
	kind = call->cmd == FUTEX_WAKE || call->cmd == FUTEX_WAKE_BITSET ? GIL_EV_WAKE_CALL
									  : GIL_EV_WAKE;
	emit(kind, id >> 32, tid, bpf_get_smp_processor_id(), now, call->uaddr, now - call->ts,
	     (__s32)ret);
	if (call->on_cond == ON_SEM && kind == GIL_EV_WAKE)
		sem_wait_exit(tid, now, ret);
	else if (call->on_cond && kind == GIL_EV_WAKE) {
		__u32 tgid = id >> 32;
		struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);

		/* The WAKE goes first: it ends the wait the TIMEOUT or ACQUIRE
		 * below is about. */
		if (t)
			cond_wait_exit(t, tgid, tid, now, ret);
	}
	bpf_map_delete_elem(&futex_inflight, &tid);
	/* A wake-up left unclaimed (the thread was woken before it slept, so no
	 * sched_switch brought it back) must not outlive the call: the gated
	 * scheduler programs might otherwise claim it much later. Only waits
	 * have one (blocked_on_gil). */
	if (kind == GIL_EV_WAKE)
		bpf_map_delete_elem(&wakings, &tid);
	__sync_fetch_and_sub(&gil_futex_calls, 1);
	return 0;
}

/*
 * Two ways in, one body: the syscalls:sys_{enter,exit}_futex tracepoints
 * run only for futex calls but need tracefs; the raw sys_enter/sys_exit
 * tracepoints need nothing but run for every syscall. User space picks one
 * with bpf_program__set_autoload().
 */
struct futex_enter_args {
	__u64 pad;
	int nr;
	__u64 uaddr;
	__u64 op;
};

struct futex_exit_args {
	__u64 pad;
	int nr;
	long ret;
};

/* Words of a futex_waitv (5.16+) call looked at: it waits on up to 128. */
#define FUTEX_WAITV_SCAN 8
/* struct futex_waitv { __u64 val; __u64 uaddr; __u32 flags; __u32 __reserved; } */
#define FUTEX_WAITV_SIZE 24
#define FUTEX_WAITV_UADDR 8

/* A futex_waitv is a wait on the GIL when one of its first words is the
 * GIL's; it then counts as a FUTEX_WAIT on that word. */
static __always_inline int futex_waitv_enter(__u64 waiters, __u32 n)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);

	if (!t)
		return 0;
	for (__u32 i = 0; i < FUTEX_WAITV_SCAN && i < n; i++) {
		__u64 uaddr;

		if (bpf_probe_read_user(&uaddr, sizeof(uaddr),
					(void *)(waiters + i * FUTEX_WAITV_SIZE + FUTEX_WAITV_UADDR)))
			return 0;
		if (on_gil(t, uaddr))
			return futex_enter(uaddr, FUTEX_WAIT);
	}
	return 0;
}

/* futex_waitv returns the index of the word that woke it: woken is 0. */
static __always_inline int futex_waitv_exit(long ret)
{
	return futex_exit(ret > 0 ? 0 : ret);
}

SEC("tracepoint/syscalls/sys_enter_futex")
int tp_futex_enter(struct futex_enter_args *ctx)
{
	return futex_enter(ctx->uaddr, ctx->op);
}

SEC("tracepoint/syscalls/sys_exit_futex")
int tp_futex_exit(struct futex_exit_args *ctx)
{
	return futex_exit(ctx->ret);
}

struct futex_waitv_enter_args {
	__u64 pad;
	int nr;
	__u64 waiters;
	__u64 nr_futexes;
};

SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int tp_futex_waitv_enter(struct futex_waitv_enter_args *ctx)
{
	return futex_waitv_enter(ctx->waiters, (__u32)ctx->nr_futexes);
}

SEC("tracepoint/syscalls/sys_exit_futex_waitv")
int tp_futex_waitv_exit(struct futex_exit_args *ctx)
{
	return futex_waitv_exit(ctx->ret);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(raw_futex_enter, struct pt_regs *regs, long id)
{
	if (id == NR_futex)
		return futex_enter(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si));
	if (id == NR_futex_waitv)
		return futex_waitv_enter(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si));
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(raw_futex_exit, struct pt_regs *regs, long ret)
{
	long nr = BPF_CORE_READ(regs, orig_ax);

	if (nr == NR_futex)
		return futex_exit(ret);
	if (nr == NR_futex_waitv)
		return futex_waitv_exit(ret);
	return 0;
}

#endif /* GILTRACE_FUTEX_BPF_H */
