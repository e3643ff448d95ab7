#include "run/live.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/privileges.h"
#include "run/signals.h"
#include "run/targets.h"
#include "target/plan.h"
#include "target/proc.h"
#include "target/pytype.h"
#include "target/spawn.h"
#include "trace/libbpf_log.h"
#include "trace/session.h"
#include "blame/resolve.h"
#include "util/clock.h"
#include "util/u64map.h"

/* Longest time events wait in the ring buffer before the consumer looks:
 * BPF wakes it only when a batch is waiting. */
#define POLL_MS 10
/* --all looks for new processes this often. */
#define SCAN_MS 1000ull
/* The interpreters' own hand-off counts are read this often (the self-check,
 * target/gil_state.h): a process that exits is checked up to its last
 * reading. A 64-byte read each. */
#define READ_MS 100ull

/* Threads already named (tgid << 32 | tid), or stack ids already resolved. */
struct thread_set {
	struct u64map keys;
};

struct live_ctx {
	const struct stream_sink *sink;
	struct thread_set seen;
	struct trace_session *session;
	struct blame_resolver *resolver; /* blame stacks and HOLDER_FRAME samples */
	struct thread_set stacks;         /* stack ids already resolved */
	struct u64map lock_types;         /* type objects named: address -> tgid */
	__u64 traced_since;               /* when "tracing" was announced */
	__u64 traced_until;               /* when the targets ended, or giltrace */
};

static bool thread_set__has(const struct thread_set *set, __u64 key)
{
	return u64map__has(&set->keys, key);
}

/* True when key is new; false when it was there or memory ran out. */
static bool thread_set__add(struct thread_set *set, __u64 key)
{
	return u64map__put(&set->keys, key, 0) == 1;
}

static void name_thread(struct live_ctx *lc, __u32 tgid, __u32 tid)
{
	char comm[64];

	proc__comm(tgid, tid, comm, sizeof(comm));
	stream_sink__thread(lc->sink, tgid, tid, comm);
}

/* A stack id seen for the first time: resolved right away, while the
 * target still holds the code objects it names. */
static void take_stack(struct live_ctx *lc, const struct gil_event *ev)
{
	struct blame_frame frames[BLAME_MAX_FRAMES];
	const struct cpython_code_layout *code;
	struct blame_stack raw;
	unsigned int n;

	if (!thread_set__add(&lc->stacks, ev->value))
		return;
	if (trace_session__take_stack(lc->session, ev->tgid, ev->value, &raw, &code) || !code)
		return;
	n = resolver__resolve(lc->resolver, ev->tgid, code, &raw, frames);
	stream_sink__stack(lc->sink, ev->tgid, ev->value, raw.flags, frames, n);
}

/* A type that owns a contended lock, named once per process (LOCK_TYPE
 * records before the section that shows it), while the target holds it;
 * one that does not read as a type is sent no name and stays unnamed. */
static void name_lock_type(struct live_ctx *lc, const struct gil_event *ev)
{
	const struct ftlocks_layout *l = trace_session__lock_layout(lc->session, ev->tgid);
	struct gil_event rec = { .kind = GIL_EV_LOCK_TYPE, .ts = ev->ts, .tgid = ev->tgid,
				 .addr = ev->value };
	char name[LOCK_TYPE_NAME_MAX] = { 0 };
	__u64 owner;

	if (u64map__get(&lc->lock_types, ev->value, &owner) && owner == ev->tgid)
		return;
	u64map__put(&lc->lock_types, ev->value, ev->tgid);
	if (!l || pytype__name(ev->tgid, ev->value, l, name, sizeof(name)))
		return;
	for (int part = 0; part * 8 < (int)strlen(name); part++) {
		memcpy(&rec.value, name + part * 8, 8);
		rec.ret = part;
		stream_sink__event(lc->sink, &rec);
	}
}

/*
 * HOLDER_FRAME from BPF carries the code object and instruction; it leaves
 * here with value = the id of a one-frame stack record naming them (sent
 * once per id, ahead of the event), so captures and the engine see names,
 * not addresses that mean nothing after the process.
 */
