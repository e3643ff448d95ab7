/*
 * Blame rows: the engine's per-id figures merged by what the ids resolve to
 * (ids differ by instruction; rows by function, file and line), sorted by
 * caused wait. Pure C; the views print them.
 */
#ifndef GILTRACE_BLAME_ROWS_H
#define GILTRACE_BLAME_ROWS_H

#include <stddef.h>
#include <linux/types.h>

#include "blame/stack_table.h"
#include "engine/engine.h"

enum blame_weight { BLAME_BY_WAIT, BLAME_BY_HOLD, BLAME_BY_SAMPLES };

struct blame_row {
	__u32 tgid;
	__u32 flags;          /* BLAME_STACK_* */
	const char *special;  /* "[unknown]", "[no Python frame]": no frames; else NULL */
	const struct blame_frame *frames; /* innermost first */
	unsigned int nframes;
	__u64 wait_ns;
	__u64 hold_ns;
	__u64 samples;
	double wait_share;    /* of all attributed wait, 0..1 */
	double hold_share;
};

struct blame_rows {
	struct blame_row *v;
	size_t n;
	struct engine_blame_totals tot;
};

/* 0 or -ENOMEM. tab may be NULL (every stack then shows as unknown). */
int blame_rows__build(struct blame_rows *rows, const struct engine *eng,
		      const struct stack_table *tab, enum blame_weight sort_by);
void blame_rows__free(struct blame_rows *rows);
__u64 blame_row__weight(const struct blame_row *r, enum blame_weight w);

#endif
