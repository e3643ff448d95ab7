/*
 * Before any probe: does a CPython layout fit the live process? Offsets
 * that are wrong for a build (a patch release that moved a field, a minor
 * version newer than giltrace) would make every figure silently zero, so
 * each layout is checked against the interpreter's own memory first.
 */
#ifndef GILTRACE_LAYOUT_CHECK_H
#define GILTRACE_LAYOUT_CHECK_H

#include <stddef.h>
#include <linux/types.h>

#include "target/py_debug.h"
#include "target/runtimes.h"

/* Checks layout l of the CPython whose _PyRuntime is at runtime in pid.
 * d and file_head (the first 16 bytes of _PyRuntime in the file: cookie
 * and version): its debug offsets (3.13+), or NULL. 0; 1 when the
 * interpreter has not started yet (a command giltrace started, stopped
 * before Py_Initialize), so the GIL cannot be checked until it has;
 * -ESRCH when the process exited or is exiting (nothing to check: no
 * verdict on the layout); or -EPROTO with the failed check named in err. */
int layout_check__live(__u32 pid, __u64 runtime, const struct cpython_layout *l,
		       const struct py_debug *d, const unsigned char *file_head, char *err,
		       size_t errlen);

#endif
