/* Summary views: JSON parsed back with json-c key by key; text checked for
 * what it must always say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "engine/engine.h"
#include "trace_meta.h"
#include "views/format.h"
#include "views/summary.h"

#define PID 4242
#define A 4243
#define B 4244
#define MS 1000000ULL

/* The names the toy VM's --gil-stats prints per thread. */
static const char *const gil_stats_keys[] = {
	"tid", "name", "acquisitions", "busy", "retries", "timeouts",
	"drop_requests", "forced_switches", "wait_ns", "hold_ns",
};

static void feed(struct engine *eng, __u64 ts, enum gil_event_kind kind, __u32 tid,
		 __u16 cpu, __u64 value, __s32 ret)
{
	struct gil_event ev = {
		.ts = ts, .tgid = PID, .tid = tid, .kind = kind, .cpu = cpu,
		.value = value, .ret = ret,
	};

	engine__feed(eng, &ev);
}

static struct engine *sample_engine(void)
{
	struct engine_opts opts = { 0 };
	struct engine *eng = engine__new(&opts);

	assert_non_null(eng);
	engine__name_thread(eng, PID, A, "main \"quoted\"\n");
	engine__name_thread(eng, PID, B, "worker");
	feed(eng, 1000 * MS, GIL_EV_ACQUIRE, A, 0, 0, 0);
	feed(eng, 1001 * MS, GIL_EV_WAIT, B, 1, 0, 0);
	feed(eng, 1006 * MS, GIL_EV_TIMEOUT, B, 1, 0, 0);
	feed(eng, 1006 * MS, GIL_EV_DROP_REQUEST, B, 1, 0, 0);
	feed(eng, 1006 * MS + 10, GIL_EV_FORCED_RELEASE, A, 0, 0, 0);
	feed(eng, 1006 * MS + 20, GIL_EV_SCHED_WAKEUP, B, 1, A, 0);
	feed(eng, 1006 * MS + 30, GIL_EV_SCHED_RUN, B, 1, 5000, 0);
	feed(eng, 1006 * MS + 40, GIL_EV_ACQUIRE, B, 1, 0, 0);
	feed(eng, 1007 * MS, GIL_EV_RETRY, A, 0, 0, 0);
	feed(eng, 1008 * MS, GIL_EV_RELEASE, B, 1, 0, 0);
	feed(eng, 0, GIL_EV_DROPS, 0, 0, 3, 0);
	return eng;
}

static void sample_meta(struct trace_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->pid = PID;
	m->ncpus = 4;
	strcpy(m->comm, "toyvm");
	strcpy(m->exe, "/usr/local/bin/toyvm");
	strcpy(m->runtime, "toyvm");
	strcpy(m->version, "1");
	strcpy(m->mode, "hooks");
	strcpy(m->kernel, "6.1.0");
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("missing key \"%s\"", key);
	return v;
}

static __u64 get_u64(struct json_object *o, const char *key)
{
	return json_object_get_uint64(get(o, key));
}

static struct json_object *thread_by_tid(struct json_object *threads, __u32 tid)
{
	size_t i;

	for (i = 0; i < json_object_array_length(threads); i++) {
		struct json_object *t = json_object_array_get_idx(threads, i);

		if (get_u64(t, "tid") == tid)
			return t;
	}
	fail_msg("no thread %u", tid);
	return NULL;
}

