// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Probe bodies for tools/bench/probecost: each is the smallest program of
 * one kind giltrace uses, with giltrace's first step (a hash lookup of the
 * caller's tgid) so the figures include the filter every handler pays.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "giltrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, GILTRACE_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u64);
} tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, __u64);
} tids SEC(".maps");

static __always_inline __u64 *filter(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&tgids, &tgid);
}

SEC("uprobe")
int BPF_KPROBE(u_filter)
{
	filter();
	return 0;
}

/* giltrace's gil_hook(): filter, then one 40-byte record. */
SEC("uprobe")
int BPF_KPROBE(u_record)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gil_event *e;

	if (!filter())
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	e->addr = PT_REGS_PARM1(ctx);
	e->value = 0;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->ret = 0;
	e->cpu = bpf_get_smp_processor_id();
	e->kind = GIL_EV_ACQUIRE;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* Bumps a per-tgid counter: what an in-kernel aggregate costs instead of
 * a record. */
SEC("uprobe")
int BPF_KPROBE(u_count)
{
	__u64 *n = filter();

	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ur_filter)
{
	filter();
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_futex")
int tp_futex_enter(void *ctx)
{
	filter();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex")
int tp_futex_exit(void *ctx)
{
	filter();
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(raw_enter, struct pt_regs *regs, long id)
{
	if (id != 202)
		return 0;
	filter();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(raw_exit, struct pt_regs *regs, long ret)
{
	if (BPF_CORE_READ(regs, orig_ax) != 202)
		return 0;
	filter();
	return 0;
}

/* giltrace's scheduler programs: a tgid lookup (sched_waking) and a tid
 * lookup (sched_wakeup, sched_switch) on every call, machine-wide. */
SEC("tp_btf/sched_waking")
int BPF_PROG(sched_waking, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	bpf_map_lookup_elem(&tgids, &tgid);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);

	bpf_map_lookup_elem(&tids, &tid);
	return 0;
}

/* The attach cost alone, and the same lookup with a direct BTF read. */
SEC("tp_btf/sched_switch")
int BPF_PROG(switch_empty, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_direct, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tid = next->pid;

	bpf_map_lookup_elem(&tids, &tid);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tid = BPF_CORE_READ(next, pid);

	bpf_map_lookup_elem(&tids, &tid);
	return 0;
}
