/*
 * The live event source: loads giltrace's BPF programs, attaches them as an
 * attach plan says, and hands every ring-buffer record (plus synthetic DROPS
 * records when the BPF drop counter grows) to one callback. The only code
 * in giltrace that knows libbpf and the skeleton.
 */
#ifndef GILTRACE_SESSION_H
#define GILTRACE_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "giltrace.h"
#include "blame.h"
#include "target/plan.h"

struct trace_session;

/* Returns non-zero to stop polling (e.g. the capture file is full). */
typedef int (*trace_event_fn)(void *ctx, const struct gil_event *ev);

struct trace_opts {
	bool verbose;
	const char *btf_path; /* kernel BTF to use instead of /sys/kernel/btf/vmlinux */
	trace_event_fn on_event;
	void *ctx;
	bool blame; /* walk the GIL holder's Python stack at waits (docs/blame.md) */
	__u32 ringbuf_bytes; /* 0: GILTRACE_RINGBUF_BYTES */
};

/* 0, or -errno with a one-line reason (no "giltrace: " prefix) in err. */
int trace_session__open(struct trace_session **out, const struct trace_opts *opts, char *err,
			size_t errlen);
/* Adds a target process and attaches its probes; on failure none of its
 * probes stay attached. Call once per target: every target shares the one
 * set of BPF programs, filtered in the kernel by the traced_tgids map. */
int trace_session__add(struct trace_session *s, const struct attach_plan *plan, char *err,
		       size_t errlen);
/* Stops tracing PID: deletes it from the map and destroys its probes. The
 * events it already wrote stay in the ring buffer for the next poll. */
void trace_session__remove(struct trace_session *s, __u32 pid);
/* Stops every target's events at the source (probes stay attached), so
 * that a last poll sees all that was emitted and the drop counter is final. */
void trace_session__quiesce(struct trace_session *s);
/* Drains the ring buffer, waiting up to timeout_ms: events handled (>= 0),
 * -EINTR when interrupted, or another -errno. */
int trace_session__poll(struct trace_session *s, int timeout_ms);
/* For poll()ing the ring buffer beside other descriptors. */
int trace_session__fd(const struct trace_session *s);
/* Records lost so far, as counted in BPF. */
unsigned long long trace_session__drops(const struct trace_session *s);
/* How futex calls are traced: "syscall tracepoints" or "raw tracepoints". */
const char *trace_session__futex_mode(const struct trace_session *s);
void trace_session__close(struct trace_session *s);

/*
 * Blame: takes stack id (from a HOLDER_STACK event of pid) out of the BPF
 * map into out, and tells BPF not to store it again. 0, or -ENOENT when it
 * is not there (taken already). *code says how pid's code objects are laid
 * out (NULL: pid is no CPython blame target).
 */
/* How pid's code objects are laid out, to name its HOLDER_FRAME samples
 * and blame stacks; NULL: pid is no CPython target with frames. */
const struct cpython_code_layout *trace_session__code_layout(const struct trace_session *s,
							     __u32 pid);
int trace_session__take_stack(struct trace_session *s, __u32 pid, __u64 id,
			      struct blame_stack *out, const struct cpython_code_layout **code);

/* Free-threaded CPython: how pid's lock owners are named, or NULL when
 * its locks are not traced. */
const struct ftlocks_layout *trace_session__lock_layout(const struct trace_session *s,
							 __u32 pid);

#endif
