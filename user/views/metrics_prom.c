/* Prometheus text and OpenMetrics exposition of per-process engine state. */
#include "views/metrics_prom.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "trace_meta.h"

/* Upper bounds of the wait histogram, in ns: 10 us .. 1 s. */
static const __u64 wait_bounds_ns[] = {
	10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000,
};

/* One counter of struct gil_counts. */
struct counter {
	const char *name; /* family name, without _total */
	const char *help;
	bool seconds;     /* a ns field shown in seconds */
	size_t off;
};

#define COUNT(field) offsetof(struct gil_counts, field)

static const struct counter counters[] = {
	{ "giltrace_gil_acquisitions", "GIL acquisitions (ACQUIRE events)", false,
	  COUNT(acquisitions) },
	{ "giltrace_gil_contended_acquisitions", "Acquisition attempts that found the GIL held "
	  "and waited", false, COUNT(busy) },
	{ "giltrace_gil_retries", "Wake-ups that found the GIL taken again", false,
	  COUNT(retries) },
	{ "giltrace_gil_timeouts", "Timed waits for the GIL that expired", false,
	  COUNT(timeouts) },
	{ "giltrace_gil_drop_requests", "Requests to the holder to drop the GIL", false,
	  COUNT(drop_requests) },
	{ "giltrace_gil_forced_switches", "Releases forced by a drop request or the switch "
	  "interval", false, COUNT(forced_switches) },
	{ "giltrace_gil_wait_seconds", "Time spent waiting for the GIL (measured waits)", true,
	  COUNT(wait_ns) },
	{ "giltrace_gil_hold_seconds", "Time spent holding the GIL", true, COUNT(hold_ns) },
};

/* The histogram's family name; OpenMetrics forbids a counter family of the
 * same name, so there giltrace_gil_wait_seconds_total is typed unknown. */
static const char wait_hist[] = "giltrace_gil_wait_seconds";

const char *metrics_prom__content_type(enum prom_format format)
{
	return format == PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; "
					    "charset=utf-8"
					  : "text/plain; version=0.0.4; charset=utf-8";
}

/* Label values escape backslash, double quote and newline (both formats).
 * Names from a target reach here already made valid UTF-8 without control
 * characters (util/safe_text.h), so a scraper never rejects the page. */
static void put_label(FILE *out, const char *name, const char *value, bool first)
{
	fprintf(out, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '"')
			fputs("\\\"", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void proc_labels(FILE *out, const struct trace_meta *m)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%u", m->pid);
	put_label(out, "pid", pid, true);
	put_label(out, "comm", m->comm, false);
}

static __u64 count_of(const struct gil_counts *c, const struct counter *k)
{
	return *(const __u64 *)((const char *)c + k->off);
}

static void put_value(FILE *out, const struct counter *k, __u64 v)
{
	if (k->seconds)
		fprintf(out, " %.9f\n", (double)v / 1e9);
	else
		fprintf(out, " %llu\n", (unsigned long long)v);
}

static void family(FILE *out, const char *name, const char *suffix, const char *type,
		   const char *help)
{
	fprintf(out, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, suffix, help, name, suffix, type);
}

/* In text 0.0.4 a counter family is named with its _total; in OpenMetrics
 * without, and its sample adds it. */
static void counter_family(FILE *out, const struct counter *k, const char *prefix,
			   const char *help_of, enum prom_format f, char *name, size_t len)
{
	char help[256];

	snprintf(name, len, "%s%s", prefix, k->name + sizeof("giltrace_") - 1);
	snprintf(help, sizeof(help), "%s%s", k->help, help_of);
	if (f == PROM_TEXT)
		family(out, name, "_total", "counter", help);
	else if (!strcmp(name, wait_hist))
		family(out, name, "_total", "unknown", help);
	else
		family(out, name, "", "counter", help);
}

static void write_counters(FILE *out, const struct prom_process *procs, size_t n,
			   const struct prom_opts *o)
{
	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
		char name[128];

		counter_family(out, &counters[k], "giltrace_", "", o->format, name, sizeof(name));
		for (size_t i = 0; i < n; i++) {
			struct engine_totals tot;

			engine__totals(procs[i].eng, &tot);
			fprintf(out, "%s_total{", name);
			proc_labels(out, procs[i].meta);
			fputc('}', out);
			put_value(out, &counters[k], count_of(&tot.c, &counters[k]));
		}
	}
}

static void write_thread_counters(FILE *out, const struct prom_process *procs, size_t n,
				  const struct prom_opts *o)
{
	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
		char name[128];

		counter_family(out, &counters[k], "giltrace_thread_", ", per thread", o->format,
			       name, sizeof(name));
		for (size_t i = 0; i < n; i++) {
			const struct engine_thread *ts[256];
			size_t nt = engine__threads(procs[i].eng, ts, 256);

			/* More than 256 threads a process: the first 256 by tid. */
			for (size_t j = 0; j < nt && j < 256; j++) {
				char tid[16];

				snprintf(tid, sizeof(tid), "%u", ts[j]->tid);
				fprintf(out, "%s_total{", name);
				proc_labels(out, procs[i].meta);
				put_label(out, "tid", tid, false);
				put_label(out, "thread", ts[j]->name, false);
				fputc('}', out);
				put_value(out, &counters[k], count_of(&ts[j]->c, &counters[k]));
			}
		}
	}
}

