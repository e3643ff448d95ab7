/*
 * Capture writer. Events are delta-encoded into one fixed buffer laid out as
 * it goes to disk (frame, chunk header, entries), so a flush is one CRC and
 * one write() and the per-event path never allocates.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/format.h"
#include "capture/header.h"
#include "capture/varint.h"
#include "capture/writer.h"

#define CHUNK_DEFAULT (64u * 1024)
#define CHUNK_MIN 256u
/* Worst-case encoded entry: a name entry (1 + 5 + 5 + 1 + 63) beats an event (57). */
#define ENTRY_MAX 96
#define END_MAX (FRAME_LEN + 3 * VARINT_MAX)

struct thread_slot {
	__u32 tgid;
	__u32 tid;
	__u16 cpu;
};

struct capture_writer {
	int fd;
	__u64 max_bytes;
	__u32 chunk_bytes;
	bool limited; /* size limit hit: no more entries */
	bool blame;   /* version 2: stack records allowed */
	int failed;   /* sticky negative errno after a write error */
	bool cut;     /* after a failed write the file was cut back to its last record */

	unsigned char *buf;  /* FRAME_LEN + CHUNK_HDR_LEN + chunk_bytes */
	size_t len;          /* entry bytes in buf */
	__u32 chunk_events;
	__u64 base_ts;
	__u64 prev_ts;
	__u64 prev_addr;
	struct thread_slot threads[CHUNK_MAX_THREADS];
	unsigned nthreads;
	unsigned last_thread;
	__u64 addrs[CHUNK_MAX_ADDRS];
	unsigned naddrs;

	__u64 events_written;
	__u64 names_written;
	__u64 bytes_written;
	char err[256];
};

static void chunk_reset(struct capture_writer *w)
{
	w->len = 0;
	w->chunk_events = 0;
	w->base_ts = 0;
	w->prev_ts = 0;
	w->prev_addr = 0;
	w->nthreads = 0;
	w->last_thread = 0;
	w->naddrs = 0;
}

