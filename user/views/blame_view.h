/*
 * Blame views: the top holder stacks as text, and folded stacks
 * ("frame;frame;frame count", root first) for flamegraph.pl and speedscope.
 */
#ifndef GILTRACE_BLAME_VIEW_H
#define GILTRACE_BLAME_VIEW_H

#include <stdio.h>

#include "blame/rows.h"
#include "trace_meta.h"

/* top: rows to print (0: all). Returns 0 or -errno. */
int blame_view__text(FILE *out, const struct blame_rows *rows, const struct engine *eng,
		     const struct trace_meta *meta, size_t top);
/* One line a row with a non-zero weight: wait and hold in microseconds,
 * samples as counts. Returns 0 or -errno. */
int blame_view__folded(FILE *out, const struct blame_rows *rows, enum blame_weight w);
/* "func (file:line)" of a stack's innermost frame, for top's "holding now". */
void blame_view__leaf(char *buf, size_t len, const struct blame_resolved *res);

#endif
