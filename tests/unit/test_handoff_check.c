/* The engine's hand-off self-check and trace window, from GIL_STATE
 * readings of the interpreter's own switch_number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/engine.h"

#define PID 200
#define A 201
#define B 202
#define MS 1000000ULL

static void feed(struct engine *eng, __u64 ts, enum gil_event_kind kind, __u32 tid)
{
	struct gil_event ev = { .ts = ts, .addr = 0x1000, .tgid = PID, .tid = tid, .kind = kind };

	engine__feed(eng, &ev);
}

/* A GIL_STATE reading: switch number sn, holder tid (0: unknown), flags. */
static void reading(struct engine *eng, __u64 ts, __u64 sn, __u32 holder, __s32 flags)
{
	struct gil_event ev = { .ts = ts, .addr = 0x1000, .tgid = PID, .tid = holder,
				.value = sn, .ret = flags, .kind = GIL_EV_GIL_STATE };

	engine__feed(eng, &ev);
}

static struct engine *new_engine(void)
{
	struct engine *eng = engine__new(NULL);

	assert_non_null(eng);
	return eng;
}

static void handoffs(const struct engine *eng, struct handoff_figures *h)
{
	struct engine_totals tot;

	engine__totals(eng, &tot);
	*h = tot.handoffs;
}

/* A then B then A: two hand-offs by the interpreter's count and ours. */
static void test_all_seen(void **state)
{
	struct engine *eng = new_engine();
	struct handoff_figures h;

	(void)state;
	reading(eng, 1 * MS, 40, A, GIL_STATE_LOCKED);
	feed(eng, 2 * MS, GIL_EV_RELEASE, A);
	feed(eng, 3 * MS, GIL_EV_ACQUIRE, B);
	feed(eng, 4 * MS, GIL_EV_RELEASE, B);
	feed(eng, 5 * MS, GIL_EV_ACQUIRE, A);
	reading(eng, 6 * MS, 42, A, GIL_STATE_LOCKED | GIL_STATE_END);
	handoffs(eng, &h);
	assert_int_equal(h.processes, 1);
	assert_int_equal(h.interpreter, 2);
	assert_int_equal(h.seen, 2);
	assert_int_equal(h.missed, 0);
	assert_int_equal(h.extra, 0);
	engine__free(eng);
}

/* The interpreter counts five, the events show two: three not seen. */
static void test_missed(void **state)
{
	struct engine *eng = new_engine();
	struct handoff_figures h;

	(void)state;
	reading(eng, 1 * MS, 10, A, 0);
	feed(eng, 3 * MS, GIL_EV_ACQUIRE, B);
	feed(eng, 5 * MS, GIL_EV_ACQUIRE, A);
	reading(eng, 6 * MS, 15, A, GIL_STATE_END);
	handoffs(eng, &h);
	assert_int_equal(h.interpreter, 5);
	assert_int_equal(h.seen, 2);
	assert_int_equal(h.missed, 3);
	assert_int_equal(h.extra, 0);
	engine__free(eng);
}

/* One reading checks nothing; hand-offs before the first reading and after
 * the last are outside the window; one seen after a reading but streamed
 * before the next counts once that reading arrives. */
static void test_window_edges(void **state)
{
	struct engine *eng = new_engine();
	struct handoff_figures h;

	(void)state;
	reading(eng, 10 * MS, 100, A, 0);
	handoffs(eng, &h);
	assert_int_equal(h.processes, 0);
	/* streamed after the reading, but older: before the window */
	feed(eng, 9 * MS, GIL_EV_ACQUIRE, A);
	feed(eng, 11 * MS, GIL_EV_ACQUIRE, B);
	reading(eng, 12 * MS, 101, B, 0);
	feed(eng, 13 * MS, GIL_EV_ACQUIRE, A);
	handoffs(eng, &h);
	assert_int_equal(h.interpreter, 1);
	assert_int_equal(h.seen, 1);
	reading(eng, 14 * MS, 102, A, GIL_STATE_END);
	feed(eng, 15 * MS, GIL_EV_ACQUIRE, B);
	handoffs(eng, &h);
	assert_int_equal(h.interpreter, 2);
	assert_int_equal(h.seen, 2);
	assert_int_equal(h.missed, 0);
	engine__free(eng);
}

/* No thread has held the GIL at attach: the first acquisition is a
 * hand-off, as the interpreter counts it (last_holder NULL to a thread). */
static void test_no_holder_at_attach(void **state)
{
	struct engine *eng = new_engine();
	struct handoff_figures h;

	(void)state;
	reading(eng, 1 * MS, 0, 0, GIL_STATE_NO_HOLDER);
	feed(eng, 2 * MS, GIL_EV_ACQUIRE, A);
	reading(eng, 3 * MS, 1, A, GIL_STATE_LOCKED | GIL_STATE_END);
	handoffs(eng, &h);
	assert_int_equal(h.interpreter, 1);
	assert_int_equal(h.seen, 1);
	assert_int_equal(h.missed, 0);
	engine__free(eng);
}

