// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * giltrace's collection side: GIL probe points in the target, the futex
 * syscalls on the GIL's own addresses, and the scheduler's view of threads
 * blocked on the GIL. Everything is filtered by the traced_tgids map before
 * a ring-buffer record is reserved.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "giltrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
#define ETIMEDOUT 110
#define EAGAIN 11

/* x86-64 syscall numbers, for the raw sys_enter/sys_exit fallback. */
#define NR_futex 202
#define NR_futex_waitv 449

/* Ring-buffer wake-ups are batched: the consumer polls every few ms anyway,
 * and waking it per event would cost more than the event. */
const volatile __u64 wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, GILTRACE_RINGBUF_BYTES);
} events SEC(".maps");

/* Records lost to a full ring buffer, per CPU; user space turns increases
 * into DROPS events so that drops travel in the stream. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct gil_target);
} traced_tgids SEC(".maps");

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

static __always_inline struct gil_event *reserve(void)
{
	struct gil_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__u32 zero = 0;
		__u64 *cnt = bpf_map_lookup_elem(&drops, &zero);

		if (cnt)
			(*cnt)++;
	}
	return e;
}

/* Wake-ups happen as the pending data crosses wakeup_bytes, in a window of
 * a few records (CPUs submit concurrently), not at every record above it:
 * a consumer that falls behind would otherwise make each of the target's
 * events pay for a wake-up (4x slower in a storm). The consumer also polls
 * every 10 ms, so a crossing missed costs only latency. */
#define WAKEUP_WINDOW 1024

static __always_inline void submit(struct gil_event *e)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 flags = avail >= wakeup_bytes && avail < wakeup_bytes + WAKEUP_WINDOW
			      ? BPF_RB_FORCE_WAKEUP
			      : BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(e, flags);
}

static __always_inline void emit(__u32 kind, __u32 tgid, __u32 tid, __u32 cpu,
				 __u64 ts, __u64 addr, __u64 value, __s32 ret)
{
	struct gil_event *e = reserve();

	if (!e)
		return;
	e->ts = ts;
	e->addr = addr;
	e->value = value;
	e->tgid = tgid;
	e->tid = tid;
	e->ret = ret;
	e->cpu = cpu;
	e->kind = kind;
	submit(e);
}

