/* `giltrace [-p PID | -- CMD]`: trace live, print the summary at the end. */
#include <argp.h>
#include <stdio.h>

#include "cli/commands.h"
#include "cli/summary_out.h"
#include "cli/target_opts.h"
#include "stream/engine_sink.h"

struct trace_args {
	struct live_opts live;
	struct target_opts_input target;
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
	"  sudo giltrace -- build/toyvm tools/toyvm/examples/convoy.tvm\n"
	"  sudo giltrace -- python3 app.py    through a pyenv shim or `env` too\n"
	"  sudo giltrace --json -p 4242 > gil.json\n"
	"  sudo giltrace -p 4242,4243         two processes, grouped in the summary\n"
	"  sudo giltrace --all -d 30         every supported process, new ones too\n"
	"  sudo giltrace --all --comm python3 -d 30\n\n"
	"Other commands (each has --help): record, report, serve, blame.\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage error.";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "[-- CMD [ARGS...]]", .doc = doc,
	.children = target_opts_children,
};

struct trace_run {
	struct engine_sink es;
	bool json;
	int end_ret;
};

/* Printed before the probes are detached: the kernel takes a while. */
static void on_end(void *ctx, const struct live_result *res)
{
	struct trace_run *t = ctx;

	(void)res;
	t->end_ret = summary_out__print(t->es.eng, &t->es.meta, t->json);
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
	t.es.eng = engine__new(&(struct engine_opts){ 0 });
	if (!t.es.eng) {
		fprintf(stderr, "giltrace: out of memory\n");
		return 1;
	}
	t.json = a.json;
	/* live -> engine -> summary */
	sink = engine_sink__sink(&t.es);
	ret = live__run(&a.live, &sink, &hooks, &res);
	if (!ret)
		ret = t.end_ret;
	engine__free(t.es.eng);
	return ret;
}
