/*
 * Encoding of the file header (trace_meta) and of record frames, shared by
 * the writer and the reader. Internal to user/capture/.
 */
#ifndef GILTRACE_CAPTURE_HEADER_H
#define GILTRACE_CAPTURE_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "trace_meta.h"

/* Largest header the writer can produce from a trace_meta. */
#define CAPTURE_HDR_ENCODED_MAX 2048

/* Writes the whole header into buf (CAPTURE_HDR_ENCODED_MAX bytes); returns its length. */
size_t capture_header__encode(const struct trace_meta *meta, unsigned version, unsigned char *buf);

/*
 * Decodes a complete header of len bytes whose fixed part was already
 * checked. Returns 0, or -EBADMSG with a reason in err.
 */
int capture_header__decode(const unsigned char *buf, size_t len, struct trace_meta *meta,
			   char *err, size_t errlen);

/* Fills the 16-byte frame in front of a payload of len bytes already at frame + FRAME_LEN. */
void frame__seal(unsigned char *frame, char type, __u32 len);

/* True when the frame's sync bytes, CRC and length are plausible. */
bool frame__valid(const unsigned char *frame);

/* True when the payload matches the CRC in its frame. */
bool frame__payload_ok(const unsigned char *frame, const unsigned char *payload);

#endif
