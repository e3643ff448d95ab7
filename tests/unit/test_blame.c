/*
 * Blame: the engine's attribution of waits and holds to holder stacks, the
 * merge of stack ids into rows, the line-table decoders of CPython 3.9,
 * 3.10 and 3.11+, and stack records in captures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blame/resolve.h"
#include "blame/rows.h"
#include "capture/reader.h"
#include "capture/writer.h"
#include "engine/engine.h"
#include "target/pyobj.h"

#define MS 1000000ull
#define TGID 100
#define HOLDER 101
#define WAITER 102
#define WAITER2 103
#define STACK_A 0x1000
#define STACK_B 0x2000

static void feed(struct engine *eng, __u64 ts, __u16 kind, __u32 tid, __u64 value)
{
	struct gil_event ev = { .ts = ts, .kind = kind, .tgid = TGID, .tid = tid, .value = value };

	engine__feed(eng, &ev);
}

static const struct engine_blame *find(const struct engine *eng, __u64 id)
{
	const struct engine_blame *v[16];
	size_t n = engine__blame(eng, v, 16);

	for (size_t i = 0; i < n && i < 16; i++)
		if (v[i]->id == id)
			return v[i];
	return NULL;
}

/* A wait is cut at its samples; each stretch goes to the stack sampled at
 * its start. The sampled hold starts at the acquisition. */
static void test_wait_split_at_samples(void **state)
{
	struct engine *eng = engine__new(NULL);
	struct engine_blame_totals tot;
	__u32 tid;

	(void)state;
	feed(eng, 8 * MS, GIL_EV_ACQUIRE, HOLDER, 0);
	feed(eng, 10 * MS, GIL_EV_WAIT, WAITER, 0);
	feed(eng, 10 * MS, GIL_EV_HOLDER_STACK, WAITER, STACK_A);
	assert_int_equal(engine__blame_holder(eng, TGID, &tid), STACK_A);
	assert_int_equal(tid, HOLDER);
	feed(eng, 15 * MS, GIL_EV_TIMEOUT, WAITER, 0);
	feed(eng, 15 * MS, GIL_EV_HOLDER_STACK, WAITER, STACK_B);
	feed(eng, 18 * MS, GIL_EV_FORCED_RELEASE, HOLDER, 0);
	assert_int_equal(engine__blame_holder(eng, TGID, &tid), 0);
	feed(eng, 18 * MS, GIL_EV_ACQUIRE, WAITER, 0);
	/* not sampled as a holder yet */
	assert_int_equal(engine__blame_holder(eng, TGID, &tid), BLAME_ID_UNKNOWN);
	assert_int_equal(tid, WAITER);

	assert_int_equal(find(eng, STACK_A)->wait_ns, 5 * MS);
	assert_int_equal(find(eng, STACK_B)->wait_ns, 3 * MS);
	assert_int_equal(find(eng, STACK_A)->hold_ns, 2 * MS + 5 * MS);
	assert_int_equal(find(eng, STACK_B)->hold_ns, 3 * MS);
	assert_int_equal(find(eng, STACK_A)->samples, 1);
	engine__blame_totals(eng, &tot);
	assert_int_equal(tot.wait_ns, 8 * MS);
	assert_int_equal(tot.hold_ns, 10 * MS);
	assert_int_equal(tot.samples, 2);
	assert_int_equal(tot.stacks, 2);
	engine__free(eng);
}

/* Two waiters on one holder: the caused wait is the sum of both. A new
 * holder runs its last sampled stack until sampled, else "[unknown]";
 * waiting while the GIL is free is unattributed. */
