#include "stream/tee.h"

void stream_tee__add(struct stream_tee *t, const struct stream_sink *s)
{
	if (t->n < TEE_MAX)
		t->to[t->n++] = *s;
}

static int tee_start(void *ctx, const struct trace_meta *meta, char *err, size_t errlen)
{
	struct stream_tee *t = ctx;
	int ret = 0;

	for (unsigned int i = 0; i < t->n && !ret; i++)
		ret = stream_sink__start(&t->to[i], meta, err, errlen);
	return ret;
}

static int tee_event(void *ctx, const struct gil_event *ev)
{
	struct stream_tee *t = ctx;
	int ret = 0;

	for (unsigned int i = 0; i < t->n && !ret; i++)
		ret = stream_sink__event(&t->to[i], ev);
	return ret;
}

static void tee_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct stream_tee *t = ctx;

	for (unsigned int i = 0; i < t->n; i++)
		stream_sink__thread(&t->to[i], tgid, tid, name);
}

static void tee_stack(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		      const struct blame_frame *frames, unsigned int nframes)
{
	struct stream_tee *t = ctx;

	for (unsigned int i = 0; i < t->n; i++)
		stream_sink__stack(&t->to[i], tgid, id, flags, frames, nframes);
}

static void tee_target(void *ctx, const struct trace_meta *meta)
{
	struct stream_tee *t = ctx;

	for (unsigned int i = 0; i < t->n; i++)
		stream_sink__target(&t->to[i], meta);
}

static void tee_target_exit(void *ctx, __u32 pid)
{
	struct stream_tee *t = ctx;

	for (unsigned int i = 0; i < t->n; i++)
		stream_sink__target_exit(&t->to[i], pid);
}

struct stream_sink stream_tee__sink(struct stream_tee *t)
{
	struct stream_sink s = {
		.start = tee_start, .event = tee_event, .thread = tee_thread, .stack = tee_stack,
		.target = tee_target, .target_exit = tee_target_exit, .ctx = t,
	};

	return s;
}
