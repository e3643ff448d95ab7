/* Free-threaded CPython's GIL (engine/ft_gil.c, views/ft_gil_text.c): off,
 * on from the start, or back at a time by an import, from GIL_STATE
 * readings and GIL_ENABLED events built by hand as BPF emits them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/diagnose.h"
#include "engine/engine.h"
#include "views/ft_gil_text.h"

#define PID 300
#define MAIN 300
#define A 301
#define B 302
#define MS 1000000ULL
#define FT GIL_STATE_FREE_THREADED

static void feed(struct engine *eng, __u64 ts, enum gil_event_kind kind, __u32 tid)
{
	struct gil_event ev = { .ts = ts, .addr = 0x1000, .tgid = PID, .tid = tid, .kind = kind };

	engine__feed(eng, &ev);
}

static void reading(struct engine *eng, __u64 ts, __u64 sn, __s32 flags)
{
	struct gil_event ev = { .ts = ts, .addr = 0x1000, .tgid = PID, .value = sn,
				.ret = flags | GIL_STATE_NO_HOLDER, .kind = GIL_EV_GIL_STATE };

	engine__feed(eng, &ev);
}

/* What BPF emits when the import of name turned the GIL on: the event,
 * then 16 more bytes of the name per record as long as there are any. */
static void enabled(struct engine *eng, __u64 ts, __u32 tid, const char *name, __s32 flags)
{
	char text[FT_GIL_NAME_MAX + 8] = "";
	size_t len = strlen(name);

	strncpy(text, name, FT_GIL_NAME_MAX);
	for (unsigned int c = 0; c * FT_GIL_CHUNK < (len ? len : 1) && c < 3; c++) {
		struct gil_event ev = { .ts = ts, .tgid = PID, .tid = tid, .ret = flags | (__s32)c,
					.kind = GIL_EV_GIL_ENABLED };

		memcpy(&ev.addr, text + c * FT_GIL_CHUNK, 8);
		memcpy(&ev.value, text + c * FT_GIL_CHUNK + 8, 8);
		engine__feed(eng, &ev);
	}
}

static const struct engine_proc *proc(const struct engine *eng)
{
	const struct engine_proc *p[4];

	assert_int_equal(engine__procs(eng, p, 4), 1);
	return p[0];
}

static void line(const struct engine *eng, char *buf)
{
	const struct engine_proc *p = proc(eng);
	struct engine_totals tot;

	engine__totals(eng, &tot);
	assert_int_equal(ft_gil_text__line(buf, FT_GIL_TEXT, p, tot.first_ts), 1);
}

/* Two threads taking turns from t (ms), n hand-offs. */
static void contend(struct engine *eng, __u64 t, int n)
{
	for (int i = 0; i < n; i++) {
		__u32 tid = i % 2 ? B : A;

		feed(eng, (t + 2 * i) * MS, GIL_EV_ACQUIRE, tid);
		feed(eng, (t + 2 * i + 1) * MS, GIL_EV_FORCED_RELEASE, tid);
	}
}

static void test_reenabled_by_an_import(void **state)
{
	struct engine *eng = engine__new(NULL);
	const struct ft_gil *ft;
	char buf[FT_GIL_TEXT];

	(void)state;
	reading(eng, 1000 * MS, 0, FT | GIL_STATE_GIL_OFF);
	reading(eng, 1100 * MS, 0, FT | GIL_STATE_GIL_OFF);
	enabled(eng, 2230 * MS, MAIN, "a_module_named_longer_than_16", 0);
	contend(eng, 2240, 10);
	reading(eng, 2300 * MS, 10, FT | GIL_STATE_GIL_FOR_GOOD | GIL_STATE_END);
	ft = &proc(eng)->ft;
	assert_true(ft->free_threaded && ft->off_at_first && !ft->on_at_first);
	assert_int_equal(ft->enabled_ts, 2230 * MS);
	assert_int_equal(ft->enabled_tid, MAIN);
	assert_string_equal(ft->module, "a_module_named_longer_than_16");
	assert_false(ft_gil__off(ft));
	assert_string_equal(ft_gil_text__state(ft), "re_enabled");
	line(eng, buf);
	assert_string_equal(buf, "GIL re-enabled at 1.23 s by import of "
			    "a_module_named_longer_than_16 (not marked free-threading safe), "
			    "in thread 300");
	/* The readings also saw it come back: the exact moment wins. */
	assert_int_equal(ft->on_by_ts, 2300 * MS);
	engine__free(eng);
}

