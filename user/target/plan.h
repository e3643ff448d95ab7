/*
 * An attach plan: what to probe in one target process and how, built from
 * the process itself (its mapped files, read through /proc/PID) and the
 * runtime table. The trace layer turns it into attached BPF programs.
 */
#ifndef GILTRACE_PLAN_H
#define GILTRACE_PLAN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "giltrace.h"
#include "ft_gil.h"
#include "trace_meta.h"
#include "target/py_debug.h"
#include "target/runtimes.h"

struct elf_file;

/* A row's hooks, a free-threaded build's GIL probes (RUNTIME_FT_HOOKS)
 * and its lock probes beside them (target/ftlocks_plan.c: 10). */
#define PLAN_LOCK_PROBES 10
#define PLAN_MAX_PROBES (RUNTIME_MAX_HOOKS + RUNTIME_FT_HOOKS + PLAN_LOCK_PROBES)

/* Free-threaded CPython: how a lock's owner object and its type's name
 * are read (target/ftlocks_plan.c), for BPF (ftlocks_target) and for user
 * space's names (target/pytype.c). */
struct ftlocks_layout {
	bool on;              /* the lock probes are in the plan */
	bool stw;             /* and the stop-the-world ones (local symbols) */
	bool timed;           /* and _PyMutex_LockTimed's (a hidden symbol) */
	__u16 ob_mutex;       /* PyObject.ob_mutex */
	__u16 ob_type;        /* PyObject.ob_type */
	__u16 tp_name;        /* PyTypeObject.tp_name */
	__u64 type_type;      /* &PyType_Type in the process: types' own type */
	__u64 gc_lo[FTLOCKS_GC_RANGES]; /* the collector's functions (run time) */
	__u64 gc_hi[FTLOCKS_GC_RANGES];
};

struct plan_probe {
	__u64 offset;         /* file offset of the probed instruction */
	const char *prog;     /* BPF program name */
	const char *symbol;   /* for messages */
	bool retprobe;
	bool in_libc;         /* in libc_fd's file, not fd's */
};

struct attach_plan {
	__u32 pid;
	const struct runtime_row *row;
	int fd;               /* the mapped file holding the hooks, kept open:
	                       * uprobes go on this very file */
	int libc_fd;          /* cond mode: the mapped C library, or -1 */
	struct gil_target target; /* what BPF knows of the GIL when the PID is
	                           * registered (span; CPython: address and layout) */
	struct cpython_layout layout; /* CPython 3: the row's, completed from the
	                               * process's _Py_DebugOffsets (3.13+) */
	char warning[200];        /* said once when attached, or empty: a CPython
	                           * newer than any tested, traced on its own word */
	/* CPython 3: the live layout check (target/layout_check.c), put off
	 * while the interpreter has not started (a command giltrace started):
	 * plan__check_layout() makes it at the self-check's readings. */
	bool layout_pending;
	__u64 runtime;            /* &_PyRuntime in the process */
	bool has_debug;
	struct py_debug debug;
	unsigned char debug_head[16];
	/* Free-threaded CPython (layout.free_threaded): what BPF needs to name
	 * the import that turned the GIL on, and whether its probes are in. */
	struct ft_gil_target ft;
	bool has_ft_probes;
	int nprobes;
	struct plan_probe probes[PLAN_MAX_PROBES];
	struct ftlocks_layout locks;
	struct trace_meta meta;
};

/* No runtime at all (a shell, env, a pyenv shim): `-- CMD` follows it on. */
#define PLAN_NOT_RUNTIME (-ENOEXEC)

/* Fills plan for PID in mode (a row's mode name, e.g. "full" or "futex";
 * NULL: the row's default); 0, or -errno with a one-line reason in err:
 * PLAN_NOT_RUNTIME for a process
 * that is no runtime giltrace knows of, -EPROTONOSUPPORT for a CPython
 * version giltrace does not know, -EINVAL for a mode the runtime lacks. */
int plan__build(__u32 pid, const char *mode, struct attach_plan *plan, char *err,
		size_t errlen);
/* The layout check put off at plan time, once the interpreter has started:
 * 0 (passed, or still not started), or -EPROTO with the check in err. */
int plan__check_layout(struct attach_plan *plan, char *err, size_t errlen);
/* Appends the probes of the first nhooks hooks (fewer: a NULL symbol ends
 * the table) found in ef to plan (checked as a row's are; who names the
 * runtime in messages). 0, or -errno with a reason in err:
 * -ENOENT when a required one is missing. */
int plan__add_hooks(struct attach_plan *plan, struct elf_file *ef, const char *who,
		    const struct runtime_hook *hooks, int nhooks, char *err, size_t errlen);
/* Closes the files the plan holds open. */
void plan__release(struct attach_plan *plan);

/* The machine's part of a trace's meta: CPUs, kernel release, and the
 * offset from CLOCK_MONOTONIC (event times) to wall time. */
void plan__machine_meta(struct trace_meta *meta);

#endif
