/*
 * Drawing only: the raster says each column's state and marks, this file
 * turns runs of equal columns into rectangles, so the SVG's size is bounded
 * by lanes x pixels whatever the trace's length.
 */
#include "views/plot_svg.h"

#include <errno.h>
#include <math.h>

#include "views/format.h"

#define LEFT 190      /* lane labels */
#define RIGHT 30
#define TOP 96        /* title, caption, legend */
#define LANE_H 22
#define LANE_GAP 8
#define MARK_H 7
#define AXIS_H 52
#define TICK_PX 110   /* aim for a tick every this many pixels */

static const char *const slice_colour[TIMELINE__NSLICE] = {
	[TIMELINE_HOLD] = "#2ca02c",
	[TIMELINE_WAIT] = "#d62728",
	[TIMELINE_RUN] = "#d9d9d9",
};

static const char *const legend_text[TIMELINE__NSLICE] = {
	[TIMELINE_HOLD] = "holding the GIL",
	[TIMELINE_WAIT] = "waiting for the GIL",
	[TIMELINE_RUN] = "running without the GIL",
};

#define RETRY_COLOUR "#000000"
#define FORCED_COLOUR "#1f4fd0"

/* Text from the target (thread and command names) as XML character data. */
static void put_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '&')
			fputs("&amp;", out);
		else if (ch == '<')
			fputs("&lt;", out);
		else if (ch == '>')
			fputs("&gt;", out);
		else if (ch == '"')
			fputs("&quot;", out);
		else if (ch < 0x20 || ch == 0x7f)
			fputc('?', out);
		else
			fputc(ch, out);
	}
}

static int lane_y(size_t lane)
{
	return TOP + (int)lane * (LANE_H + LANE_GAP);
}

static void header(FILE *out, const struct plot_view *v, int width, int height)
{
	const struct trace_meta *m = v->meta;
	struct engine_totals tot;
	char shown[FORMAT_LEN], total[FORMAT_LEN], acq[FORMAT_LEN], sw[FORMAT_LEN];
	char rt[FORMAT_LEN], fr[FORMAT_LEN];
	__u64 from = plot_raster__from(v->raster), to = plot_raster__to(v->raster);

	engine__totals(v->eng, &tot);
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
		"font-size=\"12\">\n", width, height, width, height);
	fputs("<title>GIL timeline", out);
	if (m && m->comm[0]) {
		fputs(" of ", out);
		put_text(out, m->comm);
	}
	fputs("</title>\n", out);
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);

	fputs("<text x=\"12\" y=\"22\" font-size=\"15\" font-weight=\"bold\">GIL timeline", out);
	if (m && m->comm[0]) {
		fputs(": ", out);
		put_text(out, m->comm);
		fprintf(out, " (pid %u", m->pid);
		if (m->runtime[0]) {
			fputs(", ", out);
			put_text(out, m->runtime);
			fputc(' ', out);
			put_text(out, m->version);
		}
		fputc(')', out);
	}
	fputs("</text>\n", out);

	format__duration(shown, sizeof(shown), (double)(to - from));
	format__duration(total, sizeof(total), (double)tot.duration_ns);
	format__count(acq, sizeof(acq), (double)tot.c.acquisitions);
	format__count(sw, sizeof(sw), (double)tot.switches);
	format__count(rt, sizeof(rt), (double)tot.c.retries);
	format__count(fr, sizeof(fr), (double)tot.c.forced_switches);
	fprintf(out, "<text x=\"12\" y=\"42\" fill=\"#444444\">%s shown; %s acquisitions, "
		"%s switches, %s retries, %s forced releases, %llu events lost to drops</text>\n",
		shown, acq, sw, rt, fr, (unsigned long long)tot.drops);
}

static void legend(FILE *out)
{
	int x = 12, y = 58, k;

	for (k = 0; k < TIMELINE__NSLICE; k++) {
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\" "
			"stroke=\"#888888\" stroke-width=\"0.5\"/>"
			"<text x=\"%d\" y=\"%d\">%s</text>\n", x, y, slice_colour[k], x + 19, y + 11,
			legend_text[k]);
		x += 200;
	}
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"#d62728\"/>"
		"<rect x=\"%d\" y=\"%d\" width=\"2\" height=\"%d\" fill=\"%s\"/>"
		"<text x=\"%d\" y=\"%d\">retry: woken, but the GIL was taken again</text>\n",
		x, y, x + 6, y, MARK_H, RETRY_COLOUR, x + 19, y + 11);
	x += 285;
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"#2ca02c\"/>"
		"<rect x=\"%d\" y=\"%d\" width=\"2\" height=\"%d\" fill=\"%s\"/>"
		"<text x=\"%d\" y=\"%d\">forced release</text>\n",
		x, y, x + 6, y + 14 - MARK_H, MARK_H, FORCED_COLOUR, x + 19, y + 11);
}

/* Runs of columns with one state become one rectangle each. */
static void lane_slices(FILE *out, const struct plot_raster *r, size_t lane, int y)
{
	unsigned int cols = plot_raster__columns(r), c = 0;

	while (c < cols) {
		int s = plot_raster__state(r, lane, c);
		unsigned int end = c + 1;

		while (end < cols && plot_raster__state(r, lane, end) == s)
			end++;
		if (s >= 0)
			fprintf(out, "<rect x=\"%u\" y=\"%d\" width=\"%u\" height=\"%d\" "
				"fill=\"%s\"/>\n", LEFT + c, y, end - c, LANE_H, slice_colour[s]);
		c = end;
	}
}

