/*
 * The live code's clock: CLOCK_MONOTONIC in ns, the clock BPF stamps events
 * with (bpf_ktime_get_ns), so ticks and event times compare directly.
 */
#ifndef GILTRACE_CLOCK_H
#define GILTRACE_CLOCK_H

#include <time.h>
#include <linux/types.h>

static inline __u64 mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

#endif
