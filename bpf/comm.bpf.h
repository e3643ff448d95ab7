/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Thread renames of traced processes, as transport-only GIL_EV_COMM
 * records.
 */
#ifndef GILTRACE_COMM_BPF_H
#define GILTRACE_COMM_BPF_H

/* Threads often name themselves after they first touch the GIL; reading
 * /proc when a thread is first seen would keep the old name. */
SEC("tp_btf/task_rename")
int BPF_PROG(task_rename, struct task_struct *task, const char *comm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct gil_event *e;

	if (!bpf_map_lookup_elem(&traced_tgids, &tgid))
		return 0;
	e = reserve();
	if (!e)
		return 0;
	_Static_assert(sizeof(e->addr) + sizeof(e->value) == 16, "a comm fits in addr and value");
	bpf_probe_read_kernel_str(&e->addr, 16, comm);
	e->ts = bpf_ktime_get_ns();
	e->tgid = tgid;
	e->tid = BPF_CORE_READ(task, pid);
	e->ret = 0;
	e->cpu = bpf_get_smp_processor_id();
	e->kind = GIL_EV_COMM;
	submit(e);
	return 0;
}

#endif /* GILTRACE_COMM_BPF_H */
