/*
 * Capture writer: records events and thread names into a giltrace capture
 * file (docs/capture-format.md). Memory is fixed at open: one chunk buffer,
 * written with one write() when full or when the caller flushes, so hours
 * of recording do not grow RAM and a killed giltrace leaves a file readable
 * up to its last complete chunk.
 *
 * Functions return 0 or a negative errno; capture_writer__error() then says
 * what went wrong in one line without the "giltrace: " prefix. They never
 * print or exit.
 */
#ifndef GILTRACE_CAPTURE_WRITER_H
#define GILTRACE_CAPTURE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "giltrace.h"
#include "trace_meta.h"
#include "blame/stack_table.h"

struct capture_writer;

/* Overwrite an existing regular file (never follows a symlink). */
#define CAPTURE_WRITER_FORCE 0x1

struct capture_writer_opts {
	__u64 max_bytes;   /* file size limit, 0: none */
	__u32 chunk_bytes; /* chunk payload target, 0: 64 KiB; clamped to [256, 1 MiB] */
	bool blame;        /* stack records allowed (blame's, or the one-frame
			    * stacks of HOLDER_FRAME): format version 2 */
	/* Give a file the writer creates to this owner: the user behind sudo,
	 * whose capture it is (still mode 0600). */
	bool chown;
	uid_t uid;
	gid_t gid;
};

/*
 * Creates path with mode 0600 (owned by opts->uid/gid with opts->chown)
 * and writes the header. Without
 * CAPTURE_WRITER_FORCE an existing file or symlink is refused (errno EEXIST);
 * with it a symlink still is (ELOOP). opts may be NULL. On failure returns
 * NULL, sets errno and describes the problem in err.
 */
struct capture_writer *capture_writer__open(const char *path, const struct trace_meta *meta,
					    int flags, const struct capture_writer_opts *opts,
					    char *err, size_t errlen);

/* Same on a descriptor the writer then owns (closes in __close, also on failure). */
struct capture_writer *capture_writer__open_fd(int fd, const struct trace_meta *meta,
					       const struct capture_writer_opts *opts,
					       char *err, size_t errlen);

/*
 * Buffers one event. -EFBIG: the size limit is reached, the event was not
 * taken and the file is complete up to here: stop and close. -EINVAL: kind
 * out of range. Other errors come from write(): events_written() counts what
 * reached the file.
 */
int capture_writer__add_event(struct capture_writer *w, const struct gil_event *ev);

/* Records a thread's name, in order with the events; longer names are cut to 63 bytes. */
int capture_writer__name_thread(struct capture_writer *w, __u32 tgid, __u32 tid,
				const char *name);

/*
 * Blame: records a resolved holder stack (docs/capture-format.md, stack
 * record). Written at once, ahead of the buffered chunk that holds the
 * HOLDER_STACK event naming it. Needs opts->blame (-EINVAL otherwise).
 */
int capture_writer__add_stack(struct capture_writer *w, __u32 tgid, __u64 id, __u32 flags,
			      const struct blame_frame *frames, unsigned int nframes);

/* Writes the buffered chunk now (call it every second or so to bound loss on a crash). */
int capture_writer__flush(struct capture_writer *w);

/*
 * Writes the buffered chunk and the end record, fsyncs, closes and frees w.
 * Returns 0 or a negative errno with the reason in err. After a size-limit
 * stop this still succeeds: the file is complete and marked as cut.
 */
int capture_writer__close(struct capture_writer *w, char *err, size_t errlen);

/* Events and bytes in complete records handed to the file so far. */
__u64 capture_writer__events_written(const struct capture_writer *w);
__u64 capture_writer__bytes_written(const struct capture_writer *w);

const char *capture_writer__error(const struct capture_writer *w);

#endif
