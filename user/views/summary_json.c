/*
 * The end-of-run summary as one JSON object (json-c builds and escapes it),
 * documented in docs/json.md and checked against docs/summary.schema.json.
 * Thread counts match the toy VM's --gil-stats names so the end-to-end
 * tests compare the two key by key. Every name carries its unit (_ns,
 * _pct 0..100, _per_s ...); a key renamed or retyped is a new
 * SUMMARY_JSON_SCHEMA.
 */
#include <errno.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "engine/engine.h"
#include "trace_meta.h"
#include "util/safe_text.h"
#include "views/diagnosis_text.h"
#include "views/format.h"
#include "views/ft_gil_text.h"
#include "views/locks_json.h"
#include "views/summary.h"

static void put_u64(struct json_object *o, const char *key, __u64 v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void put_double(struct json_object *o, const char *key, double v)
{
	json_object_object_add(o, key, json_object_new_double(v));
}

static void put_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_object_new_string(s ? s : ""));
}

static struct json_object *target_json(const struct trace_meta *meta)
{
	struct json_object *o = json_object_new_object();

	if (!meta)
		return o;
	put_u64(o, "pid", meta->pid);
	put_u64(o, "ncpus", meta->ncpus);
	put_u64(o, "mono_to_wall_ns", meta->mono_to_wall_ns);
	put_str(o, "comm", meta->comm);
	put_str(o, "exe", meta->exe);
	put_str(o, "runtime", meta->runtime);
	put_str(o, "version", meta->version);
	put_str(o, "mode", meta->mode);
	put_str(o, "kernel", meta->kernel);
	put_str(o, "note", meta->note);
	return o;
}

static struct json_object *io_json(const struct io_wait_figures *io)
{
	struct json_object *o = json_object_new_object();

	put_u64(o, "count", io->count);
	put_u64(o, "contended", io->contended);
	put_u64(o, "total_ns", io->total_ns);
	put_double(o, "mean_ns", io->mean_ns);
	put_u64(o, "p50_ns", io->p50_ns);
	put_u64(o, "p99_ns", io->p99_ns);
	put_u64(o, "max_ns", io->max_ns);
	return o;
}

static void counts_json(struct json_object *o, const struct gil_counts *c)
{
	put_u64(o, "acquisitions", c->acquisitions);
	put_u64(o, "busy", c->busy);
	put_u64(o, "retries", c->retries);
	put_u64(o, "timeouts", c->timeouts);
	put_u64(o, "drop_requests", c->drop_requests);
	put_u64(o, "forced_switches", c->forced_switches);
	put_u64(o, "releases", c->releases);
	put_u64(o, "wait_ns", c->wait_ns);
	put_u64(o, "hold_ns", c->hold_ns);
	put_u64(o, "hold_max_ns", c->hold_max_ns);
	put_u64(o, "unpaired", c->unpaired);
}

static struct json_object *thread_json(const struct engine *eng, const struct engine_thread *t)
{
	struct json_object *o = json_object_new_object();
	struct thread_figures f;

	engine__thread_figures(eng, t, &f);
	put_u64(o, "tgid", t->tgid);
	put_u64(o, "tid", t->tid);
	put_str(o, "name", t->name);
	counts_json(o, &t->c);
	put_double(o, "contention_pct", f.contention_pct);
	put_double(o, "wait_mean_ns", f.wait_mean_ns);
	put_u64(o, "wait_p50_ns", f.wait_p50_ns);
	put_u64(o, "wait_p90_ns", f.wait_p90_ns);
	put_u64(o, "wait_p99_ns", f.wait_p99_ns);
	put_u64(o, "wait_max_ns", f.wait_max_ns);
	put_double(o, "hold_mean_ns", f.hold_mean_ns);
	put_double(o, "gil_pct", f.gil_share * 100.0);
	put_double(o, "retries_per_acquisition", f.badness);
	json_object_object_add(o, "io_wait", io_json(&f.io));
	put_str(o, "state", format__state(t->state));
	return o;
}

static struct json_object *handoff_json(const struct handoff_figures *h)
{
	struct json_object *o = json_object_new_object();

	put_u64(o, "processes_checked", h->processes);
	put_u64(o, "interpreter", h->interpreter);
	put_u64(o, "seen", h->seen);
	put_u64(o, "not_seen", h->missed);
	put_u64(o, "extra", h->extra);
	put_u64(o, "at_edges", h->at_edges);
	return o;
}

