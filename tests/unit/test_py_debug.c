/*
 * _Py_DebugOffsets (user/target/py_debug.c): pyenv 3.13.0's own bytes give
 * the layout that was hand-written for 3.13.0 before giltrace read it from
 * the process; a missing cookie, an older or a newer version are told apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "fake_debug_offsets.h"
#include "target/py_debug.h"
#include "target/runtimes.h"

static const struct cpython_layout *row_layout(const char *version)
{
	int n;
	const struct runtime_row *rows = runtimes__table(&n);

	for (int i = 0; i < n; i++)
		if (rows[i].cpython && !strcmp(rows[i].version, version))
			return rows[i].cpython;
	fail_msg("no CPython %s row", version);
	return NULL;
}

static void test_313_as_written_before(void **state)
{
	unsigned char raw[PY_DEBUG_BYTES];
	struct cpython_layout l = *row_layout("3.13");
	struct py_debug d;
	char err[256];

	(void)state;
	fake_debug_offsets_313(raw);
	assert_int_equal(py_debug__parse(raw, &d, err, sizeof(err)), 0);
	assert_int_equal(d.minor, 13);
	assert_false(d.guessed);
	assert_int_equal(py_debug__main_interp(&d), 0x15920);
	assert_int_equal(py_debug__layout(&d, &l, err, sizeof(err)), 0);
	/* The 3.13.0 row as gdb printed it (docs/cpython.md) */
	assert_int_equal(l.gil, 0x15920 + 0x1e48);
	assert_int_equal(l.locked, 16);
	assert_int_equal(l.frames.last_holder, 8);
	assert_int_equal(l.drop_req, 8);
	assert_int_equal(l.drop_req_off, 0x18);
	assert_int_equal(l.tstate_thread, 160);
	assert_int_equal(l.frames.tstate_frame, 72);
	assert_int_equal(l.frames.frame_code, 0);
	assert_int_equal(l.frames.frame_back, 8);
	assert_int_equal(l.frames.frame_instr, 56);
	assert_int_equal(l.frames.frame_owner, 70);
	assert_int_equal(l.code.firstlineno, 0x44);
	assert_int_equal(l.code.code_adaptive, 0xc8);
	assert_int_equal(l.code.filename, 112);
	assert_int_equal(l.code.ascii_data, 40);
	assert_int_equal(l.code.compact_data, 56);
}

static void test_refusals(void **state)
{
	unsigned char raw[PY_DEBUG_BYTES];
	struct cpython_layout l = *row_layout("3.13");
	struct py_debug d;
	char err[256];

	(void)state;
	fake_debug_offsets_313(raw);
	raw[0] = 'y';
	assert_int_equal(py_debug__parse(raw, &d, err, sizeof(err)), -ENOENT);
	fake_debug_offsets_313(raw);
	fake_put(raw, 8, 0x030c01f0);
	assert_int_equal(py_debug__parse(raw, &d, err, sizeof(err)), -EPROTONOSUPPORT);
	/* locked outside the GIL */
	fake_debug_offsets_313(raw);
	fake_put(raw, 136, 7752 + 4096);
	assert_int_equal(py_debug__parse(raw, &d, err, sizeof(err)), 0);
	assert_int_equal(py_debug__layout(&d, &l, err, sizeof(err)), -EPROTO);
}

/* The free-threaded 3.13.0rc2 of tools/ft-cpython, as gdb printed its
 * _PyRuntime.debug_offsets: the GIL state 8 bytes on (enabled first), a
 * 16-byte longer object header. Its row takes it; the GIL build's row
 * refuses it by name, and the other way round. */
static void test_313t(void **state)
{
	unsigned char raw[PY_DEBUG_BYTES];
	struct cpython_layout l = *row_layout("3.13t");
	struct py_debug d;
	char err[256];

	(void)state;
	fake_debug_offsets_313(raw);
	fake_put(raw, 16, 1);           /* free_threaded */
	fake_put(raw, 24, 328320);      /* sizeof(_PyRuntimeState) */
	fake_put(raw, 48, 215680);      /* sizeof(PyInterpreterState) */
	fake_put(raw, 120, 7776);       /* _gil */
	fake_put(raw, 128, 0);          /* _gil.enabled, from the GIL state's start */
	fake_put(raw, 136, 7800);       /* _gil.locked */
	fake_put(raw, 144, 7792);       /* _gil.last_holder */
	fake_put(raw, 544, 48);         /* PyASCIIObject.state */
	fake_put(raw, 560, 56);         /* sizeof(PyASCIIObject) */
	assert_int_equal(py_debug__parse(raw, &d, err, sizeof(err)), 0);
	assert_int_equal(d.v[PYDBG_STR_STATE], 48);
	assert_int_equal(py_debug__layout(&d, &l, err, sizeof(err)), 0);
	assert_true(l.free_threaded);
	assert_int_equal(l.gil, 328320 - 215680 + 7776);
	assert_int_equal(l.enabled, 0);
	assert_int_equal(l.interval, 8);
	assert_int_equal(l.frames.last_holder, 16);
	assert_int_equal(l.locked, 24);
	assert_int_equal(l.switch_number, 32);
	assert_int_equal(l.code.ascii_data, 56);
	/* The GIL build's row reads it 8 bytes off: refused. */
	l = *row_layout("3.13");
	assert_int_equal(py_debug__layout(&d, &l, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "layout check 'free_threaded' failed: its _Py_DebugOffsets "
			    "say free_threaded = 1, the file is named for a GIL build");
	/* And a GIL build named free-threaded. */
	fake_debug_offsets_313(raw);
	assert_int_equal(py_debug__parse(raw, &d, err, sizeof(err)), 0);
	l = *row_layout("3.13t");
	assert_int_equal(py_debug__layout(&d, &l, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "layout check 'free_threaded' failed: its _Py_DebugOffsets "
			    "say free_threaded = 0, the file is named for a free-threaded build");
}

/* A minor version newer than every description is read as the newest one,
 * marked as a guess for the live checks and the warning. */
static void test_newer_is_a_guess(void **state)
{
	unsigned char raw[PY_DEBUG_BYTES];
	struct py_debug d;
	char err[256];

	(void)state;
	fake_debug_offsets_313(raw);
	fake_put(raw, 8, 0x031000a1);
	assert_int_equal(py_debug__parse(raw, &d, err, sizeof(err)), 0);
	assert_int_equal(d.minor, 16);
	assert_true(d.guessed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_313_as_written_before),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_313t),
		cmocka_unit_test(test_newer_is_a_guess),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