/* One body for every GIL probe point: the kind is the only difference. */
static __always_inline int gil_hook(struct pt_regs *ctx, __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);
	__u64 gil = PT_REGS_PARM1(ctx);

	if (!t)
		return 0;
	/* The first probe hit tells where the GIL lives; from then on futex
	 * calls are filtered to its words. */
	if (!t->gil_base)
		t->gil_base = gil;
	emit(kind, tgid, (__u32)id, bpf_get_smp_processor_id(), bpf_ktime_get_ns(), gil, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(gil_wait) { return gil_hook(ctx, GIL_EV_WAIT); }
SEC("uprobe")
int BPF_KPROBE(gil_retry) { return gil_hook(ctx, GIL_EV_RETRY); }
SEC("uprobe")
int BPF_KPROBE(gil_timeout) { return gil_hook(ctx, GIL_EV_TIMEOUT); }
SEC("uprobe")
int BPF_KPROBE(gil_drop_request) { return gil_hook(ctx, GIL_EV_DROP_REQUEST); }
SEC("uprobe")
int BPF_KPROBE(gil_acquire) { return gil_hook(ctx, GIL_EV_ACQUIRE); }
SEC("uprobe")
int BPF_KPROBE(gil_release) { return gil_hook(ctx, GIL_EV_RELEASE); }
SEC("uprobe")
int BPF_KPROBE(gil_forced_release) { return gil_hook(ctx, GIL_EV_FORCED_RELEASE); }

/*
 * CPython. take_gil() is
 *
 *	MUTEX_LOCK(gil->mutex);
 *	while (gil->locked) {
 *		saved_switchnum = gil->switch_number;
 *		COND_TIMED_WAIT(gil->cond, gil->mutex, interval, timed_out);
 *		if (timed_out && gil->locked && gil->switch_number == saved_switchnum)
 *			SET_GIL_DROP_REQUEST(interp);
 *	}
 *
 * so its events are read from the target's memory and from the futex
 * waits on gil->cond, with no probe inside the function: WAIT when the GIL
 * is locked at entry (or, having been free there, when the first wait on
 * the cond starts), TIMEOUT when such a wait returns -ETIMEDOUT,
 * DROP_REQUEST when it timed out with the GIL still locked and the switch
 * number unchanged since the wait began (CPython's own test, made here at
 * the futex return instead of after re-taking gil->mutex), RETRY when a
 * woken thread waits on the cond again. ACQUIRE is take_gil's return;
 * drop_gil's entry is a RELEASE, forced when a drop request is pending,
 * which is CPython's own test for waiting on switch_cond.
 *
 * Without take_gil (stripped interpreters, GIL_TARGET_FUTEX_ONLY) the same
 * waits give WAIT, TIMEOUT and DROP_REQUEST; ACQUIRE is derived from a cond
 * wait returning woken and RELEASE from the holder's wake of the cond, so
 * only contended acquisitions and releases are seen.
 */
struct gil_waiter {
	__u64 switch_at_wait; /* gil->switch_number when this cond wait began */
	__u8 waiting;         /* WAIT emitted for this attempt */
	__u8 woken;           /* the last cond wait ended woken: a new one is a RETRY */
	__u8 holding;         /* futex mode: an ACQUIRE was derived, no RELEASE yet */
	__u8 pad[5];
};

/* LRU: in futex mode an entry lives as long as its thread, and threads
 * that exit never say so. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GILTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct gil_waiter);
} gil_waiters SEC(".maps");

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

static __always_inline __u32 read_u32(__u64 addr)
{
	__u32 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

static __always_inline bool drop_requested(const struct gil_target *t)
{
	__u64 addr = t->drop_req_addr;

	if (!addr)
		return false;
	if (t->flags & GIL_TARGET_DEREF) {
		addr = read_u64(addr);
		if (!addr)
			return false;
		addr += t->drop_req_off;
	}
	return read_u32(addr) & t->drop_req_mask;
}

/* Blame's stack walker and its maps (docs/blame.md); inert unless blame_on is set. */
#include "blame.bpf.h"

static __always_inline struct gil_target *cpython_target(__u32 tgid)
{
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);

	return t && (t->flags & GIL_TARGET_CPYTHON) && t->gil_base ? t : NULL;
}

/*
 * Stripped CPython in "acquire" mode (GIL_TARGET_SAVE_THREAD): take_gil is
 * probed (found through PyEval_RestoreThread), drop_gil is inlined and has
 * no probe point. A voluntary release is PyEval_SaveThread's entry
 * (Py_BEGIN_ALLOW_THREADS); a thread that enters take_gil still holding
 * was made to drop it by the eval loop (a drop request): FORCED_RELEASE,
 * stamped at that take_gil entry, a switch wait late at most.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GILTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, __u8);
} gil_holders SEC(".maps");

static __always_inline void save_thread_take(const struct gil_target *t, __u32 tgid, __u32 tid)
{
	if (!(t->flags & GIL_TARGET_SAVE_THREAD) || !bpf_map_lookup_elem(&gil_holders, &tid))
		return;
	bpf_map_delete_elem(&gil_holders, &tid);
	emit(GIL_EV_FORCED_RELEASE, tgid, tid, bpf_get_smp_processor_id(), bpf_ktime_get_ns(),
	     t->gil_base, 0, 0);
}

static __always_inline void save_thread_acquired(const struct gil_target *t, __u32 tid)
{
	__u8 one = 1;

	if (t->flags & GIL_TARGET_SAVE_THREAD)
		bpf_map_update_elem(&gil_holders, &tid, &one, BPF_ANY);
}

SEC("uprobe")
int BPF_KPROBE(cpy_save_thread)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t = cpython_target(tgid);

	if (!t)
		return 0;
	bpf_map_delete_elem(&gil_holders, &tid);
	emit(GIL_EV_RELEASE, tgid, tid, bpf_get_smp_processor_id(), bpf_ktime_get_ns(),
	     t->gil_base, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(cpy_take_gil)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t = cpython_target(tgid);
	struct gil_waiter w = {};

	if (!t)
		return 0;
	save_thread_take(t, tgid, tid);
	if (read_u32(t->gil_base + t->off_locked)) {
		__u32 cpu = bpf_get_smp_processor_id();
		__u64 now = bpf_ktime_get_ns();

		w.waiting = 1;
		emit(GIL_EV_WAIT, tgid, tid, cpu, now, t->gil_base, 0, 0);
		blame_sample(tgid, tid, cpu, now, t->gil_base);
	}
	bpf_map_update_elem(&gil_waiters, &tid, &w, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(cpy_take_gil_ret)
{
	__u64 id = bpf_get_current_pid_tgid(), now;
	__u32 tgid = id >> 32, tid = id, cpu;
	struct gil_target *t = cpython_target(tgid);
	bool contended = false;

	if (!t)
		return 0;
	save_thread_acquired(t, tid);
	if (blame_on) {
		struct gil_waiter *w = bpf_map_lookup_elem(&gil_waiters, &tid);

		contended = w && w->waiting;
	}
	bpf_map_delete_elem(&gil_waiters, &tid);
	cpu = bpf_get_smp_processor_id();
	now = bpf_ktime_get_ns();
	emit(GIL_EV_ACQUIRE, tgid, tid, cpu, now, t->gil_base, 0, 0);
	/* Blame: a hand-over while others may wait; take_gil has just made
	 * this thread gil->last_holder. */
	if (contended)
		blame_sample(tgid, tid, cpu, now, t->gil_base);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(cpy_drop_gil)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct gil_target *t = cpython_target(tgid);
	__u64 now;
	__u32 cpu;
	bool forced;

	if (!t)
		return 0;
	cpu = bpf_get_smp_processor_id();
	now = bpf_ktime_get_ns();
	forced = drop_requested(t);
	/* Blame: what the holder ran when it was made to let go. */
	if (forced)
		blame_sample(tgid, (__u32)id, cpu, now, t->gil_base);
	emit(forced ? GIL_EV_FORCED_RELEASE : GIL_EV_RELEASE, tgid, (__u32)id, cpu, now,
	     t->gil_base, 0, 0);
	return 0;
}