static void test_two_waiters_and_unknown(void **state)
{
	struct engine *eng = engine__new(NULL);
	struct engine_blame_totals tot;

	(void)state;
	feed(eng, 0, GIL_EV_ACQUIRE, HOLDER, 0);
	feed(eng, 1 * MS, GIL_EV_WAIT, WAITER, 0);
	feed(eng, 1 * MS, GIL_EV_HOLDER_STACK, WAITER, STACK_A);
	feed(eng, 2 * MS, GIL_EV_WAIT, WAITER2, 0);
	feed(eng, 2 * MS, GIL_EV_HOLDER_STACK, WAITER2, BLAME_ID_UNKNOWN);
	feed(eng, 4 * MS, GIL_EV_HOLDER_STACK, HOLDER, STACK_A);
	feed(eng, 4 * MS, GIL_EV_FORCED_RELEASE, HOLDER, 0);
	feed(eng, 4 * MS, GIL_EV_ACQUIRE, WAITER, 0);
	feed(eng, 5 * MS, GIL_EV_RELEASE, WAITER, 0);
	feed(eng, 5 * MS, GIL_EV_ACQUIRE, WAITER2, 0);

	/* 1-2 ms: one waiter on A; 2-4: two on UNKNOWN; 4-5: W2 on W,
	 * never sampled: UNKNOWN */
	assert_int_equal(find(eng, STACK_A)->wait_ns, 1 * MS);
	assert_int_equal(find(eng, BLAME_ID_UNKNOWN)->wait_ns, 5 * MS);
	/* 0-1 ms to A (first sample), 1-2 to A, 2-4 to UNKNOWN, 4 forced */
	assert_int_equal(find(eng, STACK_A)->hold_ns, 2 * MS);
	assert_int_equal(find(eng, BLAME_ID_UNKNOWN)->hold_ns, 2 * MS);
	engine__blame_totals(eng, &tot);
	assert_int_equal(tot.unknown_samples, 1);
	assert_int_equal(tot.wait_ns, 6 * MS);
	assert_int_equal(tot.unattributed_ns, 0);
	engine__free(eng);
}

/* A thread sampled as holder before is assumed to run that stack again
 * when it re-acquires; a wait across a hand-off (GIL released, next holder
 * not yet running) is unattributed. */
static void test_handoff_and_reacquire(void **state)
{
	struct engine *eng = engine__new(NULL);
	struct engine_blame_totals tot;

	(void)state;
	feed(eng, 0, GIL_EV_ACQUIRE, HOLDER, 0);
	feed(eng, 0, GIL_EV_WAIT, WAITER, 0);
	feed(eng, 0, GIL_EV_HOLDER_STACK, WAITER, STACK_A);
	feed(eng, 2 * MS, GIL_EV_RELEASE, HOLDER, 0);
	feed(eng, 3 * MS, GIL_EV_ACQUIRE, HOLDER, 0); /* barges in again */
	feed(eng, 7 * MS, GIL_EV_RELEASE, HOLDER, 0);
	feed(eng, 7 * MS, GIL_EV_ACQUIRE, WAITER, 0);
	assert_int_equal(find(eng, STACK_A)->wait_ns, 6 * MS);
	/* the second hold was not sampled: no hold time for it */
	assert_int_equal(find(eng, STACK_A)->hold_ns, 2 * MS);
	engine__blame_totals(eng, &tot);
	assert_int_equal(tot.unattributed_ns, 1 * MS);
	engine__free(eng);
}

/* Ids that resolve to the same frames are one row; rows sort by wait;
 * ids without a resolved stack are "[unknown]". */
static void test_rows_merge(void **state)
{
	struct engine *eng = engine__new(NULL);
	struct stack_table *tab = stack_table__new();
	struct blame_frame hog[] = { { "hog", "/t/x.py", 12 }, { "run", "/t/threading.py", 9 } };
	struct blame_rows rows;

	(void)state;
	stack_table__add(tab, TGID, STACK_A, 0, hog, 2);
	stack_table__add(tab, TGID, STACK_B, 0, hog, 2);
	feed(eng, 0, GIL_EV_ACQUIRE, HOLDER, 0);
	feed(eng, 0, GIL_EV_WAIT, WAITER, 0);
	feed(eng, 0, GIL_EV_HOLDER_STACK, WAITER, STACK_A);
	feed(eng, 1 * MS, GIL_EV_HOLDER_STACK, WAITER, STACK_B);
	feed(eng, 2 * MS, GIL_EV_HOLDER_STACK, WAITER, 0x3000);
	feed(eng, 3 * MS, GIL_EV_RELEASE, HOLDER, 0);
	feed(eng, 3 * MS, GIL_EV_ACQUIRE, WAITER, 0);
	assert_int_equal(blame_rows__build(&rows, eng, tab, BLAME_BY_WAIT), 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.v[0].wait_ns, 2 * MS);
	assert_string_equal(rows.v[0].frames[0].name, "hog");
	assert_int_equal(rows.v[0].frames[0].line, 12);
	assert_true(rows.v[0].wait_share > 0.66 && rows.v[0].wait_share < 0.67);
	assert_string_equal(rows.v[1].special, "[unknown]");
	blame_rows__free(&rows);
	stack_table__free(tab);
	engine__free(eng);
}

