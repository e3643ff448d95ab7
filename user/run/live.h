/*
 * One live trace, from targets to sink: starts or finds the targets (one
 * command, a list of PIDs, or every supported process with --all), builds
 * their attach plans, attaches them to one set of BPF programs, and streams
 * events to a sink (stream/sink.h) until Ctrl-C, the duration, the end of
 * the targets or the sink says stop: the live source. The sink hears the
 * first target's meta at start (the machine's alone for --all with none
 * yet), every target as it is traced and as it exits, thread names from
 * /proc and renames, and with blame each holder stack resolved before the
 * event that names it. Summary, record, top, blame and serve all run
 * through here; they differ only in their sink and hooks.
 */
#ifndef GILTRACE_LIVE_H
#define GILTRACE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "giltrace.h"
#include "trace_meta.h"
#include "stream/sink.h"
#include "run/privileges.h"
#include "target/discover.h"

/* Most PIDs one -p list may name; --all goes up to GILTRACE_MAX_TARGETS. */
#define LIVE_MAX_PIDS 64

struct live_result;

/* What only a live run has, apart from the stream itself (stream/sink.h):
 * a clock, a keyboard and an end. */
struct live_hooks {
	/* Every tick_ms, with CLOCK_MONOTONIC now; non-zero stops the run. */
	int (*on_tick)(void *ctx, __u64 now_ns);
	/* When input_fd is readable; non-zero stops the run. */
	int (*on_input)(void *ctx);
	/* The run is over and every event was delivered; called before the
	 * probes are detached, which takes the kernel a while, so that the
	 * summary does not wait for it. NULL to ignore. */
	void (*on_end)(void *ctx, const struct live_result *res);
	/* Attached and down to the privileges a trace keeps, before "tracing"
	 * is said; still the only thread. Non-zero stops the run. NULL to
	 * ignore. */
	int (*on_traced)(void *ctx);
	void *ctx;
	int input_fd; /* -1 for none */
	int tick_ms;  /* 0 for no ticks */
};

struct live_opts {
	__u32 pids[LIVE_MAX_PIDS]; /* -p PID[,PID...] */
	unsigned int npids;
	bool all;           /* --all: every supported process, found from /proc
			     * now and every second */
	struct discover_filter filter; /* --comm, --exe: narrow --all */
	char **cmd;         /* -- CMD ARGS..., NULL-terminated */
	/* 0 = until Ctrl-C, or until the targets exit (-p, CMD; never for
	 * --all). With several targets, one that exits is dropped and the
	 * others go on. */
	double duration_s;
	bool persist;       /* go on when every target has exited (serve) */
	bool verbose;
	__u32 ringbuf_bytes; /* --buffer-kib; 0: GILTRACE_RINGBUF_BYTES */
	bool keep_root;     /* run CMD as root even under sudo */
	bool quiet;         /* no "tracing ..." line (the top screen shows it) */
	bool blame;         /* read the GIL holder's Python stack at waits */
	const char *btf_path;
	const char *mode;   /* --mode: a runtime's tracing mode, NULL: its default */
	struct run_as run_as; /* --user: whom to become once attached (serve) */
};

struct live_result {
	unsigned long long drops; /* as counted in BPF */
	bool target_exited;       /* every target of CMD or -p exited */
	bool ran_cmd;             /* giltrace started CMD ... */
	bool cmd_ended_itself;    /* ... and it ended on its own, not stopped by
				   * giltrace (-d, Ctrl-C, an error) */
	int target_status;        /* wait status of a CMD we started */
	char futex_mode[32];
};

/* 0, or non-zero after printing a one-line error to stderr. Says on
 * stderr when the targets end: a command's exit status or signal, a -p
 * target's exit, and after how long. */
int live__run(const struct live_opts *opts, const struct stream_sink *sink,
	      const struct live_hooks *hooks, struct live_result *res);

/* giltrace's exit status after a run that succeeded, as strace and time
 * give it: the status of a command it ran that ended on its own (128 + N
 * for signal N, as a shell says); else 0. */
int live__exit_status(const struct live_result *res);

#endif