/* At most this many functions per process: the heaviest, by hold time. */
#define FORCED_FNS_MAX 5

/* The forced holders' functions (engine__forced_holders()); NULL on ENOMEM. */
static struct json_object *forced_json(const struct engine *eng, __u32 tgid)
{
	struct engine_forced_holders h;
	struct json_object *o, *arr;

	if (engine__forced_holders(eng, tgid, &h))
		return NULL;
	o = json_object_new_object();
	arr = json_object_new_array();
	put_u64(o, "forced_switches", h.forced_switches);
	put_u64(o, "sampled", h.sampled);
	put_u64(o, "sampled_hold_ns", h.sampled_ns);
	put_u64(o, "unknown", h.unknown);
	put_u64(o, "unmeasured", h.unmeasured);
	for (size_t i = 0; i < h.nfns && i < FORCED_FNS_MAX; i++) {
		const struct engine_forced_fn *f = &h.fns[i];
		const struct engine_thread *t = engine__find_thread(eng, tgid, f->tid);
		struct json_object *fo = json_object_new_object();

		put_str(fo, "function", f->name);
		put_str(fo, "file", f->file);
		put_u64(fo, "line", f->line);
		put_u64(fo, "hold_ns", f->hold_ns);
		put_u64(fo, "samples", f->samples);
		put_double(fo, "share_pct", f->share * 100.0);
		put_u64(fo, "tid", f->tid);
		put_str(fo, "thread", t ? t->name : "");
		put_u64(fo, "threads", f->nthreads);
		json_object_array_add(arr, fo);
	}
	json_object_object_add(o, "functions", arr);
	engine__forced_holders_free(&h);
	return o;
}

static struct json_object *procs_json(const struct engine *eng)
{
	struct json_object *arr = json_object_new_array();
	const struct engine_proc *procs[64];
	size_t n = engine__procs(eng, procs, 64), i;

