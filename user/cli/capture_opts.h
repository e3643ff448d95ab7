/*
 * The arguments every command that reads a capture shares, as argp child
 * parsers: the capture FILE ("-": standard input), and the window (--from,
 * --to, --tid) for those that can narrow it. The parent points state->child_inputs[i] of each
 * child at the same struct capture_opts at ARGP_KEY_INIT.
 */
#ifndef GILTRACE_CAPTURE_OPTS_H
#define GILTRACE_CAPTURE_OPTS_H

#include <argp.h>
#include <stdbool.h>
#include <linux/types.h>

#include "engine/engine.h"
#include "stream/window.h"

struct capture_opts {
	const char *path;
	double from_s, to_s; /* seconds from the first event; < 0: unbounded */
	__u32 tid;           /* 0: every thread */
};

#define CAPTURE_OPTS_INIT { .from_s = -1, .to_s = -1 }

/* FILE: exactly one capture file. */
extern const struct argp capture_file_argp;
/* --from, --to, --tid. */
extern const struct argp capture_window_argp;

/* Whether a window narrower than the whole capture was asked for. */
bool capture_opts__windowed(const struct capture_opts *o);
/* --from and --to as a sink in front of next; --tid is the engine's own
 * filter (engine_opts.tid). */
struct stream_window capture_opts__window(const struct capture_opts *o,
					  const struct stream_sink *next);
/* 0 when the engine counted an event or no window was asked for; else 1
 * after "giltrace: no events match --tid 99999 in FILE": an empty summary
 * would look like an idle process. */
int capture_opts__check_matched(const struct capture_opts *o, const struct engine *eng,
				const char *name);

#endif
