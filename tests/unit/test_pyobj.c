/*
 * target/pyobj.c reads CPython objects out of a process: here, objects
 * laid out by hand in this test's own memory (read back through
 * process_vm_readv on our own PID), with the 3.11 and 3.12 code layouts
 * of the runtime table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fake_debug_offsets.h"
#include "target/pyobj.h"
#include "target/runtimes.h"

/* A type object: tp_name at 24. */
struct fake_type {
	__u64 pad[3];
	const char *tp_name;
};

static struct fake_type str_type = { .tp_name = "str" };
static struct fake_type bytes_type = { .tp_name = "bytes" };
static struct fake_type code_type = { .tp_name = "code" };
static struct fake_type int_type = { .tp_name = "int" };

static __u64 addr(const void *p)
{
	return (__u64)(uintptr_t)p;
}

static void put_u64(unsigned char *obj, size_t off, __u64 v)
{
	memcpy(obj + off, &v, sizeof(v));
}

/* A compact str: length at 16, state at 32 (kind << 2, compact 1 << 5,
 * ascii 1 << 6), the characters at data. */
static void make_str(unsigned char *obj, const struct fake_type *type, const void *chars,
		     size_t len, unsigned int kind, int ascii, size_t data)
{
	__u32 state = kind << 2 | 1u << 5 | (ascii ? 1u << 6 : 0);

	put_u64(obj, 8, addr(type));
	put_u64(obj, 16, len);
	memcpy(obj + 32, &state, sizeof(state));
	memcpy(obj + data, chars, len * kind);
}

/* A row's code layout; 3.13's completed from pyenv 3.13.0's debug offsets. */
static const struct cpython_code_layout *layout(const char *version)
{
	static struct cpython_layout from_debug;
	unsigned char raw[PY_DEBUG_BYTES];
	struct py_debug d;
	char err[256];
	int n;
	const struct runtime_row *rows = runtimes__table(&n);

	for (int i = 0; i < n; i++) {
		if (strcmp(rows[i].name, "cpython") || strcmp(rows[i].version, version))
			continue;
		if (!rows[i].cpython->debug_offsets)
			return &rows[i].cpython->code;
		from_debug = *rows[i].cpython;
		fake_debug_offsets_313(raw);
		assert_int_equal(py_debug__parse(raw, &d, err, sizeof(err)), 0);
		assert_int_equal(py_debug__layout(&d, &from_debug, err, sizeof(err)), 0);
		return &from_debug.code;
	}
	fail_msg("no CPython %s row", version);
	return NULL;
}

/* 3.11+ location table, first line 10: 2 code units on line 11 (code 11:
 * one-line form, +1), 1 unit on line 13 (code 12, +2), 1 without a line
 * (code 15). */
static const unsigned char locations[] = { 0xd9, 0, 0, 0xe0, 0, 0, 0xf8 };

struct fake_code {
	unsigned char code[0x100];
	unsigned char file[96], name[96], qualname[96], lines[64];
};

static void make_code(struct fake_code *c, const struct cpython_code_layout *cl,
		      const struct fake_type *type)
{
	static const __u16 ucs2[] = { 'c', 'a', 'f', 0xe9, '.', 'p', 'y' }; /* café.py */
	__s32 first = 10;

	memset(c, 0, sizeof(*c));
	put_u64(c->code, 8, addr(type));
	make_str(c->file, &str_type, ucs2, 7, 2, 0, cl->compact_data);
	make_str(c->name, &str_type, "run", 3, 1, 1, cl->ascii_data);
	make_str(c->qualname, &str_type, "Thread.run", 10, 1, 1, cl->ascii_data);
	put_u64(c->lines, 8, addr(&bytes_type));
	put_u64(c->lines, 16, sizeof(locations));
	memcpy(c->lines + 32, locations, sizeof(locations));
	put_u64(c->code, cl->filename, addr(c->file));
	put_u64(c->code, cl->name, addr(c->name));
	put_u64(c->code, cl->qualname, addr(c->qualname));
	put_u64(c->code, cl->linetable, addr(c->lines));
	memcpy(c->code + cl->firstlineno, &first, sizeof(first));
}

