/*
 * Free-threaded CPython's locks for people: the hottest locks, their
 * waiting threads, stop-the-world pauses (engine/locks.h), as the summary
 * and report print them and as top's plain mode shows them.
 */
#ifndef GILTRACE_LOCKS_TEXT_H
#define GILTRACE_LOCKS_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "engine/locks.h"

struct engine;

/* What a lock belongs to: its owner object's type ("dict"), "PyMutex"
 * when no critical section took it, "?" when the type did not read. */
const char *locks_text__owner(const struct engine_lock *l);
/* The lock section: totals, at most max_locks locks (each with its three
 * longest-waiting threads), the pauses. Nothing when no lock event came.
 * 0 or -errno. */
int locks_text__print(FILE *out, const struct engine *eng, size_t max_locks);
/* top: one lock as a row under LOCKS_TEXT_TOP_HEADER, since the start. */
#define LOCKS_TEXT_TOP_HEADER \
	"LOCK             OWNER              WAITS   PARKS      WAIT       P99       MAX THREADS"
void locks_text__top_row(char *buf, size_t len, const struct engine_lock *l);
/* top: the process's pauses in one line. */
void locks_text__stw_line(char *buf, size_t len, const struct engine_stw *p);

#endif
