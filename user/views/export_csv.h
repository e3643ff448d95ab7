/*
 * Capture events as CSV, one line per event, for spreadsheets and pandas:
 *   ts_ns,kind,tgid,tid,cpu,addr,value,ret
 * ts_ns is the event's CLOCK_MONOTONIC ns as recorded, kind a name
 * ("acquire", "sched_wakeup", ...), addr hex; field meanings per kind are
 * those of struct gil_event (bpf/giltrace.h).
 */
#ifndef GILTRACE_EXPORT_CSV_H
#define GILTRACE_EXPORT_CSV_H

#include <stdio.h>

#include "giltrace.h"

void export_csv__header(FILE *out);
void export_csv__event(FILE *out, const struct gil_event *ev);

#endif
