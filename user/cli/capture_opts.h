/*
 * The arguments every command that reads a capture shares, as argp child
 * parsers: the capture FILE, and the window (--from, --to, --tid) for those
 * that can narrow it. The parent points state->child_inputs[i] of each
 * child at the same struct capture_opts at ARGP_KEY_INIT.
 */
#ifndef GILTRACE_CAPTURE_OPTS_H
#define GILTRACE_CAPTURE_OPTS_H

#include <argp.h>
#include <stdbool.h>
#include <linux/types.h>

#include "engine/engine.h"

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
/* The window as engine options; *first_ts (if not NULL) gets the first
 * event's time, the origin of --from and --to (0 in an empty capture). */
void capture_opts__engine_opts(const struct capture_opts *o, struct engine_opts *eo,
			       __u64 *first_ts);

#endif
