/*
 * The toy VM's GIL, after David Beazley's "Understanding the Python GIL"
 * (PyCon 2010). Four designs:
 *
 *   old   Python 2: a binary semaphore built from a mutex and a condition
 *         variable (slide 18); the holder releases and immediately
 *         re-acquires it every --check-interval ticks.
 *   new   Python 3.2: waiters do a timed wait of --switch-interval; on a
 *         time-out with no switch meanwhile they set gil_drop_request; the
 *         holder drops the GIL at the next instruction boundary and waits
 *         until another thread has taken it (forced switching).
 *   prio  slides 57-58: multilevel feedback priorities with direct hand-off
 *         to the best waiter; a thread forced off by a time-out is demoted,
 *         one that releases voluntarily before its interval is promoted; a
 *         waiter of higher priority than the holder preempts it at once.
 *   fifo  strict FIFO hand-off with a time quantum (like Ruby's GVL).
 *
 * Every event below happens under gil_mutex, where the matching counter is
 * incremented, CLOCK_MONOTONIC is read and the hook is called, so the hooks,
 * the counters, the log and the snapshots agree exactly.
 *
 * What counts as a retry, in every design: the thread returned from a
 * condition-variable wait that did not time out (it was signalled, or woke
 * spuriously) and found that it still does not own the GIL.
 */
#include "gil.h"
#include "gil_hooks.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * The GIL object: every futex-backed synchronisation object the GIL uses,
 * and nothing else (giltrace watches futex calls on its address range).
 */
struct toyvm_gil_sync {
	pthread_mutex_t mutex;		/* the GIL's internal mutex */
	pthread_cond_t cond;		/* old, new: "the GIL was released" */
	pthread_cond_t switch_cond;	/* new: "another thread took it" */
	pthread_cond_t slot[GIL_MAX_LIVE_THREADS]; /* prio, fifo: per waiter */
};

struct toyvm_gil_sync toyvm_gil __attribute__((aligned(4096)));
_Static_assert(sizeof(toyvm_gil) <= 4096, "the GIL object must fit a page");

#define gil_mutex (&toyvm_gil.mutex)

enum ev {
	EV_ENTRY, EV_ACQUIRE, EV_RELEASE, EV_BUSY, EV_RETRY, EV_TIMEOUT,
	EV_DROP_REQUEST, EV_FORCED_RELEASE,
};
static const char *const ev_names[] = {
	"ENTRY", "ACQUIRE", "RELEASE", "BUSY", "RETRY", "TIMEOUT",
	"DROP_REQUEST", "FORCED_RELEASE",
};

struct log_rec {
	uint64_t ns;
	uint32_t thread;	/* index into G.threads */
	int32_t ticks;
	uint32_t check;
	uint32_t ev;
};
#define LOG_CAPACITY (2u * 1000 * 1000)

#define PRIO_LEVELS 4	/* 0 is the highest priority */

struct gil_thread {
	uint32_t idx;
	long tid;
	char name[16];
	int slot;
	bool alive;
	/* counters (under gil_mutex) */
	uint64_t acquisitions, busy, retries, timeouts, drop_requests;
	uint64_t forced_switches, wait_ns, hold_ns;
	uint64_t wait_start, hold_start;
	bool waiting, holding;
	/* interpreter tick countdown and check number (the owner's only) */
	int ticks;
	uint32_t checks;
	/* prio, fifo */
	int level;
	struct gil_thread *next;	/* wait queue, FIFO order */
};

enum drop_reason { DROP_TIMEOUT, DROP_PREEMPT };

static struct {
	enum gil_design design;
	long check_interval;
	uint64_t switch_ns;
	bool locked;
	struct gil_thread *holder;	/* owner, or hand-off target */
	struct gil_thread *last_holder;	/* new: forced switching */
	uint64_t switch_number;		/* bumped whenever the owner changes */
	uint64_t grant_ns;		/* prio, fifo: when the owner got it */
	enum drop_reason drop_reason;
	struct gil_thread *queue;	/* prio, fifo waiters */
	struct gil_thread **threads;	/* every VM thread ever, for stats */
	uint32_t nthreads, cap;
	uint64_t slots_used;		/* bitmap */
	struct log_rec *log;
	uint64_t log_len, log_dropped;
} G;

