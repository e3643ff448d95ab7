#include "util/sudo_user.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* A decimal id from 0 to 2^32 - 2 ((uid_t)-1 means "unchanged" to chown). */
static bool parse_id(const char *s, unsigned long *id)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*id = strtoul(s, &end, 10);
	return !errno && !*end && s[0] != '-' && *id < 0xffffffffUL;
}

bool sudo_user(uid_t *uid, gid_t *gid)
{
	unsigned long u, g;

	if (getuid() != 0 || !parse_id(getenv("SUDO_UID"), &u) || !parse_id(getenv("SUDO_GID"), &g) ||
	    u == 0)
		return false;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return true;
}