/* 3.9 co_lnotab: (byte delta, signed line delta) pairs. */
static void test_lines_lnotab(void **state)
{
	/* line 10 at 0, 11 from byte 4, 13 from byte 10, 12 from byte 20 */
	static const unsigned char t[] = { 4, 1, 6, 2, 10, 0xff };

	(void)state;
	assert_int_equal(pyobj__line(LINES_LNOTAB, t, sizeof(t), 10, 0), 10);
	assert_int_equal(pyobj__line(LINES_LNOTAB, t, sizeof(t), 10, 4), 11);
	assert_int_equal(pyobj__line(LINES_LNOTAB, t, sizeof(t), 10, 9), 11);
	assert_int_equal(pyobj__line(LINES_LNOTAB, t, sizeof(t), 10, 10), 13);
	assert_int_equal(pyobj__line(LINES_LNOTAB, t, sizeof(t), 10, 30), 12);
}

/* 3.10 co_linetable: (byte length, line delta or -128 for none). */
static void test_lines_linetable(void **state)
{
	/* [0,6) line 5, [6,8) no line, [8,14) line 7 */
	static const unsigned char t[] = { 6, 0, 2, 0x80, 6, 2 };

	(void)state;
	assert_int_equal(pyobj__line(LINES_LINETABLE, t, sizeof(t), 5, 0), 5);
	assert_int_equal(pyobj__line(LINES_LINETABLE, t, sizeof(t), 5, 5), 5);
	assert_int_equal(pyobj__line(LINES_LINETABLE, t, sizeof(t), 5, 6), 0);
	assert_int_equal(pyobj__line(LINES_LINETABLE, t, sizeof(t), 5, 8), 7);
	assert_int_equal(pyobj__line(LINES_LINETABLE, t, sizeof(t), 5, 14), 0);
}

/* 3.11+ location table (Objects/locations.md): short forms, one-line
 * forms, no-column and long forms with signed varint deltas. */
static void test_lines_locations(void **state)
{
	static const unsigned char t[] = {
		0x80 | 0 << 3 | 1, 0x00,       /* short form, 2 units, line +0 */
		0x80 | 11 << 3 | 0, 4, 8,      /* one-line form +1, 1 unit */
		0x80 | 13 << 3 | 2, 2 << 1,    /* no column, +2, 3 units */
		0x80 | 14 << 3 | 0, (3 << 1) | 1, 0, 0, 0, /* long form, -3, 1 unit */
		0x80 | 15 << 3 | 1,            /* no location, 2 units */
		0x80 | 13 << 3 | 0, 0x40 | 8, 1, /* no column, varint 72 = +36 */
	};

	(void)state;
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, 0), 20);
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, 1), 20);
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, 2), 21);
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, 3), 23);
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, 5), 23);
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, 6), 20);
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, 7), 0);
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, 9), 56);
	/* before the first instruction (3.11 prev_instr at frame start) */
	assert_int_equal(pyobj__line(LINES_LOCATIONS, t, sizeof(t), 20, -1), 20);
}

static int tmp_fd(char *path)
{
	strcpy(path, "/tmp/giltrace-blame-XXXXXX");
	return mkstemp(path);
}

/* A blame capture is version 3 and carries stacks before the events that
 * name them; without blame the writer stays at version 1 and refuses stacks. */
