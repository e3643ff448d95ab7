/*
 * CPython objects read out of a running target (process_vm_readv): code
 * objects, their strings and line tables, and the line of an instruction.
 * The per-version offsets come from the runtime table's code layout
 * (runtimes.h); what no version changes (the object header, str and bytes
 * headers) is here. Anything that does not read back as an object of the
 * expected type is refused, never guessed.
 */
#ifndef GILTRACE_PYOBJ_H
#define GILTRACE_PYOBJ_H

#include <stddef.h>
#include <linux/types.h>

#include "target/runtimes.h"

/* A code object read back: strings are UTF-8, owned (pyobj_code__free). */
struct pyobj_code {
	char *name;           /* co_qualname where the version has it, else co_name */
	char *file;           /* co_filename */
	__u32 firstlineno;
	unsigned char *lines; /* the line table's bytes; NULL: unreadable */
	size_t nlines;
};

/* Reads the code object at addr in pid. 0, or -EFAULT when it is no code
 * object (out is then empty); a missing line table is no error. */
int pyobj__read_code(__u32 pid, __u64 addr, const struct cpython_code_layout *cl,
		     struct pyobj_code *out);
void pyobj_code__free(struct pyobj_code *c);

/* The line a frame of code object code (at address code_addr) is on, from
 * the frame's instruction position as BPF read it (f_lasti or a pointer,
 * cl->instr says which); the function's first line when the table has none. */
__u32 pyobj__frame_line(const struct cpython_code_layout *cl, __u64 code_addr,
			const struct pyobj_code *code, __u64 instr);

/* Pure line-table decoding: the line of the instruction at code unit (or
 * byte, LINES_LNOTAB) addrq; 0 if none. */
__u32 pyobj__line(enum cpython_lines how, const unsigned char *tab, size_t len,
		  __u32 firstlineno, long addrq);

#endif
