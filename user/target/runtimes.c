#include "target/runtimes.h"

/*
 * CPython's main-interpreter GIL, 3.9 to 3.13. struct _gil_runtime_state
 * (Include/internal/pycore_gil.h) is the same 208 bytes in all of them:
 * locked at 16, switch_number at 24, cond at 32 (48 bytes). Offsets were
 * printed by gdb from the pyenv builds' DWARF, e.g.
 *   gdb -batch -ex 'ptype /o struct _gil_runtime_state' \
 *       -ex 'p/x &((_PyRuntimeState*)0)->ceval.gil' libpython3.11.so.1.0
 * and checked on running processes by tests/e2e/test_cpython.py (gil->interval
 * reads 5000 at the computed address, acquisitions match a bpftrace count).
 */

/* 3.9.18, 3.10.13: _PyRuntime.ceval.gil; the drop request is per
 * interpreter (interp->ceval.gil_drop_request, Python/ceval_gil.h
 * drop_gil()) and the main interpreter is on the heap, found through
 * _PyRuntime.interpreters.main. */
static const struct cpython_layout py39 = {
	.gil = 0x160, .gil_size = 208, .locked = 16, .switch_number = 24, .cond = 32,
	.cond_size = 48, .drop_how = DROP_REQ_MAIN_INTERP, .drop_req = 0x28,
	.drop_req_off = 0x4c, .drop_req_mask = ~0u,
};

static const struct cpython_layout py310 = {
	.gil = 0x160, .gil_size = 208, .locked = 16, .switch_number = 24, .cond = 32,
	.cond_size = 48, .drop_how = DROP_REQ_MAIN_INTERP, .drop_req = 0x28,
	.drop_req_off = 0x48, .drop_req_mask = ~0u,
};

/* 3.11.7: _PyRuntime.ceval.gil at 0x168; the main interpreter is static,
 * _PyRuntime._main_interpreter at 0xe638, its ceval.gil_drop_request at
 * +0x68. Debian's stripped 3.11.2 has the same _PyRuntime size (0x28b20)
 * and its take_gil addresses _PyRuntime the same way. */
static const struct cpython_layout py311 = {
	.gil = 0x168, .gil_size = 208, .locked = 16, .switch_number = 24, .cond = 32,
	.cond_size = 48, .drop_how = DROP_REQ_RUNTIME, .drop_req = 0xe638 + 0x68,
	.drop_req_mask = ~0u,
};

/* 3.12.1: the GIL moved into the interpreter (interp->ceval.gil points to
 * interp->_gil for an interpreter with its own GIL, which the main one
 * has: Python/ceval_gil.c _PyEval_InitGIL()). _main_interpreter at
 * 0x12a68, _gil at +0x410, ceval.gil_drop_request at +0x174. */
static const struct cpython_layout py312 = {
	.gil = 0x12a68 + 0x410, .gil_size = 208, .locked = 16, .switch_number = 24,
	.cond = 32, .cond_size = 48, .drop_how = DROP_REQ_RUNTIME,
	.drop_req = 0x12a68 + 0x174, .drop_req_mask = ~0u,
};

/* 3.13.0: _main_interpreter at 0x15920, _gil at +0x1e48. The drop request
 * is bit 0 (_PY_GIL_DROP_REQUEST_BIT) of the holder's tstate->eval_breaker
 * (+0x18); drop_gil() tests it on its own tstate, which take_gil stored in
 * gil->last_holder (+8). */
static const struct cpython_layout py313 = {
	.gil = 0x15920 + 0x1e48, .gil_size = 208, .locked = 16, .switch_number = 24,
	.cond = 32, .cond_size = 48, .drop_how = DROP_REQ_HOLDER, .drop_req = 8,
	.drop_req_off = 0x18, .drop_req_mask = 1,
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

#define CPYTHON_ROW(ver, layout, how)                                                  \
	{                                                                              \
		.name = "cpython", .version = ver, .mode = "full",                     \
		.detect_symbol = "_PyRuntime", .gil_symbol = "_PyRuntime",             \
		.hooks = CPYTHON_HOOKS, .cpython = &layout, .futex_mode = "futex",     \
		.verified = how,                                                       \
	}

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
	CPYTHON_ROW("3.9", py39, "Python/ceval_gil.h, Include/internal/pycore_{runtime,interp}.h "
		    "3.9.18; gdb ptype /o on pyenv libpython3.9.so.1.0"),
	CPYTHON_ROW("3.10", py310, "Python/ceval_gil.h, Include/internal/pycore_{runtime,interp}.h "
		    "3.10.13; gdb ptype /o on pyenv libpython3.10.so.1.0"),
	CPYTHON_ROW("3.11", py311, "Python/ceval_gil.h, Include/internal/pycore_{runtime,interp}.h "
		    "3.11.7; gdb ptype /o on pyenv libpython3.11.so.1.0; Debian 3.11.2 "
		    "checked live (gil->interval == 5000, switch_number grows)"),
	CPYTHON_ROW("3.12", py312, "Python/ceval_gil.c, Include/internal/pycore_{runtime,interp}.h "
		    "3.12.1; gdb ptype /o on pyenv libpython3.12.so.1.0"),
	CPYTHON_ROW("3.13", py313, "Python/ceval_gil.c, Include/internal/pycore_{runtime,interp,"
		    "tstate}.h 3.13.0; gdb ptype /o on pyenv libpython3.13.so.1.0"),
};

const struct runtime_row *runtimes__table(int *count)
{
	*count = (int)(sizeof(rows) / sizeof(rows[0]));
	return rows;
}

const char *runtimes__cpython_versions(void)
{
	return "CPython 3.9, 3.10, 3.11, 3.12, 3.13 (GIL builds)";
}
