/*
 * probecost: what each kind of probe giltrace uses costs on this machine,
 * per hit, measured as the difference between the same loop run bare and
 * with one probe attached (alternated, median of several repetitions).
 *
 *   sudo build/bench/probecost [-r REPS] [-n CALLS] [-o SUBSTRING]
 *
 * Output: one line per probe kind, ns per hit (median, min-max), and the
 * bare loop's cost for scale.
 *
 *   sudo build/bench/probecost -H PROG[,PROG...]
 *
 * attaches those tracepoint programs machine-wide and holds them until stdin
 * closes (prints "attached" first): tools/bench/overhead.py uses it to
 * charge a workload with giltrace's scheduler or futex programs alone.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "probecost.skel.h"

void bench_nop5(void);
void bench_push(void);
void bench_sstep(void);

/* Calls between ring-buffer drains: 100k records fit in the 16 MiB buffer. */
#define BATCH 100000

enum loop_kind { LOOP_NOP5, LOOP_PUSH, LOOP_SSTEP, LOOP_FUTEX, LOOP_GETPPID, LOOP_SWITCH };

struct bench {
	const char *name;
	enum loop_kind loop;
	const char *progs[3];
	const char *func;   /* uprobe target, NULL for tracepoints */
	int retprobe;
	long calls_div;     /* fewer calls for slow probes */
};

