/*
 * End-of-run summary: the same engine snapshot as text for people or as one
 * JSON object for scripts and the end-to-end tests.
 */
#ifndef GILTRACE_SUMMARY_H
#define GILTRACE_SUMMARY_H

#include <stdio.h>

/* The JSON summary's "schema": raised when a key is renamed, removed or
 * changes type or unit (docs/json.md). */
#define SUMMARY_JSON_SCHEMA 1

struct engine;
struct trace_meta;

/* meta may be NULL (fields then print as unknown). Return 0 or -errno. */
int summary__print_text(FILE *out, const struct engine *eng, const struct trace_meta *meta);
int summary__print_json(FILE *out, const struct engine *eng, const struct trace_meta *meta);

#endif
