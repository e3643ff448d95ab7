/*
 * Blame's stack table: resolved holder stacks by (tgid, stack id), with
 * their strings interned. Filled by the live resolver (user/blame/resolve.c)
 * or by a capture's stack records; read by the blame views and top. Pure C.
 */
#ifndef GILTRACE_STACK_TABLE_H
#define GILTRACE_STACK_TABLE_H

#include <stddef.h>
#include <linux/types.h>

#include "blame.h"

/* One Python frame; line 0: not known. */
struct blame_frame {
	const char *name; /* the function (target/pyobj.h says which name); "[unknown]" when unreadable */
	const char *file;
	__u32 line;
};

/* frames[0] is the innermost frame; flags are BLAME_STACK_* (blame.h). */
struct blame_resolved {
	__u32 tgid;
	__u32 flags;
	__u64 id;
	unsigned int nframes;
	struct blame_frame *frames;
};

struct stack_table;

struct stack_table *stack_table__new(void);
void stack_table__free(struct stack_table *tab);
/* Copies frames (and their strings); a second add of the same key is
 * ignored. 0 or -ENOMEM. */
int stack_table__add(struct stack_table *tab, __u32 tgid, __u64 id, __u32 flags,
		     const struct blame_frame *frames, unsigned int nframes);
/* NULL when unknown; ids below BLAME_ID_FIRST are never stored. */
const struct blame_resolved *stack_table__find(const struct stack_table *tab, __u32 tgid,
					       __u64 id);

#endif
