/*
 * Following a command giltrace started through its wrappers (env, shell
 * scripts, pyenv shims, #! scripts, chroot, a launcher that forks) under
 * ptrace: each exec in the command's processes, and in every process or
 * thread they fork or clone, stops at the new program's entry point, where
 * the caller says whether that process is what it looks for. The first one
 * taken stays stopped there; every other process is let go, untraced.
 */
#ifndef GILTRACE_FOLLOW_H
#define GILTRACE_FOLLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* take(): not wanted, let it run on (still followed). */
#define FOLLOW_GO_ON 1
/* follow__run(): every process exited and none was taken (err says what
 * ran), or *stop was set (every process was let go and sent SIGTERM). */
#define FOLLOW_EXITED (-ECHILD)
#define FOLLOW_STOPPED (-EINTR)

struct follow_opts {
	const char *cmd; /* the command's name, for messages */
	/* pid is stopped at the entry point of a program it just exec'd:
	 * 0 takes it, FOLLOW_GO_ON lets it run on, -errno (a reason in err)
	 * kills the command. */
	int (*take)(pid_t pid, void *ctx, char *err, size_t errlen);
	void *ctx;
	volatile sig_atomic_t *stop; /* set by a signal handler: give up */
};

struct follow_result {
	pid_t target;      /* the process taken: traced, stopped at its entry */
	bool root_reaped;  /* the root exited while followed and was reaped */
	int root_status;   /* then its wait status */
	unsigned int nexec; /* execs seen */
};

/* Attaches to root, a child of ours that has not exec'd yet, so that its
 * execs, forks, vforks and clones are reported; 0 or -errno. */
int follow__seize(pid_t root);
/* Follows root (seized, then let go on its way to exec) until take()
 * accepts a process; 0, FOLLOW_EXITED, FOLLOW_STOPPED or -errno with a
 * one-line reason in err. On an error every followed process is killed. */
int follow__run(pid_t root, const struct follow_opts *o, struct follow_result *res, char *err,
		size_t errlen);

#endif