static const struct bench benches[] = {
	{ "uprobe on NOP5 (filter only)", LOOP_NOP5, { "u_filter" }, "bench_nop5", 0, 1 },
	{ "uprobe on NOP5 + ring-buffer record", LOOP_NOP5, { "u_record" }, "bench_nop5", 0, 1 },
	{ "uprobe on NOP5 + in-kernel counter", LOOP_NOP5, { "u_count" }, "bench_nop5", 0, 1 },
	{ "uprobe on push (emulated)", LOOP_PUSH, { "u_filter" }, "bench_push", 0, 1 },
	{ "uprobe on lea (single-stepped)", LOOP_SSTEP, { "u_filter" }, "bench_sstep", 0, 10 },
	{ "uretprobe (alone)", LOOP_NOP5, { "ur_filter" }, "bench_nop5", 1, 1 },
	{ "futex tracepoints enter+exit, per futex call", LOOP_FUTEX,
	  { "tp_futex_enter", "tp_futex_exit" }, NULL, 0, 1 },
	{ "raw sys_enter+sys_exit, per futex call", LOOP_FUTEX, { "raw_enter", "raw_exit" }, NULL,
	  0, 1 },
	{ "futex tracepoints, per unrelated syscall", LOOP_GETPPID,
	  { "tp_futex_enter", "tp_futex_exit" }, NULL, 0, 1 },
	{ "raw sys_enter+sys_exit, per unrelated syscall", LOOP_GETPPID,
	  { "raw_enter", "raw_exit" }, NULL, 0, 1 },
	{ "sched_waking+wakeup+switch, per context switch", LOOP_SWITCH,
	  { "sched_waking", "sched_wakeup", "sched_switch" }, NULL, 0, 20 },
	{ "sched_switch alone (CO-RE read + lookup)", LOOP_SWITCH, { "sched_switch" }, NULL, 0,
	  20 },
	{ "sched_switch alone (direct read + lookup)", LOOP_SWITCH, { "switch_direct" }, NULL, 0,
	  20 },
	{ "sched_switch alone (empty program)", LOOP_SWITCH, { "switch_empty" }, NULL, 0, 20 },
	{ "sched_waking alone", LOOP_SWITCH, { "sched_waking" }, NULL, 0, 20 },
	{ "sched_wakeup alone", LOOP_SWITCH, { "sched_wakeup" }, NULL, 0, 20 },
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int noop_record(void *ctx, void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

/* Two threads on one CPU passing a byte back and forth through pipes: each
 * pass is a wake-up and a context switch. */
static int pipes[2][2];

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *echo_thread(void *arg)
{
	long n = (long)arg;
	char c;

	pin_cpu0();
	for (long i = 0; i < n; i++)
		if (read(pipes[0][0], &c, 1) != 1 || write(pipes[1][1], &c, 1) != 1)
			break;
	return NULL;
}

/* Per-operation cost of a loop of n operations, in ns; the ring buffer is
 * drained between batches, outside the timing. */
static double run_loop(enum loop_kind loop, long n, struct ring_buffer *rb)
{
	static int word;
	double total = 0, t0;
	long done = 0;

	if (loop == LOOP_SWITCH) {
		pthread_t th;
		char c = 'x';

		if (pipe(pipes[0]) || pipe(pipes[1]))
			return -1;
		pin_cpu0();
		pthread_create(&th, NULL, echo_thread, (void *)n);
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (write(pipes[0][1], &c, 1) != 1 || read(pipes[1][0], &c, 1) != 1)
				break;
		total = now_ns() - t0;
		pthread_join(th, NULL);
		for (int i = 0; i < 2; i++)
			close(pipes[i][0]), close(pipes[i][1]);
		/* Two switches a round trip. */
		return total / n / 2;
	}
	while (done < n) {
		long k = n - done < BATCH ? n - done : BATCH;

		t0 = now_ns();
		switch (loop) {
		case LOOP_NOP5:
			for (long i = 0; i < k; i++)
				bench_nop5();
			break;
		case LOOP_PUSH:
			for (long i = 0; i < k; i++)
				bench_push();
			break;
		case LOOP_SSTEP:
			for (long i = 0; i < k; i++)
				bench_sstep();
			break;
		case LOOP_FUTEX:
			for (long i = 0; i < k; i++)
				syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
			break;
		case LOOP_GETPPID:
			for (long i = 0; i < k; i++)
				syscall(SYS_getppid);
			break;
		default:
			break;
		}
		total += now_ns() - t0;
		done += k;
		if (rb)
			ring_buffer__consume(rb);
	}
	return total / n;
}

static int attach(struct probecost_bpf *skel, const struct bench *b, struct bpf_link **links)
{
	for (int i = 0; i < 3 && b->progs[i]; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, b->progs[i]);

		if (b->func) {
			LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = b->func,
				    .retprobe = b->retprobe);
			links[i] = bpf_program__attach_uprobe_opts(p, getpid(), "/proc/self/exe", 0,
								    &uo);
		} else {
			links[i] = bpf_program__attach(p);
		}
		if (!links[i]) {
			fprintf(stderr, "probecost: cannot attach %s: %s\n", b->progs[i],
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* -H: attach the named programs, say so, wait for stdin to close. */
static int hold(struct probecost_bpf *skel, char *names)
{
	struct bpf_link *links[8] = {};
	int n = 0, err = 1;
	char buf[64];

	for (char *tok = strtok(names, ","); tok; tok = strtok(NULL, ",")) {
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, tok);

		if (n == 8 || !p || !(links[n] = bpf_program__attach(p))) {
			fprintf(stderr, "probecost: cannot attach %s\n", tok);
			goto cleanup;
		}
		n++;
	}
	printf("attached\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	err = 0;
cleanup:
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long calls = 1000000;
	int reps = 5, opt, err = 1;
	const char *only = NULL;
	char *hold_progs = NULL;
	struct probecost_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct utsname u;
	__u32 tgid = getpid();
	__u64 zero = 0;

	while ((opt = getopt(argc, argv, "r:n:o:H:")) != -1) {
		if (opt == 'H')
			hold_progs = optarg;
		else if (opt == 'o')
			only = optarg;
		else if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 'n')
			calls = atol(optarg);
		else {
			fprintf(stderr, "usage: probecost [-r REPS] [-n CALLS] [-o SUBSTRING] [-H PROGS]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > 99 || calls < 1000) {
		fprintf(stderr, "probecost: need 1 <= REPS <= 99 and CALLS >= 1000\n");
		return 2;
	}
	skel = probecost_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "probecost: cannot load the BPF object: %s (run as root)\n",
			strerror(errno));
		goto cleanup;
	}
	bpf_map__update_elem(skel->maps.tgids, &tgid, sizeof(tgid), &zero, sizeof(zero), BPF_ANY);
	if (hold_progs) {
		err = hold(skel, hold_progs);
		goto cleanup;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), noop_record, NULL, NULL);
	if (!rb)
		goto cleanup;
	uname(&u);
	printf("# probecost: %s, %ld calls x %d repetitions, bare and probed alternated\n",
	       u.release, calls, reps);
	printf("%-48s %9s %9s %9s %9s\n", "probe", "ns/hit", "min", "max", "bare ns");
	for (size_t bi = 0; bi < sizeof(benches) / sizeof(benches[0]); bi++) {
		const struct bench *b = &benches[bi];
		long n = calls / b->calls_div;
		double d[99], bare[99];

		if (only && !strstr(b->name, only))
			continue;

		for (int r = 0; r < reps; r++) {
			struct bpf_link *links[3] = {};
			double base = run_loop(b->loop, n, NULL), probed;

			if (attach(skel, b, links)) {
				for (int i = 0; i < 3; i++)
					bpf_link__destroy(links[i]);
				goto cleanup;
			}
			probed = run_loop(b->loop, n, rb);
			for (int i = 0; i < 3; i++)
				bpf_link__destroy(links[i]);
			bare[r] = base;
			d[r] = probed - base;
		}
		qsort(d, reps, sizeof(double), cmp_double);
		qsort(bare, reps, sizeof(double), cmp_double);
		printf("%-48s %9.1f %9.1f %9.1f %9.1f\n", b->name, d[reps / 2], d[0], d[reps - 1],
		       bare[reps / 2]);
		fflush(stdout);
	}
	err = 0;
cleanup:
	ring_buffer__free(rb);
	probecost_bpf__destroy(skel);
	return err;
}
