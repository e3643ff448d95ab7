/*
 * Every runtime giltrace knows, one row each: which symbols identify it,
 * which functions carry which GIL event, where the GIL's futex words are,
 * and where each fact was read and how it was verified. Nothing else in
 * giltrace knows a runtime's internals.
 */
#ifndef GILTRACE_RUNTIMES_H
#define GILTRACE_RUNTIMES_H

#include <stdbool.h>
#include <linux/types.h>

#define RUNTIME_MAX_HOOKS 8

/* A probe point: a function symbol and the BPF program that handles it. */
struct runtime_hook {
	const char *symbol;
	const char *prog;
	bool retprobe; /* on the function's return (a uretprobe) */
	bool optional; /* a compiler clone that only some builds have */
};

/* How BPF finds CPython's drop-request flag (see giltrace.h, gil_target). */
enum drop_req_how {
	DROP_REQ_RUNTIME,     /* a 32-bit word at &_PyRuntime + drop_req */
	DROP_REQ_MAIN_INTERP, /* *(&_PyRuntime + drop_req) + drop_req_off: heap interpreter */
	DROP_REQ_HOLDER,      /* *(gil + drop_req) + drop_req_off: the holder's tstate */
};

/* Where a CPython version keeps the main interpreter's GIL and its state.
 * All offsets are bytes; "gil" is struct _gil_runtime_state. */
struct cpython_layout {
	__u64 gil;              /* &_PyRuntime to the main interpreter's gil */
	__u32 gil_size;         /* sizeof(struct _gil_runtime_state) */
	__u16 locked;           /* gil->locked */
	__u16 switch_number;    /* gil->switch_number */
	__u16 cond;             /* gil->cond (pthread_cond_t) */
	__u16 cond_size;
	enum drop_req_how drop_how;
	__u64 drop_req;
	__u32 drop_req_off;
	__u32 drop_req_mask;
};

struct runtime_row {
	const char *name;          /* shown as the runtime */
	const char *version;
	const char *mode;          /* tracing mode this row gives */
	const char *detect_symbol; /* present in the file that holds the GIL code */
	const char *gil_symbol;    /* object whose st_size bounds the GIL's futex words */
	struct runtime_hook hooks[RUNTIME_MAX_HOOKS];
	const char *verified;      /* source of the facts and how they were checked */
	/* CPython rows: chosen by version (detect_symbol only says "CPython"),
	 * with the GIL's layout; futex_mode names the mode used when the
	 * hooks' symbols are stripped, or is NULL when that build is refused. */
	const struct cpython_layout *cpython;
	const char *futex_mode;
};

const struct runtime_row *runtimes__table(int *count);
/* "3.9, 3.10, ..." for messages. */
const char *runtimes__cpython_versions(void);

#endif
