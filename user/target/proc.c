#include "target/proc.h"

#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/safe_text.h"

int proc__parse_status(FILE *f)
{
	char line[256];

	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "State:", 6))
			return strchr(line, 'Z') || strchr(line, 'X') ? -ECHILD : 0;
	return 0;
}

int proc__check(__u32 pid)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	err = proc__parse_status(f);
	fclose(f);
	return err;
}

void proc__comm(__u32 pid, __u32 tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f)) {
		snprintf(buf, len, "?");
	} else {
		buf[strcspn(buf, "\n")] = '\0';
		safe_text__copy(buf, len, buf); /* the thread chose it (prctl) */
	}
	if (f)
		fclose(f);
}

int proc__exe(__u32 pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static bool seen_before(char **seen, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(seen[i], path))
			return true;
	return false;
}

int proc__parse_maps(FILE *f, int (*fn)(const struct proc_mapping *m, void *ctx), void *ctx)
{
	char *line = NULL, *seen[256];
	size_t cap = 0, nseen = 0;
	struct proc_mapping m;
	int ret = 0;

	while (!ret && getline(&line, &cap, f) > 0) {
		char perms[8];
		int pos = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*u %n", (unsigned long long *)&m.start,
			   (unsigned long long *)&m.end, perms, (unsigned long long *)&m.offset,
			   &pos) < 4 || !pos || line[pos] != '/')
			continue;
		snprintf(m.path, sizeof(m.path), "%s", line + pos);
		if (seen_before(seen, nseen, m.path) || nseen == sizeof(seen) / sizeof(seen[0]))
			continue;
		seen[nseen] = strdup(m.path);
		if (!seen[nseen]) {
			ret = -ENOMEM;
			break;
		}
		nseen++;
		ret = fn(&m, ctx);
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(line);
	return ret;
}

int proc__for_each_file(__u32 pid, int (*fn)(const struct proc_mapping *m, void *ctx), void *ctx)
{
	char path[64];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ret = proc__parse_maps(f, fn, ctx);
	fclose(f);
	return ret;
}

int proc__open_mapping(__u32 pid, const struct proc_mapping *m)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int proc__read_mem(__u32 pid, __u64 addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };

	if (!addr)
		return -EFAULT;
	if (process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	/* ESRCH: the process has no memory left (it is exiting, or gone);
	 * anything else, this address cannot be read. */
	return errno == ESRCH ? -ESRCH : -EFAULT;
}
