/* `giltrace plot FILE -o OUT.svg`: the capture's GIL timeline as a picture. */
#include <argp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/capture_opts.h"
#include "cli/commands.h"
#include "cli/out_file.h"
#include "cli/parse.h"
#include "stream/engine_sink.h"
#include "stream/file_source.h"
#include "stream/tee.h"
#include "stream/window.h"
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
	"  giltrace plot app.gil | rsvg-convert -o app.png\n"
	"  ssh host cat app.gil | giltrace plot - -o app.svg";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "FILE", .doc = doc, .children = children,
};

/* Where the drawn threads' events end, over the whole capture: the right
 * edge of the axis when --to does not come first. */
struct last_ts {
	__u64 ts;
	__u32 tid;
};

static int track_last(void *ctx, const struct gil_event *ev)
{
	struct last_ts *l = ctx;

	if (ev->kind != GIL_EV_DROPS && (!l->tid || ev->tid == l->tid) && ev->ts > l->ts)
		l->ts = ev->ts;
	return 0;
}

/*
 * The first pass: the window's figures for the caption, the first event
 * (the axis origin) and where the capture ends. The axis must be known
 * before the drawing pass places a slice on it, so plot reads the capture
 * twice (file_source__rewind() keeps a copy of a pipe).
 */
static int first_pass(struct file_source *src, const struct capture_opts *cap,
		      struct engine_sink *es, struct stream_window *window, struct last_ts *last)
{
	struct stream_sink engine = engine_sink__sink(es), track = { .event = track_last,
								     .ctx = last };
	struct stream_tee tee = { 0 };
	struct stream_sink sink;

	/* capture -> [window -> engine (caption), last event (axis)] */
	*window = capture_opts__window(cap, &engine);
	sink = stream_window__sink(window);
	stream_tee__add(&tee, &sink);
	stream_tee__add(&tee, &track);
	sink = stream_tee__sink(&tee);
	/* a damaged file is reported once, by the drawing pass */
	return file_source__run(src, &sink, true);
}

int cmd_plot(int argc, char **argv)
{
	struct plot_args a = { .cap = CAPTURE_OPTS_INIT, .width = 1000 };
	struct timeline_ops ops = plot_raster__timeline_ops();
	struct engine_sink pass1 = { 0 }, draw = { 0 };
	struct plot_raster *raster = NULL;
	struct stream_window window;
	struct file_source *src;
	struct last_ts last;
	struct stream_sink sink;
	struct plot_view view;
	__u64 from, to;
	FILE *out = NULL;
	int ret = 1;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	src = file_source__open(a.cap.path, FILE_SOURCE_REWIND);
	if (!src)
		return 1;
	last = (struct last_ts){ .tid = a.cap.tid };
	pass1.eng = engine__new(&(struct engine_opts){ .tid = a.cap.tid });
	if (!pass1.eng) {
		fprintf(stderr, "giltrace: out of memory\n");
		goto cleanup;
	}
	if (first_pass(src, &a.cap, &pass1, &window, &last) ||
	    capture_opts__check_matched(&a.cap, pass1.eng, file_source__name(src)))
		goto cleanup;
	from = window.from_ts ? window.from_ts : window.first_ts;
	to = window.to_ts && window.to_ts < last.ts ? window.to_ts : last.ts;
	if (!engine__nthreads(pass1.eng) || to <= from) {
		fprintf(stderr, "giltrace: nothing to plot: %s has no GIL events%s\n",
			file_source__name(src),
			capture_opts__windowed(&a.cap) ? " in the window asked for" : "");
		goto cleanup;
	}

	/* The drawing pass sees the whole capture, so a thread's state at
	 * the window's left edge is known; the raster clips to the window. */
	draw.eng = engine__new(&(struct engine_opts){ .tid = a.cap.tid });
	raster = plot_raster__new(from, to, a.width);
	if (!draw.eng || !raster) {
		fprintf(stderr, "giltrace: out of memory\n");
		goto cleanup;
	}
	engine__set_timeline(draw.eng, &ops, raster);
	sink = engine_sink__sink(&draw);
	if (file_source__rewind(src) || file_source__run(src, &sink, false))
		goto cleanup;
	engine__flush_timeline(draw.eng);
	if (plot_raster__failed(raster)) {
		fprintf(stderr, "giltrace: out of memory\n");
		goto cleanup;
	}

	out = out_file__open(a.out.path, a.out.force);
	if (!out)
		goto cleanup;
	view = (struct plot_view){
		.raster = raster, .eng = pass1.eng, .meta = file_source__meta(src),
		.origin = window.first_ts,
	};
	plot_svg__write(out, &view);
	ret = out_file__close(out, a.out.path);
cleanup:
	plot_raster__free(raster);
	engine__free(draw.eng);
	engine__free(pass1.eng);
	file_source__free(src);
	return ret;
}
