#include "target/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/sudo_user.h"

struct spawn {
	pid_t root;    /* giltrace's child, the command; 0 once reaped */
	pid_t target;  /* the runtime: root or one of its descendants */
	int target_fd; /* its pidfd: a descendant is no child of ours, so its
			* PID could be reused once it is reaped */
	bool stopped;  /* the target still waits, under ptrace */
};

/* Under sudo, run the command as the user who typed it. */
static int drop_to_sudo_user(void)
{
	uid_t uid;
	gid_t gid;

	if (!sudo_user(&uid, &gid))
		return 0;
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
		return -errno;
	return 0;
}

/* Waits until the parent has attached (it closes the write end of gopipe),
 * then execs; an error goes back through errfd, which the exec closes. */
static void child(char *const argv[], bool keep_root, const int gopipe[2], int errfd)
{
	int err = keep_root ? 0 : drop_to_sudo_user();
	char c;

	close(gopipe[1]);
	while (read(gopipe[0], &c, 1) < 0 && errno == EINTR)
		;
	if (!err) {
		execvp(argv[0], argv);
		err = -errno;
	}
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

/* The child's own reason, when it could not exec at all. */
static int exec_error(int errfd)
{
	int child_err = 0;

	if (read(errfd, &child_err, sizeof(child_err)) != sizeof(child_err))
		return 0;
	return child_err;
}

/* Forks the command, attached before it execs; 0 and *root, or -errno. */
static int fork_seized(char *const argv[], bool keep_root, int errpipe[2], pid_t *root)
{
	int gopipe[2], ret;
	pid_t p;

	if (pipe2(gopipe, O_CLOEXEC))
		return -errno;
	p = fork();
	if (p < 0) {
		ret = -errno;
		close(gopipe[0]);
		close(gopipe[1]);
		return ret;
	}
	if (p == 0)
		child(argv, keep_root, gopipe, errpipe[1]);
	close(gopipe[0]);
	ret = follow__seize(p);
	if (ret)
		kill(p, SIGKILL);
	close(gopipe[1]);
	if (ret)
		waitpid(p, NULL, 0);
	*root = p;
	return ret;
}

int spawn__start(char *const argv[], bool keep_root, const struct follow_opts *fo,
		 struct spawn **sp, char *err, size_t errlen)
{
	struct spawn *s = calloc(1, sizeof(*s));
	struct follow_result fr;
	int errpipe[2], ret, child_err;
	pid_t root = 0;

	*sp = NULL;
	if (!s || pipe2(errpipe, O_CLOEXEC)) {
		ret = s ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(-ret));
		free(s);
		return ret;
	}
	ret = fork_seized(argv, keep_root, errpipe, &root);
	close(errpipe[1]);
	if (ret) {
		close(errpipe[0]);
		free(s);
		snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(-ret));
		return ret;
	}
	ret = follow__run(root, fo, &fr, err, errlen);
	child_err = exec_error(errpipe[0]);
	close(errpipe[0]);
	if (ret == FOLLOW_EXITED && !fr.nexec && child_err) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(-child_err));
		ret = child_err;
	}
	/* The command had SIGTERM; a second Ctrl-C stops the wait. */
	if (ret == FOLLOW_STOPPED && !fr.root_reaped)
		waitpid(root, NULL, 0);
	if (ret) {
		free(s);
		return ret;
	}
	s->root = fr.root_reaped ? 0 : root;
	s->target = fr.target;
	s->target_fd = (int)syscall(SYS_pidfd_open, fr.target, 0);
	s->stopped = true;
	*sp = s;
	return 0;
}

int spawn__resume(struct spawn *sp)
{
	if (ptrace(PTRACE_DETACH, sp->target, NULL, NULL))
		return -errno;
	sp->stopped = false;
	return 0;
}

pid_t spawn__pid(const struct spawn *sp)
{
	return sp->root ? sp->root : sp->target;
}

static void send(const struct spawn *sp, int sig)
{
	if (sp->target != sp->root && sp->target_fd >= 0)
		syscall(SYS_pidfd_send_signal, sp->target_fd, sig, NULL, 0);
	if (sp->root)
		kill(sp->root, sig);
}

void spawn__end(struct spawn *sp, int sig, int grace_ms, volatile sig_atomic_t *interrupt,
		int *status)
{
	/* A runtime still traced reports its end to us, its tracer, before
	 * its parent can reap it. */
	bool target_done = !(sp->stopped && sp->target != sp->root), root_done = !sp->root;
	__u64 end = mono_now() + (__u64)grace_ms * 1000000ull;
	int st = 0;

	if (sig)
		send(sp, sig);
	while (grace_ms && !(target_done && root_done) && mono_now() < end && !*interrupt) {
		if (!target_done && waitpid(sp->target, NULL, __WALL | WNOHANG) == sp->target)
			target_done = true;
		if (!root_done && waitpid(sp->root, &st, WNOHANG) == sp->root)
			root_done = true;
		if (!(target_done && root_done))
			poll(NULL, 0, 10);
	}
	if (grace_ms && !(target_done && root_done))
		send(sp, SIGKILL);
	if (!target_done)
		waitpid(sp->target, NULL, __WALL);
	if (!root_done)
		waitpid(sp->root, &st, 0);
	if (status)
		*status = st;
	if (sp->target_fd >= 0)
		close(sp->target_fd);
	free(sp);
}
