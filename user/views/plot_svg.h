/*
 * The GIL timeline as one self-contained SVG (no scripts, no fonts to
 * fetch), after the plots in Beazley's "Understanding the Python GIL": time
 * across, one lane per thread, green while it holds the GIL, red while it
 * waits, light grey while it runs without it; ticks for failed wake-ups
 * (retries) and forced releases; a legend and a time axis.
 */
#ifndef GILTRACE_PLOT_SVG_H
#define GILTRACE_PLOT_SVG_H

#include <stdio.h>
#include <linux/types.h>

#include "engine/engine.h"
#include "trace_meta.h"
#include "views/plot_raster.h"

struct plot_view {
	const struct plot_raster *raster;
	const struct engine *eng;     /* totals for the caption */
	const struct trace_meta *meta; /* NULL: no target line */
	__u64 origin;                  /* ts the time axis counts from */
};

/* Returns 0 or -EIO. */
int plot_svg__write(FILE *out, const struct plot_view *v);

#endif
