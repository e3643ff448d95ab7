/* Growing arrays of pointers or records, kept as (v, n, cap) by their user. */
#ifndef GILTRACE_ARRAY_H
#define GILTRACE_ARRAY_H

#include <stddef.h>
#include <stdlib.h>

/*
 * Room for element n of v (elem bytes each): returns v, or v moved to twice
 * *cap elements (first ones when *cap is 0), or NULL when out of memory,
 * v then being left as it was.
 */
static inline void *array__reserve(void *v, size_t n, size_t *cap, size_t elem, size_t first)
{
	size_t c;

	if (n < *cap)
		return v;
	c = *cap ? *cap * 2 : first;
	v = realloc(v, c * elem);
	if (v)
		*cap = c;
	return v;
}

#endif
