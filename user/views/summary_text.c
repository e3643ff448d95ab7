/* The end-of-run summary for people: aligned tables, readable units. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "trace_meta.h"
#include "util/safe_text.h"
#include "views/diagnosis_text.h"
#include "views/format.h"
#include "views/ft_gil_text.h"
#include "views/holder_text.h"
#include "views/locks_text.h"
#include "views/summary.h"

/* Locks shown; the JSON summary lists every one. */
#define SUMMARY_LOCKS 10

static const char *or_unknown(const char *s)
{
	return s && s[0] ? s : "?";
}

/* The self-check against the interpreter's own count of hand-offs: said
 * whether it passed or not, so that a reader knows the counts were checked. */
static void print_handoff_check(FILE *out, const struct trace_meta *meta,
				const struct handoff_figures *h)
{
	if (!h->processes)
		return;
	if (h->missed)
		fprintf(out, "warning: %llu of %llu GIL hand-offs (the interpreter's own count) "
			"were not seen: counts are lower bounds%s\n",
			(unsigned long long)h->missed, (unsigned long long)h->interpreter,
			meta && !strcmp(meta->mode, "futex") ?
				" (futex mode; --mode=full sees every one)" : "");
	else if (h->extra)
		fprintf(out, "warning: %llu GIL hand-offs seen, %llu more than the interpreter's "
			"own count of %llu\n", (unsigned long long)h->seen,
			(unsigned long long)h->extra, (unsigned long long)h->interpreter);
	else if (h->at_edges)
		fprintf(out, "hand-offs: %llu seen, %llu by the interpreter's own count: equal but "
			"for %llu within 1 ms of a reading, which it cannot place\n",
			(unsigned long long)h->seen, (unsigned long long)h->interpreter,
			(unsigned long long)h->at_edges);
	else
		fprintf(out, "hand-offs: %llu, equal to the interpreter's own count\n",
			(unsigned long long)h->interpreter);
}

static void print_header(FILE *out, const struct engine *eng, const struct trace_meta *meta,
			 const struct engine_totals *tot)
{
	struct lock_totals locks;
	char dur[FORMAT_LEN];

	if (meta && !meta->pid)
		fprintf(out, "giltrace: every supported process (--all), kernel %s\n",
			or_unknown(meta->kernel));
	else if (meta)
		fprintf(out, "giltrace: pid %u (%s) %s, runtime %s %s, mode %s, kernel %s\n",
			meta->pid, or_unknown(meta->comm), or_unknown(meta->exe),
			or_unknown(meta->runtime), or_unknown(meta->version),
			or_unknown(meta->mode), or_unknown(meta->kernel));
	else
		fprintf(out, "giltrace: target unknown\n");
	if (meta && meta->note[0])
		fprintf(out, "note: %s\n", meta->note);
	lock_table__totals(engine__locks(eng), &locks);
	fprintf(out, "duration %s, %llu threads in %llu processes, drops %llu, unpaired %llu\n",
		format__duration(dur, sizeof(dur), (double)tot->duration_ns),
		(unsigned long long)tot->nthreads,
		/* free-threaded processes count too: they take no GIL */
		(unsigned long long)(tot->nprocs > locks.procs ? tot->nprocs : locks.procs),
		(unsigned long long)tot->drops, (unsigned long long)tot->unpaired);
	if (tot->drops)
		fprintf(out, "warning: %llu events were lost: counts are lower bounds\n",
			(unsigned long long)tot->drops);
	print_handoff_check(out, meta, &tot->handoffs);
}

/* One row of the thread table: a thread, or a group of them ("8 x"). */
static void print_row(FILE *out, __u32 tgid, const char *tid, const char *label,
		      const struct gil_counts *c, const struct thread_figures *f)
{
	char tot[FORMAT_LEN], mean[FORMAT_LEN], p50[FORMAT_LEN], p99[FORMAT_LEN];
	char max[FORMAT_LEN], hold[FORMAT_LEN], name[ENGINE_NAME_LEN * 4];

	safe_text__cell(name, sizeof(name), label[0] ? label : "-", 15);
	fprintf(out, "%7u %7s %s %9llu %8llu %5.1f %8llu %6llu %6llu %7llu "
		"%9s %9s %9s %9s %9s %9s %5.1f\n",
		tgid, tid, name, (unsigned long long)c->acquisitions, (unsigned long long)c->busy,
		f->contention_pct, (unsigned long long)c->retries,
		(unsigned long long)c->timeouts, (unsigned long long)c->drop_requests,
		(unsigned long long)c->forced_switches,
		format__duration(tot, sizeof(tot), (double)c->wait_ns),
		format__duration(mean, sizeof(mean), f->wait_mean_ns),
		format__duration(p50, sizeof(p50), (double)f->wait_p50_ns),
		format__duration(p99, sizeof(p99), (double)f->wait_p99_ns),
		format__duration(max, sizeof(max), (double)f->wait_max_ns),
		format__duration(hold, sizeof(hold), (double)c->hold_ns),
		f->gil_share * 100.0);
}

