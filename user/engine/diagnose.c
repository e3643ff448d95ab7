/*
 * Diagnosis rules. Each threshold is a named constant saying why it has
 * the value it has (docs/diagnoses.md lists them); rules read only engine
 * accessors, like a view would.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/diagnose.h"
#include "engine/engine.h"

/*
 * Is the GIL the bottleneck? Only if it is busy: held at least
 * BUSY_MIN_UTILISATION of the time, or taken from its holders by force
 * BUSY_MIN_FORCED_PER_S times a second or more (each a waiter that waited
 * a whole switch interval for a holder that would not let go: 15 a second
 * is 7.5% of the time at 5 ms). On a GIL held a quarter of the time and
 * rarely forced, threads that wait for it (hashlib or zlib threads, more
 * than there are CPUs) wait for a CPU, not for the GIL's holders: taking
 * Python work away would not shorten their waits. Measured on the app
 * workloads (tests/e2e/py/apps, 2 CPUs): the web server and the mixed pool
 * 92-94% held and 130-140 forced/s, one hog beside four hashlib threads
 * 53-69% and 20-43/s; the healthy ones 5-35% and 0-6/s.
 */
#define BUSY_MIN_UTILISATION 0.5
#define BUSY_MIN_FORCED_PER_S 15.0

/*
 * GIL-bound latency: on average WAITING_MIN threads (a fifth of a thread)
 * wait while another thread holds the GIL, i.e. 200 ms of waiting a
 * second. However short each wait (two CPU-bound threads at a 100 us
 * switch interval wait 100 us at a time, half their time), the time adds
 * to every request and task: the p99 wait is reported, not required.
 */
#define WAITING_MIN 0.2

/* Hog: on a busy GIL that others queue for (as for latency), one thread holds
 * it most, HOG_MIN_SHARE of all holds: it alone sets everyone's latency.
 * (A pool that spreads its work over its threads has none: 18-26% on the
 * web server and the mixed pool; one hog beside four hashlib threads,
 * 79-82%.) */
#define HOG_MIN_SHARE 0.6

/*
 * C code holding the GIL: pure Python honours a drop request within a few
 * bytecodes (web server and mixed pool: at most 2.1 ms from the request
 * to the release; a Python loop beside four busy hashlib threads, where
 * the holder is often descheduled, 12.8 ms), C code that never releases
 * the GIL only when it returns (re over 4 MB: half the releases 13 ms or
 * later, a fifth 20 ms or later, up to 56 ms). C_HOLD_MIN_SLOW releases
 * C_HOLD_MIN_DELAY_NS (four switch intervals) or more after the request
 * make a pattern; a startup import or a descheduled holder gives one.
 * Whole run only: the interval keeps no histogram of these delays.
 */
#define C_HOLD_MIN_DELAY_NS 20000000ULL
#define C_HOLD_MIN_SLOW 5

/*
 * Convoy effect (Beazley, "Understanding the Python GIL"): a thread that
 * releases the GIL for I/O finds it taken by a CPU-bound thread when the
 * I/O completes, and waits a whole switch interval (new GIL: 5 ms) to get
 * it back, on every I/O operation. One long wait is noise; CONVOY_MIN_WAITS
 * contended re-acquisitions make it a pattern. The median of the waits
 * after a voluntary release (uncontended ones count as 0, so the median
 * stays 0 unless most I/O operations wait) must reach half the observed
 * timed-wait interval, or CONVOY_MIN_MEDIAN_NS, whichever is lower: 1 ms
 * added to each I/O operation already caps a thread at 1000 operations/s.
 * Only on a busy GIL: threads back from C code that released it wait as
 * long for a CPU on an oversubscribed machine, with no CPU-bound holder.
 */
#define CONVOY_MIN_WAITS 20
#define CONVOY_INTERVAL_FRACTION 0.5
#define CONVOY_MIN_MEDIAN_NS 1000000ULL

/*
 * GIL battle: a waiter is woken, but another thread (often the releaser
 * itself, still on its CPU) takes the GIL first: a wasted wake-up and two
 * context switches. One retry in ten acquisitions is well above what an
 * orderly hand-off gives (close to 0), and BATTLE_MIN_RETRIES keeps short
 * runs from firing on a handful of unlucky wake-ups.
 */
#define BATTLE_MIN_BADNESS 0.1
#define BATTLE_MIN_RETRIES 100

