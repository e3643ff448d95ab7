/* u64map: lookups, key 0, growth, backward-shift deletion, iteration, and
 * a long random run checked against a plain array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/u64map.h"

static void test_empty(void **state)
{
	struct u64map m = { 0 };
	size_t it = 0;
	__u64 k, v = 7;

	(void)state;
	assert_false(u64map__get(&m, 0, &v));
	assert_false(u64map__get(&m, 42, &v));
	assert_int_equal(v, 7);
	assert_false(u64map__del(&m, 42, NULL));
	assert_false(u64map__del(&m, 0, NULL));
	assert_false(u64map__next(&m, &it, &k, &v));
	assert_int_equal(u64map__count(&m), 0);
	u64map__destroy(&m);
}

static void test_put_get_replace(void **state)
{
	struct u64map m;
	__u64 v;

	(void)state;
	u64map__init(&m);
	assert_int_equal(u64map__put(&m, 5, 50), 1);
	assert_int_equal(u64map__put(&m, ~0ULL, 1), 1);
	assert_int_equal(u64map__put(&m, 5, 51), 0);
	assert_int_equal(u64map__count(&m), 2);
	assert_true(u64map__get(&m, 5, &v));
	assert_int_equal(v, 51);
	assert_true(u64map__get(&m, ~0ULL, &v));
	assert_int_equal(v, 1);
	assert_false(u64map__has(&m, 6));
	u64map__destroy(&m);
	assert_false(u64map__has(&m, 5));
}

static void test_key_zero(void **state)
{
	struct u64map m = { 0 };
	size_t it = 0, n = 0;
	__u64 k, v;

	(void)state;
	assert_int_equal(u64map__put(&m, 0, 9), 1);
	assert_int_equal(u64map__put(&m, 0, 10), 0);
	assert_int_equal(u64map__put(&m, 3, 30), 1);
	assert_int_equal(u64map__count(&m), 2);
	assert_true(u64map__get(&m, 0, &v));
	assert_int_equal(v, 10);
	while (u64map__next(&m, &it, &k, &v)) {
		assert_int_equal(v, k ? 30 : 10);
		n++;
	}
	assert_int_equal(n, 2);
	assert_true(u64map__del(&m, 0, &v));
	assert_int_equal(v, 10);
	assert_false(u64map__has(&m, 0));
	assert_true(u64map__has(&m, 3));
	assert_int_equal(u64map__count(&m), 1);
	u64map__destroy(&m);
}

/* Dense, sequential and strided keys, as (tgid << 32 | tid) and addresses are. */
static void test_growth_keeps_everything(void **state)
{
	struct u64map m = { 0 };
	__u64 v;

	(void)state;
	for (__u64 i = 1; i <= 100000; i++) {
		assert_int_equal(u64map__put(&m, (1000ULL << 32) | i, i), 1);
		assert_int_equal(u64map__put(&m, 0x7f0000000000ULL + i * 4096, ~i), 1);
	}
	assert_int_equal(u64map__count(&m), 200000);
	/* never above half load */
	assert_true(u64map__count(&m) * 2 <= m.mask + 1);
	for (__u64 i = 1; i <= 100000; i++) {
		assert_true(u64map__get(&m, (1000ULL << 32) | i, &v));
		assert_int_equal(v, i);
		assert_true(u64map__get(&m, 0x7f0000000000ULL + i * 4096, &v));
		assert_int_equal(v, ~i);
	}
	assert_false(u64map__has(&m, (1000ULL << 32) | 100001));
	u64map__destroy(&m);
}

/* Keys that share a home slot: deleting from the middle of the run must
 * leave every other key reachable. */
