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

/* The child list for a sub-command's argp: the target options, which also
 * take the command to run (the first non-option word) and check, at the
 * end, that there is exactly one kind of target. The parent sets
 * state->child_inputs[0] to a struct target_opts_input at ARGP_KEY_INIT. */
extern const struct argp_child target_opts_children[];

#endif
