/* safe_text: what a hostile thread name becomes, valid UTF-8 kept, no
 * sequence cut in two, cells padded by characters, in-place cleaning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/safe_text.h"

static void test_controls_replaced(void **state)
{
	char out[64];

	(void)state;
	/* the 15-byte name a test thread gives itself with prctl */
	assert_string_equal(safe_text__copy(out, sizeof(out), "\x1b[2Jx\"y\nz}"), "?[2Jx\"y?z}");
	assert_string_equal(safe_text__copy(out, sizeof(out), "a\tb\x7f" "c\r"), "a?b?c?");
	/* C1 controls (U+0080-U+009F) in valid UTF-8: CSI is U+009B */
	assert_string_equal(safe_text__copy(out, sizeof(out), "x\xc2\x9b" "2J"), "x?2J");
}

static void test_utf8_kept_and_invalid_replaced(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(safe_text__copy(out, sizeof(out), "w\xc3\xb6rker-\xe6\xb1\xa0"),
			    "w\xc3\xb6rker-\xe6\xb1\xa0");
	assert_string_equal(safe_text__copy(out, sizeof(out), "\xf0\x9f\x90\x8d"),
			    "\xf0\x9f\x90\x8d"); /* U+1F40D */
	/* a lone continuation byte, an overlong '/', a surrogate, a cut sequence */
	assert_string_equal(safe_text__copy(out, sizeof(out), "a\x80" "b"), "a?b");
	assert_string_equal(safe_text__copy(out, sizeof(out), "\xc0\xaf"), "??");
	assert_string_equal(safe_text__copy(out, sizeof(out), "\xed\xa0\x80"), "???");
	assert_string_equal(safe_text__copy(out, sizeof(out), "ok\xe6\xb1"), "ok??");
	assert_string_equal(safe_text__copy(out, sizeof(out), "\xf5\x80\x80\x80"), "????");
}

static void test_never_cuts_a_sequence(void **state)
{
	char out[5];

	(void)state;
	/* 4 bytes of room: "ab" then a 3-byte character that does not fit */
	assert_string_equal(safe_text__copy(out, sizeof(out), "ab\xe6\xb1\xa0"), "ab");
	assert_string_equal(safe_text__copy(out, sizeof(out), "abcdef"), "abcd");
	assert_string_equal(safe_text__copy(out, 1, "abc"), "");
}

static void test_in_place(void **state)
{
	char name[16] = "a\nb\x1b" "c";

	(void)state;
	safe_text__clean(name);
	assert_string_equal(name, "a?b?c");
}

static void test_cell_pads_by_characters(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(safe_text__cell(out, sizeof(out), "ab", 5), "ab   ");
	assert_string_equal(safe_text__cell(out, sizeof(out), "abcdefg", 5), "abcde");
	/* two 2-byte characters count as two columns, not four */
	assert_string_equal(safe_text__cell(out, sizeof(out), "\xc3\xb6\xc3\xb6", 4),
			    "\xc3\xb6\xc3\xb6  ");
	assert_string_equal(safe_text__cell(out, sizeof(out), "x\ny", 4), "x?y ");
	assert_int_equal(strlen(safe_text__cell(out, 4, "a", 10)), 3); /* room, not cols */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls_replaced),
		cmocka_unit_test(test_utf8_kept_and_invalid_replaced),
		cmocka_unit_test(test_never_cuts_a_sequence),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_cell_pads_by_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