atomic_int gil_eval_breaker;

static const char *const design_names[] = { "old", "new", "prio", "fifo" };

const char *gil_design_name(enum gil_design d) { return design_names[d]; }
long gil_check_interval(void) { return G.check_interval; }
int *gil_thread_ticks(struct gil_thread *t) { return &t->ticks; }

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die_errno(const char *what, int err)
{
	fprintf(stderr, "toyvm: %s: %s\n", what, strerror(err));
	fflush(NULL);
	_exit(1);
}

void gil_init(enum gil_design design, long check_interval, long switch_us,
	      int want_log)
{
	pthread_condattr_t ca;
	int i;

	G.design = design;
	G.check_interval = check_interval;
	G.switch_ns = (uint64_t)switch_us * 1000;
	pthread_mutex_init(&toyvm_gil.mutex, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&toyvm_gil.cond, &ca);
	pthread_cond_init(&toyvm_gil.switch_cond, &ca);
	for (i = 0; i < GIL_MAX_LIVE_THREADS; i++)
		pthread_cond_init(&toyvm_gil.slot[i], &ca);
	pthread_condattr_destroy(&ca);
	if (want_log) {
		G.log = malloc(sizeof(*G.log) * LOG_CAPACITY);
		if (!G.log)
			die_errno("gil log", ENOMEM);
	}
}


/* ---- events: each under gil_mutex ---- */

static void log_ev(struct gil_thread *t, enum ev ev, uint64_t ns)
{
	struct log_rec *r;

	if (!G.log)
		return;
	if (G.log_len >= LOG_CAPACITY) {
		G.log_dropped++;
		return;
	}
	r = &G.log[G.log_len++];
	r->ns = ns;
	r->thread = t->idx;
	r->ticks = t->ticks;
	r->check = t->checks;
	r->ev = ev;
}

static void ev_entry(struct gil_thread *t)
{
	if (G.log)
		log_ev(t, EV_ENTRY, now_ns());
}

static void ev_wait(struct gil_thread *t)
{
	uint64_t ns = now_ns();

	t->busy++;
	t->wait_start = ns;
	t->waiting = true;
	log_ev(t, EV_BUSY, ns);
	toyvm_gil_wait(&toyvm_gil, t->tid);
}

static void ev_retry(struct gil_thread *t)
{
	uint64_t ns = now_ns();

	t->retries++;
	log_ev(t, EV_RETRY, ns);
	toyvm_gil_retry(&toyvm_gil, t->tid);
}

static void ev_timeout(struct gil_thread *t)
{
	uint64_t ns = now_ns();

	t->timeouts++;
	log_ev(t, EV_TIMEOUT, ns);
	toyvm_gil_timeout(&toyvm_gil, t->tid);
}

static void ev_drop_request(struct gil_thread *t, enum drop_reason why)
{
	uint64_t ns = now_ns();

	G.drop_reason = why;
	atomic_store(&gil_eval_breaker, 1);
	t->drop_requests++;
	log_ev(t, EV_DROP_REQUEST, ns);
	toyvm_gil_drop_request(&toyvm_gil, t->tid);
}

static void ev_acquired(struct gil_thread *t)
{
	uint64_t ns = now_ns();

	t->acquisitions++;
	if (t->waiting) {
		t->wait_ns += ns - t->wait_start;
		t->waiting = false;
	}
	t->hold_start = ns;
	t->holding = true;
	log_ev(t, EV_ACQUIRE, ns);
	toyvm_gil_acquired(&toyvm_gil, t->tid);
}

/* Returns how long t held the GIL this time. */
static uint64_t ev_release(struct gil_thread *t, bool forced)
{
	uint64_t ns = now_ns(), held = ns - t->hold_start;

	t->hold_ns += held;
	t->holding = false;
	if (forced) {
		t->forced_switches++;
		log_ev(t, EV_FORCED_RELEASE, ns);
		toyvm_gil_forced_release(&toyvm_gil, t->tid);
	} else {
		log_ev(t, EV_RELEASE, ns);
		toyvm_gil_release(&toyvm_gil, t->tid);
	}
	return held;
}

/* ---- threads ---- */

