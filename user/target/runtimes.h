/*
 * Every runtime giltrace knows, one row each: which symbols identify it,
 * which functions carry which GIL event, where the GIL's futex words are,
 * and where each fact was read and how it was verified. Nothing else in
 * giltrace knows a runtime's internals.
 */
#ifndef GILTRACE_RUNTIMES_H
#define GILTRACE_RUNTIMES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "blame.h"

#define RUNTIME_MAX_HOOKS 8
/* Free-threaded CPython's probes on the GIL coming back, in every mode. */
#define RUNTIME_FT_HOOKS 2

/* A probe point: a function symbol and the BPF program that handles it. */
struct runtime_hook {
	const char *symbol;
	const char *prog;
	bool retprobe; /* on the function's return (a uretprobe) */
	bool optional; /* a compiler clone that only some builds have */
	bool rare;     /* hit a few times a run (once per extension import): a
			* first instruction the kernel single-steps (about 10 us
			* a hit) is accepted, not refused */
	__u32 at;      /* bytes past the symbol's start (0: its entry) */
};

/* How BPF finds CPython's drop-request flag (see giltrace.h, gil_target). */
enum drop_req_how {
	DROP_REQ_RUNTIME,     /* a 32-bit word at &_PyRuntime + drop_req */
	DROP_REQ_MAIN_INTERP, /* *(&_PyRuntime + drop_req) + drop_req_off: heap interpreter */
	DROP_REQ_HOLDER,      /* *(gil + drop_req) + drop_req_off: the holder's tstate */
};

/* Blame: how user space turns a frame's code object and position into a
 * name, a file and a line (docs/blame.md). */
enum cpython_lines {
	LINES_LNOTAB,      /* 3.9 co_lnotab: (byte delta, line delta) pairs */
	LINES_LINETABLE,   /* 3.10 co_linetable: (byte delta, line delta or -128) pairs */
	LINES_LOCATIONS,   /* 3.11+ co_linetable: the location table (Objects/locations.md) */
};

enum cpython_instr {
	INSTR_LASTI_BYTES, /* 3.9 f_lasti: byte offset of the last instruction */
	INSTR_LASTI_UNITS, /* 3.10 f_lasti: index in 2-byte code units */
	INSTR_POINTER,     /* 3.11+: pointer into co_code_adaptive */
};

struct cpython_code_layout {
	__u16 filename;      /* PyCodeObject.co_filename (str) */
	__u16 name;          /* co_name (str) */
	__u16 qualname;      /* co_qualname (3.11+), 0: none */
	__u16 firstlineno;   /* co_firstlineno (int) */
	__u16 linetable;     /* co_lnotab / co_linetable (bytes) */
	__u16 code_adaptive; /* co_code_adaptive (3.11+): the instructions */
	enum cpython_lines lines;
	enum cpython_instr instr;
	__u16 ascii_data;    /* sizeof(PyASCIIObject): compact ASCII text */
	__u16 compact_data;  /* sizeof(PyCompactUnicodeObject): other compact text */
	__u8 ref_tag_bits;   /* low bits of a frame's code reference that tag a
			      * _PyStackRef (3.14+), cleared before reading it */
};

/* How the thread of a PyThreadState is found (the self-check's holder). */
enum tstate_thread_how {
	THREAD_NATIVE,  /* tstate->native_thread_id (3.11+): the kernel tid */
	THREAD_PTHREAD, /* tstate->thread_id, a pthread_t: glibc's struct pthread
			 * keeps the kernel tid (target/gil_state.c) */
};

/* Where a CPython version keeps the main interpreter's GIL and its state.
 * All offsets are bytes; "gil" is struct _gil_runtime_state. */
