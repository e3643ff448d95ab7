/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The forced holder's function, in every trace (docs/capture-format.md,
 * HOLDER_FRAME): at a forced release, which runs in the holder's own thread
 * (drop_gil), the code object and instruction of its innermost Python frame,
 * read with the frame layout blame uses (blame_targets, filled for every
 * CPython target with frames). A few reads, not blame's walk, and at most
 * once per holder_gap_ns per process, so a CPU-bound process pays at most
 * about 200 of them a second at the default 5 ms switch interval. User
 * space names the code object once (user/blame/resolve.c).
 */
#ifndef GILTRACE_HOLDER_BPF_H
#define GILTRACE_HOLDER_BPF_H

#define HOLDER_ENODATA 61 /* the holder runs no Python frame */
/* C-stack entry frames (3.12+) skipped before the innermost Python frame:
 * drop_gil runs from the eval loop, so there is at most one in practice. */
#define HOLDER_MAX_SKIP 2

/* One sample per process in this many ns: the default switch interval. */
const volatile __u64 holder_gap_ns = 5000000;

/* Per process: when the last sample was taken. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u64);
} holder_last SEC(".maps");

/* True when a sample is due for tgid at now; a racing sample on another
 * CPU may slip through, which only adds one. */
static __always_inline bool holder_due(__u32 tgid, __u64 now)
{
	__u64 *last = bpf_map_lookup_elem(&holder_last, &tgid);

	if (last) {
		if (now - *last < holder_gap_ns)
			return false;
		*last = now;
		return true;
	}
	bpf_map_update_elem(&holder_last, &tgid, &now, BPF_ANY);
	return true;
}

/*
 * Emits HOLDER_FRAME before the forced release of tid at now (the same ts,
 * which is how the engine pairs them): addr the code object, value the
 * instruction (as blame's frames store it), ret 0 or -errno.
 */
static __always_inline void holder_sample(__u32 tgid, __u32 tid, __u32 cpu, __u64 now, __u64 gil)
{
	const struct blame_layout *l = bpf_map_lookup_elem(&blame_targets, &tgid);
	__u64 tstate, frame, code = 0, instr = 0;
	__s32 ret = 0;

	if (!l || !holder_due(tgid, now))
		return;
	/* drop_gil has just stored this thread's state in last_holder. */
	tstate = read_u64(gil + l->last_holder);
	frame = tstate ? read_u64(tstate + l->tstate_frame) : 0;
	if (frame && (l->flags & BLAME_CFRAME))
		frame = read_u64(frame + l->cframe_frame);
	for (int i = 0; i < HOLDER_MAX_SKIP && frame && (l->flags & BLAME_OWNER); i++) {
		__u8 owner = 0;

		bpf_probe_read_user(&owner, sizeof(owner), (const void *)(frame + l->frame_owner));
		if (owner != l->owner_cstack)
			break;
		frame = read_u64(frame + l->frame_back);
	}
	if (!tstate) {
		ret = -BLAME_ENOENT;
	} else if (!frame) {
		ret = -HOLDER_ENODATA;
	} else if (bpf_probe_read_user(&code, sizeof(code), (const void *)(frame + l->frame_code))) {
		ret = -BLAME_EFAULT;
	} else if (l->instr_size == 4) {
		__s32 lasti = 0;

		bpf_probe_read_user(&lasti, sizeof(lasti), (const void *)(frame + l->frame_instr));
		instr = (__u64)(__s64)lasti;
	} else {
		bpf_probe_read_user(&instr, sizeof(instr), (const void *)(frame + l->frame_instr));
	}
	emit(GIL_EV_HOLDER_FRAME, tgid, tid, cpu, now, code, instr, ret);
}

#endif /* GILTRACE_HOLDER_BPF_H */
