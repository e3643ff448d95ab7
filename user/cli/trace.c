/* `giltrace [-p PID | -- CMD]`: trace live, print the summary at the end. */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/out_file.h"
#include "cli/summary_out.h"
#include "cli/target_opts.h"
#include "stream/engine_sink.h"

struct trace_args {
	struct live_opts live;
	struct target_opts_input target;
	struct out_file_opts out;
	bool json;
};

enum { OPT_JSON = 0x200 };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "json", OPT_JSON, NULL, 0, "Print the summary as one JSON object", 2 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct trace_args *a = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		state->child_inputs[1] = &a->out;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"Trace the GIL of a Python process (or the toy VM) and print who waited for it, "
	"how long, how often a woken thread found it taken again (retries), how often a "
	"holder was forced off, and where wake-ups landed.\v"
	"Examples:\n"
	"  sudo giltrace -p 4242              trace PID 4242 until Ctrl-C\n"
	"  sudo giltrace -d 10 -p 4242        trace for 10 seconds\n"
	"  sudo giltrace -- build/toyvm tools/toyvm/examples/counter.tvm\n"
	"  sudo giltrace -- python3 app.py    through a pyenv shim or `env` too\n"
	"  sudo giltrace --json -o gil.json -- python3 app.py\n"
	"  sudo giltrace -p 4242,4243         two processes, grouped in the summary\n"
	"  sudo giltrace --all -d 30          every supported process, new ones too\n"
	"  sudo giltrace --all --comm python3 -d 30\n\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage error; with -- CMD, CMD's\n"
	"own when it ended by itself (128 + N for signal N).";

/* The command list comes from the table that dispatches them. */
static char *help_filter(int key, const char *text, void *input)
{
	char *list, *all;

	(void)input;
	if (key != ARGP_KEY_HELP_POST_DOC || !text)
		return (char *)text;
	list = commands__list();
	if (!list)
		return (char *)text;
	if (asprintf(&all, "%s\n\n%s", list, text) < 0)
		all = (char *)text;
	free(list);
	return all;
}

static const struct argp_child children[] = {
	{ &target_opts_argp, 0, "Target:", 1 },
	{ &out_file_argp, 0, NULL, 2 },
	{ 0 },
};

static const struct argp argp = {
	.options = options, .parser = parse, .doc = doc, .children = children,
	.args_doc = "[-- CMD [ARGS...]]\nCOMMAND [ARGS...]", .help_filter = help_filter,
};

struct trace_run {
	struct engine_sink es;
	FILE *out;
	bool json;
	bool printed; /* else out is discarded */
	int end_ret;
};

/* Printed before the probes are detached: the kernel takes a while. */
static void on_end(void *ctx, const struct live_result *res)
{
	struct trace_run *t = ctx;

	(void)res;
	t->end_ret = summary_out__print(t->out, t->es.eng, &t->es.meta, t->json);
	t->printed = true;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_args a = { .target.live = &a.live };
	struct trace_run t = { 0 };
	struct live_hooks hooks = { .on_end = on_end, .ctx = &t, .input_fd = -1 };
	struct stream_sink sink;
	struct live_result res;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	/* An -o that cannot be written is said before the trace, not after. */
	t.out = out_file__open(a.out.path, a.out.force);
	if (!t.out)
		return 1;
	t.es.eng = engine__new(&(struct engine_opts){ 0 });
	if (!t.es.eng) {
		fprintf(stderr, "giltrace: out of memory\n");
		out_file__discard(t.out, a.out.path);
		return 1;
	}
	t.json = a.json;
	/* live -> engine -> summary */
	sink = engine_sink__sink(&t.es);
	ret = live__run(&a.live, &sink, &hooks, &res);
	if (!t.printed)
		out_file__discard(t.out, a.out.path);
	else if (out_file__close(t.out, a.out.path) || t.end_ret)
		ret = 1;
	engine__free(t.es.eng);
	return ret ? ret : live__exit_status(&res);
}
