/* Free-threaded CPython's locks in the engine (engine/locks.c), their
 * diagnoses, and the type-name check (target/pytype.c), on hand-built
 * event streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/diagnose.h"
#include "engine/engine.h"
#include "target/pytype.h"

#define PID 200
#define A 201
#define B 202
#define MS 1000000ULL
#define DICT_LOCK 0x7f0000001a8aULL
#define BARE_LOCK 0x55550000ab8ULL
#define DICT_TYPE 0x5555000510a0ULL

static void feed(struct engine *eng, __u64 ts, enum gil_event_kind kind, __u32 tid, __u64 addr,
		 __u64 value, __s32 ret)
{
	struct gil_event ev = {
		.ts = ts, .tgid = PID, .tid = tid, .kind = kind, .addr = addr, .value = value,
		.ret = ret,
	};

	engine__feed(eng, &ev);
}

static void wait_on(struct engine *eng, __u64 ts, __u32 tid, __u64 lock, __u64 ns, int parks)
{
	feed(eng, ts, GIL_EV_LOCK_WAIT, tid, lock, ns, LOCK_ST_ACQUIRED | parks << LOCK_PARKS_SHIFT);
}

/* The name as the live source sends it: 8 bytes a record. */
static void type_name(struct engine *eng, __u64 ts, __u64 type, const char *name)
{
	char buf[LOCK_TYPE_NAME_MAX] = { 0 };

	strncpy(buf, name, sizeof(buf) - 1);
	for (int part = 0; part * 8 < (int)strlen(buf); part++) {
		__u64 v;

		memcpy(&v, buf + part * 8, 8);
		feed(eng, ts, GIL_EV_LOCK_TYPE, 0, type, v, part);
	}
}

static struct engine *new_engine(void)
{
	struct engine *eng = engine__new(NULL);

	assert_non_null(eng);
	return eng;
}

static void test_waits_per_lock_and_thread(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_lock **locks;
	struct lock_totals tot;
	size_t n;

	(void)state;
	type_name(eng, 1 * MS, DICT_TYPE, "dict");
	feed(eng, 1 * MS, GIL_EV_LOCK_SECTION, A, DICT_LOCK, DICT_TYPE, 1);
	wait_on(eng, 2 * MS, A, DICT_LOCK, 3 * MS, 1);
	feed(eng, 3 * MS, GIL_EV_LOCK_SECTION, B, DICT_LOCK, DICT_TYPE, 1);
	wait_on(eng, 4 * MS, B, DICT_LOCK, 5 * MS, 2);
	wait_on(eng, 5 * MS, A, DICT_LOCK, 1 * MS, 0);
	/* A bare PyMutex: no section names it. */
	wait_on(eng, 6 * MS, B, BARE_LOCK, 100, 0);
	feed(eng, 7 * MS, GIL_EV_LOCK_WAIT, B, BARE_LOCK, 200, LOCK_ST_FAILURE);

	assert_int_equal(lock_table__list(engine__locks(eng), &locks, &n), 0);
	assert_int_equal(n, 2);
	/* The longest total wait first. */
	assert_int_equal(locks[0]->addr, DICT_LOCK);
	assert_string_equal(locks[0]->type_name, "dict");
	assert_int_equal(locks[0]->waits, 3);
	assert_int_equal(locks[0]->parks, 3);
	assert_int_equal(locks[0]->sections, 2);
	assert_int_equal(locks[0]->failed, 0);
	assert_int_equal(locks[0]->wait.sum, 9 * MS);
	assert_int_equal(locks[0]->wait.max, 5 * MS);
	assert_int_equal(locks[0]->nwaiters, 2);
	assert_int_equal(locks[0]->waiters[0].tid, A);
	assert_int_equal(locks[0]->waiters[0].waits, 2);
	assert_int_equal(locks[0]->waiters[0].wait_ns, 4 * MS);
	assert_int_equal(locks[0]->waiters[0].max_ns, 3 * MS);
	assert_int_equal(locks[0]->waiters[0].parks, 1);
	assert_int_equal(locks[0]->waiters[1].parks, 2);
	assert_int_equal(locks[1]->addr, BARE_LOCK);
	assert_string_equal(locks[1]->type_name, "");
	assert_int_equal(locks[1]->sections, 0);
	assert_int_equal(locks[1]->failed, 1);
	free(locks);

	lock_table__totals(engine__locks(eng), &tot);
	assert_true(tot.seen);
	assert_int_equal(tot.locks, 2);
	assert_int_equal(tot.waits, 5);
	assert_int_equal(tot.wait_ns, 9 * MS + 300);
	assert_int_equal(tot.procs, 1);
	/* Lock events name their threads but take no GIL. */
	assert_non_null(engine__find_thread(eng, PID, A));
	engine__free(eng);
}

