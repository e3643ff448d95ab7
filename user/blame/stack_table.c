#include "blame/stack_table.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/u64map.h"

struct stack_table {
	struct u64map by_tgid; /* tgid -> struct u64map * of id -> struct blame_resolved * */
	/* Strings are interned, keyed by their hash: a file name shared by a
	 * thousand stacks is stored once. */
	struct u64map strs;
};

static __u64 str_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static const char *intern(struct u64map *strs, const char *s)
{
	__u64 h = str_hash(s), v;
	char *copy;

	/* Two strings with one hash: the second goes under the next free key,
	 * so a lookup walks the keys from the hash up to a miss. */
	for (; u64map__get(strs, h, &v); h++)
		if (!strcmp((const char *)(uintptr_t)v, s))
			return (const char *)(uintptr_t)v;
	copy = strdup(s);
	if (!copy)
		return NULL;
	if (u64map__put(strs, h, (uintptr_t)copy) < 0) {
		free(copy);
		return NULL;
	}
	return copy;
}

struct stack_table *stack_table__new(void)
{
	return calloc(1, sizeof(struct stack_table));
}

static void free_resolved(__u64 val)
{
	struct blame_resolved *r = (struct blame_resolved *)(uintptr_t)val;

	free(r->frames);
	free(r);
}

void stack_table__free(struct stack_table *tab)
{
	size_t it = 0;
	__u64 k, v;

	if (!tab)
		return;
	u64map__destroy_subs(&tab->by_tgid, free_resolved);
	while (u64map__next(&tab->strs, &it, &k, &v))
		free((char *)(uintptr_t)v);
	u64map__destroy(&tab->strs);
	free(tab);
}

int stack_table__add(struct stack_table *tab, __u32 tgid, __u64 id, __u32 flags,
		     const struct blame_frame *frames, unsigned int nframes)
{
	struct blame_resolved *r;
	struct u64map *ids;

	if (id < BLAME_ID_FIRST)
		return 0;
	ids = u64map__sub(&tab->by_tgid, tgid);
	if (!ids)
		return -ENOMEM;
	if (u64map__has(ids, id))
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->frames = calloc(nframes ? nframes : 1, sizeof(*r->frames));
	if (!r->frames) {
		free(r);
		return -ENOMEM;
	}
	r->tgid = tgid;
	r->id = id;
	r->flags = flags;
	for (unsigned int f = 0; f < nframes; f++) {
		r->frames[f].name = intern(&tab->strs, frames[f].name ? frames[f].name : "");
		r->frames[f].file = intern(&tab->strs, frames[f].file ? frames[f].file : "");
		r->frames[f].line = frames[f].line;
		if (!r->frames[f].name || !r->frames[f].file) {
			free(r->frames);
			free(r);
			return -ENOMEM;
		}
	}
	r->nframes = nframes;
	if (u64map__put(ids, id, (uintptr_t)r) < 0) {
		free(r->frames);
		free(r);
		return -ENOMEM;
	}
	return 0;
}

const struct blame_resolved *stack_table__find(const struct stack_table *tab, __u32 tgid,
					       __u64 id)
{
	const struct u64map *ids;
	__u64 v;

	if (!tab || id < BLAME_ID_FIRST)
		return NULL;
	ids = u64map__sub_find(&tab->by_tgid, tgid);
	return ids && u64map__get(ids, id, &v) ? (const struct blame_resolved *)(uintptr_t)v : NULL;
}
