/* Whether this process may trace: CAP_PERFMON and CAP_SYS_ADMIN (which
 * covers CAP_BPF and /proc/PID/map_files; the kernel also refuses the
 * uprobes without it). Asked up front so that the user hears "run with
 * sudo", not a confusing failure further on. */
#ifndef GILTRACE_PRIVILEGES_H
#define GILTRACE_PRIVILEGES_H

#include <stdbool.h>

bool privileges__can_trace(void);

#endif