static void print_thread(FILE *out, const struct engine *eng, const struct engine_thread *t)
{
	struct thread_figures f;
	char tid[16];

	engine__thread_figures(eng, t, &f);
	snprintf(tid, sizeof(tid), "%u", t->tid);
	print_row(out, t->tgid, tid, t->name, &t->c, &f);
}

/*
 * Pools: GROUP_MIN threads or more of one process whose names differ only
 * in a trailing number ("pool_3", "worker-12") or not at all ("ThreadPoolExecu",
 * the 15 bytes Linux keeps of "ThreadPoolExecutor-0_3") are one row, "8 x"
 * and "pool_*"; --json keeps every thread. Threads that carry the
 * process's name (CPython before 3.14 names no thread) stay apart: the
 * diagnoses name them by thread id.
 */
#define GROUP_MIN 4

/* The length of t's name without its trailing digits; 0 if that leaves
 * nothing or the name is its process's ("python3"). */
static size_t stem_len(const struct engine *eng, const struct engine_thread *t)
{
	const struct engine_thread *main = engine__find_thread(eng, t->tgid, t->tgid);
	size_t n = strnlen(t->name, ENGINE_NAME_LEN);

	if (main && !strncmp(main->name, t->name, ENGINE_NAME_LEN))
		return 0;
	while (n && t->name[n - 1] >= '0' && t->name[n - 1] <= '9')
		n--;
	return n;
}

static bool same_stem(const struct engine *eng, const struct engine_thread *a,
		      const struct engine_thread *b)
{
	size_t n = stem_len(eng, a);

	return n && a->tgid == b->tgid && stem_len(eng, b) == n && !strncmp(a->name, b->name, n);
}

/* Prints threads[i]'s group if it is the first of one, and says whether
 * threads[i] belongs to a group (printed then or before). */
static int print_group(FILE *out, const struct engine *eng,
		       const struct engine_thread *const *threads, size_t n, size_t i)
{
	const struct engine_thread **members;
	struct thread_figures f;
	struct gil_counts c;
	size_t j, m = 0, first = n;
	char tid[16], label[ENGINE_NAME_LEN + 1];
	int err;

	for (j = 0; j < n; j++) {
		if (!same_stem(eng, threads[i], threads[j]))
			continue;
		if (first == n)
			first = j;
		m++;
	}
	if (m < GROUP_MIN)
		return 0;
	if (first != i)
		return 1;
	members = malloc(m * sizeof(*members));
	if (!members)
		return -ENOMEM;
	for (j = 0, m = 0; j < n; j++)
		if (same_stem(eng, threads[i], threads[j]))
			members[m++] = threads[j];
	err = engine__group_figures(eng, members, m, &c, &f);
	free(members);
	if (err)
		return err;
	snprintf(tid, sizeof(tid), "%zu x", m);
	j = stem_len(eng, threads[i]);
	snprintf(label, sizeof(label), "%.*s%s", (int)j, threads[i]->name,
		 threads[i]->name[j] ? "*" : "");
	print_row(out, threads[i]->tgid, tid, label, &c, &f);
	return 1;
}

static bool many_procs(const struct engine_thread *const *threads, size_t n)
{
	return n && threads[0]->tgid != threads[n - 1]->tgid;
}

/* "process 4242 (toyvm): 3 threads, 1.2k acquisitions, 45.0 ms held, 300 switches",
 * named after its main thread. */
