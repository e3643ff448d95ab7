/* `giltrace plot FILE -o OUT.svg`: the capture's GIL timeline as a picture. */
#include <argp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/capture_opts.h"
#include "cli/capture_source.h"
#include "cli/commands.h"
#include "cli/out_file.h"
#include "cli/parse.h"
#include "views/plot_raster.h"
#include "views/plot_svg.h"

struct plot_args {
	struct capture_opts cap;
	struct out_file_opts out;
	unsigned int width;
};

enum { OPT_WIDTH = 0x600 };

static const struct argp_option options[] = {
	{ "width", OPT_WIDTH, "PIXELS", 0, "Width of the time axis (default 1000)", 2 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct plot_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->cap;
		state->child_inputs[1] = &a->cap;
		state->child_inputs[2] = &a->out;
		break;
	case OPT_WIDTH:
		a->width = (unsigned int)parse__long(state, "--width", arg, 100, 20000);
		break;
	case ARGP_KEY_END:
		/* an SVG is for a file or a pipe, not for the screen */
		if (!a->out.path && isatty(STDOUT_FILENO))
			argp_error(state, "no output file: give -o OUT.svg or redirect stdout");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &capture_file_argp, 0, NULL, 0 },
	{ &capture_window_argp, 0, "What to draw:", 3 },
	{ &out_file_argp, 0, "Output:", 1 },
	{ 0 },
};

static const char doc[] =
	"Draw the GIL timeline of a capture made by giltrace record as an SVG: one lane per "
	"thread, green while it holds the GIL, red while it waits for it, grey while it runs "
	"without it, with marks for retries and forced releases.\v"
	"Examples:\n"
	"  giltrace plot app.gil -o app.svg\n"
	"  giltrace plot --from 1.5 --to 2 app.gil -o zoom.svg\n"
	"  giltrace plot app.gil | rsvg-convert -o app.png";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "FILE", .doc = doc, .children = children,
};

/* The first pass: the window's figures for the caption, and where the
 * capture ends, so the second pass can place every slice on the axis. */
struct first_pass {
	struct engine *eng;
	__u64 last_ts;
	__u32 tid;
};

static int first_pass_event(void *ctx, const struct gil_event *ev)
{
	struct first_pass *p = ctx;

	if (ev->kind != GIL_EV_DROPS && (!p->tid || ev->tid == p->tid) && ev->ts > p->last_ts)
		p->last_ts = ev->ts;
	engine__feed(p->eng, ev);
	return 0;
}

static void first_pass_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct first_pass *p = ctx;

	engine__name_thread(p->eng, tgid, tid, name);
}

static int first_pass(const struct plot_args *a, const struct engine_opts *eo,
		      struct first_pass *p)
{
	struct capture_sink sink = {
		.event = first_pass_event, .thread = first_pass_thread, .ctx = p,
		/* a damaged file is reported once, by the drawing pass */
		.quiet = true,
	};
	struct capture_reader *r = capture_source__open(a->cap.path);
	int ret;

	if (!r)
		return 1;
	p->tid = eo->tid;
	p->eng = engine__new(eo);
	if (!p->eng) {
		fprintf(stderr, "giltrace: out of memory\n");
		capture_reader__free(r);
		return 1;
	}
	ret = capture_source__drain(r, a->cap.path, &sink);
	capture_reader__free(r);
	return ret;
}

int cmd_plot(int argc, char **argv)
{
	struct plot_args a = { .cap = CAPTURE_OPTS_INIT, .width = 1000 };
	struct timeline_ops ops = plot_raster__timeline_ops();
	struct first_pass pass1 = { 0 };
	struct plot_raster *raster = NULL;
	struct capture_reader *r = NULL;
	struct engine_opts eo = { 0 }, all = { 0 };
	struct engine *eng = NULL;
	struct capture_sink sink;
	struct plot_view view;
	__u64 first, from, to;
	FILE *out = NULL;
	int ret = 1;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	r = capture_source__open(a.cap.path);
	if (!r)
		return 1;
	capture_opts__engine_opts(&a.cap, &eo, &first);
	if (first_pass(&a, &eo, &pass1))
		goto cleanup;
	from = eo.from_ts ? eo.from_ts : first;
	to = eo.to_ts && eo.to_ts < pass1.last_ts ? eo.to_ts : pass1.last_ts;
	if (!engine__nthreads(pass1.eng) || to <= from) {
		fprintf(stderr, "giltrace: nothing to plot: %s has no GIL events%s\n", a.cap.path,
			capture_opts__windowed(&a.cap) ? " in the window asked for" : "");
		goto cleanup;
	}

	/* The drawing pass sees the whole capture, so a thread's state at
	 * the window's left edge is known; the raster clips to the window. */
	all.tid = a.cap.tid;
	eng = engine__new(&all);
	raster = plot_raster__new(from, to, a.width);
	if (!eng || !raster) {
		fprintf(stderr, "giltrace: out of memory\n");
		goto cleanup;
	}
	engine__set_timeline(eng, &ops, raster);
	sink = capture_source__engine_sink(eng);
	if (capture_source__drain(r, a.cap.path, &sink))
		goto cleanup;
	engine__flush_timeline(eng);
	if (plot_raster__failed(raster)) {
		fprintf(stderr, "giltrace: out of memory\n");
		goto cleanup;
	}

	out = out_file__open(a.out.path, a.out.force);
	if (!out)
		goto cleanup;
	view = (struct plot_view){
		.raster = raster, .eng = pass1.eng, .meta = capture_reader__meta(r), .origin = first,
	};
	plot_svg__write(out, &view);
	ret = out_file__close(out, a.out.path);
cleanup:
	plot_raster__free(raster);
	engine__free(eng);
	engine__free(pass1.eng);
	capture_reader__free(r);
	return ret;
}
