/*
 * Every runtime giltrace knows, one row each: which symbols identify it,
 * which functions carry which GIL event, where the GIL's futex words are,
 * and where each fact was read and how it was verified. Nothing else in
 * giltrace knows a runtime's internals.
 */
#ifndef GILTRACE_RUNTIMES_H
#define GILTRACE_RUNTIMES_H

#include <stdbool.h>

#define RUNTIME_MAX_HOOKS 8

/* A probe point: a function symbol and the BPF program that handles it. */
struct runtime_hook {
	const char *symbol;
	const char *prog;
};

struct runtime_row {
	const char *name;          /* shown as the runtime */
	const char *version;
	const char *mode;          /* tracing mode this row gives */
	const char *detect_symbol; /* present in the file that holds the GIL code */
	const char *gil_symbol;    /* object whose st_size bounds the GIL's futex words */
	struct runtime_hook hooks[RUNTIME_MAX_HOOKS];
	const char *verified;      /* source of the facts and how they were checked */
};

const struct runtime_row *runtimes__table(int *count);

#endif
