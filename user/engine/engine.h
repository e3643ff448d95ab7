/*
 * The statistics engine: turns the GIL event stream (bpf/giltrace.h) into
 * per-thread, per-process and per-CPU figures. Pure C: time comes only from
 * the events (and engine__tick()'s argument), so a capture replays exactly.
 *
 * Feed every event, live or recorded, through engine__feed(). Views read the
 * state through the const accessors below; every derived figure (means,
 * percentiles, shares, ratios) is computed here, never in a view.
 */
#ifndef GILTRACE_ENGINE_H
#define GILTRACE_ENGINE_H

#include <stddef.h>
#include <linux/types.h>

#include "giltrace.h"
#include "ft_gil.h"
#include "engine/hist.h"
#include "engine/locks.h"

struct engine;

struct engine_opts {
	__u64 from_ts; /* absolute CLOCK_MONOTONIC ns; 0 = unbounded */
	__u64 to_ts;   /* inclusive; 0 = unbounded */
	__u32 tid;     /* only this thread's events; 0 = all threads */
};

/* What a thread is doing, as far as the events tell. */
enum thread_state {
	THREAD_UNKNOWN = 0, /* no ACQUIRE/WAIT seen yet (attached mid-run) */
	THREAD_HOLDING,     /* holds the GIL */
	THREAD_WAITING,     /* waits for the GIL (between WAIT and ACQUIRE) */
	THREAD_RUNNING,     /* released the GIL: runs (or blocks) without it */
};

#define ENGINE_NAME_LEN 32
/* Intervals of hold share kept per thread for the top view's sparkline. */
#define ENGINE_HISTORY 32

/* Counts straight from the events; summed for processes and totals. */
struct gil_counts {
	__u64 acquisitions;    /* ACQUIRE events */
	__u64 busy;            /* WAIT events: contended acquisition attempts */
	__u64 retries;         /* RETRY: woken, but the GIL was taken again */
	__u64 timeouts;        /* TIMEOUT: a timed wait for the GIL expired */
	__u64 drop_requests;   /* DROP_REQUEST: asked the holder to let go */
	__u64 forced_switches; /* FORCED_RELEASE events */
	__u64 releases;        /* RELEASE events (voluntary) */
	__u64 waits;           /* WAIT..ACQUIRE pairs measured into wait_ns */
	__u64 wait_ns;         /* sum over those pairs of ACQUIRE ts - WAIT ts */
	__u64 holds;           /* ACQUIRE..(FORCED_)RELEASE pairs in hold_ns */
	__u64 hold_ns;         /* sum over those pairs of release - acquire */
	__u64 hold_max_ns;
	__u64 unpaired;        /* events that contradict the thread's state */
};

/* One closed interval of engine__tick() for one thread. */
struct thread_interval {
	__u64 len_ns;          /* interval length */
	__u64 hold_ns;         /* time holding inside the interval */
	__u64 wait_ns;         /* time waiting inside the interval */
	__u64 acquisitions;
	__u64 busy;
	__u64 retries;
	__u64 forced_switches;
	__u64 waits;           /* waits that ended (ACQUIRE) in the interval */
	__u64 wait_sum_ns;     /* their full length, also before the interval */
	__u64 wait_max_ns;
	__u64 io_waits;        /* acquisitions after a voluntary release */
	__u64 io_wait_sum_ns;
	__u64 io_waits_contended;      /* of those, the ones that had to WAIT */
	__u64 io_wait_contended_sum_ns;
	double hold_share;     /* hold_ns / len_ns, 0..1 */
	double wait_share;     /* wait_ns / len_ns, 0..1 */
	double wait_mean_ns;   /* wait_sum_ns / waits */
	double acquisitions_per_s; /* acquisitions / len_ns */
	enum thread_state state; /* at the tick */
};

