#include "target/follow.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target/entry_trap.h"
#include "target/proc.h"
#include "util/array.h"

/* Programs named when the command exits without a runtime: enough to see
 * where the chain went (a pyenv shim alone runs a dozen). */
#define SEEN_SHOWN 8

/* A stop at the entry trap, from on_stop(). */
#define AT_ENTRY 1

struct tracee {
	pid_t tid;
	bool stopped;    /* in a ptrace-stop we have not resumed */
	bool group_stop; /* a SIGSTOP-like stop: resumed with PTRACE_LISTEN,
			  * which leaves it stopped until SIGCONT */
	int sig;         /* the signal it stopped with, delivered on resume */
	bool interrupted; /* PTRACE_INTERRUPT sent, to let it go */
	struct entry_trap trap;
};

struct follow {
	const struct follow_opts *o;
	struct follow_result *res;
	pid_t root;
	struct tracee *v;
	size_t n, cap;
	char **seen; /* distinct programs exec'd, in order */
	size_t nseen, seencap;
	sigset_t wait_mask; /* the mask while waiting: the caller's own */
};

int follow__seize(pid_t root)
{
	/* Threads too: a launcher may fork from any of its threads. */
	long opts = PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACECLONE;

	return ptrace(PTRACE_SEIZE, root, NULL, (void *)opts) ? -errno : 0;
}

static struct tracee *find(struct follow *f, pid_t tid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].tid == tid)
			return &f->v[i];
	return NULL;
}

/* A pointer into f->v: valid until the next add(). */
static struct tracee *add(struct follow *f, pid_t tid)
{
	struct tracee *v = array__reserve(f->v, f->n, &f->cap, sizeof(*v), 8);

	if (!v)
		return NULL;
	f->v = v;
	memset(&v[f->n], 0, sizeof(v[f->n]));
	v[f->n].tid = tid;
	return &v[f->n++];
}

static void forget(struct follow *f, pid_t tid)
{
	struct tracee *t = find(f, tid);

	if (t)
		*t = f->v[--f->n];
}

static void gone(struct follow *f, pid_t tid, int status)
{
	if (tid == f->root) {
		f->res->root_reaped = true;
		f->res->root_status = status;
	}
	forget(f, tid);
}

/* The program pid exec'd, for the message that says where the command went. */
static void note_exec(struct follow *f, pid_t pid)
{
	char exe[PATH_MAX], **v;

	f->res->nexec++;
	if (proc__exe((__u32)pid, exe, sizeof(exe)))
		return;
	for (size_t i = 0; i < f->nseen; i++)
		if (!strcmp(f->seen[i], exe))
			return;
	v = array__reserve(f->seen, f->nseen, &f->seencap, sizeof(*v), 8);
	if (!v)
		return;
	f->seen = v;
	v[f->nseen] = strdup(exe);
	if (v[f->nseen])
		f->nseen++;
}

/* Records t's stop (status from waitpid); with follow, an exec sets the
 * entry trap. AT_ENTRY when t stopped on that trap, 0, or -errno. */
static int on_stop(struct follow *f, struct tracee *t, int status, bool follow)
{
	int event = status >> 16, sig = WSTOPSIG(status);
	pid_t tid = t->tid;
	unsigned long msg = 0;

	t->stopped = true;
	t->group_stop = false;
	t->sig = 0;
	switch (event) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		/* The new process is traced already; its first stop may come
		 * before or after this one. */
		if (!ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) && !find(f, (pid_t)msg) &&
		    !add(f, (pid_t)msg))
			return -ENOMEM;
		return 0;
	case PTRACE_EVENT_EXEC:
		/* A thread that execs takes its leader's PID; its own vanishes. */
		if (!ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) && (pid_t)msg != tid)
			forget(f, (pid_t)msg);
		t = find(f, tid);
		t->trap.addr = 0; /* a trap went with the old program */
		note_exec(f, tid);
		return follow ? entry_trap__set(tid, &t->trap) : 0;
	case PTRACE_EVENT_STOP:
		/* A new tracee's first stop or our interrupt (SIGTRAP), else a
		 * group-stop. */
		t->group_stop = sig != SIGTRAP;
		return 0;
	default:
		if (sig == SIGTRAP && entry_trap__hit(tid, &t->trap))
			return AT_ENTRY;
		t->sig = sig;
		return 0;
	}
}

static void resume(struct tracee *t)
{
	/* ESRCH: it was killed meanwhile; its exit comes through waitpid. */
	if (t->group_stop)
		ptrace(PTRACE_LISTEN, t->tid, NULL, NULL);
	else
		ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)t->sig);
	t->stopped = false;
}

/* Detaches t, stopped, with its text as it was and the signal it stopped
 * with, if any, delivered. */
static void detach(struct follow *f, struct tracee *t)
{
	pid_t tid = t->tid;

	entry_trap__clear(tid, &t->trap);
	ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)t->sig);
	forget(f, tid);
}

/* Every process but keep (0: all) runs on untraced, and those it forks.
 * Stopped ones go first: a vfork parent stops for nothing until its child,
 * which may be stopped here, has exec'd. */
static void let_go_all_but(struct follow *f, pid_t keep)
{
	for (;;) {
		bool left = false;
		int status;
		pid_t p;

		for (size_t i = 0; i < f->n;) {
			struct tracee *t = &f->v[i];

			if (t->stopped && t->tid != keep) {
				detach(f, t); /* the last one moves to i */
				continue;
			}
			if (t->tid != keep && !t->interrupted) {
				ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL);
				t->interrupted = true;
			}
			left |= t->tid != keep;
			i++;
		}
		if (!left)
			return;
		p = waitpid(-1, &status, __WALL);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			return;
		if (!WIFSTOPPED(status)) {
			gone(f, p, status);
		} else {
			struct tracee *t = find(f, p);

			if (!t)
				t = add(f, p);
			if (t)
				on_stop(f, t, status, false);
		}
	}
}

