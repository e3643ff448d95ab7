/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Free-threaded CPython (3.13t): the locks that took the GIL's place.
 * Only slow paths are probed. An uncontended PyMutex is one compare-and-
 * swap inlined in the caller (Include/cpython/lock.h: _PyMutex_Lock) and
 * never reaches a probe. After a failed swap the caller calls PyMutex_Lock
 * (Python/lock.c; 3.13t's build inlines _PyMutex_LockTimed into it) or,
 * through PyMutex_LockFlags, _PyMutex_LockTimed itself, which two try-locks
 * (obmalloc's delayed frees, pylifecycle) also call with timeout 0: those
 * are not reported. An entry is stamped, each sleep (a park) is counted, and the return is one LOCK_WAIT event. Critical
 * sections (Python/critical_section.c) call their BeginSlow only when the
 * inline swap on the object's ob_mutex failed: that names the object's
 * type. Stop-the-world pauses (Python/pystate.c's stop_the_world and
 * start_the_world) are three edges.
 */
#ifndef GILTRACE_FTLOCKS_BPF_H
#define GILTRACE_FTLOCKS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct ftlocks_target);
} ftlocks_targets SEC(".maps");

/* _PyParkingLot_Park, called while parked, may attach the thread again and
 * resume its critical sections, which locks: _PyMutex_LockTimed nests. */
#define FTLOCK_DEPTH 4

struct ftlock_wait {
	__u64 ts[FTLOCK_DEPTH];
	__u64 mutex[FTLOCK_DEPTH]; /* 0: a try-lock (timeout 0), not reported */
	__u32 parks[FTLOCK_DEPTH];
	__u32 depth;               /* may exceed FTLOCK_DEPTH: those go unreported */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GILTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct ftlock_wait);
} ftlock_waits SEC(".maps");

/* Traced (traced_tgids first: quiesce stops events there) and free-threaded. */
static __always_inline struct ftlocks_target *ftlocks_target(__u32 tgid)
{
	if (!bpf_map_lookup_elem(&traced_tgids, &tgid))
		return NULL;
	return bpf_map_lookup_elem(&ftlocks_targets, &tgid);
}

static __always_inline void lock_enter(__u64 mutex, __s64 timeout)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct ftlock_wait fresh = {}, *w;
	__u32 d;

	if (!ftlocks_target(tgid))
		return;
	w = bpf_map_lookup_elem(&ftlock_waits, &tid);
	if (!w) {
		bpf_map_update_elem(&ftlock_waits, &tid, &fresh, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&ftlock_waits, &tid);
		if (!w) { /* map full: this acquisition's event is lost, and said */
			__u32 zero = 0;
			__u64 *cnt = bpf_map_lookup_elem(&drops, &zero);

			if (cnt)
				(*cnt)++;
			return;
		}
	}
	d = w->depth++;
	if (d >= FTLOCK_DEPTH)
		return;
	w->ts[d] = bpf_ktime_get_ns();
	w->parks[d] = 0;
	w->mutex[d] = timeout ? mutex : 0;
	/* A build where PyMutex_Lock calls _PyMutex_LockTimed, not inlines
	 * it: the inner call is the same acquisition, reported once. */
	if (d > 0 && d - 1 < FTLOCK_DEPTH && w->mutex[d - 1] == mutex)
		w->mutex[d] = 0;
}

static __always_inline void lock_return(int status)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = id;
	struct ftlock_wait *w = bpf_map_lookup_elem(&ftlock_waits, &tid);
	__u64 now = bpf_ktime_get_ns();
	__u32 d;

	/* No entry: the thread was in the call when the probes went in. */
	if (!w || !w->depth)
		return;
	d = --w->depth;
	if (d < FTLOCK_DEPTH && w->mutex[d] && ftlocks_target(tgid))
		emit(GIL_EV_LOCK_WAIT, tgid, tid, bpf_get_smp_processor_id(), now, w->mutex[d],
		     now - w->ts[d],
		     (__s32)((status & LOCK_ST_MASK) | (w->parks[d] << LOCK_PARKS_SHIFT)));
	/* Threads come and go (a thread per request): the entry goes with the
	 * thread's last acquisition, so the map holds threads in a slow path. */
	if (!d)
		bpf_map_delete_elem(&ftlock_waits, &tid);
}

