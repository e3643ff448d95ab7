/*
 * Diagnosis rules: name a GIL pathology from the engine's state, over the
 * last closed interval (live top view) or the whole run (summary).
 */
#ifndef GILTRACE_DIAGNOSE_H
#define GILTRACE_DIAGNOSE_H

#include <stddef.h>
#include <linux/types.h>

struct engine;

enum diag_kind {
	DIAG_CONVOY = 1,   /* an I/O thread waits a switch interval per I/O */
	DIAG_BATTLE,       /* threads are woken for a GIL taken again */
	DIAG_STARVED,      /* a thread spends most of its time waiting */
};

enum diag_scope {
	DIAG_RUN,      /* everything fed so far */
	DIAG_INTERVAL, /* the interval closed by the last engine__tick() */
};

#define DIAG_TEXT 192
/* Enough for every rule to fire on a handful of threads; views show few. */
#define DIAG_MAX 16

struct diagnosis {
	enum diag_kind kind;
	__u32 tgid;
	__u32 tid;             /* the thread concerned */
	double figure;         /* the figure that crossed the threshold */
	char message[DIAG_TEXT];  /* one line, plain words */
	char hint[DIAG_TEXT];     /* what to try */
};

/* Fills out[] with at most cap diagnoses, most severe kinds first (convoy,
 * battle, starvation); returns how many were written. */
size_t diagnose__run(const struct engine *eng, enum diag_scope scope,
		     struct diagnosis *out, size_t cap);
const char *diagnose__kind_name(enum diag_kind kind);

#endif
