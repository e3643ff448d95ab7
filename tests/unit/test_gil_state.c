/* gil_state__read() on this process's own memory: a GIL laid out as the
 * runtime table says, with holders whose threads are real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "giltrace.h"
#include "target/gil_state.h"

/* struct _gil_runtime_state's head: interval, last_holder, locked, switch_number. */
struct fake_gil {
	__u64 interval;
	__u64 last_holder;
	__s32 locked;
	__s32 pad;
	__u64 switch_number;
	unsigned char rest[32];
};

/* A PyThreadState with its thread field at 16. */
struct fake_tstate {
	__u64 other[2];
	__u64 thread;
};

static struct cpython_layout layout(enum tstate_thread_how how)
{
	struct cpython_layout l = {
		.locked = offsetof(struct fake_gil, locked),
		.switch_number = offsetof(struct fake_gil, switch_number),
		.tstate_thread = offsetof(struct fake_tstate, thread),
		.thread_how = how,
		.frames = { .last_holder = offsetof(struct fake_gil, last_holder) },
	};

	return l;
}

static void test_native_holder(void **state)
{
	struct cpython_layout l = layout(THREAD_NATIVE);
	struct fake_tstate ts = { .thread = (__u64)gettid() };
	struct fake_gil gil = { .interval = 5000, .last_holder = (uintptr_t)&ts, .locked = 1,
				.switch_number = 1234 };
	struct gil_state st;

	(void)state;
	assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), 0);
	assert_int_equal(st.switch_number, 1234);
	assert_int_equal(st.holder_tid, gettid());
	assert_int_equal(st.flags, GIL_STATE_LOCKED);
}

/* 3.8-3.10: the tstate names a pthread_t; glibc's struct pthread has the tid. */
static void test_pthread_holder(void **state)
{
	struct cpython_layout l = layout(THREAD_PTHREAD);
	struct fake_tstate ts = { .thread = (__u64)pthread_self() };
	struct fake_gil gil = { .last_holder = (uintptr_t)&ts, .switch_number = 7 };
	struct gil_state st;

	(void)state;
	assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), 0);
	assert_int_equal(st.holder_tid, gettid());
	assert_int_equal(st.flags, 0);
}

/* A holder whose thread is no thread of the process is not named. */
static void test_holder_not_a_thread(void **state)
{
	struct cpython_layout l = layout(THREAD_NATIVE);
	struct fake_tstate ts = { .thread = 0x7ffffff0 };
	struct fake_gil gil = { .last_holder = (uintptr_t)&ts, .locked = 1, .switch_number = 9 };
	struct gil_state st;

	(void)state;
	assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), 0);
	assert_int_equal(st.holder_tid, 0);
	assert_int_equal(st.switch_number, 9);
	assert_int_equal(st.flags, GIL_STATE_LOCKED);
}

static void test_no_holder(void **state)
{
	struct cpython_layout l = layout(THREAD_NATIVE);
	struct fake_gil gil = { 0 };
	struct gil_state st;

	(void)state;
	assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), 0);
	assert_int_equal(st.flags, GIL_STATE_NO_HOLDER);
	assert_int_equal(st.holder_tid, 0);
}

/* A GIL not created yet, or destroyed at exit: locked is -1. */
static void test_gil_not_created(void **state)
{
	struct cpython_layout l = layout(THREAD_NATIVE);
	struct fake_gil gil = { .locked = -1 };
	struct gil_state st;

	(void)state;
	assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), 0);
	assert_int_equal(st.flags, GIL_STATE_NO_HOLDER);
}

/* locked is -1, 0 or 1 in every real GIL: anything else is a wrong layout. */
static void test_wrong_layout_refused(void **state)
{
	struct cpython_layout l = layout(THREAD_NATIVE);
	struct fake_gil gil = { .locked = 5000 };
	struct gil_state st;

	(void)state;
	assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), -EPROTO);
	l.switch_number = 60;
	assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), -EPROTO);
}

/* Free-threaded builds: int enabled first, everything after it 8 bytes on;
 * enabled is read once the GIL is created (interval set, locked 0 or 1). */
struct fake_ft_gil {
	__s32 enabled;
	__s32 pad;
	struct fake_gil rest;
};

static void test_free_threaded(void **state)
{
	struct cpython_layout l = layout(THREAD_NATIVE);
	struct fake_ft_gil gil = { .rest = { .interval = 5000, .switch_number = 77 } };
	struct gil_state st;
	const struct { __s32 enabled, locked; __u64 interval; int flags; } cases[] = {
		{ 0, 0, 5000, GIL_STATE_FREE_THREADED | GIL_STATE_GIL_OFF },
		{ 1, 1, 5000, GIL_STATE_FREE_THREADED | GIL_STATE_LOCKED },
		{ 0x7fffffff, 0, 5000, GIL_STATE_FREE_THREADED | GIL_STATE_GIL_FOR_GOOD },
		/* not created yet: static zeros, then locked -1 (_gil_initialize) */
		{ 0, 0, 0, 0 },
		{ 0x7fffffff, -1, 5000, 0 },
	};

	(void)state;
	l.free_threaded = true;
	l.enabled = 0;
	l.interval = offsetof(struct fake_ft_gil, rest);
	l.locked += offsetof(struct fake_ft_gil, rest);
	l.switch_number += offsetof(struct fake_ft_gil, rest);
	l.frames.last_holder += offsetof(struct fake_ft_gil, rest);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gil.enabled = cases[i].enabled;
		gil.rest.locked = cases[i].locked;
		gil.rest.interval = cases[i].interval;
		assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), 0);
		assert_int_equal(st.flags, cases[i].flags | GIL_STATE_NO_HOLDER);
		assert_int_equal(st.switch_number, 77);
	}
	gil.enabled = -3; /* in a created GIL: no count of imports is negative */
	gil.rest.locked = 0;
	assert_int_equal(gil_state__read((__u32)getpid(), (uintptr_t)&gil, &l, &st), -EPROTO);
}

static void test_unmapped(void **state)
{
	struct cpython_layout l = layout(THREAD_NATIVE);
	struct gil_state st;

	(void)state;
	assert_int_equal(gil_state__read((__u32)getpid(), 0x10, &l, &st), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native_holder),
		cmocka_unit_test(test_free_threaded),
		cmocka_unit_test(test_pthread_holder),
		cmocka_unit_test(test_holder_not_a_thread),
		cmocka_unit_test(test_no_holder),
		cmocka_unit_test(test_gil_not_created),
		cmocka_unit_test(test_wrong_layout_refused),
		cmocka_unit_test(test_unmapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
