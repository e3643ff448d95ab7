/*
 * A sink that splits the stream by process (serve): one engine for each
 * traced process, made when it is announced and freed when it exits, so a
 * process that goes takes its memory along. Drops carry no process and are
 * summed apart.
 */
#ifndef GILTRACE_STREAM_PROC_DEMUX_H
#define GILTRACE_STREAM_PROC_DEMUX_H

#include <stddef.h>

#include "engine/engine.h"
#include "stream/sink.h"

struct demux_proc {
	struct trace_meta meta;
	struct engine *eng;
};

struct proc_demux {
	struct demux_proc *procs;
	size_t n, cap;
	size_t last;                /* index of the last event's process */
	unsigned long long drops;
	int err;                    /* first -ENOMEM; also stops the source */
};

/* The sink that feeds d (ctx = d). */
struct stream_sink proc_demux__sink(struct proc_demux *d);

/* Frees every process's engine and the table. */
void proc_demux__free(struct proc_demux *d);

#endif
