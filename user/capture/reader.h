/*
 * Capture reader: yields the events and thread names of a capture file in
 * the order they were written, with buffered reads and no allocation per
 * record.
 *
 * Damage policy (docs/capture-format.md, "Reading damaged files"):
 *  - a file cut short, or damage that breaks a record's frame, is skipped:
 *    next() returns 0 or goes on with the next intact record, and
 *    capture_reader__status() says how many bytes were skipped;
 *  - a chunk whose payload fails its CRC is skipped whole and counted;
 *  - a chunk that passes its CRC but does not decode (bad varint, kind out
 *    of range, wrong event count) was written that way: next() returns
 *    -EBADMSG and capture_reader__error() says where. Records yielded
 *    before it stay valid.
 */
#ifndef GILTRACE_CAPTURE_READER_H
#define GILTRACE_CAPTURE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "giltrace.h"
#include "trace_meta.h"
#include "blame/stack_table.h"

#define CAPTURE_THREAD_NAME_MAX 64 /* with the NUL */

struct capture_reader;

enum capture_record_kind {
	CAPTURE_REC_EVENT = 1,
	CAPTURE_REC_THREAD_NAME = 2,
	CAPTURE_REC_STACK = 3, /* blame: a resolved holder stack */
};

struct capture_record {
	enum capture_record_kind kind;
	union {
		struct gil_event event;
		struct {
			__u32 tgid;
			__u32 tid;
			char name[CAPTURE_THREAD_NAME_MAX];
		} thread;
		/* frames and their strings belong to the reader and stay valid
		 * until the next call to capture_reader__next() */
		struct {
			__u32 tgid;
			__u32 flags;
			__u64 id;
			unsigned int nframes;
			const struct blame_frame *frames;
		} stack;
	};
};

struct capture_status {
	__u64 chunks;          /* intact chunks read */
	__u64 events;          /* events yielded */
	__u64 thread_names;    /* thread-name records yielded */
	__u64 stacks;          /* stack records yielded (blame) */
	__u64 bad_chunks;      /* chunks skipped for a CRC mismatch */
	__u64 bytes_skipped;   /* damaged, truncated or trailing bytes not decoded */
	__u64 unknown_records; /* records of types this giltrace does not know, skipped */
	bool clean_end;        /* the writer's end record was found */
	bool size_limited;     /* the writer stopped at its size limit */
	__u64 end_events;      /* events the end record says were written */
};

/*
 * Opens path and validates its header. On failure returns NULL, sets errno
 * and puts one line in err: "not a giltrace capture", "capture format
 * version N is newer than this giltrace (M)", "truncated capture header ...".
 */
struct capture_reader *capture_reader__open(const char *path, char *err, size_t errlen);

/* Same on a descriptor the reader then owns (closed by __free, or on failure). */
struct capture_reader *capture_reader__open_fd(int fd, char *err, size_t errlen);

void capture_reader__free(struct capture_reader *r);

const struct trace_meta *capture_reader__meta(const struct capture_reader *r);

/* 1: *out holds a record; 0: end of the capture; negative errno: see __error(). */
int capture_reader__next(struct capture_reader *r, struct capture_record *out);

const struct capture_status *capture_reader__status(const struct capture_reader *r);

const char *capture_reader__error(const struct capture_reader *r);

#endif
