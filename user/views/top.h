/*
 * The live top view: what both renderers (ncurses, plain lines) show. The
 * engine's interval figures (engine__tick()) are the numbers; this layer
 * only picks the rows and puts them in the order the user asked for.
 */
#ifndef GILTRACE_TOP_H
#define GILTRACE_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "engine/diagnose.h"
#include "engine/engine.h"
#include "trace_meta.h"
#include "blame/stack_table.h"

/* Row orders: numbers descending, TID and name ascending. */
enum top_sort {
	TOP_SORT_HOLD,
	TOP_SORT_WAIT,
	TOP_SORT_ACQ,
	TOP_SORT_MEAN,
	TOP_SORT_MAX,
	TOP_SORT_RETRIES,
	TOP_SORT_FORCED,
	TOP_SORT_TID,
	TOP_SORT_NAME,
	TOP_SORT__COUNT,
};

/* Everything one frame shows; the engine is the last tick's snapshot. */
struct top_frame {
	const struct engine *eng;
	const struct trace_meta *meta;
	__u64 elapsed_ns;     /* wall time since tracing started */
	int interval_ms;      /* the refresh interval asked for (-i, +/-) */
	enum top_sort sort;
	bool paused;
	bool ended;           /* the run is over: this is the final frame */
	const char *end_reason; /* "target exited", ... when ended */
	const struct stack_table *stacks; /* with --blame: the holders' stacks */
};

/* The --sort name of a key ("hold", "wait", ...) and back; -1 if unknown. */
const char *top_sort__name(enum top_sort sort);
int top_sort__parse(const char *name);
/* Comma-separated list of every --sort name, for --help and errors. */
const char *top_sort__names(void);

/* The engine's threads in the frame's order: fills *rows (malloc'd, caller
 * frees) and returns how many; 0 with *rows NULL when there are none. */
size_t top_rows__collect(const struct top_frame *f, const struct engine_thread ***rows);

/* With --blame, for the thread holding its process's GIL: "func (file:line)"
 * of the stack it was last seen holding it in; false for every other thread
 * or without blame. */
bool top_rows__holding_now(const struct top_frame *f, const struct engine_thread *t, char *buf,
			   size_t len);

/* "HOLD", "WAIT", ...: format__state() in four letters. */
const char *top_state__short(enum thread_state state);

/* The pathologies of the last interval (diagnose.h), most severe first. */
size_t top_diagnoses(const struct top_frame *f, struct diagnosis *out, size_t cap);

#endif
