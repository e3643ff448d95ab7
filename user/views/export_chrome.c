/*
 * Chrome Trace Event JSON, streamed: one json-c object per kind of event is
 * built once and its fields are set in place for each event, so writing
 * allocates nothing per event; json-c still does the quoting and escaping.
 * ts and dur are microseconds with three decimals: the events' ns exactly.
 */
#include "views/export_chrome.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* One reusable event object and the fields that change. */
struct tmpl {
	struct json_object *o, *name, *ts, *dur, *pid, *tid, *id, *arg;
};

struct export_chrome {
	FILE *out;
	__u64 origin;
	unsigned long long nevents;
	struct tmpl slice, slice_cut, instant, flow_s, flow_f;
};

static struct json_object *add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
	return v;
}

/*
 * ts and dur hold signed ns and print as microseconds with three decimals,
 * by integer arithmetic: json-c's "%.3f" of a double spent most of the
 * export's time in glibc's float formatting.
 */
static int print_us(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	long long ns = (long long)json_object_get_int64(o);
	unsigned long long mag = ns < 0 ? 0ULL - (unsigned long long)ns : (unsigned long long)ns;
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%s%llu.%03llu", ns < 0 ? "-" : "", mag / 1000,
			   mag % 1000);

	(void)level;
	(void)flags;
	return printbuf_memappend(pb, buf, len);
}

static struct json_object *new_us(void)
{
	struct json_object *o = json_object_new_int64(0);

	if (o)
		json_object_set_serializer(o, print_us, NULL, NULL);
	return o;
}

static void tmpl_init(struct tmpl *t, const char *ph, const char *cat)
{
	t->o = json_object_new_object();
	t->name = add(t->o, "name", json_object_new_string(""));
	add(t->o, "cat", json_object_new_string(cat));
	add(t->o, "ph", json_object_new_string(ph));
	t->ts = add(t->o, "ts", new_us());
	t->pid = add(t->o, "pid", json_object_new_int64(0));
	t->tid = add(t->o, "tid", json_object_new_int64(0));
}

static int tmpls_init(struct export_chrome *x)
{
	struct json_object *args;

	tmpl_init(&x->slice, "X", "gil");
	x->slice.dur = add(x->slice.o, "dur", new_us());
	tmpl_init(&x->slice_cut, "X", "gil");
	x->slice_cut.dur = add(x->slice_cut.o, "dur", new_us());
	args = add(x->slice_cut.o, "args", json_object_new_object());
	/* the events did not show this slice's end (lost or past the trace) */
	add(args, "end_seen", json_object_new_boolean(0));

	tmpl_init(&x->instant, "i", "gil");
	add(x->instant.o, "s", json_object_new_string("t"));
	args = add(x->instant.o, "args", json_object_new_object());
	x->instant.arg = add(args, "cpu", json_object_new_int64(0));

	tmpl_init(&x->flow_s, "s", "flow");
	x->flow_s.id = add(x->flow_s.o, "id", json_object_new_int64(0));
	tmpl_init(&x->flow_f, "f", "flow");
	x->flow_f.id = add(x->flow_f.o, "id", json_object_new_int64(0));
	/* bind to the slice that encloses the arrow's head */
	add(x->flow_f.o, "bp", json_object_new_string("e"));
	return x->slice.o && x->slice_cut.o && x->instant.o && x->flow_s.o && x->flow_f.o &&
	       x->slice.dur && x->instant.arg && x->flow_s.id && x->flow_f.id ? 0 : -ENOMEM;
}

static void tmpls_free(struct export_chrome *x)
{
	json_object_put(x->slice.o);
	json_object_put(x->slice_cut.o);
	json_object_put(x->instant.o);
	json_object_put(x->flow_s.o);
	json_object_put(x->flow_f.o);
}

static void put(struct export_chrome *x, struct json_object *o)
{
	if (x->nevents++)
		fputs(",\n", x->out);
	fputs(json_object_to_json_string_ext(o, JSON_FLAGS), x->out);
}

static long long since_origin(const struct export_chrome *x, __u64 ts)
{
	/* signed: an event a little out of order may precede the origin */
	return (long long)(ts - x->origin);
}

static void set_where(struct tmpl *t, const struct engine_thread *th, long long ts)
{
	json_object_set_int64(t->ts, ts);
	json_object_set_int64(t->pid, th->tgid);
	json_object_set_int64(t->tid, th->tid);
}

static void on_slice(void *ctx, const struct timeline_slice *s)
{
	struct export_chrome *x = ctx;
	struct tmpl *t = s->flags & TIMELINE_CUT ? &x->slice_cut : &x->slice;

	/* the gaps between them are the time run without the GIL */
	if (s->kind == TIMELINE_RUN)
		return;
	json_object_set_string(t->name, timeline__slice_name(s->kind));
	set_where(t, s->thread, since_origin(x, s->start));
	json_object_set_int64(t->dur, (long long)(s->end - s->start));
	put(x, t->o);
}

