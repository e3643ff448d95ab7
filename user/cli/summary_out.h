/* The summary view, as text or JSON: live runs and report. */
#ifndef GILTRACE_SUMMARY_OUT_H
#define GILTRACE_SUMMARY_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/engine.h"
#include "trace_meta.h"

/* Prints the summary to out and flushes it, so that it shows before the
 * slow teardown. 0, or 1 after a one-line error (a closed pipe on stdout
 * ends quietly); out_file__close() then has nothing left to report. */
int summary_out__print(FILE *out, const struct engine *eng, const struct trace_meta *meta,
		       bool json);

#endif