static void test_long_type_names_and_unread_types(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_lock *l;

	(void)state;
	type_name(eng, MS, DICT_TYPE + 64, "OrderedDictWithAVeryLongName");
	feed(eng, MS, GIL_EV_LOCK_SECTION, A, DICT_LOCK, DICT_TYPE + 64, 2);
	/* A type no LOCK_TYPE named (it did not read as a type). */
	feed(eng, MS, GIL_EV_LOCK_SECTION, A, BARE_LOCK, 0xdead, 1);
	l = lock_table__find(engine__locks(eng), PID, DICT_LOCK);
	assert_non_null(l);
	assert_string_equal(l->type_name, "OrderedDictWithAVeryLongName");
	l = lock_table__find(engine__locks(eng), PID, BARE_LOCK);
	assert_non_null(l);
	assert_string_equal(l->type_name, "");
	assert_int_equal(l->type, 0xdead);
	assert_null(lock_table__find(engine__locks(eng), PID + 1, BARE_LOCK));
	engine__free(eng);
}

static void test_stop_the_world(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_stw *v[4];
	struct lock_totals tot;

	(void)state;
	/* An end whose request came before the trace. */
	feed(eng, 1 * MS, GIL_EV_STW, A, 0x10, 0, STW_END);
	feed(eng, 10 * MS, GIL_EV_STW, A, 0x10, STW_CAUSE_GC, STW_REQUEST);
	feed(eng, 11 * MS, GIL_EV_STW, A, 0, 0, STW_STOPPED);
	feed(eng, 14 * MS, GIL_EV_STW, A, 0x10, 0, STW_END);
	feed(eng, 20 * MS, GIL_EV_STW, B, 0x10, STW_CAUSE_OTHER, STW_REQUEST);
	feed(eng, 20 * MS + 500, GIL_EV_STW, B, 0, 0, STW_STOPPED);
	feed(eng, 21 * MS, GIL_EV_STW, B, 0x10, 0, STW_END);
	/* Still stopped when the stream ends. */
	feed(eng, 30 * MS, GIL_EV_STW, A, 0x10, STW_CAUSE_GC, STW_REQUEST);

	assert_int_equal(lock_table__stw(engine__locks(eng), v, 4), 1);
	assert_int_equal(v[0]->pauses, 2);
	assert_int_equal(v[0]->gc_pauses, 1);
	assert_int_equal(v[0]->gc_ns, 4 * MS);
	assert_int_equal(v[0]->pause.sum, 5 * MS);
	assert_int_equal(v[0]->pause.max, 4 * MS);
	assert_int_equal(v[0]->stop_ns, 1 * MS + 500);
	assert_int_equal(v[0]->open, 1);
	assert_int_equal(v[0]->unpaired, 1);
	lock_table__totals(engine__locks(eng), &tot);
	assert_int_equal(tot.pauses, 2);
	assert_int_equal(tot.gc_pauses, 1);
	assert_int_equal(tot.pause_max_ns, 4 * MS);
	engine__free(eng);
}

static void test_type_names_pass_every_filter(void **state)
{
	struct engine_opts opts = { .from_ts = 50 * MS, .tid = B };
	struct engine *eng = engine__new(&opts);
	const struct engine_lock *l;

	(void)state;
	assert_non_null(eng);
	/* Sent before the window, by no thread: kept. */
	type_name(eng, 1 * MS, DICT_TYPE, "dict");
	feed(eng, 60 * MS, GIL_EV_LOCK_SECTION, B, DICT_LOCK, DICT_TYPE, 1);
	wait_on(eng, 61 * MS, B, DICT_LOCK, MS, 0);
	wait_on(eng, 62 * MS, A, DICT_LOCK, MS, 0); /* another thread: filtered */
	wait_on(eng, 40 * MS, B, DICT_LOCK, MS, 0); /* before the window */
	l = lock_table__find(engine__locks(eng), PID, DICT_LOCK);
	assert_non_null(l);
	assert_string_equal(l->type_name, "dict");
	assert_int_equal(l->waits, 1);
	engine__free(eng);
}

static size_t diagnose(struct engine *eng, struct diagnosis *d)
{
	return diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
}