struct gil_thread *gil_thread_new(const char *name)
{
	struct gil_thread *t = calloc(1, sizeof(*t));
	int slot;

	if (!t)
		return NULL;
	pthread_mutex_lock(gil_mutex);
	for (slot = 0; slot < GIL_MAX_LIVE_THREADS; slot++)
		if (!(G.slots_used & (1ull << slot)))
			break;
	if (slot == GIL_MAX_LIVE_THREADS) {
		pthread_mutex_unlock(gil_mutex);
		free(t);
		return NULL;
	}
	if (G.nthreads == G.cap) {
		uint32_t cap = G.cap ? G.cap * 2 : 16;
		struct gil_thread **n = realloc(G.threads, cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(gil_mutex);
			free(t);
			return NULL;
		}
		G.threads = n;
		G.cap = cap;
	}
	G.slots_used |= 1ull << slot;
	t->slot = slot;
	t->idx = G.nthreads;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->ticks = (int)G.check_interval;
	t->alive = true;
	G.threads[G.nthreads++] = t;
	pthread_mutex_unlock(gil_mutex);
	return t;
}

void gil_thread_start(struct gil_thread *t)
{
	long tid = syscall(SYS_gettid);

	pthread_setname_np(pthread_self(), t->name);
	pthread_mutex_lock(gil_mutex);
	t->tid = tid;
	pthread_mutex_unlock(gil_mutex);
}

void gil_thread_exit(struct gil_thread *t)
{
	pthread_mutex_lock(gil_mutex);
	t->alive = false;
	G.slots_used &= ~(1ull << t->slot);
	pthread_mutex_unlock(gil_mutex);
}

void gil_thread_setname(struct gil_thread *t, const char *name)
{
	char n[16];
	size_t i;

	snprintf(n, sizeof(n), "%s", name);
	for (i = 0; n[i]; i++)
		if (n[i] == ' ' || n[i] == '"' || n[i] == '\\' ||
		    (unsigned char)n[i] < 0x20)
			n[i] = '_';
	pthread_setname_np(pthread_self(), n);
	pthread_mutex_lock(gil_mutex);
	memcpy(t->name, n, sizeof(n));
	pthread_mutex_unlock(gil_mutex);
}

/* ---- helpers ---- */

static struct timespec deadline_at(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};
	return ts;
}

static int timed_wait(pthread_cond_t *c, uint64_t deadline)
{
	struct timespec ts = deadline_at(deadline);
	int r = pthread_cond_timedwait(c, gil_mutex, &ts);

	if (r && r != ETIMEDOUT)
		die_errno("pthread_cond_timedwait", r);
	return r;
}

static void set_owner(struct gil_thread *t)
{
	G.locked = true;
	G.holder = t;
	G.switch_number++;
	G.grant_ns = now_ns();
}

/* ---- old: mutex + condvar binary semaphore ---- */

static void acquire_old(struct gil_thread *t)
{
	pthread_mutex_lock(gil_mutex);
	ev_entry(t);
	if (G.locked) {
		ev_wait(t);
		while (G.locked) {
			int r = pthread_cond_wait(&toyvm_gil.cond, gil_mutex);

			if (r)
				die_errno("pthread_cond_wait", r);
			if (G.locked)
				ev_retry(t);
		}
	}
	set_owner(t);
	ev_acquired(t);
	pthread_mutex_unlock(gil_mutex);
}

static void release_old(struct gil_thread *t)
{
	pthread_mutex_lock(gil_mutex);
	G.locked = false;
	G.holder = NULL;
	ev_release(t, false);
	pthread_cond_signal(&toyvm_gil.cond);
	pthread_mutex_unlock(gil_mutex);
}

/* ---- new: Python 3.2 ---- */

static void acquire_new(struct gil_thread *t)
{
	pthread_mutex_lock(gil_mutex);
	ev_entry(t);
	if (G.locked) {
		ev_wait(t);
		while (G.locked) {
			uint64_t saved = G.switch_number;
			int r = timed_wait(&toyvm_gil.cond,
					   now_ns() + G.switch_ns);

			if (r == ETIMEDOUT) {
				ev_timeout(t);
				if (G.locked && G.switch_number == saved)
					ev_drop_request(t, DROP_TIMEOUT);
			} else if (G.locked) {
				ev_retry(t);
			}
		}
	}
	set_owner(t);
	G.last_holder = t;
	atomic_store(&gil_eval_breaker, 0);
	pthread_cond_broadcast(&toyvm_gil.switch_cond);
	ev_acquired(t);
	pthread_mutex_unlock(gil_mutex);
}

