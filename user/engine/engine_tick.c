/*
 * Intervals for the live top view: engine__tick() closes the interval that
 * began at the previous tick. Holds and waits still in progress count up to
 * the tick, so a thread stuck waiting shows as waiting now, not when its
 * wait finally ends.
 */
#include <string.h>

#include "engine/engine_int.h"

static void thread_close(struct thread_slot *t, __u64 start, __u64 now)
{
	struct thread_interval *iv = &t->pub.iv;
	__u64 len = span(start, now);
	__u64 from = t->since > start ? t->since : start;

	*iv = t->acc;
	iv->len_ns = len;
	if (t->pub.state == THREAD_HOLDING)
		iv->hold_ns += span(from, now);
	else if (t->pub.state == THREAD_WAITING)
		iv->wait_ns += span(from, now);
	/* Late events may have pushed a figure past the interval's end. */
	if (iv->hold_ns > len)
		iv->hold_ns = len;
	if (iv->wait_ns > len)
		iv->wait_ns = len;
	iv->acquisitions_per_s = len ? (double)iv->acquisitions * 1e9 / (double)len : 0.0;
	iv->hold_share = ratio(iv->hold_ns, len);
	iv->wait_share = ratio(iv->wait_ns, len);
	iv->wait_mean_ns = ratio(iv->wait_sum_ns, iv->waits);
	iv->state = t->pub.state;

	t->pub.history[t->pub.history_next] = (float)iv->hold_share;
	t->pub.history_next = (t->pub.history_next + 1) % ENGINE_HISTORY;
	if (t->pub.history_len < ENGINE_HISTORY)
		t->pub.history_len++;
	memset(&t->acc, 0, sizeof(t->acc));
}

void engine__tick(struct engine *eng, __u64 now_ts)
{
	struct totals_interval *iv = &eng->iv;
	__u64 start = eng->ticked ? eng->iv_start : eng->first_ts;
	__u64 hold = 0, nprocs = 0;
	double secs;
	size_t i;

	if (!eng->have_ts || now_ts < start)
		start = now_ts;
	for (i = 0; i < eng->nthreads; i++) {
		thread_close(eng->threads[i], start, now_ts);
		hold += eng->threads[i]->pub.iv.hold_ns;
	}
	for (i = 0; i < eng->nprocs; i++) {
		struct engine_proc *p = eng->procs[i];

		if (p->acquisitions)
			nprocs++;
		engine__advance_held(p, now_ts);
		p->iv_wait_held_ns = p->acc_wait_held_ns;
		p->acc_wait_held_ns = 0;
	}
	for (i = 0; i < eng->cpus_cap; i++) {
		if (eng->cpus[i])
			eng->cpus[i]->iv = eng->cpu_acc[i];
		memset(&eng->cpu_acc[i], 0, sizeof(eng->cpu_acc[i]));
	}

	*iv = eng->acc;
	iv->len_ns = now_ts - start;
	iv->hold_ns = hold;
	iv->utilisation_pct = 100.0 * ratio(hold, iv->len_ns * (nprocs ? nprocs : 1));
	iv->contention_pct = 100.0 * ratio(iv->waits, iv->acquisitions);
	secs = (double)iv->len_ns / 1e9;
	if (secs > 0) {
		iv->switches_per_s = (double)iv->switches / secs;
		iv->retries_per_s = (double)iv->retries / secs;
		iv->forced_per_s = (double)iv->forced_switches / secs;
	}
	memset(&eng->acc, 0, sizeof(eng->acc));
	eng->iv_start = now_ts;
	eng->ticked = 1;
}
