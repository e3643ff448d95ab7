#include "run/privileges.h"

#include <stdio.h>
#include <string.h>

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
