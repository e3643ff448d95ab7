/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the futex and scheduler programs share about a thread inside a
 * futex call on a GIL word: the call itself, the global count that gates
 * the scheduler programs, and a wake-up waiting for its thread to run.
 */
#ifndef GILTRACE_FUTEX_STATE_BPF_H
#define GILTRACE_FUTEX_STATE_BPF_H

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
#define ETIMEDOUT 110
#define EAGAIN 11

/* futex_call.on_cond: which GIL word the call is on. */
#define ON_COND 1
#define ON_SEM 2

/* A futex call on a GIL address in flight, from sys_enter to sys_exit. */
struct futex_call {
	__u64 ts;
	__u64 uaddr;
	__u32 cmd;
	__u32 on_cond; /* ON_COND: CPython's gil->cond; ON_SEM: 2.7's semaphore */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct futex_call);
} futex_inflight SEC(".maps");

/*
 * An upper bound on the entries in futex_inflight: raised before an insert,
 * lowered after a delete. The scheduler programs run on every wake-up and
 * context switch of the machine but only matter for a thread inside a GIL
 * futex call, so they return at once while this is 0 (an I/O-bound target
 * rarely waits on its GIL: tools/bench measured the scheduler programs at
 * +7-12% of such a target's CPU). A missed sys_exit only keeps it high.
 */
__u64 gil_futex_calls = 0;

static __always_inline bool no_gil_futex_calls(void)
{
	return !*(volatile __u64 *)&gil_futex_calls;
}

/* A wake-up of a thread blocked on the GIL, from sched_waking (in the
 * waker's context) until the woken thread gets a CPU. */
struct waking {
	__u64 ts;
	__u32 waker_tid;
	__u32 waker_cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct waking);
} wakings SEC(".maps");

#endif /* GILTRACE_FUTEX_STATE_BPF_H */
