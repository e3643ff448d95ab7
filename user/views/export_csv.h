/*
 * Capture events as CSV, one line per event, for spreadsheets and pandas
 * (docs/export.md, schema 1):
 *   ts_ns,kind,tgid,tid,cpu,addr,value,ret,name
 * ts_ns is the event's CLOCK_MONOTONIC ns as recorded, kind a name
 * ("acquire", "sched_wakeup", ...), addr hex, name the thread's name as the
 * stream knew it at that event (RFC 4180 quoting); field meanings per kind
 * are those of struct gil_event (bpf/giltrace.h).
 */
#ifndef GILTRACE_EXPORT_CSV_H
#define GILTRACE_EXPORT_CSV_H

#include <stdio.h>

#include "giltrace.h"

struct export_csv;

/* Writes the header line; NULL when out of memory. */
struct export_csv *export_csv__new(FILE *out);
void export_csv__free(struct export_csv *x);
/* A thread's name from now on; 0 or -ENOMEM. */
int export_csv__thread(struct export_csv *x, __u32 tid, const char *name);
void export_csv__event(struct export_csv *x, const struct gil_event *ev);

#endif