/* Kills the command: every process followed, and reaps them (the root is
 * our child; the others report to us as their tracer first). */
static void kill_all(struct follow *f)
{
	int status;
	pid_t p;

	for (size_t i = 0; i < f->n; i++)
		kill(f->v[i].tid, SIGKILL);
	while ((p = waitpid(-1, &status, __WALL)) > 0 || errno == EINTR) {
		if (p < 0)
			continue;
		if (WIFSTOPPED(status))
			kill(p, SIGKILL); /* one that was never known: forked just now */
		else
			gone(f, p, status);
	}
}

static void describe_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by SIG%s", sigabbrev_np(WTERMSIG(status)) ?: "?");
	else
		snprintf(buf, len, "status %d", WEXITSTATUS(status));
}

static int exited(struct follow *f, char *err, size_t errlen)
{
	char status[64] = "status unknown";
	size_t len;

	if (f->res->root_reaped)
		describe_status(f->res->root_status, status, sizeof(status));
	len = (size_t)snprintf(err, errlen, "%s exited (%s) without running a supported runtime",
			       f->o->cmd, status);
	for (size_t i = 0; i < f->nseen && i < SEEN_SHOWN && len < errlen; i++)
		len += (size_t)snprintf(err + len, errlen - len, "%s%s",
					i ? ", " : "; giltrace saw it exec: ", f->seen[i]);
	if (f->nseen > SEEN_SHOWN && len < errlen)
		snprintf(err + len, errlen - len, " and %zu more", f->nseen - SEEN_SHOWN);
	return FOLLOW_EXITED;
}

/* Ctrl-C or SIGTERM before a runtime ran: the command goes on untraced to
 * the SIGTERM giltrace sends it, as it would after a trace. */
static int give_up(struct follow *f, char *err, size_t errlen)
{
	for (size_t i = 0; i < f->n; i++)
		kill(f->v[i].tid, SIGTERM);
	let_go_all_but(f, 0);
	snprintf(err, errlen, "stopped before %s ran a supported runtime", f->o->cmd);
	return FOLLOW_STOPPED;
}

/* tid stopped at its entry point: the caller's question. */
static int at_entry(struct follow *f, pid_t tid, char *err, size_t errlen)
{
	int ret = entry_trap__clear(tid, &find(f, tid)->trap);

	if (ret) {
		snprintf(err, errlen, "cannot follow %s into PID %d: %s", f->o->cmd, tid,
			 strerror(-ret));
		kill_all(f);
		return ret;
	}
	ret = f->o->take(tid, f->o->ctx, err, errlen);
	if (ret == FOLLOW_GO_ON)
		return ret;
	if (ret) {
		kill_all(f);
		return ret;
	}
	f->res->target = tid;
	let_go_all_but(f, tid);
	return 0;
}

static void on_child(int sig)
{
	(void)sig; /* only to end sigsuspend() */
}

/* The next stop or exit of a tracee, as waitpid() gives it; 0 when the stop
 * flag is set. The signals that set it and SIGCHLD, which the kernel sends
 * us at each of those, are blocked but inside sigsuspend(): a Ctrl-C cannot
 * slip in between the test of the flag and the wait. */
static pid_t wait_event(struct follow *f, int *status)
{
	for (;;) {
		pid_t p;

		if (*f->o->stop)
			return 0;
		p = waitpid(-1, status, __WALL | WNOHANG);
		if (p)
			return p;
		sigsuspend(&f->wait_mask);
	}
}

static int loop(struct follow *f, char *err, size_t errlen)
{
	for (;;) {
		struct tracee *t;
		int status, ret;
		pid_t tid;

		tid = wait_event(f, &status);
		if (!tid)
			return give_up(f, err, errlen);
		if (tid < 0 && errno == ECHILD)
			return exited(f, err, errlen);
		if (tid < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot follow %s: waitpid: %s", f->o->cmd,
				 strerror(-ret));
			kill_all(f);
			return ret;
		}
		if (!WIFSTOPPED(status)) {
			gone(f, tid, status);
			if (!f->n)
				return exited(f, err, errlen);
			continue;
		}
		t = find(f, tid);
		if (!t)
			t = add(f, tid);
		ret = t ? on_stop(f, t, status, true) : -ENOMEM;
		if (ret < 0) {
			snprintf(err, errlen, "cannot follow %s into PID %d: %s", f->o->cmd, tid,
				 strerror(-ret));
			kill_all(f);
			return ret;
		}
		if (ret == AT_ENTRY) {
			ret = at_entry(f, tid, err, errlen);
			if (ret != FOLLOW_GO_ON)
				return ret;
		}
		resume(find(f, tid));
	}
}

int follow__run(pid_t root, const struct follow_opts *o, struct follow_result *res, char *err,
		size_t errlen)
{
	struct follow f = { .o = o, .res = res, .root = root };
	struct sigaction sa = { .sa_handler = on_child }, old_sa;
	sigset_t block;
	int ret;

	memset(res, 0, sizeof(*res));
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &f.wait_mask);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &old_sa);
	if (add(&f, root)) {
		ret = loop(&f, err, errlen);
	} else {
		snprintf(err, errlen, "out of memory");
		kill(root, SIGKILL);
		waitpid(root, NULL, __WALL);
		ret = -ENOMEM;
	}
	sigaction(SIGCHLD, &old_sa, NULL);
	sigprocmask(SIG_SETMASK, &f.wait_mask, NULL);
	for (size_t i = 0; i < f.nseen; i++)
		free(f.seen[i]);
	free(f.seen);
	free(f.v);
	return ret;
}
