#include "run/privileges.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP_SYS_ADMIN 21
#define CAP_PERFMON 38

static unsigned long long effective_caps(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

bool privileges__can_trace(void)
{
	unsigned long long caps = effective_caps();

	/* CAP_SYS_ADMIN stands in for CAP_BPF. Without it the kernel refuses
	 * the uprobes on 6.x (EPERM) even with CAP_BPF, CAP_PERFMON and
	 * CAP_CHECKPOINT_RESTORE, so say so before loading anything. */
	return caps & (1ull << CAP_SYS_ADMIN) && caps & (1ull << CAP_PERFMON);
}

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

bool privileges__sudo_user(uid_t *uid, gid_t *gid)
{
	unsigned long u, g;

	if (getuid() != 0 || !parse_id(getenv("SUDO_UID"), &u) || !parse_id(getenv("SUDO_GID"), &g) ||
	    u == 0)
		return false;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return true;
}
