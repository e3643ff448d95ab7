/*
 * The live layout checks (user/target/layout_check.c) on a fake CPython
 * runtime in this process's own memory (they read with process_vm_readv):
 * a layout that fits passes, each way of not fitting is refused by the
 * check that names it, and a runtime that has not started is told apart.
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

#include "target/layout_check.h"

#define RUNTIME_SIZE 4096
#define INTERP_SIZE 1024
#define MAIN (RUNTIME_SIZE - INTERP_SIZE)
#define HEAD 1100     /* _PyRuntime.interpreters.head */
#define GIL_STATE 64  /* interp->_gil */
#define CEVAL_GIL 24  /* interp->ceval.gil */

static _Alignas(8) unsigned char runtime[RUNTIME_SIZE];
static _Alignas(8) unsigned char tstate[256];
static const unsigned char file_head[16] = "xdebugpy\xf0\x00\x0d\x03\0\0\0";

static void put(unsigned char *at, __u64 v)
{
	memcpy(at, &v, sizeof(v));
}

static __u64 addr(const void *p)
{
	return (__u64)(uintptr_t)p;
}

static unsigned char *gil(void)
{
	return runtime + MAIN + GIL_STATE;
}

/* A started 3.13-like runtime: one interpreter (id 0, the last field), its
 * ceval.gil at its _gil, held by this thread. */
static void make(struct py_debug *d, struct cpython_layout *l)
{
	memset(runtime, 0, sizeof(runtime));
	memset(tstate, 0, sizeof(tstate));
	memcpy(runtime, file_head, sizeof(file_head));
	put(runtime + HEAD, addr(runtime + MAIN));
	put(runtime + MAIN + CEVAL_GIL, addr(gil()));
	put(gil(), 5000);                /* interval */
	put(gil() + 8, addr(tstate));    /* last_holder */
	put(gil() + 16, 1);              /* locked */
	put(tstate + 160, (__u64)getpid()); /* native_thread_id: a thread of ours */

	memset(d, 0, sizeof(*d));
	d->major = 3;
	d->minor = 13;
	d->v[PYDBG_RUNTIME_SIZE] = RUNTIME_SIZE;
	d->v[PYDBG_INTERP_SIZE] = INTERP_SIZE;
	d->v[PYDBG_INTERPRETERS_HEAD] = HEAD;
	d->v[PYDBG_INTERP_ID] = 8;
	d->v[PYDBG_INTERP_NEXT] = 16;
	d->v[PYDBG_CEVAL_GIL] = CEVAL_GIL;
	memset(l, 0, sizeof(*l));
	l->gil = MAIN + GIL_STATE;
	l->gil_size = 208;
	l->locked = 16;
	l->switch_number = 24;
	l->frames.last_holder = 8;
	l->tstate_thread = 160;
	l->thread_how = THREAD_NATIVE;
}

static int check(const struct py_debug *d, const struct cpython_layout *l, char *err)
{
	return layout_check__live((__u32)getpid(), addr(runtime), l, d, file_head, err, 256);
}

static void expect(const struct py_debug *d, const struct cpython_layout *l, const char *name)
{
	char err[256] = "", want[64];

	assert_int_equal(check(d, l, err), -EPROTO);
	snprintf(want, sizeof(want), "layout check '%s' failed", name);
	assert_non_null(strstr(err, want));
}

static void test_fits(void **state)
{
	struct py_debug d;
	struct cpython_layout l;
	char err[256];

	(void)state;
	make(&d, &l);
	assert_int_equal(check(&d, &l, err), 0);
	put(gil() + 8, 0); /* no holder yet */
	put(gil() + 16, 0);
	assert_int_equal(check(&d, &l, err), 0);
}

static void test_each_check_refuses(void **state)
{
	struct py_debug d;
	struct cpython_layout l;

	(void)state;
	make(&d, &l);
	runtime[9] ^= 1; /* another version in memory than in the file */
	expect(&d, &l, "debug offsets");
	make(&d, &l);
	put(runtime + MAIN + 8, 1); /* the only interpreter is not id 0 */
	expect(&d, &l, "main interpreter");
	make(&d, &l);
	l.gil += 8;
	expect(&d, &l, "ceval.gil");
	make(&d, &l);
	put(gil(), 0);
	expect(&d, &l, "interval");
	make(&d, &l);
	put(gil(), 2000000); /* 2 s */
	expect(&d, &l, "interval");
	make(&d, &l);
	put(gil() + 16, 2);
	expect(&d, &l, "locked");
	make(&d, &l);
	put(gil() + 16, (__u32)-1); /* destroyed, in a running interpreter */
	expect(&d, &l, "locked");
	make(&d, &l);
	put(tstate + 160, 0x7ffffff0); /* no such thread */
	expect(&d, &l, "last_holder");
}

/* Before Py_Initialize: no interpreter (3.13+), or a GIL still all zeros
 * (3.8-3.12, no debug offsets): 1, checked later. */
static void test_not_started(void **state)
{
	struct py_debug d;
	struct cpython_layout l;
	char err[256];

	(void)state;
	make(&d, &l);
	put(runtime + HEAD, 0);
	assert_int_equal(check(&d, &l, err), 1);
	make(&d, &l);
	memset(gil(), 0, 64);
	assert_int_equal(check(NULL, &l, err), 1);
	/* without debug offsets, a GIL that is not all zeros is checked */
	put(gil() + 8, addr(tstate));
	expect(NULL, &l, "interval");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_each_check_refuses),
		cmocka_unit_test(test_not_started),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
