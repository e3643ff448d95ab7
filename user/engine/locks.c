#include "engine/locks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/safe_text.h"
#include "util/record_index.h"
#include "util/u64map.h"

struct lock_slot {
	struct engine_lock pub;
	size_t waiters_cap;
};

struct type_slot {
	char name[LOCK_TYPE_NAME_MAX + 1];
};

/* A pause in progress, by its requesting thread. */
struct stw_open {
	__u32 tid;
	__u64 request_ts;
	__u64 stopped_ts; /* 0 until every other thread stopped */
	__u64 cause;      /* STW_CAUSE_* */
};

struct stw_slot {
	struct engine_stw pub;
	struct stw_open *open;
	size_t nopen, open_cap;
};

struct lock_table {
	struct record_index locks; /* (tgid, mutex) -> struct lock_slot */
	struct record_index types; /* (tgid, type object) -> struct type_slot */
	struct stw_slot **stw;
	size_t nstw, stw_cap;
	__u64 untracked_waits, untracked_wait_ns, untracked_sections;
	bool seen;
};

struct lock_table *lock_table__new(void)
{
	return calloc(1, sizeof(struct lock_table));
}

static struct lock_slot *lock_at(const struct lock_table *lt, size_t i)
{
	return (struct lock_slot *)lt->locks.v[i];
}

void lock_table__free(struct lock_table *lt)
{
	if (!lt)
		return;
	for (size_t i = 0; i < lt->locks.n; i++)
		free(lock_at(lt, i)->pub.waiters);
	for (size_t i = 0; i < lt->nstw; i++) {
		free(lt->stw[i]->open);
		free(lt->stw[i]);
	}
	free(lt->stw);
	record_index__destroy(&lt->locks);
	record_index__destroy(&lt->types);
	free(lt);
}

static struct lock_slot *lock_find(const struct lock_table *lt, __u32 tgid, __u64 addr)
{
	return record_index__find(&lt->locks, tgid, addr);
}

static struct lock_slot *lock_get(struct lock_table *lt, __u32 tgid, __u64 addr)
{
	struct lock_slot *s = lock_find(lt, tgid, addr);

	if (s || lt->locks.n >= LOCK_TABLE_MAX)
		return s;
	s = record_index__get(&lt->locks, tgid, addr, sizeof(*s), NULL);
	if (!s)
		return NULL;
	s->pub.tgid = tgid;
	s->pub.addr = addr;
	s->pub.type_name = "";
	hist__init(&s->pub.wait);
	return s;
}

static struct lock_waiter *waiter_get(struct lock_slot *s, __u32 tid)
{
	struct engine_lock *l = &s->pub;
	struct lock_waiter *w;

	for (size_t i = 0; i < l->nwaiters; i++)
		if (l->waiters[i].tid == tid)
			return &l->waiters[i];
	w = array__reserve(l->waiters, l->nwaiters, &s->waiters_cap, sizeof(*w), 4);
	if (!w)
		return NULL;
	l->waiters = w;
	w = &l->waiters[l->nwaiters++];
	memset(w, 0, sizeof(*w));
	w->tid = tid;
	return w;
}

static void on_wait(struct lock_table *lt, const struct gil_event *ev)
{
	struct lock_slot *s = lock_get(lt, ev->tgid, ev->addr);
	__u64 parks = (__u32)ev->ret >> LOCK_PARKS_SHIFT;
	struct lock_waiter *w;

	if (!s) { /* past LOCK_TABLE_MAX (or out of memory): still counted */
		lt->untracked_waits++;
		lt->untracked_wait_ns += ev->value;
		return;
	}
	s->pub.waits++;
	s->pub.parks += parks;
	if ((ev->ret & LOCK_ST_MASK) != LOCK_ST_ACQUIRED)
		s->pub.failed++;
	hist__add(&s->pub.wait, ev->value);
	w = waiter_get(s, ev->tid);
	if (!w)
		return;
	w->waits++;
	w->wait_ns += ev->value;
	w->parks += parks;
	if (ev->value > w->max_ns)
		w->max_ns = ev->value;
}

