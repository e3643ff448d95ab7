#include "run/targets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stream/sink.h"
#include "target/gil_state.h"
#include "target/plan.h"
#include "trace/session.h"
#include "util/clock.h"

enum target_state {
	TARGET_PLANNED, /* plan built, not attached yet */
	TARGET_TRACED,  /* attached; its pidfd is in the exit epoll set */
	TARGET_SKIPPED, /* not a supported runtime: remembered so that the
			 * next scan does not read its ELF files again */
};

struct target {
	struct proc_id id;
	enum target_state state;
	bool is_explicit; /* -p or CMD: failing to attach is an error */
	bool seen;        /* found by the current scan */
	bool warned_gil;  /* its GIL did not read as laid out: said once */
	int pidfd;        /* -1 once skipped */
	struct attach_plan *plan; /* NULL once skipped */
};

struct targets {
	const struct stream_sink *sink;
	struct trace_session *session; /* NULL until targets__attach() */
	struct target *v;
	size_t n, cap;
	size_t ntraced;
	int epfd;
	bool warned_full;
	const char *mode; /* --mode, or NULL */
};

static int pidfd_open(__u32 pid)
{
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);

	return fd < 0 ? -errno : fd;
}

struct targets *targets__new(const struct stream_sink *sink)
{
	struct targets *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->sink = sink;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0) {
		free(t);
		return NULL;
	}
	return t;
}

static void release(struct target *e)
{
	if (e->pidfd >= 0)
		close(e->pidfd);
	e->pidfd = -1;
	if (e->plan) {
		plan__release(e->plan);
		free(e->plan);
	}
	e->plan = NULL;
}

void targets__free(struct targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		release(&t->v[i]);
	free(t->v);
	close(t->epfd);
	free(t);
}

static struct target *find(struct targets *t, __u32 pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].id.pid == pid)
			return &t->v[i];
	return NULL;
}

static struct target *append(struct targets *t)
{
	struct target *e;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct target *bigger = realloc(t->v, cap * sizeof(*bigger));

		if (!bigger)
			return NULL;
		t->v = bigger;
		t->cap = cap;
	}
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->pidfd = -1;
	return e;
}

/* Stops tracing e (if it was traced) and forgets it. */
static void drop(struct targets *t, struct target *e)
{
	__u32 pid = e->id.pid;
	bool traced = e->state == TARGET_TRACED;

	if (traced) {
		trace_session__remove(t->session, pid);
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, e->pidfd, NULL);
		t->ntraced--;
	}
	release(e);
	*e = t->v[--t->n];
	if (traced)
		stream_sink__target_exit(t->sink, pid);
}

/* The pidfd comes first, so that the plan and the exit we wait for are of
 * the same process even if its PID is reused at once. at_entry: a command's
 * runtime stopped at its entry point, whose interpreter does not exist yet
 * (its layout is checked at the first reading after it does); any other
 * process must have one to check the layout against, or is refused. */
static int plan_one(const struct targets *t, struct target *e, __u32 pid, bool at_entry,
		    char *err, size_t errlen)
{
	int ret;

	e->id.pid = pid;
	e->pidfd = pidfd_open(pid);
	if (e->pidfd < 0) {
		snprintf(err, errlen, "cannot attach to PID %u: no such process", pid);
		return e->pidfd;
	}
	e->plan = malloc(sizeof(*e->plan));
	if (!e->plan) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = plan__build(pid, t->mode, e->plan, err, errlen);
	if (!ret && e->plan->layout_pending && !at_entry) {
		snprintf(err, errlen, "cannot trace PID %u (%s): its _PyRuntime holds no running "
			 "interpreter, so its layout cannot be checked", pid, e->plan->meta.comm);
		plan__release(e->plan);
		ret = -EPROTO;
	}
	if (ret) {
		free(e->plan);
		e->plan = NULL;
		return ret;
	}
	e->state = TARGET_PLANNED;
	return 0;
}

static int attach_one(struct targets *t, struct target *e, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = e->id.pid };
	int ret;

	ret = trace_session__add(t->session, e->plan, err, errlen);
	if (ret)
		return ret;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, e->pidfd, &ev)) {
		ret = -errno;
		trace_session__remove(t->session, e->id.pid);
		snprintf(err, errlen, "cannot watch PID %u: %s", e->id.pid, strerror(-ret));
		return ret;
	}
	/* The uprobes hold the file now. */
	plan__release(e->plan);
	if (e->plan->warning[0])
		fprintf(stderr, "giltrace: warning: PID %u: %s\n", e->id.pid, e->plan->warning);
	e->state = TARGET_TRACED;
	t->ntraced++;
	stream_sink__target(t->sink, &e->plan->meta);
	return 0;
}

void targets__set_mode(struct targets *t, const char *mode)
{
	t->mode = mode;
}

int targets__plan(struct targets *t, __u32 pid, bool at_entry, char *err, size_t errlen)
{
	struct target *e;
	int ret;

	if (find(t, pid))
		return 0;
	e = append(t);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e->is_explicit = true;
	discover__identify(pid, &e->id);
	ret = plan_one(t, e, pid, at_entry, err, errlen);
	if (ret)
		drop(t, e);
	return ret;
}

static void skip(struct target *e)
{
	release(e);
	e->state = TARGET_SKIPPED;
}

