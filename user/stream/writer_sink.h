/*
 * The capture writer as a sink (record): the file is created at start(),
 * every event, thread name and blame stack is written in stream order, and
 * the first write error stops the source.
 */
#ifndef GILTRACE_STREAM_WRITER_SINK_H
#define GILTRACE_STREAM_WRITER_SINK_H

#include "capture/writer.h"
#include "stream/sink.h"

struct writer_sink {
	const char *path;                /* "-": fd, standard output */
	int fd;                          /* with "-": a dup of standard output,
					  * the writer's from start() on */
	int flags;                       /* CAPTURE_WRITER_FORCE */
	struct capture_writer_opts wopts;
	struct capture_writer *w;        /* open between start() and __finish() */
	int write_err;                   /* first capture error, -errno */
};

/* The sink that writes to ws->path (ctx = ws). */
struct stream_sink writer_sink__sink(struct writer_sink *ws);

/* Pushes what is buffered to the file: a flush a second bounds what a
 * SIGKILL can take. Returns the first write error so far, -errno. */
int writer_sink__flush(struct writer_sink *ws);

/* Closes the capture, if open, and says on stderr what it holds (drops:
 * the run's ring-buffer drops); 0, or 1 after a one-line error. */
int writer_sink__finish(struct writer_sink *ws, unsigned long long drops);

#endif