static __always_inline bool on_cond(const struct gil_target *t, __u64 uaddr)
{
	return (t->flags & GIL_TARGET_CPYTHON) &&
	       uaddr - (t->gil_base + t->off_cond) < t->cond_size;
}

/* A thread starts a futex wait on gil->cond. */
static __always_inline void cond_wait_enter(const struct gil_target *t, __u32 tgid, __u32 tid,
					    __u64 now)
{
	struct gil_waiter *w = bpf_map_lookup_elem(&gil_waiters, &tid);
	struct gil_waiter fresh = {};
	__u32 cpu = bpf_get_smp_processor_id();

	if (!w) {
		/* Futex mode, or take_gil's entry was missed: start here. */
		bpf_map_update_elem(&gil_waiters, &tid, &fresh, BPF_ANY);
		w = bpf_map_lookup_elem(&gil_waiters, &tid);
		if (!w)
			return;
	}
	if (!w->waiting) {
		w->waiting = 1;
		w->holding = 0;
		emit(GIL_EV_WAIT, tgid, tid, cpu, now, t->gil_base, 0, 0);
		blame_sample(tgid, tid, cpu, now, t->gil_base);
	} else if (w->woken) {
		emit(GIL_EV_RETRY, tgid, tid, cpu, now, t->gil_base, 0, 0);
	}
	w->woken = 0;
	w->switch_at_wait = read_u64(t->gil_base + t->off_switch);
}

/* That wait returned. */
static __always_inline void cond_wait_exit(const struct gil_target *t, __u32 tgid, __u32 tid,
					   __u64 now, long ret)
{
	struct gil_waiter *w = bpf_map_lookup_elem(&gil_waiters, &tid);
	__u32 cpu = bpf_get_smp_processor_id();

	if (!w || !w->waiting)
		return;
	if (ret == -ETIMEDOUT) {
		bool locked = read_u32(t->gil_base + t->off_locked);

		emit(GIL_EV_TIMEOUT, tgid, tid, cpu, now, t->gil_base, 0, 0);
		if (locked && read_u64(t->gil_base + t->off_switch) == w->switch_at_wait)
			emit(GIL_EV_DROP_REQUEST, tgid, tid, cpu, now, t->gil_base, 0, 0);
		/* Blame: who holds it now, for the next stretch of this wait. */
		if (locked)
			blame_sample(tgid, tid, cpu, now, t->gil_base);
		return;
	}
	if (ret != 0 && ret != -EAGAIN)
		return;
	if (!(t->flags & GIL_TARGET_FUTEX_ONLY)) {
		w->woken = 1;
		return;
	}
	w->waiting = 0;
	w->holding = 1;
	emit(GIL_EV_ACQUIRE, tgid, tid, cpu, now, t->gil_base, 0, 0);
}