static void name_frame(struct live_ctx *lc, struct gil_event *ev)
{
	const struct cpython_code_layout *code = trace_session__code_layout(lc->session, ev->tgid);
	struct blame_stack raw = { .nframes = 1 };
	struct blame_frame frame;
	__u64 id;

	if (ev->ret || !code) {
		ev->value = ev->ret == -ENODATA ? BLAME_ID_NO_FRAMES : BLAME_ID_UNKNOWN;
		return;
	}
	id = resolver__frame_id(ev->tgid, ev->addr, ev->value);
	if (thread_set__add(&lc->stacks, id)) {
		raw.frames[0].code = ev->addr;
		raw.frames[0].instr = ev->value;
		resolver__resolve(lc->resolver, ev->tgid, code, &raw, &frame);
		stream_sink__stack(lc->sink, ev->tgid, id, 0, &frame, 1);
	}
	ev->value = id;
}

static int on_event(void *ctx, const struct gil_event *ev)
{
	struct live_ctx *lc = ctx;

	if (ev->kind == GIL_EV_COMM) {
		char comm[17] = { 0 };

		/* A thread not seen yet gets its name from /proc at its first
		 * GIL event; one that never touches the GIL stays out of view. */
		if (!thread_set__has(&lc->seen, (__u64)ev->tgid << 32 | ev->tid))
			return 0;
		memcpy(comm, &ev->addr, 16);
		stream_sink__thread(lc->sink, ev->tgid, ev->tid, comm);
		return 0;
	}
	if (ev->tid && thread_set__add(&lc->seen, (__u64)ev->tgid << 32 | ev->tid))
		name_thread(lc, ev->tgid, ev->tid);
	if (ev->kind == GIL_EV_HOLDER_STACK && ev->value >= BLAME_ID_FIRST)
		take_stack(lc, ev);
	if (ev->kind == GIL_EV_LOCK_SECTION && ev->value)
		name_lock_type(lc, ev);
	if (ev->kind == GIL_EV_HOLDER_FRAME) {
		struct gil_event named = *ev;

		name_frame(lc, &named);
		return stream_sink__event(lc->sink, &named);
	}
	return stream_sink__event(lc->sink, ev);
}


/* A process of CMD stopped at an exec: taken when it is a supported runtime,
 * followed on when it is no runtime at all (a wrapper). */
static int take_runtime(pid_t pid, void *ctx, char *err, size_t errlen)
{
	int ret = targets__plan(ctx, (__u32)pid, true, err, errlen);

	return ret == PLAN_NOT_RUNTIME ? FOLLOW_GO_ON : ret;
}

/* Starts CMD (its runtime stopped at its entry point) or takes the -p list,
 * and plans each; --all plans what /proc holds now. */
static int plan_targets(const struct live_opts *o, struct targets *tg, struct spawn **child)
{
	char err[1024];
	int ret = 0;

	*child = NULL;
	targets__set_mode(tg, o->mode);
	if (o->cmd) {
		struct follow_opts fo = {
			.cmd = o->cmd[0], .take = take_runtime, .ctx = tg, .stop = &signals_stop,
		};

		ret = spawn__start(o->cmd, o->keep_root, &fo, child, err, sizeof(err));
	}
	for (unsigned int i = 0; !ret && i < o->npids; i++)
		ret = targets__plan(tg, o->pids[i], false, err, sizeof(err));
	if (!ret && o->all) {
		ret = targets__scan(tg, &o->filter);
		if (ret)
			snprintf(err, sizeof(err), "cannot read /proc: %s", strerror(-ret));
	}
	if (ret) {
		fprintf(stderr, "giltrace: %s\n", err);
		if (*child)
			spawn__end(*child, SIGKILL, 0, &signals_stop, NULL);
		*child = NULL;
	}
	return ret;
}

/* Waits for the next batch, a target's exit, input or a tick. */
static int wait_for_work(struct trace_session *s, int exit_fd, int input_fd, int timeout)
{
	struct pollfd fds[3] = {
		{ .fd = trace_session__fd(s), .events = POLLIN },
		{ .fd = exit_fd, .events = POLLIN },
		{ .fd = input_fd, .events = POLLIN },
	};
	int n = poll(fds, 3, timeout);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return (fds[1].revents ? 1 : 0) | (fds[2].revents ? 2 : 0);
}

