#include "target/runtimes.h"

#include <stdio.h>
#include <string.h>

/*
 * CPython's main-interpreter GIL, 3.8 to 3.13. struct _gil_runtime_state
 * (Include/internal/pycore_gil.h) is the same 208 bytes in all of them:
 * locked at 16, switch_number at 24, cond at 32 (48 bytes), switch_cond at
 * 0x78. Offsets were
 * printed by gdb from the pyenv builds' DWARF, e.g.
 *   gdb -batch -ex 'ptype /o struct _gil_runtime_state' \
 *       -ex 'p/x &((_PyRuntimeState*)0)->ceval.gil' libpython3.11.so.1.0
 * and checked on running processes by tests/e2e/test_trace_cpython.py (gil->interval
 * reads 5000 at the computed address, acquisitions match a bpftrace count).
 */

/*
 * Blame's frames and code objects (docs/blame.md). gil->last_holder is at 8
 * in every version. Read with gdb from the pyenv builds' DWARF:
 *   gdb -batch -ex 'ptype /o struct _ts' -ex 'ptype /o struct _frame' \
 *       -ex 'ptype /o struct _PyInterpreterFrame' -ex 'ptype /o _PyCFrame' \
 *       -ex 'p &((PyCodeObject*)0)->co_firstlineno' \
 *       -ex 'p &((PyCodeObject*)0)->co_code_adaptive' \
 *       -ex 'p sizeof(PyASCIIObject)' -ex 'p sizeof(PyCompactUnicodeObject)' libpython3.X.so.1.0
 * and checked live by tests/e2e/test_blame_cpython.py (the hog's name, file and line).
 *
 * The GIL holder's thread, for the hand-off self-check (target/gil_state.c):
 * tstate->native_thread_id from 3.11 (160 in 3.11.7 and 3.13.0, 144 in
 * 3.12.1), before that tstate->thread_id (176 in 3.8.18-3.10.13), printed by
 *   gdb -batch -ex 'p &((PyThreadState*)0)->native_thread_id' \
 *       -ex 'p &((PyThreadState*)0)->thread_id' libpython3.X.so.1.0
 * and checked live by tests/e2e/test_trace_handoff_check.py (the holder is a
 * thread of the process).
 */
/* 3.8-3.10: tstate->frame (24) is a PyFrameObject: f_back 24, f_code 32,
 * f_lasti (int) 104 in 3.9, 96 in 3.10. */
#define FRAMES_39(lasti)                                                                  \
	{ .last_holder = 8, .tstate_frame = 24, .frame_code = 32, .frame_back = 24,         \
	  .frame_instr = lasti, .instr_size = 4 }
/* PyCodeObject 3.8-3.10: co_firstlineno 40, co_filename 104, co_name 112,
 * co_lnotab (3.9) / co_linetable (3.10) 120. */
#define CODE_39(how, instr_how)                                                            \
	{ .filename = 104, .name = 112, .firstlineno = 40, .linetable = 120, .lines = how,  \
	  .instr = instr_how, .ascii_data = 48, .compact_data = 72 }

/* 3.8.18: _PyRuntime.ceval.gil at 0x480 and ceval.gil_drop_request at
 * 0x254, both in _PyRuntime (Include/internal/pycore_pystate.h,
 * pycore_ceval.h). GCC split take_gil into take_gil (from the eval loop and
 * _PyEval_ReInitThreads) and take_gil.constprop.0 (PyEval_RestoreThread,
 * PyEval_AcquireThread, ...), whose arguments differ: both are probed,
 * and neither handler reads an argument. */
static const struct cpython_layout py38 = {
	.gil = 0x480, .gil_size = 208, .locked = 16, .switch_number = 24, .cond = 32,
	.cond_size = 48, .switch_cond = 0x78, .drop_how = DROP_REQ_RUNTIME, .drop_req = 0x254,
	.drop_req_mask = ~0u,
	.tstate_thread = 176, .thread_how = THREAD_PTHREAD,
	/* blame: the frame and code layouts of 3.9 (gdb on pyenv 3.8.18) */
	.frames = FRAMES_39(104), .code = CODE_39(LINES_LNOTAB, INSTR_LASTI_BYTES),
};

