/*
 * A _Py_DebugOffsets as pyenv's CPython 3.13.0 holds it at &_PyRuntime
 * (gdb -batch -ex 'p _PyRuntime.debug_offsets' libpython3.13.so.1.0), for
 * the tests that need a 3.13 layout: the table keeps only what the debug
 * offsets lack (user/target/runtimes.c).
 */
#ifndef GILTRACE_FAKE_DEBUG_OFFSETS_H
#define GILTRACE_FAKE_DEBUG_OFFSETS_H

#include <string.h>

#include "target/py_debug.h"

static void fake_put(unsigned char *raw, size_t at, __u64 v)
{
	memcpy(raw + at, &v, sizeof(v));
}

/* Positions in 3.13's _Py_DebugOffsets (Include/internal/pycore_runtime.h). */
static void fake_debug_offsets_313(unsigned char raw[PY_DEBUG_BYTES])
{
	memset(raw, 0, PY_DEBUG_BYTES);
	memcpy(raw, PY_DEBUG_COOKIE, 8);
	fake_put(raw, 8, 0x030d00f0);  /* 3.13.0 final */
	fake_put(raw, 24, 283320);     /* sizeof(_PyRuntimeState) */
	fake_put(raw, 40, 632);        /* interpreters.head */
	fake_put(raw, 48, 194968);     /* sizeof(PyInterpreterState) */
	fake_put(raw, 56, 7272);       /* id */
	fake_put(raw, 64, 7264);       /* next */
	fake_put(raw, 112, 16);        /* ceval.gil */
	fake_put(raw, 120, 7752);      /* _gil */
	fake_put(raw, 136, 7768);      /* _gil.locked */
	fake_put(raw, 144, 7760);      /* _gil.last_holder */
	fake_put(raw, 184, 72);        /* tstate->current_frame */
	fake_put(raw, 200, 160);       /* native_thread_id */
	fake_put(raw, 232, 8);         /* frame: previous */
	fake_put(raw, 240, 0);         /* f_executable */
	fake_put(raw, 248, 56);        /* instr_ptr */
	fake_put(raw, 264, 70);        /* owner */
	fake_put(raw, 280, 112);       /* co_filename */
	fake_put(raw, 288, 120);       /* co_name */
	fake_put(raw, 296, 128);       /* co_qualname */
	fake_put(raw, 304, 136);       /* co_linetable */
	fake_put(raw, 312, 68);        /* co_firstlineno */
	fake_put(raw, 344, 200);       /* co_code_adaptive */
	fake_put(raw, 560, 40);        /* sizeof(PyASCIIObject) */
}

#endif
