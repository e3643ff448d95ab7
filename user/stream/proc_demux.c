#include "stream/proc_demux.h"

#include <errno.h>
#include <stdlib.h>

static struct demux_proc *find_proc(struct proc_demux *d, __u32 pid)
{
	if (d->last < d->n && d->procs[d->last].meta.pid == pid)
		return &d->procs[d->last];
	for (size_t i = 0; i < d->n; i++) {
		if (d->procs[i].meta.pid == pid) {
			d->last = i;
			return &d->procs[i];
		}
	}
	return NULL;
}

static void on_target(void *ctx, const struct trace_meta *meta)
{
	struct engine_opts eo = { 0 };
	struct proc_demux *d = ctx;
	struct demux_proc *p;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct demux_proc *bigger = realloc(d->procs, cap * sizeof(*bigger));

		if (!bigger) {
			d->err = -ENOMEM;
			return;
		}
		d->procs = bigger;
		d->cap = cap;
	}
	p = &d->procs[d->n];
	p->meta = *meta;
	p->eng = engine__new(&eo);
	if (!p->eng) {
		d->err = -ENOMEM;
		return;
	}
	d->n++;
}

static void on_target_exit(void *ctx, __u32 pid)
{
	struct proc_demux *d = ctx;
	struct demux_proc *p = find_proc(d, pid);

	if (!p)
		return;
	engine__free(p->eng);
	*p = d->procs[--d->n];
}

static int on_event(void *ctx, const struct gil_event *ev)
{
	struct proc_demux *d = ctx;
	struct demux_proc *p;

	if (ev->kind == GIL_EV_DROPS) {
		d->drops += ev->value;
		return 0;
	}
	p = find_proc(d, ev->tgid);
	if (p)
		engine__feed(p->eng, ev);
	return d->err;
}

static void on_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct proc_demux *d = ctx;
	struct demux_proc *p = find_proc(d, tgid);

	if (p)
		engine__name_thread(p->eng, tgid, tid, name);
}

/* One-frame stacks name HOLDER_FRAME samples (the forced holder), as in
 * engine_sink.c. */
static void on_stack(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		     const struct blame_frame *frames, unsigned int nframes)
{
	struct proc_demux *d = ctx;
	struct demux_proc *p = find_proc(d, tgid);

	(void)flags;
	if (p && nframes == 1)
		engine__name_code(p->eng, tgid, id, frames[0].name, frames[0].file,
				  frames[0].line);
}

struct stream_sink proc_demux__sink(struct proc_demux *d)
{
	struct stream_sink s = {
		.event = on_event, .thread = on_thread, .stack = on_stack, .target = on_target,
		.target_exit = on_target_exit, .ctx = d,
	};

	return s;
}

void proc_demux__free(struct proc_demux *d)
{
	for (size_t i = 0; i < d->n; i++)
		engine__free(d->procs[i].eng);
	free(d->procs);
	d->procs = NULL;
	d->n = d->cap = 0;
}
