/* Whether this process may trace: CAP_PERFMON and CAP_SYS_ADMIN (which
 * covers CAP_BPF and /proc/PID/map_files; the kernel also refuses the
 * uprobes without it). Asked up front so that the user hears "run with
 * sudo", not a confusing failure further on. */
#ifndef GILTRACE_PRIVILEGES_H
#define GILTRACE_PRIVILEGES_H

#include <stdbool.h>
#include <sys/types.h>

bool privileges__can_trace(void);

/* Under sudo (root, with SUDO_UID and SUDO_GID set, SUDO_UID not 0): true
 * and the invoking user's uid and gid, who should own the files giltrace
 * writes for them. */
bool privileges__sudo_user(uid_t *uid, gid_t *gid);

#endif
