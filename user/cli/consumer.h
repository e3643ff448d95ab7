/*
 * Where live events go: the engine (summary, top), a capture file (record),
 * or both, fed in one pass so that a recorded run's live summary and the
 * report of its capture see the very same stream.
 */
#ifndef GILTRACE_CONSUMER_H
#define GILTRACE_CONSUMER_H

#include <stdbool.h>

#include "capture/writer.h"
#include "engine/engine.h"
#include "run/live.h"
#include "blame/stack_table.h"

struct consumer {
	struct engine *eng;              /* NULL: no live accounting */
	const char *path;                /* NULL: no capture */
	int capture_flags;               /* CAPTURE_WRITER_FORCE */
	struct capture_writer_opts wopts;
	struct capture_writer *w;        /* open between on_start and close */
	struct trace_meta meta;
	int write_err;                   /* first capture error, -errno */
	bool summary, json;              /* print the summary at the end */
	struct stack_table *stacks;      /* blame: resolved stacks; NULL without */
	int end_ret;                     /* exit status of the end of the run */
};

/* A live_sink whose callbacks feed c (input_fd -1, ticks every second
 * to flush the capture); at the end of the run it closes the capture and
 * prints the summary if asked, setting c->end_ret. */
struct live_sink consumer__sink(struct consumer *c);
/* Closes the capture, if any, and prints what it holds on stderr;
 * returns 0 or 1 after a one-line error. */
int consumer__finish(struct consumer *c, unsigned long long drops);

/* Prints the engine's summary on stdout, as text or JSON; 0, or 1 when
 * stdout could not take it (a closed pipe ends quietly). */
int consumer__print_summary(const struct consumer *c, bool json);

#endif
