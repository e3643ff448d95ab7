/* Whether this process may trace: loading BPF needs CAP_BPF and
 * CAP_PERFMON, opening a target's mapped files through /proc/PID/map_files
 * needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE. Asked up front so that the
 * user hears "run with sudo", not a confusing failure further on. */
#ifndef GILTRACE_PRIVILEGES_H
#define GILTRACE_PRIVILEGES_H

#include <stdbool.h>

bool privileges__can_trace(void);

#endif