static void test_delete_in_a_cluster(void **state)
{
	struct u64map m = { 0 };
	__u64 keys[12], v;
	size_t n = 0;

	(void)state;
	assert_int_equal(u64map__put(&m, 1, 1), 1); /* allocates 16 slots */
	for (__u64 k = 2; n < 6; k++)
		if (u64map__home(&m, k) == u64map__home(&m, 1))
			keys[n++] = k;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(u64map__put(&m, keys[i], keys[i] * 10), 1);
	assert_true(u64map__del(&m, keys[1], &v));
	assert_int_equal(v, keys[1] * 10);
	assert_true(u64map__del(&m, 1, NULL));
	assert_false(u64map__has(&m, keys[1]));
	assert_false(u64map__has(&m, 1));
	for (size_t i = 0; i < n; i++) {
		if (i == 1)
			continue;
		assert_true(u64map__get(&m, keys[i], &v));
		assert_int_equal(v, keys[i] * 10);
	}
	assert_int_equal(u64map__count(&m), n - 1);
	u64map__destroy(&m);
}

/* A long random run of puts and deletes over a small key space (so the
 * table wraps around and runs collide), against a plain array. */
static void test_random_against_array(void **state)
{
	enum { KEYS = 3000, STEPS = 400000 };
	struct u64map m = { 0 };
	__u64 *want = calloc(KEYS, sizeof(*want)); /* 0 = absent, else value + 1 */
	size_t present = 0, it = 0, seen = 0;
	__u64 x = 88172645463325252ULL, k, v;

	(void)state;
	assert_non_null(want);
	for (int s = 0; s < STEPS; s++) {
		size_t i;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (size_t)(x % KEYS);
		/* key i * 2^40: keys that differ only in their high bits */
		k = (__u64)i << 40;
		if (x >> 63) {
			assert_int_equal(u64map__put(&m, k, x), want[i] ? 0 : 1);
			present += !want[i];
			want[i] = x + 1;
		} else {
			assert_int_equal(u64map__del(&m, k, &v), want[i] != 0);
			if (want[i])
				assert_int_equal(v, want[i] - 1);
			present -= !!want[i];
			want[i] = 0;
		}
		if (s % 1000 == 0) {
			for (size_t j = 0; j < KEYS; j++) {
				bool got = u64map__get(&m, (__u64)j << 40, &v);

				assert_int_equal(got, want[j] != 0);
				if (got)
					assert_int_equal(v, want[j] - 1);
			}
		}
	}
	assert_int_equal(u64map__count(&m), present);
	while (u64map__next(&m, &it, &k, &v)) {
		assert_int_equal(want[k >> 40], v + 1);
		seen++;
	}
	assert_int_equal(seen, present);
	u64map__destroy(&m);
	free(want);
}

static int freed;

static void count_free(__u64 val)
{
	freed++;
	free((void *)(uintptr_t)val);
}

/* (tgid, id) pairs as a map of maps: the same id under two keys is two
 * entries; freeing an inner map frees its values. */
static void test_sub_maps(void **state)
{
	struct u64map m = { 0 }, *a, *b;
	__u64 v;

	(void)state;
	assert_null(u64map__sub_find(&m, 100));
	a = u64map__sub(&m, 100);
	b = u64map__sub(&m, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(u64map__sub(&m, 100), a);
	assert_ptr_equal(u64map__sub_find(&m, 0), b);
	assert_int_equal(u64map__put(a, 7, (uintptr_t)malloc(1)), 1);
	assert_int_equal(u64map__put(b, 7, (uintptr_t)malloc(1)), 1);
	assert_int_equal(u64map__put(b, 8, (uintptr_t)malloc(1)), 1);
	assert_true(u64map__has(a, 7));
	assert_false(u64map__has(a, 8));
	assert_true(u64map__del(&m, 0, &v));
	u64map__free_sub((struct u64map *)(uintptr_t)v, count_free);
	assert_int_equal(freed, 2);
	assert_null(u64map__sub_find(&m, 0));
	u64map__destroy_subs(&m, count_free);
	assert_int_equal(freed, 3);
	assert_int_equal(u64map__count(&m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_key_zero),
		cmocka_unit_test(test_growth_keeps_everything),
		cmocka_unit_test(test_delete_in_a_cluster),
		cmocka_unit_test(test_random_against_array),
		cmocka_unit_test(test_sub_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
