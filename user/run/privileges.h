/*
 * What giltrace may do, asked of the kernel with libcap.
 *
 * Up front: whether this process may trace at all (CAP_PERFMON and
 * CAP_SYS_ADMIN, which covers CAP_BPF and /proc/PID/map_files; the kernel
 * also refuses the uprobes without it), so that the user hears "run with
 * sudo", not a confusing failure further on.
 *
 * Once attached: giltrace reads what the traced processes control for as
 * long as it runs (their memory, names and files; `serve` answers HTTP too),
 * so it gives up every capability it no longer needs (docs/security.md).
 */
#ifndef GILTRACE_PRIVILEGES_H
#define GILTRACE_PRIVILEGES_H

#include <stdbool.h>

bool privileges__can_trace(void);

/* Keeps only what tracing needs from now on, in the effective, permitted
 * and inheritable sets, and empties the bounding and ambient sets so that
 * nothing giltrace might exec gets more. later_attaches: probes will still
 * be attached to processes found later (--all). 0 or -errno. */
int privileges__drop_after_attach(bool later_attaches);

#endif
