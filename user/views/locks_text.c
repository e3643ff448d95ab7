#include "views/locks_text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/safe_text.h"
#include "views/format.h"

/* Waiting threads shown under each lock. */
#define WAITERS_SHOWN 3

const char *locks_text__owner(const struct engine_lock *l)
{
	if (l->type_name[0])
		return l->type_name;
	return l->sections ? "?" : "PyMutex";
}

static void print_waiters(FILE *out, const struct engine *eng, const struct engine_lock *l)
{
	const struct lock_waiter *shown[WAITERS_SHOWN] = { NULL };

	/* The longest total waits, by selection: locks have few waiters. */
	for (size_t i = 0; i < l->nwaiters; i++) {
		const struct lock_waiter *w = &l->waiters[i];

		for (int k = 0; k < WAITERS_SHOWN; k++) {
			if (shown[k] && shown[k]->wait_ns >= w->wait_ns)
				continue;
			memmove(&shown[k + 1], &shown[k], (WAITERS_SHOWN - 1 - k) * sizeof(shown[0]));
			shown[k] = w;
			break;
		}
	}
	for (int k = 0; k < WAITERS_SHOWN && shown[k]; k++) {
		const struct engine_thread *t = engine__find_thread(eng, l->tgid, shown[k]->tid);
		char name[ENGINE_NAME_LEN * 4], tot[FORMAT_LEN], max[FORMAT_LEN];

		safe_text__cell(name, sizeof(name), t && t->name[0] ? t->name : "-", 15);
		fprintf(out, "  %7s %7u %s %8llu %7llu %9s %9s\n", "", shown[k]->tid, name,
			(unsigned long long)shown[k]->waits, (unsigned long long)shown[k]->parks,
			format__duration(tot, sizeof(tot), (double)shown[k]->wait_ns),
			format__duration(max, sizeof(max), (double)shown[k]->max_ns));
	}
}

static void print_lock(FILE *out, const struct engine *eng, const struct engine_lock *l)
{
	char tot[FORMAT_LEN], mean[FORMAT_LEN], p99[FORMAT_LEN], max[FORMAT_LEN];
	char owner[LOCK_TYPE_NAME_MAX * 4];

	safe_text__cell(owner, sizeof(owner), locks_text__owner(l), 15);
	fprintf(out, "%7u %#16llx %s %8llu %7llu %6llu %9s %9s %9s %9s %7zu\n", l->tgid,
		(unsigned long long)l->addr, owner, (unsigned long long)l->waits,
		(unsigned long long)l->parks, (unsigned long long)l->failed,
		format__duration(tot, sizeof(tot), (double)l->wait.sum),
		format__duration(mean, sizeof(mean), hist__mean(&l->wait)),
		format__duration(p99, sizeof(p99), (double)hist__percentile(&l->wait, 99)),
		format__duration(max, sizeof(max), (double)(l->waits ? l->wait.max : 0)),
		l->nwaiters);
	print_waiters(out, eng, l);
}

static void print_stw(FILE *out, const struct lock_table *lt)
{
	const struct engine_stw *v[64];
	size_t n = lock_table__stw(lt, v, 64);

	for (size_t i = 0; i < n && i < 64; i++) {
		const struct engine_stw *p = v[i];
		char tot[FORMAT_LEN], max[FORMAT_LEN], p99[FORMAT_LEN], stop[FORMAT_LEN];

		fprintf(out, "stop-the-world (pid %u): %llu pauses (%llu by the collector), %s in "
			"all, p99 %s, max %s; stopping the other threads took %s of it",
			p->tgid, (unsigned long long)p->pauses, (unsigned long long)p->gc_pauses,
			format__duration(tot, sizeof(tot), (double)p->pause.sum),
			format__duration(p99, sizeof(p99), (double)hist__percentile(&p->pause, 99)),
			format__duration(max, sizeof(max), (double)(p->pauses ? p->pause.max : 0)),
			format__duration(stop, sizeof(stop), (double)p->stop_ns));
		if (p->open || p->unpaired)
			fprintf(out, " (%llu still in progress, %llu edges unpaired)",
				(unsigned long long)p->open, (unsigned long long)p->unpaired);
		fputc('\n', out);
	}
}

int locks_text__print(FILE *out, const struct engine *eng, size_t max_locks)
{
	const struct lock_table *lt = engine__locks(eng);
	const struct engine_lock **locks;
	struct lock_totals tot;
	char waited[FORMAT_LEN];
	size_t n;
	int err = lock_table__snapshot(lt, &tot, &locks, &n);

	if (err <= 0)
		return err;
	fprintf(out, "\nlocks (free-threaded): %llu contended, %llu contended acquisitions, %s "
		"waited, %llu parks; %llu critical sections took the slow path\n",
		(unsigned long long)tot.locks, (unsigned long long)tot.waits,
		format__duration(waited, sizeof(waited), (double)tot.wait_ns),
		(unsigned long long)tot.parks, (unsigned long long)tot.sections);
	if (tot.untracked_waits)
		fprintf(out, "(of which %llu contended acquisitions, %s, on locks past the first %d, "
			"which are not listed)\n", (unsigned long long)tot.untracked_waits,
			format__duration(waited, sizeof(waited), (double)tot.untracked_wait_ns),
			LOCK_TABLE_MAX);
	if (n)
		fprintf(out, "   TGID             LOCK OWNER              WAITS   PARKS FAILED      "
			"WAIT      MEAN       P99       MAX THREADS\n");
	for (size_t i = 0; i < n && i < max_locks; i++)
		print_lock(out, eng, locks[i]);
	if (n > max_locks)
		fprintf(out, "(%zu more locks; --json lists every one)\n", n - max_locks);
	print_stw(out, lt);
	free(locks);
	return ferror(out) ? -EIO : 0;
}

void locks_text__top_row(char *buf, size_t len, const struct engine_lock *l)
{
	char tot[FORMAT_LEN], p99[FORMAT_LEN], max[FORMAT_LEN];
	char owner[LOCK_TYPE_NAME_MAX * 4];

	safe_text__cell(owner, sizeof(owner), locks_text__owner(l), 15);
	snprintf(buf, len, "%#-16llx %s %8llu %7llu %9s %9s %9s %7zu", (unsigned long long)l->addr,
		 owner, (unsigned long long)l->waits, (unsigned long long)l->parks,
		 format__duration(tot, sizeof(tot), (double)l->wait.sum),
		 format__duration(p99, sizeof(p99), (double)hist__percentile(&l->wait, 99)),
		 format__duration(max, sizeof(max), (double)(l->waits ? l->wait.max : 0)),
		 l->nwaiters);
}

void locks_text__stw_line(char *buf, size_t len, const struct engine_stw *p)
{
	char tot[FORMAT_LEN], max[FORMAT_LEN];

	snprintf(buf, len, "stop-the-world: %llu pauses (%llu by the collector), %s in all, max %s",
		 (unsigned long long)p->pauses, (unsigned long long)p->gc_pauses,
		 format__duration(tot, sizeof(tot), (double)p->pause.sum),
		 format__duration(max, sizeof(max), (double)(p->pauses ? p->pause.max : 0)));
}
