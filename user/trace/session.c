#include "trace/session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "giltrace.skel.h"
#include "util/array.h"
#include "util/clock.h"

/* An attached uprobe and the target it belongs to, so that one target's
 * probes can be taken away while the others stay. */
struct target_link {
	struct bpf_link *link;
	__u32 pid;
};

/* A process traced with blame, and how its code objects are laid out. */
struct blame_target {
	__u32 pid;
	const struct cpython_code_layout *code;
};

/* A free-threaded target whose lock probes are in, and how its lock
 * owners are named. */
struct locks_target {
	__u32 pid;
	struct ftlocks_layout layout;
};

struct trace_session {
	struct giltrace_bpf *skel;
	struct locks_target *locked;
	size_t nlocked, caplocked;
	struct blame_target *blamed;
	int nblamed, capblamed;
	bool blame;
	struct ring_buffer *rb;
	struct target_link *links;
	int nlinks, caplinks;
	int ncpus;
	unsigned long long drops_seen;
	bool syscall_tps;
	trace_event_fn on_event;
	void *ctx;
	int stop;
};

static const char tracefs[] = "/sys/kernel/tracing";

/* The futex syscall tracepoints need tracefs for their ids; mount it where
 * perf would if nothing is there yet. Without it the raw tracepoints do. */
static bool syscall_tracepoints_usable(void)
{
	static const char ev[] = "events/syscalls/sys_enter_futex";
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tracefs, ev);
	if (!access(path, F_OK))
		return true;
	if (!access("/sys/kernel/debug/tracing/events/syscalls/sys_enter_futex", F_OK))
		return true;
	if (mount("nodev", tracefs, "tracefs", 0, NULL))
		return false;
	return !access(path, F_OK);
}

static int handle_record(void *ctx, void *data, size_t len)
{
	struct trace_session *s = ctx;

	if (len < sizeof(struct gil_event))
		return 0;
	s->stop = s->on_event(s->ctx, data);
	return s->stop ? -ECANCELED : 0;
}

int trace_session__open(struct trace_session **out, const struct trace_opts *opts, char *err,
			size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = opts->btf_path);
	struct trace_session *s;
	int ret;

	*out = NULL;
	if (opts->btf_path && access(opts->btf_path, R_OK)) {
		snprintf(err, errlen, "kernel BTF missing: cannot read %s (giltrace needs a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF)", opts->btf_path);
		return -ENOENT;
	}
	if (!opts->btf_path && access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen, "kernel BTF missing: /sys/kernel/btf/vmlinux not found "
			 "(use a kernel with CONFIG_DEBUG_INFO_BTF, or --btf FILE)");
		return -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->on_event = opts->on_event;
	s->ctx = opts->ctx;
	s->ncpus = libbpf_num_possible_cpus();
	s->blame = opts->blame;
	s->skel = giltrace_bpf__open_opts(&oo);
	if (!s->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-ret));
		goto cleanup;
	}
	s->syscall_tps = syscall_tracepoints_usable();
	bpf_program__set_autoload(s->skel->progs.tp_futex_enter, s->syscall_tps);
	bpf_program__set_autoload(s->skel->progs.tp_futex_exit, s->syscall_tps);
	bpf_program__set_autoload(s->skel->progs.tp_futex_waitv_enter, s->syscall_tps);
	bpf_program__set_autoload(s->skel->progs.tp_futex_waitv_exit, s->syscall_tps);
	bpf_program__set_autoload(s->skel->progs.raw_futex_enter, !s->syscall_tps);
	bpf_program__set_autoload(s->skel->progs.raw_futex_exit, !s->syscall_tps);
	s->skel->rodata->blame_on = s->blame;
	if (opts->ringbuf_bytes)
		bpf_map__set_max_entries(s->skel->maps.events, opts->ringbuf_bytes);
	ret = giltrace_bpf__load(s->skel);
	if (ret) {
		if (ret == -EPERM)
			snprintf(err, errlen, "loading BPF programs needs root, or CAP_BPF and "
				 "CAP_PERFMON (run with sudo)");
		else
			snprintf(err, errlen, "BPF programs failed to load: %s (run with -v for the "
				 "verifier log)", strerror(-ret));
		goto cleanup;
	}
	ret = giltrace_bpf__attach(s->skel);
	if (ret) {
		snprintf(err, errlen, "cannot attach the futex and scheduler tracepoints: %s",
			 strerror(-ret));
		goto cleanup;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), handle_record, s, NULL);
	if (!s->rb) {
		ret = -errno;
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(-ret));
		goto cleanup;
	}
	*out = s;
	return 0;
