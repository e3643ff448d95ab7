/*
 * A map from u64 keys to u64 values: open addressing with linear probing,
 * a power-of-two capacity that doubles at half load, deletion by backward
 * shift (no tombstones). Any key is allowed: key 0 marks an empty slot, so
 * it is kept beside the slots.
 *
 * The struct is public so that a user embeds it and u64map__get() inlines:
 * the engine looks a thread up at every event. Zero-initialised (or after
 * u64map__init()) it is an empty map that has allocated nothing.
 */
#ifndef GILTRACE_U64MAP_H
#define GILTRACE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct u64map_slot {
	__u64 key; /* 0 = empty */
	__u64 val;
};

struct u64map {
	struct u64map_slot *slots;
	size_t mask;       /* capacity - 1; slots is NULL while 0 */
	unsigned int shift; /* 64 - log2(capacity): the hash's top bits index */
	size_t count;      /* keys held, key 0 included */
	bool has_zero;
	__u64 zero_val;
};

void u64map__init(struct u64map *m);
/* Frees the slots; the map is empty again and may be reused. */
void u64map__destroy(struct u64map *m);

/* Fibonacci hashing: the top bits of key * 2^64 / phi, after folding the
 * high half in, so keys that differ only in either half spread out. */
static inline size_t u64map__home(const struct u64map *m, __u64 key)
{
	return (size_t)(((key ^ (key >> 32)) * 0x9e3779b97f4a7c15ULL) >> m->shift);
}

/* Sets *val and returns true when key is in the map. */
static inline bool u64map__get(const struct u64map *m, __u64 key, __u64 *val)
{
	size_t i;

	if (!key) {
		if (m->has_zero)
			*val = m->zero_val;
		return m->has_zero;
	}
	if (!m->slots)
		return false;
	for (i = u64map__home(m, key);; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key) {
			*val = m->slots[i].val;
			return true;
		}
		if (!m->slots[i].key)
			return false;
	}
}

static inline bool u64map__has(const struct u64map *m, __u64 key)
{
	__u64 v;

	return u64map__get(m, key, &v);
}

/* Sets key to val: 1 when key is new, 0 when it was there (its value is
 * replaced), -ENOMEM when the map could not grow (it is unchanged). */
int u64map__put(struct u64map *m, __u64 key, __u64 val);
/* Removes key: true (and *val, if val is not NULL) when it was there. */
bool u64map__del(struct u64map *m, __u64 key, __u64 *val);

static inline size_t u64map__count(const struct u64map *m)
{
	return m->count;
}

/*
 * Iteration in no particular order: start with *it = 0, call until false.
 * The map must not change meanwhile (a deletion moves entries).
 */
bool u64map__next(const struct u64map *m, size_t *it, __u64 *key, __u64 *val);

/*
 * Two-level maps, for a key pair such as (tgid, stack id): m maps the first
 * key to a malloc'd map of the second. u64map__sub() returns the inner map
 * under key, created empty on first use (NULL when out of memory).
 */
struct u64map *u64map__sub(struct u64map *m, __u64 key);

static inline struct u64map *u64map__sub_find(const struct u64map *m, __u64 key)
{
	__u64 v;

	return u64map__get(m, key, &v) ? (struct u64map *)(uintptr_t)v : NULL;
}

/* Frees an inner map taken out of its outer one (u64map__del), calling
 * free_val, when not NULL, on each of its values. */
void u64map__free_sub(struct u64map *sub, void (*free_val)(__u64 val));
/* Destroys m and every inner map, as u64map__free_sub() does. */
void u64map__destroy_subs(struct u64map *m, void (*free_val)(__u64 val));

#endif
