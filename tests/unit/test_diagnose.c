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

/* The diagnosis of kind k among d[0..n), NULL if none. */
static const struct diagnosis *find(const struct diagnosis *d, size_t n, enum diag_kind k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (d[i].kind == k)
			return &d[i];
	return NULL;
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
	const struct diagnosis *c;
	char msg[DIAG_TEXT], hint[DIAG_TEXT];
	size_t n;

	(void)state;
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	/* A CPU-bound thread beside an I/O thread: latency, hog, convoy. */
	assert_int_equal(n, 3);
	assert_int_equal(d[0].kind, DIAG_LATENCY);
	assert_int_equal(d[1].kind, DIAG_HOG);
	c = &d[2];
	assert_int_equal(c->kind, DIAG_CONVOY);
	assert_int_equal(c->tgid, PID);
	assert_int_equal(c->tid, B);
	assert_true(c->figure > 4.9 * MS && c->figure < 5.1 * MS);
	/* Rounds 1-29 come back from I/O to a held GIL; round 0's wait
	 * follows no release. */
	assert_int_equal(c->count, 29);
	assert_int_equal(c->threads, 1);
	/* A holds 5.1 ms + 29 x 9.9 ms, B 30 x 99.98 us: 292.2 / 295.1994 */
	assert_int_equal(c->holder_tid, A);
	assert_true(c->holder_share > 0.98983 && c->holder_share < 0.98985);
	render(c, eng, msg, hint);
	assert_non_null(strstr(msg, "io-loop"));
	assert_non_null(strstr(hint, "setswitchinterval"));
	assert_non_null(strstr(hint, "thread 101 (cruncher)"));
	assert_string_equal(msg, "convoy: thread 102 (io-loop) waits 5.00 ms for the GIL after "
				 "each I/O (29 times)");
	assert_string_equal(hint, "lower sys.setswitchinterval() or move CPU-bound work to "
				  "processes; thread 101 (cruncher) holds the GIL most (99%)");
	assert_string_equal(diagnosis_text__kind(c->kind), "convoy");
	/* cap is respected */
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, 0), 0);
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, 1), 1);
	assert_int_equal(d[0].kind, DIAG_LATENCY);
	engine__free(eng);
}

static void test_convoy_needs_repetition(void **state)
{
	struct engine *eng = convoy_stream(10);
	struct diagnosis d[DIAG_MAX];
	size_t n;

	(void)state;
	/* 9 contended waits after I/O: an anecdote, not a convoy. */
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	assert_null(find(d, n, DIAG_CONVOY));
	engine__free(eng);
}

/* The hog and the latency it causes, with their figures and words. */
static void test_hog_and_latency(void **state)
{
	struct engine *eng = convoy_stream(30);
	struct diagnosis d[DIAG_MAX];
	const struct diagnosis *l, *h;
	char msg[DIAG_TEXT], hint[DIAG_TEXT];
	size_t n;

	(void)state;
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	l = find(d, n, DIAG_LATENCY);
	h = find(d, n, DIAG_HOG);
	assert_non_null(l);
	assert_non_null(h);
	/* 295.2 ms from the first event to the last, A and B holding all of
	 * it but the hand-offs; B waits 5 ms a round while A holds, A 100 us
	 * while B holds: 30 x 5.1 ms / 295.2 ms */
	assert_int_equal(l->tid, 0);
	assert_true(l->utilisation > 0.99 && l->utilisation <= 1.0);
	assert_true(l->figure > 0.518 && l->figure < 0.519);
	assert_int_equal(l->count, 2); /* A waits 10 ns a round after B's I/O */
	assert_true(l->wait_p99_ns > 4.9 * MS && l->wait_p99_ns < 5.1 * MS);
	assert_int_equal(l->holder_tid, A);
	render(l, eng, msg, hint);
	assert_string_equal(msg, "GIL-bound latency: the GIL is held 100% of the time and 0.52 "
				 "threads on average wait behind its holder (2 threads waited; "
				 "p99 wait 5.00 ms)");
	assert_string_equal(hint, "giltrace blame names the code holding it; move CPU-bound Python "
				  "work to processes or to C code that releases the GIL; thread 101 "
				  "(cruncher) holds the GIL most (99%)");
	assert_string_equal(diagnosis_text__kind(l->kind), "gil-latency");
	assert_int_equal(h->tid, A);
	assert_true(h->figure > 0.98 && h->figure <= 1.0);
	assert_true(h->holder_share > 0.98983 && h->holder_share < 0.98985);
	render(h, eng, msg, hint);
	assert_string_equal(msg, "hog: thread 101 (cruncher) holds the GIL 99% of the time (99% of "
				 "all holds) while others wait behind it");
	assert_string_equal(hint, "move this thread's work to a process; giltrace blame names its "
				  "code");
	assert_string_equal(diagnosis_text__kind(h->kind), "hog");
	engine__free(eng);
}

