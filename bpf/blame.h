/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Blame: which Python code holds the GIL while other threads wait. Shared by
 * bpf/blame.bpf.h and user space (docs/blame.md).
 *
 * At the moments that matter (a thread starts waiting, a timed wait expires
 * with the GIL still held, a holder is forced off) BPF follows gil->last_holder
 * to the holder's PyThreadState, walks its frame chain and stores the code
 * object address and instruction position of each frame in blame_stacks under
 * a 64-bit id (a hash of tgid and frames), then emits GIL_EV_HOLDER_STACK with
 * that id. User space takes the entry out of the map once, resolves code
 * objects to names with process_vm_readv and caches them by address.
 *
 * Offsets come from the runtime table (user/target/runtimes.c), never from BPF.
 */
#ifndef GILTRACE_BLAME_H
#define GILTRACE_BLAME_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define BLAME_MAX_FRAMES 64      /* power of two: the index is masked for the verifier */
#define BLAME_MAX_STEPS 96       /* frames visited, C-stack entry frames included */
#define BLAME_MAX_STACKS 4096    /* stacks waiting for user space to take them */
#define BLAME_MAX_KNOWN 65536    /* ids user space has already resolved */

/* Per traced process, in the blame_targets map (present: blame is on for it). */
struct blame_layout {
	__u16 last_holder;  /* gil->last_holder: the holder's PyThreadState */
	__u16 tstate_frame; /* PyThreadState: frame (3.9/3.10), cframe (3.11/3.12),
			     * current_frame (3.13) */
	__u16 cframe_frame; /* _PyCFrame.current_frame, with BLAME_CFRAME */
	__u16 frame_code;   /* f_code / f_executable */
	__u16 frame_back;   /* f_back / previous */
	__u16 frame_instr;  /* f_lasti (int), prev_instr / instr_ptr (pointer) */
	__u16 frame_owner;  /* owner (char), with BLAME_OWNER */
	__u8 instr_size;    /* 4 or 8 */
	__u8 owner_cstack;  /* owner value of C-stack entry frames, skipped */
	__u32 flags;
	__u32 pad;
};

#define BLAME_CFRAME 1u /* tstate_frame points to a _PyCFrame: follow it once more */
#define BLAME_OWNER 2u  /* skip frames whose owner is owner_cstack */

_Static_assert(sizeof(struct blame_layout) == 24, "blame_layout layout is shared with BPF");

struct blame_frame_raw {
	__u64 code;  /* code object address; 0: the frame could not be read */
	__u64 instr; /* f_lasti (3.9/3.10), else the instruction pointer */
};

struct blame_stack {
	__u32 nframes; /* frames[0] is the innermost (running) frame */
	__u32 flags;
	struct blame_frame_raw frames[BLAME_MAX_FRAMES];
};

#define BLAME_STACK_TRUNCATED 1u /* more frames than BLAME_MAX_FRAMES */
#define BLAME_STACK_FAULT 2u     /* a frame pointer could not be read: chain ends there */

/* HOLDER_STACK values that are no stack: the map holds real ids only, which
 * are never below BLAME_ID_FIRST. */
#define BLAME_ID_UNKNOWN 1   /* no holder found, unreadable frames, map full */
#define BLAME_ID_NO_FRAMES 2 /* the holder runs no Python frame (C code, start-up) */
#define BLAME_ID_FIRST 16

/* Stack ids are FNV-1a hashes of the frames (BPF) or of one frame (user
 * space, HOLDER_FRAME's one-frame stacks). */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

_Static_assert(sizeof(struct blame_stack) == 8 + 16 * BLAME_MAX_FRAMES,
	       "blame_stack layout is shared with BPF");

#endif /* GILTRACE_BLAME_H */