static void test_capture_stacks(void **state)
{
	struct trace_meta meta = { .pid = TGID };
	struct capture_writer_opts wo = { .blame = true };
	struct blame_frame hog[] = { { "hog", "/t/x.py", 12 }, { "run", "", 0 } };
	struct gil_event ev = { .ts = 5, .kind = GIL_EV_HOLDER_STACK, .tgid = TGID, .tid = WAITER,
				.value = STACK_A, .ret = 2 };
	struct capture_record rec;
	struct capture_reader *r;
	struct capture_writer *w;
	char path[64], err[256];
	unsigned char hdr[10];
	int fd;

	(void)state;
	fd = tmp_fd(path);
	w = capture_writer__open_fd(fd, &meta, &wo, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(capture_writer__add_stack(w, TGID, STACK_A, BLAME_STACK_TRUNCATED, hog, 2),
			 0);
	assert_int_equal(capture_writer__add_event(w, &ev), 0);
	assert_int_equal(capture_writer__close(w, err, sizeof(err)), 0);

	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, hdr, sizeof(hdr)), sizeof(hdr));
	close(fd);
	assert_int_equal(hdr[8], 3);
	r = capture_reader__open(path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(capture_reader__next(r, &rec), 1);
	assert_int_equal(rec.kind, CAPTURE_REC_STACK);
	assert_int_equal(rec.stack.tgid, TGID);
	assert_int_equal(rec.stack.id, STACK_A);
	assert_int_equal(rec.stack.flags, BLAME_STACK_TRUNCATED);
	assert_int_equal(rec.stack.nframes, 2);
	assert_string_equal(rec.stack.frames[0].name, "hog");
	assert_string_equal(rec.stack.frames[0].file, "/t/x.py");
	assert_int_equal(rec.stack.frames[0].line, 12);
	assert_string_equal(rec.stack.frames[1].file, "");
	assert_int_equal(capture_reader__next(r, &rec), 1);
	assert_int_equal(rec.kind, CAPTURE_REC_EVENT);
	assert_int_equal(rec.event.kind, GIL_EV_HOLDER_STACK);
	assert_int_equal(rec.event.value, STACK_A);
	assert_int_equal(rec.event.ret, 2);
	assert_int_equal(capture_reader__next(r, &rec), 0);
	assert_int_equal(capture_reader__status(r)->stacks, 1);
	capture_reader__free(r);
	unlink(path);

	fd = tmp_fd(path);
	w = capture_writer__open_fd(fd, &meta, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(capture_writer__add_stack(w, TGID, STACK_A, 0, hog, 2), -EINVAL);
	assert_int_equal(capture_writer__close(w, err, sizeof(err)), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, hdr, sizeof(hdr)), sizeof(hdr));
	close(fd);
	assert_int_equal(hdr[8], 1);
	unlink(path);
}

/* The stack table keys on (tgid, id): the same id in two processes is two
 * stacks; strings are interned (one copy however many frames name them). */
static void test_stack_table(void **state)
{
	struct stack_table *tab = stack_table__new();
	struct blame_frame f[] = { { "hog", "/t/x.py", 12 }, { "run", NULL, 9 } };
	const struct blame_resolved *a, *b;
	char name[32];

	(void)state;
	assert_null(stack_table__find(tab, TGID, STACK_A));
	assert_int_equal(stack_table__add(tab, TGID, STACK_A, 1, f, 2), 0);
	assert_int_equal(stack_table__add(tab, TGID + 1, STACK_A, 2, f, 1), 0);
	/* a second add of a key is ignored */
	assert_int_equal(stack_table__add(tab, TGID, STACK_A, 3, f, 1), 0);
	/* ids that are no stack are never stored */
	assert_int_equal(stack_table__add(tab, TGID, BLAME_ID_UNKNOWN, 0, f, 1), 0);
	assert_null(stack_table__find(tab, TGID, BLAME_ID_UNKNOWN));
	a = stack_table__find(tab, TGID, STACK_A);
	b = stack_table__find(tab, TGID + 1, STACK_A);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->flags, 1);
	assert_int_equal(a->nframes, 2);
	assert_int_equal(b->flags, 2);
	assert_int_equal(b->nframes, 1);
	assert_ptr_equal(a->frames[0].name, b->frames[0].name);
	assert_ptr_not_equal(a->frames[0].name, f[0].name);
	assert_string_equal(a->frames[1].file, "");
	assert_null(stack_table__find(tab, TGID + 2, STACK_A));
	/* many stacks and names: the table grows and keeps them all */
	for (__u64 id = 0; id < 5000; id++) {
		struct blame_frame g = { name, "/t/y.py", (__u32)id };

		snprintf(name, sizeof(name), "f%llu", (unsigned long long)(id % 700));
		assert_int_equal(stack_table__add(tab, TGID, (1ULL << 40) + id, 0, &g, 1), 0);
	}
	for (__u64 id = 0; id < 5000; id++) {
		a = stack_table__find(tab, TGID, (1ULL << 40) + id);
		assert_non_null(a);
		assert_int_equal(a->frames[0].line, (__u32)id);
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)(id % 700));
		assert_string_equal(a->frames[0].name, name);
		b = stack_table__find(tab, TGID, (1ULL << 40) + id % 700);
		assert_ptr_equal(a->frames[0].name, b->frames[0].name);
	}
	stack_table__free(tab);
}

