#include "target/layout_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "target/gil_state.h"
#include "target/proc.h"

/* sys.setswitchinterval() takes seconds and CPython keeps microseconds
 * (default 5000). Above 1 s is refused: a non-PIE build's static thread
 * state (0x400000 up, over 4 s as microseconds) read through an offset 8
 * bytes off passed a looser bound. */
#define INTERVAL_MAX_US 1000000ull
/* Interpreters walked looking for the main one (id 0). */
#define MAX_INTERPS 64
/* A reading can race with a hand-off (the holder's thread state freed as
 * it exits): a layout fails only when every one of these readings does. */
#define TRIES 5

static int read_u64(__u32 pid, __u64 addr, __u64 *v)
{
	return proc__read_mem(pid, addr, v, sizeof(*v));
}

/* What _Py_DebugOffsets promise: the same cookie and version in memory as
 * in the file, and the main interpreter's ceval.gil pointing at the GIL the
 * layout names. 1: the runtime has no interpreter yet. */
static int check_debug(__u32 pid, __u64 runtime, const struct cpython_layout *l,
		       const struct py_debug *d, const unsigned char *file_head, char *err,
		       size_t errlen)
{
	const __u64 *v = d->v;
	unsigned char mem[16];
	__u64 interp, id = 1, main = runtime + py_debug__main_interp(d), gil = 0;

	int ret = proc__read_mem(pid, runtime, mem, sizeof(mem));

	if (ret == -ESRCH) {
		snprintf(err, errlen, "PID %u exited", pid);
		return ret;
	}
	if (ret || memcmp(mem, file_head, sizeof(mem))) {
		snprintf(err, errlen, "layout check 'debug offsets' failed: the cookie and version "
			 "at _PyRuntime in memory differ from the file's");
		return -EPROTO;
	}
	if (read_u64(pid, runtime + v[PYDBG_INTERPRETERS_HEAD], &interp)) {
		snprintf(err, errlen, "layout check 'interpreters' failed: cannot read "
			 "_PyRuntime.interpreters.head");
		return -EPROTO;
	}
	if (!interp)
		return 1;
	for (int i = 0; i < MAX_INTERPS && interp; i++) {
		if (read_u64(pid, interp + v[PYDBG_INTERP_ID], &id) || !id)
			break;
		if (read_u64(pid, interp + v[PYDBG_INTERP_NEXT], &interp))
			interp = 0;
	}
	if (id || interp != main) {
		snprintf(err, errlen, "layout check 'main interpreter' failed: interpreter 0 is "
			 "not the last field of _PyRuntime (%#llx)", (unsigned long long)main);
		return -EPROTO;
	}
	if (read_u64(pid, main + v[PYDBG_CEVAL_GIL], &gil) || gil != runtime + l->gil) {
		snprintf(err, errlen, "layout check 'ceval.gil' failed: the main interpreter's "
			 "ceval.gil is %#llx, the layout puts the GIL at %#llx", (unsigned long long)gil,
			 (unsigned long long)(runtime + l->gil));
		return -EPROTO;
	}
	return 0;
}

/* The GIL itself: a plausible switch interval, locked 0 or 1, and a last
 * holder that is null or the thread state of one of the process's threads.
 * 1: not created yet. */
static int check_gil(__u32 pid, __u64 gil, const struct cpython_layout *l, bool started,
		     char *err, size_t errlen)
{
	struct gil_state st;
	int ret = gil_state__read(pid, gil, l, &st);

	if (ret == -ESRCH) {
		snprintf(err, errlen, "PID %u exited", pid);
		return ret;
	}
	if (ret == -EFAULT) {
		snprintf(err, errlen, "layout check 'gil' failed: cannot read the GIL at %#llx",
			 (unsigned long long)gil);
		return -EPROTO;
	}
	if (ret) {
		snprintf(err, errlen, "layout check '%s' failed: gil->%s",
			 st.enabled < 0 ? "enabled" : "locked",
			 st.enabled < 0 ? "enabled is negative" : "locked is not -1, 0 or 1");
		return -EPROTO;
	}
	/* Before Py_Initialize the GIL is all zeros (3.8-3.12 have no
	 * interpreter list here to tell): nothing to check yet. */
	if (!started && !st.interval && st.locked <= 0 && !st.holder)
		return 1;
	if (!st.interval || st.interval > INTERVAL_MAX_US) {
		snprintf(err, errlen, "layout check 'interval' failed: gil->interval reads %llu, "
			 "not a switch interval in microseconds", (unsigned long long)st.interval);
		return -EPROTO;
	}
	if (st.locked < 0) {
		snprintf(err, errlen, "layout check 'locked' failed: gil->locked reads %d in a "
			 "running interpreter", st.locked);
		return -EPROTO;
	}
	if (st.holder && !st.holder_tid) {
		snprintf(err, errlen, "layout check 'last_holder' failed: gil->last_holder (%#llx) "
			 "is not the thread state of a thread of PID %u",
			 (unsigned long long)st.holder, pid);
		return -EPROTO;
	}
	return 0;
}

int layout_check__live(__u32 pid, __u64 runtime, const struct cpython_layout *l,
		       const struct py_debug *d, const unsigned char *file_head, char *err,
		       size_t errlen)
{
	const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int ret = 0;

	for (int i = 0; i < TRIES; i++) {
		bool started = false;

		if (i)
			nanosleep(&pause, NULL);
		if (d) {
			ret = check_debug(pid, runtime, l, d, file_head, err, errlen);
			if (ret == 1 || ret == -ESRCH)
				return ret;
			started = true;
		}
		if (!ret)
			ret = check_gil(pid, runtime + l->gil, l, started, err, errlen);
		if (ret >= 0 || ret == -ESRCH)
			return ret;
	}
	return ret;
}
