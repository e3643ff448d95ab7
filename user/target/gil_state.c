#include "target/gil_state.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "giltrace.h"
#include "target/proc.h"

/*
 * glibc (x86-64) keeps the kernel tid of a thread in its struct pthread,
 * which pthread_t points to, at 0x2d0: checked on Debian 12's glibc 2.36 by
 * reading threading.get_ident() + 0x2d0 from Python (ctypes) against
 * threading.get_native_id(). A value read there is trusted only when it
 * names a thread of the process (/proc/PID/task/TID).
 */
#define GLIBC_PTHREAD_TID 0x2d0

/* The first bytes of struct _gil_runtime_state hold every field read here. */
#define GIL_HEAD 64

static int is_thread_of(__u32 pid, __u64 tid)
{
	char path[64];

	if (!tid || tid > 0x7fffffff)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/task/%llu", pid, (unsigned long long)tid);
	return access(path, F_OK) == 0;
}

/* The kernel tid of the thread a PyThreadState belongs to, 0 if unknown. */
static __u32 tstate_tid(__u32 pid, __u64 tstate, const struct cpython_layout *l)
{
	__u64 v = 0;
	__s32 tid = 0;

	if (proc__read_mem(pid, tstate + l->tstate_thread, &v, sizeof(v)))
		return 0;
	if (l->thread_how == THREAD_PTHREAD) {
		if (!v || proc__read_mem(pid, v + GLIBC_PTHREAD_TID, &tid, sizeof(tid)))
			return 0;
		v = tid > 0 ? (__u64)tid : 0;
	}
	return is_thread_of(pid, v) ? (__u32)v : 0;
}

int gil_state__read(__u32 pid, __u64 gil, const struct cpython_layout *l,
		    struct gil_state *out)
{
	unsigned char head[GIL_HEAD];
	int ret;

	memset(out, 0, sizeof(*out));
	if (l->locked + sizeof(out->locked) > sizeof(head) ||
	    l->interval + sizeof(out->interval) > sizeof(head) ||
	    l->enabled + sizeof(out->enabled) > sizeof(head) ||
	    l->switch_number + sizeof(out->switch_number) > sizeof(head) ||
	    l->frames.last_holder + sizeof(out->holder) > sizeof(head))
		return -EPROTO;
	ret = proc__read_mem(pid, gil, head, sizeof(head));
	if (ret)
		return ret;
	memcpy(&out->locked, head + l->locked, sizeof(out->locked));
	memcpy(&out->switch_number, head + l->switch_number, sizeof(out->switch_number));
	memcpy(&out->holder, head + l->frames.last_holder, sizeof(out->holder));
	/* interval is the first field of struct _gil_runtime_state in
	 * 3.8-3.15 GIL builds, the second in free-threaded ones
	 * (Include/internal/pycore_gil.h). */
	memcpy(&out->interval, head + l->interval, sizeof(out->interval));
	/* gil->enabled is set from the config just before create_gil() makes
	 * locked 0 (init_own_gil()); before, the GIL is all zeros (static
	 * _PyRuntime) or has locked -1 and interval set (_gil_initialize()),
	 * and enabled says nothing yet. */
	if (l->free_threaded && out->interval && out->locked >= 0) {
		memcpy(&out->enabled, head + l->enabled, sizeof(out->enabled));
		if (out->enabled < 0)
			return -EPROTO;
		out->flags |= GIL_STATE_FREE_THREADED;
		if (!out->enabled)
			out->flags |= GIL_STATE_GIL_OFF;
		else if (out->enabled == INT_MAX)
			out->flags |= GIL_STATE_GIL_FOR_GOOD;
	}
	/* -1: not created yet, or destroyed at exit (_gil_initialize() and
	 * destroy_gil() in Python/ceval_gil.[ch]); then 0 or 1. */
	if (out->locked < -1 || out->locked > 1)
		return -EPROTO;
	if (out->locked == 1)
		out->flags |= GIL_STATE_LOCKED;
	if (!out->holder)
		out->flags |= GIL_STATE_NO_HOLDER;
	else
		out->holder_tid = tstate_tid(pid, out->holder, l);
	return 0;
}
