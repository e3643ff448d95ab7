/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event model shared by the BPF programs and user space.
 *
 * Every target (toy VM, CPython builds) maps onto these GIL events, named
 * after the log in Beazley's "Understanding the Python GIL" (PyCon 2010):
 *
 *   WAIT            BUSY: the thread tried to take the GIL while it was held
 *                   and starts waiting (the talk's ENTRY followed by BUSY).
 *                   An uncontended attempt emits no ENTRY: it shows as a
 *                   bare ACQUIRE, which keeps the cheap path cheap.
 *   WAKE            the thread returned from a futex wait on one of the
 *                   GIL's own addresses (ret: 0 woken, -ETIMEDOUT, -EAGAIN).
 *   RETRY           woken, but the GIL had been taken again.
 *   TIMEOUT         a timed wait for the GIL expired (new GIL: 5 ms).
 *   DROP_REQUEST    a waiter asked the holder to drop the GIL.
 *   ACQUIRE         the thread holds the GIL now.
 *   RELEASE         voluntary release (blocking I/O, old-GIL check).
 *   FORCED_RELEASE  release on a drop request, preemption or quantum end.
 *   WAKE_CALL       a futex wake issued on a GIL address (ret: woken count).
 *   SCHED_WAKEUP    a thread blocked on the GIL was woken by the scheduler.
 *   SCHED_RUN       that thread got a CPU (value: wake-up-to-run latency).
 *   DROPS           synthetic, from user space: ring-buffer records lost.
 *   HOLDER_STACK    blame only (bpf/blame.h): the GIL holder's Python stack,
 *                   read when this thread started or went on waiting, or when
 *                   the holder was forced off (value: stack id, ret: frames
 *                   or -errno, addr: the holder's PyThreadState).
 *   GIL_STATE       synthetic, from user space (CPython 3.x): the
 *                   interpreter's own GIL state read from its memory at
 *                   attach, every 100 ms and at the end of the trace
 *                   (value: gil->switch_number, its count of hand-offs;
 *                   tid: the thread of gil->last_holder, 0 if unknown;
 *                   ret: GIL_STATE_* flags; addr: the GIL). The engine
 *                   checks the hand-offs it saw against it. Other
 *                   runtimes get only the end, with GIL_STATE_NO_READING:
 *                   the traced window ends there, holds in progress too.
 *   GIL_ENABLED     free-threaded CPython only (bpf/ft_gil.bpf.h): the GIL
 *                   was turned on for good (_PyEval_EnableGILPermanent()
 *                   returned 1) by the import of a module not marked
 *                   free-threading safe. addr and value carry 16 bytes of
 *                   the module's name, ret FT_GIL_* (bpf/ft_gil.h): the
 *                   chunk (0: the event itself, 1 and 2: the name's bytes
 *                   16-47, emitted right after it) and whether the name is
 *                   unknown or cut.
 *   HOLDER_FRAME    every CPython 3 trace: the forced holder's innermost Python
 *                   frame, read in drop_gil just before its FORCED_RELEASE
 *                   (the same ts), at most once per 5 ms per process
 *                   (bpf/holder.bpf.h). From BPF: addr the code object,
 *                   value the instruction, ret 0 or -errno (-ENOENT no
 *                   thread state, -ENODATA no Python frame, -EFAULT). The
 *                   live source resolves it and streams value = the id of a
 *                   one-frame stack record naming function, file and line
 *                   (BLAME_ID_UNKNOWN / BLAME_ID_NO_FRAMES when it cannot).
 *
 * Free-threaded CPython's locks, GIL off or on (bpf/ftlocks.bpf.h), contended
 * paths only:
 *   LOCK_WAIT       a contended PyMutex acquisition ended: _PyMutex_LockTimed
 *                   returned (the inline fast path had failed). addr: the
 *                   mutex; value: ns spent in it; ret: its PyLockStatus
 *                   (LOCK_ST_*) | parks << LOCK_PARKS_SHIFT.
 *   LOCK_SECTION    a critical section takes an object's lock by its slow
 *                   path (_PyCriticalSection_BeginSlow, or 2_BeginSlow for
 *                   each mutex it will lock). addr: the mutex (&ob_mutex);
 *                   value: the object's ob_type as read then (0: unread);
 *                   ret: 1 or 2, the objects in the section.
 *   STW             stop-the-world (pystate.c stop_the_world/start_the_world):
 *                   ret: STW_REQUEST (value: its cause, STW_CAUSE_*),
 *                   STW_STOPPED (every other thread stopped), STW_END.
 *                   addr: the _stoptheworld_state (one per interpreter,
 *                   one for the whole runtime).
 *   LOCK_TYPE       synthetic, from user space: 8 bytes of a type's name
 *                   (value, little-endian), part ret (0-3) of the name of
 *                   the type at addr, sent before the first LOCK_SECTION
 *                   that names it.
 *
 * Kind numbers are part of the capture format: never renumber, only add.
 */
#ifndef GILTRACE_H
#define GILTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum gil_event_kind {
	GIL_EV_WAIT = 1,
	GIL_EV_WAKE = 2,
	GIL_EV_RETRY = 3,
	GIL_EV_TIMEOUT = 4,
	GIL_EV_DROP_REQUEST = 5,
	GIL_EV_ACQUIRE = 6,
	GIL_EV_RELEASE = 7,
	GIL_EV_FORCED_RELEASE = 8,
	GIL_EV_WAKE_CALL = 9,
	GIL_EV_SCHED_WAKEUP = 10,
	GIL_EV_SCHED_RUN = 11,
	GIL_EV_DROPS = 12,
	GIL_EV_HOLDER_STACK = 13,
	GIL_EV_GIL_STATE = 14,
	GIL_EV_GIL_ENABLED = 15,
	/* Free-threaded CPython's locks (bpf/ftlocks.bpf.h, docs/freethreaded-locks.md). */
	GIL_EV_LOCK_WAIT = 16,
	GIL_EV_LOCK_SECTION = 17,
	GIL_EV_STW = 18,
	GIL_EV_LOCK_TYPE = 19,
	GIL_EV_HOLDER_FRAME = 20,
	GIL_EV__MAX,
};

/* GIL_STATE flags (ret). */
#define GIL_STATE_LOCKED 1    /* gil->locked: a thread holds the GIL */
#define GIL_STATE_NO_HOLDER 2 /* gil->last_holder is NULL: no thread has held it */
#define GIL_STATE_END 4       /* the last reading: the traced window ends here */
#define GIL_STATE_NO_READING 8 /* a runtime with no state to read (toy VM, 2.7): END only */
/* Free-threaded CPython: gil->enabled was read (neither OFF nor FOR_GOOD:
 * on for the moment, while an extension module is imported). */
#define GIL_STATE_FREE_THREADED 16
#define GIL_STATE_GIL_OFF 32      /* gil->enabled == 0: no GIL, nothing waits */
#define GIL_STATE_GIL_FOR_GOOD 64 /* gil->enabled == INT_MAX: on until exit */

/* LOCK_WAIT ret: CPython's PyLockStatus, and the parks it took. */
#define LOCK_ST_FAILURE 0
#define LOCK_ST_ACQUIRED 1
#define LOCK_ST_INTR 2
#define LOCK_ST_MASK 0xff
#define LOCK_PARKS_SHIFT 8
/* STW_REQUEST value: who stopped the world. */
#define STW_CAUSE_OTHER 1 /* not the collector, or not known */
#define STW_CAUSE_GC 2    /* the garbage collector (gc_collect_main) */
/* STW ret */
#define STW_REQUEST 1
#define STW_STOPPED 2
#define STW_END 3
/* LOCK_TYPE: a name is at most this many bytes, 8 per event. */
#define LOCK_TYPE_NAME_MAX 32

/* Per-process facts for bpf/ftlocks.bpf.h (the ftlocks_targets map). */
#define FTLOCKS_GC_RANGES 2

struct ftlocks_target {
	__s32 ob_type_delta; /* &ob->ob_type - &ob->ob_mutex: the type of a
			      * critical section's object, read from its mutex;
			      * 0: not read */
	__u32 flags;
	/* The collector's functions that stop the world ([lo, hi) run-time
	 * addresses; 0, 0: none): a pause requested from one is STW_CAUSE_GC. */
	__u64 gc_lo[FTLOCKS_GC_RANGES];
	__u64 gc_hi[FTLOCKS_GC_RANGES];
};

_Static_assert(sizeof(struct ftlocks_target) == 40, "ftlocks_target layout is shared with BPF");

/*
 * Transport only, never fed to the engine or stored: a traced thread renamed
 * itself (pthread_setname_np, prctl). The new name is in the 16 bytes of
 * addr and value; the live source turns it into a thread-name record, so a
 * thread that names itself after its first GIL event still shows its name.
 */
#define GIL_EV_COMM 100

/*
 * One ring-buffer record. Field use by kind:
 *   addr   GIL events: the GIL's address as the target passed it;
 *          WAKE/WAKE_CALL: the futex word.
 *   value  WAKE/WAKE_CALL: ns spent in the syscall; SCHED_WAKEUP: waker tid;
 *          SCHED_RUN: ns from wake-up to running; DROPS: records lost.
 *   ret    WAKE/WAKE_CALL: the syscall's return value; SCHED_WAKEUP: the
 *          waker's CPU.
 *   cpu    the CPU the event happened on (SCHED_WAKEUP: the CPU the woken
 *          thread was placed on).
 */
struct gil_event {
	__u64 ts; /* CLOCK_MONOTONIC ns (bpf_ktime_get_ns) */
	__u64 addr;
	__u64 value;
	__u32 tgid;
	__u32 tid;
	__s32 ret;
	__u16 cpu;
	__u16 kind;
};

_Static_assert(sizeof(struct gil_event) == 40, "gil_event layout is shared with BPF");

/* Per-process state kept in the traced_tgids map. */
struct gil_target {
	__u64 gil_base; /* 0 until learned from the first GIL probe, unless
			 * user space knows it (CPython rows) */
	__u64 gil_span; /* bytes from gil_base that hold the GIL's futex words */
	/*
	 * CPython rows only (flags & GIL_TARGET_CPYTHON): where take_gil's
	 * state lives, so BPF can read it at probe time. Offsets come from the
	 * runtime table (user/target/runtimes.c), never from BPF.
	 */
	__u64 drop_req_addr; /* the drop-request word, or a pointer to follow */
	__u32 drop_req_off;  /* added after following drop_req_addr (DEREF) */
	__u32 drop_req_mask; /* bits of the 32-bit word that mean "drop requested" */
	__u16 off_locked;    /* offsets inside struct _gil_runtime_state */
	__u16 off_switch;
	__u16 off_cond;      /* gil->cond: the futex words take_gil waits on */
	__u16 cond_size;
	__u32 flags;
	__u16 off_switch_cond; /* gil->switch_cond (GIL_TARGET_LIBC_COND) */
	__u16 pad;
	/*
	 * GIL_TARGET_SEM (CPython 2.7): where the pointer to the GIL's lock
	 * lives (&interpreter_lock). The lock is allocated when threads first
	 * start, so gil_base stays 0 until BPF reads a non-NULL pointer here.
	 */
	__u64 gil_ptr;
};

#define GIL_TARGET_CPYTHON 1u   /* derive WAIT/RETRY/TIMEOUT/DROP_REQUEST from cond waits */
#define GIL_TARGET_DEREF 2u     /* drop_req_addr holds a pointer; add drop_req_off */
#define GIL_TARGET_FUTEX_ONLY 4u /* no take_gil probes: derive ACQUIRE/RELEASE from futexes */
#define GIL_TARGET_SEM 8u        /* CPython 2.7: the GIL is a sem_t at *gil_ptr */
#define GIL_TARGET_LIBC_COND 32u   /* CPython 3.x "cond" mode: the C library's
				    * condition variable calls on the GIL's words
				    * (bpf/cpython_cond.bpf.h); the futex programs
				    * then derive nothing */

_Static_assert(sizeof(struct gil_target) == 56, "gil_target layout is shared with BPF");

#define GILTRACE_MAX_TARGETS 1024
#define GILTRACE_MAX_THREADS 65536
#define GILTRACE_RINGBUF_BYTES (16 * 1024 * 1024)

#endif /* GILTRACE_H */
