/*
 * What /proc says about a target process. Mapped files are opened through
 * /proc/PID/map_files/, which names the exact file the target mapped: a
 * path planted by the target (symlinks inside its root or a container) can
 * never redirect giltrace to a host file.
 */
#ifndef GILTRACE_PROC_H
#define GILTRACE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#define PROC_PATH_MAX 4096

struct proc_mapping {
	__u64 start, end, offset;
	char path[PROC_PATH_MAX]; /* as the target sees it */
};

/* 0 if PID is a live process; -ESRCH (no such process) or -ECHILD (zombie). */
int proc__check(__u32 pid);
/* Thread or process name; "?" when it is gone. */
void proc__comm(__u32 pid, __u32 tid, char *buf, size_t len);
/* Calls fn once per distinct file mapped by PID (its first mapping);
 * fn returns non-zero to stop. Returns fn's value, 0, or -errno. */
int proc__for_each_file(__u32 pid, int (*fn)(const struct proc_mapping *m, void *ctx), void *ctx);
/* Opens a mapped file read-only through /proc/PID/map_files; fd or -errno. */
int proc__open_mapping(__u32 pid, const struct proc_mapping *m);
/* Reads len bytes at addr in PID's memory (process_vm_readv): 0, -ESRCH
 * when the process has exited or is exiting (its memory is gone), or
 * -EFAULT when any of the bytes cannot be read (address 0 included). */
int proc__read_mem(__u32 pid, __u64 addr, void *buf, size_t len);
/* The target's executable path as it sees it, or -errno. */
int proc__exe(__u32 pid, char *buf, size_t len);

/* The parsers behind proc__check() (a /proc/PID/status text) and
 * proc__for_each_file() (a /proc/PID/maps text), on any stream. */
int proc__parse_status(FILE *f);
int proc__parse_maps(FILE *f, int (*fn)(const struct proc_mapping *m, void *ctx), void *ctx);

#endif