/* Four pool threads take turns holding the GIL 1 ms each, the other three
 * waiting: GIL-bound latency, but no hog, since no thread holds most. */
static void test_pool_latency_without_hog(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	__u64 ts = 0;
	size_t n;
	int i, k;

	(void)state;
	for (k = 0; k < 4; k++)
		feed(eng, 0, GIL_EV_WAIT, 200 + k);
	for (i = 0; i < 400; i++) {
		__u32 tid = 200 + i % 4;

		feed(eng, ts, GIL_EV_ACQUIRE, tid);
		feed(eng, ts + MS, GIL_EV_FORCED_RELEASE, tid);
		feed(eng, ts + MS + 1, GIL_EV_WAIT, tid);
		ts += MS + 10;
	}
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].kind, DIAG_LATENCY);
	/* three threads wait behind each 1 ms hold */
	assert_true(d[0].figure > 2.9 && d[0].figure < 3.0);
	assert_int_equal(d[0].count, 4);
	assert_true(d[0].wait_p99_ns > 2.9 * MS && d[0].wait_p99_ns < 3.1 * MS);
	assert_true(d[0].holder_share > 0.24 && d[0].holder_share < 0.26);
	/* 400 forced switches in 0.4 s: 1000/s is the switching threshold */
	engine__free(eng);
}

/* Threads come back from C code that released the GIL and wait 3 ms
 * each time, but for a CPU, with the GIL free: the GIL is not the
 * problem, and their waits after a release are no convoy. */
static void test_waits_on_a_free_gil_are_healthy(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	char msg[DIAG_TEXT], hint[DIAG_TEXT];
	__u64 ts;
	size_t n;

	(void)state;
	for (ts = 0; ts < 1000 * MS; ts += 10 * MS) {
		feed(eng, ts, GIL_EV_WAIT, A);
		feed(eng, ts + 3 * MS, GIL_EV_ACQUIRE, A);
		feed(eng, ts + 3 * MS + 100 * US, GIL_EV_RELEASE, A);
		feed(eng, ts + 5 * MS, GIL_EV_WAIT, B);
		feed(eng, ts + 8 * MS, GIL_EV_ACQUIRE, B);
		feed(eng, ts + 8 * MS + 100 * US, GIL_EV_RELEASE, B);
	}
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].kind, DIAG_HEALTHY);
	assert_int_equal(d[0].tid, 0);
	assert_true(d[0].utilisation > 0.019 && d[0].utilisation < 0.021);
	assert_true(d[0].figure == 0.0);
	assert_int_equal(d[0].count, 2);
	render(&d[0], eng, msg, hint);
	assert_string_equal(msg, "the GIL is not your problem: it is held 2% of the time and 0.00 "
				 "threads on average wait behind its holder");
	assert_string_equal(hint, "look elsewhere: CPU, I/O, locks, or C code (which runs without "
				  "the GIL)");
	assert_string_equal(diagnosis_text__kind(d[0].kind), "healthy");
	engine__free(eng);
}

/* A switch interval lowered to 200 us: two CPU-bound threads forced off
 * 5000 times a second, each waiting 200 us at a time, half its time: GIL-
 * bound latency too, but no hog. */
