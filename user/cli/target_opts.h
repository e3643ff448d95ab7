/*
 * The options every live sub-command shares (-p, --all, --comm, --exe, -d,
 * -v, --btf, --as-root, -- CMD), as one argp child parser, so trace,
 * record, top and serve parse them the same way and document them once.
 */
#ifndef GILTRACE_TARGET_OPTS_H
#define GILTRACE_TARGET_OPTS_H

#include <argp.h>
#include <limits.h>

#include "run/live.h"

extern const struct argp target_opts_argp;

/* argp child input: the live options being filled. */
struct target_opts_input {
	struct live_opts *live;
	char exe[PATH_MAX]; /* --exe, resolved: live->filter.exe points here */
};

/* Stops parsing at the first non-option argument: it and what follows are
 * the command to run. Call from the parent's ARGP_KEY_ARG. */
void target_opts__take_command(struct argp_state *state, struct live_opts *live);
/* Usage errors for a missing or doubled target, or a filter without
 * --all; call at ARGP_KEY_END. */
void target_opts__check(struct argp_state *state, const struct live_opts *live);

#endif
