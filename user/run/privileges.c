#include "run/privileges.h"

#include <stdio.h>
#include <string.h>

#define CAP_SYS_ADMIN 21
#define CAP_PERFMON 38
#define CAP_BPF 39
#define CAP_CHECKPOINT_RESTORE 40

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
	bool bpf = caps & (1ull << CAP_BPF) && caps & (1ull << CAP_PERFMON);
	bool maps = caps & (1ull << CAP_SYS_ADMIN) || caps & (1ull << CAP_CHECKPOINT_RESTORE);

	return (caps & (1ull << CAP_SYS_ADMIN) && caps & (1ull << CAP_PERFMON)) || (bpf && maps);
}
