#include "util/record_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

void *record_index__find(const struct record_index *ix, __u64 owner, __u64 id)
{
	const struct u64map *ids = u64map__sub_find(&ix->by_owner, owner);
	__u64 v;

	return ids && u64map__get(ids, id, &v) ? (void *)(uintptr_t)v : NULL;
}

void *record_index__get(struct record_index *ix, __u64 owner, __u64 id, size_t size,
			bool *created)
{
	struct u64map *ids = u64map__sub(&ix->by_owner, owner);
	void **v, *r;
	__u64 found;

	if (created)
		*created = false;
	if (!ids)
		return NULL;
	if (u64map__get(ids, id, &found))
		return (void *)(uintptr_t)found;
	v = array__reserve(ix->v, ix->n, &ix->cap, sizeof(*v), 16);
	if (!v)
		return NULL;
	ix->v = v;
	r = calloc(1, size);
	if (!r || u64map__put(ids, id, (uintptr_t)r) < 0) {
		free(r);
		return NULL;
	}
	ix->v[ix->n++] = r;
	if (created)
		*created = true;
	return r;
}

void record_index__destroy(struct record_index *ix)
{
	/* the records are freed through v */
	u64map__destroy_subs(&ix->by_owner, NULL);
	for (size_t i = 0; i < ix->n; i++)
		free(ix->v[i]);
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}
