/*
 * The forced holder's function (HOLDER_FRAME, user/engine/holder.c): each
 * forced hold charged to the frame sampled at its release (the same ts),
 * ids merged by function, file and line, the thread that held it longest,
 * how many forced switches were sampled; the summary's line and JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "blame.h"
#include "engine/engine.h"
#include "trace_meta.h"
#include "views/holder_text.h"
#include "views/summary.h"

#define MS 1000000ull
#define TGID 100
#define A 101
#define B 102
#define C 103
#define ID_CPU 0x1000   /* cpu() app.py:16 */
#define ID_CPU2 0x1001  /* cpu() app.py:16 again: another instruction, same line */
#define ID_IO 0x2000    /* read() io.py:7 */
#define ID_NONAME 0x3000 /* no stack record names it */

static void feed(struct engine *eng, __u64 ts, __u16 kind, __u32 tid, __u64 value)
{
	struct gil_event ev = { .ts = ts, .kind = kind, .tgid = TGID, .tid = tid, .value = value };

	engine__feed(eng, &ev);
}

/* A hold of tid from start to end, forced off at end with frame id sampled
 * there (0: no sample). */
static void forced_hold(struct engine *eng, __u32 tid, __u64 start, __u64 end, __u64 id)
{
	feed(eng, start, GIL_EV_ACQUIRE, tid, 0);
	if (id)
		feed(eng, end, GIL_EV_HOLDER_FRAME, tid, id);
	feed(eng, end, GIL_EV_FORCED_RELEASE, tid, 0);
}

static struct engine *named_engine(void)
{
	struct engine *eng = engine__new(NULL);

	engine__name_code(eng, TGID, ID_CPU, "cpu", "/srv/app.py", 16);
	engine__name_code(eng, TGID, ID_CPU2, "cpu", "/srv/app.py", 16);
	engine__name_code(eng, TGID, ID_IO, "read", "/srv/io.py", 7);
	/* A second naming of an id is ignored. */
	engine__name_code(eng, TGID, ID_CPU, "other", "/srv/other.py", 1);
	engine__name_thread(eng, TGID, TGID, "python3");
	engine__name_thread(eng, TGID, A, "worker_1");
	engine__name_thread(eng, TGID, B, "worker_2");
	engine__name_thread(eng, TGID, C, "python3");
	return eng;
}

/* Each sampled forced hold goes to its function; ids of one line merge;
 * the longest holder of the function is named; a forced release without a
 * sample counts as a forced switch, not sampled. */
static void test_attribution(void **state)
{
	struct engine *eng = named_engine();
	struct engine_forced_holders h;

	(void)state;
	forced_hold(eng, A, 0, 10 * MS, ID_CPU);      /* A: cpu 10 ms */
	forced_hold(eng, B, 10 * MS, 14 * MS, ID_CPU2); /* B: cpu 4 ms */
	forced_hold(eng, A, 14 * MS, 20 * MS, ID_CPU2); /* A: cpu 6 ms */
	forced_hold(eng, B, 20 * MS, 24 * MS, ID_IO);   /* B: read 4 ms */
	forced_hold(eng, A, 24 * MS, 30 * MS, 0);       /* not sampled */
	assert_int_equal(engine__forced_holders(eng, TGID, &h), 0);
	assert_int_equal(h.forced_switches, 5);
	assert_int_equal(h.sampled, 4);
	assert_int_equal(h.sampled_ns, 24 * MS);
	assert_int_equal(h.unknown, 0);
	assert_int_equal(h.nfns, 2);
	assert_string_equal(h.fns[0].name, "cpu");
	assert_string_equal(h.fns[0].file, "/srv/app.py");
	assert_int_equal(h.fns[0].line, 16);
	assert_int_equal(h.fns[0].hold_ns, 20 * MS);
	assert_int_equal(h.fns[0].samples, 3);
	assert_int_equal(h.fns[0].tid, A);
	assert_int_equal(h.fns[0].tid_hold_ns, 16 * MS);
	assert_int_equal(h.fns[0].nthreads, 2);
	assert_true(h.fns[0].share > 0.8333 && h.fns[0].share < 0.8334);
	assert_string_equal(h.fns[1].name, "read");
	assert_int_equal(h.fns[1].hold_ns, 4 * MS);
	assert_int_equal(h.fns[1].tid, B);
	engine__forced_holders_free(&h);
	engine__free(eng);
}