/* A thread that holds the GIL across the whole trace: its hold counts from
 * the first reading to the last, and the duration is the window's. */
static void test_hold_across_trace(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *t;
	struct engine_totals tot;

	(void)state;
	reading(eng, 1000 * MS, 7, A, GIL_STATE_LOCKED);
	feed(eng, 1500 * MS, GIL_EV_WAKE_CALL, A);
	reading(eng, 4000 * MS, 7, A, GIL_STATE_LOCKED | GIL_STATE_END);
	t = engine__find_thread(eng, PID, A);
	assert_non_null(t);
	assert_int_equal(t->c.hold_ns, 3000 * MS);
	assert_int_equal(t->c.acquisitions, 0);
	assert_int_equal(t->c.unpaired, 0);
	engine__totals(eng, &tot);
	assert_int_equal(tot.duration_ns, 3000 * MS);
	engine__free(eng);
}

/* The holder at attach releases: one hold, no unpaired release. */
static void test_holder_at_attach_releases(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_thread *t;

	(void)state;
	reading(eng, 1 * MS, 3, A, GIL_STATE_LOCKED);
	feed(eng, 5 * MS, GIL_EV_RELEASE, A);
	t = engine__find_thread(eng, PID, A);
	assert_non_null(t);
	assert_int_equal(t->c.holds, 1);
	assert_int_equal(t->c.hold_ns, 4 * MS);
	assert_int_equal(t->c.unpaired, 0);
	engine__free(eng);
}

/* Seen more than the interpreter made: shown, not hidden. */
static void test_extra(void **state)
{
	struct engine *eng = new_engine();
	struct handoff_figures h;

	(void)state;
	reading(eng, 1 * MS, 50, A, 0);
	feed(eng, 3 * MS, GIL_EV_ACQUIRE, B);
	feed(eng, 5 * MS, GIL_EV_ACQUIRE, A);
	reading(eng, 8 * MS, 51, A, GIL_STATE_END);
	handoffs(eng, &h);
	assert_int_equal(h.seen, 2);
	assert_int_equal(h.extra, 1);
	assert_int_equal(h.missed, 0);
	assert_int_equal(h.at_edges, 0);
	engine__free(eng);
}

/* A woken waiter's acquisition stamped just before the last reading while
 * the interpreter counted it just after: within HANDOFF_EDGE_NS of a
 * reading, a difference up to the hand-offs there is no mismatch, and one
 * beyond them still is. */
static void test_edges(void **state)
{
	struct engine *eng = new_engine();
	struct handoff_figures h;

	(void)state;
	reading(eng, 1 * MS, 50, A, 0);
	feed(eng, 4 * MS, GIL_EV_ACQUIRE, B);
	feed(eng, 8 * MS - MS / 2, GIL_EV_ACQUIRE, A);
	reading(eng, 8 * MS, 51, A, 0);
	handoffs(eng, &h);
	assert_int_equal(h.seen, 2);
	assert_int_equal(h.at_edges, 1);
	assert_int_equal(h.extra, 0);
	/* two more seen, one of them near the next reading, none counted */
	feed(eng, 12 * MS, GIL_EV_ACQUIRE, B);
	feed(eng, 16 * MS - MS / 2, GIL_EV_ACQUIRE, A);
	reading(eng, 16 * MS, 51, A, GIL_STATE_END);
	handoffs(eng, &h);
	assert_int_equal(h.seen, 4);
	assert_int_equal(h.at_edges, 0);
	assert_int_equal(h.extra, 3);
	engine__free(eng);
}

/* A --tid filter sees one thread: the process-wide check is not made. */
static void test_tid_filter_skips_check(void **state)
{
	struct engine_opts opts = { .tid = A };
	struct engine *eng = engine__new(&opts);
	struct handoff_figures h;

	(void)state;
	assert_non_null(eng);
	reading(eng, 1 * MS, 50, A, 0);
	feed(eng, 2 * MS, GIL_EV_ACQUIRE, A);
	reading(eng, 4 * MS, 53, A, GIL_STATE_END);
	handoffs(eng, &h);
	assert_int_equal(h.processes, 0);
	engine__free(eng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_seen),
		cmocka_unit_test(test_missed),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_no_holder_at_attach),
		cmocka_unit_test(test_hold_across_trace),
		cmocka_unit_test(test_holder_at_attach_releases),
		cmocka_unit_test(test_extra),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_tid_filter_skips_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
