/*
 * Log-linear latency histograms (HdrHistogram-like): each power of two is
 * split into HIST_SUB linear sub-buckets, so a bucket is never wider than
 * 1/HIST_SUB of its lower bound and a percentile read from it is within
 * hist__rel_error() of the truth. Exact count, sum, min and max are kept
 * beside the buckets so that means and extremes are not approximated.
 */
#ifndef GILTRACE_HIST_H
#define GILTRACE_HIST_H

#include <linux/types.h>

#define HIST_SUB_BITS 4
#define HIST_SUB (1u << HIST_SUB_BITS)
/* Values below HIST_SUB get one exact bucket each; every power of two from
 * 2^HIST_SUB_BITS to 2^63 then gets HIST_SUB buckets. */
#define HIST_BUCKETS (HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	__u64 count;
	__u64 sum;
	__u64 min; /* meaningless while count == 0 */
	__u64 max;
	__u64 buckets[HIST_BUCKETS];
};

void hist__init(struct hist *h);
void hist__add(struct hist *h, __u64 value);
/* Adds every sample of src into dst, as if they had been added one by one. */
void hist__merge(struct hist *dst, const struct hist *src);
/* The value at percentile p (0..100]: the midpoint of the bucket holding the
 * sample of rank ceil(p/100 * count), clamped to the exact [min, max];
 * the first and last ranks give min and max themselves.
 * p <= 0 gives min, p >= 100 gives max; 0 for an empty histogram. */
__u64 hist__percentile(const struct hist *h, double p);
/* How many values are <= x: exact when x is below min or at least max,
 * otherwise the buckets wholly below x plus the one holding x when x is
 * past its midpoint (so off by at most that bucket's count). Monotonic in
 * x, as cumulative buckets (Prometheus "le") need. */
__u64 hist__count_le(const struct hist *h, __u64 x);
/* Exact mean (sum / count); 0 for an empty histogram. */
double hist__mean(const struct hist *h);
/* Worst relative error of hist__percentile() (half a bucket's width). */
double hist__rel_error(void);
/* Bucket arithmetic, exposed for tests. */
unsigned int hist__bucket(__u64 value);
__u64 hist__bucket_low(unsigned int bucket);
__u64 hist__bucket_high(unsigned int bucket); /* inclusive */

#endif
