/*
 * libFuzzer target for the capture reader (make fuzz-run). Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which turns CRC checks off so
 * mutated inputs reach the decoders instead of stopping at a checksum.
 *
 * The first input byte picks a mode:
 *  - even: the rest is a capture file; read it to the end. Any crash, leak
 *    or out-of-bounds access is a bug; errors are fine.
 *  - odd: the rest is a list of events and thread names; write them, read
 *    them back and abort unless every field matches (names as
 *    util/safe_text.h makes them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/reader.h"
#include "capture/writer.h"
#include "util/safe_text.h"

static int memfd_with(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_capture", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void read_capture(const uint8_t *data, size_t size)
{
	char err[256];
	struct capture_reader *r = capture_reader__open_fd(memfd_with(data, size), err, sizeof(err));
	struct capture_record rec;

	if (!r)
		return;
	while (capture_reader__next(r, &rec) == 1)
		;
	capture_reader__free(r);
}

static void round_trip(const uint8_t *data, size_t size)
{
	enum { MAXREC = 512 };
	static struct capture_record in[MAXREC];
	struct trace_meta meta = { .pid = 1 };
	struct capture_record rec;
	size_t n = 0;
	char err[256];

	/* 40 bytes per record: an event, or a thread name when the kind bits say 0 */
	for (; size >= 40 && n < MAXREC; data += 40, size -= 40) {
		struct gil_event ev;
		memcpy(&ev, data, sizeof(ev));
		if (ev.kind % 16 == 0) {
			in[n].kind = CAPTURE_REC_THREAD_NAME;
			in[n].thread.tgid = ev.tgid;
			in[n].thread.tid = ev.tid;
			memcpy(in[n].thread.name, data, 16);
			in[n].thread.name[16] = '\0';
			in[n].thread.name[strnlen(in[n].thread.name, 16)] = '\0';
		} else {
			ev.kind = (uint16_t)(1 + ev.kind % (GIL_EV__MAX - 1));
			in[n].kind = CAPTURE_REC_EVENT;
			in[n].event = ev;
		}
		n++;
	}

	int fd = memfd_create("fuzz_capture_rt", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	struct capture_writer *w = capture_writer__open_fd(
		dup(fd), &meta, &(struct capture_writer_opts){ .chunk_bytes = 256 }, err, sizeof(err));
	if (!w)
		abort();
	for (size_t i = 0; i < n; i++) {
		int ret = in[i].kind == CAPTURE_REC_EVENT
				  ? capture_writer__add_event(w, &in[i].event)
				  : capture_writer__name_thread(w, in[i].thread.tgid, in[i].thread.tid,
								in[i].thread.name);
		if (ret)
			abort();
	}
	if (capture_writer__close(w, err, sizeof(err)))
		abort();

	lseek(fd, 0, SEEK_SET);
	struct capture_reader *r = capture_reader__open_fd(fd, err, sizeof(err));
	if (!r)
		abort();
	for (size_t i = 0; i < n; i++) {
		char want[sizeof(in[i].thread.name)];

		if (capture_reader__next(r, &rec) != 1 || rec.kind != in[i].kind)
			abort();
		if (rec.kind == CAPTURE_REC_EVENT && memcmp(&rec.event, &in[i].event, sizeof(rec.event)))
			abort();
		if (rec.kind == CAPTURE_REC_THREAD_NAME &&
		    (rec.thread.tgid != in[i].thread.tgid || rec.thread.tid != in[i].thread.tid ||
		     /* names come back as a view would show them */
		     strcmp(rec.thread.name, safe_text__copy(want, sizeof(want), in[i].thread.name))))
			abort();
	}
	if (capture_reader__next(r, &rec) != 0 || !capture_reader__status(r)->clean_end)
		abort();
	capture_reader__free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		round_trip(data + 1, size - 1);
	else
		read_capture(data + 1, size - 1);
	return 0;
}