struct engine_thread {
	__u32 tgid;
	__u32 tid;
	char name[ENGINE_NAME_LEN]; /* "" until engine__name_thread() */
	struct gil_counts c;
	struct hist wait;     /* per measured contended acquisition */
	/* Each acquisition that follows a voluntary RELEASE by the same
	 * thread (an I/O operation, a sleep): the delay the GIL added to that
	 * operation, 0 when the GIL was free (the convoy's cost). */
	struct hist io_wait;
	__u64 io_wait_contended; /* of those, how many had to WAIT */
	/* Each hold a waiter asked to end (DROP_REQUEST): from the first
	 * request to the release. Pure Python lets go within a few bytecodes;
	 * C code that keeps the GIL only when it returns. */
	struct hist release_delay;
	enum thread_state state; /* now, after the last event fed */
	struct thread_interval iv; /* the last closed interval */
	float history[ENGINE_HISTORY]; /* hold share per interval, ring */
	unsigned int history_len;      /* valid entries, <= ENGINE_HISTORY */
	unsigned int history_next;     /* ring slot the next tick writes */
};

struct io_wait_figures {
	__u64 count;       /* acquisitions following a voluntary release */
	__u64 contended;   /* of which had to wait */
	double mean_ns;    /* mean added delay per such acquisition */
	__u64 p50_ns;
	__u64 p99_ns;
	__u64 max_ns;
	__u64 total_ns;
};

/* Derived figures of one thread (engine__thread_figures()). */
struct thread_figures {
	double contention_pct;  /* waits / acquisitions * 100: busy would count a
				 * wait still in progress at the window's end */
	double wait_mean_ns;    /* wait_ns / waits */
	__u64 wait_p50_ns;
	__u64 wait_p90_ns;
	__u64 wait_p99_ns;
	__u64 wait_max_ns;
	double hold_mean_ns;    /* hold_ns / holds */
	double gil_share;       /* hold_ns / hold_ns of its process, 0..1 */
	double badness;         /* retries / acquisitions */
	struct io_wait_figures io;
};

/*
 * The hand-offs seen, checked against the interpreter's own count
 * (GIL_STATE readings of gil->switch_number, CPython 3.x): every hand-off
 * the interpreter made between the first and the last reading must have
 * been seen. Events stream in timestamp order only per CPU, but every event
 * streamed before a reading happened before it, so hand-offs seen after the
 * last reading wait in seen_after until the next reading covers them.
 */
/* A reading cannot place a hand-off whose event and whose switch_number
 * step straddle it: a woken waiter's ACQUIRE is stamped as its timed wait
 * returns, a few microseconds before take_gil counts the hand-off (more if
 * it is preempted in between). Hand-offs seen this close to the window's
 * first or last reading may fall on either side of it: the check allows
 * a difference of at most that many (handoff_figures.at_edges). */
#define HANDOFF_EDGE_NS 1000000ull
#define HANDOFF_RECENT 64 /* hand-off times kept to count those near the last reading */

struct handoff_check {
	__u64 readings;
	__u64 first_ts, first_sn; /* the first reading: ts and switch_number */
	__u64 last_ts, last_sn;   /* the latest reading */
	__u64 seen;               /* hand-offs seen in (first_ts, last_ts] */
	__u64 seen_after;         /* hand-offs seen after last_ts */
	__u64 near_first;         /* hand-offs within HANDOFF_EDGE_NS of first_ts */
	__u64 recent[HANDOFF_RECENT]; /* the latest hand-offs' times, a ring */
	__u32 nrecent;
};

/* What engine__handoff_check() derives from it. */
struct handoff_figures {
	__u64 processes;   /* processes with two readings or more: checked */
	__u64 interpreter; /* hand-offs by the interpreter's count */
	__u64 seen;        /* hand-offs giltrace saw in the same window */
	__u64 missed;      /* interpreter - seen, when positive: not seen */
	__u64 extra;       /* seen - interpreter, when positive: seen in excess */
	/* |interpreter - seen| when no more than the hand-offs seen near the
	 * window's edges (HANDOFF_EDGE_NS), which the readings cannot place;
	 * missed and extra are then 0 */
	__u64 at_edges;
};

/*
 * Free-threaded CPython (docs/cpython.md, "Free-threaded builds"): its GIL
 * exists only while gil->enabled is set. GIL_STATE readings say whether it
 * was (every 100 ms); GIL_ENABLED says exactly when an import turned it on
 * for good, and which module. Filled by engine/ft_gil.c.
 */
