#include "util/u64map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAP_LOG2 4

void u64map__init(struct u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void u64map__destroy(struct u64map *m)
{
	free(m->slots);
	u64map__init(m);
}

/* The slot holding key (non-zero), or the empty one where it would go. */
static size_t slot_of(const struct u64map *m, __u64 key)
{
	size_t i = u64map__home(m, key);

	while (m->slots[i].key && m->slots[i].key != key)
		i = (i + 1) & m->mask;
	return i;
}

static int grow(struct u64map *m)
{
	unsigned int log2 = m->slots ? 64 - m->shift + 1 : MIN_CAP_LOG2;
	struct u64map bigger = {
		.mask = ((size_t)1 << log2) - 1,
		.shift = 64 - log2,
	};

	bigger.slots = calloc(bigger.mask + 1, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; m->slots && i <= m->mask; i++)
		if (m->slots[i].key)
			bigger.slots[slot_of(&bigger, m->slots[i].key)] = m->slots[i];
	free(m->slots);
	m->slots = bigger.slots;
	m->mask = bigger.mask;
	m->shift = bigger.shift;
	return 0;
}

int u64map__put(struct u64map *m, __u64 key, __u64 val)
{
	size_t i;

	if (!key) {
		int added = !m->has_zero;

		m->has_zero = true;
		m->zero_val = val;
		m->count += (size_t)added;
		return added;
	}
	if (m->slots) {
		i = slot_of(m, key);
		if (m->slots[i].key) {
			m->slots[i].val = val;
			return 0;
		}
	}
	/* Half load at most: probes stay short even for clustered keys. */
	if (!m->slots || (m->count + 1) * 2 > m->mask + 1) {
		if (grow(m))
			return -ENOMEM;
	}
	i = slot_of(m, key);
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->count++;
	return 1;
}

bool u64map__del(struct u64map *m, __u64 key, __u64 *val)
{
	size_t i, j;

	if (!key) {
		if (!m->has_zero)
			return false;
		if (val)
			*val = m->zero_val;
		m->has_zero = false;
		m->count--;
		return true;
	}
	if (!m->slots)
		return false;
	i = slot_of(m, key);
	if (!m->slots[i].key)
		return false;
	if (val)
		*val = m->slots[i].val;
	/* Backward shift: each entry after the hole that may live there (its
	 * home is not in the cyclic range (i, j]) moves into it. */
	for (j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
		size_t home = u64map__home(m, m->slots[j].key);

		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->slots[i].val = 0;
	m->count--;
	return true;
}

bool u64map__next(const struct u64map *m, size_t *it, __u64 *key, __u64 *val)
{
	size_t cap = m->slots ? m->mask + 1 : 0;

	for (; *it < cap; (*it)++) {
		if (m->slots[*it].key) {
			*key = m->slots[*it].key;
			*val = m->slots[*it].val;
			(*it)++;
			return true;
		}
	}
	if (*it == cap && m->has_zero) {
		*key = 0;
		*val = m->zero_val;
		(*it)++;
		return true;
	}
	return false;
}

struct u64map *u64map__sub(struct u64map *m, __u64 key)
{
	struct u64map *sub = u64map__sub_find(m, key);

	if (sub)
		return sub;
	sub = calloc(1, sizeof(*sub));
	if (sub && u64map__put(m, key, (uintptr_t)sub) < 0) {
		free(sub);
		return NULL;
	}
	return sub;
}

void u64map__free_sub(struct u64map *sub, void (*free_val)(__u64 val))
{
	size_t it = 0;
	__u64 key, val;

	while (free_val && u64map__next(sub, &it, &key, &val))
		free_val(val);
	u64map__destroy(sub);
	free(sub);
}

void u64map__destroy_subs(struct u64map *m, void (*free_val)(__u64 val))
{
	size_t it = 0;
	__u64 key, sub;

	while (u64map__next(m, &it, &key, &sub))
		u64map__free_sub((struct u64map *)(uintptr_t)sub, free_val);
	u64map__destroy(m);
}
