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

/* Enough for every rule to fire on a handful of threads; views show few. */
#define DIAG_MAX 16

/* A diagnosis as data; views put it in words (views/diagnosis_text.h). */
struct diagnosis {
	enum diag_kind kind;
	__u32 tgid;
	__u32 tid;          /* the thread concerned (battle: the one with most retries) */
	/* The figure that crossed the threshold: convoy, the typical wait
	 * after an I/O (ns); battle, failed wake-ups per acquisition in the
	 * process; starved, the thread's share of the time spent waiting. */
	double figure;
	/* convoy: contended re-acquisitions after I/O; battle: failed
	 * wake-ups in the process; starved: 0 */
	__u64 count;
	/* The process's thread that held the GIL most (other than tid, but
	 * for battle), and its share of the process's hold time; 0: none. */
	__u32 holder_tid;
	double holder_share;
};

/* Fills out[] with at most cap diagnoses, most severe kinds first (convoy,
 * battle, starvation); returns how many were written. */
size_t diagnose__run(const struct engine *eng, enum diag_scope scope,
		     struct diagnosis *out, size_t cap);

#endif
