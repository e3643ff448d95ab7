/*
 * cli/parse.c: numbers from the command line. A bad value is an
 * argp_error() naming the option, the value and the range; the parser
 * state here has ARGP_NO_EXIT and a memory stream for errors, so each
 * message can be read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/parse.h"

struct fixture {
	struct argp argp;
	struct argp_state state;
	char *err;
	size_t errlen;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->state.root_argp = &fx->argp;
	fx->state.name = "giltrace";
	fx->state.flags = ARGP_NO_EXIT;
	fx->state.err_stream = open_memstream(&fx->err, &fx->errlen);
	fx->state.out_stream = fx->state.err_stream;
	assert_non_null(fx->state.err_stream);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fclose(fx->state.err_stream);
	free(fx->err);
	free(fx);
	return 0;
}

/* What argp_error() wrote since the last call ("" if nothing). */
static const char *errors(struct fixture *fx)
{
	static char last[512];

	fflush(fx->state.err_stream);
	/* errlen is the stream's position: rewound, older text stays behind it */
	snprintf(last, sizeof(last), "%.*s", (int)fx->errlen, fx->err ? fx->err : "");
	fseek(fx->state.err_stream, 0, SEEK_SET);
	return last;
}

static void test_long_valid(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(parse__long(&fx->state, "PID", "1", 1, INT_MAX), 1);
	assert_int_equal(parse__long(&fx->state, "PID", "4242", 1, INT_MAX), 4242);
	assert_int_equal(parse__long(&fx->state, "PID", "2147483647", 1, INT_MAX), INT_MAX);
	assert_int_equal(parse__long(&fx->state, "count", "-5", -10, 10), -5);
	assert_int_equal(parse__long(&fx->state, "count", "+7", -10, 10), 7);
	assert_string_equal(errors(fx), "");
}

static void test_long_bounds(void **state)
{
	struct fixture *fx = *state;

	parse__long(&fx->state, "PID", "0", 1, INT_MAX);
	assert_non_null(strstr(errors(fx),
			       "giltrace: invalid PID '0': expected an integer from 1 to 2147483647"));
	parse__long(&fx->state, "PID", "2147483648", 1, INT_MAX);
	assert_non_null(strstr(errors(fx), "invalid PID '2147483648'"));
	parse__long(&fx->state, "top", "11", 1, 10);
	assert_non_null(strstr(errors(fx), "invalid top '11': expected an integer from 1 to 10"));
	/* beyond long: strtol's ERANGE */
	parse__long(&fx->state, "PID", "99999999999999999999999", 1, LONG_MAX);
	assert_non_null(strstr(errors(fx), "invalid PID '99999999999999999999999'"));
}

static void test_long_garbage_and_empty(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = { "", "abc", "12abc", "1.5", " ", "0x10", "12 " };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		parse__long(&fx->state, "PID", bad[i], 0, 100);
		snprintf(want, sizeof(want), "invalid PID '%s': expected an integer", bad[i]);
		assert_non_null(strstr(errors(fx), want));
	}
}

static void test_double_valid(void **state)
{
	struct fixture *fx = *state;

	assert_true(parse__double(&fx->state, "duration", "0.001", 0.001, 1e7) == 0.001);
	assert_true(parse__double(&fx->state, "duration", "2.5", 0.001, 1e7) == 2.5);
	assert_true(parse__double(&fx->state, "duration", "10", 0.001, 1e7) == 10.0);
	assert_true(parse__double(&fx->state, "duration", "1e7", 0.001, 1e7) == 1e7);
	assert_string_equal(errors(fx), "");
}

static void test_double_bounds(void **state)
{
	struct fixture *fx = *state;

	parse__double(&fx->state, "duration", "0", 0.001, 1e7);
	assert_non_null(strstr(errors(fx), "giltrace: invalid duration '0': expected a number "
					   "from 0.001 to 1e+07"));
	parse__double(&fx->state, "duration", "10000001", 0.001, 1e7);
	assert_non_null(strstr(errors(fx), "invalid duration '10000001'"));
	parse__double(&fx->state, "duration", "-1", 0.001, 1e7);
	assert_non_null(strstr(errors(fx), "invalid duration '-1'"));
	/* NaN compares false with everything: refused, not let through */
	parse__double(&fx->state, "duration", "nan", 0.001, 1e7);
	assert_non_null(strstr(errors(fx), "invalid duration 'nan'"));
	parse__double(&fx->state, "duration", "inf", 0.001, 1e7);
	assert_non_null(strstr(errors(fx), "invalid duration 'inf'"));
	parse__double(&fx->state, "duration", "1e999", 0.001, 1e7);
	assert_non_null(strstr(errors(fx), "invalid duration '1e999'"));
}

static void test_double_garbage_and_empty(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = { "", "abc", "1.5s", " ", "1,5", "." };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		parse__double(&fx->state, "duration", bad[i], 0.001, 1e7);
		snprintf(want, sizeof(want), "invalid duration '%s': expected a number", bad[i]);
		assert_non_null(strstr(errors(fx), want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_long_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_garbage_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_garbage_and_empty, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