static void test_json(void **state)
{
	struct engine *eng = sample_engine();
	struct json_object *root, *threads, *a, *b, *cpus, *cpu, *totals, *target;
	struct trace_meta meta;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	sample_meta(&meta);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(summary__print_json(f, eng, &meta), 0);
	fclose(f);
	/* One object, one line. */
	assert_non_null(strchr(buf, '\n'));
	assert_true(strchr(buf, '\n') == buf + len - 1);
	root = json_tokener_parse(buf);
	assert_non_null(root);
	assert_true(json_object_is_type(root, json_type_object));

	target = get(root, "target");
	assert_int_equal(get_u64(target, "pid"), PID);
	assert_string_equal(json_object_get_string(get(target, "runtime")), "toyvm");
	assert_string_equal(json_object_get_string(get(target, "mode")), "hooks");
	assert_string_equal(json_object_get_string(get(target, "exe")), "/usr/local/bin/toyvm");
	assert_int_equal(get_u64(root, "duration_ns"), 8 * MS);
	assert_int_equal(get_u64(root, "drops"), 3);
	assert_int_equal(get_u64(root, "unpaired"), 0);

	threads = get(root, "threads");
	assert_int_equal(json_object_array_length(threads), 2);
	for (i = 0; i < sizeof(gil_stats_keys) / sizeof(gil_stats_keys[0]); i++) {
		get(json_object_array_get_idx(threads, 0), gil_stats_keys[i]);
		get(json_object_array_get_idx(threads, 1), gil_stats_keys[i]);
	}
	a = thread_by_tid(threads, A);
	b = thread_by_tid(threads, B);
	assert_int_equal(get_u64(a, "tgid"), PID);
	/* quotes escaped by JSON; the newline made '?' when the engine took the
	 * name (util/safe_text.h) */
	assert_string_equal(json_object_get_string(get(a, "name")), "main \"quoted\"?");
	assert_int_equal(get_u64(a, "acquisitions"), 1);
	assert_int_equal(get_u64(a, "busy"), 0);
	assert_int_equal(get_u64(a, "retries"), 1);
	assert_int_equal(get_u64(a, "forced_switches"), 1);
	assert_int_equal(get_u64(a, "hold_ns"), 6 * MS + 10);
	assert_int_equal(get_u64(b, "acquisitions"), 1);
	assert_int_equal(get_u64(b, "busy"), 1);
	assert_int_equal(get_u64(b, "timeouts"), 1);
	assert_int_equal(get_u64(b, "drop_requests"), 1);
	assert_int_equal(get_u64(b, "forced_switches"), 0);
	assert_int_equal(get_u64(b, "wait_ns"), 5 * MS + 40);
	assert_int_equal(get_u64(b, "wait_p50_ns"), 5 * MS + 40);
	assert_int_equal(get_u64(b, "wait_p99_ns"), 5 * MS + 40);
	assert_int_equal(get_u64(b, "wait_max_ns"), 5 * MS + 40);
	assert_int_equal(get_u64(b, "hold_ns"), 2 * MS - 40);
	assert_true(json_object_get_double(get(b, "contention_pct")) == 100.0);
	assert_true(json_object_get_double(get(a, "gil_pct")) > 75.0);
	assert_int_equal(get_u64(get(b, "io_wait"), "count"), 0);
	assert_string_equal(json_object_get_string(get(a, "state")), "running");
	assert_int_equal(json_object_array_length(get(root, "processes")), 1);
	assert_int_equal(get_u64(json_object_array_get_idx(get(root, "processes"), 0), "switches"), 1);

	totals = get(root, "totals");
	assert_int_equal(get_u64(totals, "acquisitions"), 2);
	assert_int_equal(get_u64(totals, "switches"), 1);
	assert_true(json_object_get_double(get(totals, "utilisation_pct")) > 99.9);
	assert_true(json_object_get_double(get(totals, "jain_fairness_index")) > 0.5);
	get(totals, "retries_per_acquisition");
	get(totals, "switches_per_s");
	get(get(totals, "futex"), "timed_out");

	cpus = get(root, "cpus");
	assert_int_equal(json_object_array_length(cpus), 2);
	cpu = json_object_array_get_idx(cpus, 1);
	assert_int_equal(get_u64(cpu, "cpu"), 1);
	assert_int_equal(get_u64(cpu, "wakeups"), 1);
	assert_int_equal(get_u64(cpu, "cross_cpu_wakeups"), 1);
	assert_int_equal(get_u64(cpu, "failed_wakeups"), 0);
	assert_true(json_object_get_double(get(cpu, "wake_to_run_mean_ns")) == 5000.0);
	cpu = json_object_array_get_idx(cpus, 0);
	assert_int_equal(get_u64(cpu, "failed_wakeups"), 1);

	assert_true(json_object_is_type(get(root, "diagnoses"), json_type_array));
	json_object_put(root);
	free(buf);
	engine__free(eng);
}

static void test_json_empty_engine(void **state)
{
	struct engine_opts opts = { 0 };
	struct engine *eng = engine__new(&opts);
	struct json_object *root;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_int_equal(summary__print_json(f, eng, NULL), 0);
	fclose(f);
	root = json_tokener_parse(buf);
	assert_non_null(root);
	assert_int_equal(get_u64(root, "drops"), 0);
	assert_int_equal(json_object_array_length(get(root, "threads")), 0);
	json_object_put(root);
	free(buf);
	engine__free(eng);
}