/* CPython objects as the resolver reads them (type name at type + 24,
 * compact ASCII text after a 48-byte header), built in this process. */
struct fake_type {
	__u64 pad[3];
	const char *tp_name;
};

struct fake_str {
	__u64 refcnt;
	const struct fake_type *type;
	__u64 len;
	__u64 hash;
	__u32 state;
	__u32 pad;
	__u64 pad2;
	char text[16];
};

struct fake_code {
	__u64 refcnt;
	const struct fake_type *type;
	const struct fake_str *filename;
	const struct fake_str *name;
	__s32 firstlineno;
	__u32 pad;
	__u64 linetable; /* none: the frame's line is the first */
};

static const struct fake_type str_type = { .tp_name = "str" };
static const struct fake_type code_type = { .tp_name = "code" };

static void fake_str_set(struct fake_str *s, const char *text)
{
	s->type = &str_type;
	s->len = strlen(text);
	s->state = 1u << 2 | 1u << 5 | 1u << 6; /* 1-byte kind, compact, ASCII */
	snprintf(s->text, sizeof(s->text), "%s", text);
}

/* The resolver caches code objects by (pid, address) until the process is
 * forgotten; what it cannot read is "[unknown]". */
static void test_resolver_cache_and_forget(void **state)
{
	const struct cpython_code_layout cl = {
		.filename = offsetof(struct fake_code, filename),
		.name = offsetof(struct fake_code, name),
		.firstlineno = offsetof(struct fake_code, firstlineno),
		.linetable = offsetof(struct fake_code, linetable),
		.lines = LINES_LNOTAB,
		.instr = INSTR_LASTI_BYTES,
		.ascii_data = offsetof(struct fake_str, text),
		.compact_data = offsetof(struct fake_str, text),
	};
	static struct fake_str file, name;
	static struct fake_code code;
	struct blame_resolver *r = resolver__new();
	struct blame_frame out[BLAME_MAX_FRAMES];
	struct blame_stack raw = { .nframes = 2 };
	__u32 self = (__u32)getpid();

	(void)state;
	assert_non_null(r);
	fake_str_set(&file, "/t/x.py");
	fake_str_set(&name, "hog");
	code.type = &code_type;
	code.filename = &file;
	code.name = &name;
	code.firstlineno = 12;
	raw.frames[0].code = (__u64)(uintptr_t)&code;
	raw.frames[1].code = (__u64)(uintptr_t)&name; /* a str, not a code object */
	assert_int_equal(resolver__resolve(r, self, &cl, &raw, out), 2);
	assert_string_equal(out[0].name, "hog");
	assert_string_equal(out[0].file, "/t/x.py");
	assert_int_equal(out[0].line, 12);
	assert_string_equal(out[1].name, "[unknown]");
	/* cached: a changed object reads the same until its process is forgotten */
	fake_str_set(&name, "spin");
	resolver__resolve(r, self, &cl, &raw, out);
	assert_string_equal(out[0].name, "hog");
	resolver__forget(r, self + 1);
	resolver__resolve(r, self, &cl, &raw, out);
	assert_string_equal(out[0].name, "hog");
	resolver__forget(r, self);
	resolver__resolve(r, self, &cl, &raw, out);
	assert_string_equal(out[0].name, "spin");
	resolver__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_split_at_samples),
		cmocka_unit_test(test_two_waiters_and_unknown),
		cmocka_unit_test(test_handoff_and_reacquire),
		cmocka_unit_test(test_rows_merge),
		cmocka_unit_test(test_stack_table),
		cmocka_unit_test(test_resolver_cache_and_forget),
		cmocka_unit_test(test_lines_lnotab),
		cmocka_unit_test(test_lines_linetable),
		cmocka_unit_test(test_lines_locations),
		cmocka_unit_test(test_capture_stacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
