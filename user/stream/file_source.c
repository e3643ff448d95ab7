#include "stream/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/reader.h"
#include "run/signals.h"

struct file_source {
	const char *path;
	int fd;                   /* kept for rewinds; the reader reads a dup */
	off_t start;              /* where the capture starts in fd: standard
				   * input may come in mid-file */
	struct capture_reader *r;
};

/* Copies fd to the end into an unlinked temporary file, so a pipe can be
 * read twice; returns the copy at offset 0, or -errno. */
static int spool(int fd)
{
	char buf[1 << 16];
	FILE *tmp = tmpfile();
	ssize_t n;
	int out;

	if (!tmp)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || fwrite(buf, 1, (size_t)n, tmp) != (size_t)n)
			goto fail;
	}
	if (fflush(tmp))
		goto fail;
	out = fcntl(fileno(tmp), F_DUPFD_CLOEXEC, 3);
	fclose(tmp);
	if (out < 0 || lseek(out, 0, SEEK_SET) < 0) {
		int e = errno;

		if (out >= 0)
			close(out);
		return -e;
	}
	return out;
fail:
	n = errno ? errno : EIO;
	fclose(tmp);
	return -(int)n;
}

/* A reader on a dup of fs->fd from where that file now is. */
static int open_reader(struct file_source *fs)
{
	int fd = fcntl(fs->fd, F_DUPFD_CLOEXEC, 3);
	char err[512];

	if (fd < 0) {
		fprintf(stderr, "giltrace: cannot read %s: %s\n", file_source__name(fs),
			strerror(errno));
		return 1;
	}
	fs->r = capture_reader__open_fd(fd, err, sizeof(err));
	if (!fs->r) {
		fprintf(stderr, "giltrace: cannot read %s: %s\n", file_source__name(fs), err);
		return 1;
	}
	return 0;
}

struct file_source *file_source__open(const char *path, int flags)
{
	struct file_source *fs = calloc(1, sizeof(*fs));
	bool std_in = !strcmp(path, "-");
	int fd;

	if (!fs) {
		fprintf(stderr, "giltrace: out of memory\n");
		return NULL;
	}
	fs->path = path;
	fs->fd = -1;
	fd = std_in ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "giltrace: cannot read %s: %s\n", file_source__name(fs),
			strerror(errno));
		goto fail;
	}
	fs->fd = fd;
	fs->start = lseek(fd, 0, SEEK_CUR);
	if ((flags & FILE_SOURCE_REWIND) && fs->start < 0) {
		fd = spool(fs->fd);
		if (fd < 0) {
			fprintf(stderr, "giltrace: cannot read %s: cannot keep a copy to read "
				"twice: %s\n", file_source__name(fs), strerror(-fd));
			goto fail;
		}
		close(fs->fd);
		fs->fd = fd;
		fs->start = 0;
	}
	if (open_reader(fs))
		goto fail;
	return fs;
fail:
	file_source__free(fs);
	return NULL;
}

void file_source__free(struct file_source *fs)
{
	if (!fs)
		return;
	capture_reader__free(fs->r);
	if (fs->fd >= 0)
		close(fs->fd);
	free(fs);
}

const struct trace_meta *file_source__meta(const struct file_source *fs)
{
	return capture_reader__meta(fs->r);
}

const char *file_source__name(const struct file_source *fs)
{
	return strcmp(fs->path, "-") ? fs->path : "standard input";
}

static void report_recovery(const char *path, const struct capture_status *st)
{
	if (!st->clean_end)
		fprintf(stderr, "giltrace: %s was not closed cleanly: recovered %llu events in "
			"%llu chunks, %llu bytes at the end skipped\n", path,
			(unsigned long long)st->events, (unsigned long long)st->chunks,
			(unsigned long long)st->bytes_skipped);
	else if (st->bytes_skipped || st->bad_chunks)
		fprintf(stderr, "giltrace: %s is damaged: %llu chunks failed their checksum, "
			"%llu bytes skipped\n", path, (unsigned long long)st->bad_chunks,
			(unsigned long long)st->bytes_skipped);
	if (st->size_limited)
		fprintf(stderr, "giltrace: %s stopped at its size limit\n", path);
}

int file_source__run(struct file_source *fs, const struct stream_sink *sink, bool quiet)
{
	const char *name = file_source__name(fs);
	struct capture_record rec;
	char err[512];
	int n;

	if (stream_sink__start(sink, file_source__meta(fs), err, sizeof(err))) {
		fprintf(stderr, "giltrace: %s\n", err);
		return 1;
	}
	while ((n = capture_reader__next(fs->r, &rec)) > 0) {
		if (rec.kind == CAPTURE_REC_EVENT) {
			if (stream_sink__event(sink, &rec.event))
				return 0;
		} else if (rec.kind == CAPTURE_REC_THREAD_NAME) {
			stream_sink__thread(sink, rec.thread.tgid, rec.thread.tid, rec.thread.name);
		} else if (rec.kind == CAPTURE_REC_STACK) {
			stream_sink__stack(sink, rec.stack.tgid, rec.stack.id, rec.stack.flags,
					   rec.stack.frames, rec.stack.nframes);
		}
		/* the handlers only set the flag: hours of capture stay stoppable */
		if (signals_stop) {
			fprintf(stderr, "giltrace: interrupted\n");
			return 1;
		}
	}
	if (n < 0) {
		fprintf(stderr, "giltrace: %s is corrupt: %s\n", name, capture_reader__error(fs->r));
		return 1;
	}
	if (!quiet)
		report_recovery(name, capture_reader__status(fs->r));
	return 0;
}

int file_source__rewind(struct file_source *fs)
{
	capture_reader__free(fs->r);
	fs->r = NULL;
	if (lseek(fs->fd, fs->start, SEEK_SET) < 0) {
		fprintf(stderr, "giltrace: cannot read %s again: %s\n", file_source__name(fs),
			strerror(errno));
		return 1;
	}
	return open_reader(fs);
}