/* Everything the kernel already wrote belongs to the run. */
static int drain(struct trace_session *s)
{
	int ret;

	while ((ret = trace_session__poll(s, 0)) > 0)
		;
	return ret;
}

static int loop(struct live_ctx *lc, struct targets *tg, const struct live_opts *o,
		const struct live_hooks *hooks, struct live_result *res)
{
	struct trace_session *s = lc->session;
	__u64 start = mono_now(), next_tick = start + (__u64)hooks->tick_ms * 1000000ull;
	__u64 next_scan = start + SCAN_MS * 1000000ull;
	__u64 next_reading = start + READ_MS * 1000000ull;
	__u64 end = o->duration_s > 0 ? start + (__u64)(o->duration_s * 1e9) : 0;
	int ret = 0;

	while (!signals_stop) {
		__u64 now = mono_now();
		int ready, n;

		if (end && now >= end)
			break;
		ready = wait_for_work(s, targets__exit_fd(tg), hooks->input_fd, POLL_MS);
		if (ready < 0) {
			fprintf(stderr, "giltrace: poll failed: %s\n", strerror(-ready));
			return 1;
		}
		n = trace_session__poll(s, 0);
		if (n == -ECANCELED)
			break;
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "giltrace: reading the ring buffer failed: %s\n", strerror(-n));
			return 1;
		}
		if ((ready & 2) && hooks->on_input && hooks->on_input(hooks->ctx))
			break;
		if (ready & 1) {
			/* A process's last events are in the buffer once it has exited. */
			n = drain(s);
			if (n == -ECANCELED)
				break;
			/* The last explicit target ends the run: its probes go with
			 * the session, after the sink has had its say (detaching a
			 * uprobe takes the kernel about 0.1 s). */
			if (!o->all && !o->persist &&
			    targets__exited(tg) >= targets__ntraced(tg)) {
				res->target_exited = true;
				break;
			}
			targets__reap(tg);
		}
		now = mono_now();
		if (o->all && now >= next_scan) {
			next_scan = now + SCAN_MS * 1000000ull;
			n = targets__scan(tg, &o->filter);
			if (n) {
				fprintf(stderr, "giltrace: cannot read /proc: %s\n", strerror(-n));
				return 1;
			}
		}
		if (now >= next_reading) {
			next_reading = now + READ_MS * 1000000ull;
			/* A layout that failed its check once the interpreter had
			 * started (the reading said why) may leave nothing to trace. */
			if (targets__read_gil_states(tg, 0, on_event, lc) && !o->all && !o->persist &&
			    !targets__ntraced(tg))
				return 1;
		}
		if (hooks->tick_ms && now >= next_tick) {
			next_tick = now + (__u64)hooks->tick_ms * 1000000ull;
			if (hooks->on_tick && hooks->on_tick(hooks->ctx, now))
				break;
		}
	}
	ret = drain(s);
	return ret == -ECANCELED || ret >= 0 || ret == -EINTR ? 0 : 1;
}

/* CMD as typed, for the line that says which of its processes is traced;
 * "..." when it does not fit. */
