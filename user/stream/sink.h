/*
 * The one interface every event stream flows through. A source (the live
 * trace in user/run/live.c, a capture file in file_source.c) calls a sink;
 * a sink accounts (engine_sink.c), records (writer_sink.c), splits by
 * process (proc_demux.c), narrows (window.c) or fans out (tee.c). Every
 * callback is optional, so a sink implements only what it uses.
 */
#ifndef GILTRACE_STREAM_SINK_H
#define GILTRACE_STREAM_SINK_H

#include <stddef.h>
#include <linux/types.h>

#include "giltrace.h"
#include "trace_meta.h"
#include "blame/stack_table.h"

struct stream_sink {
	/* Once, before any other call: the first target (live) or the
	 * capture header (file). Non-zero stops the source before it starts,
	 * with a one-line reason in err. */
	int (*start)(void *ctx, const struct trace_meta *meta, char *err, size_t errlen);
	/* Every event in stream order; non-zero stops the source. */
	int (*event)(void *ctx, const struct gil_event *ev);
	/* A thread's name: before its first event, again when it changes. */
	void (*thread)(void *ctx, __u32 tgid, __u32 tid, const char *name);
	/* Blame: a resolved holder stack, before the first HOLDER_STACK
	 * event that names it. frames are valid during the call only. */
	void (*stack)(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		      const struct blame_frame *frames, unsigned int nframes);
	/* Live: a process is traced from now on (before its first event). */
	void (*target)(void *ctx, const struct trace_meta *meta);
	/* Live: a traced process exited, after its last event. */
	void (*target_exit)(void *ctx, __u32 pid);
	void *ctx;
};

/* The calls a source makes, each skipped when the sink leaves it NULL. */
static inline int stream_sink__start(const struct stream_sink *s, const struct trace_meta *meta,
				     char *err, size_t errlen)
{
	return s->start ? s->start(s->ctx, meta, err, errlen) : 0;
}

static inline int stream_sink__event(const struct stream_sink *s, const struct gil_event *ev)
{
	return s->event ? s->event(s->ctx, ev) : 0;
}

static inline void stream_sink__thread(const struct stream_sink *s, __u32 tgid, __u32 tid,
				       const char *name)
{
	if (s->thread)
		s->thread(s->ctx, tgid, tid, name);
}

static inline void stream_sink__stack(const struct stream_sink *s, __u32 tgid, __u64 id,
				      __u32 flags, const struct blame_frame *frames,
				      unsigned int nframes)
{
	if (s->stack)
		s->stack(s->ctx, tgid, id, flags, frames, nframes);
}

static inline void stream_sink__target(const struct stream_sink *s, const struct trace_meta *meta)
{
	if (s->target)
		s->target(s->ctx, meta);
}

static inline void stream_sink__target_exit(const struct stream_sink *s, __u32 pid)
{
	if (s->target_exit)
		s->target_exit(s->ctx, pid);
}

#endif
