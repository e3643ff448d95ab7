/*
 * Capture reader. The file is read in large blocks into one buffer that
 * always holds at least one whole record, so chunks are decoded in place:
 * no copy, no syscall and no allocation per event.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/format.h"
#include "capture/header.h"
#include "capture/reader.h"
#include "capture/varint.h"
#include "util/safe_text.h"

_Static_assert(CAPTURE_THREAD_NAME_MAX == CAPTURE_NAME_MAX, "name limits agree");

/*
 * The buffer starts large enough for the writer's default 64 KiB chunks and
 * doubles up to two of the largest records the format allows, so a refill
 * never moves more than one record.
 */
#define READ_BUF_START (128 * 1024)
#define READ_BUF_MAX (2 * (FRAME_LEN + CAPTURE_MAX_PAYLOAD))

enum reader_state { R_RUN, R_DONE, R_FAILED };

struct capture_reader {
	int fd;
	unsigned char *buf;
	size_t cap;
	size_t pos, end; /* unread bytes are buf[pos, end) */
	__u64 buf_off;   /* file offset of buf[0] */
	bool eof;

	/* the chunk being decoded, in place in buf */
	bool in_chunk;
	const unsigned char *p, *pend;
	__u64 chunk_off;
	__u32 chunk_events, decoded;
	__u64 prev_ts, prev_addr;
	struct {
		__u32 tgid, tid;
		__u16 cpu;
	} threads[CHUNK_MAX_THREADS];
	unsigned nthreads;
	__u64 addrs[CHUNK_MAX_ADDRS];
	unsigned naddrs;

	/* the last stack record, decoded out of buf */
	struct blame_frame frames[BLAME_MAX_FRAMES];
	char *strs;
	size_t strs_cap;

	enum reader_state state;
	int failed;
	struct trace_meta meta;
	struct capture_status st;
	char err[256];
};

/* Makes need bytes available at pos if the file has them; returns how many are. */
static int fill(struct capture_reader *r, size_t need, size_t *avail)
{
	if (r->pos + need > r->cap) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->buf_off += r->pos;
		r->end -= r->pos;
		r->pos = 0;
	}
	if (need > r->cap) {
		size_t cap = 2 * need < READ_BUF_MAX ? 2 * need : READ_BUF_MAX;
		unsigned char *buf = realloc(r->buf, cap);
		if (!buf) {
			snprintf(r->err, sizeof(r->err), "cannot read capture: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		r->buf = buf;
		r->cap = cap;
	}
	while (r->end - r->pos < need && !r->eof) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno ? errno : EIO;
			snprintf(r->err, sizeof(r->err), "cannot read capture: %s", strerror(e));
			return -e;
		}
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
	*avail = r->end - r->pos;
	return 0;
}

static int fail(struct capture_reader *r, int err)
{
	r->state = R_FAILED;
	r->failed = err;
	r->in_chunk = false;
	return err;
}

static int corrupt(struct capture_reader *r, const char *why)
{
	snprintf(r->err, sizeof(r->err), "corrupt chunk at byte %llu: event %u: %s",
		 (unsigned long long)r->chunk_off, r->decoded, why);
	return fail(r, -EBADMSG);
}

static int open_header(struct capture_reader *r, char *err, size_t errlen)
{
	size_t avail = 0;
	int ret = fill(r, CAPTURE_HDR_FIXED, &avail);

	if (ret) {
		snprintf(err, errlen, "%s", r->err);
		return ret;
	}
	if (!avail) {
		snprintf(err, errlen, "not a giltrace capture (empty file)");
		return -EBADMSG;
	}
	if (memcmp(r->buf, CAPTURE_MAGIC, avail < CAPTURE_MAGIC_LEN ? avail : CAPTURE_MAGIC_LEN)) {
		snprintf(err, errlen, "not a giltrace capture");
		return -EBADMSG;
	}
	if (avail < CAPTURE_HDR_FIXED) {
		snprintf(err, errlen, "truncated capture header (%zu of at least %d bytes)", avail,
			 CAPTURE_HDR_FIXED);
		return -EBADMSG;
	}
	unsigned version = le16__get(r->buf + 8);
	if (version > CAPTURE_VERSION) {
		snprintf(err, errlen, "capture format version %u is newer than this giltrace (%d)",
			 version, CAPTURE_VERSION);
		return -EPROTONOSUPPORT;
	}
	__u32 hlen = le32__get(r->buf + 12);
	if (version == 0 || hlen < CAPTURE_HDR_FIXED + 4 || hlen > CAPTURE_HDR_MAX) {
		snprintf(err, errlen, "capture header is corrupt (version %u, length %u)", version,
			 hlen);
		return -EBADMSG;
	}
	if ((ret = fill(r, hlen, &avail))) {
		snprintf(err, errlen, "%s", r->err);
		return ret;
	}
	if (avail < hlen) {
		snprintf(err, errlen, "truncated capture header (%zu of %u bytes)", avail, hlen);
		return -EBADMSG;
	}
	ret = capture_header__decode(r->buf, hlen, &r->meta, err, errlen);
	r->pos = hlen;
	return ret;
}

