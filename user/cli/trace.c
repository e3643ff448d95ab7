/* `giltrace [-p PID | -- CMD]`: trace live, print the summary at the end. */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/target_opts.h"
#include "engine/engine.h"
#include "run/live.h"
#include "views/summary.h"

struct trace_args {
	struct live_opts live;
	struct target_opts_input target;
	bool json;
};

struct engine_sink {
	struct engine *eng;
	struct trace_meta meta;
};

enum { OPT_JSON = 0x200 };

static const struct argp_option options[] = {
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
	case ARGP_KEY_ARG:
		target_opts__take_command(state, &a->live);
		break;
	case ARGP_KEY_END:
		target_opts__check(state, &a->live);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &target_opts_argp, 0, "Target:", 1 },
	{ 0 },
};

static const char doc[] =
	"Trace the GIL of a Python process (or the toy VM) and print who waited for it, "
	"how long, how often a woken thread found it taken again (retries), how often a "
	"holder was forced off, and where wake-ups landed.\v"
	"Examples:\n"
	"  sudo giltrace -p 4242              trace PID 4242 until Ctrl-C\n"
	"  sudo giltrace -d 10 -p 4242        trace for 10 seconds\n"
	"  sudo giltrace -- build/toyvm tools/toyvm/examples/countdown.tvm\n"
	"  sudo giltrace --json -p 4242 > gil.json\n\n"
	"Other commands: giltrace record|report|top|export|plot --help\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage error.";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "[-- CMD [ARGS...]]", .doc = doc,
	.children = children,
};

static int on_start(void *ctx, const struct trace_meta *meta, char *err, size_t errlen)
{
	struct engine_sink *es = ctx;

	(void)err;
	(void)errlen;
	es->meta = *meta;
	return 0;
}

static int on_event(void *ctx, const struct gil_event *ev)
{
	engine__feed(((struct engine_sink *)ctx)->eng, ev);
	return 0;
}

static void on_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	engine__name_thread(((struct engine_sink *)ctx)->eng, tgid, tid, name);
}

int cmd_trace(int argc, char **argv)
{
	struct trace_args a = { 0 };
	struct engine_opts eo = { 0 };
	struct engine_sink es = { 0 };
	struct live_sink sink = {
		.on_start = on_start, .on_event = on_event, .on_thread = on_thread,
		.ctx = &es, .input_fd = -1,
	};
	struct live_result res;
	int ret;

	a.target.live = &a.live;
	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	es.eng = engine__new(&eo);
	if (!es.eng) {
		fprintf(stderr, "giltrace: out of memory\n");
		return 1;
	}
	ret = live__run(&a.live, &sink, &res);
	if (!ret) {
		if (a.json)
			summary__print_json(stdout, es.eng, &es.meta);
		else
			summary__print_text(stdout, es.eng, &es.meta);
		if (fflush(stdout) && !ferror(stdout))
			ret = 1;
	}
	engine__free(es.eng);
	return ret;
}
