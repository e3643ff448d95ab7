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
#include "views/diagnosis_text.h"

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

/* The words views print for d (views/diagnosis_text.c). */
static void render(const struct diagnosis *d, const struct engine *eng, char *msg, char *hint)
{
	diagnosis_text__message(msg, DIAG_TEXT, d, eng);
	diagnosis_text__hint(hint, DIAG_TEXT, d, eng);
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
	char msg[DIAG_TEXT], hint[DIAG_TEXT];
	size_t n;

	(void)state;
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].kind, DIAG_CONVOY);
	assert_int_equal(d[0].tgid, PID);
	assert_int_equal(d[0].tid, B);
	assert_true(d[0].figure > 4.9 * MS && d[0].figure < 5.1 * MS);
	/* Rounds 1-29 come back from I/O to a held GIL; round 0's wait
	 * follows no release. */
	assert_int_equal(d[0].count, 29);
	/* A holds 5.1 ms + 29 x 9.9 ms, B 30 x 99.98 us: 292.2 / 295.1994 */
	assert_int_equal(d[0].holder_tid, A);
	assert_true(d[0].holder_share > 0.98983 && d[0].holder_share < 0.98985);
	render(&d[0], eng, msg, hint);
	assert_non_null(strstr(msg, "io-loop"));
	assert_non_null(strstr(hint, "setswitchinterval"));
	assert_non_null(strstr(hint, "thread 101 (cruncher)"));
	assert_string_equal(msg, "convoy: thread 102 (io-loop) waits 5.00 ms for the GIL after "
				 "each I/O (29 times)");
	assert_string_equal(hint, "lower sys.setswitchinterval() or move CPU-bound work to "
				  "processes; thread 101 (cruncher) holds the GIL most (99%)");
	assert_string_equal(diagnosis_text__kind(d[0].kind), "convoy");
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
	char msg[DIAG_TEXT], hint[DIAG_TEXT];
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
	assert_int_equal(d[0].tgid, PID);
	assert_int_equal(d[0].count, 300);
	/* A holds 40 + 19 us a round, B 29 us: 59 / 88 */
	assert_int_equal(d[0].holder_tid, A);
	assert_true(d[0].holder_share > 0.6704 && d[0].holder_share < 0.6705);
	render(&d[0], eng, msg, hint);
	assert_non_null(strstr(hint, "thread 101 (cruncher)"));
	assert_string_equal(msg, "GIL battle in process 100: 0.50 failed wake-ups per acquisition "
				 "(300), most in thread 102 (io-loop)");
	assert_string_equal(hint, "CPU-bound threads fight over the GIL: move them to processes or "
				  "pin to one CPU; thread 101 (cruncher) holds the GIL most (67%)");
	assert_string_equal(diagnosis_text__kind(d[0].kind), "gil-battle");
	engine__free(eng);
}

static void test_starved_interval(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	char msg[DIAG_TEXT], hint[DIAG_TEXT];

	(void)state;
	feed(eng, 0, GIL_EV_ACQUIRE, A);
	feed(eng, 50 * MS, GIL_EV_WAIT, B);
	engine__tick(eng, 1000 * MS);
	/* B waited 95% of the interval and still waits. */
	assert_int_equal(diagnose__run(eng, DIAG_INTERVAL, d, DIAG_MAX), 1);
	assert_int_equal(d[0].kind, DIAG_STARVED);
	assert_int_equal(d[0].tid, B);
	assert_true(d[0].figure > 0.94 && d[0].figure < 0.96);
	assert_int_equal(d[0].count, 0);
	/* A held the GIL the whole interval, B never */
	assert_int_equal(d[0].holder_tid, A);
	assert_true(d[0].holder_share > 0.9999 && d[0].holder_share <= 1.0);
	render(&d[0], eng, msg, hint);
	assert_non_null(strstr(hint, "thread 101 (cruncher)"));
	assert_string_equal(msg, "starved: thread 102 (io-loop) waited for the GIL 95% of the time");
	assert_string_equal(hint, "shorten the GIL holder's pure-Python stretches or move it to a "
				  "process; thread 101 (cruncher) holds the GIL most (100%)");
	assert_string_equal(diagnosis_text__kind(d[0].kind), "starved");
	/* Over the run, B's wait has not ended: nothing measured yet. */
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 0);
	/* Once it ends, the run view sees it too. */
	feed(eng, 1000 * MS, GIL_EV_FORCED_RELEASE, A);
	feed(eng, 1000 * MS + 1, GIL_EV_ACQUIRE, B);
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 1);
	assert_int_equal(d[0].kind, DIAG_STARVED);
	engine__free(eng);
}

/* Words for a diagnosis whose thread the engine does not name and with
 * no holder: "?" for the name, the advice alone as the hint. */
static void test_text_without_names_or_holder(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d = { .kind = DIAG_STARVED, .tgid = PID, .tid = 999, .figure = 0.9 };
	char msg[DIAG_TEXT], hint[DIAG_TEXT];

	(void)state;
	render(&d, eng, msg, hint);
	assert_string_equal(msg, "starved: thread 999 (?) waited for the GIL 90% of the time");
	assert_string_equal(hint, "shorten the GIL holder's pure-Python stretches or move it to a "
				  "process");
	d.kind = DIAG_CONVOY;
	d.figure = 1.5 * MS;
	d.count = 7;
	render(&d, eng, msg, hint);
	assert_string_equal(msg, "convoy: thread 999 (?) waits 1.50 ms for the GIL after each I/O "
				 "(7 times)");
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
		cmocka_unit_test(test_text_without_names_or_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
