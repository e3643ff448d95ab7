/*
 * Diagnosis rules of a free-threaded CPython: a hot lock, stop-the-world
 * pauses. Whole run only: the lock table keeps no intervals. Thresholds
 * are named constants saying why (docs/diagnoses.md lists them).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/diagnose.h"
#include "engine/engine.h"

/*
 * Hot lock: the threads' waits for one lock add up to HOT_LOCK_MIN_SHARE
 * of the traced time (50 ms of waiting a second: a twentieth of a thread
 * stands still on it all along), over HOT_LOCK_MIN_WAITS contended
 * acquisitions or more. Measured here (tests/e2e/py/ft_locks.py, 4
 * threads, 2 CPUs): one shared dict, 1.3-1.9 threads' worth (1.3-3.1 s
 * in 0.8-1.6 s) over 19-448 contended acquisitions (on a loaded machine
 * a waiter is often descheduled: few waits, long ones); a dict each, no
 * worker waits at all, and over a whole run the busiest lock is the main
 * thread's at start-up, 0.7% over 36 waits.
 */
#define HOT_LOCK_MIN_SHARE 0.05
#define HOT_LOCK_MIN_WAITS 10

/*
 * Stop-the-world: every thread stands still while the world is stopped
 * (the collector's pauses, mostly), STW_MIN_SHARE of the traced time or
 * more, over STW_MIN_PAUSES pauses or more. A thread start-up's handful
 * of pauses (34 in 1 s here, 4-12 ms in all) stays far below.
 */
#define STW_MIN_SHARE 0.05
#define STW_MIN_PAUSES 5

/* Locks named at most: the hottest ones, the rest are in the table. */
#define HOT_LOCKS_NAMED 3

static struct diagnosis *add(struct diagnosis *out, size_t *n, size_t cap, enum diag_kind kind,
			     __u32 tgid, double figure)
{
	struct diagnosis *d;

	if (*n >= cap)
		return NULL;
	d = &out[(*n)++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->tgid = tgid;
	d->figure = figure;
	return d;
}

static void hot_locks(const struct lock_table *lt, double len_ns, struct diagnosis *out,
		      size_t *n, size_t cap)
{
	const struct engine_lock **locks;
	size_t nlocks, named = 0;

	if (lock_table__list(lt, &locks, &nlocks))
		return;
	for (size_t i = 0; i < nlocks && named < HOT_LOCKS_NAMED; i++) {
		const struct engine_lock *l = locks[i];
		struct diagnosis *d;

		/* Sorted by total wait: the first that misses ends the list. */
		if ((double)l->wait.sum < HOT_LOCK_MIN_SHARE * len_ns)
			break;
		if (l->waits < HOT_LOCK_MIN_WAITS)
			continue;
		d = add(out, n, cap, DIAG_HOT_LOCK, l->tgid, (double)l->wait.sum);
		if (!d)
			break;
		d->lock = l->addr;
		d->count = l->waits;
		d->threads = (__u32)l->nwaiters;
		d->wait_p99_ns = hist__percentile(&l->wait, 99);
		named++;
	}
	free(locks);
}

static void stw_pauses(const struct lock_table *lt, double len_ns, struct diagnosis *out,
		       size_t *n, size_t cap)
{
	const struct engine_stw *v[64];
	size_t np = lock_table__stw(lt, v, 64);

	for (size_t i = 0; i < np && i < 64; i++) {
		const struct engine_stw *p = v[i];
		double share = (double)p->pause.sum / len_ns;
		struct diagnosis *d;

		if (p->pauses < STW_MIN_PAUSES || share < STW_MIN_SHARE)
			continue;
		d = add(out, n, cap, DIAG_STW, p->tgid, share > 1.0 ? 1.0 : share);
		if (!d)
			return;
		d->count = p->pauses;
		d->wait_p99_ns = p->pause.max;
	}
}

size_t diagnose_locks__run(const struct engine *eng, enum diag_scope scope,
			   struct diagnosis *out, size_t n, size_t cap)
{
	const struct lock_table *lt = engine__locks(eng);
	struct engine_totals tot;

	if (scope != DIAG_RUN || !lock_table__seen(lt))
		return n;
	engine__totals(eng, &tot);
	if (!tot.duration_ns)
		return n;
	hot_locks(lt, (double)tot.duration_ns, out, &n, cap);
	stw_pauses(lt, (double)tot.duration_ns, out, &n, cap);
	return n;
}
