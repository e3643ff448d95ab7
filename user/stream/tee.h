/*
 * A sink that hands everything to several sinks in order: record with a
 * live summary, the engine beside an output check. A non-zero answer from
 * one stops the rest for that call and is returned.
 */
#ifndef GILTRACE_STREAM_TEE_H
#define GILTRACE_STREAM_TEE_H

#include "stream/sink.h"

#define TEE_MAX 4

struct stream_tee {
	struct stream_sink to[TEE_MAX];
	unsigned int n;
};

/* Appends s (copied); at most TEE_MAX. */
void stream_tee__add(struct stream_tee *t, const struct stream_sink *s);

/* The sink that feeds every sink of t (ctx = t). */
struct stream_sink stream_tee__sink(struct stream_tee *t);

#endif
