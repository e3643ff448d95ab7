/*
 * One live trace, from target to sink: starts or finds the target, builds its
 * attach plan, attaches, and streams events to a sink until Ctrl-C, the
 * duration, the target's exit or the sink says stop. Summary, record and top
 * all run through here; they differ only in their sink.
 */
#ifndef GILTRACE_LIVE_H
#define GILTRACE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "giltrace.h"
#include "engine/meta.h"

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
	void *ctx;
	int input_fd; /* -1 for none */
	int tick_ms;  /* 0 for no ticks */
};

struct live_opts {
	__u32 pid;          /* -p PID, or 0 with cmd */
	char **cmd;         /* -- CMD ARGS..., NULL-terminated */
	double duration_s;  /* 0 = until Ctrl-C or the target exits */
	bool verbose;
	bool keep_root;     /* run CMD as root even under sudo */
	const char *btf_path;
};

struct live_result {
	unsigned long long drops; /* as counted in BPF */
	bool target_exited;
	int target_status;        /* wait status of a CMD we started */
	char futex_mode[32];
};

/* 0, or non-zero after printing a one-line error to stderr. */
int live__run(const struct live_opts *opts, const struct live_sink *sink,
	      struct live_result *res);

#endif
