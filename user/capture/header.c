/*
 * The capture header and record frames. The header body is a list of
 * tag-length-value fields so later versions can add fields that older
 * readers skip without a version bump.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "capture/format.h"
#include "capture/header.h"
#include "capture/varint.h"
#include "util/safe_text.h"

/* The string fields of the header: one row each, for the encoder and the
 * decoder alike. */
static const struct {
	unsigned tag;
	size_t off, size; /* the char array in struct trace_meta */
} str_fields[] = {
	{ HDR_COMM, offsetof(struct trace_meta, comm), sizeof(((struct trace_meta *)0)->comm) },
	{ HDR_EXE, offsetof(struct trace_meta, exe), sizeof(((struct trace_meta *)0)->exe) },
	{ HDR_RUNTIME, offsetof(struct trace_meta, runtime),
	  sizeof(((struct trace_meta *)0)->runtime) },
	{ HDR_VERSION, offsetof(struct trace_meta, version),
	  sizeof(((struct trace_meta *)0)->version) },
	{ HDR_MODE, offsetof(struct trace_meta, mode), sizeof(((struct trace_meta *)0)->mode) },
	{ HDR_KERNEL, offsetof(struct trace_meta, kernel), sizeof(((struct trace_meta *)0)->kernel) },
	{ HDR_NOTE, offsetof(struct trace_meta, note), sizeof(((struct trace_meta *)0)->note) },
};

#define NSTR_FIELDS (sizeof(str_fields) / sizeof(str_fields[0]))

static unsigned char *put_u64_field(unsigned char *p, unsigned tag, __u64 v)
{
	unsigned char tmp[VARINT_MAX];
	size_t n = (size_t)(varint__put(tmp, v) - tmp);

	p = varint__put(p, tag);
	p = varint__put(p, n);
	memcpy(p, tmp, n);
	return p + n;
}

/* meta strings may fill their array with no NUL */
static unsigned char *put_str_field(unsigned char *p, unsigned tag, const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	p = varint__put(p, tag);
	p = varint__put(p, n);
	memcpy(p, s, n);
	return p + n;
}

size_t capture_header__encode(const struct trace_meta *meta, unsigned version, unsigned char *buf)
{
	unsigned char *p = buf + CAPTURE_HDR_FIXED;

	/* the magic is bytes, not a string: no NUL */
	memcpy(buf, CAPTURE_MAGIC, CAPTURE_MAGIC_LEN); // NOLINT(bugprone-not-null-terminated-result)
	le16__put(buf + 8, (__u16)version);
	le16__put(buf + 10, 0);
	p = put_u64_field(p, HDR_PID, meta->pid);
	p = put_u64_field(p, HDR_NCPUS, meta->ncpus);
	p = put_u64_field(p, HDR_MONO_TO_WALL, meta->mono_to_wall_ns);
	for (size_t i = 0; i < NSTR_FIELDS; i++)
		p = put_str_field(p, str_fields[i].tag, (const char *)meta + str_fields[i].off,
				  str_fields[i].size);

	size_t len = (size_t)(p - buf) + 4;
	le32__put(buf + 12, (__u32)len);
	le32__put(p, (__u32)crc32(0, buf, (uInt)(len - 4)));
	return len;
}

static void get_str(char *dst, size_t size, const unsigned char *v, size_t n)
{
	/* a longer string from a newer writer is cut, not refused */
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	safe_text__copy(dst, size, dst); /* a capture may come from anywhere */
}

static int get_uint(const unsigned char *v, size_t n, __u64 max, __u64 *out)
{
	const unsigned char *end = varint__get(v, v + n, out);

	return end && *out <= max ? 0 : -1;
}

int capture_header__decode(const unsigned char *buf, size_t len, struct trace_meta *meta,
			   char *err, size_t errlen)
{
	const unsigned char *p = buf + CAPTURE_HDR_FIXED, *end = buf + len - 4;
	__u64 tag, n, v = 0;

	memset(meta, 0, sizeof(*meta));
	if (le32__get(end) != (__u32)crc32(0, buf, (uInt)(len - 4))) {
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		snprintf(err, errlen, "capture header is corrupt (checksum mismatch)");
		return -EBADMSG;
#endif
	}
	while (p < end) {
		p = varint__get(p, end, &tag);
		if (p)
			p = varint__get(p, end, &n);
		if (!p || n > (__u64)(end - p)) {
			snprintf(err, errlen, "capture header is corrupt (bad field at byte %zu)",
				 p ? (size_t)(p - buf) : len);
			return -EBADMSG;
		}
		int bad = 0;
		switch (tag) {
		case HDR_PID:
			bad = get_uint(p, n, UINT32_MAX, &v);
			meta->pid = (__u32)v;
			break;
		case HDR_NCPUS:
			bad = get_uint(p, n, UINT32_MAX, &v);
			meta->ncpus = (__u32)v;
			break;
		case HDR_MONO_TO_WALL:
			bad = get_uint(p, n, UINT64_MAX, &v);
			meta->mono_to_wall_ns = v;
			break;
		default:
			for (size_t i = 0; i < NSTR_FIELDS; i++)
				if (str_fields[i].tag == tag)
					get_str((char *)meta + str_fields[i].off, str_fields[i].size,
						p, n);
			break;
		}
		if (bad) {
			snprintf(err, errlen, "capture header is corrupt (field %llu out of range)",
				 (unsigned long long)tag);
			return -EBADMSG;
		}
		p += n;
	}
	return 0;
}

void frame__seal(unsigned char *frame, char type, __u32 len)
{
	frame[0] = FRAME_SYNC0;
	frame[1] = FRAME_SYNC1;
	frame[2] = FRAME_SYNC2;
	frame[3] = (unsigned char)type;
	le32__put(frame + 4, len);
	le32__put(frame + 8, (__u32)crc32(0, frame + FRAME_LEN, len));
	le32__put(frame + 12, (__u32)crc32(0, frame, 12));
}

bool frame__valid(const unsigned char *frame)
{
	if (frame[0] != FRAME_SYNC0 || frame[1] != FRAME_SYNC1 || frame[2] != FRAME_SYNC2)
		return false;
	if (le32__get(frame + 4) > CAPTURE_MAX_PAYLOAD)
		return false;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* let the fuzzer reach the decoders instead of stopping at checksums */
	return true;
#else
	return le32__get(frame + 12) == (__u32)crc32(0, frame, 12);
#endif
}

bool frame__payload_ok(const unsigned char *frame, const unsigned char *payload)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	(void)frame;
	(void)payload;
	return true;
#else
	return le32__get(frame + 8) == (__u32)crc32(0, payload, le32__get(frame + 4));
#endif
}