/* A name the target chose is printed safe, and one cut at 48 bytes says so. */
static void test_name_cut_and_cleaned(void **state)
{
	struct engine *eng = engine__new(NULL);
	char buf[FT_GIL_TEXT], want[FT_GIL_TEXT];
	const char *name = "pkg.sub.\x1b[2J_a_very_long_extension_module_name_cut_here";

	(void)state;
	reading(eng, 1000 * MS, 0, FT | GIL_STATE_GIL_OFF);
	enabled(eng, 1500 * MS, A, name, FT_GIL_NAME_CUT);
	assert_int_equal(strlen(proc(eng)->ft.module), FT_GIL_NAME_MAX);
	assert_memory_equal(proc(eng)->ft.module, name, FT_GIL_NAME_MAX);
	line(eng, buf);
	snprintf(want, sizeof(want), "GIL re-enabled at 0.50 s by import of pkg.sub.?[2J%.*s... "
		 "(not marked free-threading safe), in thread 301", FT_GIL_NAME_MAX - 12,
		 name + 12);
	assert_string_equal(buf, want);
	engine__free(eng);
}

/* BPF could not read the name: the moment is still exact. A later event
 * (another chunk 0, a chunk of another time) changes nothing. */
static void test_name_unknown_and_strays(void **state)
{
	struct engine *eng = engine__new(NULL);
	char buf[FT_GIL_TEXT];

	(void)state;
	reading(eng, 1000 * MS, 0, FT | GIL_STATE_GIL_OFF);
	enabled(eng, 1250 * MS, A, "", FT_GIL_NAME_UNKNOWN);
	enabled(eng, 1900 * MS, B, "other", 0);
	{
		struct gil_event stray = { .ts = 1950 * MS, .tgid = PID, .tid = A, .ret = 1,
					   .addr = 0x4141414141414141ull,
					   .kind = GIL_EV_GIL_ENABLED };

		engine__feed(eng, &stray);
	}
	assert_int_equal(proc(eng)->ft.enabled_ts, 1250 * MS);
	assert_string_equal(proc(eng)->ft.module, "");
	line(eng, buf);
	assert_string_equal(buf, "GIL re-enabled at 0.25 s by the import of a module not marked "
			    "free-threading safe (its name was not read), in thread 301");
	engine__free(eng);
}

/* No probe in this build: the readings bracket the moment. */
static void test_reenabled_by_the_readings(void **state)
{
	struct engine *eng = engine__new(NULL);
	char buf[FT_GIL_TEXT];

	(void)state;
	reading(eng, 1000 * MS, 0, FT | GIL_STATE_GIL_OFF);
	reading(eng, 1100 * MS, 0, FT | GIL_STATE_GIL_OFF);
	reading(eng, 1200 * MS, 0, FT); /* an import in progress: on for the moment */
	reading(eng, 1300 * MS, 3, FT | GIL_STATE_GIL_FOR_GOOD);
	reading(eng, 1400 * MS, 9, FT | GIL_STATE_GIL_FOR_GOOD);
	assert_int_equal(proc(eng)->ft.on_after_ts, 1100 * MS);
	assert_int_equal(proc(eng)->ft.on_by_ts, 1300 * MS);
	line(eng, buf);
	assert_string_equal(buf, "GIL re-enabled between 0.10 s and 0.30 s (found by the readings "
			    "of gil->enabled; this build's import check was not probed)");
	engine__free(eng);
}