struct ft_gil {
	int free_threaded;      /* a reading said so: the rest is meaningful */
	int off_at_first;       /* the first reading found the GIL off */
	int on_at_first;        /* ... on for good (PYTHON_GIL=1, -X gil=1, or an
				 * import before the trace) */
	int off_now;            /* the latest reading found it off */
	__u64 last_off_ts;      /* the latest reading that found it off, 0: none */
	/* Off, then on for good at a reading: it came back in between, at a
	 * resolution of the readings (where no GIL_ENABLED says it exactly). */
	__u64 on_after_ts, on_by_ts;
	__u64 enabled_ts;       /* GIL_ENABLED: the moment, exactly; 0: not seen */
	__u32 enabled_tid;      /* the thread that imported the module */
	__u32 name_flags;       /* FT_GIL_NAME_UNKNOWN, FT_GIL_NAME_CUT (bpf/ft_gil.h) */
	char module[FT_GIL_NAME_MAX + 1]; /* the module's name, as BPF read it */
};

/* Whether ft is a free-threaded CPython whose GIL was off at the latest
 * reading and never on for good in the trace. */
int ft_gil__off(const struct ft_gil *ft);

/* engine_proc.last_holder when the interpreter says no thread has held its
 * GIL yet: the first acquisition is then a hand-off, as the interpreter
 * counts it. Never a tid. */
#define ENGINE_HOLDER_NULL ((__u32)-1)

struct engine_proc {
	__u32 tgid;
	__u64 acquisitions;
	__u64 hold_ns;
	__u64 switches; /* acquisitions by another thread than the last holder */
	__u32 last_holder; /* tid, 0 = none yet, or ENGINE_HOLDER_NULL */
	struct handoff_check check;
	struct ft_gil ft;       /* free-threaded CPython only */
	__u32 nthreads;
	/* Blame: the stack the holder runs (0: the GIL is free or its holder
	 * unknown): the latest HOLDER_STACK sample of the hold in progress, or,
	 * before one, the last stack sampled of the thread that acquired; ids
	 * below BLAME_ID_FIRST (bpf/blame.h) are "[unknown]" / "[no Python
	 * frame]". */
	__u64 holder_stack;
	__u32 holder_stack_tid; /* the holder it belongs to, 0 = not known */
	__u64 holder_stack_ts;  /* since when */
	/* Thread-time spent waiting while another thread held the GIL: the
	 * wait its holders caused. The rest of the wait is hand-off, the GIL
	 * free and the next holder not yet running (a busy CPU, a wake-up in
	 * flight), which the GIL's holders did not cause. */
	__u64 wait_held_ns;
	__u64 iv_wait_held_ns;  /* the same in the last closed interval */
	/* engine-internal state */
	__u32 holding;          /* threads in THREAD_HOLDING (1, or 0: free) */
	__u64 held_since;       /* wait_held_ns is counted up to here */
	__u64 acc_wait_held_ns; /* the interval in progress */
	__u32 blame_waiting;    /* threads in THREAD_WAITING */
	int blame_on;           /* a HOLDER_STACK was seen: waits are charged */
	int holder_sampled;     /* holder_stack was sampled in the hold in progress */
	__u64 blame_since;      /* waits are charged up to here */
	/* Forced releases with a HOLDER_FRAME sample, and their holds' total
	 * (acquisition to forced release; 0 for a hold whose start was not
	 * seen). */
	__u64 forced_sampled;
	__u64 forced_sampled_ns;
	__u64 forced_unmeasured; /* of forced_sampled, holds whose start was not seen */
};

/* Blame: one holder stack (by process and stack id) and what it cost. */
struct engine_blame {
	__u32 tgid;
	__u64 id;       /* a stack id, or BLAME_ID_UNKNOWN / BLAME_ID_NO_FRAMES */
	__u64 wait_ns;  /* waiting by other threads while this stack held the GIL
			 * (two waiters for 1 ms: 2 ms) */
	__u64 hold_ns;  /* holding, in the holds it was sampled in, split at samples */
	__u64 samples;  /* HOLDER_STACK events naming it */
};

struct engine_blame_totals {
	__u64 wait_ns;         /* sum of engine_blame.wait_ns */
	__u64 unattributed_ns; /* waiting while no holder was known (hand-offs:
				* the GIL released, the next holder not running yet) */
	__u64 hold_ns;
	__u64 samples;
	__u64 unknown_samples; /* BLAME_ID_UNKNOWN */
	__u64 stacks;          /* distinct (tgid, id) */
};

