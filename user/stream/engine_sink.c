#include "stream/engine_sink.h"

static int on_start(void *ctx, const struct trace_meta *meta, char *err, size_t errlen)
{
	struct engine_sink *es = ctx;

	(void)err;
	(void)errlen;
	es->meta = *meta;
	return 0;
}

static int on_event(void *ctx, const struct gil_event *ev)
{
	struct engine_sink *es = ctx;

	engine__feed(es->eng, ev);
	return 0;
}

static void on_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct engine_sink *es = ctx;

	engine__name_thread(es->eng, tgid, tid, name);
}

static void on_stack(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		     const struct blame_frame *frames, unsigned int nframes)
{
	struct engine_sink *es = ctx;

	/* One-frame stacks name HOLDER_FRAME samples, which every summary uses. */
	if (nframes == 1)
		engine__name_code(es->eng, tgid, id, frames[0].name, frames[0].file,
				  frames[0].line);
	if (es->stacks)
		stack_table__add(es->stacks, tgid, id, flags, frames, nframes);
}

struct stream_sink engine_sink__sink(struct engine_sink *es)
{
	struct stream_sink s = {
		.start = on_start, .event = on_event, .thread = on_thread, .stack = on_stack,
		.ctx = es,
	};

	return s;
}