struct capture_reader *capture_reader__open_fd(int fd, char *err, size_t errlen)
{
	struct capture_reader *r = calloc(1, sizeof(*r));
	int ret;

	if (r)
		r->buf = malloc(READ_BUF_START);
	if (!r || !r->buf) {
		if (r)
			free(r);
		close(fd);
		snprintf(err, errlen, "cannot allocate capture reader: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	r->fd = fd;
	r->cap = READ_BUF_START;
	ret = open_header(r, err, errlen);
	if (ret) {
		capture_reader__free(r);
		errno = -ret;
		return NULL;
	}
	return r;
}

struct capture_reader *capture_reader__open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s", strerror(e));
		errno = e;
		return NULL;
	}
	return capture_reader__open_fd(fd, err, errlen);
}

void capture_reader__free(struct capture_reader *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r->buf);
	free(r->strs);
	free(r);
}

const struct trace_meta *capture_reader__meta(const struct capture_reader *r)
{
	return &r->meta;
}

const struct capture_status *capture_reader__status(const struct capture_reader *r)
{
	return &r->st;
}

const char *capture_reader__error(const struct capture_reader *r)
{
	return r->err;
}

static int decode_name(struct capture_reader *r, const unsigned char *p, const unsigned char *e,
		       struct capture_record *out)
{
	__u64 tgid, tid, n;

	if (!(p = varint__get(p, e, &tgid)) || !(p = varint__get(p, e, &tid)) ||
	    !(p = varint__get(p, e, &n)))
		return corrupt(r, "bad varint");
	if (tgid > UINT32_MAX || tid > UINT32_MAX)
		return corrupt(r, "thread id out of range");
	if (n >= CAPTURE_THREAD_NAME_MAX || n > (__u64)(e - p))
		return corrupt(r, "bad thread name length");
	out->kind = CAPTURE_REC_THREAD_NAME;
	out->thread.tgid = (__u32)tgid;
	out->thread.tid = (__u32)tid;
	memcpy(out->thread.name, p, n);
	out->thread.name[n] = '\0';
	safe_text__clean(out->thread.name); /* a capture may come from anywhere */
	r->p = p + n;
	r->st.thread_names++;
	return 1;
}

