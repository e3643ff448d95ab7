/*
 * Constants of the capture file format shared by writer and reader; the
 * prose description is docs/capture-format.md, which must change with this
 * file. Multi-byte fixed fields are little-endian.
 */
#ifndef GILTRACE_CAPTURE_FORMAT_H
#define GILTRACE_CAPTURE_FORMAT_H

#include <stddef.h>
#include <string.h>
#include <linux/types.h>

#define CAPTURE_MAGIC "GILTRACE"
#define CAPTURE_MAGIC_LEN 8
/* The newest version this giltrace reads and the one record writes: 3
 * adds HOLDER_FRAME (kind 20, every CPython 3 trace), which readers of 2
 * would take for damage; 2 added blame (HOLDER_STACK, stack records). The
 * writer without stack records (opts->blame false) still writes 1. */
#define CAPTURE_VERSION 3
#define CAPTURE_VERSION_PLAIN 1

/* magic, u16 version, u16 reserved, u32 header length; the body follows */
#define CAPTURE_HDR_FIXED 16
/* Bounds what a reader allocates for a header before its CRC is checked. */
#define CAPTURE_HDR_MAX 65536

/* Header body fields: varint tag, varint length, value. Unknown tags are skipped. */
enum capture_hdr_tag {
	HDR_PID = 1,
	HDR_NCPUS = 2,
	HDR_MONO_TO_WALL = 3,
	HDR_COMM = 4,
	HDR_EXE = 5,
	HDR_RUNTIME = 6,
	HDR_VERSION = 7,
	HDR_MODE = 8,
	HDR_KERNEL = 9,
	HDR_NOTE = 10,
};

/*
 * Every record after the header starts with a 16-byte frame:
 *   'G' 'T' 'R' type | u32 payload length | u32 CRC32(payload) | u32 CRC32(first 12 bytes)
 * The frame's own CRC lets a reader trust the length before reading the
 * payload, and lets it find the next record after damage.
 */
#define FRAME_LEN 16
#define FRAME_SYNC0 'G'
#define FRAME_SYNC1 'T'
#define FRAME_SYNC2 'R'
#define REC_CHUNK 'E'
#define REC_END 'Z'
#define REC_STACK 'S' /* blame: one resolved holder stack (version 2) */
/* Writers stay far below this; readers reject larger frames as damage. */
#define CAPTURE_MAX_PAYLOAD (1u << 20)

/* Chunk payload: u32 event count, u64 base timestamp, then entries. */
#define CHUNK_HDR_LEN 12

/*
 * Entry tag byte: low nibble is the event kind (0: thread name entry,
 * 15: kind follows as a varint), high nibble says which fields follow.
 */
#define ENT_KIND_MASK 0x0f
#define ENT_KIND_NAME 0
#define ENT_KIND_EXT 15
#define ENT_VALUE 0x10 /* varint value follows, else 0 */
#define ENT_RET 0x20   /* zigzag varint ret follows, else 0 */
#define ENT_ADDR 0x40  /* address reference follows, else previous event's */
#define ENT_CPU 0x80   /* varint cpu follows, else the thread's previous cpu */

/* Per-chunk tables; both sides fill them in the same order, so they need no storage. */
#define CHUNK_MAX_THREADS 64
#define CHUNK_MAX_ADDRS 16

/* Thread names longer than this are cut by the writer (Linux comm is 16). */
#define CAPTURE_NAME_MAX 64

/*
 * Stack record payload: varint tgid, varint id, varint flags, varint
 * nframes (<= BLAME_MAX_FRAMES), then per frame, innermost first: varint
 * line, varint name length, name bytes, varint file length, file bytes
 * (each <= STACK_STR_MAX).
 */
#define STACK_STR_MAX 1024

/* End record payload: varint events, varint thread names, varint flags. */
#define END_SIZE_LIMIT 0x1 /* the writer stopped at its size limit */

static inline void le16__put(unsigned char *p, __u16 v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void le32__put(unsigned char *p, __u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void le64__put(unsigned char *p, __u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline __u16 le16__get(const unsigned char *p)
{
	return (__u16)(p[0] | p[1] << 8);
}

static inline __u32 le32__get(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

static inline __u64 le64__get(const unsigned char *p)
{
	return (__u64)le32__get(p) | (__u64)le32__get(p + 4) << 32;
}

#endif
