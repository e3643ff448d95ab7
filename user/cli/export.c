/* `giltrace export FILE --format=chrome|csv`: a capture for other tools. */
#include <argp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/capture_opts.h"
#include "cli/capture_source.h"
#include "cli/commands.h"
#include "cli/out_file.h"
#include "views/export_chrome.h"
#include "views/export_csv.h"

enum export_format { FORMAT_CHROME, FORMAT_CSV };

struct export_args {
	struct capture_opts cap;
	struct out_file_opts out;
	enum export_format format;
};

enum { OPT_FORMAT = 0x500 };

static const struct argp_option options[] = {
	{ "format", OPT_FORMAT, "FORMAT", 0,
	  "chrome: Chrome Trace Event JSON for the Perfetto UI (default); "
	  "csv: one line per event", 2 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct export_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->cap;
		state->child_inputs[1] = &a->out;
		break;
	case OPT_FORMAT:
		if (!strcmp(arg, "chrome"))
			a->format = FORMAT_CHROME;
		else if (!strcmp(arg, "csv"))
			a->format = FORMAT_CSV;
		else
			argp_error(state, "unknown format '%s': expected chrome or csv", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"Write a capture made by giltrace record in a format other tools read: Chrome Trace "
	"Event JSON (open it at https://ui.perfetto.dev: one track per thread, holding and "
	"waiting as slices, retries and forced releases as marks, arrows from waker to woken "
	"and from releaser to acquirer), or CSV with one line per event.\v"
	"Examples:\n"
	"  giltrace export app.gil -o app.json\n"
	"  giltrace export app.gil --format=csv > app.csv";

static const struct argp_child children[] = {
	{ &capture_file_argp, 0, NULL, 0 },
	{ &out_file_argp, 0, "Output:", 1 },
	{ 0 },
};

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "FILE", .doc = doc, .children = children,
};

static int csv_event(void *ctx, const struct gil_event *ev)
{
	export_csv__event(ctx, ev);
	/* a closed pipe or a full disk: stop reading, out_file__close() says */
	return ferror_unlocked((FILE *)ctx);
}

struct chrome_feed {
	struct engine *eng;
	FILE *out;
};

static int chrome_event(void *ctx, const struct gil_event *ev)
{
	struct chrome_feed *f = ctx;

	engine__feed(f->eng, ev);
	return ferror_unlocked(f->out);
}

static void chrome_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct chrome_feed *f = ctx;

	engine__name_thread(f->eng, tgid, tid, name);
}

static int export_csv(struct capture_reader *r, const struct export_args *a, FILE *out)
{
	struct capture_sink sink = { .event = csv_event, .ctx = out };

	export_csv__header(out);
	return capture_source__drain(r, a->cap.path, &sink);
}

static int export_chrome(struct capture_reader *r, const struct export_args *a, FILE *out)
{
	struct timeline_ops ops = export_chrome__timeline_ops();
	struct engine_opts eo = { 0 };
	struct export_chrome *x = NULL;
	struct chrome_feed feed = { .out = out };
	struct capture_sink sink = { .event = chrome_event, .thread = chrome_thread, .ctx = &feed };
	struct engine *eng;
	int ret = 1;

	eng = engine__new(&eo);
	if (eng)
		x = export_chrome__new(out, capture_source__first_ts(a->cap.path));
	if (!x) {
		fprintf(stderr, "giltrace: out of memory\n");
		goto cleanup;
	}
	engine__set_timeline(eng, &ops, x);
	feed.eng = eng;
	ret = capture_source__drain(r, a->cap.path, &sink);
	engine__flush_timeline(eng);
	export_chrome__finish(x, eng, capture_reader__meta(r));
cleanup:
	engine__free(eng);
	return ret;
}

int cmd_export(int argc, char **argv)
{
	struct export_args a = { .format = FORMAT_CHROME };
	struct capture_reader *r;
	FILE *out;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	r = capture_source__open(a.cap.path);
	if (!r)
		return 1;
	out = out_file__open(a.out.path, a.out.force);
	if (!out) {
		capture_reader__free(r);
		return 1;
	}
	if (a.format == FORMAT_CSV)
		ret = export_csv(r, &a, out);
	else
		ret = export_chrome(r, &a, out);
	if (out_file__close(out, a.out.path))
		ret = 1;
	capture_reader__free(r);
	return ret;
}
