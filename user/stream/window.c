#include "stream/window.h"

static __u64 edge(__u64 first_ts, double s)
{
	return s < 0 ? 0 : first_ts + (__u64)(s * 1e9);
}

static int on_start(void *ctx, const struct trace_meta *meta, char *err, size_t errlen)
{
	struct stream_window *w = ctx;

	return stream_sink__start(&w->next, meta, err, errlen);
}

static int on_event(void *ctx, const struct gil_event *ev)
{
	struct stream_window *w = ctx;

	if (!w->started) {
		w->started = true;
		w->first_ts = ev->ts;
		w->from_ts = edge(ev->ts, w->from_s);
		w->to_ts = edge(ev->ts, w->to_s);
	}
	/* Drops and type names are facts, not moments: every window keeps them. */
	if (ev->kind != GIL_EV_DROPS && ev->kind != GIL_EV_LOCK_TYPE && ((w->from_ts && ev->ts < w->from_ts) ||
					 (w->to_ts && ev->ts > w->to_ts)))
		return 0;
	return stream_sink__event(&w->next, ev);
}

static void on_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct stream_window *w = ctx;

	stream_sink__thread(&w->next, tgid, tid, name);
}

static void on_stack(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		     const struct blame_frame *frames, unsigned int nframes)
{
	struct stream_window *w = ctx;

	stream_sink__stack(&w->next, tgid, id, flags, frames, nframes);
}

struct stream_sink stream_window__sink(struct stream_window *w)
{
	struct stream_sink s = {
		.start = on_start, .event = on_event, .thread = on_thread, .stack = on_stack,
		.ctx = w,
	};

	return s;
}
