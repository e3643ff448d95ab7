/*
 * Read-only accessors: every figure a view shows is derived here, from the
 * counters and histograms that engine.c keeps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"

size_t engine__nthreads(const struct engine *eng)
{
	return eng->nthreads;
}

static int thread_cmp(const void *a, const void *b)
{
	const struct engine_thread *x = *(const struct engine_thread *const *)a;
	const struct engine_thread *y = *(const struct engine_thread *const *)b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return 0;
}

size_t engine__threads(const struct engine *eng, const struct engine_thread **out, size_t cap)
{
	size_t i, n = eng->nthreads < cap ? eng->nthreads : cap;

	if (n < eng->nthreads) {
		/* Sorting a prefix of the insertion order would not group by
		 * tgid: the caller asked for less than all, give the first. */
		const struct engine_thread **all = malloc(eng->nthreads * sizeof(*all));

		if (!all)
			return eng->nthreads;
		for (i = 0; i < eng->nthreads; i++)
			all[i] = &eng->threads[i]->pub;
		qsort(all, eng->nthreads, sizeof(*all), thread_cmp);
		memcpy(out, all, n * sizeof(*out));
		free(all);
		return eng->nthreads;
	}
	for (i = 0; i < n; i++)
		out[i] = &eng->threads[i]->pub;
	qsort(out, n, sizeof(*out), thread_cmp);
	return eng->nthreads;
}

int engine__thread_list(const struct engine *eng, const struct engine_thread ***out, size_t *n)
{
	*n = eng->nthreads;
	*out = *n ? malloc(*n * sizeof(**out)) : NULL;
	if (!*out)
		return *n ? -ENOMEM : 0;
	engine__threads(eng, *out, *n);
	return 0;
}

static const struct thread_slot *slot_of(const struct engine_thread *t)
{
	/* pub is the first member of thread_slot. */
	return (const struct thread_slot *)t;
}

const struct engine_thread *engine__find_thread(const struct engine *eng, __u32 tgid, __u32 tid)
{
	const struct thread_slot *t = engine__slot(eng, tgid, tid);

	return t ? &t->pub : NULL;
}

static void io_figures(const struct hist *h, __u64 contended, struct io_wait_figures *io)
{
	io->count = h->count;
	io->contended = contended;
	io->mean_ns = hist__mean(h);
	io->p50_ns = hist__percentile(h, 50);
	io->p99_ns = hist__percentile(h, 99);
	io->max_ns = h->count ? h->max : 0;
	io->total_ns = h->sum;
}

static void figures_of(const struct engine_thread *t, const struct engine_proc *p,
		       struct thread_figures *out)
{
	memset(out, 0, sizeof(*out));
	out->contention_pct = 100.0 * ratio(t->c.waits, t->c.acquisitions);
	out->wait_mean_ns = ratio(t->c.wait_ns, t->c.waits);
	out->wait_p50_ns = hist__percentile(&t->wait, 50);
	out->wait_p90_ns = hist__percentile(&t->wait, 90);
	out->wait_p99_ns = hist__percentile(&t->wait, 99);
	out->wait_max_ns = t->wait.count ? t->wait.max : 0;
	out->hold_mean_ns = ratio(t->c.hold_ns, t->c.holds);
	out->gil_share = ratio(t->c.hold_ns, p->hold_ns);
	out->badness = ratio(t->c.retries, t->c.acquisitions);
	io_figures(&t->io_wait, t->io_wait_contended, &out->io);
}

void engine__thread_figures(const struct engine *eng, const struct engine_thread *t,
			    struct thread_figures *out)
{
	(void)eng;
	figures_of(t, slot_of(t)->proc, out);
}

static void add_counts(struct gil_counts *sum, const struct gil_counts *c);

int engine__group_figures(const struct engine *eng, const struct engine_thread *const *members,
			  size_t n, struct gil_counts *sum, struct thread_figures *out)
{
	struct engine_thread *g;
	size_t i;

	(void)eng;
	memset(sum, 0, sizeof(*sum));
	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		add_counts(&g->c, &members[i]->c);
		hist__merge(&g->wait, &members[i]->wait);
		hist__merge(&g->io_wait, &members[i]->io_wait);
		g->io_wait_contended += members[i]->io_wait_contended;
	}
	figures_of(g, slot_of(members[0])->proc, out);
	*sum = g->c;
	free(g);
	return 0;
}

float engine_thread__history(const struct engine_thread *t, unsigned int i)
{
	unsigned int oldest;

	if (i >= t->history_len)
		return 0.0f;
	oldest = (t->history_next + ENGINE_HISTORY - t->history_len) % ENGINE_HISTORY;
	return t->history[(oldest + i) % ENGINE_HISTORY];
}

const struct engine_proc *engine__thread_proc(const struct engine_thread *t)
{
	return slot_of(t)->proc;
}

size_t engine__procs(const struct engine *eng, const struct engine_proc **out, size_t cap)
{
	size_t i;

	for (i = 0; i < eng->nprocs && i < cap; i++)
		out[i] = eng->procs[i];
	return eng->nprocs;
}

void engine__handoff_check(const struct engine_proc *p, struct handoff_figures *out)
{
	const struct handoff_check *c = &p->check;
	__u64 edges = c->near_first + handoff_near_recent(c, c->last_ts), diff;

	memset(out, 0, sizeof(*out));
	if (c->readings < 2)
		return;
	out->processes = 1;
	out->interpreter = c->last_sn - c->first_sn;
	out->seen = c->seen;
	diff = out->interpreter > out->seen ? out->interpreter - out->seen
					    : out->seen - out->interpreter;
	if (diff <= edges)
		out->at_edges = diff;
	else if (out->interpreter > out->seen)
		out->missed = diff;
	else
		out->extra = diff;
}