static int decode_entry(struct capture_reader *r, struct capture_record *out)
{
	const unsigned char *p = r->p, *e = r->pend;
	unsigned tag = *p++;
	__u64 kind = tag & ENT_KIND_MASK, dts, v, tgid, tid, cpu, addr, value = 0, ret = 0;
	unsigned slot;

	if (kind == ENT_KIND_NAME) {
		if (tag != ENT_KIND_NAME)
			return corrupt(r, "flags on a thread name");
		return decode_name(r, p, e, out);
	}
	if (kind == ENT_KIND_EXT && !(p = varint__get(p, e, &kind)))
		return corrupt(r, "bad varint");
	if (kind == 0 || kind >= GIL_EV__MAX) {
		char why[48];
		snprintf(why, sizeof(why), "kind %llu out of range", (unsigned long long)kind);
		return corrupt(r, why);
	}
	if (r->decoded >= r->chunk_events)
		return corrupt(r, "more events than the chunk header says");
	if (!(p = varint__get(p, e, &dts)) || !(p = varint__get(p, e, &v)))
		return corrupt(r, "bad varint");
	if (v == 0) {
		if (!(p = varint__get(p, e, &tgid)) || !(p = varint__get(p, e, &tid)))
			return corrupt(r, "bad varint");
		if (tgid > UINT32_MAX || tid > UINT32_MAX)
			return corrupt(r, "thread id out of range");
		if (!(tag & ENT_CPU))
			return corrupt(r, "new thread without a cpu");
		slot = r->nthreads < CHUNK_MAX_THREADS ? r->nthreads++ : CHUNK_MAX_THREADS;
		if (slot < CHUNK_MAX_THREADS) {
			r->threads[slot].tgid = (__u32)tgid;
			r->threads[slot].tid = (__u32)tid;
		}
	} else {
		if (v > r->nthreads)
			return corrupt(r, "unknown thread reference");
		slot = (unsigned)(v - 1);
		tgid = r->threads[slot].tgid;
		tid = r->threads[slot].tid;
	}
	if (tag & ENT_CPU) {
		if (!(p = varint__get(p, e, &cpu)))
			return corrupt(r, "bad varint");
		if (cpu > UINT16_MAX)
			return corrupt(r, "cpu out of range");
		if (slot < CHUNK_MAX_THREADS)
			r->threads[slot].cpu = (__u16)cpu;
	} else {
		cpu = r->threads[slot].cpu;
	}
	if (tag & ENT_ADDR) {
		if (!(p = varint__get(p, e, &v)))
			return corrupt(r, "bad varint");
		if (v == 0) {
			if (!(p = varint__get(p, e, &addr)))
				return corrupt(r, "bad varint");
			if (r->naddrs < CHUNK_MAX_ADDRS)
				r->addrs[r->naddrs++] = addr;
		} else if (v <= r->naddrs) {
			addr = r->addrs[v - 1];
		} else {
			return corrupt(r, "unknown address reference");
		}
		r->prev_addr = addr;
	} else {
		addr = r->prev_addr;
	}
	if ((tag & ENT_VALUE) && !(p = varint__get(p, e, &value)))
		return corrupt(r, "bad varint");
	if (tag & ENT_RET) {
		if (!(p = varint__get(p, e, &ret)))
			return corrupt(r, "bad varint");
		if (ret > UINT32_MAX)
			return corrupt(r, "ret out of range");
	}

	r->prev_ts += (__u64)zigzag__dec64(dts);
	out->kind = CAPTURE_REC_EVENT;
	out->event.ts = r->prev_ts;
	out->event.addr = addr;
	out->event.value = value;
	out->event.tgid = (__u32)tgid;
	out->event.tid = (__u32)tid;
	out->event.ret = (__s32)zigzag__dec64(ret);
	out->event.cpu = (__u16)cpu;
	out->event.kind = (__u16)kind;
	r->p = p;
	r->decoded++;
	r->st.events++;
	return 1;
}

static int read_end(struct capture_reader *r, const unsigned char *p, const unsigned char *e)
{
	__u64 events, names, flags;
	size_t avail = 0;

	if (!(p = varint__get(p, e, &events)) || !(p = varint__get(p, e, &names)) ||
	    !varint__get(p, e, &flags)) {
		snprintf(r->err, sizeof(r->err), "corrupt end record at byte %llu",
			 (unsigned long long)r->chunk_off);
		return fail(r, -EBADMSG);
	}
	r->st.clean_end = true;
	r->st.end_events = events;
	r->st.size_limited = flags & END_SIZE_LIMIT;
	/* nothing belongs after the end record: count it as skipped */
	do {
		r->st.bytes_skipped += r->end - r->pos;
		r->pos = r->end;
		int ret = fill(r, 1, &avail);
		if (ret)
			return fail(r, ret);
	} while (avail);
	r->state = R_DONE;
	return 0;
}

/* Copies n bytes at p as a NUL-terminated string at strs + *used. */
static const char *take_str(struct capture_reader *r, const unsigned char **pp,
			    const unsigned char *e, size_t *used)
{
	const unsigned char *p = *pp;
	__u64 n;
	char *s;

	if (!(p = varint__get(p, e, &n)) || n > STACK_STR_MAX || n > (__u64)(e - p))
		return NULL;
	s = r->strs + *used;
	memcpy(s, p, n);
	s[n] = '\0';
	safe_text__copy(s, n + 1, s); /* a capture may come from anywhere */
	*used += n + 1;
	*pp = p + n;
	return s;
}

/* A stack record whose CRC matched: decoded into the reader's own storage. */
static int read_stack(struct capture_reader *r, const unsigned char *p, const unsigned char *e,
		      struct capture_record *out)
{
	__u64 tgid, id, flags, n, line;
	size_t used = 0, need = (size_t)(e - p) + BLAME_MAX_FRAMES * 2;