static void lane_marks(FILE *out, const struct plot_raster *r, size_t lane,
		       enum timeline_instant_kind k, int y, const char *colour)
{
	unsigned int cols = plot_raster__columns(r), c = 0;

	while (c < cols) {
		unsigned int end;

		if (!plot_raster__marks(r, lane, k, c)) {
			c++;
			continue;
		}
		for (end = c + 1; end < cols && plot_raster__marks(r, lane, k, end); end++)
			;
		/* at least 2 px wide: one retry in a wide trace stays visible */
		fprintf(out, "<rect x=\"%u\" y=\"%d\" width=\"%u\" height=\"%d\" fill=\"%s\"/>\n",
			LEFT + c, y, end - c > 1 ? end - c : 2, MARK_H, colour);
		c = end;
	}
}

static void lanes(FILE *out, const struct plot_raster *r)
{
	unsigned int cols = plot_raster__columns(r);
	size_t i, n = plot_raster__nlanes(r);

	for (i = 0; i < n; i++) {
		const struct engine_thread *l = plot_raster__lane(r, i)->thread;
		int y = lane_y(i);

		fprintf(out, "<g class=\"lane\" data-tid=\"%u\">\n<title>tid %u", l->tid, l->tid);
		if (l->name[0]) {
			fputc(' ', out);
			put_text(out, l->name);
		}
		fprintf(out, " (pid %u)</title>\n", l->tgid);
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">"
			"<tspan font-weight=\"bold\">%u</tspan> ", LEFT - 8, y + LANE_H / 2 + 4, l->tid);
		put_text(out, l->name[0] ? l->name : "(unnamed)");
		fputs("</text>\n", out);
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%u\" height=\"%d\" fill=\"#fafafa\" "
			"stroke=\"#cccccc\" stroke-width=\"0.5\"/>\n", LEFT, y, cols, LANE_H);
		lane_slices(out, r, i, y);
		lane_marks(out, r, i, TIMELINE_RETRY, y, RETRY_COLOUR);
		lane_marks(out, r, i, TIMELINE_FORCED_RELEASE, y + LANE_H - MARK_H, FORCED_COLOUR);
		fputs("</g>\n", out);
	}
}

/* 1, 2 or 5 times a power of ten, at least raw. */
static double nice_step(double raw)
{
	double p = pow(10, floor(log10(raw)));

	if (raw <= p)
		return p;
	if (raw <= 2 * p)
		return 2 * p;
	if (raw <= 5 * p)
		return 5 * p;
	return 10 * p;
}

/* The unit fits the largest time shown; the decimals, the step. */
static void tick_label(char *buf, size_t len, double t_ns, double step, double end_ns)
{
	static const struct { double ns; const char *name; } units[] = {
		{ 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" }, { 1, "ns" },
	};
	size_t u = 0;
	int decimals;

	if (fabs(t_ns) < step / 2) {
		snprintf(buf, len, "0");
		return;
	}
	while (u + 1 < sizeof(units) / sizeof(units[0]) && end_ns < units[u].ns)
		u++;
	decimals = (int)ceil(-log10(step / units[u].ns) - 1e-9);
	if (decimals < 0)
		decimals = 0;
	snprintf(buf, len, "%.*f %s", decimals, t_ns / units[u].ns, units[u].name);
}

static void axis(FILE *out, const struct plot_view *v, int y_top, int y)
{
	const struct plot_raster *r = v->raster;
	unsigned int cols = plot_raster__columns(r);
	double t0 = (double)(plot_raster__from(r) - v->origin);
	double t1 = (double)(plot_raster__to(r) - v->origin);
	double px_per_ns = cols / (t1 - t0);
	double step = nice_step((t1 - t0) / (cols / (double)TICK_PX > 1 ? cols / (double)TICK_PX : 1));
	double t;

	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%u\" y2=\"%d\" stroke=\"#333333\"/>\n", LEFT,
		y, LEFT + cols, y);
	for (t = ceil(t0 / step) * step; t <= t1 + step * 1e-9; t += step) {
		double x = LEFT + (t - t0) * px_per_ns;
		char label[32];

		tick_label(label, sizeof(label), t, step, t1);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e0e0e0\"/>"
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333333\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, y_top, x, y,
			x, y, x, y + 5, x, y + 18, label);
	}
	fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#444444\">"
		"time since the first event of the capture</text>\n", LEFT + cols / 2.0, y + 38);
}

int plot_svg__write(FILE *out, const struct plot_view *v)
{
	size_t n = plot_raster__nlanes(v->raster);
	unsigned int cols = plot_raster__columns(v->raster);
	int y_axis = lane_y(n) + 2;
	int width = LEFT + (int)cols + RIGHT, height = y_axis + AXIS_H;

	header(out, v, width, height);
	legend(out);
	/* the grid goes under the lanes */
	axis(out, v, TOP - 4, y_axis);
	lanes(out, v->raster);
	fputs("</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}