/* 3.9.18, 3.10.13: _PyRuntime.ceval.gil; the drop request is per
 * interpreter (interp->ceval.gil_drop_request, Python/ceval_gil.h
 * drop_gil()) and the main interpreter is on the heap, found through
 * _PyRuntime.interpreters.main. */
static const struct cpython_layout py39 = {
	.gil = 0x160, .gil_size = 208, .locked = 16, .switch_number = 24, .cond = 32,
	.cond_size = 48, .switch_cond = 0x78, .drop_how = DROP_REQ_MAIN_INTERP, .drop_req = 0x28,
	.drop_req_off = 0x4c, .drop_req_mask = ~0u,
	.tstate_thread = 176, .thread_how = THREAD_PTHREAD,
	.frames = FRAMES_39(104), .code = CODE_39(LINES_LNOTAB, INSTR_LASTI_BYTES),
};

static const struct cpython_layout py310 = {
	.gil = 0x160, .gil_size = 208, .locked = 16, .switch_number = 24, .cond = 32,
	.cond_size = 48, .switch_cond = 0x78, .drop_how = DROP_REQ_MAIN_INTERP, .drop_req = 0x28,
	.drop_req_off = 0x48, .drop_req_mask = ~0u,
	.tstate_thread = 176, .thread_how = THREAD_PTHREAD,
	.frames = FRAMES_39(96), .code = CODE_39(LINES_LINETABLE, INSTR_LASTI_UNITS),
};

/* 3.11.7: _PyRuntime.ceval.gil at 0x168; the main interpreter is static,
 * _PyRuntime._main_interpreter at 0xe638, its ceval.gil_drop_request at
 * +0x68. Debian's stripped 3.11.2 has the same _PyRuntime size (0x28b20)
 * and its take_gil addresses _PyRuntime the same way. */
static const struct cpython_layout py311 = {
	.gil = 0x168, .gil_size = 208, .locked = 16, .switch_number = 24, .cond = 32,
	.cond_size = 48, .switch_cond = 0x78, .drop_how = DROP_REQ_RUNTIME, .drop_req = 0xe638 + 0x68,
	.drop_req_mask = ~0u,
	.tstate_thread = 160, .thread_how = THREAD_NATIVE,
	/* tstate->cframe (56) -> current_frame (8), a _PyInterpreterFrame:
	 * f_code 32, previous 48, prev_instr 56. No C-stack entry frames. */
	.frames = { .last_holder = 8, .tstate_frame = 56, .cframe_frame = 8, .frame_code = 32,
		    .frame_back = 48, .frame_instr = 56, .instr_size = 8, .flags = BLAME_CFRAME },
	/* co_firstlineno 0x48, co_filename 112, co_name 120, co_qualname 128,
	 * co_linetable 136, co_code_adaptive 0xb8. */
	.code = { .filename = 112, .name = 120, .qualname = 128, .firstlineno = 0x48,
		  .linetable = 136, .code_adaptive = 0xb8, .lines = LINES_LOCATIONS,
		  .instr = INSTR_POINTER, .ascii_data = 48, .compact_data = 72 },
};

/* 3.12.1: the GIL moved into the interpreter (interp->ceval.gil points to
 * interp->_gil for an interpreter with its own GIL, which the main one
 * has: Python/ceval_gil.c _PyEval_InitGIL()). _main_interpreter at
 * 0x12a68, _gil at +0x410, ceval.gil_drop_request at +0x174. */
