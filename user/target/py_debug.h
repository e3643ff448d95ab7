/*
 * CPython 3.13+ describes itself: _PyRuntime starts with _Py_DebugOffsets
 * (cookie "xdebugpy", PY_VERSION_HEX, then the offsets of the fields a
 * debugger needs), written for out-of-process tools such as giltrace. Its
 * own layout changes with each minor version, so one small description per
 * minor version says where each field giltrace uses sits in it.
 */
#ifndef GILTRACE_PY_DEBUG_H
#define GILTRACE_PY_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "target/runtimes.h"

/* Bytes of _PyRuntime that hold every description's fields. */
#define PY_DEBUG_BYTES 1024
#define PY_DEBUG_COOKIE "xdebugpy"

enum py_debug_field {
	PYDBG_VERSION,           /* PY_VERSION_HEX */
	PYDBG_FREE_THREADED,
	PYDBG_RUNTIME_SIZE,      /* sizeof(_PyRuntimeState) */
	PYDBG_INTERPRETERS_HEAD, /* _PyRuntime.interpreters.head */
	PYDBG_INTERP_SIZE,       /* sizeof(PyInterpreterState) */
	PYDBG_INTERP_ID,
	PYDBG_INTERP_NEXT,
	PYDBG_CEVAL_GIL,         /* interp->ceval.gil, a pointer */
	PYDBG_GIL_STATE,         /* interp->_gil */
	PYDBG_GIL_ENABLED,       /* offsetof(struct _gil_runtime_state, enabled): 0
				  * in GIL builds, which have no such field */
	PYDBG_GIL_LOCKED,        /* interp->_gil.locked */
	PYDBG_GIL_HOLDER,        /* interp->_gil.last_holder */
	PYDBG_TS_CURRENT_FRAME,  /* from here to PYDBG_ASCII_SIZE: 16-bit offsets */
	PYDBG_TS_NATIVE_THREAD_ID,
	PYDBG_TS_EVAL_BREAKER,   /* 3.14+; 0: not described */
	PYDBG_FRAME_PREVIOUS,
	PYDBG_FRAME_EXECUTABLE,
	PYDBG_FRAME_INSTR_PTR,
	PYDBG_FRAME_OWNER,
	PYDBG_CODE_FILENAME,
	PYDBG_CODE_NAME,
	PYDBG_CODE_QUALNAME,
	PYDBG_CODE_LINETABLE,
	PYDBG_CODE_FIRSTLINENO,
	PYDBG_CODE_ADAPTIVE,
	PYDBG_ASCII_SIZE,        /* sizeof(PyASCIIObject) */
	PYDBG_STR_STATE,         /* PyASCIIObject.state (described for 3.13) */
	PYDBG_NFIELDS
};

struct py_debug {
	__u64 v[PYDBG_NFIELDS];
	unsigned int major, minor; /* from the version field */
	bool guessed;              /* a minor version newer than every description */
};

/* Decodes the first PY_DEBUG_BYTES of _PyRuntime. 0, or -errno with a
 * reason in err: -ENOENT (no cookie), -EPROTONOSUPPORT (older than 3.13). */
int py_debug__parse(const unsigned char *raw, struct py_debug *out, char *err, size_t errlen);

/* Completes l (a row's layout, whose facts the debug offsets lack) with
 * what d says. 0, or -EPROTO with a reason when an offset is implausible. */
int py_debug__layout(const struct py_debug *d, struct cpython_layout *l, char *err,
		     size_t errlen);

/* Where the main interpreter sits in _PyRuntime: it is the last field of
 * _PyRuntimeState ("should be the last field", CPython issue 127117). */
__u64 py_debug__main_interp(const struct py_debug *d);

#endif