/* Starved thread: waiting for the GIL more than 80% of the time leaves it
 * less than a fifth of its time to run; below that, it is contention. */
#define STARVED_MIN_WAIT_SHARE 0.8

/* Switching too often: the default switch interval (5 ms) forces at most
 * 200 switches a second; a thousand means it was lowered below 1 ms, and
 * each forced switch costs two context switches and cold caches. */
#define SWITCHING_MIN_FORCED_PER_S 1000.0

/* One process's figures over the scope, shared by its rules. */
struct proc_ctx {
	const struct engine_thread **grp;
	size_t n;
	__u64 len_ns;        /* the scope's length */
	__u64 hold_ns;       /* every thread's hold */
	__u64 wait_held_ns;  /* waiting while another thread held the GIL */
	__u64 forced;
	__u32 waited;        /* threads that waited */
	double utilisation;  /* hold_ns / len_ns */
	double waiting;      /* wait_held_ns / len_ns */
	__u64 wait_p99_ns;   /* run scope only */
};

struct rule_ctx {
	enum diag_scope scope;
	struct engine_totals totals;
	struct proc_ctx p;
	struct diagnosis *out;
	size_t cap, n;
};

static struct diagnosis *diag_add(struct rule_ctx *ctx, enum diag_kind kind,
				  const struct engine_thread *t, double figure)
{
	struct diagnosis *d;

	if (ctx->n >= ctx->cap)
		return NULL;
	d = &ctx->out[ctx->n++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->tgid = ctx->p.grp[0]->tgid;
	d->tid = t ? t->tid : 0;
	d->figure = figure;
	d->utilisation = ctx->p.utilisation;
	return d;
}

static __u64 hold_of(const struct rule_ctx *ctx, const struct engine_thread *t)
{
	return ctx->scope == DIAG_RUN ? t->c.hold_ns : t->iv.hold_ns;
}

static __u64 wait_of(const struct rule_ctx *ctx, const struct engine_thread *t)
{
	return ctx->scope == DIAG_RUN ? t->c.wait_ns : t->iv.wait_ns;
}

static double forced_per_s(const struct rule_ctx *ctx)
{
	return (double)ctx->p.forced * 1e9 / (double)ctx->p.len_ns;
}

static int gil_busy(const struct rule_ctx *ctx)
{
	return ctx->p.utilisation >= BUSY_MIN_UTILISATION ||
	       forced_per_s(ctx) >= BUSY_MIN_FORCED_PER_S;
}

/* The process's figures over the scope; 0 if it has nothing to judge. */
static int proc_figures(struct rule_ctx *ctx, const struct engine_thread **grp, size_t n)
{
	const struct engine_proc *proc = engine__thread_proc(grp[0]);
	struct proc_ctx *p = &ctx->p;
	struct hist *wait = NULL;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->grp = grp;
	p->n = n;
	p->len_ns = ctx->scope == DIAG_RUN ? ctx->totals.duration_ns : 0;
	p->wait_held_ns = ctx->scope == DIAG_RUN ? proc->wait_held_ns : proc->iv_wait_held_ns;
	if (ctx->scope == DIAG_RUN) {
		/* A process's waits, merged: 8 KiB, too large for the stack. */
		wait = malloc(sizeof(*wait));
		if (!wait)
			return 0;
		hist__init(wait);
	}
	for (i = 0; i < n; i++) {
		const struct engine_thread *t = grp[i];

		if (ctx->scope == DIAG_INTERVAL && t->iv.len_ns > p->len_ns)
			p->len_ns = t->iv.len_ns;
		p->hold_ns += hold_of(ctx, t);
		p->forced += ctx->scope == DIAG_RUN ? t->c.forced_switches : t->iv.forced_switches;
		if (wait_of(ctx, t))
			p->waited++;
		if (wait)
			hist__merge(wait, &t->wait);
	}
	if (wait) {
		p->wait_p99_ns = hist__percentile(wait, 99);
		free(wait);
	}
	if (!p->len_ns || !p->hold_ns)
		return 0;
	p->utilisation = (double)p->hold_ns / (double)p->len_ns;
	if (p->utilisation > 1.0)
		p->utilisation = 1.0;
	p->waiting = (double)p->wait_held_ns / (double)p->len_ns;
	return 1;
}

/* The thread of the process that held the GIL most, other than t. */
static const struct engine_thread *top_holder(const struct rule_ctx *ctx,
					      const struct engine_thread *t, double *share)
{
	const struct engine_thread *best = NULL;
	size_t i;

	for (i = 0; i < ctx->p.n; i++) {
		const struct engine_thread *c = ctx->p.grp[i];

		if (c != t && (!best || hold_of(ctx, c) > hold_of(ctx, best)))
			best = c;
	}
	*share = best && ctx->p.hold_ns ? (double)hold_of(ctx, best) / (double)ctx->p.hold_ns : 0;
	return best && hold_of(ctx, best) ? best : NULL;
}

/* The process's top holder other than t (any, for t NULL) goes with d. */
static void add_holder(struct diagnosis *d, const struct rule_ctx *ctx,
		       const struct engine_thread *t)
{
	double share;
	const struct engine_thread *h = top_holder(ctx, t, &share);

	if (!h)
		return;
	d->holder_tid = h->tid;
	d->holder_share = share;
}

/* Threads queue behind the GIL's holders long enough to matter. */
static int queued(const struct rule_ctx *ctx)
{
	return gil_busy(ctx) && ctx->p.waiting >= WAITING_MIN;
}

static void latency_rule(struct rule_ctx *ctx)
{
	struct diagnosis *d;

	if (!queued(ctx))
		return;
	d = diag_add(ctx, DIAG_LATENCY, NULL, ctx->p.waiting);
	if (!d)
		return;
	d->count = ctx->p.waited;
	d->wait_p99_ns = ctx->p.wait_p99_ns;
	add_holder(d, ctx, NULL);
}

static void hog_rule(struct rule_ctx *ctx)
{
	const struct engine_thread *h;
	struct diagnosis *d;
	double share, held;

	if (!queued(ctx))
		return;
	h = top_holder(ctx, NULL, &share);
	if (!h || share < HOG_MIN_SHARE)
		return;
	held = (double)hold_of(ctx, h) / (double)ctx->p.len_ns;
	d = diag_add(ctx, DIAG_HOG, h, held > 1.0 ? 1.0 : held);
	if (!d)
		return;
	d->holder_tid = h->tid;
	d->holder_share = share;
}

static void c_hold_rule(struct rule_ctx *ctx)
{
	const struct engine_thread *worst = NULL;
	__u64 worst_slow = 0;
	struct diagnosis *d;
	size_t i;

	if (ctx->scope != DIAG_RUN)
		return;
	for (i = 0; i < ctx->p.n; i++) {
		const struct hist *h = &ctx->p.grp[i]->release_delay;
		__u64 slow = h->count - hist__count_le(h, C_HOLD_MIN_DELAY_NS - 1);

		if (slow > worst_slow) {
			worst = ctx->p.grp[i];
			worst_slow = slow;
		}
	}
	if (!worst || worst_slow < C_HOLD_MIN_SLOW)
		return;
	d = diag_add(ctx, DIAG_C_HOLD, worst, (double)worst->release_delay.max);
	if (d)
		d->count = worst_slow;
}

/* How long thread t typically waits after an I/O, over how many waits. */
static double convoy_wait(const struct rule_ctx *ctx, const struct engine_thread *t,
			  __u64 *waits)
{
	if (ctx->scope == DIAG_RUN) {
		/* The histogram holds every re-acquisition after a release,
		 * the uncontended ones as 0 at the bottom: the median of the
		 * contended ones sits that far up. */
		__u64 all = t->io_wait.count;

		*waits = t->io_wait_contended;
		return all ? (double)hist__percentile(
				     &t->io_wait, 100.0 * (1.0 - (double)*waits / (2.0 * all)))
			   : 0;
	}
	/* No per-interval histogram: the mean of the contended
	 * re-acquisitions stands in for their median. */
	*waits = t->iv.io_waits_contended;
	return *waits ? (double)t->iv.io_wait_contended_sum_ns / (double)*waits : 0;
}

/* One convoy per process: its threads in a convoy, named by the one the
 * GIL delays most (waits x typical wait). */
static void convoy_rule(struct rule_ctx *ctx)
{
	const struct engine_thread *worst = NULL;
	__u64 threshold = CONVOY_MIN_MEDIAN_NS, count = 0;
	double worst_typical = 0, worst_cost = 0;
	struct diagnosis *d;
	__u32 threads = 0;
	size_t i;

	if (!gil_busy(ctx))
		return;
	if (ctx->totals.timed_wait_ns &&
	    ctx->totals.timed_wait_ns * CONVOY_INTERVAL_FRACTION < (double)threshold)
		threshold = (__u64)(ctx->totals.timed_wait_ns * CONVOY_INTERVAL_FRACTION);
	for (i = 0; i < ctx->p.n; i++) {
		__u64 waits;
		double typical = convoy_wait(ctx, ctx->p.grp[i], &waits);

		if (waits < CONVOY_MIN_WAITS || typical < (double)threshold)
			continue;
		threads++;
		count += waits;
		if (!worst || typical * (double)waits > worst_cost) {
			worst = ctx->p.grp[i];
			worst_typical = typical;
			worst_cost = typical * (double)waits;
		}
	}
	if (!worst)
		return;
	d = diag_add(ctx, DIAG_CONVOY, worst, worst_typical);
	if (!d)
		return;
	d->count = count;
	d->threads = threads;
	add_holder(d, ctx, worst);
}

static void battle_rule(struct rule_ctx *ctx)
{
	const struct engine_thread *worst = NULL;
	__u64 retries = 0, acq = 0;
	struct diagnosis *d;
	double badness;
	size_t i;

	for (i = 0; i < ctx->p.n; i++) {
		const struct engine_thread *t = ctx->p.grp[i];
		__u64 r = ctx->scope == DIAG_RUN ? t->c.retries : t->iv.retries;

		retries += r;
		acq += ctx->scope == DIAG_RUN ? t->c.acquisitions : t->iv.acquisitions;
		if (!worst || r > (ctx->scope == DIAG_RUN ? worst->c.retries : worst->iv.retries))
			worst = t;
	}
	if (!worst || !acq || retries < BATTLE_MIN_RETRIES)
		return;
	badness = (double)retries / (double)acq;
	if (badness < BATTLE_MIN_BADNESS)
		return;
	d = diag_add(ctx, DIAG_BATTLE, worst, badness);
	if (!d)
		return;
	d->count = retries;
	add_holder(d, ctx, NULL);
}

static void starved_rule(struct rule_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->p.n; i++) {
		const struct engine_thread *t = ctx->p.grp[i];
		double share = (double)wait_of(ctx, t) / (double)ctx->p.len_ns;
		struct diagnosis *d;

		if (share <= STARVED_MIN_WAIT_SHARE)
			continue;
		d = diag_add(ctx, DIAG_STARVED, t, share > 1.0 ? 1.0 : share);
		if (!d)
			return;
		add_holder(d, ctx, t);
	}
}

