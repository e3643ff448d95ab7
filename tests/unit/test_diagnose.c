/* Diagnosis rules on synthetic streams: they fire on the pathology they
 * name and stay quiet on healthy or too-short runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/diagnose.h"
#include "engine/engine.h"

#define PID 100
#define A 101 /* CPU-bound */
#define B 102 /* I/O-bound */
#define US 1000ULL
#define MS 1000000ULL

static void feed(struct engine *eng, __u64 ts, enum gil_event_kind kind, __u32 tid)
{
	struct gil_event ev = { .ts = ts, .tgid = PID, .tid = tid, .kind = kind };

	engine__feed(eng, &ev);
}

static struct engine *new_engine(void)
{
	struct engine_opts opts = { 0 };
	struct engine *eng = engine__new(&opts);

	assert_non_null(eng);
	engine__name_thread(eng, PID, A, "cruncher");
	engine__name_thread(eng, PID, B, "io-loop");
	return eng;
}

/* B does I/O every 10 ms; each time it comes back, A holds the GIL and B
 * waits out a 5 ms timed wait before A is forced to let go. */
static struct engine *convoy_stream(int rounds)
{
	struct engine *eng = new_engine();
	int k;

	feed(eng, 0, GIL_EV_ACQUIRE, A);
	for (k = 0; k < rounds; k++) {
		__u64 base = (__u64)k * 10 * MS;

		feed(eng, base + 100 * US, GIL_EV_WAIT, B);
		feed(eng, base + 5100 * US, GIL_EV_TIMEOUT, B);
		feed(eng, base + 5100 * US, GIL_EV_DROP_REQUEST, B);
		feed(eng, base + 5100 * US + 10, GIL_EV_FORCED_RELEASE, A);
		feed(eng, base + 5100 * US + 20, GIL_EV_ACQUIRE, B);
		feed(eng, base + 5100 * US + 30, GIL_EV_WAIT, A);
		feed(eng, base + 5200 * US, GIL_EV_RELEASE, B);
		feed(eng, base + 5200 * US + 10, GIL_EV_ACQUIRE, A);
	}
	return eng;
}

static void test_convoy(void **state)
{
	struct engine *eng = convoy_stream(30);
	struct diagnosis d[DIAG_MAX];
	size_t n;

	(void)state;
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].kind, DIAG_CONVOY);
	assert_int_equal(d[0].tgid, PID);
	assert_int_equal(d[0].tid, B);
	assert_true(d[0].figure > 4.9 * MS && d[0].figure < 5.1 * MS);
	assert_non_null(strstr(d[0].message, "io-loop"));
	assert_non_null(strstr(d[0].hint, "setswitchinterval"));
	assert_non_null(strstr(d[0].hint, "thread 101 (cruncher)"));
	assert_string_equal(diagnose__kind_name(d[0].kind), "convoy");
	/* cap is respected */
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, 0), 0);
	engine__free(eng);
}

static void test_convoy_needs_repetition(void **state)
{
	struct engine *eng = convoy_stream(10);
	struct diagnosis d[DIAG_MAX];

	(void)state;
	/* 9 contended waits after I/O: an anecdote, not a convoy. */
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 0);
	engine__free(eng);
}

static void test_single_thread_is_healthy(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	__u64 ts;

	(void)state;
	for (ts = 0; ts < 1000 * MS; ts += MS) {
		feed(eng, ts, GIL_EV_ACQUIRE, A);
		feed(eng, ts + MS / 2, GIL_EV_RELEASE, A);
	}
	engine__tick(eng, 1000 * MS);
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 0);
	assert_int_equal(diagnose__run(eng, DIAG_INTERVAL, d, DIAG_MAX), 0);
	engine__free(eng);
}

static void test_battle(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	__u64 ts = 0;
	int i;

	(void)state;
	/* A and B hand the GIL back and forth; every hand-off to B fails
	 * once or twice before it sticks. */
	for (i = 0; i < 200; i++, ts += 100 * US) {
		feed(eng, ts, GIL_EV_ACQUIRE, A);
		feed(eng, ts + 1 * US, GIL_EV_WAIT, B);
		feed(eng, ts + 40 * US, GIL_EV_FORCED_RELEASE, A);
		feed(eng, ts + 41 * US, GIL_EV_ACQUIRE, A);
		feed(eng, ts + 42 * US, GIL_EV_RETRY, B);
		if (i % 2)
			feed(eng, ts + 43 * US, GIL_EV_RETRY, B);
		feed(eng, ts + 60 * US, GIL_EV_FORCED_RELEASE, A);
		feed(eng, ts + 61 * US, GIL_EV_ACQUIRE, B);
		feed(eng, ts + 90 * US, GIL_EV_RELEASE, B);
	}
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 1);
	assert_int_equal(d[0].kind, DIAG_BATTLE);
	assert_int_equal(d[0].tid, B);
	/* 300 retries / 600 acquisitions */
	assert_true(d[0].figure > 0.49 && d[0].figure < 0.51);
	assert_non_null(strstr(d[0].hint, "thread 101 (cruncher)"));
	engine__free(eng);
}

static void test_starved_interval(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];

	(void)state;
	feed(eng, 0, GIL_EV_ACQUIRE, A);
	feed(eng, 50 * MS, GIL_EV_WAIT, B);
	engine__tick(eng, 1000 * MS);
	/* B waited 95% of the interval and still waits. */
	assert_int_equal(diagnose__run(eng, DIAG_INTERVAL, d, DIAG_MAX), 1);
	assert_int_equal(d[0].kind, DIAG_STARVED);
	assert_int_equal(d[0].tid, B);
	assert_true(d[0].figure > 0.94 && d[0].figure < 0.96);
	assert_non_null(strstr(d[0].hint, "thread 101 (cruncher)"));
	/* Over the run, B's wait has not ended: nothing measured yet. */
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 0);
	/* Once it ends, the run view sees it too. */
	feed(eng, 1000 * MS, GIL_EV_FORCED_RELEASE, A);
	feed(eng, 1000 * MS + 1, GIL_EV_ACQUIRE, B);
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 1);
	assert_int_equal(d[0].kind, DIAG_STARVED);
	engine__free(eng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convoy),
		cmocka_unit_test(test_convoy_needs_repetition),
		cmocka_unit_test(test_single_thread_is_healthy),
		cmocka_unit_test(test_battle),
		cmocka_unit_test(test_starved_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
