/*
 * Blame's live resolver: turns a stack of code-object addresses and
 * instruction positions (read by BPF) into names, files and lines. Each
 * code object is read (target/pyobj.h decodes it) once per process and
 * cached by address. Anything that does not read back as CPython objects
 * of the right type becomes an "[unknown]" frame, never a guessed name.
 */
#ifndef GILTRACE_RESOLVE_H
#define GILTRACE_RESOLVE_H

#include <linux/types.h>

#include "blame.h"
#include "blame/stack_table.h"
#include "target/runtimes.h"

struct blame_resolver;

struct blame_resolver *resolver__new(void);
void resolver__free(struct blame_resolver *r);

/*
 * Resolves raw (from pid's memory, laid out as cl says) into out[], which
 * holds BLAME_MAX_FRAMES; returns the number of frames. Strings point into
 * the resolver's cache and stay valid until resolver__free().
 */
unsigned int resolver__resolve(struct blame_resolver *r, __u32 pid,
			       const struct cpython_code_layout *cl,
			       const struct blame_stack *raw, struct blame_frame *out);

/*
 * The id of the one-frame stack (code, instr) of pid: the same for the same
 * pair, at least BLAME_ID_FIRST, and apart from other processes' ids. Names
 * a HOLDER_FRAME sample's stack record.
 */
__u64 resolver__frame_id(__u32 pid, __u64 code, __u64 instr);

/* Forgets pid's code objects (it exited: its addresses mean nothing now). */
void resolver__forget(struct blame_resolver *r, __u32 pid);

#endif