static void switching_rule(struct rule_ctx *ctx)
{
	double per_s = forced_per_s(ctx);
	struct diagnosis *d;

	if (per_s < SWITCHING_MIN_FORCED_PER_S)
		return;
	d = diag_add(ctx, DIAG_SWITCHING, NULL, per_s);
	if (d)
		add_holder(d, ctx, NULL);
}

/* The verdict when nothing fired: the figures that say why not. */
static void healthy_verdict(struct rule_ctx *ctx)
{
	struct diagnosis *d = diag_add(ctx, DIAG_HEALTHY, NULL, ctx->p.waiting);

	if (!d)
		return;
	d->count = ctx->p.waited;
	d->wait_p99_ns = ctx->p.wait_p99_ns;
}

typedef void (*rule_fn)(struct rule_ctx *ctx);

size_t diagnose__run(const struct engine *eng, enum diag_scope scope,
		     struct diagnosis *out, size_t cap)
{
	static const rule_fn rules[] = { latency_rule, hog_rule,     c_hold_rule,   convoy_rule,
					 battle_rule,  starved_rule, switching_rule };
	struct rule_ctx ctx = { .scope = scope, .out = out, .cap = cap };
	const struct engine_thread **threads;
	size_t n, r, i, j, before;

	if (!cap || engine__thread_list(eng, &threads, &n) || !n)
		return 0;
	engine__totals(eng, &ctx.totals);
	/* Each process has its own GIL: rules look at one process at a time. */
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && threads[j]->tgid == threads[i]->tgid; j++)
			;
		if (!proc_figures(&ctx, threads + i, j - i))
			continue;
		before = ctx.n;
		for (r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
			rules[r](&ctx);
		/* A free-threaded CPython's GIL that was never on is no healthy
		 * GIL: there was none (the views say so). */
		if (ctx.n == before && !ft_gil__off(&engine__thread_proc(threads[i])->ft))
			healthy_verdict(&ctx);
	}
	free(threads);
	return diagnose_locks__run(eng, scope, out, ctx.n, cap);
}
