/*
 * The runtime table's invariants, row by row: every fact has a place and a
 * source, offsets stay inside the structs they index, no version appears
 * twice, and what the table derives (blame's range, the supported list)
 * agrees with its rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "target/runtimes.h"

static const struct runtime_row *table(int *n)
{
	const struct runtime_row *rows = runtimes__table(n);

	assert_non_null(rows);
	assert_true(*n >= 10); /* toy VM, 2.7, 3.8-3.15 */
	return rows;
}

/* "3.10" -> 310, "1" -> 100: versions compare as numbers, not strings. */
static int version_key(const char *v)
{
	int major = 0, minor = 0;

	assert_true(sscanf(v, "%d.%d", &major, &minor) >= 1);
	return major * 100 + minor;
}

static void test_rows_are_complete(void **state)
{
	int n;
	const struct runtime_row *rows = table(&n);

	(void)state;
	for (int i = 0; i < n; i++) {
		const struct runtime_row *r = &rows[i];
		int nhooks = 0;

		assert_non_null(r->name);
		assert_non_null(r->version);
		assert_non_null(r->mode);
		assert_non_null(r->detect_symbol);
		assert_non_null(r->gil_symbol);
		assert_true(r->name[0] && r->version[0] && r->mode[0] && r->detect_symbol[0]);
		/* A citation: a source file of the runtime and how it was checked. */
		assert_non_null(r->verified);
		assert_true(strstr(r->verified, ".h") || strstr(r->verified, ".c"));
		assert_true(strlen(r->verified) > 20);
		for (int k = 0; k < RUNTIME_MAX_HOOKS && r->hooks[k].symbol; k++) {
			assert_non_null(r->hooks[k].prog);
			assert_true(r->hooks[k].prog[0] != '\0');
			nhooks++;
		}
		assert_true(nhooks >= 3);
		/* CPython rows carry exactly one of the two layouts. */
		if (!strcmp(r->name, "cpython"))
			assert_true(!r->cpython != !r->cpython2);
		else
			assert_true(!r->cpython && !r->cpython2);
		/* Cond mode: every CPython 3 row, with switch_cond after cond. */
		if (r->cpython) {
			assert_string_equal(r->libc_mode, "cond");
			assert_string_equal(r->libc_hooks[0].symbol, "pthread_cond_signal");
			assert_true(r->cpython->switch_cond >= r->cpython->cond + r->cpython->cond_size);
			assert_true(r->cpython->switch_cond + r->cpython->cond_size <=
				    r->cpython->gil_size);
		} else {
			assert_null(r->libc_mode);
		}
	}
}

/* One row per runtime and version, CPython's in ascending order. */
static void test_versions_do_not_overlap(void **state)
{
	int n, last = 0, ncpython = 0;
	const struct runtime_row *rows = table(&n);

	(void)state;
	for (int i = 0; i < n; i++) {
		for (int j = i + 1; j < n; j++)
			assert_false(!strcmp(rows[i].name, rows[j].name) &&
				     !strcmp(rows[i].version, rows[j].version));
		if (strcmp(rows[i].name, "cpython"))
			continue;
		/* Free-threaded rows come after the GIL builds', named "3.Xt". */
		if (rows[i].cpython && rows[i].cpython->free_threaded) {
			assert_int_equal(rows[i].version[strlen(rows[i].version) - 1], 't');
			assert_int_equal(last, 315);
			continue;
		}
		assert_true(version_key(rows[i].version) > last);
		last = version_key(rows[i].version);
		ncpython++;
	}
	assert_int_equal(ncpython, 9);
	assert_int_equal(last, 315);
}

static void test_gil_offsets_inside_the_gil(void **state)
{
	int n;
	const struct runtime_row *rows = table(&n);

	(void)state;
	for (int i = 0; i < n; i++) {
		const struct cpython_layout *l = rows[i].cpython;

		if (rows[i].cpython2)
			assert_true(rows[i].cpython2->sem_size >= 4); /* the futex word */
		if (!l)
			continue;
		/* 3.13+: the GIL's place comes from the process (test_py_debug.c) */
		assert_true(l->gil != 0 || l->debug_offsets);
		/* int enabled first in free-threaded builds, then unsigned long
		 * interval; int locked, unsigned long switch_number, the cond */
		if (l->free_threaded)
			assert_true(l->enabled + 4u <= l->interval && l->interval == 8);
		else
			assert_int_equal(l->interval, 0);
		assert_true(l->locked + 4u <= l->switch_number);
		assert_true(l->switch_number + 8u <= l->cond);
		assert_true((__u32)l->cond + l->cond_size <= l->gil_size);
		assert_int_equal(l->cond_size, 48); /* pthread_cond_t on x86-64 */
		assert_true(l->drop_req_mask != 0);
		if (l->drop_how == DROP_REQ_HOLDER)
			assert_true(l->drop_req + 8u <= l->gil_size); /* a pointer in the gil */
		if (l->drop_how == DROP_REQ_RUNTIME)
			assert_int_equal(l->drop_req_off, 0);
	}
}

