#include "views/diagnosis_text.h"

#include <stdio.h>

#include "engine/engine.h"

const char *diagnosis_text__kind(enum diag_kind kind)
{
	switch (kind) {
	case DIAG_CONVOY:
		return "convoy";
	case DIAG_BATTLE:
		return "gil-battle";
	case DIAG_STARVED:
		return "starved";
	}
	return "unknown";
}

static const char *name_of(const struct engine *eng, __u32 tgid, __u32 tid)
{
	const struct engine_thread *t = engine__find_thread(eng, tgid, tid);

	return t && t->name[0] ? t->name : "?";
}

void diagnosis_text__message(char *buf, size_t len, const struct diagnosis *d,
			     const struct engine *eng)
{
	const char *name = name_of(eng, d->tgid, d->tid);

	switch (d->kind) {
	case DIAG_CONVOY:
		snprintf(buf, len,
			 "convoy: thread %u (%s) waits %.2f ms for the GIL after each I/O (%llu times)",
			 d->tid, name, d->figure / 1e6, (unsigned long long)d->count);
		return;
	case DIAG_BATTLE:
		snprintf(buf, len,
			 "GIL battle in process %u: %.2f failed wake-ups per acquisition (%llu), most in thread %u (%s)",
			 d->tgid, d->figure, (unsigned long long)d->count, d->tid, name);
		return;
	case DIAG_STARVED:
		snprintf(buf, len, "starved: thread %u (%s) waited for the GIL %.0f%% of the time",
			 d->tid, name, d->figure * 100.0);
		return;
	}
	snprintf(buf, len, "%s: thread %u (%s)", diagnosis_text__kind(d->kind), d->tid, name);
}

static const char *advice(enum diag_kind kind)
{
	switch (kind) {
	case DIAG_CONVOY:
		return "lower sys.setswitchinterval() or move CPU-bound work to processes";
	case DIAG_BATTLE:
		return "CPU-bound threads fight over the GIL: move them to processes or pin to one CPU";
	case DIAG_STARVED:
		return "shorten the GIL holder's pure-Python stretches or move it to a process";
	}
	return "";
}

void diagnosis_text__hint(char *buf, size_t len, const struct diagnosis *d,
			  const struct engine *eng)
{
	if (d->holder_tid)
		snprintf(buf, len, "%s; thread %u (%s) holds the GIL most (%.0f%%)", advice(d->kind),
			 d->holder_tid, name_of(eng, d->tgid, d->holder_tid),
			 d->holder_share * 100.0);
	else
		snprintf(buf, len, "%s", advice(d->kind));
}
