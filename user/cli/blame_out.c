#include "cli/blame_out.h"

#include <stdio.h>
#include <string.h>

#include "cli/out_file.h"
#include "views/blame_view.h"

enum blame_weight blame_out__weight(struct argp_state *state, const char *arg)
{
	if (!strcmp(arg, "wait"))
		return BLAME_BY_WAIT;
	if (!strcmp(arg, "hold"))
		return BLAME_BY_HOLD;
	if (!strcmp(arg, "samples"))
		return BLAME_BY_SAMPLES;
	argp_error(state, "--weight %s: use wait, hold or samples", arg);
	return BLAME_BY_WAIT;
}

int blame_out__print(const struct blame_out_opts *o, const struct engine *eng,
		     const struct stack_table *tab, const struct trace_meta *meta)
{
	struct blame_rows rows;
	const char *path = o->folded && strcmp(o->folded, "-") ? o->folded : NULL;
	FILE *f;
	int ret;

	if (blame_rows__build(&rows, eng, tab, o->weight)) {
		fprintf(stderr, "giltrace: out of memory\n");
		return 1;
	}
	f = o->folded ? out_file__open(path, o->force) : stdout;
	if (!f) {
		blame_rows__free(&rows);
		return 1;
	}
	if (o->folded)
		blame_view__folded(f, &rows, o->weight);
	else
		blame_view__text(f, &rows, eng, meta, o->top);
	ret = o->folded ? out_file__close(f, path) : out_file__close(stdout, NULL);
	blame_rows__free(&rows);
	return ret;
}