/* A short write is retried; a partial record left by an error is tail damage to readers. */
static int write_all(struct capture_writer *w, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			w->failed = -errno;
			/* Cut off the partial record, so that the file ends where a
			 * record does and an end record may still follow (disk full). */
			w->cut = !ftruncate(w->fd, (off_t)w->bytes_written) &&
				 lseek(w->fd, (off_t)w->bytes_written, SEEK_SET) >= 0;
			snprintf(w->err, sizeof(w->err),
				 "write failed after %llu events safely written: %s",
				 (unsigned long long)w->events_written, strerror(errno));
			return w->failed;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

struct capture_writer *capture_writer__open_fd(int fd, const struct trace_meta *meta,
					       const struct capture_writer_opts *opts,
					       char *err, size_t errlen)
{
	unsigned char hdr[CAPTURE_HDR_ENCODED_MAX];
	struct capture_writer *w = calloc(1, sizeof(*w));
	__u32 chunk = opts && opts->chunk_bytes ? opts->chunk_bytes : CHUNK_DEFAULT;
	int e;

	if (chunk < CHUNK_MIN)
		chunk = CHUNK_MIN;
	if (chunk > CAPTURE_MAX_PAYLOAD - CHUNK_HDR_LEN)
		chunk = CAPTURE_MAX_PAYLOAD - CHUNK_HDR_LEN;
	if (w)
		w->buf = malloc(FRAME_LEN + CHUNK_HDR_LEN + chunk);
	if (!w || !w->buf) {
		e = ENOMEM;
		snprintf(err, errlen, "cannot allocate capture writer: %s", strerror(e));
		goto fail;
	}
	w->fd = fd;
	w->chunk_bytes = chunk;
	w->max_bytes = opts ? opts->max_bytes : 0;
	chunk_reset(w);

	w->blame = opts && opts->blame;
	size_t n = capture_header__encode(meta, w->blame ? CAPTURE_VERSION : CAPTURE_VERSION_PLAIN,
					  hdr);
	if (w->max_bytes && n + END_MAX > w->max_bytes) {
		e = EFBIG;
		snprintf(err, errlen, "size limit of %llu bytes is too small for a capture",
			 (unsigned long long)w->max_bytes);
		goto fail;
	}
	if (write_all(w, hdr, n)) {
		e = -w->failed;
		snprintf(err, errlen, "cannot write capture header: %s", strerror(e));
		goto fail;
	}
	w->bytes_written = n;
	return w;
fail:
	if (w)
		free(w->buf);
	free(w);
	close(fd);
	errno = e;
	return NULL;
}

struct capture_writer *capture_writer__open(const char *path, const struct trace_meta *meta,
					    int flags, const struct capture_writer_opts *opts,
					    char *err, size_t errlen)
{
	int oflags = O_CREAT | O_NOFOLLOW | O_WRONLY | O_CLOEXEC;
	struct stat st;
	int fd, e;

	/*
	 * O_EXCL refuses symlinks too; O_NOFOLLOW keeps --force from writing
	 * through one, and O_NONBLOCK from hanging on a FIFO it would refuse.
	 */
	oflags |= (flags & CAPTURE_WRITER_FORCE) ? O_TRUNC | O_NONBLOCK : O_EXCL;
	fd = open(path, oflags, 0600);
	if (fd < 0) {
		e = errno;
		if (e == EEXIST)
			snprintf(err, errlen, "cannot create capture %s: file exists", path);
		else if (e == ELOOP)
			snprintf(err, errlen, "cannot create capture %s: it is a symbolic link", path);
		else
			snprintf(err, errlen, "cannot create capture %s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	/* an overwritten file keeps its old mode otherwise */
	e = 0;
	if (fstat(fd, &st))
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if (fchmod(fd, 0600) || fcntl(fd, F_SETFL, 0))
		e = errno;
	else if (opts && opts->chown && fchown(fd, opts->uid, opts->gid))
		e = errno;
	if (e) {
		snprintf(err, errlen, "cannot create capture %s: %s", path,
			 e == EINVAL ? "not a regular file" : strerror(e));
		close(fd);
		errno = e;
		return NULL;
	}
	return capture_writer__open_fd(fd, meta, opts, err, errlen);
}

int capture_writer__flush(struct capture_writer *w)
{
	if (w->failed)
		return w->failed;
	if (!w->len)
		return 0;

	__u32 plen = CHUNK_HDR_LEN + (__u32)w->len;
	le32__put(w->buf + FRAME_LEN, w->chunk_events);
	le64__put(w->buf + FRAME_LEN + 4, w->base_ts);
	frame__seal(w->buf, REC_CHUNK, plen);
	int err = write_all(w, w->buf, FRAME_LEN + plen);
	if (err)
		return err;
	w->events_written += w->chunk_events;
	w->bytes_written += FRAME_LEN + plen;
	chunk_reset(w);
	return 0;
}

/* The next record would not fit under --max-size: writes out the buffered
 * chunk (which always fits) and accepts nothing more. */
static int stop_at_limit(struct capture_writer *w)
{
	int err = capture_writer__flush(w);

	if (err)
		return err;
	w->limited = true;
	snprintf(w->err, sizeof(w->err), "size limit of %llu bytes reached",
		 (unsigned long long)w->max_bytes);
	return -EFBIG;
}

/*
 * Makes room for one entry: flushes a full chunk, and refuses the entry when
 * the chunk it would go in could not be written with the end record after
 * it. Because every accepted entry passed this test, the buffered chunk
 * always still fits.
 */
static int reserve(struct capture_writer *w)
{
	if (w->failed)
		return w->failed;
	if (w->limited)
		return -EFBIG;
	if (w->len + ENTRY_MAX > w->chunk_bytes) {
		int err = capture_writer__flush(w);
		if (err)
			return err;
	}
	if (w->max_bytes &&
	    w->bytes_written + FRAME_LEN + CHUNK_HDR_LEN + w->len + ENTRY_MAX + END_MAX > w->max_bytes)
		return stop_at_limit(w);
	return 0;
}

static unsigned char *put_thread(struct capture_writer *w, unsigned char *p, __u32 tgid,
				 __u32 tid, __u16 cpu, unsigned char *tag)
{
	unsigned i = w->last_thread;

	if (i >= w->nthreads || w->threads[i].tid != tid || w->threads[i].tgid != tgid) {
		for (i = 0; i < w->nthreads; i++)
			if (w->threads[i].tid == tid && w->threads[i].tgid == tgid)
				break;
	}
	if (i < w->nthreads) {
		w->last_thread = i;
		p = varint__put(p, i + 1);
		if (w->threads[i].cpu != cpu) {
			*tag |= ENT_CPU;
			w->threads[i].cpu = cpu;
		}
		return p;
	}
	/* a new thread always carries its cpu: there is no previous one */
	*tag |= ENT_CPU;
	p = varint__put(p, 0);
	p = varint__put(p, tgid);
	p = varint__put(p, tid);
	if (w->nthreads < CHUNK_MAX_THREADS) {
		w->threads[w->nthreads] = (struct thread_slot){ tgid, tid, cpu };
		w->last_thread = w->nthreads++;
	}
	return p;
}

static unsigned char *put_addr(struct capture_writer *w, unsigned char *p, __u64 addr,
			       unsigned char *tag)
{
	unsigned i;

	if (addr == w->prev_addr)
		return p;
	*tag |= ENT_ADDR;
	w->prev_addr = addr;
	for (i = 0; i < w->naddrs; i++)
		if (w->addrs[i] == addr)
			return varint__put(p, i + 1);
	p = varint__put(p, 0);
	p = varint__put(p, addr);
	if (w->naddrs < CHUNK_MAX_ADDRS)
		w->addrs[w->naddrs++] = addr;
	return p;
}

int capture_writer__add_event(struct capture_writer *w, const struct gil_event *ev)
{
	if (ev->kind == 0 || ev->kind >= GIL_EV__MAX) {
		snprintf(w->err, sizeof(w->err), "event kind %u out of range", ev->kind);
		return -EINVAL;
	}
	int err = reserve(w);
	if (err)
		return err;

	unsigned char *start = w->buf + FRAME_LEN + CHUNK_HDR_LEN + w->len;
	unsigned char *p = start + 1;
	unsigned char tag = ev->kind < ENT_KIND_EXT ? (unsigned char)ev->kind : ENT_KIND_EXT;

	if (tag == ENT_KIND_EXT)
		p = varint__put(p, ev->kind);
	if (!w->chunk_events) {
		w->base_ts = ev->ts;
		w->prev_ts = ev->ts;
	}
	/* wraps modulo 2^64 both ways, so any pair of timestamps round-trips */
	p = varint__put(p, zigzag__enc64((__s64)(ev->ts - w->prev_ts)));
	w->prev_ts = ev->ts;
	p = put_thread(w, p, ev->tgid, ev->tid, ev->cpu, &tag);
	if (tag & ENT_CPU)
		p = varint__put(p, ev->cpu);
	p = put_addr(w, p, ev->addr, &tag);
	if (ev->value) {
		tag |= ENT_VALUE;
		p = varint__put(p, ev->value);
	}
	if (ev->ret) {
		tag |= ENT_RET;
		p = varint__put(p, zigzag__enc64(ev->ret));
	}
	*start = tag;
	w->len += (size_t)(p - start);
	w->chunk_events++;
	return 0;
}

int capture_writer__name_thread(struct capture_writer *w, __u32 tgid, __u32 tid,
				const char *name)
{
	int err = reserve(w);
	if (err)
		return err;

	size_t n = strnlen(name, CAPTURE_NAME_MAX - 1);
	unsigned char *start = w->buf + FRAME_LEN + CHUNK_HDR_LEN + w->len;
	unsigned char *p = start;

	*p++ = ENT_KIND_NAME;
	p = varint__put(p, tgid);
	p = varint__put(p, tid);
	p = varint__put(p, n);
	memcpy(p, name, n);
	p += n;
	w->len += (size_t)(p - start);
	w->names_written++;
	return 0;
}

static unsigned char *put_str(unsigned char *p, const char *s)
{
	size_t n = strnlen(s ? s : "", STACK_STR_MAX);

	p = varint__put(p, n);
	memcpy(p, s ? s : "", n);
	return p + n;
}

int capture_writer__add_stack(struct capture_writer *w, __u32 tgid, __u64 id, __u32 flags,
			      const struct blame_frame *frames, unsigned int nframes)
{
	size_t max, len;
	unsigned char *rec, *p;
	int err;

	if (!w->blame || nframes > BLAME_MAX_FRAMES)
		return -EINVAL;
	if (w->failed)
		return w->failed;
	if (w->limited)
		return -EFBIG;
	max = FRAME_LEN + 4 * VARINT_MAX + nframes * (3 * VARINT_MAX + 2 * STACK_STR_MAX);
	rec = malloc(max);
	if (!rec)
		return -ENOMEM;
	p = rec + FRAME_LEN;
	p = varint__put(p, tgid);
	p = varint__put(p, id);
	p = varint__put(p, flags);
	p = varint__put(p, nframes);
	for (unsigned int i = 0; i < nframes; i++) {
		p = varint__put(p, frames[i].line);
		p = put_str(p, frames[i].name);
		p = put_str(p, frames[i].file);
	}
	len = (size_t)(p - rec);
	/* The buffered chunk and the end record must still fit after it. */
	if (w->max_bytes && w->bytes_written + len + FRAME_LEN + CHUNK_HDR_LEN + w->len + END_MAX >
				    w->max_bytes) {
		free(rec);
		return stop_at_limit(w);
	}
	frame__seal(rec, REC_STACK, (__u32)(len - FRAME_LEN));
	err = write_all(w, rec, len);
	free(rec);
	if (!err)
		w->bytes_written += len;
	return err;
}

static int write_end(struct capture_writer *w)
{
	unsigned char rec[END_MAX];
	unsigned char *p = rec + FRAME_LEN;

	p = varint__put(p, w->events_written);
	p = varint__put(p, w->names_written);
	p = varint__put(p, w->limited ? END_SIZE_LIMIT : 0);
	frame__seal(rec, REC_END, (__u32)(p - rec - FRAME_LEN));
	int err = write_all(w, rec, (size_t)(p - rec));
	if (!err)
		w->bytes_written += (size_t)(p - rec);
	return err;
}

int capture_writer__close(struct capture_writer *w, char *err, size_t errlen)
{
	int ret = w->failed;

	/* Out of space: what is buffered cannot go, but the end record is
	 * small and the cut made room, so the file can still end complete. */
	if ((ret == -ENOSPC || ret == -EDQUOT) && w->cut) {
		chunk_reset(w);
		w->failed = 0;
		w->limited = true;
		ret = write_end(w);
	} else {
		if (!ret)
			ret = capture_writer__flush(w);
		if (!ret)
			ret = write_end(w);
	}
	/* EINVAL: the descriptor (a pipe, say) cannot be synced, which is not a loss */
	if (!ret && fsync(w->fd) && errno != EINVAL && errno != EROFS) {
		ret = -errno;
		snprintf(w->err, sizeof(w->err), "cannot sync capture: %s", strerror(errno));
	}
	if (close(w->fd) && !ret) {
		ret = -errno;
		snprintf(w->err, sizeof(w->err), "cannot close capture: %s", strerror(errno));
	}
	if (ret)
		snprintf(err, errlen, "%s", w->err);
	free(w->buf);
	free(w);
	return ret;
}

__u64 capture_writer__events_written(const struct capture_writer *w)
{
	return w->events_written;
}

__u64 capture_writer__bytes_written(const struct capture_writer *w)
{
	return w->bytes_written;
}

const char *capture_writer__error(const struct capture_writer *w)
{
	return w->err;
}
