/* record_index: a pair's record is found again, owners keep equal ids
 * apart, order of arrival is kept, and a new record starts zeroed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/record_index.h"

struct rec {
	__u64 a, b;
};

static void test_get_find_order(void **state)
{
	struct record_index ix = { 0 };
	struct rec *r1, *r2, *r3;
	bool created;

	(void)state;
	assert_null(record_index__find(&ix, 1, 0x1000));
	r1 = record_index__get(&ix, 1, 0x1000, sizeof(*r1), &created);
	assert_non_null(r1);
	assert_true(created);
	assert_int_equal(r1->a, 0);
	assert_int_equal(r1->b, 0);
	r1->a = 11;
	/* the same id under another owner is another record */
	r2 = record_index__get(&ix, 2, 0x1000, sizeof(*r2), &created);
	assert_true(created);
	assert_ptr_not_equal(r1, r2);
	r3 = record_index__get(&ix, 1, 0, sizeof(*r3), NULL);
	assert_non_null(r3);
	assert_ptr_equal(record_index__get(&ix, 1, 0x1000, sizeof(*r1), &created), r1);
	assert_false(created);
	assert_ptr_equal(record_index__find(&ix, 1, 0x1000), r1);
	assert_ptr_equal(record_index__find(&ix, 2, 0x1000), r2);
	assert_ptr_equal(record_index__find(&ix, 1, 0), r3);
	assert_null(record_index__find(&ix, 3, 0x1000));
	assert_int_equal(ix.n, 3);
	assert_ptr_equal(ix.v[0], r1);
	assert_ptr_equal(ix.v[1], r2);
	assert_ptr_equal(ix.v[2], r3);
	assert_int_equal(((struct rec *)ix.v[0])->a, 11);
	record_index__destroy(&ix);
	assert_int_equal(ix.n, 0);
	assert_null(record_index__find(&ix, 1, 0x1000));
}

/* Growth past the first array and many owners: every record found. */
static void test_many(void **state)
{
	struct record_index ix = { 0 };

	(void)state;
	for (__u64 i = 0; i < 5000; i++) {
		struct rec *r = record_index__get(&ix, i % 7, i, sizeof(*r), NULL);

		assert_non_null(r);
		r->a = i;
	}
	assert_int_equal(ix.n, 5000);
	for (__u64 i = 0; i < 5000; i++) {
		struct rec *r = record_index__find(&ix, i % 7, i);

		assert_non_null(r);
		assert_int_equal(r->a, i);
		assert_null(record_index__find(&ix, (i + 1) % 7, i));
		assert_ptr_equal(ix.v[i], r);
	}
	record_index__destroy(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_find_order),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