static const struct cpython_layout py312 = {
	.gil = 0x12a68 + 0x410, .gil_size = 208, .locked = 16, .switch_number = 24,
	.cond = 32, .cond_size = 48, .switch_cond = 0x78, .drop_how = DROP_REQ_RUNTIME,
	.drop_req = 0x12a68 + 0x174, .drop_req_mask = ~0u,
	.tstate_thread = 144, .thread_how = THREAD_NATIVE,
	/* tstate->cframe (56) -> current_frame (0): f_code 0, previous 8,
	 * prev_instr 56, owner 70; FRAME_OWNED_BY_CSTACK (3) marks the entry
	 * frames of _PyEval_EvalFrameDefault, which run no code of their own. */
	.frames = { .last_holder = 8, .tstate_frame = 56, .cframe_frame = 0, .frame_code = 0,
		    .frame_back = 8, .frame_instr = 56, .frame_owner = 70, .instr_size = 8,
		    .owner_cstack = 3, .flags = BLAME_CFRAME | BLAME_OWNER },
	/* co_firstlineno 0x44, co_code_adaptive 0xc0; PyASCIIObject lost wstr. */
	.code = { .filename = 112, .name = 120, .qualname = 128, .firstlineno = 0x44,
		  .linetable = 136, .code_adaptive = 0xc0, .lines = LINES_LOCATIONS,
		  .instr = INSTR_POINTER, .ascii_data = 40, .compact_data = 56 },
};

/*
 * 3.13 and later describe themselves (_Py_DebugOffsets, target/py_debug.c):
 * the GIL's place in the main interpreter, locked, last_holder, the thread
 * id, frames and code objects come from the process's own file, so a patch
 * release that moves them (3.13.0 and Debian's 3.13.18 differ) is read
 * right. The rows keep what the debug offsets lack, the same in 3.13.0
 * (gdb ptype /o on pyenv's DWARF) and in Debian sid's stripped 3.13.18,
 * 3.14.10 and 3.15.2 (Include/internal/pycore_gil.h, pycore_ceval.h of
 * their libpython3.X-dev; checked live by tests/e2e/test_trace_sid.py:
 * hand-offs equal switch_number, forced releases seen):
 * - struct _gil_runtime_state after locked: switch_number 24, cond 32 (48
 *   bytes), mutex 80, switch_cond 0x78; 208 bytes;
 * - the drop request: bit 0 (_PY_GIL_DROP_REQUEST_BIT) of the holder's
 *   tstate->eval_breaker, which drop_gil() tests on its own tstate; 0x18 in
 *   3.13 (prev, next, interp before it), described by the debug offsets
 *   from 3.14 (debugger_support.eval_breaker);
 * - blame: instruction pointers (8 bytes), location tables, C-stack entry
 *   frames to skip (owner 3: FRAME_OWNED_BY_CSTACK in 3.13,
 *   FRAME_OWNED_BY_INTERPRETER in 3.14/3.15), f_executable a _PyStackRef
 *   from 3.14 (Py_TAG_BITS 3 at most), PyCompactUnicodeObject 16 bytes past
 *   PyASCIIObject (ascii_data is replaced, the difference kept).
 */
#define CPYTHON_313_ON(tag)                                                                 \
	{ .debug_offsets = true, .gil_size = 208, .switch_number = 24, .cond = 32,           \
	  .cond_size = 48, .switch_cond = 0x78, .drop_how = DROP_REQ_HOLDER,                 \
	  .drop_req_off = 0x18, .drop_req_mask = 1, .thread_how = THREAD_NATIVE,            \
	  .frames = { .instr_size = 8, .owner_cstack = 3, .flags = BLAME_OWNER },            \
	  .code = { .lines = LINES_LOCATIONS, .instr = INSTR_POINTER, .ascii_data = 40,     \
		    .compact_data = 56, .ref_tag_bits = tag } }

static const struct cpython_layout py313 = CPYTHON_313_ON(0);
static const struct cpython_layout py314 = CPYTHON_313_ON(3);
static const struct cpython_layout py315 = CPYTHON_313_ON(3);