/* The object's type as the section saw it: an address reused by an object
 * of another type takes the new type's name. */
static void on_section(struct lock_table *lt, const struct gil_event *ev)
{
	struct lock_slot *s = lock_get(lt, ev->tgid, ev->addr);
	struct type_slot *t;

	if (!s) {
		lt->untracked_sections++;
		return;
	}
	s->pub.sections++;
	if (!ev->value || ev->value == s->pub.type)
		return;
	s->pub.type = ev->value;
	t = record_index__find(&lt->types, ev->tgid, ev->value);
	s->pub.type_name = t ? t->name : "";
}

/* Part ret of the name (8 bytes each, part 0 first). */
static void on_type(struct lock_table *lt, const struct gil_event *ev)
{
	struct type_slot *t;

	if (ev->ret < 0 || ev->ret * 8 >= LOCK_TYPE_NAME_MAX)
		return;
	t = record_index__get(&lt->types, ev->tgid, ev->addr, sizeof(*t), NULL);
	if (!t)
		return;
	if (ev->ret == 0)
		memset(t->name, 0, sizeof(t->name));
	memcpy(t->name + ev->ret * 8, &ev->value, 8);
	/* From the target or a capture: kept printable. */
	safe_text__clean(t->name);
}

static struct stw_slot *stw_get(struct lock_table *lt, __u32 tgid)
{
	struct stw_slot **v;

	for (size_t i = 0; i < lt->nstw; i++)
		if (lt->stw[i]->pub.tgid == tgid)
			return lt->stw[i];
	v = array__reserve(lt->stw, lt->nstw, &lt->stw_cap, sizeof(*v), 4);
	if (!v)
		return NULL;
	lt->stw = v;
	v[lt->nstw] = calloc(1, sizeof(**v));
	if (!v[lt->nstw])
		return NULL;
	v[lt->nstw]->pub.tgid = tgid;
	hist__init(&v[lt->nstw]->pub.pause);
	return v[lt->nstw++];
}

static struct stw_open *stw_find(struct stw_slot *p, __u32 tid)
{
	for (size_t i = 0; i < p->nopen; i++)
		if (p->open[i].tid == tid)
			return &p->open[i];
	return NULL;
}

static void on_stw(struct lock_table *lt, const struct gil_event *ev)
{
	struct stw_slot *p = stw_get(lt, ev->tgid);
	struct stw_open *o, *v;

	if (!p)
		return;
	o = stw_find(p, ev->tid);
	switch (ev->ret) {
	case STW_REQUEST:
		if (o) { /* its last pause never ended: not counted */
			p->pub.unpaired++;
			o->request_ts = ev->ts;
			o->stopped_ts = 0;
			o->cause = ev->value;
			return;
		}
		v = array__reserve(p->open, p->nopen, &p->open_cap, sizeof(*v), 2);
		if (!v)
			return;
		p->open = v;
		v[p->nopen++] = (struct stw_open){ .tid = ev->tid, .request_ts = ev->ts,
						   .cause = ev->value };
		p->pub.open = p->nopen;
		return;
	case STW_STOPPED:
		if (!o || o->stopped_ts)
			p->pub.unpaired++;
		else
			o->stopped_ts = ev->ts;
		return;
	case STW_END:
		if (!o) { /* requested before the trace began */
			p->pub.unpaired++;
			return;
		}
		p->pub.pauses++;
		hist__add(&p->pub.pause, ev->ts > o->request_ts ? ev->ts - o->request_ts : 0);
		if (o->cause == STW_CAUSE_GC) {
			p->pub.gc_pauses++;
			p->pub.gc_ns += ev->ts > o->request_ts ? ev->ts - o->request_ts : 0;
		}
		if (o->stopped_ts > o->request_ts)
			p->pub.stop_ns += o->stopped_ts - o->request_ts;
		*o = p->open[--p->nopen];
		p->pub.open = p->nopen;
		return;
	default:
		p->pub.unpaired++;
	}
}