SEC("uprobe")
int BPF_KPROBE(ft_mutex_lock, __u64 mutex, __s64 timeout)
{
	lock_enter(mutex, timeout);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ft_mutex_lock_ret, int status)
{
	lock_return(status);
	return 0;
}

/* PyMutex_Lock(m): the blocking slow path (timeout -1, no signals), into
 * which 3.13t's -O3 build inlines _PyMutex_LockTimed; it always acquires. */
SEC("uprobe")
int BPF_KPROBE(ft_mutex_lock_blocking, __u64 mutex)
{
	lock_enter(mutex, -1);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ft_mutex_lock_blocking_ret)
{
	lock_return(LOCK_ST_ACQUIRED);
	return 0;
}

/* A sleep while acquiring: _PyParkingLot_Park begins with an instruction
 * a uprobe would single-step (movabs), so its _PySemaphore_Wait is probed
 * instead (Python/parking_lot.c: one per park; also the parking lot's own
 * bucket lock, a _PyRawMutex, when that one is contended). It counts for
 * the innermost acquisition in progress. */
SEC("uprobe")
int BPF_KPROBE(ft_park)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ftlock_wait *w = bpf_map_lookup_elem(&ftlock_waits, &tid);
	__u32 d;

	if (!w || !w->depth)
		return 0;
	d = w->depth - 1;
	if (d < FTLOCK_DEPTH && w->mutex[d])
		w->parks[d]++;
	return 0;
}

static __always_inline void section(const struct ftlocks_target *t, __u32 tgid, __u32 tid,
				    __u64 mutex, int nobjects)
{
	/* The object's type as it is now: the object may be gone by the time
	 * user space reads the name, its type (referenced by it) not. */
	__u64 type = read_u64(mutex + (__s64)t->ob_type_delta);

	emit(GIL_EV_LOCK_SECTION, tgid, tid, bpf_get_smp_processor_id(), bpf_ktime_get_ns(),
	     mutex, type, nobjects);
}

SEC("uprobe")
int BPF_KPROBE(ft_section, __u64 cs, __u64 mutex)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ftlocks_target *t = ftlocks_target(id >> 32);

	if (t)
		section(t, id >> 32, (__u32)id, mutex, 1);
	return 0;
}

/* The lower address is locked first; m1 already held (is_m1_locked) means
 * only m2 failed its fast path. */
SEC("uprobe")
int BPF_KPROBE(ft_section2, __u64 cs, __u64 m1, __u64 m2, int is_m1_locked)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ftlocks_target *t = ftlocks_target(id >> 32);

	if (!t)
		return 0;
	if (!is_m1_locked)
		section(t, id >> 32, (__u32)id, m1, 2);
	section(t, id >> 32, (__u32)id, m2, 2);
	return 0;
}

static __always_inline void stw(__u64 interp, __u64 value, int edge)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!ftlocks_target(id >> 32))
		return;
	emit(GIL_EV_STW, id >> 32, (__u32)id, bpf_get_smp_processor_id(), bpf_ktime_get_ns(),
	     interp, value, edge);
}

/* stop_the_world(stw): _PyEval_StopTheWorld jumps here, so the return
 * address is its caller's: inside the collector, the pause is the GC's. */
SEC("uprobe")
int BPF_KPROBE(ft_stop_world, __u64 state)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ftlocks_target *t = ftlocks_target(id >> 32);
	__u64 ret = read_u64(PT_REGS_SP(ctx)), cause = STW_CAUSE_OTHER;

	if (!t)
		return 0;
	for (int i = 0; i < FTLOCKS_GC_RANGES; i++)
		if (ret >= t->gc_lo[i] && ret < t->gc_hi[i])
			cause = STW_CAUSE_GC;
	stw(state, cause, STW_REQUEST);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ft_stop_world_ret)
{
	stw(0, 0, STW_STOPPED);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ft_start_world, __u64 interp)
{
	stw(interp, 0, STW_END);
	return 0;
}

#endif /* GILTRACE_FTLOCKS_BPF_H */