static void test_hot_lock_diagnosis(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	size_t n;

	(void)state;
	type_name(eng, 0, DICT_TYPE, "dict");
	feed(eng, 0, GIL_EV_LOCK_SECTION, A, DICT_LOCK, DICT_TYPE, 1);
	/* 10 waits of 5 ms by two threads over 1 s: 5% of the time. */
	for (int i = 0; i < 10; i++)
		wait_on(eng, (__u64)(i + 1) * 100 * MS, i % 2 ? A : B, DICT_LOCK, 5 * MS, 1);
	n = diagnose(eng, d);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].kind, DIAG_HOT_LOCK);
	assert_int_equal(d[0].lock, DICT_LOCK);
	assert_int_equal(d[0].count, 10);
	assert_int_equal(d[0].threads, 2);
	assert_true(d[0].figure == 50.0 * MS);
	engine__free(eng);

	/* Nine such waits: too few to be a pattern. */
	eng = new_engine();
	for (int i = 0; i < 9; i++)
		wait_on(eng, (__u64)(i + 1) * 100 * MS, A, DICT_LOCK, 6 * MS, 1);
	feed(eng, 1000 * MS, GIL_EV_STW, A, 0x10, 0, STW_END);
	assert_int_equal(diagnose(eng, d), 0);
	engine__free(eng);

	/* Ten, but 4.5% of the time. */
	eng = new_engine();
	for (int i = 0; i < 10; i++)
		wait_on(eng, (__u64)(i + 1) * 100 * MS, A, DICT_LOCK, 4500000, 1);
	feed(eng, 0, GIL_EV_STW, A, 0x10, 0, STW_END);
	assert_int_equal(diagnose(eng, d), 0);
	/* Over an interval the lock rules keep quiet: no intervals kept. */
	assert_int_equal(diagnose__run(eng, DIAG_INTERVAL, d, DIAG_MAX), 0);
	engine__free(eng);
}

static void test_stw_diagnosis(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];

	(void)state;
	/* Five 10 ms pauses in 1 s: 5%. */
	for (int i = 0; i < 5; i++) {
		__u64 t = (__u64)i * 100 * MS;

		feed(eng, t, GIL_EV_STW, A, 0x10, STW_CAUSE_GC, STW_REQUEST);
		feed(eng, t + 10 * MS, GIL_EV_STW, A, 0x10, 0, STW_END);
	}
	feed(eng, 1000 * MS, GIL_EV_STW, A, 0x10, 0, STW_STOPPED); /* unpaired: ends the run */
	assert_int_equal(diagnose(eng, d), 1);
	assert_int_equal(d[0].kind, DIAG_STW);
	assert_int_equal(d[0].count, 5);
	assert_int_equal(d[0].wait_p99_ns, 10 * MS);
	assert_true(d[0].figure > 0.0499 && d[0].figure < 0.0501);
	engine__free(eng);
}

static void test_table_is_bounded(void **state)
{
	struct engine *eng = new_engine();
	const struct engine_lock **locks;
	struct lock_totals tot;
	size_t n;

	(void)state;
	for (__u64 i = 0; i < LOCK_TABLE_MAX + 5; i++) {
		feed(eng, MS, GIL_EV_LOCK_SECTION, A, 0x1000 + i * 64, 0, 1);
		wait_on(eng, MS + i, A, 0x1000 + i * 64, 100, 0);
	}
	assert_int_equal(lock_table__list(engine__locks(eng), &locks, &n), 0);
	assert_int_equal(n, LOCK_TABLE_MAX);
	free(locks);
	lock_table__totals(engine__locks(eng), &tot);
	assert_int_equal(tot.locks, LOCK_TABLE_MAX);
	assert_int_equal(tot.waits, LOCK_TABLE_MAX + 5);
	assert_int_equal(tot.sections, LOCK_TABLE_MAX + 5);
	assert_int_equal(tot.untracked_waits, 5);
	assert_int_equal(tot.untracked_wait_ns, 500);
	assert_int_equal(tot.wait_ns, (LOCK_TABLE_MAX + 5) * 100ULL);
	engine__free(eng);
}

static void test_type_short_names(void **state)
{
	(void)state;
	assert_string_equal(pytype__short("dict"), "dict");
	assert_string_equal(pytype__short("collections.OrderedDict"), "OrderedDict");
	assert_string_equal(pytype__short("_io.BufferedReader"), "BufferedReader");
	assert_null(pytype__short(""));
	assert_null(pytype__short("a.b."));
	assert_null(pytype__short("no spaces"));
	assert_null(pytype__short("\x1b[31mred"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waits_per_lock_and_thread),
		cmocka_unit_test(test_long_type_names_and_unread_types),
		cmocka_unit_test(test_stop_the_world),
		cmocka_unit_test(test_type_names_pass_every_filter),
		cmocka_unit_test(test_hot_lock_diagnosis),
		cmocka_unit_test(test_stw_diagnosis),
		cmocka_unit_test(test_table_is_bounded),
		cmocka_unit_test(test_type_short_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