/*
 * Free-threaded 3.13 (--disable-gil, "3.13t"): struct _gil_runtime_state
 * starts with int enabled (0: off; n: n imports of modules of unknown
 * safety in progress; INT_MAX: on for good), which moves every field
 * after it by 8: interval 8, last_holder 16, locked 24, switch_number 32,
 * cond 40 (48 bytes), mutex 88, switch_cond 0x80; 216 bytes. take_gil and
 * drop_gil are the GIL build's while enabled is set, and return at once
 * while it is not (Python/ceval_gil.c 3.13.0rc2), so cond mode's probes
 * see nothing then and every hand-off after. tstate->eval_breaker is still
 * at 0x18. Read from Include/internal/pycore_gil.h and printed by
 *   gdb -batch -ex 'ptype /o struct _gil_runtime_state' python3.13t
 * on the build of tools/ft-cpython; locked and last_holder also come from
 * its _Py_DebugOffsets, which say free_threaded = 1. Blame is not read: the
 * free-threaded object header (ob_tid, ob_ref_local, ob_ref_shared) is
 * longer and target/pyobj.c reads GIL builds' objects only.
 */
static const struct cpython_layout py313t = {
	.debug_offsets = true, .free_threaded = true, .enabled = 0, .interval = 8,
	.gil_size = 216, .switch_number = 32, .cond = 40, .cond_size = 48, .switch_cond = 0x80,
	.drop_how = DROP_REQ_HOLDER, .drop_req_off = 0x18, .drop_req_mask = 1,
	.thread_how = THREAD_NATIVE,
	.code = { .ascii_data = 40, .compact_data = 56 },
};

/* take_gil's entry and return, drop_gil's entry. GCC may clone take_gil
 * (3.8 has take_gil.constprop.0); a clone is probed beside it. */
#define CPYTHON_HOOKS                                              \
	{                                                          \
		{ "take_gil", "cpy_take_gil" },                    \
		{ "take_gil", "cpy_take_gil_ret", .retprobe = true }, \
		{ "take_gil.constprop.0", "cpy_take_gil", .optional = true }, \
		{ "take_gil.constprop.0", "cpy_take_gil_ret", .retprobe = true, .optional = true }, \
		{ "drop_gil", "cpy_drop_gil" },                    \
	}

/*
 * Cond mode (bpf/cpython_cond.bpf.h): take_gil signals gil->switch_cond
 * after every acquisition and drop_gil signals gil->cond after every release
 * (Python/ceval_gil.h 3.8-3.11, ceval_gil.c 3.12-3.13, FORCE_SWITCHING is
 * always defined); take_gil waits with pthread_cond_timedwait on gil->cond.
 * glibc 2.34+ exports them from libc.so.6 (libpthread.so.0 before), each
 * twice: the default version (@@GLIBC_2.3.2), which CPython calls, and an
 * @GLIBC_2.2.5 compatibility one that elf_file__find() skips. Both start
 * with push %r15 (emulated) in Debian 12's glibc 2.36 (objdump). Checked
 * against full mode and the interpreter's own switch_number by
 * tests/e2e/test_trace_handoff_check.py.
 */
#define LIBC_COND_HOOKS                                                         \
	{                                                                       \
		{ "pthread_cond_signal", "cpy_cond_signal" },                   \
		{ "pthread_cond_timedwait", "cpy_cond_wait" },                  \
		{ "pthread_cond_timedwait", "cpy_cond_wait_ret", .retprobe = true }, \
	}

/* Free-threaded builds: the module name at the import's GIL check, and
 * the moment _PyEval_EnableGILPermanent() says it turned the GIL on
 * (bpf/ft_gil.bpf.h). Optional: a stripped build keeps the readings.
 * Rare: once per extension import (3.13.0rc2's check starts with a mov of
 * a 64-bit immediate, which the kernel single-steps). */
#define FT_GIL_HOOKS                                                                  \
	{                                                                             \
		{ "_PyImport_CheckGILForModule", "ft_gil_check_module", .optional = true, \
		  .rare = true },                                                       \
		{ "_PyEval_EnableGILPermanent", "ft_gil_enabled", .retprobe = true,   \
		  .optional = true, .rare = true },                                     \
	}

