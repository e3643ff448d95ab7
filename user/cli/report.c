/* `giltrace report FILE`: the live summary, computed again from a capture. */
#include <argp.h>
#include <stdio.h>

#include "cli/blame_out.h"
#include "cli/capture_opts.h"
#include "cli/capture_source.h"
#include "cli/commands.h"
#include "cli/consumer.h"

struct report_args {
	struct capture_opts cap;
	bool json;
	bool blame;
	struct blame_out_opts out;
};

enum { OPT_JSON = 0x400, OPT_BLAME };

static const struct argp_option options[] = {
	{ "json", OPT_JSON, NULL, 0, "Print the summary as one JSON object", 0 },
	{ "blame", OPT_BLAME, NULL, 0, "Print which Python stacks held the GIL while threads "
				       "waited (a capture made with record --blame)", 0 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct report_args *a = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->cap;
		state->child_inputs[1] = &a->cap;
		state->child_inputs[2] = &a->out;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_BLAME:
		a->blame = true;
		break;
	case ARGP_KEY_END:
		if ((a->out.folded || a->out.force) && !a->blame)
			argp_error(state, "--folded and --force go with --blame");
		if (a->json && a->blame)
			argp_error(state, "--json and --blame: choose one");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &capture_file_argp, 0, NULL, 0 },
	{ &capture_window_argp, 0, "Window:", 1 },
	{ &blame_out_argp, 0, "Blame output (with --blame):", 2 },
	{ 0 },
};

static const char doc[] =
	"Print the summary of a capture made by giltrace record: the same figures, through "
	"the same engine, as the live run.\v"
	"Examples:\n"
	"  giltrace report app.gil\n"
	"  giltrace report --json app.gil\n"
	"  giltrace report --from 2 --to 5 --tid 4243 app.gil\n"
	"  giltrace report --blame --folded app.folded app.gil";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "FILE", .doc = doc, .children = children,
};

static void add_stack(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		      const struct blame_frame *frames, unsigned int nframes)
{
	stack_table__add(ctx, tgid, id, flags, frames, nframes);
}

int cmd_report(int argc, char **argv)
{
	struct report_args a = { .cap = CAPTURE_OPTS_INIT, .out = BLAME_OUT_INIT };
	struct stack_table *stacks = NULL;
	struct engine_opts eo = { 0 };
	struct consumer c = { 0 };
	struct capture_sink sink;
	struct capture_reader *r;
	int ret = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	r = capture_source__open(a.cap.path);
	if (!r)
		return 1;
	capture_opts__engine_opts(&a.cap, &eo, NULL);
	c.meta = *capture_reader__meta(r);
	c.eng = engine__new(&eo);
	if (!c.eng) {
		fprintf(stderr, "giltrace: out of memory\n");
		ret = 1;
		goto cleanup;
	}
	sink = capture_source__engine_sink(c.eng);
	if (a.blame) {
		stacks = stack_table__new();
		if (!stacks) {
			fprintf(stderr, "giltrace: out of memory\n");
			ret = 1;
			goto cleanup;
		}
		sink.stack = add_stack;
		sink.stack_ctx = stacks;
	}
	ret = capture_source__drain(r, a.cap.path, &sink);
	if (!ret && a.blame)
		ret = blame_out__print(&a.out, c.eng, stacks, &c.meta);
	else if (!ret)
		ret = consumer__print_summary(&c, a.json);
cleanup:
	stack_table__free(stacks);
	engine__free(c.eng);
	capture_reader__free(r);
	return ret;
}
