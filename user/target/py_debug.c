#include "target/py_debug.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * Where each field giltrace uses sits in _Py_DebugOffsets (bytes from its
 * start, which is &_PyRuntime), one description per minor version. Every
 * entry is a uint64_t. Computed with offsetof() on the struct as Debian
 * sid's libpython3.X-dev installs it (3.13.18: Include/internal/
 * pycore_runtime.h; 3.14.10, 3.15.2: Include/internal/
 * pycore_debug_offsets.h), and for 3.13 also printed by gdb from pyenv
 * 3.13.0's DWARF (p _PyRuntime.debug_offsets). 3.14 inserted
 * interpreter_state.threads_main and appended debugger_support (whose
 * eval_breaker giltrace uses); 3.15 added thread_state fields (holds_gil,
 * gil_requested, ...) and PyObject ones before the code object's. The
 * gil's enabled and a str's state (free-threaded 3.13t) were also printed
 * by gdb from tools/ft-cpython's python3.13t: 128 and 544.
 */
struct py_debug_desc {
	unsigned int minor;
	__u16 at[PYDBG_NFIELDS];
};

#define COMMON                                                                         \
	[PYDBG_VERSION] = 8, [PYDBG_FREE_THREADED] = 16, [PYDBG_RUNTIME_SIZE] = 24,    \
	[PYDBG_INTERPRETERS_HEAD] = 40, [PYDBG_INTERP_SIZE] = 48, [PYDBG_INTERP_ID] = 56, \
	[PYDBG_INTERP_NEXT] = 64

static const struct py_debug_desc descs[] = {
	{ 13, { COMMON, [PYDBG_CEVAL_GIL] = 112, [PYDBG_GIL_STATE] = 120, [PYDBG_GIL_ENABLED] = 128,
		[PYDBG_GIL_LOCKED] = 136, [PYDBG_GIL_HOLDER] = 144,
		[PYDBG_TS_CURRENT_FRAME] = 184, [PYDBG_TS_NATIVE_THREAD_ID] = 200,
		[PYDBG_FRAME_PREVIOUS] = 232, [PYDBG_FRAME_EXECUTABLE] = 240,
		[PYDBG_FRAME_INSTR_PTR] = 248, [PYDBG_FRAME_OWNER] = 264,
		[PYDBG_CODE_FILENAME] = 280, [PYDBG_CODE_NAME] = 288, [PYDBG_CODE_QUALNAME] = 296,
		[PYDBG_CODE_LINETABLE] = 304, [PYDBG_CODE_FIRSTLINENO] = 312,
		[PYDBG_CODE_ADAPTIVE] = 344, [PYDBG_ASCII_SIZE] = 560, [PYDBG_STR_STATE] = 544 } },
	{ 14, { COMMON, [PYDBG_CEVAL_GIL] = 120, [PYDBG_GIL_STATE] = 128, [PYDBG_GIL_ENABLED] = 136,
		[PYDBG_GIL_LOCKED] = 144, [PYDBG_GIL_HOLDER] = 152,
		[PYDBG_TS_CURRENT_FRAME] = 208, [PYDBG_TS_NATIVE_THREAD_ID] = 224,
		[PYDBG_TS_EVAL_BREAKER] = 712,
		[PYDBG_FRAME_PREVIOUS] = 256, [PYDBG_FRAME_EXECUTABLE] = 264,
		[PYDBG_FRAME_INSTR_PTR] = 272, [PYDBG_FRAME_OWNER] = 288,
		[PYDBG_CODE_FILENAME] = 320, [PYDBG_CODE_NAME] = 328, [PYDBG_CODE_QUALNAME] = 336,
		[PYDBG_CODE_LINETABLE] = 344, [PYDBG_CODE_FIRSTLINENO] = 352,
		[PYDBG_CODE_ADAPTIVE] = 384, [PYDBG_ASCII_SIZE] = 640 } },
	{ 15, { COMMON, [PYDBG_CEVAL_GIL] = 120, [PYDBG_GIL_STATE] = 128, [PYDBG_GIL_ENABLED] = 136,
		[PYDBG_GIL_LOCKED] = 144, [PYDBG_GIL_HOLDER] = 152,
		[PYDBG_TS_CURRENT_FRAME] = 208, [PYDBG_TS_NATIVE_THREAD_ID] = 248,
		[PYDBG_TS_EVAL_BREAKER] = 840,
		[PYDBG_FRAME_PREVIOUS] = 320, [PYDBG_FRAME_EXECUTABLE] = 328,
		[PYDBG_FRAME_INSTR_PTR] = 336, [PYDBG_FRAME_OWNER] = 352,
		[PYDBG_CODE_FILENAME] = 384, [PYDBG_CODE_NAME] = 392, [PYDBG_CODE_QUALNAME] = 400,
		[PYDBG_CODE_LINETABLE] = 408, [PYDBG_CODE_FIRSTLINENO] = 416,
		[PYDBG_CODE_ADAPTIVE] = 448, [PYDBG_ASCII_SIZE] = 736 } },
};

#define NDESCS (sizeof(descs) / sizeof(descs[0]))

