/* The top view's rows: the engine's threads, in the order asked for. */
#include <stdlib.h>
#include <string.h>

#include "views/top.h"
#include "views/blame_view.h"

static const char *const sort_names[TOP_SORT__COUNT] = {
	[TOP_SORT_HOLD] = "hold",       [TOP_SORT_WAIT] = "wait",
	[TOP_SORT_ACQ] = "acq",         [TOP_SORT_MEAN] = "mean",
	[TOP_SORT_MAX] = "max",         [TOP_SORT_RETRIES] = "retries",
	[TOP_SORT_FORCED] = "forced",   [TOP_SORT_TID] = "tid",
	[TOP_SORT_NAME] = "name",
};

const char *top_sort__name(enum top_sort sort)
{
	return sort < TOP_SORT__COUNT ? sort_names[sort] : "?";
}

int top_sort__parse(const char *name)
{
	for (int i = 0; i < TOP_SORT__COUNT; i++)
		if (!strcmp(name, sort_names[i]))
			return i;
	return -1;
}

const char *top_sort__names(void)
{
	return "hold, wait, acq, mean, max, retries, forced, tid, name";
}

/* qsort has no context argument: the key travels beside each row. */
struct keyed {
	const struct engine_thread *t;
	enum top_sort sort;
};

static double key_of(const struct engine_thread *t, enum top_sort sort)
{
	switch (sort) {
	case TOP_SORT_HOLD:
		return t->iv.hold_share;
	case TOP_SORT_WAIT:
		return t->iv.wait_share;
	case TOP_SORT_ACQ:
		return (double)t->iv.acquisitions;
	case TOP_SORT_MEAN:
		return t->iv.wait_mean_ns;
	case TOP_SORT_MAX:
		return (double)t->iv.wait_max_ns;
	case TOP_SORT_RETRIES:
		return (double)t->iv.retries;
	case TOP_SORT_FORCED:
		return (double)t->iv.forced_switches;
	default:
		return 0;
	}
}

static int by_id(const struct engine_thread *a, const struct engine_thread *b)
{
	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static int compare(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	double ka, kb;
	int c;

	switch (a->sort) {
	case TOP_SORT_TID:
		return by_id(a->t, b->t);
	case TOP_SORT_NAME:
		c = strcmp(a->t->name, b->t->name);
		return c ? c : by_id(a->t, b->t);
	default:
		ka = key_of(a->t, a->sort);
		kb = key_of(b->t, b->sort);
		if (ka != kb)
			return ka > kb ? -1 : 1;
		return by_id(a->t, b->t);
	}
}

size_t top_rows__collect(const struct top_frame *f, const struct engine_thread ***rows)
{
	const struct engine_thread **out;
	struct keyed *k;
	size_t n, i;

	*rows = NULL;
	if (engine__thread_list(f->eng, &out, &n) || !n)
		return 0;
	k = malloc(n * sizeof(*k));
	if (!k) {
		free(out);
		return 0;
	}
	for (i = 0; i < n; i++)
		k[i] = (struct keyed){ .t = out[i], .sort = f->sort };
	qsort(k, n, sizeof(*k), compare);
	for (i = 0; i < n; i++)
		out[i] = k[i].t;
	free(k);
	*rows = out;
	return n;
}

const char *top_state__short(enum thread_state state)
{
	switch (state) {
	case THREAD_HOLDING:
		return "HOLD";
	case THREAD_WAITING:
		return "WAIT";
	case THREAD_RUNNING:
		return "RUN";
	default:
		return "?";
	}
}

size_t top_diagnoses(const struct top_frame *f, struct diagnosis *out, size_t cap)
{
	size_t n = diagnose__run(f->eng, DIAG_INTERVAL, out, cap);

	/* The lock table keeps no intervals: its rules judge the run so far. */
	return diagnose_locks__run(f->eng, DIAG_RUN, out, n, cap);
}

bool top_rows__holding_now(const struct top_frame *f, const struct engine_thread *t, char *buf,
			   size_t len)
{
	const struct blame_resolved *res;
	__u32 holder = 0;
	__u64 id;

	if (!f->stacks)
		return false;
	id = engine__blame_holder(f->eng, t->tgid, &holder);
	if (!id || holder != t->tid || !(res = stack_table__find(f->stacks, t->tgid, id)))
		return false;
	blame_view__leaf(buf, len, res);
	return true;
}
