/*
 * The Prometheus exposition of per-process engines: the text format 0.0.4,
 * or OpenMetrics 1.0.0 (what Prometheus asks for first). One process per
 * engine, labelled pid and comm; per-thread series only on request, to
 * bound cardinality. docs/prometheus.md lists the metrics.
 */
#ifndef GILTRACE_METRICS_PROM_H
#define GILTRACE_METRICS_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct engine;
struct trace_meta;

enum prom_format {
	PROM_TEXT,        /* text/plain; version=0.0.4 */
	PROM_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

struct prom_process {
	const struct trace_meta *meta; /* pid, comm, runtime, version, mode */
	const struct engine *eng;      /* this process's events only */
};

struct prom_opts {
	enum prom_format format;
	bool per_thread;
};

/* The Content-Type header value for format. */
const char *metrics_prom__content_type(enum prom_format format);
/* Writes every metric family; 0 or -EIO. */
int metrics_prom__write(FILE *out, const struct prom_process *procs, size_t n,
			unsigned long long drops, const struct prom_opts *opts);

#endif
