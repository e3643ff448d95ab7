/*
 * The engine as a sink: events through engine__feed(), thread names through
 * engine__name_thread(), blame stacks into a stack table for the views, and
 * the stream's meta kept for them. Every command that accounts feeds the
 * engine through here, live or from a capture.
 */
#ifndef GILTRACE_STREAM_ENGINE_SINK_H
#define GILTRACE_STREAM_ENGINE_SINK_H

#include "engine/engine.h"
#include "stream/sink.h"

struct engine_sink {
	struct engine *eng;
	struct stack_table *stacks; /* NULL: stack records are not kept */
	struct trace_meta meta;     /* from start() */
};

/* The sink that feeds es (ctx = es). */
struct stream_sink engine_sink__sink(struct engine_sink *es);

#endif
