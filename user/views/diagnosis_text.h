/*
 * The words of a diagnosis (engine/diagnose.h hands views data): its kind's
 * name, one line saying what was found, and one saying what to try. Every
 * view that shows diagnoses takes its text from here.
 */
#ifndef GILTRACE_DIAGNOSIS_TEXT_H
#define GILTRACE_DIAGNOSIS_TEXT_H

#include <stddef.h>

#include "engine/diagnose.h"

/* Room for a message or a hint: a line, names included. */
#define DIAG_TEXT 192

/* "convoy", "gil-battle", "starved": stable names, for JSON too. */
const char *diagnosis_text__kind(enum diag_kind kind);
/* The finding, e.g. "convoy: thread 102 (io-loop) waits 5.00 ms for the GIL
 * after each I/O (29 times)"; thread names come from eng. */
void diagnosis_text__message(char *buf, size_t len, const struct diagnosis *d,
			     const struct engine *eng);
/* What to try, and which thread holds the GIL most. */
void diagnosis_text__hint(char *buf, size_t len, const struct diagnosis *d,
			  const struct engine *eng);

#endif
