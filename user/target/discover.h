/*
 * Finding processes to trace from /proc (--all): every process but giltrace
 * itself and kernel threads, narrowed by name or executable. Whether a
 * process is a supported runtime is plan__build()'s question, not this
 * file's.
 */
#ifndef GILTRACE_DISCOVER_H
#define GILTRACE_DISCOVER_H

#include <stdbool.h>
#include <linux/types.h>

/* What tells one process apart from a later one with the same PID, and
 * from itself after an exec (which keeps the PID and the start time). */
struct proc_id {
	__u32 pid;
	__u64 start_time; /* /proc/PID/stat field 22, clock ticks after boot */
	__u64 exe_dev;    /* the executable's inode, through /proc/PID/exe */
	__u64 exe_ino;
};

struct discover_filter {
	const char *comm; /* /proc/PID/comm equals this (first 15 bytes); NULL: any */
	const char *exe;  /* /proc/PID/exe equals this path, or has this base name
			   * when it has no '/'; NULL: any */
};

/* 0, or -errno (-ESRCH when it is gone, -ENOENT for a kernel thread). */
int discover__identify(__u32 pid, struct proc_id *id);
bool discover__same(const struct proc_id *a, const struct proc_id *b);
/* Calls fn for every user-space process that passes f (NULL: all), in no
 * particular order; fn returns non-zero to stop. Returns fn's value, 0, or
 * -errno when /proc cannot be read. */
int discover__scan(const struct discover_filter *f,
		   int (*fn)(const struct proc_id *id, void *ctx), void *ctx);

#endif