static void command_line(char *const cmd[], char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; cmd[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", cmd[i]);
	if (n >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
}

/* One line on stderr once the probes are in place: the user (and a script
 * waiting to start its workload) knows tracing has begun, and with CMD,
 * which of its processes runs the runtime. */
static void announce(const struct live_opts *o, const struct targets *tg,
		     const struct trace_meta *meta)
{
	size_t n = targets__ntraced(tg);
	char exe[PROC_PATH_MAX], cmd[256];

	if (o->quiet)
		return;
	if (o->all) {
		fprintf(stderr, "giltrace: tracing every supported process (%zu now); Ctrl-C to "
			"stop\n", n);
	} else if (n > 1) {
		fprintf(stderr, "giltrace: tracing %zu processes; Ctrl-C to stop\n", n);
	} else if (o->cmd) {
		if (proc__exe(meta->pid, exe, sizeof(exe)))
			snprintf(exe, sizeof(exe), "?");
		command_line(o->cmd, cmd, sizeof(cmd));
		fprintf(stderr, "giltrace: tracing PID %u (%s, %s %s, %s mode), started by `%s`; "
			"Ctrl-C to stop\n", meta->pid, exe, meta->runtime, meta->version, meta->mode,
			cmd);
	} else {
		fprintf(stderr, "giltrace: tracing PID %u (%s %s, %s mode); Ctrl-C to stop\n",
			meta->pid, meta->runtime, meta->version, meta->mode);
	}
}

/* A command giltrace stops (-d, Ctrl-C) has this long to end after SIGTERM
 * (target/spawn.h). */
#define STOP_GRACE_MS 2000

/* The targets' end, in one line on stderr (a summary follows on stdout). */
static void say_cmd_end(const struct live_opts *o, pid_t pid, const struct live_result *res,
			__u64 after_ns)
{
	int st = res->target_status;
	double s = (double)after_ns / 1e9;

	if (!res->cmd_ended_itself)
		fprintf(stderr, "giltrace: stopped PID %d (%s) after %.2f s of tracing%s\n", pid,
			o->cmd[0], s, WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ?
			" (SIGKILL: it outlived SIGTERM)" : "");
	else if (WIFSIGNALED(st))
		fprintf(stderr, "giltrace: PID %d (%s) was killed by signal %d (SIG%s) after %.2f s "
			"of tracing\n", pid, o->cmd[0], WTERMSIG(st), sigabbrev_np(WTERMSIG(st)) ?
			sigabbrev_np(WTERMSIG(st)) : "?", s);
	else
		fprintf(stderr, "giltrace: PID %d (%s) exited with status %d after %.2f s of "
			"tracing\n", pid, o->cmd[0], WEXITSTATUS(st), s);
}

static void say_targets_end(const struct targets *tg, const struct trace_meta *meta,
			    __u64 after_ns)
{
	size_t n = targets__ntraced(tg);

	if (n > 1)
		fprintf(stderr, "giltrace: all %zu traced processes exited after %.2f s of "
			"tracing\n", n, (double)after_ns / 1e9);
	else
		fprintf(stderr, "giltrace: PID %u (%s) exited after %.2f s of tracing\n",
			meta->pid, meta->comm, (double)after_ns / 1e9);
}

int live__exit_status(const struct live_result *res)
{
	if (!res->ran_cmd || !res->cmd_ended_itself)
		return 0;
	if (WIFSIGNALED(res->target_status))
		return 128 + WTERMSIG(res->target_status);
	return WEXITSTATUS(res->target_status);
}

static void target_seen(void *ctx, const struct trace_meta *meta)
{
	struct live_ctx *lc = ctx;

	stream_sink__target(lc->sink, meta);
}

static void target_gone(void *ctx, __u32 pid)
{
	struct live_ctx *lc = ctx;

	resolver__forget(lc->resolver, pid);
	stream_sink__target_exit(lc->sink, pid);
}

int live__run(const struct live_opts *o, const struct stream_sink *sink,
	      const struct live_hooks *hooks, struct live_result *res)
{
	struct live_ctx lc = { .sink = sink };
	/* The targets report to us first: a process's exit also ends what
	 * the blame resolver knows of its addresses. */
	struct stream_sink target_sink = {
		.target = target_seen, .target_exit = target_gone, .ctx = &lc,
	};
	struct trace_opts to = {
		.verbose = o->verbose, .on_event = on_event, .ctx = &lc,
		/* --btf, else $GILTRACE_BTF, else the kernel's own */
		.btf_path = o->btf_path ? o->btf_path : getenv("GILTRACE_BTF"),
		.blame = o->blame,
		.ringbuf_bytes = o->ringbuf_bytes,
	};
	struct trace_session *s = NULL;
	struct targets *tg;
	struct trace_meta meta;
	char err[512];
	struct spawn *child = NULL;
	int ret;

	memset(res, 0, sizeof(*res));
	libbpf_log__setup(o->verbose);
	if (!privileges__can_trace()) {
		fprintf(stderr, "giltrace: tracing needs root, or CAP_BPF, CAP_PERFMON and "
			"CAP_SYS_ADMIN (run with sudo)\n");
		return 1;
	}
	/* Blame's stacks and every trace's forced-holder frames. */
	lc.resolver = resolver__new();
	tg = targets__new(&target_sink);
	if (!tg || !lc.resolver) {
		fprintf(stderr, "giltrace: out of memory\n");
		targets__free(tg);
		resolver__free(lc.resolver);
		return 1;
	}
	ret = plan_targets(o, tg, &child);
	if (ret == FOLLOW_STOPPED) {
		/* Ctrl-C before CMD ran a runtime: stopped as asked. */
		ret = 0;
		goto cleanup;
	}
	if (ret)
		goto cleanup;
	/* --all on a host with no target yet: the machine's part only. */
	if (!targets__first_meta(tg, &meta)) {
		memset(&meta, 0, sizeof(meta));
		plan__machine_meta(&meta);
	}
	ret = stream_sink__start(sink, &meta, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "giltrace: %s\n", err);
		goto cleanup;
	}
	ret = trace_session__open(&s, &to, err, sizeof(err));
	lc.session = s;
	if (!ret)
		ret = targets__attach(tg, s, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "giltrace: %s\n", err);
		goto cleanup;
	}
	snprintf(res->futex_mode, sizeof(res->futex_mode), "%s", trace_session__futex_mode(s));
	/* The self-check's first readings, before the user (or a script) is
	 * told that tracing has begun; before a command starts, its interpreter
	 * says no thread has held the GIL yet. */
	targets__read_gil_states(tg, 0, on_event, &lc);
	/* Attached: from here giltrace reads what the targets control, with no
	 * more privilege than that takes (docs/security.md). */
	ret = privileges__drop_after_attach(o->all, &o->run_as);
	if (ret) {
		fprintf(stderr, "giltrace: cannot drop %s after attaching: %s\n",
			o->run_as.set ? "to user and capabilities" : "capabilities", strerror(-ret));
		goto cleanup;
	}
	if (hooks->on_traced) {
		ret = hooks->on_traced(hooks->ctx);
		if (ret)
			goto cleanup;
	}
	announce(o, tg, &meta);
	lc.traced_since = mono_now();
	if (child) {
		ret = spawn__resume(child);
		if (ret) {
			fprintf(stderr, "giltrace: cannot start %s: %s\n", o->cmd[0], strerror(-ret));
			goto cleanup;
		}
	}
	/* A target that exited during the attach ends a run of explicit targets
	 * at once, with what it wrote. */
	ret = loop(&lc, tg, o, hooks, res);
	lc.traced_until = mono_now();
	if (!ret && res->target_exited && !child && !o->quiet)
		say_targets_end(tg, &meta, lc.traced_until - lc.traced_since);
	/* The window's end for every process still there; events after it
	 * are outside the self-check. Then stop the events at the source and
	 * take what is left, so that the drops in the stream are the BPF
	 * counter's final value. */
	targets__read_gil_states(tg, GIL_STATE_END, on_event, &lc);
	trace_session__quiesce(s);
	drain(s);
	res->drops = trace_session__drops(s);
	if (o->verbose)
		fprintf(stderr, "giltrace: BPF drop counter at detach: %llu; futex calls through %s\n",
			res->drops, res->futex_mode);
	if (!ret && hooks->on_end)
		hooks->on_end(hooks->ctx, res);
cleanup:
	trace_session__close(s);
	targets__free(tg);
	if (child) {
		pid_t pid = spawn__pid(child);

		res->ran_cmd = true;
		res->cmd_ended_itself = !ret && res->target_exited;
		/* stopped by giltrace: SIGTERM, then SIGKILL after a grace or a
		 * second Ctrl-C; after a failure SIGKILL at once */
		signals_stop = 0;
		spawn__end(child, res->cmd_ended_itself ? 0 : ret ? SIGKILL : SIGTERM,
			   res->cmd_ended_itself || ret ? 0 : STOP_GRACE_MS, &signals_stop,
			   &res->target_status);
		if (lc.traced_until && !o->quiet && !ret) /* else its error said why */
			say_cmd_end(o, pid, res, lc.traced_until - lc.traced_since);
	}
	u64map__destroy(&lc.seen.keys);
	u64map__destroy(&lc.stacks.keys);
	u64map__destroy(&lc.lock_types);
	resolver__free(lc.resolver);
	return ret ? 1 : 0;
}
