/* The summary view on stdout, as text or JSON: live runs and report. */
#ifndef GILTRACE_SUMMARY_OUT_H
#define GILTRACE_SUMMARY_OUT_H

#include <stdbool.h>

#include "engine/engine.h"
#include "trace_meta.h"

/* 0, or 1 when stdout could not take it (a closed pipe ends quietly). */
int summary_out__print(const struct engine *eng, const struct trace_meta *meta, bool json);

#endif
