/*
 * The forced holder's function (HOLDER_FRAME, bpf/holder.bpf.h): every
 * CPython 3 trace samples the innermost Python frame of a holder made to
 * let go, at its forced release (the same ts), at most once per 5 ms per
 * process. Each sampled forced hold, acquisition to forced release, is
 * charged to (thread, frame id); names come from one-frame stack records
 * (engine__name_code()). Queries merge ids by function, file and line.
 * Only forced holds are sampled, so the figures say "of the forced holds
 * sampled", never of all the GIL's time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blame.h"
#include "engine/engine_int.h"
#include "util/record_index.h"

struct holder_code {
	char *name, *file;
	__u32 line;
};

struct holder_entry {
	__u32 tgid, tid;
	__u64 id;
	__u64 hold_ns;
	__u64 samples;
};

struct holder_table {
	struct record_index entries; /* (thread_key, frame id) -> struct holder_entry */
	struct u64map names;     /* tgid -> struct u64map * of id -> struct holder_code */
};

static struct holder_table *table(struct engine *eng)
{
	if (!eng->holder)
		eng->holder = calloc(1, sizeof(*eng->holder));
	return eng->holder;
}

static void free_code(__u64 v)
{
	struct holder_code *c = (struct holder_code *)(uintptr_t)v;

	if (!c)
		return;
	free(c->name);
	free(c->file);
	free(c);
}

void holder__free(struct holder_table *h)
{
	if (!h)
		return;
	record_index__destroy(&h->entries);
	u64map__destroy_subs(&h->names, free_code);
	free(h);
}

void engine__name_code(struct engine *eng, __u32 tgid, __u64 id, const char *name,
		       const char *file, __u32 line)
{
	struct holder_table *h = table(eng);
	struct u64map *ids = h ? u64map__sub(&h->names, tgid) : NULL;
	struct holder_code *c;

	if (!ids || u64map__has(ids, id))
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->name = strdup(name ? name : "");
	c->file = strdup(file ? file : "");
	c->line = line;
	if (!c->name || !c->file || u64map__put(ids, id, (uintptr_t)c) < 0)
		free_code((uintptr_t)c);
}

void holder__on_frame(struct thread_slot *t, const struct gil_event *ev)
{
	t->frame_id = ev->value;
	t->frame_ts = ev->ts;
}

static struct holder_entry *entry(struct holder_table *h, __u32 tgid, __u32 tid, __u64 id)
{
	struct holder_entry *e;
	bool created;

	e = record_index__get(&h->entries, thread_key(tgid, tid), id, sizeof(*e), &created);
	if (created) {
		e->tgid = tgid;
		e->tid = tid;
		e->id = id;
	}
	return e;
}

void holder__forced(struct engine *eng, struct thread_slot *t, bool measured, __u64 hold_ns,
		    __u64 ts)
{
	struct holder_table *h;
	struct holder_entry *e;

	/* Only the sample BPF took for this very release (the same ts). */
	if (!t->frame_id || t->frame_ts != ts)
		return;
	h = table(eng);
	e = h ? entry(h, t->pub.tgid, t->pub.tid, t->frame_id) : NULL;
	t->frame_id = 0;
	if (!e)
		return;
	e->hold_ns += hold_ns;
	e->samples++;
	t->proc->forced_sampled++;
	t->proc->forced_sampled_ns += hold_ns;
	if (!measured)
		t->proc->forced_unmeasured++;
}

static const struct holder_code *code_of(const struct holder_table *h, __u32 tgid, __u64 id)
{
	static const struct holder_code unknown = { .name = "[unknown]", .file = "" };
	static const struct holder_code none = { .name = "[no Python frame]", .file = "" };
	const struct u64map *ids = u64map__sub_find(&h->names, tgid);
	__u64 v;

	if (id == BLAME_ID_NO_FRAMES)
		return &none;
	if (id < BLAME_ID_FIRST || !ids || !u64map__get(ids, id, &v))
		return &unknown;
	return (const struct holder_code *)(uintptr_t)v;
}

/* A (function, thread) pair while merging: which thread held a function longest. */
struct fn_thread {
	size_t fn;
	__u32 tid;
	__u64 hold_ns, samples;
};

