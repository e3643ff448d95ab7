/* `giltrace report FILE`: the live summary, computed again from a capture. */
#include <argp.h>
#include <limits.h>
#include <stdio.h>

#include "cli/capture_source.h"
#include "cli/commands.h"
#include "cli/consumer.h"
#include "cli/parse.h"

struct report_args {
	const char *path;
	bool json;
	double from_s, to_s; /* seconds from the first event; < 0: unbounded */
	__u32 tid;
};

enum { OPT_JSON = 0x400, OPT_FROM, OPT_TO, OPT_TID };

static const struct argp_option options[] = {
	{ "json", OPT_JSON, NULL, 0, "Print the summary as one JSON object", 0 },
	{ "from", OPT_FROM, "SECONDS", 0, "Count events from SECONDS after the first one", 0 },
	{ "to", OPT_TO, "SECONDS", 0, "Count events up to SECONDS after the first one", 0 },
	{ "tid", OPT_TID, "TID", 0, "Only thread TID", 0 },
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
	case ARGP_KEY_ARG:
		if (a->path)
			argp_error(state, "one capture file at a time");
		a->path = arg;
		break;
	case ARGP_KEY_END:
		if (!a->path)
			argp_error(state, "no capture file given");
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
	"  giltrace report --from 2 --to 5 --tid 4243 app.gil";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "FILE", .doc = doc,
};

int cmd_report(int argc, char **argv)
{
	struct report_args a = { .from_s = -1, .to_s = -1 };
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
	ret = capture_source__drain(r, a.path, &sink);
	if (!ret)
		ret = consumer__print_summary(&c, a.json);
cleanup:
	engine__free(c.eng);
	capture_reader__free(r);
	return ret;
}
