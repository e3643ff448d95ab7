/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The toy VM (tools/toyvm/): one uprobe per GIL hook, each on a NOP5 that
 * the VM calls exactly where it counts the event, so entry probes give
 * exact counts.
 */
#ifndef GILTRACE_TOYVM_BPF_H
#define GILTRACE_TOYVM_BPF_H

/* One body for every GIL probe point: the kind is the only difference. */
static __always_inline int gil_hook(struct pt_regs *ctx, __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);
	__u64 gil = PT_REGS_PARM1(ctx);

	if (!t)
		return 0;
	/* The first probe hit tells where the GIL lives; from then on futex
	 * calls are filtered to its words. */
	if (!t->gil_base)
		t->gil_base = gil;
	emit(kind, tgid, (__u32)id, bpf_get_smp_processor_id(), bpf_ktime_get_ns(), gil, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(gil_wait) { return gil_hook(ctx, GIL_EV_WAIT); }
SEC("uprobe")
int BPF_KPROBE(gil_retry) { return gil_hook(ctx, GIL_EV_RETRY); }
SEC("uprobe")
int BPF_KPROBE(gil_timeout) { return gil_hook(ctx, GIL_EV_TIMEOUT); }
SEC("uprobe")
int BPF_KPROBE(gil_drop_request) { return gil_hook(ctx, GIL_EV_DROP_REQUEST); }
SEC("uprobe")
int BPF_KPROBE(gil_acquire) { return gil_hook(ctx, GIL_EV_ACQUIRE); }
SEC("uprobe")
int BPF_KPROBE(gil_release) { return gil_hook(ctx, GIL_EV_RELEASE); }
SEC("uprobe")
int BPF_KPROBE(gil_forced_release) { return gil_hook(ctx, GIL_EV_FORCED_RELEASE); }

#endif /* GILTRACE_TOYVM_BPF_H */