/*
 * The forced holders' functions (HOLDER_FRAME, docs/capture-format.md): the
 * innermost Python frame of a holder at its forced release, sampled at most
 * once per 5 ms per process. One row per function, file and line.
 */
struct engine_forced_fn {
	const char *name;   /* the function; "[unknown]", "[no Python frame]" */
	const char *file;   /* "" with those */
	__u32 line;         /* 0: not known */
	__u64 hold_ns;      /* the sampled forced holds that ended in it */
	__u64 samples;      /* forced switches sampled in it */
	double share;       /* of sampled_ns (of sampled, when no hold was measured) */
	__u32 tid;          /* the thread that held it longest in them */
	__u64 tid_hold_ns;
	__u64 tid_samples;
	__u32 nthreads;     /* threads sampled in it */
};

struct engine_forced_holders {
	__u64 forced_switches; /* FORCED_RELEASE events of the process */
	__u64 sampled;         /* of those, with a HOLDER_FRAME sample */
	__u64 sampled_ns;      /* their holds' total */
	__u64 unknown;         /* samples that named no function */
	__u64 unmeasured;      /* sampled holds whose acquisition was not seen
				* (attached mid-hold, futex mode): no time */
	struct engine_forced_fn *fns; /* by hold_ns, then samples; malloc'd */
	size_t nfns;
};

struct cpu_interval {
	__u64 wakeups;
	__u64 cross_cpu_wakeups;
	__u64 failed_wakeups;
};

struct engine_cpu {
	__u32 cpu;
	__u64 wakeups;           /* SCHED_WAKEUP placed on this CPU */
	__u64 cross_cpu_wakeups; /* ... whose waker ran on another CPU */
	__u64 failed_wakeups;    /* RETRY events on this CPU */
	struct hist wake_to_run; /* SCHED_RUN values on this CPU */
	struct cpu_interval iv;  /* the last closed interval */
};

/* Whole-engine interval figures (engine__tick()). */
struct totals_interval {
	__u64 len_ns;
	__u64 acquisitions;
	__u64 busy;
	__u64 waits;             /* waits that ended (ACQUIRE) in the interval */
	__u64 retries;
	__u64 forced_switches;
	__u64 switches;
	__u64 hold_ns;
	double utilisation_pct;  /* hold_ns / (len_ns * processes) * 100 */
	double contention_pct;   /* waits / acquisitions * 100 */
	double switches_per_s;
	double retries_per_s;
	double forced_per_s;
};

struct engine_totals {
	struct gil_counts c;      /* sums over all threads */
	__u64 first_ts;           /* min ts of counted events, 0 if none */
	__u64 last_ts;            /* max ts of counted events */
	__u64 duration_ns;        /* last_ts - first_ts */
	__u64 drops;              /* sum of DROPS values: ALWAYS report */
	__u64 unpaired;           /* == c.unpaired */
	__u64 nthreads;
	__u64 nprocs;             /* processes with at least one ACQUIRE */
	__u64 switches;
	double switches_per_s;    /* switches / duration */
	double utilisation_pct;   /* hold_ns / (duration * nprocs) * 100 */
	double contention_pct;    /* waits / acquisitions * 100 */
	double badness;           /* retries / acquisitions */
	double jain;              /* Jain's index of hold_ns over threads that
				   * acquired at least once; 0 if none */
	double wait_mean_ns;
	__u64 wait_p50_ns;
	__u64 wait_p90_ns;
	__u64 wait_p99_ns;
	__u64 wait_max_ns;
	double hold_mean_ns;
	struct io_wait_figures io; /* over all threads: the convoy's cost */
	/* The observed length of one timed wait for the GIL (median of
	 * WAIT/RETRY/TIMEOUT-to-TIMEOUT spans, else of timed-out futex
	 * waits): the target's switch interval. 0 if never seen. */
	__u64 timed_wait_ns;
	/* Futex level. */
	__u64 futex_woken;      /* WAKE with ret 0 */
	__u64 futex_timedout;   /* WAKE with ret -ETIMEDOUT */
	__u64 futex_other;      /* WAKE with any other ret (-EAGAIN, -EINTR) */
	__u64 wake_calls;       /* WAKE_CALL events */
	__u64 wake_call_woken;  /* sum of their positive ret */
	/* Scheduler level, summed over CPUs. */
	__u64 wakeups;
	__u64 cross_cpu_wakeups;
	__u64 failed_wakeups;
	struct totals_interval iv; /* the last closed interval */
	/* The hand-off self-check, summed over the processes checked. */
	struct handoff_figures handoffs;
};