static void test_blame_layouts(void **state)
{
	int n;
	const struct runtime_row *rows = table(&n);

	(void)state;
	for (int i = 0; i < n; i++) {
		const struct cpython_layout *l = runtime__blame_layout(&rows[i]);
		const struct cpython_code_layout *c;
		bool v311 = version_key(rows[i].version) >= 311;

		/* Every CPython 3 GIL build is blamed; 2.7, the toy VM and
		 * free-threaded builds (their object header) are not. */
		assert_true(!l == (!rows[i].cpython || rows[i].cpython->free_threaded));
		if (!l)
			continue;
		assert_ptr_equal(l, rows[i].cpython);
		/* 3.13+: completed from the process (test_py_debug.c) */
		if (l->debug_offsets)
			continue;
		c = &l->code;
		assert_true(l->frames.last_holder + 8u <= l->gil_size);
		assert_true(l->frames.instr_size == 4 || l->frames.instr_size == 8);
		/* Object pointers are 8-aligned, co_firstlineno an int. */
		assert_int_equal(c->filename % 8, 0);
		assert_int_equal(c->name % 8, 0);
		assert_int_equal(c->qualname % 8, 0);
		assert_int_equal(c->linetable % 8, 0);
		assert_int_equal(c->firstlineno % 4, 0);
		assert_true(c->filename >= 16 && c->name >= 16 && c->firstlineno >= 16);
		/* co_code_adaptive is the code object's last member. */
		if (c->code_adaptive) {
			assert_true(c->filename < c->code_adaptive && c->name < c->code_adaptive &&
				    c->qualname < c->code_adaptive &&
				    c->firstlineno < c->code_adaptive &&
				    c->linetable + 8 <= c->code_adaptive);
		}
		/* 3.11 changed all of these together. */
		assert_int_equal(!!c->code_adaptive, v311);
		assert_int_equal(!!c->qualname, v311);
		assert_int_equal(c->lines == LINES_LOCATIONS, v311);
		assert_int_equal(c->instr == INSTR_POINTER, v311);
		assert_int_equal(l->frames.instr_size, v311 ? 8 : 4);
		/* PyASCIIObject, then PyCompactUnicodeObject, which extends it */
		assert_true(c->ascii_data >= 40 && c->ascii_data < c->compact_data);
	}
}

static void test_blame_versions_from_the_table(void **state)
{
	char buf[64];
	int n, first = -1, last = -1;
	const struct runtime_row *rows = table(&n);

	(void)state;
	runtimes__blame_versions(buf, sizeof(buf));
	assert_string_equal(buf, "CPython 3.8-3.15 (GIL builds)");
	/* A range: no row between its ends is left out. */
	for (int i = 0; i < n; i++) {
		if (!runtime__blame_layout(&rows[i]))
			continue;
		if (first < 0)
			first = i;
		last = i;
	}
	for (int i = first; i <= last; i++)
		assert_non_null(runtime__blame_layout(&rows[i]));
	assert_null(runtime__blame_layout(NULL));
	/* cut, never overrun */
	runtimes__blame_versions(buf, 8);
	assert_string_equal(buf, "CPython");
}

/* The supported list in messages names every CPython row, in order. */
static void test_supported_list_names_every_row(void **state)
{
	char want[256] = "CPython ";
	int n;
	const struct runtime_row *rows = table(&n);

	(void)state;
	for (int ft = 0; ft < 2; ft++) {
		if (ft)
			strcat(want, "; free-threaded ");
		for (int i = 0, k = 0; i < n; i++) {
			if (strcmp(rows[i].name, "cpython") ||
			    (rows[i].cpython && rows[i].cpython->free_threaded) != ft)
				continue;
			if (k++)
				strcat(want, ", ");
			strcat(want, rows[i].version);
		}
	}
	assert_string_equal(runtimes__cpython_versions(), want);
	assert_string_equal(want, "CPython 2.7, 3.8, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15; "
			    "free-threaded 3.13t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_complete),
		cmocka_unit_test(test_versions_do_not_overlap),
		cmocka_unit_test(test_gil_offsets_inside_the_gil),
		cmocka_unit_test(test_blame_layouts),
		cmocka_unit_test(test_blame_versions_from_the_table),
		cmocka_unit_test(test_supported_list_names_every_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
