/* `giltrace record -o FILE [-p PID | -- CMD]`: write every event to a capture. */
#include <argp.h>
#include <limits.h>
#include <stdio.h>

#include "cli/commands.h"
#include "cli/consumer.h"
#include "cli/parse.h"
#include "cli/target_opts.h"

struct record_args {
	struct live_opts live;
	struct target_opts_input target;
	struct consumer c;
};

enum { OPT_FORCE = 0x300, OPT_MAX_SIZE, OPT_SUMMARY, OPT_JSON, OPT_BLAME };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Capture:", 2 },
	{ "output", 'o', "FILE", 0, "Write the capture to FILE (created mode 0600)", 2 },
	{ "force", OPT_FORCE, NULL, 0, "Overwrite FILE if it exists (never through a symlink)", 2 },
	{ "max-size", OPT_MAX_SIZE, "MB", 0, "Stop recording cleanly when the file reaches MB "
					     "megabytes", 2 },
	{ "summary", OPT_SUMMARY, NULL, 0, "Also print the live summary at the end", 2 },
	{ "json", OPT_JSON, NULL, 0, "Also print the live summary, as JSON", 2 },
	{ "blame", OPT_BLAME, NULL, 0, "Also record the GIL holder's Python stacks, for report "
				       "--blame (capture format version 2)", 2 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct record_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		break;
	case 'o':
		a->c.path = arg;
		break;
	case OPT_FORCE:
		a->c.capture_flags |= CAPTURE_WRITER_FORCE;
		break;
	case OPT_MAX_SIZE:
		a->c.wopts.max_bytes =
			(__u64)parse__long(state, "size", arg, 1, LONG_MAX / 1048576) * 1048576;
		break;
	case OPT_SUMMARY:
		a->c.summary = true;
		break;
	case OPT_JSON:
		a->c.summary = a->c.json = true;
		break;
	case OPT_BLAME:
		a->live.blame = a->c.wopts.blame = true;
		break;
	case ARGP_KEY_END:
		if (!a->c.path)
			argp_error(state, "no capture file: give -o FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"Record every GIL event of a process to a compact capture file, to analyse later "
	"(on this or another machine) with giltrace report, export and plot. The file is "
	"readable up to its last complete chunk even if giltrace is killed; ring-buffer "
	"drops are recorded where they happened.\v"
	"Examples:\n"
	"  sudo giltrace record -o app.gil -p 4242\n"
	"  sudo giltrace record -d 30 --max-size 100 -o app.gil -p 4242\n"
	"  sudo giltrace record -o demo.gil -- build/toyvm tools/toyvm/examples/convoy.tvm\n"
	"  giltrace report app.gil";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "-o FILE [-- CMD [ARGS...]]",
	.doc = doc, .children = target_opts_children,
};

int cmd_record(int argc, char **argv)
{
	struct record_args a = { .target.live = &a.live };
	struct engine_opts eo = { 0 };
	struct live_sink sink;
	struct live_result res;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	if (a.c.summary) {
		a.c.eng = engine__new(&eo);
		if (!a.c.eng) {
			fprintf(stderr, "giltrace: out of memory\n");
			return 1;
		}
	}
	sink = consumer__sink(&a.c);
	ret = live__run(&a.live, &sink, &res);
	/* A run that failed early still leaves a complete, readable file. */
	ret = consumer__finish(&a.c, res.drops) || ret || a.c.end_ret;
	engine__free(a.c.eng);
	return ret;
}
