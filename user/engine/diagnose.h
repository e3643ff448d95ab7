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
	DIAG_LATENCY = 1,  /* the GIL is busy and threads queue behind its holder */
	DIAG_HOG,          /* one thread holds the GIL most of the time */
	DIAG_C_HOLD,       /* C code keeps the GIL long after it is asked for */
	DIAG_CONVOY,       /* I/O threads wait a switch interval per I/O */
	DIAG_BATTLE,       /* threads are woken for a GIL taken again */
	DIAG_STARVED,      /* a thread spends most of its time waiting */
	DIAG_SWITCHING,    /* the GIL is forced from thread to thread too often */
	DIAG_HEALTHY,      /* none of the above: the GIL is not the problem */
	/* Free-threaded CPython (whole run only; engine/diagnose_locks.c): */
	DIAG_HOT_LOCK,     /* threads queue on one object's (or mutex's) lock */
	DIAG_STW,          /* stop-the-world pauses take a share of the time */
};

enum diag_scope {
	DIAG_RUN,      /* everything fed so far */
	DIAG_INTERVAL, /* the interval closed by the last engine__tick() */
};

/* Enough for every rule to fire on a handful of threads; views show few. */
#define DIAG_MAX 16

/* A diagnosis as data; views put it in words (views/diagnosis_text.h).
 * Thresholds and the meaning of each figure: docs/diagnoses.md. */
struct diagnosis {
	enum diag_kind kind;
	__u32 tgid;
	/* The thread concerned: convoy, the one waiting most after I/O;
	 * battle, the one with most retries; starved, the starved one; hog,
	 * the hog; c-hold, the holder slowest to let go; latency, healthy,
	 * switching: 0, the whole process. */
	__u32 tid;
	/* The figure that crossed the threshold: convoy, the typical wait
	 * after an I/O (ns); battle, failed wake-ups per acquisition in the
	 * process; starved, the thread's share of the time spent waiting;
	 * latency and healthy, threads waiting behind a holder on average;
	 * hog, its share of the time holding the GIL; switching, forced
	 * switches a second; c-hold, the longest delay from a drop request
	 * to the release (ns). */
	double figure;
	/* convoy: contended re-acquisitions after I/O, over all its
	 * threads; battle: failed wake-ups in the process; latency and
	 * healthy: threads that waited; c-hold: releases that came
	 * C_HOLD_MIN_DELAY_NS or more after the request; otherwise 0 */
	__u64 count;
	__u32 threads;       /* convoy: threads in a convoy */
	double utilisation;  /* the process's GIL held share of the time, 0..1 */
	/* latency, healthy: the p99 wait (0 over an interval, which keeps no
	 * histogram) */
	__u64 wait_p99_ns;
	/* The process's thread that held the GIL most (other than tid, but
	 * for battle), and its share of the process's hold time; 0: none. */
	__u32 holder_tid;
	double holder_share;
	/* hot-lock: the lock (its PyMutex's address; engine/locks.h has the
	 * rest), figure its total wait (ns), count its contended acquisitions,
	 * threads its waiting threads, wait_p99_ns its p99 wait. stw: figure
	 * the share of the time paused, count the pauses, wait_p99_ns the
	 * longest pause. */
	__u64 lock;
};

/* Fills out[] with at most cap diagnoses, in the order of enum diag_kind
 * (the verdict, GIL-bound latency, first), and one DIAG_HEALTHY for each
 * process no other rule fired on; returns how many were written. */
size_t diagnose__run(const struct engine *eng, enum diag_scope scope,
		     struct diagnosis *out, size_t cap);
/* The free-threaded rules alone (diagnose__run calls them last): written
 * from out[n] on, at most cap in all; returns the new count. */
size_t diagnose_locks__run(const struct engine *eng, enum diag_scope scope,
			   struct diagnosis *out, size_t n, size_t cap);

#endif
