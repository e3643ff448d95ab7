/*
 * target/proc.c's text parsers on files written here (/proc/PID/status,
 * /proc/PID/maps), and its readers on this very process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "target/proc.h"

static FILE *text(const char *s)
{
	FILE *f = fmemopen((void *)s, strlen(s), "r");

	assert_non_null(f);
	return f;
}

static int status_of(const char *s)
{
	FILE *f = text(s);
	int ret = proc__parse_status(f);

	fclose(f);
	return ret;
}

static void test_status(void **state)
{
	(void)state;
	assert_int_equal(status_of("Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\n"
				   "Tgid:\t42\n"), 0);
	assert_int_equal(status_of("Name:\tpython3\nState:\tR (running)\n"), 0);
	assert_int_equal(status_of("Name:\tpython3\nState:\tZ (zombie)\n"), -ECHILD);
	assert_int_equal(status_of("Name:\tpython3\nState:\tX (dead)\n"), -ECHILD);
	/* Only the State line counts: a Z in another line is no zombie. */
	assert_int_equal(status_of("Name:\tZZtop\nState:\tS (sleeping)\n"), 0);
	assert_int_equal(status_of(""), 0);
}

#define MAX_SEEN 8

struct seen {
	struct proc_mapping m[MAX_SEEN];
	int n;
	int stop_after; /* 0: never */
};

static int collect(const struct proc_mapping *m, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < MAX_SEEN);
	s->m[s->n++] = *m;
	return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

static const char maps[] =
	"00400000-00421000 r--p 00000000 08:01 131 /usr/bin/python3.11\n"
	"00421000-006d7000 r-xp 00021000 08:01 131 /usr/bin/python3.11\n"
	"01a3e000-01b8f000 rw-p 00000000 00:00 0                                  [heap]\n"
	"7f0c1c000000-7f0c1c021000 rw-p 00000000 00:00 0 \n"
	"7f0c20a00000-7f0c20a28000 r--p 00000000 08:01 2611 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7f0c20b00000-7f0c20b01000 r--p 00000000 08:01 99 /tmp/dir with spaces/lib x.so (deleted)\n"
	"7ffd6b1e8000-7ffd6b209000 rw-p 00000000 00:00 0                          [stack]\n"
	"garbage line\n";

static void test_maps(void **state)
{
	struct seen s = { .n = 0 };
	FILE *f = text(maps);

	(void)state;
	assert_int_equal(proc__parse_maps(f, collect, &s), 0);
	fclose(f);
	/* Files only, each once (its first mapping); anonymous, [heap],
	 * [stack] and unparsable lines are skipped. */
	assert_int_equal(s.n, 3);
	assert_string_equal(s.m[0].path, "/usr/bin/python3.11");
	assert_int_equal(s.m[0].start, 0x400000);
	assert_int_equal(s.m[0].end, 0x421000);
	assert_int_equal(s.m[0].offset, 0);
	assert_string_equal(s.m[1].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(s.m[1].start, 0x7f0c20a00000ull);
	assert_int_equal(s.m[1].end, 0x7f0c20a28000ull);
	/* The path is the rest of the line, spaces and all. */
	assert_string_equal(s.m[2].path, "/tmp/dir with spaces/lib x.so (deleted)");
}

static void test_maps_offset_and_stop(void **state)
{
	static const char two[] =
		"7f0000001000-7f0000002000 r-xp 00003000 08:01 5 /lib/a.so\n"
		"7f0000005000-7f0000006000 r--p 00000000 08:01 6 /lib/b.so\n";
	struct seen s = { .stop_after = 1 };
	FILE *f = text(two);

	(void)state;
	/* fn's non-zero value stops the walk and is returned. */
	assert_int_equal(proc__parse_maps(f, collect, &s), 7);
	fclose(f);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.m[0].path, "/lib/a.so");
	assert_int_equal(s.m[0].offset, 0x3000);
}

static void test_this_process(void **state)
{
	char comm[32], exe[PROC_PATH_MAX], self[PROC_PATH_MAX];
	__u32 pid = (__u32)getpid();
	ssize_t n;

	(void)state;
	assert_int_equal(proc__check(pid), 0);
	/* beyond pid_max (at most 2^22) */
	assert_int_equal(proc__check(1u << 30), -ESRCH);
	proc__comm(pid, pid, comm, sizeof(comm));
	assert_string_equal(comm, "test_proc");
	proc__comm(1u << 30, 1u << 30, comm, sizeof(comm));
	assert_string_equal(comm, "?");
	assert_int_equal(proc__exe(pid, exe, sizeof(exe)), 0);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_string_equal(exe, self);
	assert_int_equal(proc__exe(1u << 30, exe, sizeof(exe)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_maps_offset_and_stop),
		cmocka_unit_test(test_this_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
