/* The engine on hand-built event streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

#define PID 100
#define A 101
#define B 102
#define C 103
#define MS 1000000ULL

static void feed(struct engine *eng, __u64 ts, enum gil_event_kind kind, __u32 tid, __u16 cpu)
{
	struct gil_event ev = {
		.ts = ts, .addr = 0x1000, .tgid = PID, .tid = tid, .cpu = cpu, .kind = kind,
	};

	engine__feed(eng, &ev);
}

static void feed_full(struct engine *eng, __u64 ts, enum gil_event_kind kind, __u32 tgid,
		      __u32 tid, __u16 cpu, __u64 value, __s32 ret)
{
	struct gil_event ev = {
		.ts = ts, .tgid = tgid, .tid = tid, .cpu = cpu, .kind = kind,
		.value = value, .ret = ret,
	};

	engine__feed(eng, &ev);
}

static struct engine *new_engine(void)
{
	struct engine_opts opts = { 0 };
	struct engine *eng = engine__new(&opts);

	assert_non_null(eng);
	return eng;
}

static const struct engine_thread *thread(const struct engine *eng, __u32 tid)
{
	const struct engine_thread *t = engine__find_thread(eng, PID, tid);

	assert_non_null(t);
	return t;
}

static struct engine_totals *totals(const struct engine *eng)
{
	static struct engine_totals tot;

	engine__totals(eng, &tot);
	return &tot;
}

static void assert_close(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %f, want %f +- %f", got, want, tol);
}

static void test_uncontended(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *t;
	struct thread_figures f;

	(void)state;
	feed(eng, 1000, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 4000, GIL_EV_RELEASE, A, 0);
	t = thread(eng, A);
	assert_int_equal(t->c.acquisitions, 1);
	assert_int_equal(t->c.busy, 0);
	assert_int_equal(t->c.releases, 1);
	assert_int_equal(t->c.holds, 1);
	assert_int_equal(t->c.hold_ns, 3000);
	assert_int_equal(t->c.wait_ns, 0);
	assert_int_equal(t->c.unpaired, 0);
	assert_int_equal(t->state, THREAD_RUNNING);
	engine__thread_figures(eng, t, &f);
	assert_close(f.contention_pct, 0, 1e-9);
	assert_close(f.hold_mean_ns, 3000, 1e-9);
	assert_close(f.gil_share, 1.0, 1e-9);
	assert_int_equal(totals(eng)->duration_ns, 3000);
	assert_close(totals(eng)->utilisation_pct, 100.0, 1e-9);
	assert_int_equal(totals(eng)->switches, 0);
	engine__free(eng);
}

/* A holds; B waits, times out, asks A to drop, A is forced off, B is woken
 * but C slips in first (retry), then B gets the GIL. */
