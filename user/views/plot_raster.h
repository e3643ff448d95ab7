/*
 * The timeline on a pixel grid, for the plot: each thread is a lane of
 * columns, each column the time one pixel covers, holding how long the
 * thread held, waited and ran in it and how many retries and forced
 * releases fell in it. A column shows its dominant state, so a trace of
 * hours costs the same to draw as one of a second.
 */
#ifndef GILTRACE_PLOT_RASTER_H
#define GILTRACE_PLOT_RASTER_H

#include <stddef.h>
#include <linux/types.h>

#include "engine/timeline.h"

struct plot_raster;

struct plot_lane {
	const struct engine_thread *thread; /* the feeding engine's: valid while it lives */
};

/* columns pixels across [from, to]; a lane for each thread the timeline
 * shows, in (tgid, tid) order, whether or not its slices reach the span. */
struct plot_raster *plot_raster__new(__u64 from, __u64 to, unsigned int columns);
void plot_raster__free(struct plot_raster *r);

/* Callbacks that draw the timeline into r (ctx = r). Out of memory for
 * a new lane, that thread is left out and plot_raster__failed() says so. */
struct timeline_ops plot_raster__timeline_ops(void);

int plot_raster__failed(const struct plot_raster *r);
size_t plot_raster__nlanes(const struct plot_raster *r);
const struct plot_lane *plot_raster__lane(const struct plot_raster *r, size_t lane);
unsigned int plot_raster__columns(const struct plot_raster *r);
__u64 plot_raster__from(const struct plot_raster *r);
__u64 plot_raster__to(const struct plot_raster *r);

/* The state the thread spent most of column col in; -1: no slice there. */
int plot_raster__state(const struct plot_raster *r, size_t lane, unsigned int col);
/* Instants of kind k in column col. */
__u32 plot_raster__marks(const struct plot_raster *r, size_t lane,
			 enum timeline_instant_kind k, unsigned int col);

#endif
