/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython 2.7's old GIL, a POSIX semaphore: the futex programs hand its
 * waits and posts to sem_wait_enter(), sem_wait_exit() and sem_wake();
 * full mode adds PyThread_acquire_lock/PyThread_release_lock probes.
 */
#ifndef GILTRACE_CPYTHON27_BPF_H
#define GILTRACE_CPYTHON27_BPF_H

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

#endif /* GILTRACE_CPYTHON27_BPF_H */
