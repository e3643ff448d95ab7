#include "cli/capture_opts.h"

#include <limits.h>
#include <stdio.h>

#include "cli/parse.h"

static error_t parse_file(int key, char *arg, struct argp_state *state)
{
	struct capture_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (o->path)
			argp_error(state, "one capture file at a time");
		o->path = arg;
		break;
	case ARGP_KEY_END:
		if (!o->path)
			argp_error(state, "no capture file given");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp capture_file_argp = { .parser = parse_file };

enum { OPT_FROM = 0x700, OPT_TO, OPT_TID };

static const struct argp_option window_options[] = {
	{ "from", OPT_FROM, "SECONDS", 0, "Start SECONDS after the first event", 0 },
	{ "to", OPT_TO, "SECONDS", 0, "End SECONDS after the first event", 0 },
	{ "tid", OPT_TID, "TID", 0, "Only thread TID", 0 },
	{ 0 },
};

static error_t parse_window(int key, char *arg, struct argp_state *state)
{
	struct capture_opts *o = state->input;

	switch (key) {
	case OPT_FROM:
		o->from_s = parse__double(state, "--from", arg, 0, 1e9);
		break;
	case OPT_TO:
		o->to_s = parse__double(state, "--to", arg, 0, 1e9);
		break;
	case OPT_TID:
		o->tid = (__u32)parse__long(state, "TID", arg, 1, INT_MAX);
		break;
	case ARGP_KEY_END:
		if (o->from_s >= 0 && o->to_s >= 0 && o->to_s <= o->from_s)
			argp_error(state, "--to %g is not after --from %g", o->to_s, o->from_s);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp capture_window_argp = { .options = window_options, .parser = parse_window };

bool capture_opts__windowed(const struct capture_opts *o)
{
	return o->from_s >= 0 || o->to_s >= 0 || o->tid;
}

struct stream_window capture_opts__window(const struct capture_opts *o,
					  const struct stream_sink *next)
{
	struct stream_window w = { .from_s = o->from_s, .to_s = o->to_s, .next = *next };

	return w;
}

int capture_opts__check_matched(const struct capture_opts *o, const struct engine *eng,
				const char *name)
{
	struct engine_totals tot;
	char what[96] = "", *p = what;
	char *end = what + sizeof(what);

	if (!capture_opts__windowed(o))
		return 0;
	engine__totals(eng, &tot);
	if (tot.first_ts)
		return 0;
	if (o->from_s >= 0)
		p += snprintf(p, (size_t)(end - p), " --from %g", o->from_s);
	if (o->to_s >= 0)
		p += snprintf(p, (size_t)(end - p), " --to %g", o->to_s);
	if (o->tid)
		snprintf(p, (size_t)(end - p), " --tid %u", o->tid);
	fprintf(stderr, "giltrace: no events match%s in %s\n", what, name);
	return 1;
}