static int on_found(const struct proc_id *id, void *ctx)
{
	struct targets *t = ctx;
	struct target *e = find(t, id->pid);
	char err[512];

	if (e && discover__same(&e->id, id)) {
		e->seen = true;
		return 0;
	}
	/* A reused PID or an exec: the old plan says nothing about it. */
	if (e)
		drop(t, e);
	e = append(t);
	if (!e)
		return -ENOMEM;
	e->seen = true;
	if (plan_one(t, e, id->pid, false, err, sizeof(err))) {
		skip(e);
		e->id = *id;
		return 0;
	}
	e->id = *id;
	if (!t->session)
		return 0;
	if (t->ntraced >= GILTRACE_MAX_TARGETS) {
		if (!t->warned_full)
			fprintf(stderr, "giltrace: tracing %d processes already: PID %u and later "
				"ones skipped\n", GILTRACE_MAX_TARGETS, id->pid);
		t->warned_full = true;
		skip(e);
		return 0;
	}
	/* Exited meanwhile, or could not be probed: --all goes on without it. */
	if (attach_one(t, e, err, sizeof(err)))
		skip(e);
	return 0;
}

int targets__scan(struct targets *t, const struct discover_filter *f)
{
	int ret;

	for (size_t i = 0; i < t->n; i++)
		t->v[i].seen = false;
	ret = discover__scan(f, on_found, t);
	if (ret)
		return ret;
	/* Skipped processes that are gone need no memory. Traced ones leave
	 * through their pidfd, even if a filter no longer matches them. */
	for (size_t i = 0; i < t->n;) {
		if (t->v[i].state == TARGET_SKIPPED && !t->v[i].seen)
			drop(t, &t->v[i]);
		else
			i++;
	}
	return 0;
}

bool targets__first_meta(const struct targets *t, struct trace_meta *meta)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].plan) {
			*meta = t->v[i].plan->meta;
			return true;
		}
	}
	return false;
}

int targets__attach(struct targets *t, struct trace_session *s, char *err, size_t errlen)
{
	t->session = s;
	for (size_t i = 0; i < t->n;) {
		struct target *e = &t->v[i];
		int ret;

		if (e->state != TARGET_PLANNED) {
			i++;
			continue;
		}
		ret = attach_one(t, e, err, errlen);
		if (ret && e->is_explicit)
			return ret;
		if (ret)
			skip(e);
		i++;
	}
	return 0;
}

int targets__exit_fd(const struct targets *t)
{
	return t->epfd;
}

size_t targets__reap(struct targets *t)
{
	struct epoll_event evs[64];
	int n;

	do {
		n = epoll_wait(t->epfd, evs, 64, 0);
		for (int i = 0; i < n; i++) {
			struct target *e = find(t, evs[i].data.u32);

			if (e)
				drop(t, e);
		}
	} while (n == 64);
	return t->ntraced;
}

size_t targets__exited(const struct targets *t)
{
	struct epoll_event evs[64];
	int n = epoll_wait(t->epfd, evs, 64, 0);

	return n > 0 ? (size_t)n : 0;
}

size_t targets__ntraced(const struct targets *t)
{
	return t->ntraced;
}

int targets__read_gil_states(struct targets *t, int flags,
			     int (*fn)(void *ctx, const struct gil_event *ev), void *ctx)
{
	int stopped = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct target *e = &t->v[i];
		struct gil_event ev = { .kind = GIL_EV_GIL_STATE };
		struct gil_state st;
		char why[256];
		int err;

		if (e->state != TARGET_TRACED || !e->plan)
			continue;
		/* A runtime with no GIL state to read still has its window's
		 * end: the holds in progress are counted up to it. */
		if (!e->plan->row->cpython) {
			if (flags & GIL_STATE_END) {
				ev.ts = mono_now();
				ev.tgid = e->id.pid;
				ev.ret = GIL_STATE_END | GIL_STATE_NO_READING;
				fn(ctx, &ev);
			}
			continue;
		}
		/* A command started by giltrace is planned before its interpreter
		 * exists: its layout is checked once it does, and a layout that
		 * does not fit is not traced on. */
		err = plan__check_layout(e->plan, why, sizeof(why));
		/* Exiting (its memory gone, its exit not yet reaped): no
		 * verdict on the layout; the exit is said when it is reaped. */
		if (err == -ESRCH)
			continue;
		if (err) {
			fprintf(stderr, "giltrace: PID %u: %s; tracing of it stopped\n", e->id.pid, why);
			drop(t, e);
			i--;
			stopped++;
			continue;
		}
		err = gil_state__read(e->id.pid, e->plan->target.gil_base, &e->plan->layout, &st);
		if (err == -EPROTO && !e->warned_gil) {
			fprintf(stderr, "giltrace: PID %u: its GIL does not read as CPython %s lays "
				"it out: hand-offs are not checked\n", e->id.pid, e->plan->meta.version);
			e->warned_gil = true;
		}
		if (err)
			continue;
		/* Stamped after the read: every event streamed before this one
		 * happened before it. */
		ev.ts = mono_now();
		ev.tgid = e->id.pid;
		ev.tid = st.holder_tid;
		ev.value = st.switch_number;
		ev.ret = st.flags | flags;
		ev.addr = e->plan->target.gil_base;
		fn(ctx, &ev);
	}
	return stopped;
}