int py_debug__parse(const unsigned char *raw, struct py_debug *out, char *err, size_t errlen)
{
	const struct py_debug_desc *desc;
	__u64 version;

	memset(out, 0, sizeof(*out));
	if (memcmp(raw, PY_DEBUG_COOKIE, 8)) {
		snprintf(err, errlen, "_PyRuntime does not start with _Py_DebugOffsets (cookie %s)",
			 PY_DEBUG_COOKIE);
		return -ENOENT;
	}
	memcpy(&version, raw + 8, sizeof(version));
	out->major = (unsigned int)(version >> 24) & 0xff;
	out->minor = (unsigned int)(version >> 16) & 0xff;
	if (out->major != 3 || out->minor < descs[0].minor) {
		snprintf(err, errlen, "_Py_DebugOffsets of version %#llx, older than 3.%u",
			 (unsigned long long)version, descs[0].minor);
		return -EPROTONOSUPPORT;
	}
	/* A newer minor version is read as the newest one known; the live
	 * checks (target/layout_check.c) then decide whether that held. */
	desc = &descs[NDESCS - 1];
	for (size_t i = 0; i < NDESCS; i++)
		if (descs[i].minor == out->minor)
			desc = &descs[i];
	out->guessed = desc->minor != out->minor;
	for (int f = 0; f < PYDBG_NFIELDS; f++)
		if (desc->at[f])
			memcpy(&out->v[f], raw + desc->at[f], sizeof(out->v[f]));
	return 0;
}

__u64 py_debug__main_interp(const struct py_debug *d)
{
	return d->v[PYDBG_RUNTIME_SIZE] - d->v[PYDBG_INTERP_SIZE];
}

/* An offset inside a struct of size bytes that fits the layout's u16. */
static bool fits(__u64 off, __u64 size)
{
	return off < size && off <= 0xffff;
}

int py_debug__layout(const struct py_debug *d, struct cpython_layout *l, char *err,
		     size_t errlen)
{
	const __u64 *v = d->v;
	__u64 gil = v[PYDBG_GIL_STATE], compact = l->code.compact_data - l->code.ascii_data;
	bool small = true;

	/* The build's kind is the row's (chosen by the file's name): a
	 * free-threaded GIL state read as a GIL build's is 8 bytes off. */
	if (v[PYDBG_FREE_THREADED] != (__u64)l->free_threaded) {
		snprintf(err, errlen, "layout check 'free_threaded' failed: its _Py_DebugOffsets "
			 "say free_threaded = %llu, the file is named for a %s build",
			 (unsigned long long)v[PYDBG_FREE_THREADED],
			 l->free_threaded ? "free-threaded" : "GIL");
		return -EPROTO;
	}
	if (l->free_threaded && (v[PYDBG_GIL_ENABLED] + 4 > l->gil_size ||
				 v[PYDBG_GIL_ENABLED] + 4 > v[PYDBG_GIL_LOCKED] - gil)) {
		snprintf(err, errlen, "its _Py_DebugOffsets (version 3.%u) give an implausible "
			 "gil->enabled (%llu)", d->minor, (unsigned long long)v[PYDBG_GIL_ENABLED]);
		return -EPROTO;
	}
	l->enabled = (__u16)v[PYDBG_GIL_ENABLED];
	/* Thread state, frame and code offsets go into 16-bit fields. */
	for (int f = PYDBG_TS_CURRENT_FRAME; f <= PYDBG_ASCII_SIZE; f++)
		small = small && fits(v[f], 0x10000);
	if (!small || v[PYDBG_INTERP_SIZE] >= v[PYDBG_RUNTIME_SIZE] ||
	    !fits(gil, v[PYDBG_INTERP_SIZE]) ||
	    v[PYDBG_GIL_LOCKED] < gil || v[PYDBG_GIL_LOCKED] - gil >= l->gil_size ||
	    v[PYDBG_GIL_HOLDER] < gil || v[PYDBG_GIL_HOLDER] - gil >= l->gil_size) {
		snprintf(err, errlen, "its _Py_DebugOffsets (version 3.%u) give an implausible GIL "
			 "or thread state layout", d->minor);
		return -EPROTO;
	}
	l->gil = py_debug__main_interp(d) + gil;
	l->locked = (__u16)(v[PYDBG_GIL_LOCKED] - gil);
	l->frames.last_holder = (__u16)(v[PYDBG_GIL_HOLDER] - gil);
	l->drop_req = l->frames.last_holder;
	if (v[PYDBG_TS_EVAL_BREAKER])
		l->drop_req_off = (__u32)v[PYDBG_TS_EVAL_BREAKER];
	l->tstate_thread = (__u16)v[PYDBG_TS_NATIVE_THREAD_ID];
	l->thread_how = THREAD_NATIVE;
	l->frames.tstate_frame = (__u16)v[PYDBG_TS_CURRENT_FRAME];
	l->frames.frame_back = (__u16)v[PYDBG_FRAME_PREVIOUS];
	l->frames.frame_code = (__u16)v[PYDBG_FRAME_EXECUTABLE];
	l->frames.frame_instr = (__u16)v[PYDBG_FRAME_INSTR_PTR];
	l->frames.frame_owner = (__u16)v[PYDBG_FRAME_OWNER];
	l->code.filename = (__u16)v[PYDBG_CODE_FILENAME];
	l->code.name = (__u16)v[PYDBG_CODE_NAME];
	l->code.qualname = (__u16)v[PYDBG_CODE_QUALNAME];
	l->code.linetable = (__u16)v[PYDBG_CODE_LINETABLE];
	l->code.firstlineno = (__u16)v[PYDBG_CODE_FIRSTLINENO];
	l->code.code_adaptive = (__u16)v[PYDBG_CODE_ADAPTIVE];
	l->code.ascii_data = (__u16)v[PYDBG_ASCII_SIZE];
	l->code.compact_data = (__u16)(v[PYDBG_ASCII_SIZE] + compact);
	return 0;
}
