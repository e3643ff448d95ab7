/*
 * The words for a free-threaded CPython's GIL (engine.h, struct ft_gil):
 * off, on from the start, or re-enabled at a time by an import. The
 * summary, report and top take their line from here; JSON its state name.
 */
#ifndef GILTRACE_FT_GIL_TEXT_H
#define GILTRACE_FT_GIL_TEXT_H

#include <stddef.h>
#include <linux/types.h>

#include "engine/engine.h"

/* Room for the line, a module name of FT_GIL_NAME_MAX bytes included. */
#define FT_GIL_TEXT 320

/* "off", "on_from_start", "re_enabled", "on_now" (found on for the moment
 * at the last reading, an import in progress); NULL for no free-threaded
 * process. Stable names, for JSON. */
const char *ft_gil_text__state(const struct ft_gil *ft);

/* e.g. "GIL re-enabled at 1.23 s by import of legacy (not marked
 * free-threading safe)"; times from origin_ts (the trace's first event).
 * Returns 0 with buf empty for a process that is no free-threaded CPython. */
int ft_gil_text__line(char *buf, size_t len, const struct engine_proc *p, __u64 origin_ts);

/* The line of the first free-threaded process of eng, as above; returns
 * that process, or NULL with buf empty. */
const struct engine_proc *ft_gil_text__first(char *buf, size_t len, const struct engine *eng);

#endif