static void test_contended(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *a, *b;
	struct thread_figures f;

	(void)state;
	feed(eng, 0, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 1 * MS, GIL_EV_WAIT, B, 1);
	feed(eng, 6 * MS, GIL_EV_TIMEOUT, B, 1);
	feed(eng, 6 * MS, GIL_EV_DROP_REQUEST, B, 1);
	feed(eng, 6 * MS + 100, GIL_EV_FORCED_RELEASE, A, 0);
	feed(eng, 6 * MS + 200, GIL_EV_ACQUIRE, C, 2);
	feed(eng, 6 * MS + 300, GIL_EV_RETRY, B, 1);
	feed(eng, 7 * MS, GIL_EV_RELEASE, C, 2);
	feed(eng, 7 * MS + 50, GIL_EV_ACQUIRE, B, 1);
	feed(eng, 8 * MS, GIL_EV_FORCED_RELEASE, B, 1);

	a = thread(eng, A);
	b = thread(eng, B);
	assert_int_equal(a->c.acquisitions, 1);
	assert_int_equal(a->c.forced_switches, 1);
	assert_int_equal(a->c.hold_ns, 6 * MS + 100);
	assert_int_equal(b->c.acquisitions, 1);
	assert_int_equal(b->c.busy, 1);
	assert_int_equal(b->c.timeouts, 1);
	assert_int_equal(b->c.drop_requests, 1);
	assert_int_equal(b->c.retries, 1);
	assert_int_equal(b->c.forced_switches, 1);
	assert_int_equal(b->c.waits, 1);
	assert_int_equal(b->c.wait_ns, 6 * MS + 50);
	assert_int_equal(b->c.hold_ns, 1 * MS - 50);
	assert_int_equal(b->wait.count, 1);
	assert_int_equal(b->wait.max, 6 * MS + 50);
	engine__thread_figures(eng, b, &f);
	assert_close(f.contention_pct, 100.0, 1e-9);
	assert_close(f.badness, 1.0, 1e-9);
	assert_int_equal(f.wait_p50_ns, 6 * MS + 50); /* one sample: exact */
	assert_int_equal(f.wait_max_ns, 6 * MS + 50);
	assert_int_equal(totals(eng)->c.acquisitions, 3);
	assert_int_equal(totals(eng)->c.busy, 1);
	assert_int_equal(totals(eng)->switches, 2);
	assert_close(totals(eng)->contention_pct, 100.0 / 3, 1e-9);
	/* The timed wait ran from WAIT to TIMEOUT: 5 ms. */
	assert_int_equal(totals(eng)->timed_wait_ns, 5 * MS);
	/* Failed wake-up counted on B's CPU. */
	assert_int_equal(totals(eng)->failed_wakeups, 1);
	assert_int_equal(totals(eng)->unpaired, 0);
	engine__free(eng);
}

/* A wait still in progress when the window ends is contended (busy) but
 * has no acquisition yet: contention stays a share of the acquisitions,
 * never past 100% (a CI run's report --to gave a thread 108%). */
static void test_wait_open_at_end(void **state)
{
	struct engine *eng = new_engine();
	struct thread_figures f;

	(void)state;
	feed(eng, 1000, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 2000, GIL_EV_WAIT, B, 1);
	feed(eng, 3000, GIL_EV_FORCED_RELEASE, A, 0);
	feed(eng, 3100, GIL_EV_ACQUIRE, B, 1);
	feed(eng, 4000, GIL_EV_WAIT, A, 0);
	feed(eng, 5000, GIL_EV_RELEASE, B, 1);
	feed(eng, 5100, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 6000, GIL_EV_WAIT, B, 1);
	assert_int_equal(thread(eng, B)->c.busy, 2);
	assert_int_equal(thread(eng, B)->c.acquisitions, 1);
	engine__thread_figures(eng, thread(eng, B), &f);
	assert_close(f.contention_pct, 100.0, 1e-9);
	assert_close(totals(eng)->contention_pct, 100.0 * 2 / 3, 1e-9);
	engine__free(eng);
}

static void test_switches(void **state)
{
	struct engine *eng = new_engine();

	(void)state;
	feed(eng, 10, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 20, GIL_EV_RELEASE, A, 0);
	feed(eng, 30, GIL_EV_ACQUIRE, A, 0); /* same thread again: no switch */
	feed(eng, 40, GIL_EV_FORCED_RELEASE, A, 0);
	feed(eng, 50, GIL_EV_ACQUIRE, B, 1); /* 1 */
	feed(eng, 60, GIL_EV_RELEASE, B, 1);
	feed(eng, 70, GIL_EV_ACQUIRE, A, 0); /* 2 */
	feed(eng, 80, GIL_EV_RELEASE, A, 0);
	feed(eng, 90, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 1000000010, GIL_EV_RELEASE, A, 0);
	assert_int_equal(totals(eng)->switches, 2);
	assert_close(totals(eng)->switches_per_s, 2.0, 1e-6);
	assert_int_equal(totals(eng)->c.acquisitions, 5);
	assert_int_equal(totals(eng)->c.forced_switches, 1);
	engine__free(eng);
}

/* Events of different threads arrive out of timestamp order; each thread's
 * own events stay in order. */
