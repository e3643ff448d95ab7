/*
 * Free-threaded CPython's locks (docs/freethreaded-locks.md): contended
 * PyMutex acquisitions per lock and per waiting thread, the type of the
 * object a critical section locked, and stop-the-world pauses, from the
 * LOCK_WAIT, LOCK_SECTION, LOCK_TYPE and STW events (bpf/giltrace.h).
 * Pure C, fed by engine__feed(); views read it through engine__locks().
 */
#ifndef GILTRACE_ENGINE_LOCKS_H
#define GILTRACE_ENGINE_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "giltrace.h"
#include "engine/hist.h"

struct lock_table;

/* Locks kept one by one (each with its histogram, ~8 KiB): a program that
 * contends on ever new objects would otherwise grow the table without end.
 * Waits on locks past it are counted in the totals as untracked. */
#define LOCK_TABLE_MAX 4096

/* One waiting thread's share of one lock. */
struct lock_waiter {
	__u32 tid;
	__u64 waits;    /* contended acquisitions */
	__u64 wait_ns;  /* their total time in the slow path */
	__u64 max_ns;
	__u64 parks;
};

struct engine_lock {
	__u32 tgid;
	__u64 addr;      /* the PyMutex */
	__u64 type;      /* the owner object's type, from a critical section;
			  * 0: no critical section took it (a bare PyMutex) */
	const char *type_name; /* the type's name, "" when it was not read */
	__u64 sections;  /* critical sections that took it by their slow path */
	__u64 waits;     /* contended acquisitions (LOCK_WAIT) */
	__u64 failed;    /* of which ended without the lock (time-out, signal) */
	__u64 parks;     /* sleeps while acquiring it */
	struct hist wait; /* ns per contended acquisition */
	struct lock_waiter *waiters; /* one per thread that waited, by first wait */
	size_t nwaiters;
};

/* One process's stop-the-world pauses: request to restart, by the
 * requesting thread; stopping is request to every other thread stopped. */
struct engine_stw {
	__u32 tgid;
	__u64 pauses;     /* closed pauses */
	struct hist pause; /* ns each */
	__u64 stop_ns;    /* sum of the stopping part */
	__u64 gc_pauses;  /* of the pauses, those the collector asked for */
	__u64 gc_ns;
	__u64 open;       /* requested and not ended when the stream did */
	__u64 unpaired;   /* edges that contradict the requester's state */
};

struct lock_totals {
	__u64 locks;      /* locks with a contended acquisition */
	__u64 waits;
	__u64 wait_ns;
	__u64 parks;
	__u64 sections;
	__u64 pauses;
	__u64 pause_ns;
	__u64 pause_max_ns;
	__u64 gc_pauses;
	__u64 untracked_waits;   /* contended acquisitions of locks past LOCK_TABLE_MAX, */
	__u64 untracked_wait_ns; /* included in waits and wait_ns above */
	__u64 procs;      /* processes with a lock or stop-the-world event */
	bool seen;        /* any lock or stop-the-world event at all */
};

struct lock_table *lock_table__new(void);
void lock_table__free(struct lock_table *lt);
/* One event of the four kinds above (others are ignored). */
void lock_table__feed(struct lock_table *lt, const struct gil_event *ev);

/* The locks with a contended acquisition or a slow critical section, the
 * longest total wait first (ties: more waits, then lower address), as a
 * malloc'd array the caller frees; -ENOMEM or 0. */
int lock_table__list(const struct lock_table *lt, const struct engine_lock ***out, size_t *n);
/* Every process's pauses (one entry per process that had one). */
size_t lock_table__stw(const struct lock_table *lt, const struct engine_stw **out, size_t cap);
void lock_table__totals(const struct lock_table *lt, struct lock_totals *out);
/* What the summaries show: the totals and lock_table__list() at once; 1,
 * or 0 when no lock event came (nothing listed), or -ENOMEM. */
int lock_table__snapshot(const struct lock_table *lt, struct lock_totals *tot,
			 const struct engine_lock ***locks, size_t *n);
/* Whether any lock or stop-the-world event came (a free-threaded target). */
bool lock_table__seen(const struct lock_table *lt);
/* The lock of tgid at addr, or NULL. */
const struct engine_lock *lock_table__find(const struct lock_table *lt, __u32 tgid, __u64 addr);
/* A lock's total wait (sum over its acquisitions). */
static inline __u64 engine_lock__wait_ns(const struct engine_lock *l)
{
	return l->wait.sum;
}

#endif