struct cpython_layout {
	/* 3.13+: the offsets _Py_DebugOffsets gives (the GIL's place, locked,
	 * last_holder, the thread id, frames and code objects) are read from
	 * the process's file at plan time (target/py_debug.c); the row holds
	 * only the facts it lacks. */
	bool debug_offsets;
	__u64 gil;              /* &_PyRuntime to the main interpreter's gil */
	__u32 gil_size;         /* sizeof(struct _gil_runtime_state) */
	/* Free-threaded builds (--disable-gil) put int enabled first: the GIL
	 * exists and works only while it is set, and interval moves to 8. */
	bool free_threaded;
	__u16 enabled;          /* gil->enabled (free_threaded only) */
	__u16 interval;         /* gil->interval (microseconds) */
	__u16 locked;           /* gil->locked */
	__u16 switch_number;    /* gil->switch_number */
	__u16 cond;             /* gil->cond (pthread_cond_t) */
	__u16 cond_size;
	__u16 switch_cond;      /* gil->switch_cond, signalled by every take_gil */
	enum drop_req_how drop_how;
	__u64 drop_req;
	__u32 drop_req_off;
	__u32 drop_req_mask;
	__u16 tstate_thread;    /* PyThreadState field naming its thread */
	enum tstate_thread_how thread_how;
	struct blame_layout frames;       /* for BPF's frame walk; also
					   * frames.last_holder: gil->last_holder */
	struct cpython_code_layout code;  /* for user space's names and lines */
};

/* CPython 2.7's old GIL: a sem_t that a static pointer refers to once
 * threads have started. */
struct cpython2_layout {
	const char *lock_ptr;  /* the static PyThread_type_lock (local, .symtab) */
	const char *eval_loop; /* releases called from here are the check
				* interval's forced switches (full mode) */
	__u32 sem_size;        /* sizeof(sem_t): the futex word is at its start */
};

struct runtime_row {
	const char *name;          /* shown as the runtime */
	const char *version;
	const char *mode;          /* tracing mode this row gives */
	const char *detect_symbol; /* present in the file that holds the GIL code */
	const char *gil_symbol;    /* object whose st_size bounds the GIL's futex words */
	struct runtime_hook hooks[RUNTIME_MAX_HOOKS];
	const char *verified;      /* source of the facts and how they were checked */
	const char *note;          /* what its figures do not show, for the summary */
	/* CPython rows: chosen by version (detect_symbol only says "CPython"),
	 * with the GIL's layout; futex_mode names the mode used when the
	 * hooks' symbols are stripped, or is NULL when that build is refused. */
	const struct cpython_layout *cpython;
	const char *futex_mode;
	/* CPython 2.7 rows instead of cpython. */
	const struct cpython2_layout *cpython2;
	/* The hooks cost too much to be the default: futex_mode is, and the
	 * hooks' mode is used only when asked for (--mode). */
	bool hooks_on_request;
	/* CPython 3.x: the default mode where the C library exports
	 * libc_hooks' functions (looked up in whichever mapped file does),
	 * preferred over every other: exact, and found in stripped builds too.
	 * NULL: none. */
	const char *libc_mode;
	struct runtime_hook libc_hooks[RUNTIME_MAX_HOOKS];
	/* Free-threaded CPython: probed in every mode where the symbols are
	 * (bpf/ft_gil.bpf.h); without them the readings still say whether
	 * the GIL is on, but neither the exact moment nor the module. */
	struct runtime_hook ft_hooks[RUNTIME_FT_HOOKS];
};

const struct runtime_row *runtimes__table(int *count);
/* "CPython 2.7, 3.8, ..." for messages. */
const char *runtimes__cpython_versions(void);

/* Blame: the layouts of row's frames (BPF) and code objects (user space),
 * or NULL when giltrace reads no frames of that runtime. */
const struct cpython_layout *runtime__blame_layout(const struct runtime_row *row);
/* "CPython 3.8-3.13": the runtimes blame reads, from the table, for
 * messages and --help. */
void runtimes__blame_versions(char *buf, size_t len);

/* Whether some runtime has mode (cond, futex, full, hooks): --mode checks
 * it before anything is traced; each target's row decides at attach. */
bool runtimes__has_mode(const char *mode);

/* --mode's help: the modes and what they cost, per runtime. */
extern const char runtimes_mode_doc[];

#endif