static int by_weight(const void *a, const void *b)
{
	const struct engine_forced_fn *x = a, *y = b;

	if (x->hold_ns != y->hold_ns)
		return x->hold_ns < y->hold_ns ? 1 : -1;
	if (x->samples != y->samples)
		return x->samples < y->samples ? 1 : -1;
	return strcmp(x->name, y->name);
}

static size_t fn_index(struct engine_forced_fn *fns, size_t *n, const struct holder_code *c)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (fns[i].name && fns[i].line == c->line && !strcmp(fns[i].name, c->name) &&
		    !strcmp(fns[i].file, c->file))
			return i;
	fns[i] = (struct engine_forced_fn){ .name = c->name, .file = c->file, .line = c->line };
	(*n)++;
	return i;
}

/* Each function's thread: the one with the most hold (then samples) in it. */
static void pick_threads(struct engine_forced_fn *fns, const struct fn_thread *ft, size_t nft)
{
	for (size_t i = 0; i < nft; i++) {
		struct engine_forced_fn *f = &fns[ft[i].fn];

		f->nthreads++;
		if (!f->tid || ft[i].hold_ns > f->tid_hold_ns ||
		    (ft[i].hold_ns == f->tid_hold_ns && ft[i].samples > f->tid_samples)) {
			f->tid = ft[i].tid;
			f->tid_hold_ns = ft[i].hold_ns;
			f->tid_samples = ft[i].samples;
		}
	}
}

static void add_pair(struct fn_thread *ft, size_t *nft, size_t fn, const struct holder_entry *e)
{
	size_t i;

	for (i = 0; i < *nft; i++)
		if (ft[i].fn == fn && ft[i].tid == e->tid)
			break;
	if (i == *nft)
		ft[(*nft)++] = (struct fn_thread){ .fn = fn, .tid = e->tid };
	ft[i].hold_ns += e->hold_ns;
	ft[i].samples += e->samples;
}

int engine__forced_holders(const struct engine *eng, __u32 tgid, struct engine_forced_holders *out)
{
	const struct holder_table *h = eng->holder;
	const struct engine_proc *p = NULL;
	struct fn_thread *ft = NULL;
	size_t nft = 0, i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < eng->nprocs; i++)
		if (eng->procs[i]->tgid == tgid)
			p = eng->procs[i];
	if (!p)
		return 0;
	for (i = 0; i < eng->nthreads; i++)
		if (eng->threads[i]->pub.tgid == tgid)
			out->forced_switches += eng->threads[i]->pub.c.forced_switches;
	out->sampled = p->forced_sampled;
	out->sampled_ns = p->forced_sampled_ns;
	out->unmeasured = p->forced_unmeasured;
	if (!h || !h->entries.n)
		return 0;
	out->fns = calloc(h->entries.n, sizeof(*out->fns));
	ft = calloc(h->entries.n, sizeof(*ft));
	if (!out->fns || !ft) {
		free(ft);
		engine__forced_holders_free(out);
		return -ENOMEM;
	}
	for (i = 0; i < h->entries.n; i++) {
		const struct holder_entry *e = h->entries.v[i];
		const struct holder_code *c;
		size_t fn;

		if (e->tgid != tgid)
			continue;
		c = code_of(h, tgid, e->id);
		fn = fn_index(out->fns, &out->nfns, c);
		out->fns[fn].hold_ns += e->hold_ns;
		out->fns[fn].samples += e->samples;
		if (e->id < BLAME_ID_FIRST || c->name[0] == '[')
			out->unknown += e->id == BLAME_ID_NO_FRAMES ? 0 : e->samples;
		add_pair(ft, &nft, fn, e);
	}
	pick_threads(out->fns, ft, nft);
	free(ft);
	for (i = 0; i < out->nfns; i++)
		out->fns[i].share = out->sampled_ns ? ratio(out->fns[i].hold_ns, out->sampled_ns)
						    : ratio(out->fns[i].samples, out->sampled);
	qsort(out->fns, out->nfns, sizeof(*out->fns), by_weight);
	return 0;
}

void engine__forced_holders_free(struct engine_forced_holders *h)
{
	free(h->fns);
	h->fns = NULL;
	h->nfns = 0;
}
