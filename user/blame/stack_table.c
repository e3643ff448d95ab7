#include "blame/stack_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Strings are interned in one open-addressing set: a file name shared by a
 * thousand stacks is stored once. */
struct str_set {
	char **v;
	size_t cap, count;
};

struct stack_table {
	struct blame_resolved **slots; /* open addressing on (tgid, id) */
	size_t cap, count;
	struct str_set strs;
};

static size_t mix(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k;
}

static size_t str_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (size_t)h;
}

static int str_grow(struct str_set *set)
{
	size_t cap = set->cap ? set->cap * 2 : 256;
	char **v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < set->cap; i++) {
		size_t j;

		if (!set->v[i])
			continue;
		for (j = str_hash(set->v[i]) & (cap - 1); v[j]; j = (j + 1) & (cap - 1))
			;
		v[j] = set->v[i];
	}
	free(set->v);
	set->v = v;
	set->cap = cap;
	return 0;
}

static const char *intern(struct str_set *set, const char *s)
{
	size_t i;

	if ((set->count + 1) * 2 > set->cap && str_grow(set))
		return NULL;
	for (i = str_hash(s) & (set->cap - 1); set->v[i]; i = (i + 1) & (set->cap - 1))
		if (!strcmp(set->v[i], s))
			return set->v[i];
	set->v[i] = strdup(s);
	if (!set->v[i])
		return NULL;
	set->count++;
	return set->v[i];
}

struct stack_table *stack_table__new(void)
{
	return calloc(1, sizeof(struct stack_table));
}

void stack_table__free(struct stack_table *tab)
{
	if (!tab)
		return;
	for (size_t i = 0; i < tab->cap; i++) {
		if (tab->slots[i]) {
			free(tab->slots[i]->frames);
			free(tab->slots[i]);
		}
	}
	for (size_t i = 0; i < tab->strs.cap; i++)
		free(tab->strs.v[i]);
	free(tab->strs.v);
	free(tab->slots);
	free(tab);
}

static size_t slot_of(struct blame_resolved **slots, size_t cap, __u32 tgid, __u64 id)
{
	size_t i = mix(id ^ ((__u64)tgid << 17)) & (cap - 1);

	while (slots[i] && !(slots[i]->tgid == tgid && slots[i]->id == id))
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(struct stack_table *tab)
{
	size_t cap = tab->cap ? tab->cap * 2 : 64;
	struct blame_resolved **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < tab->cap; i++)
		if (tab->slots[i])
			slots[slot_of(slots, cap, tab->slots[i]->tgid, tab->slots[i]->id)] =
				tab->slots[i];
	free(tab->slots);
	tab->slots = slots;
	tab->cap = cap;
	return 0;
}

int stack_table__add(struct stack_table *tab, __u32 tgid, __u64 id, __u32 flags,
		     const struct blame_frame *frames, unsigned int nframes)
{
	struct blame_resolved *r;
	size_t i;

	if (id < BLAME_ID_FIRST)
		return 0;
	if ((tab->count + 1) * 2 > tab->cap && grow(tab))
		return -ENOMEM;
	i = slot_of(tab->slots, tab->cap, tgid, id);
	if (tab->slots[i])
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
	tab->slots[i] = r;
	tab->count++;
	return 0;
}

const struct blame_resolved *stack_table__find(const struct stack_table *tab, __u32 tgid,
					       __u64 id)
{
	if (!tab || !tab->cap || id < BLAME_ID_FIRST)
		return NULL;
	return tab->slots[slot_of(tab->slots, tab->cap, tgid, id)];
}