size_t engine__cpus(const struct engine *eng, const struct engine_cpu **out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < eng->cpus_cap; i++) {
		if (!eng->cpus[i])
			continue;
		if (n < cap)
			out[n] = eng->cpus[i];
		n++;
	}
	return n;
}

int engine__cpu_list(const struct engine *eng, const struct engine_cpu ***out, size_t *n)
{
	*n = engine__cpus(eng, NULL, 0);
	*out = *n ? malloc(*n * sizeof(**out)) : NULL;
	if (!*out)
		return *n ? -ENOMEM : 0;
	engine__cpus(eng, *out, *n);
	return 0;
}

void engine__cpu_figures(const struct engine_cpu *cpu, double *mean_ns, __u64 *p99_ns)
{
	*mean_ns = hist__mean(&cpu->wake_to_run);
	*p99_ns = hist__percentile(&cpu->wake_to_run, 99);
}

void engine__wait_hist(const struct engine *eng, struct hist *out)
{
	*out = eng->wait;
}

static void add_counts(struct gil_counts *sum, const struct gil_counts *c)
{
	sum->acquisitions += c->acquisitions;
	sum->busy += c->busy;
	sum->retries += c->retries;
	sum->timeouts += c->timeouts;
	sum->drop_requests += c->drop_requests;
	sum->forced_switches += c->forced_switches;
	sum->releases += c->releases;
	sum->waits += c->waits;
	sum->wait_ns += c->wait_ns;
	sum->holds += c->holds;
	sum->hold_ns += c->hold_ns;
	if (c->hold_max_ns > sum->hold_max_ns)
		sum->hold_max_ns = c->hold_max_ns;
	sum->unpaired += c->unpaired;
}

/* Jain's fairness index (sum x)^2 / (n * sum x^2) of hold time over the
 * threads that acquired at least once: 1 when all hold alike, 1/n when
 * one thread holds everything. */
static double jain(const struct engine *eng)
{
	double sum = 0, sum2 = 0;
	size_t i, n = 0;

	for (i = 0; i < eng->nthreads; i++) {
		const struct engine_thread *t = &eng->threads[i]->pub;
		double x = (double)t->c.hold_ns;

		if (!t->c.acquisitions)
			continue;
		n++;
		sum += x;
		sum2 += x * x;
	}
	if (!n)
		return 0.0;
	if (sum2 == 0)
		return 1.0; /* nobody held measurably: equal by default */
	return sum * sum / ((double)n * sum2);
}

void engine__totals(const struct engine *eng, struct engine_totals *out)
{
	size_t i;
	double secs;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < eng->nthreads; i++)
		add_counts(&out->c, &eng->threads[i]->pub.c);
	for (i = 0; i < eng->nprocs; i++) {
		struct handoff_figures h;

		if (eng->procs[i]->acquisitions)
			out->nprocs++;
		engine__handoff_check(eng->procs[i], &h);
		out->handoffs.processes += h.processes;
		out->handoffs.interpreter += h.interpreter;
		out->handoffs.seen += h.seen;
		out->handoffs.missed += h.missed;
		out->handoffs.extra += h.extra;
		out->handoffs.at_edges += h.at_edges;
	}
	out->nthreads = eng->nthreads;
	out->first_ts = eng->first_ts;
	out->last_ts = eng->last_ts;
	out->duration_ns = span(eng->first_ts, eng->last_ts);
	out->drops = eng->drops;
	out->unpaired = eng->unpaired;
	out->switches = eng->switches;
	secs = (double)out->duration_ns / 1e9;
	out->switches_per_s = secs > 0 ? (double)out->switches / secs : 0.0;
	out->utilisation_pct = 100.0 * ratio(out->c.hold_ns,
					     out->duration_ns * (out->nprocs ? out->nprocs : 1));
	out->contention_pct = 100.0 * ratio(out->c.waits, out->c.acquisitions);
	out->badness = ratio(out->c.retries, out->c.acquisitions);
	out->jain = jain(eng);
	out->wait_mean_ns = ratio(out->c.wait_ns, out->c.waits);
	out->wait_p50_ns = hist__percentile(&eng->wait, 50);
	out->wait_p90_ns = hist__percentile(&eng->wait, 90);
	out->wait_p99_ns = hist__percentile(&eng->wait, 99);
	out->wait_max_ns = eng->wait.count ? eng->wait.max : 0;
	out->hold_mean_ns = ratio(out->c.hold_ns, out->c.holds);
	io_figures(&eng->io_wait, eng->io_wait_contended, &out->io);
	if (eng->timeout_span.count)
		out->timed_wait_ns = hist__percentile(&eng->timeout_span, 50);
	else if (eng->futex_timedout.count)
		out->timed_wait_ns = hist__percentile(&eng->futex_timedout, 50);
	out->futex_woken = eng->futex_woken;
	out->futex_timedout = eng->futex_timedout_n;
	out->futex_other = eng->futex_other;
	out->wake_calls = eng->wake_calls;
	out->wake_call_woken = eng->wake_call_woken;
	for (i = 0; i < eng->cpus_cap; i++) {
		const struct engine_cpu *c = eng->cpus[i];

		if (!c)
			continue;
		out->wakeups += c->wakeups;
		out->cross_cpu_wakeups += c->cross_cpu_wakeups;
		out->failed_wakeups += c->failed_wakeups;
	}
	out->iv = eng->iv;
}

const struct lock_table *engine__locks(const struct engine *eng)
{
	return eng->locks;
}