static void test_switching(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	char msg[DIAG_TEXT], hint[DIAG_TEXT];
	__u64 ts = 0;
	size_t n;
	int i;

	(void)state;
	feed(eng, 0, GIL_EV_WAIT, B);
	for (i = 0; i < 5000; i++, ts += 200 * US) {
		__u32 tid = i % 2 ? B : A;

		feed(eng, ts, GIL_EV_ACQUIRE, tid);
		feed(eng, ts + 200 * US - 1, GIL_EV_FORCED_RELEASE, tid);
		feed(eng, ts + 200 * US - 1, GIL_EV_WAIT, tid);
	}
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].kind, DIAG_LATENCY);
	assert_true(d[0].figure > 0.99 && d[0].figure <= 1.0);
	assert_true(d[0].wait_p99_ns < 201 * US);
	assert_null(find(d, n, DIAG_HOG));
	assert_int_equal(d[1].kind, DIAG_SWITCHING);
	assert_true(d[1].figure > 4999 && d[1].figure < 5001);
	render(&d[1], eng, msg, hint);
	assert_string_equal(msg, "switching too often: the GIL is forced from thread to thread "
				 "5000 times a second (every 200 us)");
	assert_string_equal(hint, "each forced switch costs two context switches and cold caches: "
				  "raise sys.setswitchinterval() (default 5 ms); thread 101 "
				  "(cruncher) holds the GIL most (50%)");
	assert_string_equal(diagnosis_text__kind(d[1].kind), "switching");
	engine__free(eng);
}

/* A holds the GIL for 50 ms at a time; B asks for it after 5 ms. A lets
 * go delay_us after the request: C code (30 ms) or Python (0.1 ms). */
static struct engine *asked_stream(int rounds, __u64 delay_us)
{
	struct engine *eng = new_engine();
	int k;

	for (k = 0; k < rounds; k++) {
		__u64 base = (__u64)k * 60 * MS;

		feed(eng, base, GIL_EV_ACQUIRE, A);
		feed(eng, base + 10 * US, GIL_EV_WAIT, B);
		feed(eng, base + 5 * MS, GIL_EV_TIMEOUT, B);
		feed(eng, base + 5 * MS, GIL_EV_DROP_REQUEST, B);
		feed(eng, base + 5 * MS + delay_us * US, GIL_EV_FORCED_RELEASE, A);
		feed(eng, base + 5 * MS + delay_us * US + 10, GIL_EV_ACQUIRE, B);
		feed(eng, base + 59 * MS, GIL_EV_RELEASE, B);
	}
	return eng;
}

static void test_c_hold(void **state)
{
	struct engine *eng = asked_stream(6, 30000);
	struct diagnosis d[DIAG_MAX];
	const struct diagnosis *c;
	char msg[DIAG_TEXT], hint[DIAG_TEXT];
	size_t n;

	(void)state;
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	c = find(d, n, DIAG_C_HOLD);
	assert_non_null(c);
	assert_int_equal(c->tid, A);
	assert_int_equal(c->count, 6);
	assert_true(c->figure > 29.9 * MS && c->figure < 30.1 * MS);
	render(c, eng, msg, hint);
	assert_string_equal(msg, "C code holding the GIL: thread 101 (cruncher) kept it long after "
				 "a waiter asked for it, 6 times (up to 30.0 ms); Python lets go at "
				 "once");
	assert_non_null(strstr(hint, "Py_BEGIN_ALLOW_THREADS"));
	assert_string_equal(diagnosis_text__kind(c->kind), "c-hold");
	engine__free(eng);
	/* Four such holds are not yet a pattern. */
	eng = asked_stream(4, 30000);
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	assert_null(find(d, n, DIAG_C_HOLD));
	engine__free(eng);
	/* Python, forced off 100 us after the request, is no C hold. */
	eng = asked_stream(20, 100);
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	assert_null(find(d, n, DIAG_C_HOLD));
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
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 1);
	assert_int_equal(d[0].kind, DIAG_HEALTHY);
	assert_int_equal(diagnose__run(eng, DIAG_INTERVAL, d, DIAG_MAX), 1);
	assert_int_equal(d[0].kind, DIAG_HEALTHY);
	assert_true(d[0].utilisation > 0.49 && d[0].utilisation < 0.51);
	engine__free(eng);
}

