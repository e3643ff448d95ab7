/*
 * One live trace, from targets to sink: starts or finds the targets (one
 * command, a list of PIDs, or every supported process with --all), builds
 * their attach plans, attaches them to one set of BPF programs, and streams
 * events to a sink until Ctrl-C, the duration, the end of the targets or the
 * sink says stop. Summary, record, top and serve all run through here; they
 * differ only in their sink.
 */
#ifndef GILTRACE_LIVE_H
#define GILTRACE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "giltrace.h"
#include "engine/meta.h"
#include "blame/stack_table.h"
#include "target/discover.h"

/* Most PIDs one -p list may name; --all goes up to GILTRACE_MAX_TARGETS. */
#define LIVE_MAX_PIDS 64

struct live_result;

struct live_sink {
	/* Before the first event; non-zero aborts the run. */
	int (*on_start)(void *ctx, const struct trace_meta *meta, char *err, size_t errlen);
	/* Every event in stream order; non-zero stops the run. */
	int (*on_event)(void *ctx, const struct gil_event *ev);
	/* A thread's name, when first seen and again at the end. */
	void (*on_thread)(void *ctx, __u32 tgid, __u32 tid, const char *name);
	/* Every tick_ms, with CLOCK_MONOTONIC now; non-zero stops the run. */
	int (*on_tick)(void *ctx, __u64 now_ns);
	/* When input_fd is readable; non-zero stops the run. */
	int (*on_input)(void *ctx);
	/* A process is traced from now on (before its first event); NULL to
	 * ignore. The first target's meta also goes to on_start. */
	void (*on_target)(void *ctx, const struct trace_meta *meta);
	/* A traced process exited and was dropped, after its last event. */
	void (*on_target_exit)(void *ctx, __u32 pid);
	/* Blame (live_opts.blame): a holder stack first seen, resolved, before
	 * the HOLDER_STACK event that names it; NULL to ignore. */
	void (*on_stack)(void *ctx, __u32 tgid, __u64 id, __u32 flags,
			 const struct blame_frame *frames, unsigned int nframes);
	/* The run is over and every event was delivered; called before the
	 * probes are detached, which takes the kernel a while, so that the
	 * summary does not wait for it. NULL to ignore. */
	void (*on_end)(void *ctx, const struct live_result *res);
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
	bool keep_root;     /* run CMD as root even under sudo */
	bool quiet;         /* no "tracing ..." line (the top screen shows it) */
	bool blame;         /* read the GIL holder's Python stack at waits */
	const char *btf_path;
	const char *mode;   /* --mode: a runtime's tracing mode, NULL: its default */
};

struct live_result {
	unsigned long long drops; /* as counted in BPF */
	bool target_exited;       /* every target of CMD or -p exited */
	int target_status;        /* wait status of a CMD we started */
	char futex_mode[32];
	bool no_gil;              /* the target is a free-threaded CPython: nothing
				   * was traced, and that is not an error */
};

/* 0, or non-zero after printing a one-line error to stderr. */
int live__run(const struct live_opts *opts, const struct live_sink *sink,
	      struct live_result *res);

#endif
