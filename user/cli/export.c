/* `giltrace export FILE --format=chrome|csv`: a capture for other tools. */
#include <argp.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/capture_opts.h"
#include "cli/commands.h"
#include "cli/out_file.h"
#include "stream/engine_sink.h"
#include "stream/file_source.h"
#include "stream/tee.h"
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
	"  giltrace export app.gil --format=csv > app.csv\n"
	"  zcat app.gil.gz | giltrace export - -o -";

static const struct argp_child children[] = {
	{ &capture_file_argp, 0, NULL, 0 },
	{ &out_file_argp, 0, "Output:", 1 },
	{ 0 },
};

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "FILE", .doc = doc, .children = children,
};

/* A closed pipe or a full disk stops the reading; out_file__close() says
 * why. */
static int output_failed(void *ctx, const struct gil_event *ev)
{
	(void)ev;
	return ferror_unlocked((FILE *)ctx);
}

struct csv_run {
	struct export_csv *x;
	FILE *out;
	bool failed; /* out of memory for a name */
};

static int csv_event(void *ctx, const struct gil_event *ev)
{
	struct csv_run *c = ctx;

	export_csv__event(c->x, ev);
	return c->failed ? -ENOMEM : output_failed(c->out, ev);
}

static void csv_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct csv_run *c = ctx;

	(void)tgid;
	if (export_csv__thread(c->x, tid, name))
		c->failed = true;
}

static int export_csv(struct file_source *src, FILE *out)
{
	struct csv_run c = { .x = export_csv__new(out), .out = out };
	struct stream_sink sink = { .event = csv_event, .thread = csv_thread, .ctx = &c };
	int ret;

	if (!c.x) {
		fprintf(stderr, "giltrace: out of memory\n");
		return 1;
	}
	ret = file_source__run(src, &sink, false);
	if (c.failed) {
		fprintf(stderr, "giltrace: out of memory\n");
		ret = 1;
	}
	export_csv__free(c.x);
	return ret;
}

/* The Chrome document counts time from the capture's first event, which
 * starts it: the view is attached to the engine just before that event is
 * fed, so a capture from a pipe is read once. */
struct chrome_start {
	struct engine *eng;
	FILE *out;
	struct export_chrome *x;
	bool failed;   /* out of memory for x */
};

static int chrome_start(struct chrome_start *c, __u64 origin)
{
	struct timeline_ops ops = export_chrome__timeline_ops();

	c->x = export_chrome__new(c->out, origin);
	if (!c->x) {
		c->failed = true;
		return -ENOMEM;
	}
	engine__set_timeline(c->eng, &ops, c->x);
	return 0;
}

static int chrome_first_event(void *ctx, const struct gil_event *ev)
{
	struct chrome_start *c = ctx;

	return c->x ? 0 : chrome_start(c, ev->ts);
}

static int export_chrome(struct file_source *src, FILE *out)
{
	struct engine_sink es = { 0 };
	struct chrome_start start = { .out = out };
	struct stream_sink first = { .event = chrome_first_event, .ctx = &start };
	struct stream_sink check = { .event = output_failed, .ctx = out };
	struct stream_sink engine = engine_sink__sink(&es);
	struct stream_tee tee = { 0 };
	struct stream_sink sink;
	int ret = 1;

	es.eng = start.eng = engine__new(&(struct engine_opts){ 0 });
	if (!es.eng)
		goto nomem;
	/* capture -> [attach the view at the first event, engine -> timeline
	 * -> Chrome JSON, stop when the output fails] */
	stream_tee__add(&tee, &first);
	stream_tee__add(&tee, &engine);
	stream_tee__add(&tee, &check);
	sink = stream_tee__sink(&tee);
	ret = file_source__run(src, &sink, false);
	/* an empty capture still makes a valid document */
	if (start.failed || (!start.x && chrome_start(&start, 0)))
		goto nomem;
	engine__flush_timeline(es.eng);
	export_chrome__finish(start.x, es.eng, file_source__meta(src));
	engine__free(es.eng);
	return ret;
nomem:
	fprintf(stderr, "giltrace: out of memory\n");
	engine__free(es.eng);
	return 1;
}

int cmd_export(int argc, char **argv)
{
	struct export_args a = { .format = FORMAT_CHROME };
	struct file_source *src;
	FILE *out;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	src = file_source__open(a.cap.path, 0);
	if (!src)
		return 1;
	out = out_file__open(a.out.path, a.out.force);
	if (!out) {
		file_source__free(src);
		return 1;
	}
	if (a.format == FORMAT_CSV)
		ret = export_csv(src, out);
	else
		ret = export_chrome(src, out);
	if (out_file__close(out, a.out.path))
		ret = 1;
	file_source__free(src);
	return ret;
}
