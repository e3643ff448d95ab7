#include "views/locks_json.h"

#include <errno.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "views/locks_text.h"

static void put_u64(struct json_object *o, const char *key, __u64 v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static struct json_object *waiters_json(const struct engine *eng, const struct engine_lock *l)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < l->nwaiters; i++) {
		const struct lock_waiter *w = &l->waiters[i];
		const struct engine_thread *t = engine__find_thread(eng, l->tgid, w->tid);
		struct json_object *o = json_object_new_object();

		put_u64(o, "tid", w->tid);
		json_object_object_add(o, "name", json_object_new_string(t ? t->name : ""));
		put_u64(o, "waits", w->waits);
		put_u64(o, "parks", w->parks);
		put_u64(o, "wait_ns", w->wait_ns);
		put_u64(o, "wait_max_ns", w->max_ns);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *lock_json(const struct engine *eng, const struct engine_lock *l)
{
	struct json_object *o = json_object_new_object();

	put_u64(o, "tgid", l->tgid);
	put_u64(o, "addr", l->addr);
	json_object_object_add(o, "owner", json_object_new_string(locks_text__owner(l)));
	put_u64(o, "owner_type_addr", l->type);
	put_u64(o, "slow_sections", l->sections);
	put_u64(o, "contended_acquisitions", l->waits);
	put_u64(o, "failed", l->failed);
	put_u64(o, "parks", l->parks);
	put_u64(o, "wait_ns", l->wait.sum);
	json_object_object_add(o, "wait_mean_ns", json_object_new_double(hist__mean(&l->wait)));
	put_u64(o, "wait_p99_ns", hist__percentile(&l->wait, 99));
	put_u64(o, "wait_max_ns", l->waits ? l->wait.max : 0);
	json_object_object_add(o, "threads", waiters_json(eng, l));
	return o;
}

static struct json_object *stw_json(const struct lock_table *lt)
{
	struct json_object *arr = json_object_new_array();
	const struct engine_stw *v[64];
	size_t n = lock_table__stw(lt, v, 64);

	for (size_t i = 0; i < n && i < 64; i++) {
		struct json_object *o = json_object_new_object();

		put_u64(o, "tgid", v[i]->tgid);
		put_u64(o, "pauses", v[i]->pauses);
		put_u64(o, "gc_pauses", v[i]->gc_pauses);
		put_u64(o, "pause_ns", v[i]->pause.sum);
		put_u64(o, "gc_pause_ns", v[i]->gc_ns);
		put_u64(o, "pause_p99_ns", hist__percentile(&v[i]->pause, 99));
		put_u64(o, "pause_max_ns", v[i]->pauses ? v[i]->pause.max : 0);
		put_u64(o, "stopping_ns", v[i]->stop_ns);
		put_u64(o, "in_progress", v[i]->open);
		put_u64(o, "unpaired", v[i]->unpaired);
		json_object_array_add(arr, o);
	}
	return arr;
}

int locks_json__add(struct json_object *root, const struct engine *eng)
{
	const struct lock_table *lt = engine__locks(eng);
	const struct engine_lock **locks;
	struct json_object *o, *arr;
	struct lock_totals tot;
	size_t n;
	int err = lock_table__snapshot(lt, &tot, &locks, &n);

	if (err <= 0)
		return err;
	o = json_object_new_object();
	arr = json_object_new_array();
	put_u64(o, "contended_locks", tot.locks);
	put_u64(o, "contended_acquisitions", tot.waits);
	put_u64(o, "wait_ns", tot.wait_ns);
	put_u64(o, "parks", tot.parks);
	put_u64(o, "slow_sections", tot.sections);
	put_u64(o, "untracked_acquisitions", tot.untracked_waits);
	put_u64(o, "untracked_wait_ns", tot.untracked_wait_ns);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, lock_json(eng, locks[i]));
	json_object_object_add(o, "locks", arr);
	json_object_object_add(o, "stop_the_world", stw_json(lt));
	json_object_object_add(root, "locks", o);
	free(locks);
	return 0;
}