static void test_out_of_order(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *a, *b;

	(void)state;
	feed(eng, 5000, GIL_EV_ACQUIRE, B, 1);  /* B's CPU flushed first */
	feed(eng, 1000, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 4990, GIL_EV_FORCED_RELEASE, A, 0);
	feed(eng, 3000, GIL_EV_WAIT, C, 2);     /* late */
	feed(eng, 9000, GIL_EV_RELEASE, B, 1);
	feed(eng, 9100, GIL_EV_ACQUIRE, C, 2);
	feed(eng, 9200, GIL_EV_RELEASE, C, 2);
	/* A release stamped before its own acquire (clock skew) is 0, not
	 * 2^64 - something. */
	feed(eng, 20000, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 19999, GIL_EV_RELEASE, A, 0);

	a = thread(eng, A);
	b = thread(eng, B);
	assert_int_equal(a->c.hold_ns, 3990);
	assert_int_equal(b->c.hold_ns, 4000);
	assert_int_equal(thread(eng, C)->c.wait_ns, 6100);
	assert_int_equal(totals(eng)->first_ts, 1000);
	assert_int_equal(totals(eng)->last_ts, 20000);
	assert_int_equal(totals(eng)->duration_ns, 19000);
	assert_true(totals(eng)->c.hold_ns < 20000);
	assert_int_equal(totals(eng)->unpaired, 0);
	engine__free(eng);
}

/* Attached mid-run: the first events of a thread contradict no state of
 * ours; they are counted as unpaired, never as negative time. */
static void test_mid_run_attach(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *a, *b;

	(void)state;
	feed(eng, 500, GIL_EV_RELEASE, A, 0);       /* hold began before us */
	feed(eng, 600, GIL_EV_RETRY, B, 1);         /* was already waiting */
	feed(eng, 700, GIL_EV_TIMEOUT, B, 1);
	feed(eng, 800, GIL_EV_ACQUIRE, B, 1);       /* wait start unknown */
	feed(eng, 900, GIL_EV_FORCED_RELEASE, B, 1);
	feed(eng, 1000, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 1500, GIL_EV_RELEASE, A, 0);
	a = thread(eng, A);
	b = thread(eng, B);
	assert_int_equal(a->c.unpaired, 1);
	assert_int_equal(a->c.releases, 2);
	assert_int_equal(a->c.holds, 1);
	assert_int_equal(a->c.hold_ns, 500);
	assert_int_equal(b->c.acquisitions, 1);
	assert_int_equal(b->c.busy, 0);
	assert_int_equal(b->c.retries, 1);
	assert_int_equal(b->c.timeouts, 1);
	assert_int_equal(b->c.waits, 0);
	assert_int_equal(b->c.wait_ns, 0);
	assert_int_equal(b->c.hold_ns, 100);
	assert_int_equal(b->c.unpaired, 0);
	assert_int_equal(totals(eng)->unpaired, 1);
	/* A's io_wait: its release at 500 was voluntary, so 1000's
	 * re-acquisition is an uncontended I/O return. */
	assert_int_equal(a->io_wait.count, 1);
	assert_int_equal(a->io_wait.max, 0);
	engine__free(eng);
}

static void test_window(void **state)
{
	struct engine_opts opts = { .from_ts = 1000, .to_ts = 2000 };
	struct engine *eng = engine__new(&opts);

	(void)state;
	feed(eng, 500, GIL_EV_ACQUIRE, A, 0);        /* before: ignored */
	feed(eng, 1100, GIL_EV_RELEASE, A, 0);       /* -> unpaired */
	feed(eng, 1200, GIL_EV_ACQUIRE, B, 1);
	feed(eng, 1300, GIL_EV_RETRY, A, 0);
	feed(eng, 1900, GIL_EV_RELEASE, B, 1);
	feed(eng, 2000, GIL_EV_ACQUIRE, A, 0);       /* inclusive end */
	feed(eng, 2500, GIL_EV_RELEASE, A, 0);       /* after: ignored */
	feed(eng, 2600, GIL_EV_ACQUIRE, B, 1);
	assert_int_equal(thread(eng, A)->c.acquisitions, 1);
	assert_int_equal(thread(eng, A)->c.retries, 1);
	assert_int_equal(thread(eng, A)->c.unpaired, 1);
	assert_int_equal(thread(eng, A)->state, THREAD_HOLDING);
	assert_int_equal(thread(eng, B)->c.acquisitions, 1);
	assert_int_equal(thread(eng, B)->c.hold_ns, 700);
	assert_int_equal(totals(eng)->first_ts, 1100);
	assert_int_equal(totals(eng)->last_ts, 2000);
	engine__free(eng);
}

