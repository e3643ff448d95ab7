#include "target/discover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* /proc/PID/comm holds at most TASK_COMM_LEN - 1 bytes. */
#define COMM_MAX 15

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Field 22 of /proc/PID/stat; the command name in field 2 may hold spaces
 * and parentheses, so count from the last ')'. */
static int start_time(__u32 pid, __u64 *out)
{
	char path[64], buf[1024], *p;
	int field, err;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	err = read_small(path, buf, sizeof(buf));
	if (err)
		return err;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EINVAL;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

int discover__identify(__u32 pid, struct proc_id *id)
{
	struct stat st;
	char path[64];
	int err;

	memset(id, 0, sizeof(*id));
	id->pid = pid;
	err = start_time(pid, &id->start_time);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	/* Kernel threads have no executable. */
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat(path, &st))
		return errno == ESRCH ? -ESRCH : -ENOENT;
	id->exe_dev = st.st_dev;
	id->exe_ino = st.st_ino;
	return 0;
}

bool discover__same(const struct proc_id *a, const struct proc_id *b)
{
	return a->pid == b->pid && a->start_time == b->start_time && a->exe_dev == b->exe_dev &&
	       a->exe_ino == b->exe_ino;
}

static bool comm_matches(__u32 pid, const char *want)
{
	char path[64], comm[64];

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	if (read_small(path, comm, sizeof(comm)))
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	/* The kernel keeps the first COMM_MAX bytes of longer names. */
	return !strncmp(comm, want, COMM_MAX);
}

static bool exe_matches(__u32 pid, const char *want)
{
	char path[64], exe[4096];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return false;
	exe[n] = '\0';
	if (strchr(want, '/'))
		return !strcmp(exe, want);
	base = strrchr(exe, '/');
	return !strcmp(base ? base + 1 : exe, want);
}

static bool passes(const struct discover_filter *f, __u32 pid)
{
	if (!f)
		return true;
	if (f->comm && !comm_matches(pid, f->comm))
		return false;
	return !f->exe || exe_matches(pid, f->exe);
}

int discover__scan(const struct discover_filter *f,
		   int (*fn)(const struct proc_id *id, void *ctx), void *ctx)
{
	__u32 self = (__u32)getpid();
	struct dirent *de;
	int ret = 0;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while (!ret && (de = readdir(dir))) {
		struct proc_id id;
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid || pid == self || pid > 0xffffffffUL)
			continue;
		if (!passes(f, (__u32)pid) || discover__identify((__u32)pid, &id))
			continue;
		ret = fn(&id, ctx);
	}
	closedir(dir);
	return ret;
}