static void write_wait_hist(FILE *out, const struct prom_process *procs, size_t n)
{
	struct hist *h = malloc(sizeof(*h));

	family(out, wait_hist, "", "histogram", "Time each contended acquisition waited for "
	       "the GIL");
	if (!h)
		return;
	for (size_t i = 0; i < n; i++) {
		engine__wait_hist(procs[i].eng, h);
		for (size_t b = 0; b < sizeof(wait_bounds_ns) / sizeof(wait_bounds_ns[0]); b++) {
			char le[32];

			snprintf(le, sizeof(le), "%g", (double)wait_bounds_ns[b] / 1e9);
			fprintf(out, "%s_bucket{", wait_hist);
			proc_labels(out, procs[i].meta);
			put_label(out, "le", le, false);
			fprintf(out, "} %llu\n", (unsigned long long)hist__count_le(h, wait_bounds_ns[b]));
		}
		fprintf(out, "%s_bucket{", wait_hist);
		proc_labels(out, procs[i].meta);
		fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)h->count);
		fprintf(out, "%s_sum{", wait_hist);
		proc_labels(out, procs[i].meta);
		fprintf(out, "} %.9f\n", (double)h->sum / 1e9);
		fprintf(out, "%s_count{", wait_hist);
		proc_labels(out, procs[i].meta);
		fprintf(out, "} %llu\n", (unsigned long long)h->count);
	}
	free(h);
}

/* Per-process figures beyond struct gil_counts: hand-offs and the
 * self-check against the interpreter's own count (docs/prometheus.md). */
struct proc_value {
	const char *name; /* family name, without _total for a counter */
	const char *help;
	bool counter;     /* else a gauge */
	size_t off;       /* a __u64 in struct engine_totals */
};

#define TOTAL(field) offsetof(struct engine_totals, field)

static const struct proc_value proc_values[] = {
	{ "giltrace_gil_handoffs", "GIL hand-offs giltrace saw (the GIL taken by another thread "
	  "than its last holder)", true, TOTAL(switches) },
	{ "giltrace_selfcheck_handoffs_interpreter", "Hand-offs by the interpreter's own count "
	  "(switch_number), between the self-check's first and latest readings", true,
	  TOTAL(handoffs.interpreter) },
	{ "giltrace_selfcheck_handoffs_seen", "Hand-offs giltrace saw between the same readings",
	  true, TOTAL(handoffs.seen) },
	{ "giltrace_selfcheck_handoffs_missed", "Hand-offs the interpreter made that giltrace "
	  "did not see, in the window checked so far (0: exact)", false, TOTAL(handoffs.missed) },
	{ "giltrace_selfcheck_handoffs_extra", "Hand-offs giltrace saw beyond the interpreter's "
	  "count, in the window checked so far (0: exact)", false, TOTAL(handoffs.extra) },
};

static void write_proc_values(FILE *out, const struct prom_process *procs, size_t n,
			      const struct prom_opts *o)
{
	for (size_t k = 0; k < sizeof(proc_values) / sizeof(proc_values[0]); k++) {
		const struct proc_value *v = &proc_values[k];
		const char *suffix = v->counter ? "_total" : "";

		family(out, v->name, v->counter && o->format == PROM_TEXT ? "_total" : "",
		       v->counter ? "counter" : "gauge", v->help);
		for (size_t i = 0; i < n; i++) {
			struct engine_totals tot;

			engine__totals(procs[i].eng, &tot);
			fprintf(out, "%s%s{", v->name, suffix);
			proc_labels(out, procs[i].meta);
			fprintf(out, "} %llu\n",
				(unsigned long long)*(const __u64 *)((const char *)&tot + v->off));
		}
	}
}

static void write_info(FILE *out, const struct prom_process *procs, size_t n,
		       const struct prom_opts *o)
{
	const char *help = "A traced process: what runs there and how it is traced";

	if (o->format == PROM_OPENMETRICS)
		family(out, "giltrace", "", "info", help);
	else
		family(out, "giltrace_info", "", "gauge", help);
	for (size_t i = 0; i < n; i++) {
		const struct trace_meta *m = procs[i].meta;

		fputs("giltrace_info{", out);
		proc_labels(out, m);
		put_label(out, "runtime", m->runtime, false);
		put_label(out, "version", m->version, false);
		put_label(out, "mode", m->mode, false);
		fputs("} 1\n", out);
	}
}

int metrics_prom__write(FILE *out, const struct prom_process *procs, size_t n,
			unsigned long long drops, const struct prom_opts *opts)
{
	write_info(out, procs, n, opts);
	write_counters(out, procs, n, opts);
	write_proc_values(out, procs, n, opts);
	write_wait_hist(out, procs, n);
	if (opts->per_thread)
		write_thread_counters(out, procs, n, opts);
	family(out, "giltrace_traced_processes", "", "gauge", "Processes traced now");
	fprintf(out, "giltrace_traced_processes %zu\n", n);
	if (opts->format == PROM_TEXT)
		family(out, "giltrace_ringbuf_drops", "_total", "counter",
		       "Events lost to a full ring buffer, all processes");
	else
		family(out, "giltrace_ringbuf_drops", "", "counter",
		       "Events lost to a full ring buffer, all processes");
	fprintf(out, "giltrace_ringbuf_drops_total %llu\n", drops);
	if (opts->format == PROM_OPENMETRICS)
		fputs("# EOF\n", out);
	return ferror(out) ? -EIO : 0;
}
