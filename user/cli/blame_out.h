/* Blame output shared by `giltrace blame` (live) and `giltrace report --blame`. */
#ifndef GILTRACE_BLAME_OUT_H
#define GILTRACE_BLAME_OUT_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>

#include "blame/rows.h"
#include "cli/out_file.h"
#include "trace_meta.h"

struct blame_out_opts {
	size_t top;               /* stacks printed (0: all) */
	const char *folded;       /* NULL: text; "-": folded stacks on stdout; else a file */
	enum blame_weight weight; /* of the folded counts and of the order */
	struct out_file_opts out; /* -o, --force: where the text goes, and --force
				   * for the folded file too (out_file_argp's input) */
};

#define BLAME_OUT_INIT { .top = 10 }

/* --top, --folded, --weight, as an argp child parser whose input is a
 * struct blame_out_opts; the parent adds out_file_argp on its out. */
extern const struct argp blame_out_argp;

/* Prints the text report where -o says, or the folded stacks where
 * --folded says. Returns 0, or 1 after a one-line error. */
int blame_out__print(const struct blame_out_opts *o, const struct engine *eng,
		     const struct stack_table *tab, const struct trace_meta *meta);

#endif
