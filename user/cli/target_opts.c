#include "cli/target_opts.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "cli/parse.h"

enum { OPT_BTF = 0x100, OPT_AS_ROOT };

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "Trace the running process PID", 1 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS (default: until Ctrl-C or the "
					 "target exits)", 1 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages and the verifier's log", 1 },
	{ "btf", OPT_BTF, "FILE", 0, "Kernel BTF to use instead of /sys/kernel/btf/vmlinux", 1 },
	{ "as-root", OPT_AS_ROOT, NULL, 0, "Under sudo, run CMD as root rather than as the "
					   "invoking user", 1 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct target_opts_input *in = state->input;
	struct live_opts *live = in->live;

	switch (key) {
	case 'p':
		live->pid = (__u32)parse__long(state, "PID", arg, 1, INT_MAX);
		break;
	case 'd':
		live->duration_s = parse__double(state, "duration", arg, 0.001, 1e7);
		break;
	case 'v':
		live->verbose = true;
		break;
	case OPT_BTF:
		live->btf_path = arg;
		break;
	case OPT_AS_ROOT:
		live->keep_root = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp target_opts_argp = { .options = options, .parser = parse };

void target_opts__take_command(struct argp_state *state, struct live_opts *live)
{
	live->cmd = &state->argv[state->next - 1];
	state->next = state->argc;
}

void target_opts__check(struct argp_state *state, const struct live_opts *live)
{
	if (live->pid && live->cmd)
		argp_error(state, "give either -p PID or a command to run, not both");
	if (!live->pid && !live->cmd)
		argp_error(state, "nothing to trace: give -p PID or -- CMD ARGS...");
}
