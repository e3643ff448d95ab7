/*
 * Under sudo, who typed the command: the user whose files giltrace writes
 * (they own them) and as whom it runs -- CMD (not root).
 */
#ifndef GILTRACE_SUDO_USER_H
#define GILTRACE_SUDO_USER_H

#include <stdbool.h>
#include <sys/types.h>

/* Root with SUDO_UID and SUDO_GID set to ids (SUDO_UID not 0): true and
 * the invoking user's uid and gid. */
bool sudo_user(uid_t *uid, gid_t *gid);

#endif
