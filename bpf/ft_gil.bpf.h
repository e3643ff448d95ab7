/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Free-threaded CPython: the moment the GIL is turned on for good and the
 * module whose import did it (bpf/ft_gil.h). Both probes fire once per
 * extension module import, never on a hot path.
 */
#ifndef GILTRACE_FT_GIL_BPF_H
#define GILTRACE_FT_GIL_BPF_H

#include "ft_gil.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct ft_gil_target);
} ft_gil_targets SEC(".maps");

/* The name argument of the import check each thread is in (a str). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} ft_gil_importing SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(ft_gil_check_module, __u64 module, __u64 name)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;

	if (!bpf_map_lookup_elem(&ft_gil_targets, &tgid))
		return 0;
	bpf_map_update_elem(&ft_gil_importing, &tid, &name, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ft_gil_enabled, int turned_on)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), *name;
	__u32 tgid = id >> 32, tid = id, cpu = bpf_get_smp_processor_id(), state = 0;
	struct ft_gil_target *ft = bpf_map_lookup_elem(&ft_gil_targets, &tgid);
	__u64 text[FT_GIL_NAME_MAX / 8 + 1] = {}; /* 48 bytes and the next, for CUT */
	__s32 flags = FT_GIL_NAME_UNKNOWN;
	long len = 0;

	if (!ft || turned_on != 1 || !bpf_map_lookup_elem(&traced_tgids, &tgid))
		return 0;
	name = bpf_map_lookup_elem(&ft_gil_importing, &tid);
	if (name && *name &&
	    !bpf_probe_read_user(&state, sizeof(state), (void *)(*name + ft->str_state)) &&
	    (state & FT_STR_COMPACT_ASCII) == FT_STR_COMPACT_ASCII) {
		len = bpf_probe_read_user_str(text, sizeof(text), (void *)(*name + ft->str_data));
		if (len > 1)
			flags = len > FT_GIL_NAME_MAX + 1 ? FT_GIL_NAME_CUT : 0;
	}
	emit(GIL_EV_GIL_ENABLED, tgid, tid, cpu, now, text[0], text[1], flags);
	/* The rest of the name, stamped with the same time. */
	if (!(flags & FT_GIL_NAME_UNKNOWN) && len > FT_GIL_CHUNK + 1)
		emit(GIL_EV_GIL_ENABLED, tgid, tid, cpu, now, text[2], text[3], flags | 1);
	if (!(flags & FT_GIL_NAME_UNKNOWN) && len > 2 * FT_GIL_CHUNK + 1)
		emit(GIL_EV_GIL_ENABLED, tgid, tid, cpu, now, text[4], text[5], flags | 2);
	return 0;
}

#endif /* GILTRACE_FT_GIL_BPF_H */