/* Futex mode: the holder wakes a waiter on gil->cond from drop_gil. */
static __always_inline void cond_wake(const struct gil_target *t, __u32 tgid, __u32 tid, __u64 now)
{
	struct gil_waiter *w;
	bool forced;

	if (!(t->flags & GIL_TARGET_FUTEX_ONLY))
		return;
	w = bpf_map_lookup_elem(&gil_waiters, &tid);
	if (!w || !w->holding)
		return;
	w->holding = 0;
	forced = drop_requested(t);
	if (forced)
		blame_sample(tgid, tid, bpf_get_smp_processor_id(), now, t->gil_base);
	emit(forced ? GIL_EV_FORCED_RELEASE : GIL_EV_RELEASE, tgid, tid,
	     bpf_get_smp_processor_id(), now, t->gil_base, 0, 0);
}

/*
 * CPython 2.7: the old GIL. interpreter_lock (Python/ceval.c) points to a
 * PyThread_type_lock which, on Linux, is a malloc'ed POSIX semaphore
 * (Python/thread_pthread.h, USE_SEMAPHORES): PyThread_acquire_lock() is
 * sem_wait(), PyThread_release_lock() is sem_post(). glibc's sem_t keeps
 * its value in the 32-bit futex word at the semaphore's own address and
 * its waiter count beside it; sem_post() issues FUTEX_WAKE only when a
 * waiter is counted, and a woken sem_wait() that finds the value taken
 * again waits again.
 *
 * The lock exists once threads start (PyEval_InitThreads), which may be
 * after attach: until then gil_base is 0 and every futex call of the
 * process re-reads the pointer at gil_ptr (one 8-byte read, and only
 * until threads start).
 *
 * Futex mode (default, no probe in the interpreter): a thread's first
 * futex wait on the semaphore is a WAIT; a wait after a wake-up (0 or
 * -EAGAIN) with no release of its own in between is a RETRY, the talk's
 * failed wake-up; a FUTEX_WAKE issued by a thread that was woken means it
 * got the lock and is posting it again: ACQUIRE (stamped at its wake-up)
 * and RELEASE. Only contended acquisitions and releases with a waiter are
 * seen.
 *
 * Full mode: uprobes on PyThread_acquire_lock (entry and return) and
 * PyThread_release_lock, kept only when the lock is interpreter_lock's.
 * ACQUIRE and RELEASE are then exact; a release called from the eval loop
 * (the check interval's forced switch) is a FORCED_RELEASE.
 */
#define ON_COND 1
#define ON_SEM 2

struct sem_waiter {
	__u64 woken_ts; /* when the last wait on the semaphore ended woken */
	__u8 waiting;   /* WAIT emitted for this attempt */
	__u8 woken;     /* the last wait ended woken: a new one is a RETRY */
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GILTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct sem_waiter);
} sem_waiters SEC(".maps");

/* The semaphore's address, once PyEval_InitThreads has allocated it. */
static __always_inline void sem_learn_gil(struct gil_target *t)
{
	__u64 lock = read_u64(t->gil_ptr);

	if (lock)
		t->gil_base = lock;
}

static __always_inline struct gil_target *sem_target(__u32 tgid, __u64 lock)
{
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);

	if (!t || !(t->flags & GIL_TARGET_SEM))
		return NULL;
	if (!t->gil_base)
		sem_learn_gil(t);
	return t->gil_base && t->gil_base == lock ? t : NULL;
}

static __always_inline void sem_wait_enter(const struct gil_target *t, __u32 tgid, __u32 tid,
					   __u64 now)
{
	struct sem_waiter *w = bpf_map_lookup_elem(&sem_waiters, &tid);
	struct sem_waiter fresh = {};
	__u32 cpu = bpf_get_smp_processor_id();

	if (!w) {
		bpf_map_update_elem(&sem_waiters, &tid, &fresh, BPF_ANY);
		w = bpf_map_lookup_elem(&sem_waiters, &tid);
		if (!w)
			return;
	}
	if (!w->waiting) {
		w->waiting = 1;
		emit(GIL_EV_WAIT, tgid, tid, cpu, now, t->gil_base, 0, 0);
	} else if (w->woken) {
		emit(GIL_EV_RETRY, tgid, tid, cpu, now, t->gil_base, 0, 0);
	}
	w->woken = 0;
}