static void release_new_locked(struct gil_thread *t, bool forced)
{
	G.locked = false;
	G.holder = NULL;
	ev_release(t, forced);
	pthread_cond_signal(&toyvm_gil.cond);
}

/* ---- prio and fifo: wait queue with direct hand-off ---- */

static void enqueue(struct gil_thread *t)
{
	struct gil_thread **p = &G.queue;

	while (*p)
		p = &(*p)->next;
	t->next = NULL;
	*p = t;
}

static void dequeue(struct gil_thread *t)
{
	struct gil_thread **p = &G.queue;

	while (*p && *p != t)
		p = &(*p)->next;
	if (*p)
		*p = t->next;
	t->next = NULL;
}

/* The waiter that gets the GIL next: the queue head for fifo, the first
 * waiter of the best (lowest) level for prio. */
static struct gil_thread *best_waiter(void)
{
	struct gil_thread *w, *best = G.queue;

	if (G.design == GIL_PRIO)
		for (w = G.queue; w; w = w->next)
			if (w->level < best->level)
				best = w;
	return best;
}

static void acquire_queued(struct gil_thread *t)
{
	pthread_mutex_lock(gil_mutex);
	ev_entry(t);
	if (!G.locked) {
		/* Unlocked implies an empty queue: releases hand off. */
		set_owner(t);
	} else {
		ev_wait(t);
		enqueue(t);
		if (G.design == GIL_PRIO && t->level < G.holder->level)
			ev_drop_request(t, DROP_PREEMPT);	/* preempt */
		else if (best_waiter() == t &&
			 now_ns() >= G.grant_ns + G.switch_ns)
			ev_drop_request(t, DROP_TIMEOUT); /* quantum is over */
		while (G.holder != t) {
			uint64_t saved = G.switch_number;
			uint64_t deadline = G.grant_ns + G.switch_ns;
			uint64_t ns = now_ns();
			int r;

			if (deadline <= ns)
				deadline = ns + G.switch_ns;
			r = timed_wait(&toyvm_gil.slot[t->slot], deadline);
			if (G.holder == t)
				break;
			if (r != ETIMEDOUT) {
				ev_retry(t);
				continue;
			}
			ev_timeout(t);
			if (G.switch_number == saved && best_waiter() == t)
				ev_drop_request(t, G.design == GIL_PRIO &&
						t->level < G.holder->level ?
						DROP_PREEMPT : DROP_TIMEOUT);
		}
	}
	/* Keep a pending preemption by a better waiter; else clear. */
	if (!(G.design == GIL_PRIO && G.queue &&
	      best_waiter()->level < t->level))
		atomic_store(&gil_eval_breaker, 0);
	ev_acquired(t);
	pthread_mutex_unlock(gil_mutex);
}

static void release_queued_locked(struct gil_thread *t, bool forced)
{
	uint64_t held = ev_release(t, forced);
	struct gil_thread *w;

	if (G.design == GIL_PRIO) {
		if (forced && G.drop_reason == DROP_TIMEOUT &&
		    t->level < PRIO_LEVELS - 1)
			t->level++;
		else if (!forced && held < G.switch_ns && t->level > 0)
			t->level--;
	}
	atomic_store(&gil_eval_breaker, 0);
	if (G.queue) {
		w = best_waiter();
		dequeue(w);
		set_owner(w);
		pthread_cond_signal(&toyvm_gil.slot[w->slot]);
	} else {
		G.locked = false;
		G.holder = NULL;
	}
}

/* ---- interface ---- */

void gil_acquire(struct gil_thread *t)
{
	switch (G.design) {
	case GIL_OLD:
		acquire_old(t);
		break;
	case GIL_NEW:
		acquire_new(t);
		break;
	default:
		acquire_queued(t);
	}
}

