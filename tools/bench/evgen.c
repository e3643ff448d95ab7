/*
 * evgen: a GIL event generator for consumer-capacity benchmarks. It looks
 * like the toy VM to giltrace (same hook symbols, same toyvm_gil object,
 * linked from tools/toyvm/gil_hooks.S) but its threads call the
 * acquired/release hooks back to back at a set rate, with no interpreter in
 * between, so the event rate is limited by the probes alone.
 *
 *   evgen THREADS RATE SECONDS
 *
 * RATE is events/s for all threads together (0: as fast as possible). It
 * prints "ready", waits for a line on stdin (attach a tracer first), runs,
 * then prints "ops EVENTS elapsed_ns NS": the exact number of hook calls,
 * which a tracer with zero drops must report.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gil_hooks.h"

/* giltrace reads the GIL's extent from this symbol's size. */
char toyvm_gil[4096] __attribute__((aligned(4096)));

static double rate_per_thread;
static double seconds;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	long *events = arg, tid = syscall(SYS_gettid), n = 0;
	double t0 = now_s(), t;

	do {
		/* A batch of 100 pairs, then pace: sleep until on schedule. */
		for (int i = 0; i < 100; i++) {
			toyvm_gil_acquired(toyvm_gil, tid);
			toyvm_gil_release(toyvm_gil, tid);
		}
		n += 200;
		t = now_s();
		if (rate_per_thread > 0) {
			double due = t0 + n / rate_per_thread;

			if (due > t)
				usleep((useconds_t)((due - t) * 1e6));
		}
	} while (t - t0 < seconds);
	*events = n;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[64];
	long events[64], total = 0;
	int threads;
	char line[16];
	double t0;

	if (argc != 4 || (threads = atoi(argv[1])) < 1 || threads > 64) {
		fprintf(stderr, "usage: evgen THREADS RATE SECONDS\n");
		return 2;
	}
	rate_per_thread = atof(argv[2]) / threads;
	seconds = atof(argv[3]);
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &events[i]);
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		total += events[i];
	}
	printf("ops %ld elapsed_ns %.0f\n", total, (now_s() - t0) * 1e9);
	return 0;
}
