#include "target/entry_trap.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>

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

int entry_trap__set(pid_t pid, struct entry_trap *t)
{
	unsigned long entry = 0;
	long word;
	int err;

	t->addr = 0;
	err = read_entry(pid, &entry);
	if (err)
		return err;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)entry, NULL);
	if (errno)
		return -errno;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)((word & ~0xffL) | 0xcc)))
		return -errno;
	t->addr = entry;
	t->word = word;
	return 0;
}

static int read_ip(pid_t pid, unsigned long *ip)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return -errno;
	*ip = regs.rip;
	return 0;
}

bool entry_trap__hit(pid_t pid, const struct entry_trap *t)
{
	unsigned long ip = 0;

	/* int3 traps with the instruction pointer after it. */
	return t->addr && !read_ip(pid, &ip) && ip == t->addr + 1;
}

int entry_trap__clear(pid_t pid, struct entry_trap *t)
{
	struct user_regs_struct regs;
	bool hit = entry_trap__hit(pid, t);

	if (!t->addr)
		return 0;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)t->addr, (void *)t->word))
		return -errno;
	if (hit) {
		if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
			return -errno;
		regs.rip = t->addr;
		if (ptrace(PTRACE_SETREGS, pid, NULL, &regs))
			return -errno;
	}
	t->addr = 0;
	return 0;
}