static void test_text(void **state)
{
	struct engine *eng = sample_engine();
	struct trace_meta meta;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	sample_meta(&meta);
	f = open_memstream(&buf, &len);
	assert_int_equal(summary__print_text(f, eng, &meta), 0);
	fclose(f);
	assert_non_null(strstr(buf, "pid 4242 (toyvm)"));
	assert_non_null(strstr(buf, "mode hooks"));
	assert_non_null(strstr(buf, "duration 8.00 ms"));
	assert_non_null(strstr(buf, "drops 3"));
	assert_non_null(strstr(buf, "unpaired 0"));
	assert_non_null(strstr(buf, "worker"));
	assert_non_null(strstr(buf, "5.00 ms")); /* B's wait */
	assert_non_null(strstr(buf, "convoy cost:"));
	/* The verdict leads, before the thread table it rests on. */
	assert_non_null(strstr(buf, "\ndiagnoses:\n  "));
	assert_true(strstr(buf, "diagnoses:") < strstr(buf, "TGID"));
	free(buf);
	engine__free(eng);
}

static void test_text_drops_zero_still_shown(void **state)
{
	struct engine_opts opts = { 0 };
	struct engine *eng = engine__new(&opts);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_int_equal(summary__print_text(f, eng, NULL), 0);
	fclose(f);
	assert_non_null(strstr(buf, "drops 0"));
	free(buf);
	engine__free(eng);
}

/* Five threads named "w1".."w5" are one row, "5 x w*", with their counts
 * summed; the main thread and two threads that carry the process's name
 * ("python3", which ends in a digit too) stay rows of their own. */
static void test_text_groups_pools(void **state)
{
	struct engine_opts opts = { 0 };
	struct engine *eng = engine__new(&opts);
	char *buf = NULL, name[8], *row;
	unsigned long long acq, busy;
	size_t len = 0;
	__u32 tid;
	FILE *f;

	(void)state;
	assert_non_null(eng);
	for (tid = PID; tid < PID + 8; tid++) {
		feed(eng, tid * MS, GIL_EV_ACQUIRE, tid, 0, 0, 0);
		feed(eng, tid * MS + MS / 2, GIL_EV_RELEASE, tid, 0, 0, 0);
		snprintf(name, sizeof(name), "w%u", tid - PID - 2);
		engine__name_thread(eng, PID, tid, tid < PID + 3 ? "python3" : name);
	}
	f = open_memstream(&buf, &len);
	assert_int_equal(summary__print_text(f, eng, NULL), 0);
	fclose(f);
	row = strstr(buf, "  5 x w* ");
	assert_non_null(row);
	/* 5 acquisitions, none busy */
	assert_int_equal(sscanf(row, " 5 x w* %llu %llu", &acq, &busy), 2);
	assert_int_equal(acq, 5);
	assert_int_equal(busy, 0);
	assert_null(strstr(buf, " w3 "));
	assert_non_null(strstr(buf, "   4242 python3"));
	assert_non_null(strstr(buf, "   4244 python3"));
	free(buf);
	engine__free(eng);
}

static void test_format(void **state)
{
	char buf[FORMAT_LEN];

	(void)state;
	assert_string_equal(format__duration(buf, sizeof(buf), 0), "0 ns");
	assert_string_equal(format__duration(buf, sizeof(buf), 999), "999 ns");
	assert_string_equal(format__duration(buf, sizeof(buf), 999.7), "1.00 us");
	assert_string_equal(format__duration(buf, sizeof(buf), 12345), "12.3 us");
	assert_string_equal(format__duration(buf, sizeof(buf), 5000040), "5.00 ms");
	assert_string_equal(format__duration(buf, sizeof(buf), 250e6), "250 ms");
	assert_string_equal(format__duration(buf, sizeof(buf), 2.5e9), "2.50 s");
	assert_string_equal(format__duration(buf, sizeof(buf), 3723e9), "1h02m");
	assert_string_equal(format__count(buf, sizeof(buf), 42), "42");
	assert_string_equal(format__count(buf, sizeof(buf), 61500), "61.5k");
	assert_string_equal(format__count(buf, sizeof(buf), 2.5e9), "2.50G");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_empty_engine),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_drops_zero_still_shown),
		cmocka_unit_test(test_text_groups_pools),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
