#include "target/spawn.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* Under sudo, run the command as the user who typed it. */
static int drop_to_sudo_user(void)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	char *end;
	long uid, gid;

	if (!su || !sg || getuid() != 0)
		return 0;
	uid = strtol(su, &end, 10);
	if (*end || uid <= 0)
		return 0;
	gid = strtol(sg, &end, 10);
	if (*end || gid < 0)
		return 0;
	if (setgroups(0, NULL) || setgid((gid_t)gid) || setuid((uid_t)uid))
		return -errno;
	return 0;
}

static void child(char *const argv[], bool keep_root, int errfd)
{
	int err = keep_root ? 0 : drop_to_sudo_user();

	if (!err && ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		err = -errno;
	if (!err) {
		execvp(argv[0], argv);
		err = -errno;
	}
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

static int read_entry(pid_t pid, unsigned long *entry)
{
	char path[64];
	Elf64_auxv_t av;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (read(fd, &av, sizeof(av)) == sizeof(av) && av.a_type != AT_NULL) {
		if (av.a_type == AT_ENTRY) {
			*entry = av.a_un.a_val;
			close(fd);
			return 0;
		}
	}
	close(fd);
	return -ENOENT;
}

/* After exec the loader has not yet mapped the libraries (libpython among
 * them): run to the entry point with a one-shot breakpoint there. */
static int run_to_entry(pid_t pid)
{
	struct user_regs_struct regs;
	unsigned long entry = 0;
	long word;
	int status, err;

	err = read_entry(pid, &entry);
	if (err)
		return err;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)entry, NULL);
	if (errno)
		return -errno;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)((word & ~0xffL) | 0xcc)) ||
	    ptrace(PTRACE_CONT, pid, NULL, NULL))
		return -errno;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP)
		return -ECHILD;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)word) ||
	    ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return -errno;
	regs.rip = entry;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs))
		return -errno;
	return 0;
}

int spawn__start(char *const argv[], bool keep_root, pid_t *pid, char *err, size_t errlen)
{
	int pipefd[2], status, child_err = 0, ret;
	pid_t p;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	p = fork();
	if (p < 0) {
		ret = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(-ret));
		return ret;
	}
	if (p == 0)
		child(argv, keep_root, pipefd[1]);
	close(pipefd[1]);
	if (waitpid(p, &status, 0) < 0 || !WIFSTOPPED(status)) {
		if (read(pipefd[0], &child_err, sizeof(child_err)) != sizeof(child_err))
			child_err = -ECHILD;
		close(pipefd[0]);
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(-child_err));
		return child_err;
	}
	close(pipefd[0]);
	ret = run_to_entry(p);
	if (ret) {
		spawn__abort(p);
		snprintf(err, errlen, "cannot start %s at its entry point: %s", argv[0],
			 strerror(-ret));
		return ret;
	}
	*pid = p;
	return 0;
}

int spawn__resume(pid_t pid)
{
	return ptrace(PTRACE_DETACH, pid, NULL, NULL) ? -errno : 0;
}

void spawn__abort(pid_t pid)
{
	kill(pid, SIGKILL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	waitpid(pid, NULL, 0);
}
