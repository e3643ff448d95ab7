/*
 * The processes of one live run: planned, attached to the one trace
 * session, and dropped when they exit. Explicit targets (-p, CMD) must
 * attach or the run fails; targets found by --all that are not a supported
 * runtime are skipped silently, and found again only after an exec.
 */
#ifndef GILTRACE_TARGETS_H
#define GILTRACE_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "trace_meta.h"
#include "target/discover.h"

struct targets;
struct trace_session;
struct stream_sink;
struct gil_event;

/* sink hears each process as it is traced (target) and as it is dropped
 * (target_exit); only those two calls. */
struct targets *targets__new(const struct stream_sink *sink);
void targets__free(struct targets *t);

/* The tracing mode every later plan asks for (--mode; NULL: each
 * runtime's default). mode must outlive t. */
void targets__set_mode(struct targets *t, const char *mode);
/* Plans PID as an explicit target; 0, or -errno with a reason in err.
 * at_entry: a command's runtime stopped at its entry point (before its
 * interpreter exists). */
int targets__plan(struct targets *t, __u32 pid, bool at_entry, char *err, size_t errlen);
/* Plans every supported process that passes f and is not known yet;
 * while a session is set, attaches them too. 0 or -errno (/proc unreadable). */
int targets__scan(struct targets *t, const struct discover_filter *f);
/* The meta of the first planned target; false when there is none. */
bool targets__first_meta(const struct targets *t, struct trace_meta *meta);
/* Attaches every planned target to s, which later scans also use. Explicit
 * targets that fail are an error (-errno, reason in err); others are
 * skipped. */
int targets__attach(struct targets *t, struct trace_session *s, char *err, size_t errlen);
/* Readable when a traced process has exited. */
int targets__exit_fd(const struct targets *t);
/* Drops the traced processes that exited (call after draining the ring
 * buffer); returns how many are still traced. */
size_t targets__reap(struct targets *t);
size_t targets__ntraced(const struct targets *t);
/* Traced processes that exited but are not reaped yet (pidfds stay
 * readable, so this consumes nothing). */
size_t targets__exited(const struct targets *t);
/* Reads the GIL state of every traced CPython 3.x process from its memory
 * and hands each reading to fn as a GIL_STATE event (bpf/giltrace.h), with
 * flags added (GIL_STATE_END for the last reading of the run). A process
 * whose memory cannot be read any more (it is exiting) is skipped; one
 * whose GIL does not read as its layout says is skipped with a warning.
 * A process whose layout check was put off (target/plan.h) is checked
 * first, and stops being traced if it fails: returns how many did. */
int targets__read_gil_states(struct targets *t, int flags,
			      int (*fn)(void *ctx, const struct gil_event *ev), void *ctx);

#endif