void lock_table__feed(struct lock_table *lt, const struct gil_event *ev)
{
	switch (ev->kind) {
	case GIL_EV_LOCK_WAIT:
		on_wait(lt, ev);
		break;
	case GIL_EV_LOCK_SECTION:
		on_section(lt, ev);
		break;
	case GIL_EV_LOCK_TYPE:
		on_type(lt, ev);
		break;
	case GIL_EV_STW:
		on_stw(lt, ev);
		break;
	default:
		return;
	}
	lt->seen = true;
}

static int by_wait(const void *a, const void *b)
{
	const struct engine_lock *x = *(const struct engine_lock *const *)a;
	const struct engine_lock *y = *(const struct engine_lock *const *)b;

	if (x->wait.sum != y->wait.sum)
		return x->wait.sum > y->wait.sum ? -1 : 1;
	if (x->waits != y->waits)
		return x->waits > y->waits ? -1 : 1;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int lock_table__list(const struct lock_table *lt, const struct engine_lock ***out, size_t *n)
{
	const struct engine_lock **v = malloc((lt->locks.n + 1) * sizeof(*v));

	*out = NULL;
	*n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < lt->locks.n; i++)
		v[i] = &lock_at(lt, i)->pub;
	qsort(v, lt->locks.n, sizeof(*v), by_wait);
	*out = v;
	*n = lt->locks.n;
	return 0;
}

size_t lock_table__stw(const struct lock_table *lt, const struct engine_stw **out, size_t cap)
{
	size_t i;

	for (i = 0; i < lt->nstw && i < cap; i++)
		out[i] = &lt->stw[i]->pub;
	return lt->nstw;
}

void lock_table__totals(const struct lock_table *lt, struct lock_totals *out)
{
	struct u64map procs = { 0 };

	memset(out, 0, sizeof(*out));
	out->seen = lt->seen;
	for (size_t i = 0; i < lt->locks.n; i++)
		u64map__put(&procs, lock_at(lt, i)->pub.tgid, 0);
	for (size_t i = 0; i < lt->nstw; i++)
		u64map__put(&procs, lt->stw[i]->pub.tgid, 0);
	out->procs = procs.count;
	u64map__destroy(&procs);
	for (size_t i = 0; i < lt->locks.n; i++) {
		const struct engine_lock *l = &lock_at(lt, i)->pub;

		out->locks += l->waits > 0;
		out->waits += l->waits;
		out->wait_ns += l->wait.sum;
		out->parks += l->parks;
		out->sections += l->sections;
	}
	out->untracked_waits = lt->untracked_waits;
	out->untracked_wait_ns = lt->untracked_wait_ns;
	out->waits += lt->untracked_waits;
	out->wait_ns += lt->untracked_wait_ns;
	out->sections += lt->untracked_sections;
	for (size_t i = 0; i < lt->nstw; i++) {
		const struct engine_stw *p = &lt->stw[i]->pub;

		out->pauses += p->pauses;
		out->gc_pauses += p->gc_pauses;
		out->pause_ns += p->pause.sum;
		if (p->pauses && p->pause.max > out->pause_max_ns)
			out->pause_max_ns = p->pause.max;
	}
}

int lock_table__snapshot(const struct lock_table *lt, struct lock_totals *tot,
			 const struct engine_lock ***locks, size_t *n)
{
	lock_table__totals(lt, tot);
	*locks = NULL;
	*n = 0;
	if (!tot->seen)
		return 0;
	return lock_table__list(lt, locks, n) ?: 1;
}

bool lock_table__seen(const struct lock_table *lt)
{
	return lt->seen;
}

const struct engine_lock *lock_table__find(const struct lock_table *lt, __u32 tgid, __u64 addr)
{
	const struct lock_slot *s = lock_find(lt, tgid, addr);

	return s ? &s->pub : NULL;
}
