/*
 * LEB128 varints and zigzag, shared by the capture writer and reader.
 * Decoders take an explicit end pointer and never read past it: the reader
 * runs them on untrusted bytes.
 */
#ifndef GILTRACE_CAPTURE_VARINT_H
#define GILTRACE_CAPTURE_VARINT_H

#include <stddef.h>
#include <linux/types.h>

#define VARINT_MAX 10 /* bytes of a u64 */

static inline unsigned char *varint__put(unsigned char *p, __u64 v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/*
 * Returns the byte after the varint, or NULL when it runs past end or does
 * not fit in 64 bits: a tenth byte may only carry the top bit.
 */
static inline const unsigned char *varint__get(const unsigned char *p, const unsigned char *end,
					       __u64 *out)
{
	__u64 v = 0;
	unsigned shift = 0;

	if (p < end && *p < 0x80) {
		*out = *p;
		return p + 1;
	}
	for (;;) {
		if (p >= end)
			return NULL;
		__u64 b = *p++;
		if (shift == 63 && b > 1)
			return NULL;
		v |= (b & 0x7f) << shift;
		if (b < 0x80)
			break;
		shift += 7;
	}
	*out = v;
	return p;
}

/* Zigzag maps small negative numbers to small unsigned ones: -1 -> 1, 1 -> 2. */
static inline __u64 zigzag__enc64(__s64 v)
{
	return ((__u64)v << 1) ^ (__u64)(v >> 63);
}

static inline __s64 zigzag__dec64(__u64 v)
{
	return (__s64)((v >> 1) ^ (~(v & 1) + 1));
}

#endif