/* Only the sample taken at the release itself counts: one at another ts
 * (a lost FORCED_RELEASE, a stale sample) and a voluntary release leave
 * the hold unsampled, and the sample is used once. */
static void test_sample_pairs_with_its_release(void **state)
{
	struct engine *eng = named_engine();
	struct engine_forced_holders h;

	(void)state;
	feed(eng, 0, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 5 * MS, GIL_EV_HOLDER_FRAME, A, ID_CPU);
	feed(eng, 6 * MS, GIL_EV_FORCED_RELEASE, A, 0);  /* another ts */
	feed(eng, 7 * MS, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 8 * MS, GIL_EV_HOLDER_FRAME, A, ID_CPU);
	feed(eng, 8 * MS, GIL_EV_RELEASE, A, 0);         /* voluntary */
	feed(eng, 9 * MS, GIL_EV_ACQUIRE, A, 0);
	feed(eng, 9 * MS, GIL_EV_FORCED_RELEASE, A, 0);  /* no sample of its own */
	assert_int_equal(engine__forced_holders(eng, TGID, &h), 0);
	assert_int_equal(h.forced_switches, 2);
	assert_int_equal(h.sampled, 0);
	assert_int_equal(h.nfns, 0);
	engine__forced_holders_free(&h);
	engine__free(eng);
}

/* Samples that name no function are counted and shown as such, never
 * guessed: BPF's unknown, an id without a stack record, no Python frame. */
static void test_unknown_frames(void **state)
{
	struct engine *eng = named_engine();
	struct engine_forced_holders h;

	(void)state;
	forced_hold(eng, A, 0, 3 * MS, BLAME_ID_UNKNOWN);
	forced_hold(eng, A, 3 * MS, 5 * MS, ID_NONAME);
	forced_hold(eng, C, 5 * MS, 6 * MS, BLAME_ID_NO_FRAMES);
	assert_int_equal(engine__forced_holders(eng, TGID, &h), 0);
	assert_int_equal(h.sampled, 3);
	assert_int_equal(h.unknown, 2);
	assert_int_equal(h.nfns, 2);
	assert_string_equal(h.fns[0].name, "[unknown]");
	assert_int_equal(h.fns[0].hold_ns, 5 * MS);
	assert_string_equal(h.fns[1].name, "[no Python frame]");
	engine__forced_holders_free(&h);
	engine__free(eng);
}

/* A hold whose acquisition was not seen (attached mid-hold, futex mode)
 * is sampled with no time: shares then fall back to sample counts. */
static void test_share_by_count_without_holds(void **state)
{
	struct engine *eng = named_engine();
	struct engine_forced_holders h;
	char line[HOLDER_TEXT];

	(void)state;
	feed(eng, 1 * MS, GIL_EV_HOLDER_FRAME, A, ID_CPU);
	feed(eng, 1 * MS, GIL_EV_FORCED_RELEASE, A, 0);
	feed(eng, 2 * MS, GIL_EV_HOLDER_FRAME, B, ID_IO);
	feed(eng, 2 * MS, GIL_EV_FORCED_RELEASE, B, 0);
	feed(eng, 3 * MS, GIL_EV_HOLDER_FRAME, B, ID_IO);
	feed(eng, 3 * MS, GIL_EV_FORCED_RELEASE, B, 0);
	assert_int_equal(engine__forced_holders(eng, TGID, &h), 0);
	assert_int_equal(h.sampled, 3);
	assert_int_equal(h.sampled_ns, 0);
	assert_int_equal(h.unmeasured, 3);
	assert_string_equal(h.fns[0].name, "read");
	assert_true(h.fns[0].share > 0.666 && h.fns[0].share < 0.667);
	engine__forced_holders_free(&h);
	assert_int_equal(holder_text__line(line, sizeof(line), eng, TGID), 1);
	assert_non_null(strstr(line, "67% of the forced holds' count, sampled at 3 of 3"));
	/* Once some hold is timed, the untimed ones are said apart. */
	forced_hold(eng, A, 4 * MS, 6 * MS, ID_CPU);
	assert_int_equal(holder_text__line(line, sizeof(line), eng, TGID), 1);
	assert_string_equal(line, "held mostly by worker_1 (tid 101) in cpu() app.py:16: 100% of "
				  "the forced holds' time, sampled at 4 of 4 forced switches (3 of "
				  "them with no measured start, not timed)");
	engine__free(eng);
}

