#include "cli/blame_out.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/out_file.h"
#include "cli/parse.h"
#include "views/blame_view.h"

static enum blame_weight parse_weight(struct argp_state *state, const char *arg)
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

enum { OPT_TOP = 0x800, OPT_FOLDED, OPT_WEIGHT };

static const struct argp_option options[] = {
	{ "top", OPT_TOP, "N", 0, "Print the N stacks that caused the most wait (default 10; "
				  "0: all)", 0 },
	{ "folded", OPT_FOLDED, "FILE", 0, "Write folded stacks (frame;frame;frame count, root "
					   "first) to FILE, - for stdout, instead of the text", 0 },
	{ "weight", OPT_WEIGHT, "WHAT", 0, "Order and folded counts by wait (caused wait, us; "
					   "default), hold (hold time, us) or samples", 0 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct blame_out_opts *o = state->input;

	switch (key) {
	case OPT_TOP:
		o->top = (size_t)parse__long(state, "--top", arg, 0, INT_MAX);
		break;
	case OPT_FOLDED:
		o->folded = arg;
		break;
	case OPT_WEIGHT:
		o->weight = parse_weight(state, arg);
		break;
	case ARGP_KEY_END:
		if (o->folded && o->out.path)
			argp_error(state, "--folded FILE is the output: -o goes with the text");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp blame_out_argp = { .options = options, .parser = parse };

int blame_out__print(const struct blame_out_opts *o, const struct engine *eng,
		     const struct stack_table *tab, const struct trace_meta *meta)
{
	struct blame_rows rows;
	const char *path = o->folded ? (strcmp(o->folded, "-") ? o->folded : NULL) : o->out.path;
	FILE *f;
	int ret;

	if (blame_rows__build(&rows, eng, tab, o->weight)) {
		fprintf(stderr, "giltrace: out of memory\n");
		return 1;
	}
	f = out_file__open(path, o->out.force);
	if (!f) {
		blame_rows__free(&rows);
		return 1;
	}
	if (o->folded)
		blame_view__folded(f, &rows, o->weight);
	else
		blame_view__text(f, &rows, eng, meta, o->top);
	ret = out_file__close(f, path);
	blame_rows__free(&rows);
	return ret;
}
