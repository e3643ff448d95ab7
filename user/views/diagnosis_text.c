#include "views/diagnosis_text.h"

#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "views/format.h"
#include "views/locks_text.h"

const char *diagnosis_text__kind(enum diag_kind kind)
{
	switch (kind) {
	case DIAG_LATENCY:
		return "gil-latency";
	case DIAG_HOG:
		return "hog";
	case DIAG_C_HOLD:
		return "c-hold";
	case DIAG_CONVOY:
		return "convoy";
	case DIAG_BATTLE:
		return "gil-battle";
	case DIAG_STARVED:
		return "starved";
	case DIAG_SWITCHING:
		return "switching";
	case DIAG_HEALTHY:
		return "healthy";
	case DIAG_HOT_LOCK:
		return "hot-lock";
	case DIAG_STW:
		return "stop-the-world";
	}
	return "unknown";
}

static const char *name_of(const struct engine *eng, __u32 tgid, __u32 tid)
{
	const struct engine_thread *t = engine__find_thread(eng, tgid, tid);

	return t && t->name[0] ? t->name : "?";
}

static void latency_message(char *buf, size_t len, const struct diagnosis *d)
{
	char p99[FORMAT_LEN];
	int n;

	n = snprintf(buf, len,
		     "GIL-bound latency: the GIL is held %.0f%% of the time and %.2f threads on "
		     "average wait behind its holder (%llu threads waited",
		     d->utilisation * 100.0, d->figure, (unsigned long long)d->count);
	if (n < 0 || (size_t)n >= len)
		return;
	if (d->wait_p99_ns)
		snprintf(buf + n, len - (size_t)n, "; p99 wait %s)",
			 format__duration(p99, sizeof(p99), (double)d->wait_p99_ns));
	else
		snprintf(buf + n, len - (size_t)n, ")");
}

/* "threads waited 3.12 s on a dict's lock (...)": the owner's type where
 * a critical section named it, else the mutex's address. */
static void hot_lock_message(char *buf, size_t len, const struct diagnosis *d,
			     const struct engine *eng)
{
	const struct engine_lock *l = lock_table__find(engine__locks(eng), d->tgid, d->lock);
	char tot[FORMAT_LEN], p99[FORMAT_LEN], what[LOCK_TYPE_NAME_MAX + 64];
	const char *owner = l ? locks_text__owner(l) : "?";

	if (!strcmp(owner, "PyMutex"))
		snprintf(what, sizeof(what), "the PyMutex at %#llx", (unsigned long long)d->lock);
	else if (!strcmp(owner, "?"))
		snprintf(what, sizeof(what), "the lock at %#llx (its owner's type did not read)",
			 (unsigned long long)d->lock);
	else
		snprintf(what, sizeof(what), "a %s's lock (%#llx)", owner, (unsigned long long)d->lock);
	snprintf(buf, len,
		 "hot lock: threads waited %s on %s: %llu contended acquisitions by %u threads, "
		 "p99 wait %s", format__duration(tot, sizeof(tot), d->figure), what,
		 (unsigned long long)d->count, d->threads,
		 format__duration(p99, sizeof(p99), (double)d->wait_p99_ns));
}

void diagnosis_text__message(char *buf, size_t len, const struct diagnosis *d,
			     const struct engine *eng)
{
	const char *name = name_of(eng, d->tgid, d->tid);

	switch (d->kind) {
	case DIAG_LATENCY:
		latency_message(buf, len, d);
		return;
	case DIAG_HOG:
		snprintf(buf, len,
			 "hog: thread %u (%s) holds the GIL %.0f%% of the time (%.0f%% of all holds) "
			 "while others wait behind it", d->tid, name, d->figure * 100.0,
			 d->holder_share * 100.0);
		return;
	case DIAG_C_HOLD:
		snprintf(buf, len,
			 "C code holding the GIL: thread %u (%s) kept it long after a waiter asked "
			 "for it, %llu times (up to %.1f ms); Python lets go at once",
			 d->tid, name, (unsigned long long)d->count, d->figure / 1e6);
		return;
	case DIAG_CONVOY:
		if (d->threads > 1)
			snprintf(buf, len,
				 "convoy: %u threads wait for the GIL after each I/O (%llu times), "
				 "thread %u (%s) %.2f ms each time",
				 d->threads, (unsigned long long)d->count, d->tid, name,
				 d->figure / 1e6);
		else
			snprintf(buf, len,
				 "convoy: thread %u (%s) waits %.2f ms for the GIL after each I/O "
				 "(%llu times)",
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
	case DIAG_SWITCHING:
		snprintf(buf, len,
			 "switching too often: the GIL is forced from thread to thread %.0f times a "
			 "second (every %.0f us)", d->figure, d->figure > 0 ? 1e6 / d->figure : 0);
		return;
	case DIAG_HEALTHY:
		snprintf(buf, len,
			 "the GIL is not your problem: it is held %.0f%% of the time and %.2f "
			 "threads on average wait behind its holder", d->utilisation * 100.0,
			 d->figure);
		return;
	case DIAG_HOT_LOCK:
		hot_lock_message(buf, len, d, eng);
		return;
	case DIAG_STW: {
		char max[FORMAT_LEN];

		snprintf(buf, len,
			 "stop-the-world: the process was stopped %llu times, %.0f%% of the time "
			 "(longest pause %s)", (unsigned long long)d->count, d->figure * 100.0,
			 format__duration(max, sizeof(max), (double)d->wait_p99_ns));
		return;
	}
	}
	snprintf(buf, len, "%s: thread %u (%s)", diagnosis_text__kind(d->kind), d->tid, name);
}

static const char *advice(enum diag_kind kind)
{
	switch (kind) {
	case DIAG_LATENCY:
		return "giltrace blame names the code holding it; move CPU-bound Python work to "
		       "processes or to C code that releases the GIL";
	case DIAG_HOG:
		return "move this thread's work to a process; giltrace blame names its code";
	case DIAG_C_HOLD:
		return "a C call (an extension, re, a library) runs without releasing the GIL: "
		       "release it around the call (Py_BEGIN_ALLOW_THREADS), split its input, or "
		       "move it to a process";
	case DIAG_CONVOY:
		return "lower sys.setswitchinterval() or move CPU-bound work to processes";
	case DIAG_BATTLE:
		return "CPU-bound threads fight over the GIL: move them to processes or pin to one CPU";
	case DIAG_STARVED:
		return "shorten the GIL holder's pure-Python stretches or move it to a process";
	case DIAG_SWITCHING:
		return "each forced switch costs two context switches and cold caches: raise "
		       "sys.setswitchinterval() (default 5 ms)";
	case DIAG_HEALTHY:
		return "look elsewhere: CPU, I/O, locks, or C code (which runs without the GIL)";
	case DIAG_HOT_LOCK:
		return "threads take turns on one object: give each thread its own (merge the "
		       "results at the end) or hand the updates to one thread through a queue";
	case DIAG_STW:
		return "the collector stops every thread: allocate fewer container objects, "
		       "gc.freeze() after start-up, or raise gc.set_threshold()";
	}
	return "";
}

void diagnosis_text__hint(char *buf, size_t len, const struct diagnosis *d,
			  const struct engine *eng)
{
	if (d->holder_tid && d->kind != DIAG_HOG)
		snprintf(buf, len, "%s; thread %u (%s) holds the GIL most (%.0f%%)", advice(d->kind),
			 d->holder_tid, name_of(eng, d->tgid, d->holder_tid),
			 d->holder_share * 100.0);
	else
		snprintf(buf, len, "%s", advice(d->kind));
}
