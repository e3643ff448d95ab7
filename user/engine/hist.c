/* Log-linear histograms; see hist.h for the error bound. */
#include <string.h>

#include "engine/hist.h"

void hist__init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

unsigned int hist__bucket(__u64 value)
{
	unsigned int e, sub;

	if (value < HIST_SUB)
		return (unsigned int)value;
	/* e = floor(log2(value)) >= HIST_SUB_BITS; the HIST_SUB_BITS bits
	 * below the leading one pick the linear sub-bucket. */
	e = 63 - (unsigned int)__builtin_clzll(value);
	sub = (unsigned int)(value >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
	return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB + sub;
}

__u64 hist__bucket_low(unsigned int bucket)
{
	unsigned int e, sub;

	if (bucket < HIST_SUB)
		return bucket;
	e = (bucket - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	sub = (bucket - HIST_SUB) % HIST_SUB;
	return (1ULL << e) + ((__u64)sub << (e - HIST_SUB_BITS));
}

__u64 hist__bucket_high(unsigned int bucket)
{
	unsigned int e;

	if (bucket < HIST_SUB)
		return bucket;
	e = (bucket - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	return hist__bucket_low(bucket) + (1ULL << (e - HIST_SUB_BITS)) - 1;
}

void hist__add(struct hist *h, __u64 value)
{
	if (h->count == 0 || value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
	h->count++;
	h->sum += value;
	h->buckets[hist__bucket(value)]++;
}

void hist__merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

__u64 hist__percentile(const struct hist *h, double p)
{
	__u64 rank, seen = 0, low, high, mid;
	unsigned int i;

	if (h->count == 0)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	rank = (__u64)(p / 100.0 * (double)h->count);
	if ((double)rank < p / 100.0 * (double)h->count)
		rank++;
	/* The first and last samples are known exactly. */
	if (rank <= 1)
		return h->min;
	if (rank >= h->count)
		return h->max;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKETS)
		return h->max;
	low = hist__bucket_low(i);
	high = hist__bucket_high(i);
	mid = low + (high - low) / 2;
	/* The exact extremes are better than a bucket midpoint when the
	 * sample falls into the lowest or highest occupied bucket. */
	if (mid < h->min)
		return h->min;
	if (mid > h->max)
		return h->max;
	return mid;
}

__u64 hist__count_le(const struct hist *h, __u64 x)
{
	unsigned int b, i;
	__u64 n = 0;

	if (h->count == 0 || x < h->min)
		return 0;
	if (x >= h->max)
		return h->count;
	b = hist__bucket(x);
	for (i = 0; i < b; i++)
		n += h->buckets[i];
	if (x >= hist__bucket_low(b) + (hist__bucket_high(b) - hist__bucket_low(b)) / 2)
		n += h->buckets[b];
	return n;
}

double hist__mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

double hist__rel_error(void)
{
	return 1.0 / (2.0 * HIST_SUB);
}