#define CPYTHON_ROW(ver, layout, how, ...)                                             \
	{                                                                              \
		.name = "cpython", .version = ver, .mode = "full",                     \
		.detect_symbol = "_PyRuntime", .gil_symbol = "_PyRuntime",             \
		.hooks = CPYTHON_HOOKS, .cpython = &layout, .futex_mode = "futex",     \
		.hooks_on_request = true, .libc_mode = "cond",                         \
		.libc_hooks = LIBC_COND_HOOKS, .verified = how, __VA_ARGS__            \
	}

/* 2.7.18: Python/ceval.c `static PyThread_type_lock interpreter_lock`,
 * a local symbol of libpython2.7.so.1.0's .symtab (the executable holds
 * none); Python/thread_pthread.h with USE_SEMAPHORES: the lock is a
 * malloc'ed sem_t (32 bytes on x86-64, glibc's value word first: the
 * futex word is the lock's address). Checked live: futex calls of a
 * two-thread countdown all fall on *interpreter_lock (bpftrace on
 * sys_enter_futex), and full mode's acquisitions equal a bpftrace count
 * of PyThread_acquire_lock(interpreter_lock) (tests/e2e/test_trace_cpython27.py). */
static const struct cpython2_layout py27 = {
	.lock_ptr = "interpreter_lock", .eval_loop = "PyEval_EvalFrameEx", .sem_size = 32,
};

static const struct runtime_row rows[] = {
	{
		.name = "toyvm",
		.version = "1",
		.mode = "hooks",
		.detect_symbol = "toyvm_gil_acquired",
		.gil_symbol = "toyvm_gil",
		.hooks = {
			{ "toyvm_gil_wait", "gil_wait" },
			{ "toyvm_gil_retry", "gil_retry" },
			{ "toyvm_gil_timeout", "gil_timeout" },
			{ "toyvm_gil_drop_request", "gil_drop_request" },
			{ "toyvm_gil_acquired", "gil_acquire" },
			{ "toyvm_gil_release", "gil_release" },
			{ "toyvm_gil_forced_release", "gil_forced_release" },
		},
		.verified = "tools/toyvm/gil_hooks.h; counts checked against --gil-stats "
			    "by tests/e2e/test_trace_toyvm.py",
	},
	{
		/* PyThread_release_lock starts with sub $8,%rsp (single-stepped):
		 * its probe sits on the call to sem_post, 4 bytes in. */
		.name = "cpython", .version = "2.7", .mode = "full", .futex_mode = "futex",
		.hooks_on_request = true,
		.detect_symbol = "interpreter_lock", .gil_symbol = "interpreter_lock",
		.hooks = {
			{ "PyThread_acquire_lock", "py2_lock_acquire" },
			{ "PyThread_acquire_lock", "py2_lock_acquire_ret", .retprobe = true },
			{ "PyThread_release_lock", "py2_lock_release", .at = 4 },
		},
		.cpython2 = &py27,
		.note = "the old GIL (CPython 2.7) has no timed wait and no drop request: a holder "
			"lets go at every check interval and races to take it back, so its contention "
			"shows as retries (failed wake-ups), not as forced switches",
		.verified = "Python/ceval.c, Python/thread_pthread.h 2.7.18; readelf -s on pyenv "
			    "libpython2.7.so.1.0; objdump of PyThread_release_lock",
	},
	CPYTHON_ROW("3.8", py38, "Python/ceval_gil.h, Include/internal/pycore_{pystate,ceval}.h "
		    "3.8.18; gdb ptype /o on pyenv libpython3.8.so.1.0"),
	CPYTHON_ROW("3.9", py39, "Python/ceval_gil.h, Include/internal/pycore_{runtime,interp}.h "
		    "3.9.18; gdb ptype /o on pyenv libpython3.9.so.1.0"),
	CPYTHON_ROW("3.10", py310, "Python/ceval_gil.h, Include/internal/pycore_{runtime,interp}.h "
		    "3.10.13; gdb ptype /o on pyenv libpython3.10.so.1.0"),
	CPYTHON_ROW("3.11", py311, "Python/ceval_gil.h, Include/internal/pycore_{runtime,interp}.h "
		    "3.11.7; gdb ptype /o on pyenv libpython3.11.so.1.0; Debian 3.11.2 "
		    "checked live (gil->interval == 5000, switch_number grows)"),
	CPYTHON_ROW("3.12", py312, "Python/ceval_gil.c, Include/internal/pycore_{runtime,interp}.h "
		    "3.12.1; gdb ptype /o on pyenv libpython3.12.so.1.0"),
	CPYTHON_ROW("3.13", py313, "_Py_DebugOffsets; Python/ceval_gil.c, Include/internal/"
		    "pycore_{runtime,gil,ceval}.h 3.13.0 (gdb ptype /o on pyenv) and 3.13.18 "
		    "(Debian sid, checked live)"),
	CPYTHON_ROW("3.14", py314, "_Py_DebugOffsets; Include/internal/pycore_{debug_offsets,gil,"
		    "ceval}.h 3.14.10 (Debian sid libpython3.14-dev), checked live"),
	CPYTHON_ROW("3.15", py315, "_Py_DebugOffsets; Include/internal/pycore_{debug_offsets,gil,"
		    "ceval}.h 3.15.2 (Debian sid libpython3.15-dev), checked live"),
	/* Free-threaded rows after every GIL build's: row_fits() picks among
	 * the rows of the file's own kind. */
	CPYTHON_ROW("3.13t", py313t, "_Py_DebugOffsets; Include/internal/pycore_gil.h, Python/"
		    "{ceval_gil,import}.c 3.13.0rc2 --disable-gil (gdb ptype /o on tools/ft-cpython's "
		    "build), checked live by tests/e2e/test_trace_freethreaded.py",
		    .ft_hooks = FT_GIL_HOOKS),
};

