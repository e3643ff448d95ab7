/*
 * --from/--to as a sink in front of another: the window's origin is the
 * stream's first event, so its edges are known when that event arrives and
 * a capture is read once, also from a pipe. Events outside the window are
 * not passed on; drops always are, so a report still says what it lost.
 */
#ifndef GILTRACE_STREAM_WINDOW_H
#define GILTRACE_STREAM_WINDOW_H

#include <stdbool.h>

#include "stream/sink.h"

struct stream_window {
	double from_s, to_s;    /* seconds after the first event; < 0: unbounded */
	struct stream_sink next;
	/* Set at the first event. */
	bool started;
	__u64 first_ts;         /* the origin: the first event's ts, any kind */
	__u64 from_ts, to_ts;   /* absolute edges, inclusive; 0: unbounded */
};

/* The sink that narrows the stream to w->next (ctx = w). */
struct stream_sink stream_window__sink(struct stream_window *w);

#endif
