/* The CSV export's lines: every field of an event, and the thread's name as
 * the stream knew it at that event, quoted when it must be (RFC 4180). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/export_csv.h"

static char *export(const char *const *names, const __u32 *name_tids, size_t nnames)
{
	struct gil_event ev = {
		.ts = 1000, .kind = GIL_EV_ACQUIRE, .tgid = 7, .tid = 8, .cpu = 1, .addr = 0xab,
		.value = 3, .ret = -110,
	};
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);
	struct export_csv *x = export_csv__new(f);

	assert_non_null(x);
	export_csv__event(x, &ev);
	for (size_t i = 0; i < nnames; i++) {
		assert_int_equal(export_csv__thread(x, name_tids[i], names[i]), 0);
		export_csv__event(x, &ev);
	}
	export_csv__free(x);
	fclose(f);
	return text;
}

static void test_fields_and_names(void **state)
{
	const char *names[] = { "worker", "renamed" };
	const __u32 tids[] = { 8, 8 };
	char *text = export(names, tids, 2);

	(void)state;
	assert_string_equal(text, "ts_ns,kind,tgid,tid,cpu,addr,value,ret,name\n"
				  "1000,acquire,7,8,1,0xab,3,-110,\n"
				  "1000,acquire,7,8,1,0xab,3,-110,worker\n"
				  "1000,acquire,7,8,1,0xab,3,-110,renamed\n");
	free(text);
}

static void test_other_thread_unnamed(void **state)
{
	const char *names[] = { "other" };
	const __u32 tids[] = { 9 };
	char *text = export(names, tids, 1);

	(void)state;
	assert_string_equal(strrchr(text, '\n') - 2, "0,\n");
	free(text);
}

static void test_quoting(void **state)
{
	const char *names[] = { "a,b", "say \"hi\"", "two\nlines" };
	const __u32 tids[] = { 8, 8, 8 };
	char *text = export(names, tids, 3);

	(void)state;
	assert_non_null(strstr(text, ",-110,\"a,b\"\n"));
	assert_non_null(strstr(text, ",-110,\"say \"\"hi\"\"\"\n"));
	assert_non_null(strstr(text, ",-110,\"two\nlines\"\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_and_names),
		cmocka_unit_test(test_other_thread_unnamed),
		cmocka_unit_test(test_quoting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
