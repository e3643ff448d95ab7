/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Blame (bpf/blame.h, docs/blame.md): the GIL holder's Python stack, read at
 * the moments a thread waits because of it. Included by giltrace.bpf.c after
 * its emit() and read helpers; every entry point is blame_sample(), and with
 * blame_on false (the default) the verifier drops every call to it, so blame
 * costs nothing when not asked for.
 */
#ifndef GILTRACE_BLAME_BPF_H
#define GILTRACE_BLAME_BPF_H

#include "blame.h"

#define BLAME_ENOENT 2
#define BLAME_EFAULT 14
#define BLAME_ENOSPC 28

const volatile __u32 blame_on = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct blame_layout);
} blame_targets SEC(".maps");

/* Stacks not yet taken by user space, by id. User space deletes an entry
 * once it has resolved it and adds the id to blame_known, so only new
 * stacks wait here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BLAME_MAX_STACKS);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* 4 MiB otherwise, for stacks that are few */
	__type(key, __u64);
	__type(value, struct blame_stack);
} blame_stacks SEC(".maps");

/* Ids user space has resolved: their stacks need not be stored again. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BLAME_MAX_KNOWN);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u8);
} blame_known SEC(".maps");

/* A stack is too big for the BPF stack: it is built here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct blame_stack);
} blame_scratch SEC(".maps");

/* The walk's state, passed to each bpf_loop() step: the verifier checks
 * one step, not BLAME_MAX_STEPS unrolled ones. The frame count lives in the
 * map value (st->nframes), not here: since Linux 6.8 the verifier runs a
 * callback until its states converge, and a count on the stack is a known
 * constant that differs every round (1, 2, 3...), so it never converged and
 * cpy_take_gil hit the 1M-instruction limit; a map value is never tracked. */
struct blame_walk {
	const struct blame_layout *l;
	struct blame_stack *st;
	__u64 frame;
	__u64 h;
};

/* One frame: 0 to go on, 1 to stop. */
static long blame_step(__u32 i, void *ctx)
{
	struct blame_walk *w = ctx;
	const struct blame_layout *l = w->l;
	struct blame_stack *st = w->st;
	__u64 frame = w->frame, code = 0, back = 0, instr = 0;
	__u32 n = st->nframes;

	if (!frame)
		return 1;
	if (bpf_probe_read_user(&code, sizeof(code), (const void *)(frame + l->frame_code)) ||
	    bpf_probe_read_user(&back, sizeof(back), (const void *)(frame + l->frame_back))) {
		st->flags |= BLAME_STACK_FAULT;
		return 1;
	}
	w->frame = back;
	if (l->flags & BLAME_OWNER) {
		__u8 owner = 0;

		bpf_probe_read_user(&owner, sizeof(owner), (const void *)(frame + l->frame_owner));
		if (owner == l->owner_cstack)
			return 0;
	}
	if (n >= BLAME_MAX_FRAMES) {
		st->flags |= BLAME_STACK_TRUNCATED;
		return 1;
	}
	if (l->instr_size == 4) {
		__s32 lasti = 0;

		bpf_probe_read_user(&lasti, sizeof(lasti), (const void *)(frame + l->frame_instr));
		instr = (__u64)(__s64)lasti;
	} else {
		bpf_probe_read_user(&instr, sizeof(instr), (const void *)(frame + l->frame_instr));
	}
	st->frames[n & (BLAME_MAX_FRAMES - 1)].code = code;
	st->frames[n & (BLAME_MAX_FRAMES - 1)].instr = instr;
	w->h = (w->h ^ code) * FNV_PRIME;
	w->h = (w->h ^ instr) * FNV_PRIME;
	st->nframes = n + 1;
	return 0;
}

/* Walks the frames of the thread state at tstate into st; returns the hash
 * of what it stored. */
static __always_inline __u64 blame_walk(const struct blame_layout *l, __u64 tstate,
					struct blame_stack *st)
{
	struct blame_walk w = { .l = l, .st = st, .h = FNV_OFFSET };

	w.frame = read_u64(tstate + l->tstate_frame);
	if (w.frame && (l->flags & BLAME_CFRAME))
		w.frame = read_u64(w.frame + l->cframe_frame);
	st->nframes = 0;
	bpf_loop(BLAME_MAX_STEPS, blame_step, &w, 0);
	return (w.h ^ st->flags) * FNV_PRIME;
}

/*
 * Emits HOLDER_STACK for the thread tid of tgid: the stack of whoever holds
 * the GIL at gil now (gil->last_holder is the holder's tstate while
 * gil->locked is set; callers check that or are the holder).
 */
static __always_inline void blame_sample(__u32 tgid, __u32 tid, __u32 cpu, __u64 now, __u64 gil)
{
	struct blame_layout *l;
	struct blame_stack *st;
	__u64 tstate, id = BLAME_ID_UNKNOWN;
	__u32 zero = 0;
	__s32 ret;

	if (!blame_on)
		return;
	l = bpf_map_lookup_elem(&blame_targets, &tgid);
	st = bpf_map_lookup_elem(&blame_scratch, &zero);
	if (!l || !st)
		return;
	tstate = read_u64(gil + l->last_holder);
	if (!tstate) {
		ret = -BLAME_ENOENT;
		goto out;
	}
	st->flags = 0;
	id = blame_walk(l, tstate, st) ^ ((__u64)tgid << 32);
	if (id < BLAME_ID_FIRST)
		id += BLAME_ID_FIRST;
	ret = (__s32)st->nframes;
	if (!st->nframes) {
		id = st->flags & BLAME_STACK_FAULT ? BLAME_ID_UNKNOWN : BLAME_ID_NO_FRAMES;
		if (st->flags & BLAME_STACK_FAULT)
			ret = -BLAME_EFAULT;
		goto out;
	}
	if (bpf_map_lookup_elem(&blame_known, &id))
		goto out;
	if (bpf_map_update_elem(&blame_stacks, &id, st, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&blame_stacks, &id)) {
		/* Full (user space is behind), and not there already: the id
		 * may still be known to user space from before, but it cannot
		 * be sure, so the sample counts as unknown. */
		id = BLAME_ID_UNKNOWN;
		ret = -BLAME_ENOSPC;
	}
out:
	emit(GIL_EV_HOLDER_STACK, tgid, tid, cpu, now, tstate, id, ret);
}

#endif /* GILTRACE_BLAME_BPF_H */
