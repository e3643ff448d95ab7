// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * giltrace's collection side: GIL probe points in the target, the futex
 * syscalls on the GIL's own addresses, and the scheduler's view of threads
 * blocked on the GIL. Everything is filtered by the traced_tgids map before
 * a ring-buffer record is reserved.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "giltrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* One header per concern, in the order of their dependencies. */
#include "stream.bpf.h"
#include "futex_state.bpf.h"
#include "toyvm.bpf.h"
/* Blame's stack walker and its maps (docs/blame.md); inert unless blame_on is set. */
#include "blame.bpf.h"
/* The forced holder's function, in every trace (shares blame_targets). */
#include "holder.bpf.h"
#include "cpython.bpf.h"
#include "cpython_cond.bpf.h"
#include "cpython27.bpf.h"
#include "futex.bpf.h"
#include "sched.bpf.h"
#include "comm.bpf.h"
/* Free-threaded CPython: the GIL turned back on (bpf/ft_gil.h). */
#include "ft_gil.bpf.h"
/* Free-threaded CPython's locks (docs/freethreaded-locks.md); registered per target. */
#include "ftlocks.bpf.h"