/* The words: thread by name (by id when it has only the process's name),
 * function, file's last component and line, share, how exact. */
static void test_text_and_json(void **state)
{
	struct engine *eng = named_engine();
	struct trace_meta meta = { .pid = TGID };
	char line[HOLDER_TEXT], *buf = NULL;
	size_t len = 0;
	struct json_object *root, *procs, *fh, *fn;
	FILE *f;

	(void)state;
	assert_int_equal(holder_text__line(line, sizeof(line), eng, TGID), 0);
	forced_hold(eng, A, 0, 9 * MS, ID_CPU);
	forced_hold(eng, B, 9 * MS, 12 * MS, ID_IO);
	forced_hold(eng, A, 12 * MS, 13 * MS, 0);
	assert_int_equal(holder_text__line(line, sizeof(line), eng, TGID), 1);
	assert_string_equal(line, "held mostly by worker_1 (tid 101) in cpu() app.py:16: 75% of the "
				  "forced holds' time, sampled at 2 of 3 forced switches");
	forced_hold(eng, C, 13 * MS, 40 * MS, ID_IO);
	assert_int_equal(holder_text__line(line, sizeof(line), eng, TGID), 1);
	assert_string_equal(line, "held mostly by thread 103 (the longest of 2 threads) in read() "
				  "io.py:7: 77% of the forced holds' time, sampled at 3 of 4 "
				  "forced switches");

	f = open_memstream(&buf, &len);
	assert_int_equal(summary__print_text(f, eng, &meta), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\nforced holder: held mostly by thread 103"));
	free(buf);

	f = open_memstream(&buf, &len);
	assert_int_equal(summary__print_json(f, eng, &meta), 0);
	fclose(f);
	root = json_tokener_parse(buf);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "processes", &procs));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(procs, 0), "forced_holder",
					      &fh));
	assert_int_equal(json_object_get_uint64(json_object_object_get(fh, "forced_switches")), 4);
	assert_int_equal(json_object_get_uint64(json_object_object_get(fh, "sampled")), 3);
	fn = json_object_array_get_idx(json_object_object_get(fh, "functions"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(fn, "function")), "read");
	assert_string_equal(json_object_get_string(json_object_object_get(fn, "file")), "/srv/io.py");
	assert_int_equal(json_object_get_uint64(json_object_object_get(fn, "line")), 7);
	assert_int_equal(json_object_get_uint64(json_object_object_get(fn, "tid")), C);
	json_object_put(root);
	free(buf);
	engine__free(eng);
}

/* A target's names are its own text: control characters never reach the
 * terminal. */
static void test_hostile_names(void **state)
{
	struct engine *eng = engine__new(NULL);
	char line[HOLDER_TEXT];

	(void)state;
	engine__name_code(eng, TGID, ID_CPU, "c\x1b[2Jpu", "/x/a\npp.py", 3);
	forced_hold(eng, A, 0, 1 * MS, ID_CPU);
	assert_int_equal(holder_text__line(line, sizeof(line), eng, TGID), 1);
	assert_null(strchr(line, '\x1b'));
	assert_null(strchr(line, '\n'));
	assert_non_null(strstr(line, "c?[2Jpu() a?pp.py:3"));
	engine__free(eng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attribution),
		cmocka_unit_test(test_sample_pairs_with_its_release),
		cmocka_unit_test(test_unknown_frames),
		cmocka_unit_test(test_share_by_count_without_holds),
		cmocka_unit_test(test_text_and_json),
		cmocka_unit_test(test_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