static void print_proc(FILE *out, const struct engine *eng,
		       const struct engine_thread *const *threads, size_t n, size_t first)
{
	const struct engine_proc *procs[GILTRACE_MAX_TARGETS];
	size_t np = engine__procs(eng, procs, GILTRACE_MAX_TARGETS), j;
	__u32 tgid = threads[first]->tgid;
	const char *name = "-";
	char acq[FORMAT_LEN], hold[FORMAT_LEN], sw[FORMAT_LEN];

	for (j = first; j < n && threads[j]->tgid == tgid; j++)
		if (threads[j]->tid == tgid && threads[j]->name[0])
			name = threads[j]->name;
	for (j = 0; j < np && j < GILTRACE_MAX_TARGETS; j++) {
		if (procs[j]->tgid != tgid)
			continue;
		fprintf(out, "process %u (%s): %u threads, %s acquisitions, %s held, %s switches\n",
			tgid, name, procs[j]->nthreads,
			format__count(acq, sizeof(acq), (double)procs[j]->acquisitions),
			format__duration(hold, sizeof(hold), (double)procs[j]->hold_ns),
			format__count(sw, sizeof(sw), (double)procs[j]->switches));
		return;
	}
	fprintf(out, "process %u (%s)\n", tgid, name);
}

static int print_threads(FILE *out, const struct engine *eng)
{
	const struct engine_thread **threads;
	size_t n, i;

	fprintf(out, "\n%7s %7s %-15s %9s %8s %5s %8s %6s %6s %7s %9s %9s %9s %9s %9s %9s %5s\n",
		"TGID", "TID", "NAME", "ACQUIRE", "BUSY", "CONT%", "RETRIES", "TMOUT",
		"DROPRQ", "FORCED", "WAIT", "MEAN", "P50", "P99", "MAX", "HOLD", "GIL%");
	if (engine__thread_list(eng, &threads, &n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* Threads come sorted by tgid: a heading starts each process
		 * when there are several. */
		int grouped;

		if (many_procs(threads, n) && (i == 0 || threads[i]->tgid != threads[i - 1]->tgid))
			print_proc(out, eng, threads, n, i);
		grouped = print_group(out, eng, threads, n, i);
		if (grouped < 0) {
			free(threads);
			return grouped;
		}
		if (!grouped)
			print_thread(out, eng, threads[i]);
	}
	free(threads);
	return 0;
}

static void print_totals(FILE *out, const struct engine_totals *tot)
{
	char mean[FORMAT_LEN], p50[FORMAT_LEN], p99[FORMAT_LEN], max[FORMAT_LEN];
	char sw[FORMAT_LEN], swps[FORMAT_LEN];

	fprintf(out, "\ntotals: %llu acquisitions, %llu busy (%.1f%%), %llu retries, "
		"%llu timeouts, %llu drop requests, %llu forced\n",
		(unsigned long long)tot->c.acquisitions, (unsigned long long)tot->c.busy,
		tot->contention_pct, (unsigned long long)tot->c.retries,
		(unsigned long long)tot->c.timeouts, (unsigned long long)tot->c.drop_requests,
		(unsigned long long)tot->c.forced_switches);
	fprintf(out, "GIL: utilisation %.1f%%, %s switches (%s/s), badness %.3f retries/acquisition, "
		"Jain fairness %.3f\n",
		tot->utilisation_pct, format__count(sw, sizeof(sw), (double)tot->switches),
		format__count(swps, sizeof(swps), tot->switches_per_s), tot->badness, tot->jain);
	fprintf(out, "wait: mean %s, p50 %s, p99 %s, max %s\n",
		format__duration(mean, sizeof(mean), tot->wait_mean_ns),
		format__duration(p50, sizeof(p50), (double)tot->wait_p50_ns),
		format__duration(p99, sizeof(p99), (double)tot->wait_p99_ns),
		format__duration(max, sizeof(max), (double)tot->wait_max_ns));
	fprintf(out, "futex: %llu woken, %llu timed out, %llu other; %llu wake calls woke %llu\n",
		(unsigned long long)tot->futex_woken, (unsigned long long)tot->futex_timedout,
		(unsigned long long)tot->futex_other, (unsigned long long)tot->wake_calls,
		(unsigned long long)tot->wake_call_woken);
}

static int print_cpus(FILE *out, const struct engine *eng)
{
	const struct engine_cpu **cpus;
	size_t n, i;

	if (engine__cpu_list(eng, &cpus, &n))
		return -ENOMEM;
	if (!n)
		return 0;
	fprintf(out, "\n%4s %9s %9s %9s %10s %10s %10s\n", "CPU", "WAKEUPS", "CROSS",
		"FAILED", "W2RUN-MEAN", "W2RUN-P99", "W2RUN-MAX");
	for (i = 0; i < n; i++) {
		char mean_s[FORMAT_LEN], p99_s[FORMAT_LEN], max_s[FORMAT_LEN];
		double mean;
		__u64 p99;

		engine__cpu_figures(cpus[i], &mean, &p99);
		fprintf(out, "%4u %9llu %9llu %9llu %10s %10s %10s\n", cpus[i]->cpu,
			(unsigned long long)cpus[i]->wakeups,
			(unsigned long long)cpus[i]->cross_cpu_wakeups,
			(unsigned long long)cpus[i]->failed_wakeups,
			format__duration(mean_s, sizeof(mean_s), mean),
			format__duration(p99_s, sizeof(p99_s), (double)p99),
			format__duration(max_s, sizeof(max_s), (double)cpus[i]->wake_to_run.max));
	}
	free(cpus);
	return 0;
}

static void print_convoy(FILE *out, const struct engine_totals *tot)
{
	char mean[FORMAT_LEN], p99[FORMAT_LEN];

	fprintf(out, "\nconvoy cost: %llu re-acquisitions after a voluntary release, %llu had to wait; "
		"delay added per I/O: mean %s, p99 %s\n",
		(unsigned long long)tot->io.count, (unsigned long long)tot->io.contended,
		format__duration(mean, sizeof(mean), tot->io.mean_ns),
		format__duration(p99, sizeof(p99), (double)tot->io.p99_ns));
}

static void print_diagnoses(FILE *out, const struct engine *eng, bool gil_off)
{
	struct diagnosis diags[DIAG_MAX];
	size_t n = diagnose__run(eng, DIAG_RUN, diags, DIAG_MAX), i;
	char msg[DIAG_TEXT], hint[DIAG_TEXT];

	/* No finding on a GIL that is off says nothing of its health. */
	fprintf(out, "\ndiagnoses:%s\n",
		n ? "" : gil_off ? " none: the GIL is off, nothing contends for it" : " none");
	for (i = 0; i < n; i++) {
		diagnosis_text__message(msg, sizeof(msg), &diags[i], eng);
		diagnosis_text__hint(hint, sizeof(hint), &diags[i], eng);
		fprintf(out, "  %s\n    hint: %s\n", msg, hint);
	}
}

/* Who held the GIL when it was taken by force, per process: part of the
 * verdict, so it follows the diagnoses. */
static void put_holder(void *ctx, __u32 tgid, const char *line, bool several)
{
	if (several)
		fprintf(ctx, "forced holder, process %u: %s\n", tgid, line);
	else
		fprintf(ctx, "forced holder: %s\n", line);
}

int summary__print_text(FILE *out, const struct engine *eng, const struct trace_meta *meta)
{
	struct engine_totals tot;
	char ft[FT_GIL_TEXT];
	const struct engine_proc *ft_proc;
	int err;

	engine__totals(eng, &tot);
	print_header(out, eng, meta, &tot);
	/* Free-threaded CPython: whether there was a GIL to trace at all. */
	ft_proc = ft_gil_text__first(ft, sizeof(ft), eng);
	if (ft_proc)
		fprintf(out, "%s\n", ft);
	/* The verdict first: what hurts and who causes it; the tables after
	 * are its evidence. */
	print_diagnoses(out, eng, ft_proc && ft_gil__off(&ft_proc->ft) && !ft_proc->wait_held_ns);
	err = holder_text__each(eng, put_holder, out);
	if (!err)
		err = locks_text__print(out, eng, SUMMARY_LOCKS);
	if (err)
		return err;
	/* A free-threaded process without a GIL has no GIL tables. */
	if (!tot.c.acquisitions && !tot.c.busy && lock_table__seen(engine__locks(eng)))
		return ferror(out) ? -EIO : 0;
	err = print_threads(out, eng);
	if (err)
		return err;
	print_totals(out, &tot);
	err = print_cpus(out, eng);
	if (err)
		return err;
	print_convoy(out, &tot);
	return ferror(out) ? -EIO : 0;
}
