#include "cli/target_opts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/parse.h"
#include "target/runtimes.h"

enum { OPT_BTF = 0x100, OPT_AS_ROOT, OPT_ALL, OPT_COMM, OPT_EXE, OPT_MODE, OPT_BUFFER };

static const struct argp_option options[] = {
	{ "pid", 'p', "PID[,PID...]", 0, "Trace the running processes PID, ... (the option may "
					 "be repeated)", 1 },
	{ "all", OPT_ALL, NULL, 0, "Trace every supported process on the host, and those that "
				   "start later (found within a second)", 1 },
	{ "comm", OPT_COMM, "NAME", 0, "With --all: only processes named NAME (/proc/PID/comm)",
	  1 },
	{ "exe", OPT_EXE, "PATH", 0, "With --all: only processes running PATH (a name without "
				     "'/' matches the executable's base name)", 1 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS (default: until Ctrl-C, or until "
					 "the targets exit; never for --all)", 1 },
	{ "mode", OPT_MODE, "MODE", 0, runtimes_mode_doc, 1 },
	{ "buffer-kib", OPT_BUFFER, "KIB", 0, "Ring buffer size in KiB, a power of two from 4 to "
	  "1048576 (default 16384): larger if drops are reported", 1 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's messages and the verifier's log", 1 },
	{ "btf", OPT_BTF, "FILE", 0, "Kernel BTF to use instead of /sys/kernel/btf/vmlinux "
					"(default: $GILTRACE_BTF, if set)", 1 },
	{ "-- CMD [ARGS...]", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
	  "Run CMD and trace it from its runtime's first instruction. Wrappers are followed "
	  "(env, shell scripts, pyenv shims, #! scripts, a venv's python): every exec "
	  "of CMD and of the processes it forks stops at its entry point until one runs a "
	  "supported runtime; that one is traced (the first line names its PID) and every "
	  "other process runs on untraced. A command that never runs one is an error", 1 },
	{ "as-root", OPT_AS_ROOT, NULL, 0, "Under sudo, run CMD as root rather than as the "
					   "invoking user", 1 },
	{ 0 },
};

/* "-p 12,34": each PID is checked like a single one. */
static void parse_pids(struct argp_state *state, struct live_opts *live, const char *arg)
{
	const char *p = arg;

	for (;;) {
		size_t len = strcspn(p, ",");
		char one[32];

		snprintf(one, sizeof(one), "%.*s", (int)(len < sizeof(one) ? len : sizeof(one) - 1),
			 p);
		if (live->npids == LIVE_MAX_PIDS)
			argp_error(state, "too many PIDs: at most %d (use --all with --comm or --exe)",
				   LIVE_MAX_PIDS);
		live->pids[live->npids++] = (__u32)parse__long(state, "PID", one, 1, INT_MAX);
		if (!p[len])
			break;
		p += len + 1;
	}
}

/* Usage errors for a missing or doubled target, or a filter without --all. */
static void check(struct argp_state *state, const struct live_opts *live)
{
	if (live->npids && live->cmd)
		argp_error(state, "give either -p PID or a command to run, not both");
	if (live->all && (live->npids || live->cmd))
		argp_error(state, "--all traces every supported process: give it without -p or "
			   "a command");
	if (!live->all && (live->filter.comm || live->filter.exe))
		argp_error(state, "--comm and --exe narrow --all: add --all");
	if (!live->npids && !live->cmd && !live->all)
		argp_error(state, "nothing to trace: give -p PID, --all or -- CMD ARGS...");
	if (live->keep_root && !live->cmd)
		argp_error(state, "--as-root is for a command giltrace starts: add -- CMD ARGS...");
}

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct target_opts_input *in = state->input;
	struct live_opts *live = in->live;

	switch (key) {
	case 'p':
		parse_pids(state, live, arg);
		break;
	case OPT_ALL:
		live->all = true;
		break;
	case OPT_COMM:
		if (!arg[0])
			argp_error(state, "--comm: empty name");
		live->filter.comm = arg;
		break;
	case OPT_EXE:
		if (!arg[0])
			argp_error(state, "--exe: empty path");
		/* /proc/PID/exe names the file itself, not a symlink to it. */
		if (!strchr(arg, '/') || !realpath(arg, in->exe))
			snprintf(in->exe, sizeof(in->exe), "%s", arg);
		live->filter.exe = in->exe;
		break;
	case 'd':
		live->duration_s = parse__double(state, "duration", arg, 0.001, 1e7);
		break;
	case OPT_MODE:
		if (!runtimes__has_mode(arg))
			argp_error(state, "invalid mode '%s': expected cond, futex, full or hooks",
				   arg);
		live->mode = arg;
		break;
	case OPT_BUFFER: {
		long kib = parse__long(state, "buffer-kib", arg, 4, 1048576);

		if (kib & (kib - 1))
			argp_error(state, "--buffer-kib: %ld is not a power of two", kib);
		live->ringbuf_bytes = (__u32)kib * 1024;
		break;
	}
	case 'v':
		live->verbose = true;
		break;
	case OPT_BTF:
		live->btf_path = arg;
		break;
	case OPT_AS_ROOT:
		live->keep_root = true;
		break;
	case ARGP_KEY_ARG:
		/* The first word that is no option starts the command to run;
		 * what follows is its own. */
		live->cmd = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		check(state, live);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp target_opts_argp = { .options = options, .parser = parse };

const struct argp_child target_opts_children[] = {
	{ &target_opts_argp, 0, "Target:", 1 },
	{ 0 },
};