const struct runtime_row *runtimes__table(int *count)
{
	*count = (int)(sizeof(rows) / sizeof(rows[0]));
	return rows;
}

const char *runtimes__cpython_versions(void)
{
	return "CPython 2.7, 3.8, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15; free-threaded 3.13t";
}

bool runtimes__has_mode(const char *mode)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct runtime_row *r = &rows[i];

		if (!strcmp(mode, r->mode) || (r->futex_mode && !strcmp(mode, r->futex_mode)) ||
		    (r->libc_mode && !strcmp(mode, r->libc_mode)))
			return true;
	}
	return false;
}

const char runtimes_mode_doc[] =
	"How to trace: cond (CPython 3: the C library's calls on the GIL's condition "
	"variables; exact, the default), futex (futex calls on the GIL only) or full "
	"(probes in the interpreter; exact, costly). Default: each runtime's own "
	"(docs/cpython.md)";

/* Rows with frames have last_holder set (8 in every CPython 3 layout), or
 * read it from the debug offsets; 2.7 and the toy VM have none. */
static bool has_frames(const struct cpython_layout *l)
{
	return l && !l->free_threaded && (l->frames.last_holder || l->debug_offsets);
}

const struct cpython_layout *runtime__blame_layout(const struct runtime_row *row)
{
	return row && has_frames(row->cpython) ? row->cpython : NULL;
}

/* The table lists versions in order, so the first and last rows blame
 * reads bound the range (test_target.c checks that none between is left out). */
void runtimes__blame_versions(char *buf, size_t len)
{
	const char *first = NULL, *last = NULL;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (!runtime__blame_layout(&rows[i]))
			continue;
		if (!first)
			first = rows[i].version;
		last = rows[i].version;
	}
	/* Free-threaded rows are left out (their object header): said, so
	 * that "3.13" is not read as 3.13t too. */
	if (!first)
		snprintf(buf, len, "no runtime");
	else if (first == last)
		snprintf(buf, len, "CPython %s (GIL builds)", first);
	else
		snprintf(buf, len, "CPython %s-%s (GIL builds)", first, last);
}