	if (need > r->strs_cap) {
		char *s = realloc(r->strs, need);

		if (!s)
			return fail(r, -ENOMEM);
		r->strs = s;
		r->strs_cap = need;
	}
	if (!(p = varint__get(p, e, &tgid)) || !(p = varint__get(p, e, &id)) ||
	    !(p = varint__get(p, e, &flags)) || !(p = varint__get(p, e, &n)) ||
	    tgid > UINT32_MAX || flags > UINT32_MAX || n > BLAME_MAX_FRAMES)
		goto bad;
	for (__u64 i = 0; i < n; i++) {
		if (!(p = varint__get(p, e, &line)) || line > UINT32_MAX)
			goto bad;
		r->frames[i].line = (__u32)line;
		if (!(r->frames[i].name = take_str(r, &p, e, &used)) ||
		    !(r->frames[i].file = take_str(r, &p, e, &used)))
			goto bad;
	}
	out->kind = CAPTURE_REC_STACK;
	out->stack.tgid = (__u32)tgid;
	out->stack.id = id;
	out->stack.flags = (__u32)flags;
	out->stack.nframes = (unsigned int)n;
	out->stack.frames = r->frames;
	r->st.stacks++;
	return 1;
bad:
	snprintf(r->err, sizeof(r->err), "corrupt stack record at byte %llu",
		 (unsigned long long)r->chunk_off);
	return fail(r, -EBADMSG);
}

/* Sets up the decoding of a chunk whose CRC matched. */
static int start_chunk(struct capture_reader *r, const unsigned char *payload, __u32 len)
{
	if (len < CHUNK_HDR_LEN) {
		snprintf(r->err, sizeof(r->err), "corrupt chunk at byte %llu: %u bytes long",
			 (unsigned long long)r->chunk_off, len);
		return fail(r, -EBADMSG);
	}
	r->chunk_events = le32__get(payload);
	r->prev_ts = le64__get(payload + 4);
	r->p = payload + CHUNK_HDR_LEN;
	r->pend = payload + len;
	r->decoded = 0;
	r->prev_addr = 0;
	r->nthreads = 0;
	r->naddrs = 0;
	r->in_chunk = true;
	r->st.chunks++;
	return 0;
}

int capture_reader__next(struct capture_reader *r, struct capture_record *out)
{
	size_t avail = 0;
	int ret;

	for (;;) {
		if (r->in_chunk) {
			if (r->p < r->pend)
				return decode_entry(r, out);
			if (r->decoded != r->chunk_events)
				return corrupt(r, "fewer events than the chunk header says");
			r->in_chunk = false;
		}
		if (r->state == R_DONE)
			return 0;
		if (r->state == R_FAILED)
			return r->failed;

		if ((ret = fill(r, FRAME_LEN, &avail)))
			return fail(r, ret);
		if (avail < FRAME_LEN) {
			/* a cut inside a frame: the tail is lost */
			r->st.bytes_skipped += avail;
			r->pos = r->end;
			r->state = R_DONE;
			return 0;
		}
		if (!frame__valid(r->buf + r->pos)) {
			/* damage: look for the next frame that checks out */
			const unsigned char *g = memchr(r->buf + r->pos + 1, FRAME_SYNC0,
							 r->end - r->pos - 1);
			size_t skip = g ? (size_t)(g - (r->buf + r->pos)) : r->end - r->pos;
			r->st.bytes_skipped += skip;
			r->pos += skip;
			continue;
		}
		__u32 len = le32__get(r->buf + r->pos + 4);
		if ((ret = fill(r, FRAME_LEN + (size_t)len, &avail)))
			return fail(r, ret);
		if (avail < FRAME_LEN + (size_t)len) {
			/* a cut inside a record */
			r->st.bytes_skipped += avail;
			r->pos = r->end;
			r->state = R_DONE;
			return 0;
		}
		const unsigned char *f = r->buf + r->pos, *payload = f + FRAME_LEN;
		if (!frame__payload_ok(f, payload)) {
			r->st.bad_chunks++;
			r->st.bytes_skipped += FRAME_LEN + (size_t)len;
			r->pos += FRAME_LEN + (size_t)len;
			continue;
		}
		r->chunk_off = r->buf_off + r->pos;
		r->pos += FRAME_LEN + (size_t)len;
		switch (f[3]) {
		case REC_CHUNK:
			if ((ret = start_chunk(r, payload, len)))
				return ret;
			break;
		case REC_END:
			if ((ret = read_end(r, payload, payload + len)))
				return ret;
			return 0;
		case REC_STACK:
			return read_stack(r, payload, payload + len, out);
		default:
			r->st.unknown_records++;
			break;
		}
	}
}