static void test_on_from_the_start(void **state)
{
	struct engine *eng = engine__new(NULL);
	char buf[FT_GIL_TEXT];

	(void)state;
	reading(eng, 1000 * MS, 0, FT | GIL_STATE_GIL_FOR_GOOD);
	contend(eng, 1001, 6);
	reading(eng, 1100 * MS, 6, FT | GIL_STATE_GIL_FOR_GOOD | GIL_STATE_END);
	assert_true(proc(eng)->ft.on_at_first);
	assert_string_equal(ft_gil_text__state(&proc(eng)->ft), "on_from_start");
	line(eng, buf);
	assert_true(strstr(buf, "GIL on from the start of the trace") == buf);
	engine__free(eng);
}

/* Off the whole trace: no healthy verdict (there was no GIL to be healthy),
 * and the line says nothing contends for it. The same events on a GIL
 * build's readings get their verdict. */
static void test_off_is_not_healthy(void **state)
{
	struct diagnosis d[DIAG_MAX];
	char buf[FT_GIL_TEXT];

	(void)state;
	for (int ft = 0; ft < 2; ft++) {
		struct engine *eng = engine__new(NULL);
		__s32 flags = ft ? FT | GIL_STATE_GIL_OFF : 0;

		reading(eng, 1000 * MS, 0, flags);
		/* an import at start-up: the GIL on for the moment, one thread */
		feed(eng, 1001 * MS, GIL_EV_ACQUIRE, MAIN);
		feed(eng, 1002 * MS, GIL_EV_RELEASE, MAIN);
		reading(eng, 1100 * MS, 0, flags | GIL_STATE_END);
		assert_int_equal(ft_gil__off(&proc(eng)->ft), ft);
		assert_int_equal(diagnose__run(eng, DIAG_RUN, d, DIAG_MAX), !ft);
		if (ft) {
			line(eng, buf);
			assert_true(strstr(buf, "GIL off: a free-threaded CPython whose GIL was never "
					   "enabled for good, so nothing contends for it (the "
					   "acquisitions counted were made while extension modules "
					   "were imported") == buf);
		} else {
			assert_int_equal(d[0].kind, DIAG_HEALTHY);
			assert_null(ft_gil_text__state(&proc(eng)->ft));
			assert_int_equal(ft_gil_text__line(buf, sizeof(buf), proc(eng), 0), 0);
			assert_string_equal(buf, "");
		}
		engine__free(eng);
	}
}

/* Off, but an import turned it on for the moment while two threads ran:
 * the wait is real and said, not "nothing contends". */
static void test_off_but_waited_during_an_import(void **state)
{
	struct engine *eng = engine__new(NULL);
	char buf[FT_GIL_TEXT];

	(void)state;
	reading(eng, 1000 * MS, 0, FT | GIL_STATE_GIL_OFF);
	feed(eng, 1001 * MS, GIL_EV_ACQUIRE, A);
	feed(eng, 1002 * MS, GIL_EV_WAIT, B);
	feed(eng, 1005 * MS, GIL_EV_RELEASE, A);
	feed(eng, 1005 * MS, GIL_EV_ACQUIRE, B);
	feed(eng, 1006 * MS, GIL_EV_RELEASE, B);
	reading(eng, 1100 * MS, 1, FT | GIL_STATE_GIL_OFF | GIL_STATE_END);
	assert_true(ft_gil__off(&proc(eng)->ft));
	assert_int_equal(proc(eng)->wait_held_ns, 3 * MS);
	line(eng, buf);
	assert_string_equal(buf, "GIL off but while extension modules were imported (on for the "
			    "moment then): its threads waited 3.00 ms for it in those windows");
	engine__free(eng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reenabled_by_an_import),
		cmocka_unit_test(test_name_cut_and_cleaned),
		cmocka_unit_test(test_name_unknown_and_strays),
		cmocka_unit_test(test_reenabled_by_the_readings),
		cmocka_unit_test(test_on_from_the_start),
		cmocka_unit_test(test_off_is_not_healthy),
		cmocka_unit_test(test_off_but_waited_during_an_import),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