static void test_read_code(void **state)
{
	const char *versions[] = { "3.11", "3.12", "3.13" };

	(void)state;
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		const struct cpython_code_layout *cl = layout(versions[v]);
		static struct fake_code c;
		struct pyobj_code pc;
		__u64 at = addr(c.code);

		make_code(&c, cl, &code_type);
		assert_int_equal(pyobj__read_code((__u32)getpid(), at, cl, &pc), 0);
		assert_string_equal(pc.name, "Thread.run"); /* co_qualname */
		assert_string_equal(pc.file, "caf\xc3\xa9.py");   /* UCS-2 as UTF-8 */
		assert_int_equal(pc.firstlineno, 10);
		assert_int_equal(pc.nlines, sizeof(locations));
		assert_memory_equal(pc.lines, locations, sizeof(locations));
		/* The frame's instruction pointer: 2 bytes a code unit past
		 * co_code_adaptive. */
		assert_int_equal(pyobj__frame_line(cl, at, &pc, at + cl->code_adaptive), 11);
		assert_int_equal(pyobj__frame_line(cl, at, &pc, at + cl->code_adaptive + 2), 11);
		assert_int_equal(pyobj__frame_line(cl, at, &pc, at + cl->code_adaptive + 4), 13);
		/* no line, past the table, before the code: the first line */
		assert_int_equal(pyobj__frame_line(cl, at, &pc, at + cl->code_adaptive + 6), 10);
		assert_int_equal(pyobj__frame_line(cl, at, &pc, at + cl->code_adaptive + 40), 10);
		assert_int_equal(pyobj__frame_line(cl, at, &pc, at), 10);
		pyobj_code__free(&pc);
		assert_null(pc.name);
	}
}

/* Not a code object, a name that is no str, an unreadable address: refused,
 * nothing left to free. */
static void test_refuses_other_objects(void **state)
{
	const struct cpython_code_layout *cl = layout("3.11");
	static struct fake_code c;
	struct pyobj_code pc;
	__u32 pid = (__u32)getpid();

	(void)state;
	make_code(&c, cl, &int_type);
	assert_int_equal(pyobj__read_code(pid, addr(c.code), cl, &pc), -EFAULT);
	assert_null(pc.name);
	assert_null(pc.file);
	make_code(&c, cl, &code_type);
	put_u64(c.qualname, 8, addr(&bytes_type));
	assert_int_equal(pyobj__read_code(pid, addr(c.code), cl, &pc), -EFAULT);
	assert_null(pc.name);
	assert_null(pc.file);
	assert_int_equal(pyobj__read_code(pid, 0, cl, &pc), -EFAULT);
	assert_int_equal(pyobj__read_code(pid, 8, cl, &pc), -EFAULT);
	/* A line table that is no bytes object: the name stays, lines go. */
	make_code(&c, cl, &code_type);
	put_u64(c.lines, 8, addr(&str_type));
	assert_int_equal(pyobj__read_code(pid, addr(c.code), cl, &pc), 0);
	assert_string_equal(pc.name, "Thread.run");
	assert_null(pc.lines);
	assert_int_equal(pyobj__frame_line(cl, addr(c.code), &pc, addr(c.code) + cl->code_adaptive),
			 10);
	pyobj_code__free(&pc);
}

/* 3.9 and 3.10 frames give f_lasti: bytes (3.9) or code units (3.10). */
static void test_frame_line_lasti(void **state)
{
	/* 3.9 co_lnotab, first line 20: +1 from byte 4, +2 from byte 10 */
	static unsigned char lnotab[] = { 4, 1, 6, 2 };
	/* 3.10 co_linetable: 4 bytes on +0, 6 bytes on +3 */
	static unsigned char linetable[] = { 4, 0, 6, 3 };
	struct pyobj_code pc = { .firstlineno = 20, .lines = lnotab, .nlines = sizeof(lnotab) };

	(void)state;
	assert_int_equal(pyobj__frame_line(layout("3.9"), 0x1000, &pc, 0), 20);
	assert_int_equal(pyobj__frame_line(layout("3.9"), 0x1000, &pc, 4), 21);
	assert_int_equal(pyobj__frame_line(layout("3.9"), 0x1000, &pc, 12), 23);
	pc.lines = linetable;
	pc.nlines = sizeof(linetable);
	/* f_lasti 1 is byte 2: line 20; f_lasti 3 is byte 6: line 23 */
	assert_int_equal(pyobj__frame_line(layout("3.10"), 0x1000, &pc, 1), 20);
	assert_int_equal(pyobj__frame_line(layout("3.10"), 0x1000, &pc, 3), 23);
	/* past the table: the first line */
	assert_int_equal(pyobj__frame_line(layout("3.10"), 0x1000, &pc, 50), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_code),
		cmocka_unit_test(test_refuses_other_objects),
		cmocka_unit_test(test_frame_line_lasti),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
