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

#endif