static void test_tid_filter_and_drops(void **state)
{
	struct engine_opts opts = { .tid = B, .from_ts = 100 };
	struct engine *eng = engine__new(&opts);

	(void)state;
	feed(eng, 1000, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 1100, GIL_EV_WAIT, B, 1);
	feed(eng, 2000, GIL_EV_FORCED_RELEASE, A, 0);
	feed(eng, 2100, GIL_EV_ACQUIRE, B, 1);
	engine__name_thread(eng, PID, A, "filtered");
	engine__name_thread(eng, PID, B, "worker-b");
	/* Drops count whatever the filters and window say. */
	feed_full(eng, 0, GIL_EV_DROPS, 0, 0, 0, 7, 0);
	feed_full(eng, 5000, GIL_EV_DROPS, 0, 0, 3, 5, 0);
	assert_null(engine__find_thread(eng, PID, A));
	assert_int_equal(engine__nthreads(eng), 1);
	assert_string_equal(thread(eng, B)->name, "worker-b");
	assert_int_equal(thread(eng, B)->c.wait_ns, 1000);
	assert_int_equal(totals(eng)->drops, 12);
	/* Drops do not stretch the traced time. */
	assert_int_equal(totals(eng)->last_ts, 2100);
	engine__free(eng);
}

static void test_cpus(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_cpu *cpus[8], **list;
	double mean;
	__u64 p99;
	size_t n;

	(void)state;
	/* SCHED_WAKEUP: cpu = where the woken thread goes, ret = waker's CPU. */
	feed_full(eng, 100, GIL_EV_SCHED_WAKEUP, PID, A, 2, B, 2);
	feed_full(eng, 200, GIL_EV_SCHED_WAKEUP, PID, A, 2, B, 0);
	feed_full(eng, 300, GIL_EV_SCHED_WAKEUP, PID, B, 5, A, 2);
	feed_full(eng, 150, GIL_EV_SCHED_RUN, PID, A, 2, 10000, 0);
	feed_full(eng, 250, GIL_EV_SCHED_RUN, PID, A, 2, 30000, 0);
	feed(eng, 400, GIL_EV_RETRY, A, 2);
	feed(eng, 410, GIL_EV_RETRY, B, 5);
	feed(eng, 420, GIL_EV_RETRY, B, 5);
	n = engine__cpus(eng, cpus, 8);
	assert_int_equal(n, 2);
	assert_int_equal(engine__cpu_list(eng, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(list[0], cpus[0]);
	assert_ptr_equal(list[1], cpus[1]);
	free(list);
	assert_int_equal(cpus[0]->cpu, 2);
	assert_int_equal(cpus[0]->wakeups, 2);
	assert_int_equal(cpus[0]->cross_cpu_wakeups, 1);
	assert_int_equal(cpus[0]->failed_wakeups, 1);
	engine__cpu_figures(cpus[0], &mean, &p99);
	assert_close(mean, 20000, 1e-9);
	assert_int_equal(p99, 30000);
	assert_int_equal(cpus[0]->wake_to_run.max, 30000);
	assert_int_equal(cpus[1]->cpu, 5);
	assert_int_equal(cpus[1]->wakeups, 1);
	assert_int_equal(cpus[1]->cross_cpu_wakeups, 1);
	assert_int_equal(cpus[1]->failed_wakeups, 2);
	assert_int_equal(totals(eng)->wakeups, 3);
	assert_int_equal(totals(eng)->cross_cpu_wakeups, 2);
	assert_int_equal(totals(eng)->failed_wakeups, 3);
	engine__free(eng);
}

static void test_futex_counts(void **state)
{
	struct engine *eng = new_engine();

	(void)state;
	feed_full(eng, 100, GIL_EV_WAKE, PID, A, 0, 1000, 0);
	feed_full(eng, 200, GIL_EV_WAKE, PID, A, 0, 5000000, -ETIMEDOUT);
	feed_full(eng, 300, GIL_EV_WAKE, PID, A, 0, 10, -EAGAIN);
	feed_full(eng, 400, GIL_EV_WAKE_CALL, PID, B, 1, 100, 1);
	feed_full(eng, 500, GIL_EV_WAKE_CALL, PID, B, 1, 100, 0);
	assert_int_equal(totals(eng)->futex_woken, 1);
	assert_int_equal(totals(eng)->futex_timedout, 1);
	assert_int_equal(totals(eng)->futex_other, 1);
	assert_int_equal(totals(eng)->wake_calls, 2);
	assert_int_equal(totals(eng)->wake_call_woken, 1);
	/* No TIMEOUT event: the timed-out futex wait stands in. */
	assert_int_equal(totals(eng)->timed_wait_ns, 5000000);
	engine__free(eng);
}

static void hold(struct engine *eng, __u32 tid, __u64 from, __u64 to)
{
	feed(eng, from, GIL_EV_ACQUIRE, tid, 0);
	feed(eng, to, GIL_EV_FORCED_RELEASE, tid, 0);
}

static void test_jain_and_shares(void **state)
{
	struct engine *eng = new_engine();
	struct thread_figures f;

	(void)state;
	hold(eng, A, 0, 100);
	hold(eng, B, 100, 200);
	hold(eng, C, 200, 300);
	assert_close(totals(eng)->jain, 1.0, 1e-12);
	engine__free(eng);

	/* Shares 3:1: (3+1)^2 / (2 * (9+1)) = 0.8. */
	eng = new_engine();
	hold(eng, A, 0, 300);
	hold(eng, B, 300, 400);
	engine__name_thread(eng, PID, C, "never-ran"); /* no ACQUIRE: not counted */
	assert_close(totals(eng)->jain, 0.8, 1e-12);
	engine__thread_figures(eng, thread(eng, A), &f);
	assert_close(f.gil_share, 0.75, 1e-12);
	assert_close(totals(eng)->utilisation_pct, 100.0, 1e-9);
	engine__free(eng);

	/* One thread holds everything, four acquired: 1/4. */
	eng = new_engine();
	hold(eng, A, 0, 1000);
	hold(eng, B, 1000, 1000);
	hold(eng, C, 1000, 1000);
	hold(eng, 104, 1000, 1000);
	assert_close(totals(eng)->jain, 0.25, 1e-12);
	engine__free(eng);
}

static void test_tick_intervals(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *a, *b;
	const struct engine_totals *tot;

	(void)state;
	/* Interval 1: [0, 1000). A holds 0..600; B waits from 200, still
	 * waiting at the tick. */
	feed(eng, 1, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 200, GIL_EV_WAIT, B, 1);
	feed(eng, 601, GIL_EV_FORCED_RELEASE, A, 0);
	feed(eng, 700, GIL_EV_ACQUIRE, C, 2);
	feed(eng, 700, GIL_EV_RETRY, B, 1);
	engine__tick(eng, 1001);
	a = thread(eng, A);
	b = thread(eng, B);
	assert_int_equal(a->iv.len_ns, 1000);
	assert_int_equal(a->iv.hold_ns, 600);
	assert_close(a->iv.hold_share, 0.6, 1e-12);
	assert_int_equal(a->iv.acquisitions, 1);
	assert_int_equal(a->iv.forced_switches, 1);
	assert_int_equal(a->iv.state, THREAD_RUNNING);
	assert_int_equal(b->iv.wait_ns, 801);
	assert_int_equal(b->iv.state, THREAD_WAITING);
	assert_int_equal(b->iv.retries, 1);
	assert_int_equal(b->iv.waits, 0);
	assert_int_equal(thread(eng, C)->iv.hold_ns, 301);
	tot = totals(eng);
	assert_int_equal(tot->iv.len_ns, 1000);
	assert_int_equal(tot->iv.acquisitions, 2);
	assert_int_equal(tot->iv.switches, 1);
	assert_close(tot->iv.utilisation_pct, 90.1, 1e-9);
	assert_close(tot->iv.retries_per_s, 1e6, 1e-3);

	/* Interval 2: [1001, 2001). C (holding since 700) releases at 1501;
	 * B gets the GIL at 1601 after waiting 1401 in all, 600 of it in
	 * this interval, and holds on. */
	feed(eng, 1501, GIL_EV_RELEASE, C, 2);
	feed(eng, 1601, GIL_EV_ACQUIRE, B, 1);
	engine__tick(eng, 2001);
	assert_int_equal(thread(eng, C)->iv.hold_ns, 500);
	assert_int_equal(b->iv.wait_ns, 600);
	assert_int_equal(b->iv.hold_ns, 400);
	assert_int_equal(b->iv.waits, 1);
	assert_int_equal(b->iv.wait_max_ns, 1401);
	assert_close(b->iv.wait_mean_ns, 1401, 1e-9);
	assert_int_equal(b->iv.state, THREAD_HOLDING);
	assert_int_equal(a->iv.hold_ns, 0);
	assert_int_equal(a->iv.acquisitions, 0);
	/* B's WAIT fell in interval 1, its ACQUIRE in interval 2: the one
	 * acquisition of interval 2 had to wait. */
	assert_int_equal(totals(eng)->iv.busy, 0);
	assert_close(totals(eng)->iv.contention_pct, 100.0, 1e-9);

	/* Sparkline history: oldest first. */
	assert_int_equal(b->history_len, 2);
	assert_close(engine_thread__history(b, 0), 0.0, 1e-6);
	assert_close(engine_thread__history(b, 1), 0.4, 1e-6);
	assert_close(engine_thread__history(a, 0), 0.6, 1e-6);
	engine__free(eng);
}

static void test_history_ring(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *a;
	unsigned int i;

	(void)state;
	feed(eng, 1, GIL_EV_ACQUIRE, A, 0);
	for (i = 1; i <= ENGINE_HISTORY + 5; i++) {
		/* A holds the first i-th of each 100 ns interval... capped. */
		feed(eng, i * 100 + (i % 100), GIL_EV_RELEASE, A, 0);
		feed(eng, i * 100 + 99, GIL_EV_ACQUIRE, A, 0);
		engine__tick(eng, i * 100 + 100);
	}
	a = thread(eng, A);
	assert_int_equal(a->history_len, ENGINE_HISTORY);
	/* Newest interval: [3700, 3800): held 3700..3737 and 3799..3800. */
	assert_close(engine_thread__history(a, ENGINE_HISTORY - 1), 0.38, 1e-6);
	assert_close(engine_thread__history(a, ENGINE_HISTORY), 0.0, 1e-6);
	engine__free(eng);
}

/* An I/O thread re-acquires after voluntary releases: the convoy's cost. */
static void test_io_wait(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *b;
	struct thread_figures f;

	(void)state;
	feed(eng, 0, GIL_EV_ACQUIRE, B, 1);
	feed(eng, 10, GIL_EV_RELEASE, B, 1);   /* I/O */
	feed(eng, 20, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 30, GIL_EV_WAIT, B, 1);      /* I/O done, GIL taken */
	feed(eng, 5030, GIL_EV_FORCED_RELEASE, A, 0);
	feed(eng, 5040, GIL_EV_ACQUIRE, B, 1); /* waited 5010 */
	feed(eng, 5050, GIL_EV_RELEASE, B, 1);
	feed(eng, 5060, GIL_EV_ACQUIRE, B, 1); /* free: 0 */
	feed(eng, 5070, GIL_EV_FORCED_RELEASE, B, 1);
	feed(eng, 5080, GIL_EV_ACQUIRE, B, 1); /* after forced: not I/O */
	b = thread(eng, B);
	engine__thread_figures(eng, b, &f);
	assert_int_equal(f.io.count, 2);
	assert_int_equal(f.io.contended, 1);
	assert_close(f.io.mean_ns, 2505, 1e-9);
	assert_int_equal(f.io.max_ns, 5010);
	assert_int_equal(f.io.p99_ns, 5010);
	assert_int_equal(totals(eng)->io.count, 2);
	assert_int_equal(totals(eng)->io.total_ns, 5010);
	engine__free(eng);
}

/* Several processes: each has its own GIL, so switches and shares are per
 * process, and the thread list groups by tgid. */
static void test_processes_and_many_threads(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread **list;
	struct hist *merged = calloc(1, sizeof(*merged)), *all = calloc(1, sizeof(*all));
	struct thread_figures f;
	size_t n, i;
	__u32 tid;

	(void)state;
	for (tid = 1; tid <= 20000; tid++) {
		__u32 tgid = tid % 2 ? 7 : 5;

		feed_full(eng, tid * 10, GIL_EV_WAIT, tgid, tid, 0, 0, 0);
		feed_full(eng, tid * 10 + tid % 9, GIL_EV_ACQUIRE, tgid, tid, 0, 0, 0);
		feed_full(eng, tid * 10 + 9, GIL_EV_RELEASE, tgid, tid, 0, 0, 0);
	}
	assert_int_equal(engine__thread_list(eng, &list, &n), 0);
	assert_int_equal(n, 20000);
	assert_int_equal(engine__nthreads(eng), n);
	for (i = 0; i < n; i++) {
		if (i)
			assert_true(list[i - 1]->tgid < list[i]->tgid ||
				    (list[i - 1]->tgid == list[i]->tgid &&
				     list[i - 1]->tid < list[i]->tid));
		assert_int_equal(list[i]->c.acquisitions, 1);
		assert_int_equal(list[i]->c.wait_ns, list[i]->tid % 9);
		hist__merge(merged, &list[i]->wait);
	}
	assert_int_equal(list[0]->tgid, 5);
	assert_int_equal(list[n - 1]->tgid, 7);
	/* Totals' histogram is the merge of every thread's. */
	engine__wait_hist(eng, all);
	assert_int_equal(all->count, 20000);
	assert_memory_equal(all->buckets, merged->buckets, sizeof(all->buckets));
	assert_int_equal(all->sum, merged->sum);
	/* Each process: 10000 acquisitions by distinct threads = 9999 switches. */
	assert_int_equal(totals(eng)->switches, 2 * 9999);
	assert_int_equal(totals(eng)->nprocs, 2);
	engine__thread_figures(eng, list[0], &f);
	assert_close(f.gil_share, (double)list[0]->c.hold_ns /
		     (double)(totals(eng)->c.hold_ns / 2), 1e-3);
	/* A partial list still comes from the sorted order. */
	assert_int_equal(engine__threads(eng, list, 3), n);
	assert_int_equal(list[0]->tgid, 5);
	assert_int_equal(list[0]->tid, 2);
	free(list);
	free(merged);
	free(all);
	engine__free(eng);
}

/* An engine that saw nothing lists nothing, without allocating. */
static void test_empty_lists(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread **threads = (const struct engine_thread **)state;
	const struct engine_cpu **cpus = (const struct engine_cpu **)state;
	size_t n = 1;

	assert_int_equal(engine__thread_list(eng, &threads, &n), 0);
	assert_null(threads);
	assert_int_equal(n, 0);
	n = 1;
	assert_int_equal(engine__cpu_list(eng, &cpus, &n), 0);
	assert_null(cpus);
	assert_int_equal(n, 0);
	engine__free(eng);
}

static void test_unknown_kinds_ignored(void **state)
{
	struct engine *eng = new_engine();

	(void)state;
	feed(eng, 100, 0, A, 0);
	feed(eng, 100, GIL_EV__MAX, A, 0);
	feed(eng, 100, 999, A, 0);
	assert_int_equal(engine__nthreads(eng), 0);
	assert_int_equal(totals(eng)->first_ts, 0);
	engine__free(eng);
	engine__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uncontended),
		cmocka_unit_test(test_contended),
		cmocka_unit_test(test_wait_open_at_end),
		cmocka_unit_test(test_switches),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_mid_run_attach),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_tid_filter_and_drops),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_futex_counts),
		cmocka_unit_test(test_jain_and_shares),
		cmocka_unit_test(test_tick_intervals),
		cmocka_unit_test(test_history_ring),
		cmocka_unit_test(test_io_wait),
		cmocka_unit_test(test_processes_and_many_threads),
		cmocka_unit_test(test_empty_lists),
		cmocka_unit_test(test_unknown_kinds_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
