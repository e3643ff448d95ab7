/*
 * A capture as an event source (report, export, plot): the file is opened
 * once and read front to back, so a pipe, process substitution or "-"
 * (standard input) reads the same as a file. Every record goes to a sink in
 * the order it was written, and what a damaged or cut file gave up is said
 * on stderr, so no loss goes unnoticed.
 */
#ifndef GILTRACE_STREAM_FILE_SOURCE_H
#define GILTRACE_STREAM_FILE_SOURCE_H

#include <stdbool.h>

#include "trace_meta.h"
#include "stream/sink.h"

struct file_source;

/* The source can be read again (file_source__rewind()): a capture from a
 * pipe is copied to an unlinked temporary file first. Only plot needs it. */
#define FILE_SOURCE_REWIND 0x1

/* Opens path ("-": standard input) and reads its header, or prints
 * "giltrace: cannot read PATH: why" and returns NULL. */
struct file_source *file_source__open(const char *path, int flags);
void file_source__free(struct file_source *fs);

/* The capture header: what the trace was taken of. */
const struct trace_meta *file_source__meta(const struct file_source *fs);
/* path as messages name it ("standard input" for "-"). */
const char *file_source__name(const struct file_source *fs);

/* Hands the header to sink->start, then every record to sink, then says
 * on stderr what damage skipped (unless quiet: a later pass will). Returns
 * 0 (also when the sink stopped it: the sink's owner says why), or 1 after
 * "giltrace: PATH is corrupt: ..." or, on SIGINT, SIGTERM or SIGHUP,
 * "giltrace: interrupted". */
int file_source__run(struct file_source *fs, const struct stream_sink *sink, bool quiet);

/* Back to the first record, for another run (FILE_SOURCE_REWIND only);
 * 0, or 1 after a one-line error. */
int file_source__rewind(struct file_source *fs);

#endif