cleanup:
	trace_session__close(s);
	return ret;
}

static int keep_link(struct trace_session *s, __u32 pid, struct bpf_link *link)
{
	if (s->nlinks == s->caplinks) {
		int cap = s->caplinks ? s->caplinks * 2 : 16;
		struct target_link *bigger = realloc(s->links, (size_t)cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		s->links = bigger;
		s->caplinks = cap;
	}
	s->links[s->nlinks].link = link;
	s->links[s->nlinks].pid = pid;
	s->nlinks++;
	return 0;
}

/* Destroys pid's links, keeping the others in order. */
static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Closing a uprobe waits for an RCU grace period in the closing thread
 * (0.1-0.2 s each on 6.x kernels, seven in a row for the toy VM), so links
 * are closed on threads of their own, a batch at a time, and the waits
 * overlap: Ctrl-C then ends a run within a second.
 */
static void destroy_links(struct target_link *v, int n)
{
	enum { BATCH = 32 };
	pthread_t th[BATCH];

	for (int i = 0; i < n; i += BATCH) {
		bool started[BATCH] = { false };
		int m = n - i < BATCH ? n - i : BATCH;

		for (int j = 0; j < m; j++) {
			started[j] = !pthread_create(&th[j], NULL, destroy_link, v[i + j].link);
			if (!started[j])
				bpf_link__destroy(v[i + j].link);
		}
		for (int j = 0; j < m; j++)
			if (started[j])
				pthread_join(th[j], NULL);
	}
}

static void drop_links(struct trace_session *s, __u32 pid)
{
	struct target_link *gone = malloc((size_t)s->nlinks * sizeof(*gone) + 1);
	int kept = 0, ngone = 0;

	for (int i = 0; i < s->nlinks; i++) {
		if (s->links[i].pid != pid)
			s->links[kept++] = s->links[i];
		else if (gone)
			gone[ngone++] = s->links[i];
		else
			bpf_link__destroy(s->links[i].link);
	}
	s->nlinks = kept;
	destroy_links(gone, ngone);
	free(gone);
}

/* A CPython target with frames: BPF gets the frame layout (the forced
 * holder's function in every trace, blame's walk with blame on), user space
 * keeps the code layout to name them. Other runtimes have no Python frames. */
static int blame_add(struct trace_session *s, const struct attach_plan *plan, char *err,
		     size_t errlen)
{
	const struct cpython_layout *l = runtime__blame_layout(plan->row) ? &plan->layout : NULL;
	int ret;

	if (!l)
		return 0;
	if (s->nblamed == s->capblamed) {
		int cap = s->capblamed ? s->capblamed * 2 : 8;
		struct blame_target *bigger = realloc(s->blamed, (size_t)cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		s->blamed = bigger;
		s->capblamed = cap;
	}
	if (bpf_map__update_elem(s->skel->maps.blame_targets, &plan->pid, sizeof(plan->pid),
				 &l->frames, sizeof(l->frames), BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, "cannot register PID %u's Python frame layout: %s", plan->pid,
			 strerror(-ret));
		return ret;
	}
	s->blamed[s->nblamed].pid = plan->pid;
	s->blamed[s->nblamed].code = &l->code;
	s->nblamed++;
	return 0;
}

static void blame_remove(struct trace_session *s, __u32 pid)
{
	int kept = 0;

	bpf_map__delete_elem(s->skel->maps.holder_last, &pid, sizeof(pid), 0);
	bpf_map__delete_elem(s->skel->maps.blame_targets, &pid, sizeof(pid), 0);
	for (int i = 0; i < s->nblamed; i++)
		if (s->blamed[i].pid != pid)
			s->blamed[kept++] = s->blamed[i];
	s->nblamed = kept;
}

/* Free-threaded CPython: BPF gets where a lock's owner keeps its type,
 * user space keeps the layout for the names (trace_session__lock_layout). */
static int locks_add(struct trace_session *s, const struct attach_plan *plan, char *err,
		     size_t errlen)
{
	const struct ftlocks_layout *l = &plan->locks;
	struct ftlocks_target t = { 0 };
	struct locks_target *more;
	int ret;

	if (!l->on)
		return 0;
	more = array__reserve(s->locked, s->nlocked, &s->caplocked, sizeof(*more), 8);
	if (!more)
		return -ENOMEM;
	s->locked = more;
	if (l->ob_type)
		t.ob_type_delta = (__s32)l->ob_type - (__s32)l->ob_mutex;
	memcpy(t.gc_lo, l->gc_lo, sizeof(t.gc_lo));
	memcpy(t.gc_hi, l->gc_hi, sizeof(t.gc_hi));
	if (bpf_map__update_elem(s->skel->maps.ftlocks_targets, &plan->pid, sizeof(plan->pid), &t,
				 sizeof(t), BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, "cannot register PID %u for its locks: %s", plan->pid,
			 strerror(-ret));
		return ret;
	}
	s->locked[s->nlocked].pid = plan->pid;
	s->locked[s->nlocked].layout = *l;
	s->nlocked++;
	return 0;
}

static void locks_remove(struct trace_session *s, __u32 pid)
{
	size_t kept = 0;

	bpf_map__delete_elem(s->skel->maps.ftlocks_targets, &pid, sizeof(pid), 0);
	for (size_t i = 0; i < s->nlocked; i++)
		if (s->locked[i].pid != pid)
			s->locked[kept++] = s->locked[i];
	s->nlocked = kept;
}

const struct ftlocks_layout *trace_session__lock_layout(const struct trace_session *s,
							 __u32 pid)
{
	for (size_t i = 0; i < s->nlocked; i++)
		if (s->locked[i].pid == pid)
			return &s->locked[i].layout;
	return NULL;
}

const struct cpython_code_layout *trace_session__code_layout(const struct trace_session *s,
							     __u32 pid)
{
	for (int i = 0; i < s->nblamed; i++)
		if (s->blamed[i].pid == pid)
			return s->blamed[i].code;
	return NULL;
}

int trace_session__take_stack(struct trace_session *s, __u32 pid, __u64 id,
			      struct blame_stack *out, const struct cpython_code_layout **code)
{
	__u8 one = 1;

	*code = trace_session__code_layout(s, pid);
	if (bpf_map__lookup_and_delete_elem(s->skel->maps.blame_stacks, &id, sizeof(id), out,
					    sizeof(*out), 0))
		return -ENOENT;
	/* Full (65536 stacks known): the stack is then stored again each time
	 * and taken again, which costs a lookup, not correctness. */
	bpf_map__update_elem(s->skel->maps.blame_known, &id, sizeof(id), &one, sizeof(one),
			     BPF_ANY);
	return 0;
}

int trace_session__add(struct trace_session *s, const struct attach_plan *plan, char *err,
		       size_t errlen)
{
	struct gil_target t = plan->target;
	int ret;

	for (int i = 0; i < plan->nprobes; i++) {
		const struct plan_probe *p = &plan->probes[i];
		struct bpf_program *prog =
			bpf_object__find_program_by_name(s->skel->obj, p->prog);
		struct bpf_link *link;
		char path[64];

		/* The uprobes go on the very file the target mapped, by descriptor. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", p->in_libc ? plan->libc_fd : plan->fd);
		if (!prog) {
			snprintf(err, errlen, "no BPF program %s for %s", p->prog, p->symbol);
			ret = -ENOENT;
			goto cleanup;
		}
		link = bpf_program__attach_uprobe(prog, p->retprobe, (pid_t)plan->pid, path,
						   p->offset);
		if (!link) {
			ret = -errno;
			if (ret == -ESRCH)
				snprintf(err, errlen, "cannot attach to PID %u: it exited during the "
					 "attach", plan->pid);
			else
				snprintf(err, errlen, "cannot attach a uprobe to %s in PID %u: %s",
					 p->symbol, plan->pid, strerror(-ret));
			goto cleanup;
		}
		ret = keep_link(s, plan->pid, link);
		if (ret) {
			bpf_link__destroy(link);
			snprintf(err, errlen, "cannot attach to PID %u: %s", plan->pid, strerror(-ret));
			goto cleanup;
		}
	}
	ret = blame_add(s, plan, err, errlen);
	if (!ret)
		ret = locks_add(s, plan, err, errlen);
	if (ret)
		goto cleanup;
	/* Free-threaded CPython: where the import's module name is read. */
	if (plan->has_ft_probes &&
	    bpf_map__update_elem(s->skel->maps.ft_gil_targets, &plan->pid, sizeof(plan->pid),
				 &plan->ft, sizeof(plan->ft), BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, "cannot register PID %u: %s", plan->pid, strerror(-ret));
		goto cleanup;
	}
	/* Filtering starts only once every probe is in place. */
	if (bpf_map__update_elem(s->skel->maps.traced_tgids, &plan->pid, sizeof(plan->pid), &t,
				 sizeof(t), BPF_ANY)) {
		ret = -errno;
		snprintf(err, errlen, "cannot register PID %u: %s", plan->pid, strerror(-ret));
		goto cleanup;
	}
	return 0;
cleanup:
	/* A half-attached target would emit events the filter then drops. */
	bpf_map__delete_elem(s->skel->maps.ft_gil_targets, &plan->pid, sizeof(plan->pid), 0);
	blame_remove(s, plan->pid);
	locks_remove(s, plan->pid);
	drop_links(s, plan->pid);
	return ret;
}

void trace_session__remove(struct trace_session *s, __u32 pid)
{
	/* Unfiltered first: no event of a target without its probes. */
	bpf_map__delete_elem(s->skel->maps.traced_tgids, &pid, sizeof(pid), 0);
	bpf_map__delete_elem(s->skel->maps.ft_gil_targets, &pid, sizeof(pid), 0);
	blame_remove(s, pid);
	locks_remove(s, pid);
	drop_links(s, pid);
}

void trace_session__quiesce(struct trace_session *s)
{
	__u32 key;

	/* Deleting the first key each time: the map shrinks under the walk. */
	while (!bpf_map__get_next_key(s->skel->maps.traced_tgids, NULL, &key, sizeof(key)))
		if (bpf_map__delete_elem(s->skel->maps.traced_tgids, &key, sizeof(key), 0))
			break;
}

/* Drops become events in the stream, so that reports made later from a
 * capture show them where they happened. */
static int report_drops(struct trace_session *s)
{
	unsigned long long total = trace_session__drops(s);
	struct gil_event ev = { .kind = GIL_EV_DROPS };

	if (total <= s->drops_seen)
		return 0;
	ev.ts = mono_now();
	ev.value = total - s->drops_seen;
	s->drops_seen = total;
	return s->on_event(s->ctx, &ev);
}

int trace_session__poll(struct trace_session *s, int timeout_ms)
{
	int n = ring_buffer__poll(s->rb, timeout_ms), m;

	if (n == -ECANCELED || s->stop)
		return -ECANCELED;
	if (n < 0)
		return n;
	/* BPF submits without a wake-up until wakeup_bytes are pending, so
	 * a quiet target's records are only seen by consuming after the
	 * poll's time-out. */
	m = ring_buffer__consume(s->rb);
	if (m == -ECANCELED || s->stop)
		return -ECANCELED;
	if (m < 0)
		return m;
	n += m;
	if (report_drops(s))
		return -ECANCELED;
	return n;
}

int trace_session__fd(const struct trace_session *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

unsigned long long trace_session__drops(const struct trace_session *s)
{
	unsigned long long sum = 0;
	__u64 vals[s->ncpus];
	__u32 zero = 0;

	if (bpf_map__lookup_elem(s->skel->maps.drops, &zero, sizeof(zero), vals, sizeof(vals), 0))
		return s->drops_seen;
	for (int i = 0; i < s->ncpus; i++)
		sum += vals[i];
	return sum;
}

const char *trace_session__futex_mode(const struct trace_session *s)
{
	return s->syscall_tps ? "syscall tracepoints" : "raw tracepoints";
}

void trace_session__close(struct trace_session *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	destroy_links(s->links, s->nlinks);
	free(s->links);
	free(s->blamed);
	free(s->locked);
	giltrace_bpf__destroy(s->skel);
	free(s);
}