static __always_inline void sem_wait_exit(__u32 tid, __u64 now, long ret)
{
	struct sem_waiter *w = bpf_map_lookup_elem(&sem_waiters, &tid);

	if (!w || !w->waiting || (ret != 0 && ret != -EAGAIN))
		return;
	w->woken = 1;
	w->woken_ts = now;
}

/* sem_post() with a waiter: futex mode derives the poster's hold. */
static __always_inline void sem_wake(const struct gil_target *t, __u32 tgid, __u32 tid, __u64 now)
{
	struct sem_waiter *w;
	__u32 cpu;

	if (!(t->flags & GIL_TARGET_FUTEX_ONLY))
		return;
	w = bpf_map_lookup_elem(&sem_waiters, &tid);
	if (!w || !w->waiting || !w->woken)
		return;
	w->waiting = 0;
	w->woken = 0;
	cpu = bpf_get_smp_processor_id();
	emit(GIL_EV_ACQUIRE, tgid, tid, cpu, w->woken_ts, t->gil_base, 0, 0);
	emit(GIL_EV_RELEASE, tgid, tid, cpu, now, t->gil_base, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(py2_lock_acquire, __u64 lock)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t = sem_target(tgid, lock);
	struct sem_waiter w = {};

	if (!t)
		return 0;
	/* sem_t's value is 0 while the lock is held. */
	if (!read_u32(lock)) {
		w.waiting = 1;
		emit(GIL_EV_WAIT, tgid, tid, bpf_get_smp_processor_id(), bpf_ktime_get_ns(), lock,
		     0, 0);
	}
	bpf_map_update_elem(&sem_waiters, &tid, &w, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(py2_lock_acquire_ret, int acquired)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t;

	/* Only calls on interpreter_lock left an entry. */
	if (!bpf_map_lookup_elem(&sem_waiters, &tid))
		return 0;
	bpf_map_delete_elem(&sem_waiters, &tid);
	if (!acquired)
		return 0;
	t = bpf_map_lookup_elem(&traced_tgids, &tgid);
	if (t)
		emit(GIL_EV_ACQUIRE, tgid, tid, bpf_get_smp_processor_id(), bpf_ktime_get_ns(),
		     t->gil_base, 0, 0);
	return 0;
}

/* Placed on PyThread_release_lock's call to sem_post (its first
 * instruction, sub $8,%rsp, would be single-stepped): the caller's return
 * address is one slot up. drop_req_addr/drop_req_off hold the eval loop's
 * address and size. */
SEC("uprobe")
int BPF_KPROBE(py2_lock_release, __u64 lock)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct gil_target *t = sem_target(tgid, lock);
	__u64 caller;

	if (!t)
		return 0;
	caller = read_u64(PT_REGS_SP(ctx) + 8);
	emit(caller - t->drop_req_addr < t->drop_req_off ? GIL_EV_FORCED_RELEASE : GIL_EV_RELEASE,
	     tgid, (__u32)id, bpf_get_smp_processor_id(), bpf_ktime_get_ns(), lock, 0, 0);
	return 0;
}

static __always_inline bool on_gil(const struct gil_target *t, __u64 uaddr)
{
	return t->gil_base && uaddr - t->gil_base < t->gil_span;
}

static __always_inline int futex_enter(__u64 uaddr, __u32 op)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);
	struct futex_call call;
	__u32 cmd = op & FUTEX_CMD_MASK;

	if (!t)
		return 0;
	if (!t->gil_base && (t->flags & GIL_TARGET_SEM))
		sem_learn_gil(t);
	if (!on_gil(t, uaddr))
		return 0;
	if (cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAKE &&
	    cmd != FUTEX_WAKE_BITSET)
		return 0;
	call.ts = bpf_ktime_get_ns();
	call.uaddr = uaddr;
	call.cmd = cmd;
	call.on_cond = on_cond(t, uaddr) ? ON_COND : (t->flags & GIL_TARGET_SEM) ? ON_SEM : 0;
	if (call.on_cond == ON_SEM) {
		if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET)
			sem_wake(t, tgid, tid, call.ts);
		else
			sem_wait_enter(t, tgid, tid, call.ts);
	} else if (call.on_cond) {
		if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET)
			cond_wake(t, tgid, tid, call.ts);
		else
			cond_wait_enter(t, tgid, tid, call.ts);
	}
	__sync_fetch_and_add(&gil_futex_calls, 1);
	bpf_map_update_elem(&futex_inflight, &tid, &call, BPF_ANY);
	return 0;
}