	/* More than 64 traced processes at once is beyond this summary. */
	for (i = 0; i < n && i < 64; i++) {
		struct json_object *o;
		struct handoff_figures h;

		/* A process only read (GIL_STATE), never seen at its GIL. */
		if (!procs[i]->nthreads)
			continue;
		o = json_object_new_object();

		put_u64(o, "tgid", procs[i]->tgid);
		put_u64(o, "threads", procs[i]->nthreads);
		put_u64(o, "acquisitions", procs[i]->acquisitions);
		put_u64(o, "hold_ns", procs[i]->hold_ns);
		put_u64(o, "wait_held_ns", procs[i]->wait_held_ns);
		put_u64(o, "switches", procs[i]->switches);
		engine__handoff_check(procs[i], &h);
		json_object_object_add(o, "handoff_check", handoff_json(&h));
		json_object_object_add(o, "forced_holder", forced_json(eng, procs[i]->tgid));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Free-threaded CPython processes: whether and when their GIL came back
 * (docs/json.md, "free_threaded"); NULL when none was traced. */
static struct json_object *free_threaded_json(const struct engine *eng, __u64 origin_ts)
{
	struct json_object *arr = NULL;
	const struct engine_proc *procs[64];
	size_t n = engine__procs(eng, procs, 64);

	for (size_t i = 0; i < n && i < 64; i++) {
		const struct ft_gil *ft = &procs[i]->ft;
		struct json_object *o;
		char line[FT_GIL_TEXT], module[FT_GIL_NAME_MAX + 1];

		if (!ft_gil_text__line(line, sizeof(line), procs[i], origin_ts))
			continue;
		if (!arr)
			arr = json_object_new_array();
		o = json_object_new_object();
		put_u64(o, "tgid", procs[i]->tgid);
		put_str(o, "gil", ft_gil_text__state(ft));
		put_str(o, "message", line);
		if (ft->enabled_ts || ft->on_by_ts) {
			__u64 at = ft->enabled_ts ? ft->enabled_ts : ft->on_by_ts;

			put_u64(o, "enabled_ts_ns", at);
			put_double(o, "enabled_at_s", at > origin_ts ? (double)(at - origin_ts) / 1e9 : 0);
			/* exact: the import's own call; else by the readings, after
			 * the one that found it off */
			json_object_object_add(o, "enabled_exact",
					       json_object_new_boolean(ft->enabled_ts != 0));
			if (!ft->enabled_ts)
				put_u64(o, "enabled_after_ts_ns", ft->on_after_ts);
		}
		if (ft->enabled_ts) {
			put_u64(o, "enabled_tid", ft->enabled_tid);
			if (!(ft->name_flags & FT_GIL_NAME_UNKNOWN)) {
				put_str(o, "module", safe_text__copy(module, sizeof(module), ft->module));
				json_object_object_add(o, "module_cut", json_object_new_boolean(
					(ft->name_flags & FT_GIL_NAME_CUT) != 0));
			}
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *totals_json(const struct engine_totals *tot)
{
	struct json_object *o = json_object_new_object();
	struct json_object *futex = json_object_new_object();

	counts_json(o, &tot->c);
	put_u64(o, "threads", tot->nthreads);
	put_u64(o, "processes", tot->nprocs);
	put_u64(o, "switches", tot->switches);
	put_double(o, "switches_per_s", tot->switches_per_s);
	put_double(o, "utilisation_pct", tot->utilisation_pct);
	put_double(o, "contention_pct", tot->contention_pct);
	put_double(o, "retries_per_acquisition", tot->badness);
	put_double(o, "jain_fairness_index", tot->jain);
	put_double(o, "wait_mean_ns", tot->wait_mean_ns);
	put_u64(o, "wait_p50_ns", tot->wait_p50_ns);
	put_u64(o, "wait_p90_ns", tot->wait_p90_ns);
	put_u64(o, "wait_p99_ns", tot->wait_p99_ns);
	put_u64(o, "wait_max_ns", tot->wait_max_ns);
	put_double(o, "hold_mean_ns", tot->hold_mean_ns);
	put_u64(o, "timed_wait_ns", tot->timed_wait_ns);
	json_object_object_add(o, "io_wait", io_json(&tot->io));
	put_u64(futex, "woken", tot->futex_woken);
	put_u64(futex, "timed_out", tot->futex_timedout);
	put_u64(futex, "other", tot->futex_other);
	put_u64(futex, "wake_calls", tot->wake_calls);
	put_u64(futex, "wake_call_woken", tot->wake_call_woken);
	json_object_object_add(o, "futex", futex);
	put_u64(o, "wakeups", tot->wakeups);
	put_u64(o, "cross_cpu_wakeups", tot->cross_cpu_wakeups);
	put_u64(o, "failed_wakeups", tot->failed_wakeups);
	return o;
}

static int threads_json(struct json_object *root, const struct engine *eng)
{
	struct json_object *arr = json_object_new_array();
	const struct engine_thread **threads;
	size_t n, i;

	json_object_object_add(root, "threads", arr);
	if (engine__thread_list(eng, &threads, &n))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		json_object_array_add(arr, thread_json(eng, threads[i]));
	free(threads);
	return 0;
}

static int cpus_json(struct json_object *root, const struct engine *eng)
{
	struct json_object *arr = json_object_new_array();
	const struct engine_cpu **cpus;
	size_t n, i;

	json_object_object_add(root, "cpus", arr);
	if (engine__cpu_list(eng, &cpus, &n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		double mean;
		__u64 p99;

		engine__cpu_figures(cpus[i], &mean, &p99);
		put_u64(o, "cpu", cpus[i]->cpu);
		put_u64(o, "wakeups", cpus[i]->wakeups);
		put_u64(o, "cross_cpu_wakeups", cpus[i]->cross_cpu_wakeups);
		put_u64(o, "failed_wakeups", cpus[i]->failed_wakeups);
		put_u64(o, "wake_to_run_count", cpus[i]->wake_to_run.count);
		put_double(o, "wake_to_run_mean_ns", mean);
		put_u64(o, "wake_to_run_p99_ns", p99);
		put_u64(o, "wake_to_run_max_ns", cpus[i]->wake_to_run.max);
		json_object_array_add(arr, o);
	}
	free(cpus);
	return 0;
}

/* What crossed the threshold, named with its unit, per kind
 * (docs/json.md, docs/diagnoses.md). */
static void diagnosis_figures(struct json_object *o, const struct diagnosis *d)
{
	switch (d->kind) {
	case DIAG_LATENCY:
	case DIAG_HEALTHY:
		put_double(o, "threads_waiting", d->figure);
		put_u64(o, "threads_that_waited", d->count);
		put_u64(o, "wait_p99_ns", d->wait_p99_ns);
		break;
	case DIAG_HOG:
		put_double(o, "hold_pct", d->figure * 100.0);
		break;
	case DIAG_C_HOLD:
		put_double(o, "release_delay_max_ns", d->figure);
		put_u64(o, "late_releases", d->count);
		break;
	case DIAG_CONVOY:
		put_double(o, "wait_after_io_ns", d->figure);
		put_u64(o, "contended_after_io", d->count);
		put_u64(o, "threads_in_convoy", d->threads);
		break;
	case DIAG_BATTLE:
		put_double(o, "retries_per_acquisition", d->figure);
		put_u64(o, "failed_wakeups", d->count);
		break;
	case DIAG_STARVED:
		put_double(o, "wait_pct", d->figure * 100.0);
		break;
	case DIAG_SWITCHING:
		put_double(o, "forced_switches_per_s", d->figure);
		break;
	case DIAG_HOT_LOCK:
		put_u64(o, "lock", d->lock);
		put_double(o, "wait_ns", d->figure);
		put_u64(o, "contended_acquisitions", d->count);
		put_u64(o, "threads_that_waited", d->threads);
		put_u64(o, "wait_p99_ns", d->wait_p99_ns);
		break;
	case DIAG_STW:
		put_double(o, "paused_pct", d->figure * 100.0);
		put_u64(o, "pauses", d->count);
		put_u64(o, "pause_max_ns", d->wait_p99_ns);
		break;
	}
	put_double(o, "utilisation_pct", d->utilisation * 100.0);
	if (d->holder_tid) {
		put_u64(o, "holder_tid", d->holder_tid);
		put_double(o, "holder_pct", d->holder_share * 100.0);
	}
}

/* The diagnoses, and the first one's message as the run's "verdict". */
static void diagnoses_json(struct json_object *root, const struct engine *eng)
{
	struct json_object *arr = json_object_new_array();
	struct diagnosis diags[DIAG_MAX];
	size_t n = diagnose__run(eng, DIAG_RUN, diags, DIAG_MAX), i;
	char msg[DIAG_TEXT], hint[DIAG_TEXT];

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		diagnosis_text__message(msg, sizeof(msg), &diags[i], eng);
		diagnosis_text__hint(hint, sizeof(hint), &diags[i], eng);
		put_str(o, "kind", diagnosis_text__kind(diags[i].kind));
		put_u64(o, "tgid", diags[i].tgid);
		put_u64(o, "tid", diags[i].tid);
		diagnosis_figures(o, &diags[i]);
		put_str(o, "message", msg);
		put_str(o, "hint", hint);
		json_object_array_add(arr, o);
		if (i == 0)
			put_str(root, "verdict", msg);
	}
	json_object_object_add(root, "diagnoses", arr);
}

int summary__print_json(FILE *out, const struct engine *eng, const struct trace_meta *meta)
{
	struct json_object *root = json_object_new_object(), *ft;
	struct engine_totals tot;
	int err;

	if (!root)
		return -ENOMEM;
	engine__totals(eng, &tot);
	put_u64(root, "schema", SUMMARY_JSON_SCHEMA);
	json_object_object_add(root, "target", target_json(meta));
	put_u64(root, "duration_ns", tot.duration_ns);
	put_u64(root, "first_ts_ns", tot.first_ts);
	put_u64(root, "last_ts_ns", tot.last_ts);
	put_u64(root, "drops", tot.drops);
	put_u64(root, "unpaired", tot.unpaired);
	json_object_object_add(root, "totals", totals_json(&tot));
	json_object_object_add(root, "processes", procs_json(eng));
	json_object_object_add(root, "handoff_check", handoff_json(&tot.handoffs));
	ft = free_threaded_json(eng, tot.first_ts);
	if (ft)
		json_object_object_add(root, "free_threaded", ft);
	err = threads_json(root, eng);
	if (!err)
		err = cpus_json(root, eng);
	if (!err)
		err = locks_json__add(root, eng);
	if (!err) {
		diagnoses_json(root, eng);
		fprintf(out, "%s\n", json_object_to_json_string_ext(root,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		if (ferror(out))
			err = -EIO;
	}
	json_object_put(root);
	return err;
}
