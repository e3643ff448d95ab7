#include "views/plot_raster.h"

#include <stdlib.h>
#include <string.h>

struct lane_cells {
	float ns[TIMELINE__NSLICE]; /* ns in each state; float: only compared */
	__u32 marks[TIMELINE__NINSTANT];
};

struct plot_raster {
	__u64 from, to;
	unsigned int columns;
	double col_ns; /* ns one column covers */
	size_t nlanes;
	struct plot_lane *lanes;
	struct lane_cells *cells; /* nlanes * columns, lane-major */
	int failed;
};

struct plot_raster *plot_raster__new(__u64 from, __u64 to, unsigned int columns)
{
	struct plot_raster *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->from = from;
	r->to = to > from ? to : from + 1;
	r->columns = columns ? columns : 1;
	r->col_ns = (double)(r->to - r->from) / r->columns;
	return r;
}

void plot_raster__free(struct plot_raster *r)
{
	if (!r)
		return;
	free(r->lanes);
	free(r->cells);
	free(r);
}

/* Threads are few and appear once: a sorted array, binary search, and an
 * insertion that moves the lanes after it. */
static struct lane_cells *lane_of(struct plot_raster *r, const struct engine_thread *t)
{
	size_t lo = 0, hi = r->nlanes, cols = r->columns;
	struct plot_lane *lanes;
	struct lane_cells *cells;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct engine_thread *l = r->lanes[mid].thread;

		if (l->tgid == t->tgid && l->tid == t->tid)
			return &r->cells[mid * cols];
		if (l->tgid < t->tgid || (l->tgid == t->tgid && l->tid < t->tid))
			lo = mid + 1;
		else
			hi = mid;
	}
	lanes = realloc(r->lanes, (r->nlanes + 1) * sizeof(*lanes));
	if (lanes)
		r->lanes = lanes;
	cells = lanes ? realloc(r->cells, (r->nlanes + 1) * cols * sizeof(*cells)) : NULL;
	if (!cells) {
		r->failed = 1;
		return NULL;
	}
	r->cells = cells;
	memmove(&lanes[lo + 1], &lanes[lo], (r->nlanes - lo) * sizeof(*lanes));
	memmove(&cells[(lo + 1) * cols], &cells[lo * cols], (r->nlanes - lo) * cols * sizeof(*cells));
	memset(&cells[lo * cols], 0, cols * sizeof(*cells));
	lanes[lo].thread = t;
	r->nlanes++;
	return &cells[lo * cols];
}

static void on_slice(void *ctx, const struct timeline_slice *s)
{
	struct plot_raster *r = ctx;
	struct lane_cells *cells = lane_of(r, s->thread);
	__u64 start = s->start > r->from ? s->start : r->from;
	__u64 end = s->end < r->to ? s->end : r->to;
	double a, b;
	unsigned int c;

	if (!cells || end <= start)
		return;
	/* after its last release a thread may have run, blocked or exited:
	 * left blank, as the events say nothing more */
	if (s->kind == TIMELINE_RUN && (s->flags & TIMELINE_CUT))
		return;
	a = (double)(start - r->from) / r->col_ns;
	b = (double)(end - r->from) / r->col_ns;
	for (c = (unsigned int)a; c < r->columns && c < b; c++) {
		double lo = a > c ? a : c, hi = b < c + 1 ? b : c + 1;

		cells[c].ns[s->kind] += (float)((hi - lo) * r->col_ns);
	}
}

static void on_instant(void *ctx, const struct timeline_instant *i)
{
	struct plot_raster *r = ctx;
	struct lane_cells *cells = lane_of(r, i->thread);
	unsigned int c;

	if (!cells || i->ts < r->from || i->ts > r->to)
		return;
	c = (unsigned int)((double)(i->ts - r->from) / r->col_ns);
	if (c >= r->columns)
		c = r->columns - 1;
	cells[c].marks[i->kind]++;
}

struct timeline_ops plot_raster__timeline_ops(void)
{
	struct timeline_ops ops = { .slice = on_slice, .instant = on_instant };

	return ops;
}

int plot_raster__failed(const struct plot_raster *r)
{
	return r->failed;
}

size_t plot_raster__nlanes(const struct plot_raster *r)
{
	return r->nlanes;
}

const struct plot_lane *plot_raster__lane(const struct plot_raster *r, size_t lane)
{
	return &r->lanes[lane];
}

unsigned int plot_raster__columns(const struct plot_raster *r)
{
	return r->columns;
}

__u64 plot_raster__from(const struct plot_raster *r)
{
	return r->from;
}

__u64 plot_raster__to(const struct plot_raster *r)
{
	return r->to;
}

int plot_raster__state(const struct plot_raster *r, size_t lane, unsigned int col)
{
	const struct lane_cells *c = &r->cells[lane * r->columns + col];
	int k, best = -1;
	float max = 0;

	for (k = 0; k < TIMELINE__NSLICE; k++)
		if (c->ns[k] > max) {
			max = c->ns[k];
			best = k;
		}
	return best;
}

__u32 plot_raster__marks(const struct plot_raster *r, size_t lane,
			 enum timeline_instant_kind k, unsigned int col)
{
	return r->cells[lane * r->columns + col].marks[k];
}
