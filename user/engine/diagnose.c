/*
 * Diagnosis rules. Each threshold is a named constant saying why it has
 * the value it has; rules read only engine accessors, like a view would.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/diagnose.h"
#include "engine/engine.h"

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

struct rule_ctx {
	const struct engine *eng;
	enum diag_scope scope;
	struct engine_totals totals;
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
	d->tgid = t->tgid;
	d->tid = t->tid;
	d->figure = figure;
	return d;
}

static __u64 hold_of(const struct rule_ctx *ctx, const struct engine_thread *t)
{
	return ctx->scope == DIAG_RUN ? t->c.hold_ns : t->iv.hold_ns;
}

/* The thread of t's process that held the GIL most, other than t. */
static const struct engine_thread *top_holder(const struct rule_ctx *ctx,
					      const struct engine_thread **grp, size_t n,
					      const struct engine_thread *t, double *share)
{
	const struct engine_thread *best = NULL;
	__u64 total = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		total += hold_of(ctx, grp[i]);
		if (grp[i] != t && (!best || hold_of(ctx, grp[i]) > hold_of(ctx, best)))
			best = grp[i];
	}
	*share = best && total ? (double)hold_of(ctx, best) / (double)total : 0.0;
	return best && hold_of(ctx, best) ? best : NULL;
}

/* The process's top holder other than t (any, for t NULL) goes with d. */
static void add_holder(struct diagnosis *d, const struct rule_ctx *ctx,
		       const struct engine_thread **grp, size_t n, const struct engine_thread *t)
{
	double share;
	const struct engine_thread *h = top_holder(ctx, grp, n, t, &share);

	if (!h)
		return;
	d->holder_tid = h->tid;
	d->holder_share = share;
}

static void convoy_rule(struct rule_ctx *ctx, const struct engine_thread **grp, size_t n)
{
	__u64 threshold = CONVOY_MIN_MEDIAN_NS;
	size_t i;

	if (ctx->totals.timed_wait_ns &&
	    ctx->totals.timed_wait_ns * CONVOY_INTERVAL_FRACTION < (double)threshold)
		threshold = (__u64)(ctx->totals.timed_wait_ns * CONVOY_INTERVAL_FRACTION);
	for (i = 0; i < n; i++) {
		const struct engine_thread *t = grp[i];
		struct diagnosis *d;
		__u64 waits;
		double typical;

		if (ctx->scope == DIAG_RUN) {
			/* The histogram holds every re-acquisition after a release,
			 * the uncontended ones as 0 at the bottom: the median of the
			 * contended ones sits that far up. */
			__u64 all = t->io_wait.count;

			waits = t->io_wait_contended;
			typical = all ? (double)hist__percentile(
						&t->io_wait, 100.0 * (1.0 - (double)waits / (2.0 * all)))
				      : 0;
		} else {
			/* No per-interval histogram: the mean of the contended
			 * re-acquisitions stands in for their median. */
			waits = t->iv.io_waits_contended;
			typical = waits ? (double)t->iv.io_wait_contended_sum_ns / (double)waits : 0;
		}
		if (waits < CONVOY_MIN_WAITS || typical < (double)threshold)
			continue;
		d = diag_add(ctx, DIAG_CONVOY, t, typical);
		if (!d)
			return;
		d->count = waits;
		add_holder(d, ctx, grp, n, t);
	}
}

static void battle_rule(struct rule_ctx *ctx, const struct engine_thread **grp, size_t n)
{
	const struct engine_thread *worst = NULL;
	__u64 retries = 0, acq = 0;
	struct diagnosis *d;
	double badness;
	size_t i;

	for (i = 0; i < n; i++) {
		__u64 r = ctx->scope == DIAG_RUN ? grp[i]->c.retries : grp[i]->iv.retries;

		retries += r;
		acq += ctx->scope == DIAG_RUN ? grp[i]->c.acquisitions : grp[i]->iv.acquisitions;
		if (!worst || r > (ctx->scope == DIAG_RUN ? worst->c.retries : worst->iv.retries))
			worst = grp[i];
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
	add_holder(d, ctx, grp, n, NULL);
}

static void starved_rule(struct rule_ctx *ctx, const struct engine_thread **grp, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct engine_thread *t = grp[i];
		struct diagnosis *d;
		double share;

		if (ctx->scope == DIAG_RUN)
			share = ctx->totals.duration_ns ?
				(double)t->c.wait_ns / (double)ctx->totals.duration_ns : 0;
		else
			share = t->iv.wait_share;
		if (share <= STARVED_MIN_WAIT_SHARE)
			continue;
		d = diag_add(ctx, DIAG_STARVED, t, share);
		if (!d)
			return;
		add_holder(d, ctx, grp, n, t);
	}
}

typedef void (*rule_fn)(struct rule_ctx *ctx, const struct engine_thread **grp, size_t n);

size_t diagnose__run(const struct engine *eng, enum diag_scope scope,
		     struct diagnosis *out, size_t cap)
{
	static const rule_fn rules[] = { convoy_rule, battle_rule, starved_rule };
	struct rule_ctx ctx = { .eng = eng, .scope = scope, .out = out, .cap = cap };
	const struct engine_thread **threads;
	size_t n, r, i, j;

	if (!cap || engine__thread_list(eng, &threads, &n) || !n)
		return 0;
	engine__totals(eng, &ctx.totals);
	/* Each process has its own GIL: rules look at one process at a time. */
	for (r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
		for (i = 0; i < n; i = j) {
			for (j = i; j < n && threads[j]->tgid == threads[i]->tgid; j++)
				;
			rules[r](&ctx, threads + i, j - i);
		}
	}
	free(threads);
	return ctx.n;
}
