/*
 * Records keyed by a pair (an owner, such as a process or a thread, then an
 * id), kept in order of arrival: a two-level u64map finds one, an array
 * walks them. Zero-initialised it is empty and has allocated nothing.
 */
#ifndef GILTRACE_RECORD_INDEX_H
#define GILTRACE_RECORD_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "util/u64map.h"

struct record_index {
	struct u64map by_owner; /* owner -> struct u64map * of id -> record */
	void **v;               /* the records, in order of arrival */
	size_t n, cap;
};

void *record_index__find(const struct record_index *ix, __u64 owner, __u64 id);
/* The record of (owner, id), or a new zeroed one of size bytes appended
 * (then *created is set, when created is not NULL); NULL when out of
 * memory. */
void *record_index__get(struct record_index *ix, __u64 owner, __u64 id, size_t size,
			bool *created);
/* Frees the records and the index (what a record points to is the
 * caller's to free first); the index is empty again. */
void record_index__destroy(struct record_index *ix);

#endif
