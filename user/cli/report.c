/* `giltrace report FILE`: the live summary, computed again from a capture. */
#include <argp.h>
#include <stdio.h>

#include "cli/blame_out.h"
#include "cli/capture_opts.h"
#include "cli/commands.h"
#include "cli/out_file.h"
#include "cli/summary_out.h"
#include "stream/engine_sink.h"
#include "stream/file_source.h"

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
		state->child_inputs[2] = &a->out.out;
		state->child_inputs[3] = &a->out;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_BLAME:
		a->blame = true;
		break;
	case ARGP_KEY_END:
		if (a->out.folded && !a->blame)
			argp_error(state, "--folded goes with --blame");
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
	{ &out_file_argp, 0, "Output:", 2 },
	{ &blame_out_argp, 0, "Blame output (with --blame):", 3 },
	{ 0 },
};

static const char doc[] =
	"Print the summary of a capture made by giltrace record: the same figures, through "
	"the same engine, as the live run.\v"
	"Examples:\n"
	"  giltrace report app.gil\n"
	"  ssh host cat app.gil | giltrace report -\n"
	"  giltrace report --json -o app.json app.gil\n"
	"  giltrace report --from 2 --to 5 --tid 4243 app.gil\n"
	"  giltrace report --blame --folded app.folded app.gil";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "FILE", .doc = doc, .children = children,
};

int cmd_report(int argc, char **argv)
{
	struct report_args a = { .cap = CAPTURE_OPTS_INIT, .out = BLAME_OUT_INIT };
	struct engine_sink es = { 0 };
	struct stream_window window;
	struct stream_sink sink;
	struct file_source *src;
	int ret = 1;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	src = file_source__open(a.cap.path, 0);
	if (!src)
		return 1;
	es.eng = engine__new(&(struct engine_opts){ .tid = a.cap.tid });
	if (a.blame)
		es.stacks = stack_table__new();
	if (!es.eng || (a.blame && !es.stacks)) {
		fprintf(stderr, "giltrace: out of memory\n");
		goto cleanup;
	}
	/* capture -> window -> engine -> summary or blame view */
	sink = engine_sink__sink(&es);
	window = capture_opts__window(&a.cap, &sink);
	sink = stream_window__sink(&window);
	ret = file_source__run(src, &sink, false);
	if (!ret)
		ret = capture_opts__check_matched(&a.cap, es.eng, file_source__name(src));
	if (!ret && a.blame)
		ret = blame_out__print(&a.out, es.eng, es.stacks, &es.meta);
	else if (!ret) {
		FILE *out = out_file__open(a.out.out.path, a.out.out.force);

		ret = !out || summary_out__print(out, es.eng, &es.meta, a.json);
		if (out && out_file__close(out, a.out.out.path))
			ret = 1;
	}
cleanup:
	stack_table__free(es.stacks);
	engine__free(es.eng);
	file_source__free(src);
	return ret;
}
