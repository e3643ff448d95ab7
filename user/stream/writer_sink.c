#include "stream/writer_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool to_stdout(const struct writer_sink *ws)
{
	return !strcmp(ws->path, "-");
}

/* The capture as messages name it. */
static const char *name(const struct writer_sink *ws)
{
	return to_stdout(ws) ? "standard output" : ws->path;
}

/* "-": a stream to whatever reads standard output, such as giltrace report
 * - on another machine; the writer needs no seek (a cut on a full disk is
 * then left as tail damage, which the reader skips). */
static struct capture_writer *open_stdout(struct writer_sink *ws, const struct trace_meta *meta,
					  char *err, size_t errlen)
{
	int fd = ws->fd;

	ws->fd = -1; /* the writer's now, even if it fails */
	if (fd < 0) {
		snprintf(err, errlen, "cannot write to standard output: %s", strerror(EBADF));
		errno = EBADF;
		return NULL;
	}
	return capture_writer__open_fd(fd, meta, &ws->wopts, err, errlen);
}

static int on_start(void *ctx, const struct trace_meta *meta, char *err, size_t errlen)
{
	struct writer_sink *ws = ctx;

	if (to_stdout(ws))
		ws->w = open_stdout(ws, meta, err, errlen);
	else
		ws->w = capture_writer__open(ws->path, meta, ws->flags, &ws->wopts, err, errlen);
	if (!ws->w && !to_stdout(ws) && errno == EEXIST) {
		snprintf(err, errlen, "%s exists: choose another name or add --force", ws->path);
		return -EEXIST;
	}
	return ws->w ? 0 : -errno;
}

static int on_event(void *ctx, const struct gil_event *ev)
{
	struct writer_sink *ws = ctx;

	if (!ws->w || ws->write_err)
		return ws->write_err;
	ws->write_err = capture_writer__add_event(ws->w, ev);
	return ws->write_err;
}

static void on_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct writer_sink *ws = ctx;

	if (ws->w && !ws->write_err)
		ws->write_err = capture_writer__name_thread(ws->w, tgid, tid, name);
}

/* Recorded ahead of the event that names it, as it came. */
static void on_stack(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		     const struct blame_frame *frames, unsigned int nframes)
{
	struct writer_sink *ws = ctx;

	if (ws->w && !ws->write_err)
		ws->write_err = capture_writer__add_stack(ws->w, tgid, id, flags, frames, nframes);
}

struct stream_sink writer_sink__sink(struct writer_sink *ws)
{
	struct stream_sink s = {
		.start = on_start, .event = on_event, .thread = on_thread, .stack = on_stack,
		.ctx = ws,
	};

	return s;
}

int writer_sink__flush(struct writer_sink *ws)
{
	if (ws->w && !ws->write_err)
		ws->write_err = capture_writer__flush(ws->w);
	return ws->write_err;
}

int writer_sink__finish(struct writer_sink *ws, unsigned long long drops)
{
	unsigned long long events;
	char err[512];
	bool closed;
	int ret = 0;

	if (!ws->w) {
		if (to_stdout(ws) && ws->fd >= 0)
			close(ws->fd);
		ws->fd = -1;
		return 0;
	}
	if (!ws->write_err)
		ws->write_err = capture_writer__flush(ws->w);
	events = capture_writer__events_written(ws->w);
	closed = !capture_writer__close(ws->w, err, sizeof(err));
	ws->w = NULL;
	if (ws->write_err == -ENOSPC || ws->write_err == -EDQUOT) {
		/* The writer cut the partial chunk off and ended the file. */
		fprintf(stderr, "giltrace: no space left for %s: recording stopped after %llu events "
			"(%s)\n", name(ws), events, closed ? "the capture is complete up to there"
						      : "giltrace report recovers them");
		return 1;
	}
	if (ws->write_err == -EFBIG) {
		fprintf(stderr, "giltrace: %s reached its size limit: recording stopped\n", name(ws));
	} else if (ws->write_err) {
		fprintf(stderr, "giltrace: writing %s failed: %s (%llu events written)\n", name(ws),
			strerror(-ws->write_err), events);
		ret = 1;
	}
	if (!closed && !ret) {
		fprintf(stderr, "giltrace: closing %s failed: %s\n", name(ws), err);
		ret = 1;
	}
	if (!ret)
		fprintf(stderr, "giltrace: recorded %llu events to %s, %llu lost to ring-buffer "
			"drops\n", events, name(ws), drops);
	return ret;
}
