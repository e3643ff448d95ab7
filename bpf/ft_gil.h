/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Free-threaded CPython (3.13t): the GIL that comes back. Shared by
 * bpf/ft_gil.bpf.h and user space (docs/cpython.md, "Free-threaded builds").
 *
 * Importing an extension module that has not declared Py_mod_gil turns the
 * GIL on for good: _PyImport_CheckGILForModule(module, name) calls
 * _PyEval_EnableGILPermanent(), which returns 1 when this call turned it on
 * (Python/import.c, Python/ceval_gil.c 3.13.0rc2). BPF keeps the name at
 * the first and emits GIL_EV_GIL_ENABLED when the second returns 1, with
 * the name's text read from the str object while the import still holds it.
 */
#ifndef GILTRACE_FT_GIL_H
#define GILTRACE_FT_GIL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Per traced free-threaded process, in the ft_gil_targets map: where a
 * str's text and state are (from _Py_DebugOffsets' sizeof(PyASCIIObject):
 * the free-threaded object header is 16 bytes longer than a GIL build's). */
struct ft_gil_target {
	__u32 str_state; /* PyASCIIObject.state: a u32 of bit fields */
	__u32 str_data;  /* sizeof(PyASCIIObject): a compact ASCII str's text */
};

/* state.compact (bit 5) and state.ascii (bit 6): the text follows the
 * header (Include/cpython/unicodeobject.h 3.13: interned:2, kind:3,
 * compact:1, ascii:1). */
#define FT_STR_COMPACT_ASCII 0x60u

#define FT_GIL_CHUNK 16     /* name bytes per GIL_ENABLED record (addr, value) */
#define FT_GIL_NAME_MAX 48  /* three records at most */

/* GIL_ENABLED ret: the chunk number in the low byte, then flags. */
#define FT_GIL_CHUNK_MASK 0xff
#define FT_GIL_NAME_UNKNOWN 0x100 /* no import seen, or its name is no compact ASCII str */
#define FT_GIL_NAME_CUT 0x200     /* the name is longer than FT_GIL_NAME_MAX */

#endif