static void test_battle(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	char msg[DIAG_TEXT], hint[DIAG_TEXT];
	__u64 ts = 0;
	const struct diagnosis *b;
	size_t n;
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
	n = diagnose__run(eng, DIAG_RUN, d, DIAG_MAX);
	/* B waits 60 us in every 100 behind A, which holds 67% of the GIL:
	 * latency and a hog; then the battle, and a GIL forced off 20 000
	 * times a second. */
	assert_int_equal(n, 4);
	assert_int_equal(d[0].kind, DIAG_LATENCY);
	assert_int_equal(d[1].kind, DIAG_HOG);
	assert_int_equal(d[3].kind, DIAG_SWITCHING);
	b = &d[2];
	assert_int_equal(b->kind, DIAG_BATTLE);
	assert_int_equal(b->tid, B);
	/* 300 retries / 600 acquisitions */
	assert_true(b->figure > 0.49 && b->figure < 0.51);
	assert_int_equal(b->tgid, PID);
	assert_int_equal(b->count, 300);
	/* A holds 40 + 19 us a round, B 29 us: 59 / 88 */
	assert_int_equal(b->holder_tid, A);
	assert_true(b->holder_share > 0.6704 && b->holder_share < 0.6705);
	render(b, eng, msg, hint);
	assert_non_null(strstr(hint, "thread 101 (cruncher)"));
	assert_string_equal(msg, "GIL battle in process 100: 0.50 failed wake-ups per acquisition "
				 "(300), most in thread 102 (io-loop)");
	assert_string_equal(hint, "CPU-bound threads fight over the GIL: move them to processes or "
				  "pin to one CPU; thread 101 (cruncher) holds the GIL most (67%)");
	assert_string_equal(diagnosis_text__kind(b->kind), "gil-battle");
	engine__free(eng);
}

static void test_starved_interval(void **state)
{
	struct engine *eng = new_engine();
	struct diagnosis d[DIAG_MAX];
	const struct diagnosis *st;
	char msg[DIAG_TEXT], hint[DIAG_TEXT];

	(void)state;
	feed(eng, 0, GIL_EV_ACQUIRE, A);
	feed(eng, 50 * MS, GIL_EV_WAIT, B);
	engine__tick(eng, 1000 * MS);
	/* B waited 95% of the interval and still waits, behind A: latency,
	 * a hog, and B starved. */
	assert_int_equal(diagnose__run(eng, DIAG_INTERVAL, d, DIAG_MAX), 3);
	assert_int_equal(d[0].kind, DIAG_LATENCY);
	assert_true(d[0].figure > 0.94 && d[0].figure < 0.96);
	assert_int_equal(d[0].wait_p99_ns, 0);
	assert_int_equal(d[1].kind, DIAG_HOG);
	assert_int_equal(d[1].tid, A);
	st = &d[2];
	assert_int_equal(st->kind, DIAG_STARVED);
	assert_int_equal(st->tid, B);
	assert_true(st->figure > 0.94 && st->figure < 0.96);
	assert_int_equal(st->count, 0);
	/* A held the GIL the whole interval, B never */
	assert_int_equal(st->holder_tid, A);
	assert_true(st->holder_share > 0.9999 && st->holder_share <= 1.0);
	render(st, eng, msg, hint);
	assert_non_null(strstr(hint, "thread 101 (cruncher)"));
	assert_string_equal(msg, "starved: thread 102 (io-loop) waited for the GIL 95% of the time");
	assert_string_equal(hint, "shorten the GIL holder's pure-Python stretches or move it to a "
				  "process; thread 101 (cruncher) holds the GIL most (100%)");
	assert_string_equal(diagnosis_text__kind(st->kind), "starved");
	/* Over the run, B's wait has not ended: nothing measured yet. */
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 0);
	/* Once it ends, the run view sees it too. */
	feed(eng, 1000 * MS, GIL_EV_FORCED_RELEASE, A);
	feed(eng, 1000 * MS + 1, GIL_EV_ACQUIRE, B);
	assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), 3);
	assert_int_equal(d[2].kind, DIAG_STARVED);
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
		cmocka_unit_test(test_hog_and_latency),
		cmocka_unit_test(test_pool_latency_without_hog),
		cmocka_unit_test(test_waits_on_a_free_gil_are_healthy),
		cmocka_unit_test(test_switching),
		cmocka_unit_test(test_c_hold),
		cmocka_unit_test(test_single_thread_is_healthy),
		cmocka_unit_test(test_battle),
		cmocka_unit_test(test_starved_interval),
		cmocka_unit_test(test_text_without_names_or_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
