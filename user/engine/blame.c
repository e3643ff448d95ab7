/*
 * Blame accounting (docs/blame.md). HOLDER_STACK events name the stack the
 * GIL's holder runs: read when a thread starts or goes on waiting, when a
 * contended acquisition returns and when a holder is forced off. Each
 * process has one "holder stack" at a time, set by those samples and, at
 * an acquisition, provisionally to the acquirer's last sampled stack; it is
 * cleared at a release. Between two events, every thread waiting is charged
 * to that stack (n waiters for d ns: n * d), or to "unattributed" while it
 * is unknown. Hold time is charged only for holds that were sampled, cut at
 * the samples, the first stretch starting at the acquisition.
 */
#include <errno.h>
#include <stdlib.h>

#include "blame.h"
#include "engine/engine_int.h"
#include "util/record_index.h"

struct blame_table {
	struct record_index entries; /* (tgid, stack id) -> struct engine_blame */
	struct engine_blame_totals tot;
};

static struct engine_blame *entry(struct engine *eng, __u32 tgid, __u64 id)
{
	struct blame_table *b = eng->blame;
	struct engine_blame *e;
	bool created;

	if (!b) {
		b = eng->blame = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
	}
	e = record_index__get(&b->entries, tgid, id, sizeof(*e), &created);
	if (created) {
		e->tgid = tgid;
		e->id = id;
		b->tot.stacks++;
	}
	return e;
}

/* Charges ns of waiting (hold: of holding) to a stack and to the totals. */
static void charge(struct engine *eng, __u32 tgid, __u64 id, __u64 ns, bool hold)
{
	struct engine_blame *e = entry(eng, tgid, id);

	if (!e)
		return;
	if (hold) {
		e->hold_ns += ns;
		eng->blame->tot.hold_ns += ns;
	} else {
		e->wait_ns += ns;
		eng->blame->tot.wait_ns += ns;
	}
}

void blame__advance(struct engine *eng, struct engine_proc *p, __u64 ts)
{
	__u64 d;

	if (!p->blame_on)
		return;
	d = span(p->blame_since, ts) * p->blame_waiting;
	if (d && p->holder_stack)
		charge(eng, p->tgid, p->holder_stack, d, false);
	else if (d)
		eng->blame->tot.unattributed_ns += d;
	if (ts > p->blame_since)
		p->blame_since = ts;
}

void blame__acquired(struct engine *eng, struct thread_slot *t, __u64 ts)
{
	struct engine_proc *p = t->proc;

	(void)eng;
	p->holder_stack = t->blame_last ? t->blame_last : BLAME_ID_UNKNOWN;
	p->holder_stack_tid = t->pub.tid;
	p->holder_stack_ts = ts;
	p->holder_sampled = 0;
}

void blame__released(struct engine *eng, struct thread_slot *t, __u64 ts)
{
	struct engine_proc *p = t->proc;

	if (p->holder_stack_tid != t->pub.tid)
		return;
	if (p->holder_sampled)
		charge(eng, p->tgid, p->holder_stack, span(p->holder_stack_ts, ts), true);
	p->holder_stack = 0;
	p->holder_stack_tid = 0;
	p->holder_sampled = 0;
}

/* The thread the sample was read from: t itself when it holds (a forced
 * release, an acquisition), else the process's last acquirer if it still
 * holds. */
static struct thread_slot *holder_of(struct engine *eng, struct thread_slot *t)
{
	struct engine_proc *p = t->proc;
	struct thread_slot *h;

	if (t->pub.state == THREAD_HOLDING)
		return t;
	h = p->last_holder ? engine__slot(eng, p->tgid, p->last_holder) : NULL;
	return h && h->pub.state == THREAD_HOLDING ? h : NULL;
}

void blame__on_stack(struct engine *eng, struct thread_slot *t, const struct gil_event *ev)
{
	struct engine_proc *p = t->proc;
	struct engine_blame *e = entry(eng, ev->tgid, ev->value);
	struct thread_slot *h;

	if (!e)
		return;
	if (!p->blame_on) {
		p->blame_on = 1;
		p->blame_since = ev->ts;
	}
	e->samples++;
	eng->blame->tot.samples++;
	if (ev->value == BLAME_ID_UNKNOWN)
		eng->blame->tot.unknown_samples++;
	h = holder_of(eng, t);
	if (h && p->holder_stack_tid == h->pub.tid && p->holder_sampled)
		charge(eng, p->tgid, p->holder_stack, span(p->holder_stack_ts, ev->ts), true);
	else if (h)
		charge(eng, p->tgid, ev->value, span(h->since, ev->ts), true);
	if (h && ev->value != BLAME_ID_UNKNOWN)
		h->blame_last = ev->value;
	p->holder_stack = ev->value;
	p->holder_stack_tid = h ? h->pub.tid : 0;
	p->holder_stack_ts = ev->ts;
	p->holder_sampled = h != NULL;
}

void blame__free(struct blame_table *b)
{
	if (!b)
		return;
	record_index__destroy(&b->entries);
	free(b);
}

size_t engine__blame(const struct engine *eng, const struct engine_blame **out, size_t cap)
{
	const struct blame_table *b = eng->blame;

	if (!b)
		return 0;
	for (size_t i = 0; i < b->entries.n && i < cap; i++)
		out[i] = b->entries.v[i];
	return b->entries.n;
}

void engine__blame_totals(const struct engine *eng, struct engine_blame_totals *out)
{
	static const struct engine_blame_totals none;

	*out = eng->blame ? eng->blame->tot : none;
}

__u64 engine__blame_holder(const struct engine *eng, __u32 tgid, __u32 *tid)
{
	for (size_t i = 0; i < eng->nprocs; i++) {
		const struct engine_proc *p = eng->procs[i];

		if (p->tgid == tgid) {
			*tid = p->holder_stack_tid;
			return p->holder_stack;
		}
	}
	*tid = 0;
	return 0;
}