/* Every outcome is kept, time-outs and -EAGAIN included: the new GIL's
 * timed waits are exactly what futexctn-style filters would hide. */
static __always_inline int futex_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = id;
	struct futex_call *call = bpf_map_lookup_elem(&futex_inflight, &tid);
	__u64 now;
	__u32 kind;

	if (!call)
		return 0;
	now = bpf_ktime_get_ns();
	kind = call->cmd == FUTEX_WAKE || call->cmd == FUTEX_WAKE_BITSET ? GIL_EV_WAKE_CALL
									  : GIL_EV_WAKE;
	emit(kind, id >> 32, tid, bpf_get_smp_processor_id(), now, call->uaddr, now - call->ts,
	     (__s32)ret);
	if (call->on_cond == ON_SEM && kind == GIL_EV_WAKE)
		sem_wait_exit(tid, now, ret);
	else if (call->on_cond && kind == GIL_EV_WAKE) {
		__u32 tgid = id >> 32;
		struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);

		/* The WAKE goes first: it ends the wait the TIMEOUT or ACQUIRE
		 * below is about. */
		if (t)
			cond_wait_exit(t, tgid, tid, now, ret);
	}
	bpf_map_delete_elem(&futex_inflight, &tid);
	/* A wake-up left unclaimed (the thread was woken before it slept, so no
	 * sched_switch brought it back) must not outlive the call: the gated
	 * scheduler programs might otherwise claim it much later. Only waits
	 * have one (blocked_on_gil). */
	if (kind == GIL_EV_WAKE)
		bpf_map_delete_elem(&wakings, &tid);
	__sync_fetch_and_sub(&gil_futex_calls, 1);
	return 0;
}

/*
 * Two ways in, one body: the syscalls:sys_{enter,exit}_futex tracepoints
 * run only for futex calls but need tracefs; the raw sys_enter/sys_exit
 * tracepoints need nothing but run for every syscall. User space picks one
 * with bpf_program__set_autoload().
 */
struct futex_enter_args {
	__u64 pad;
	int nr;
	__u64 uaddr;
	__u64 op;
};

struct futex_exit_args {
	__u64 pad;
	int nr;
	long ret;
};

/* Words of a futex_waitv (5.16+) call looked at: it waits on up to 128. */
#define FUTEX_WAITV_SCAN 8
/* struct futex_waitv { __u64 val; __u64 uaddr; __u32 flags; __u32 __reserved; } */
#define FUTEX_WAITV_SIZE 24
#define FUTEX_WAITV_UADDR 8

/* A futex_waitv is a wait on the GIL when one of its first words is the
 * GIL's; it then counts as a FUTEX_WAIT on that word. */
static __always_inline int futex_waitv_enter(__u64 waiters, __u32 n)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gil_target *t = bpf_map_lookup_elem(&traced_tgids, &tgid);

	if (!t)
		return 0;
	for (__u32 i = 0; i < FUTEX_WAITV_SCAN && i < n; i++) {
		__u64 uaddr;

		if (bpf_probe_read_user(&uaddr, sizeof(uaddr),
					(void *)(waiters + i * FUTEX_WAITV_SIZE + FUTEX_WAITV_UADDR)))
			return 0;
		if (on_gil(t, uaddr))
			return futex_enter(uaddr, FUTEX_WAIT);
	}
	return 0;
}

/* futex_waitv returns the index of the word that woke it: woken is 0. */
static __always_inline int futex_waitv_exit(long ret)
{
	return futex_exit(ret > 0 ? 0 : ret);
}

SEC("tracepoint/syscalls/sys_enter_futex")
int tp_futex_enter(struct futex_enter_args *ctx)
{
	return futex_enter(ctx->uaddr, ctx->op);
}

SEC("tracepoint/syscalls/sys_exit_futex")
int tp_futex_exit(struct futex_exit_args *ctx)
{
	return futex_exit(ctx->ret);
}

struct futex_waitv_enter_args {
	__u64 pad;
	int nr;
	__u64 waiters;
	__u64 nr_futexes;
};

SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int tp_futex_waitv_enter(struct futex_waitv_enter_args *ctx)
{
	return futex_waitv_enter(ctx->waiters, (__u32)ctx->nr_futexes);
}

SEC("tracepoint/syscalls/sys_exit_futex_waitv")
int tp_futex_waitv_exit(struct futex_exit_args *ctx)
{
	return futex_waitv_exit(ctx->ret);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(raw_futex_enter, struct pt_regs *regs, long id)
{
	if (id == NR_futex)
		return futex_enter(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si));
	if (id == NR_futex_waitv)
		return futex_waitv_enter(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si));
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(raw_futex_exit, struct pt_regs *regs, long ret)
{
	long nr = BPF_CORE_READ(regs, orig_ax);

	if (nr == NR_futex)
		return futex_exit(ret);
	if (nr == NR_futex_waitv)
		return futex_waitv_exit(ret);
	return 0;
}

/*
 * A thread inside a futex wait on the GIL is blocked on the GIL. Its
 * wake-up is seen twice: sched_waking runs in the waker's context (who woke
 * it, from which CPU) and sched_wakeup once the scheduler placed it (which
 * CPU it will run on); with a remote wake-up queue sched_wakeup runs on the
 * target CPU, so the waker must be taken at sched_waking.
 */
static __always_inline bool blocked_on_gil(struct task_struct *p, __u32 *tgid, __u32 *tid)
{
	struct futex_call *call;

	*tgid = BPF_CORE_READ(p, tgid);
	if (!bpf_map_lookup_elem(&traced_tgids, tgid))
		return false;
	*tid = BPF_CORE_READ(p, pid);
	call = bpf_map_lookup_elem(&futex_inflight, tid);
	return call && call->cmd != FUTEX_WAKE && call->cmd != FUTEX_WAKE_BITSET;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(sched_waking, struct task_struct *p)
{
	struct waking w;
	__u32 tgid, tid;

	if (no_gil_futex_calls() || !blocked_on_gil(p, &tgid, &tid))
		return 0;
	w.ts = bpf_ktime_get_ns();
	w.waker_tid = (__u32)bpf_get_current_pid_tgid();
	w.waker_cpu = bpf_get_smp_processor_id();
	bpf_map_update_elem(&wakings, &tid, &w, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	__u32 tid;
	struct waking *w;

	/* A wakings entry lives only while its thread is in a GIL futex call. */
	if (no_gil_futex_calls())
		return 0;
	tid = BPF_CORE_READ(p, pid);
	w = bpf_map_lookup_elem(&wakings, &tid);
	if (!w)
		return 0;
	emit(GIL_EV_SCHED_WAKEUP, BPF_CORE_READ(p, tgid), tid, BPF_CORE_READ(p, wake_cpu), w->ts,
	     0, w->waker_tid, (__s32)w->waker_cpu);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tid;
	struct waking *w;
	__u64 now;

	if (no_gil_futex_calls())
		return 0;
	tid = BPF_CORE_READ(next, pid);
	w = bpf_map_lookup_elem(&wakings, &tid);
	if (!w)
		return 0;
	now = bpf_ktime_get_ns();
	emit(GIL_EV_SCHED_RUN, BPF_CORE_READ(next, tgid), tid, bpf_get_smp_processor_id(), now, 0,
	     now - w->ts, 0);
	bpf_map_delete_elem(&wakings, &tid);
	return 0;
}

/* Threads often name themselves after they first touch the GIL; reading
 * /proc when a thread is first seen would keep the old name. */
SEC("tp_btf/task_rename")
int BPF_PROG(task_rename, struct task_struct *task, const char *comm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct gil_event *e;

	if (!bpf_map_lookup_elem(&traced_tgids, &tgid))
		return 0;
	e = reserve();
	if (!e)
		return 0;
	_Static_assert(sizeof(e->addr) + sizeof(e->value) == 16, "a comm fits in addr and value");
	bpf_probe_read_kernel_str(&e->addr, 16, comm);
	e->ts = bpf_ktime_get_ns();
	e->tgid = tgid;
	e->tid = BPF_CORE_READ(task, pid);
	e->ret = 0;
	e->cpu = bpf_get_smp_processor_id();
	e->kind = GIL_EV_COMM;
	submit(e);
	return 0;
}
