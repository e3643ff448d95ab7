/* The top view as plain lines, for pipes and logs. */
#include <errno.h>
#include <stdlib.h>

#include "views/diagnosis_text.h"
#include "util/safe_text.h"
#include "views/format.h"
#include "views/ft_gil_text.h"
#include "views/holder_text.h"
#include "views/locks_text.h"
#include "views/top_plain.h"

/* Locks listed each interval: the hottest since the start. */
#define TOP_PLAIN_LOCKS 5

/* A duration as one word: "12.3_ms". */
static char *duration_word(char *buf, size_t len, double ns)
{
	format__duration(buf, len, ns);
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '_';
	return buf;
}

static void print_totals(FILE *out, const struct top_frame *f, const struct engine_totals *tot)
{
	char len[FORMAT_LEN];

	fprintf(out, "top elapsed=%.2fs interval=%s%s util=%.1f%% contention=%.1f%% "
		"switches/s=%.1f retries/s=%.1f forced/s=%.1f acquisitions=%llu busy=%llu "
		"retries=%llu forced=%llu switches=%llu threads=%llu drops=%llu "
		"handoffs_checked=%llu handoffs_not_seen=%llu handoffs_extra=%llu\n",
		(double)f->elapsed_ns / 1e9, duration_word(len, sizeof(len), (double)tot->iv.len_ns),
		f->ended ? " final" : "", tot->iv.utilisation_pct, tot->iv.contention_pct,
		tot->iv.switches_per_s, tot->iv.retries_per_s, tot->iv.forced_per_s,
		(unsigned long long)tot->iv.acquisitions, (unsigned long long)tot->iv.busy,
		(unsigned long long)tot->iv.retries, (unsigned long long)tot->iv.forced_switches,
		(unsigned long long)tot->iv.switches, (unsigned long long)tot->nthreads,
		(unsigned long long)tot->drops, (unsigned long long)tot->handoffs.interpreter,
		(unsigned long long)tot->handoffs.missed, (unsigned long long)tot->handoffs.extra);
}

static void print_thread(FILE *out, const struct top_frame *f, const struct engine_thread *t)
{
	const struct thread_interval *iv = &t->iv;
	char mean[FORMAT_LEN], max[FORMAT_LEN], now[256];

	duration_word(mean, sizeof(mean), iv->wait_mean_ns);
	duration_word(max, sizeof(max), (double)iv->wait_max_ns);
	fprintf(out, "  tgid=%u tid=%u state=%s hold=%.1f%% wait=%.1f%% acq/s=%.1f "
		"acquisitions=%llu busy=%llu mean_wait=%s max_wait=%s retries=%llu forced=%llu "
		"name=%s\n",
		t->tgid, t->tid, format__state(iv->state), iv->hold_share * 100.0,
		iv->wait_share * 100.0, t->iv.acquisitions_per_s,
		(unsigned long long)iv->acquisitions, (unsigned long long)iv->busy, mean, max,
		(unsigned long long)iv->retries, (unsigned long long)iv->forced_switches,
		t->name[0] ? t->name : "-");
	if (top_rows__holding_now(f, t, now, sizeof(now)))
		fprintf(out, "    holding_now=%s\n", now);
}

static void print_cpus(FILE *out, const struct engine *eng)
{
	const struct engine_cpu **cpus;
	size_t n, i;

	if (engine__cpu_list(eng, &cpus, &n) || !n)
		return;
	fprintf(out, "  cpus");
	for (i = 0; i < n; i++)
		fprintf(out, " %u:%llu/%llu/%llu", cpus[i]->cpu,
			(unsigned long long)cpus[i]->iv.wakeups,
			(unsigned long long)cpus[i]->iv.failed_wakeups,
			(unsigned long long)cpus[i]->iv.cross_cpu_wakeups);
	fprintf(out, " (wakeups/failed/cross-cpu)\n");
	free(cpus);
}

/* Free-threaded: the hottest locks and the pauses, since the start. */
static void print_locks(FILE *out, const struct engine *eng)
{
	const struct lock_table *lt = engine__locks(eng);
	const struct engine_lock **locks;
	const struct engine_stw *stw[8];
	char line[256];
	size_t n, i;

	if (!lock_table__seen(lt) || lock_table__list(lt, &locks, &n))
		return;
	for (i = 0; i < n && i < TOP_PLAIN_LOCKS; i++) {
		char owner[LOCK_TYPE_NAME_MAX * 4];

		safe_text__copy(owner, sizeof(owner), locks_text__owner(locks[i]));
		fprintf(out, "  lock tgid=%u addr=%#llx owner=%s waits=%llu parks=%llu wait_ns=%llu "
			"p99_ns=%llu max_ns=%llu threads=%zu\n", locks[i]->tgid,
			(unsigned long long)locks[i]->addr, owner,
			(unsigned long long)locks[i]->waits, (unsigned long long)locks[i]->parks,
			(unsigned long long)locks[i]->wait.sum,
			(unsigned long long)hist__percentile(&locks[i]->wait, 99),
			(unsigned long long)(locks[i]->waits ? locks[i]->wait.max : 0),
			locks[i]->nwaiters);
	}
	free(locks);
	n = lock_table__stw(lt, stw, 8);
	for (i = 0; i < n && i < 8; i++) {
		locks_text__stw_line(line, sizeof(line), stw[i]);
		fprintf(out, "  tgid=%u %s\n", stw[i]->tgid, line);
	}
}

/* Since the start, not per interval: forced switches are sampled at most
 * once per 5 ms, too few for one interval. */
static void put_holder(void *ctx, __u32 tgid, const char *line, bool several)
{
	(void)several;
	fprintf(ctx, "  forced_holder tgid=%u since_start: %s\n", tgid, line);
}

int top_plain__print(FILE *out, const struct top_frame *f)
{
	struct diagnosis diags[DIAG_MAX];
	char msg[DIAG_TEXT], hint[DIAG_TEXT], ft[FT_GIL_TEXT];
	const struct engine_thread **rows;
	struct engine_totals tot;
	size_t n, i;

	engine__totals(f->eng, &tot);
	print_totals(out, f, &tot);
	if (ft_gil_text__first(ft, sizeof(ft), f->eng))
		fprintf(out, "  %s\n", ft);
	n = top_rows__collect(f, &rows);
	for (i = 0; i < n; i++)
		print_thread(out, f, rows[i]);
	free(rows);
	print_cpus(out, f->eng);
	print_locks(out, f->eng);
	n = top_diagnoses(f, diags, DIAG_MAX);
	for (i = 0; i < n; i++) {
		diagnosis_text__message(msg, sizeof(msg), &diags[i], f->eng);
		diagnosis_text__hint(hint, sizeof(hint), &diags[i], f->eng);
		fprintf(out, "  diagnosis %s: %s; hint: %s\n", diagnosis_text__kind(diags[i].kind),
			msg, hint);
	}
	if (holder_text__each(f->eng, put_holder, out))
		return -ENOMEM;
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
