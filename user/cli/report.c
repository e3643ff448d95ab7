/* `giltrace report FILE`: the live summary, computed again from a capture. */
#include <argp.h>
#include <limits.h>
#include <stdio.h>

#include "cli/blame_out.h"
#include "cli/capture_source.h"
#include "cli/commands.h"
#include "cli/consumer.h"
#include "cli/parse.h"

struct report_args {
	const char *path;
	bool json;
	double from_s, to_s; /* seconds from the first event; < 0: unbounded */
	__u32 tid;
	bool blame;
	struct blame_out_opts out;
};

enum { OPT_JSON = 0x400, OPT_FROM, OPT_TO, OPT_TID, OPT_BLAME, OPT_TOP, OPT_FOLDED, OPT_WEIGHT,
       OPT_FORCE };

static const struct argp_option options[] = {
	{ "json", OPT_JSON, NULL, 0, "Print the summary as one JSON object", 0 },
	{ "from", OPT_FROM, "SECONDS", 0, "Count events from SECONDS after the first one", 0 },
	{ "to", OPT_TO, "SECONDS", 0, "Count events up to SECONDS after the first one", 0 },
	{ "tid", OPT_TID, "TID", 0, "Only thread TID", 0 },
	{ "blame", OPT_BLAME, NULL, 0, "Print which Python stacks held the GIL while threads "
				       "waited (a capture made with record --blame)", 0 },
	{ "top", OPT_TOP, "N", 0, "With --blame: the N stacks that caused the most wait "
				  "(default 10; 0: all)", 0 },
	{ "folded", OPT_FOLDED, "FILE", 0, "With --blame: write folded stacks to FILE (- for "
					   "stdout) instead of the text", 0 },
	{ "weight", OPT_WEIGHT, "WHAT", 0, "With --blame: order and folded counts by wait "
					   "(default), hold or samples", 0 },
	{ "force", OPT_FORCE, NULL, 0, "Overwrite the --folded FILE if it exists", 0 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct report_args *a = state->input;

	switch (key) {
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_FROM:
		a->from_s = parse__double(state, "--from", arg, 0, 1e9);
		break;
	case OPT_TO:
		a->to_s = parse__double(state, "--to", arg, 0, 1e9);
		break;
	case OPT_TID:
		a->tid = (__u32)parse__long(state, "TID", arg, 1, INT_MAX);
		break;
	case OPT_BLAME:
		a->blame = true;
		break;
	case OPT_TOP:
		a->out.top = (size_t)parse__long(state, "--top", arg, 0, INT_MAX);
		break;
	case OPT_FOLDED:
		a->out.folded = arg;
		break;
	case OPT_WEIGHT:
		a->out.weight = blame_out__weight(state, arg);
		break;
	case OPT_FORCE:
		a->out.force = true;
		break;
	case ARGP_KEY_ARG:
		if (a->path)
			argp_error(state, "one capture file at a time");
		a->path = arg;
		break;
	case ARGP_KEY_END:
		if (!a->path)
			argp_error(state, "no capture file given");
		if ((a->out.folded || a->out.force) && !a->blame)
			argp_error(state, "--folded and --force go with --blame");
		if (a->json && a->blame)
			argp_error(state, "--json and --blame: choose one");
		if (a->from_s >= 0 && a->to_s >= 0 && a->to_s < a->from_s)
			argp_error(state, "--to %g is before --from %g", a->to_s, a->from_s);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"Print the summary of a capture made by giltrace record: the same figures, through "
	"the same engine, as the live run.\v"
	"Examples:\n"
	"  giltrace report app.gil\n"
	"  giltrace report --json app.gil\n"
	"  giltrace report --from 2 --to 5 --tid 4243 app.gil\n"
	"  giltrace report --blame --folded app.folded app.gil";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "FILE", .doc = doc,
};

static void add_stack(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		      const struct blame_frame *frames, unsigned int nframes)
{
	stack_table__add(ctx, tgid, id, flags, frames, nframes);
}

int cmd_report(int argc, char **argv)
{
	struct report_args a = { .from_s = -1, .to_s = -1, .out.top = 10 };
	struct stack_table *stacks = NULL;
	struct engine_opts eo = { 0 };
	struct consumer c = { 0 };
	struct capture_sink sink;
	struct capture_reader *r;
	__u64 first = 0;
	int ret = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	r = capture_source__open(a.path);
	if (!r)
		return 1;
	if (a.from_s >= 0 || a.to_s >= 0)
		first = capture_source__first_ts(a.path);
	eo.from_ts = capture_source__window_edge(first, a.from_s);
	eo.to_ts = capture_source__window_edge(first, a.to_s);
	eo.tid = a.tid;
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
	ret = capture_source__drain(r, a.path, &sink);
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