void gil_release(struct gil_thread *t)
{
	if (G.design == GIL_OLD) {
		release_old(t);
		return;
	}
	pthread_mutex_lock(gil_mutex);
	if (G.design == GIL_NEW)
		release_new_locked(t, false);
	else
		release_queued_locked(t, false);
	pthread_mutex_unlock(gil_mutex);
}

void gil_tick_check(struct gil_thread *t)
{
	t->ticks = (int)G.check_interval;
	t->checks++;
	if (G.design == GIL_OLD) {
		/* Python 2: release and immediately re-acquire. */
		t->ticks = 0;
		release_old(t);
		acquire_old(t);
		t->ticks = (int)G.check_interval;
	}
}

void gil_drop_check(struct gil_thread *t)
{
	pthread_mutex_lock(gil_mutex);
	if (!atomic_load(&gil_eval_breaker) || G.holder != t || !t->holding) {
		pthread_mutex_unlock(gil_mutex);
		return;
	}
	if (G.design == GIL_NEW) {
		release_new_locked(t, true);
		/* Forced switching: wait until another thread took it. */
		while (G.last_holder == t) {
			int r = pthread_cond_wait(&toyvm_gil.switch_cond,
						  gil_mutex);
			if (r)
				die_errno("pthread_cond_wait", r);
		}
		pthread_mutex_unlock(gil_mutex);
		acquire_new(t);
	} else {
		/* The hand-off gives it to a waiter; queue up behind it. */
		release_queued_locked(t, true);
		pthread_mutex_unlock(gil_mutex);
		acquire_queued(t);
	}
}

/* ---- snapshot and log ---- */

static char *snapshot(const char *reason, bool lock);

char *gil_snapshot_json(const char *reason) { return snapshot(reason, true); }

char *gil_freeze_and_snapshot_json(const char *reason)
{
	pthread_mutex_lock(gil_mutex);
	return snapshot(reason, false);
}

static char *snapshot(const char *reason, bool lock)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint32_t i;
	bool first = true;

	if (!f)
		die_errno("open_memstream", errno);
	if (lock)
		pthread_mutex_lock(gil_mutex);
	fprintf(f, "{\"gil\": \"%s\", \"reason\": \"%s\", \"mono_ns\": %llu, "
		"\"threads\": [", design_names[G.design], reason,
		(unsigned long long)now_ns());
	for (i = 0; i < G.nthreads; i++) {
		struct gil_thread *t = G.threads[i];

		if (!t->tid)
			continue;	/* not started yet */
		fprintf(f, "%s{\"tid\": %ld, \"name\": \"%s\", "
			"\"acquisitions\": %llu, \"busy\": %llu, "
			"\"retries\": %llu, \"timeouts\": %llu, "
			"\"drop_requests\": %llu, \"forced_switches\": %llu, "
			"\"wait_ns\": %llu, \"hold_ns\": %llu, "
			"\"alive\": %s, \"holding\": %s}",
			first ? "" : ", ", t->tid, t->name,
			(unsigned long long)t->acquisitions,
			(unsigned long long)t->busy,
			(unsigned long long)t->retries,
			(unsigned long long)t->timeouts,
			(unsigned long long)t->drop_requests,
			(unsigned long long)t->forced_switches,
			(unsigned long long)t->wait_ns,
			(unsigned long long)t->hold_ns,
			t->alive ? "true" : "false",
			t->holding ? "true" : "false");
		first = false;
	}
	if (lock)
		pthread_mutex_unlock(gil_mutex);
	fprintf(f, "]}\n");
	if (fclose(f))
		die_errno("open_memstream", errno);
	return buf;
}

uint64_t gil_log_write(FILE *f, uint64_t *kept)
{
	uint64_t i;

	*kept = G.log_len;
	fprintf(f, "# toyvm gil log: gil=%s events=%llu dropped=%llu\n",
		design_names[G.design], (unsigned long long)G.log_len,
		(unsigned long long)G.log_dropped);
	fprintf(f, "# mono_ns tid name ticks check event\n");
	for (i = 0; i < G.log_len; i++) {
		struct log_rec *r = &G.log[i];
		struct gil_thread *t = G.threads[r->thread];

		fprintf(f, "%llu %ld %s %d %u %s\n", (unsigned long long)r->ns,
			t->tid, t->name, r->ticks, r->check, ev_names[r->ev]);
	}
	return G.log_dropped;
}