static void on_instant(void *ctx, const struct timeline_instant *i)
{
	struct export_chrome *x = ctx;

	json_object_set_string(x->instant.name, timeline__instant_name(i->kind));
	set_where(&x->instant, i->thread, since_origin(x, i->ts));
	json_object_set_int64(x->instant.arg, i->cpu);
	put(x, x->instant.o);
}

static void on_flow(void *ctx, const struct timeline_flow *f)
{
	struct export_chrome *x = ctx;
	long long from = since_origin(x, f->from_ts), to = since_origin(x, f->to_ts);
	const char *name = timeline__flow_name(f->kind);

	/* A handoff starts where the releaser's hold slice ends and ends where
	 * the acquirer's begins: 1 ns inside each, so both ends bind to the
	 * hold slices rather than to their neighbours. */
	if (f->kind == TIMELINE_HANDOFF) {
		from -= 1;
		to += 1;
	}
	json_object_set_string(x->flow_s.name, name);
	set_where(&x->flow_s, f->from, from);
	json_object_set_int64(x->flow_s.id, (int64_t)f->id);
	put(x, x->flow_s.o);
	json_object_set_string(x->flow_f.name, name);
	set_where(&x->flow_f, f->to, to);
	json_object_set_int64(x->flow_f.id, (int64_t)f->id);
	put(x, x->flow_f.o);
}

struct timeline_ops export_chrome__timeline_ops(void)
{
	struct timeline_ops ops = { .slice = on_slice, .instant = on_instant, .flow = on_flow };

	return ops;
}

struct export_chrome *export_chrome__new(FILE *out, __u64 origin_ts)
{
	struct export_chrome *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->out = out;
	x->origin = origin_ts;
	if (tmpls_init(x)) {
		tmpls_free(x);
		free(x);
		return NULL;
	}
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out);
	return x;
}

static void metadata(struct export_chrome *x, const char *what, __u32 pid, __u32 tid,
		     const char *name)
{
	struct json_object *o = json_object_new_object(), *args = json_object_new_object();

	add(o, "name", json_object_new_string(what));
	add(o, "ph", json_object_new_string("M"));
	add(o, "pid", json_object_new_int64(pid));
	add(o, "tid", json_object_new_int64(tid));
	add(args, "name", json_object_new_string(name));
	add(o, "args", args);
	put(x, o);
	json_object_put(o);
}

static void names(struct export_chrome *x, const struct engine *eng,
		  const struct trace_meta *meta)
{
	const struct engine_thread **th;
	char buf[META_STR + 32];
	size_t n, i;

	if (engine__thread_list(eng, &th, &n))
		return;
	for (i = 0; i < n; i++) {
		if (i == 0 || th[i]->tgid != th[i - 1]->tgid) {
			if (meta && meta->pid == th[i]->tgid && meta->comm[0])
				snprintf(buf, sizeof(buf), "%s", meta->comm);
			else
				snprintf(buf, sizeof(buf), "pid %u", th[i]->tgid);
			metadata(x, "process_name", th[i]->tgid, th[i]->tgid, buf);
		}
		if (th[i]->name[0])
			snprintf(buf, sizeof(buf), "%s", th[i]->name);
		else
			snprintf(buf, sizeof(buf), "tid %u", th[i]->tid);
		metadata(x, "thread_name", th[i]->tgid, th[i]->tid, buf);
	}
	free(th);
}

static struct json_object *other_data(const struct trace_meta *meta)
{
	struct json_object *o = json_object_new_object();

	add(o, "generator", json_object_new_string("giltrace export"));
	/* giltrace's layout inside the Chrome format (docs/export.md): raised
	 * when a name, category or args key changes */
	add(o, "schema", json_object_new_int(EXPORT_CHROME_SCHEMA));
	if (!meta)
		return o;
	add(o, "pid", json_object_new_int64(meta->pid));
	add(o, "comm", json_object_new_string(meta->comm));
	add(o, "exe", json_object_new_string(meta->exe));
	add(o, "runtime", json_object_new_string(meta->runtime));
	add(o, "runtime_version", json_object_new_string(meta->version));
	add(o, "mode", json_object_new_string(meta->mode));
	add(o, "kernel", json_object_new_string(meta->kernel));
	return o;
}

int export_chrome__finish(struct export_chrome *x, const struct engine *eng,
			  const struct trace_meta *meta)
{
	struct json_object *o;
	int err;

	names(x, eng, meta);
	o = other_data(meta);
	fprintf(x->out, "\n],\"otherData\":%s}\n", json_object_to_json_string_ext(o, JSON_FLAGS));
	json_object_put(o);
	err = ferror(x->out) ? -EIO : 0;
	tmpls_free(x);
	free(x);
	return err;
}