struct engine *engine__new(const struct engine_opts *opts);
void engine__free(struct engine *eng);

/* The single entry point for every event, live or from a capture. */
void engine__feed(struct engine *eng, const struct gil_event *ev);
void engine__name_thread(struct engine *eng, __u32 tgid, __u32 tid, const char *name);
/* Closes the interval that began at the previous tick (or the first event)
 * at now_ts; holds and waits in progress count up to now_ts. */
void engine__tick(struct engine *eng, __u64 now_ts);

/* A one-frame stack record (HOLDER_FRAME's id): its function, file, line.
 * Copied; a second naming of the same (tgid, id) is ignored. */
void engine__name_code(struct engine *eng, __u32 tgid, __u64 id, const char *name,
		       const char *file, __u32 line);

/* Accessors: a const snapshot for views. */
size_t engine__nthreads(const struct engine *eng);
/* Fills out[] (cap entries at most) sorted by tgid then tid; returns how
 * many threads there are (may exceed cap). */
size_t engine__threads(const struct engine *eng, const struct engine_thread **out, size_t cap);
/* Every thread, sorted as above, in a malloc'd array for the caller to
 * free(): *out is NULL when there are none. Returns 0 or -ENOMEM. */
int engine__thread_list(const struct engine *eng, const struct engine_thread ***out, size_t *n);
const struct engine_thread *engine__find_thread(const struct engine *eng, __u32 tgid, __u32 tid);
void engine__thread_figures(const struct engine *eng, const struct engine_thread *t,
			    struct thread_figures *out);
/* Hold share of interval i (0 = oldest kept) of t's sparkline history. */
float engine_thread__history(const struct engine_thread *t, unsigned int i);

/* Threads of one process seen as one (a pool, in the summary): counts
 * summed into sum, histograms merged, out as engine__thread_figures()
 * gives for a thread. 0, or -ENOMEM. */
int engine__group_figures(const struct engine *eng, const struct engine_thread *const *members,
			  size_t n, struct gil_counts *sum, struct thread_figures *out);
/* The process a thread belongs to. */
const struct engine_proc *engine__thread_proc(const struct engine_thread *t);
size_t engine__procs(const struct engine *eng, const struct engine_proc **out, size_t cap);
/* p's hand-off self-check (processes = 0: fewer than two readings). */
void engine__handoff_check(const struct engine_proc *p, struct handoff_figures *out);
/* CPUs that saw a scheduler or retry event, ascending. */
size_t engine__cpus(const struct engine *eng, const struct engine_cpu **out, size_t cap);
/* The same as a malloc'd array, like engine__thread_list(). */
int engine__cpu_list(const struct engine *eng, const struct engine_cpu ***out, size_t *n);
void engine__cpu_figures(const struct engine_cpu *cpu, double *mean_ns, __u64 *p99_ns);

void engine__totals(const struct engine *eng, struct engine_totals *out);

/* Blame (docs/blame.md): every stack with its cost, unsorted; returns how
 * many there are (may exceed cap). */
size_t engine__blame(const struct engine *eng, const struct engine_blame **out, size_t cap);
void engine__blame_totals(const struct engine *eng, struct engine_blame_totals *out);
/* The stack id the current holder of tgid's GIL was last seen running (for
 * top's "holding now"): 0 when no sample of the hold in progress exists.
 * *tid gets the holder's tid when known. */
__u64 engine__blame_holder(const struct engine *eng, __u32 tgid, __u32 *tid);
/* tgid's forced holders by function (names point into the engine, valid
 * while it lives). 0 or -ENOMEM; free with engine__forced_holders_free(). */
int engine__forced_holders(const struct engine *eng, __u32 tgid,
			   struct engine_forced_holders *out);
void engine__forced_holders_free(struct engine_forced_holders *h);
/* The wait histogram of all threads together (the merge of every
 * thread's), for views wanting more percentiles than engine_totals has. */
/* Free-threaded CPython's locks and stop-the-world pauses (engine/locks.h). */
const struct lock_table *engine__locks(const struct engine *eng);
void engine__wait_hist(const struct engine *eng, struct hist *out);

#endif
