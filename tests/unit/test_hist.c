/* Log-linear histogram: bucket arithmetic, percentiles, merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/hist.h"

static struct hist *hist_alloc(void)
{
	struct hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	hist__init(h);
	return h;
}

/* |got - want| within the documented relative error (plus 1 ns of rounding). */
static void assert_near(__u64 got, double want)
{
	double tol = want * hist__rel_error() + 1.0;

	if (fabs((double)got - want) > tol)
		fail_msg("got %llu, want %.0f +- %.1f", (unsigned long long)got, want, tol);
}

static void test_buckets_tile_the_range(void **state)
{
	unsigned int b;

	(void)state;
	assert_int_equal(hist__bucket(0), 0);
	assert_int_equal(hist__bucket(15), 15);
	assert_int_equal(hist__bucket(16), 16);
	assert_int_equal(hist__bucket(~0ULL), HIST_BUCKETS - 1);
	for (b = 0; b + 1 < HIST_BUCKETS; b++) {
		__u64 low = hist__bucket_low(b), high = hist__bucket_high(b);

		/* Contiguous, each bound maps back to its own bucket, and no
		 * bucket is wider than 1/HIST_SUB of its lower bound. */
		assert_int_equal(hist__bucket_low(b + 1), high + 1);
		assert_int_equal(hist__bucket(low), b);
		assert_int_equal(hist__bucket(high), b);
		if (low >= HIST_SUB)
			assert_true((double)(high - low + 1) <= (double)low / HIST_SUB);
	}
	assert_int_equal(hist__bucket_high(HIST_BUCKETS - 1), ~0ULL);
}

static void test_empty(void **state)
{
	struct hist *h = hist_alloc();

	(void)state;
	assert_int_equal(hist__percentile(h, 50), 0);
	assert_int_equal(hist__percentile(h, 99), 0);
	assert_true(hist__mean(h) == 0.0);
	free(h);
}

static void test_small_values_exact(void **state)
{
	struct hist *h = hist_alloc();
	__u64 v;

	(void)state;
	for (v = 1; v <= 10; v++)
		hist__add(h, v);
	assert_int_equal(h->min, 1);
	assert_int_equal(h->max, 10);
	assert_int_equal(hist__percentile(h, 50), 5);
	assert_int_equal(hist__percentile(h, 90), 9);
	assert_int_equal(hist__percentile(h, 100), 10);
	assert_int_equal(hist__percentile(h, 0), 1);
	assert_true(hist__mean(h) == 5.5);
	free(h);
}

static void test_uniform_percentiles(void **state)
{
	struct hist *h = hist_alloc();
	__u64 v;

	(void)state;
	for (v = 1; v <= 100000; v++)
		hist__add(h, v * 10);
	assert_int_equal(h->count, 100000);
	assert_int_equal(h->min, 10);
	assert_int_equal(h->max, 1000000);
	assert_true(fabs(hist__mean(h) - 500005.0) < 1e-6);
	assert_near(hist__percentile(h, 50), 500000);
	assert_near(hist__percentile(h, 90), 900000);
	assert_near(hist__percentile(h, 99), 990000);
	assert_near(hist__percentile(h, 99.9), 999000);
	free(h);
}

static void test_constant_is_exact(void **state)
{
	struct hist *h = hist_alloc();
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		hist__add(h, 5000000);
	/* min and max clamp the bucket midpoint to the only value seen. */
	assert_int_equal(hist__percentile(h, 1), 5000000);
	assert_int_equal(hist__percentile(h, 50), 5000000);
	assert_int_equal(hist__percentile(h, 99), 5000000);
	free(h);
}

static void test_percentile_is_bucket_midpoint(void **state)
{
	struct hist *h = hist_alloc();
	int i;

	(void)state;
	/* 4096..4351 is one bucket (width 256 = 1/16 of 4096). */
	for (i = 0; i < 100; i++) {
		hist__add(h, 4100);
		hist__add(h, 4300);
	}
	hist__add(h, 100000);
	assert_int_equal(hist__bucket(4100), hist__bucket(4300));
	assert_int_equal(hist__percentile(h, 50), 4096 + 127);
	assert_near(hist__percentile(h, 50), 4200);
	/* 201 samples: rank 199 is still in that bucket, rank 201 is the max. */
	assert_int_equal(hist__percentile(h, 99), 4223);
	assert_int_equal(hist__percentile(h, 99.9), 100000);
	free(h);
}

static void test_bimodal(void **state)
{
	struct hist *h = hist_alloc();
	int i;

	(void)state;
	for (i = 0; i < 900; i++)
		hist__add(h, 1000 + (__u64)i % 7);
	for (i = 0; i < 100; i++)
		hist__add(h, 5000000 + (__u64)i * 1000);
	assert_near(hist__percentile(h, 50), 1003);
	assert_near(hist__percentile(h, 90), 1003);
	assert_near(hist__percentile(h, 95), 5050000);
	assert_near(hist__percentile(h, 99), 5090000);
	assert_int_equal(h->max, 5099000);
	free(h);
}

static void test_merge_equals_one_histogram(void **state)
{
	struct hist *a = hist_alloc(), *b = hist_alloc(), *all = hist_alloc();
	struct hist *empty = hist_alloc();
	__u64 x = 88172645463325252ULL;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		__u64 v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = x % 10000000;
		hist__add(i % 3 ? a : b, v);
		hist__add(all, v);
	}
	hist__merge(a, b);
	hist__merge(a, empty);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->buckets, all->buckets, sizeof(a->buckets));
	/* Merging into an empty histogram copies min, not 0. */
	hist__merge(empty, b);
	assert_int_equal(empty->min, b->min);
	assert_int_equal(hist__percentile(empty, 50), hist__percentile(b, 50));
	free(a);
	free(b);
	free(all);
	free(empty);
}

/* Cumulative counts for Prometheus buckets: exact at and beyond the
 * extremes, within one bucket in between, and never decreasing. */
static void test_count_le(void **state)
{
	struct hist h;
	__u64 prev = 0;

	(void)state;
	hist__init(&h);
	assert_int_equal(hist__count_le(&h, 1000), 0);
	for (__u64 v = 1000; v <= 1000000; v += 1000)
		hist__add(&h, v);
	assert_int_equal(hist__count_le(&h, 999), 0);
	assert_int_equal(hist__count_le(&h, 1000000), 1000);
	assert_int_equal(hist__count_le(&h, ~0ull), 1000);
	for (__u64 x = 0; x <= 1100000; x += 777) {
		__u64 n = hist__count_le(&h, x), exact = x >= 1000 ? (x > 1000000 ? 1000 : x / 1000) : 0;
		__u64 width = hist__bucket_high(hist__bucket(x)) - hist__bucket_low(hist__bucket(x)) + 1;

		assert_true(n >= prev);
		/* Off by at most the samples of x's bucket (one every 1000). */
		assert_true(n + width / 1000 + 1 >= exact && n <= exact + width / 1000 + 1);
		prev = n;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_tile_the_range),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_uniform_percentiles),
		cmocka_unit_test(test_constant_is_exact),
		cmocka_unit_test(test_percentile_is_bucket_midpoint),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_merge_equals_one_histogram),
		cmocka_unit_test(test_count_le),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
