/*
 * Writes the seed corpus for fuzz_capture into the directory given as
 * argv[1] (see README.md). Each seed starts with fuzz_capture's mode byte.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/writer.h"

static void seed_capture(const char *dir, const char *name, int nevents, __u32 chunk,
			 __u64 max_bytes, int cut)
{
	struct trace_meta m = { .pid = 4242, .ncpus = 4, .mono_to_wall_ns = 1700000000000000000ull };
	char path[512], err[256];
	int fd = memfd_create("seed", 0);

	strcpy(m.comm, "toyvm");
	strcpy(m.exe, "/usr/bin/toyvm");
	strcpy(m.runtime, "toyvm");
	strcpy(m.version, "1");
	strcpy(m.mode, "hooks");
	strcpy(m.kernel, "6.1.0");
	struct capture_writer *w = capture_writer__open_fd(
		dup(fd), &m, &(struct capture_writer_opts){ .chunk_bytes = chunk, .max_bytes = max_bytes },
		err, sizeof(err));
	if (!w)
		exit(1);
	for (int i = 0; i < nevents; i++) {
		struct gil_event ev = {
			.ts = 1000000000ull + (__u64)i * 5000000 - (i % 5 == 4 ? 7000000 : 0),
			.addr = i % 7 == 6 ? 0x7f001000ull + (__u64)(i % 3) * 4 : 0x55aa00ull,
			.value = i % 4 == 1 ? (__u64)i * 1000 : 0,
			.tgid = 4242, .tid = 4242 + (__u32)(i % 3),
			.ret = i % 6 == 2 ? -110 : 0,
			.cpu = (__u16)(i % 4),
			.kind = (__u16)(1 + i % (GIL_EV__MAX - 1)),
		};
		if (i % 10 == 0)
			capture_writer__name_thread(w, 4242, ev.tid, "worker");
		if (capture_writer__add_event(w, &ev))
			break;
	}
	if (capture_writer__close(w, err, sizeof(err)))
		exit(1);

	off_t size = lseek(fd, 0, SEEK_END);
	unsigned char *buf = malloc((size_t)size + 1);
	buf[0] = 0;
	if (pread(fd, buf + 1, (size_t)size, 0) != size)
		exit(1);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	fwrite(buf, 1, (size_t)size + 1 - (size_t)cut, f);
	fclose(f);
	free(buf);
	close(fd);
}

static void seed_round_trip(const char *dir, const char *name, int nrec)
{
	char path[512];
	FILE *f;
	unsigned seed = 7;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	fputc(1, f);
	for (int i = 0; i < nrec * 40; i++) {
		seed = seed * 1103515245 + 12345;
		fputc((int)(seed >> 16) & (i % 40 < 24 ? 0x0f : 0xff), f);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	seed_capture(argv[1], "empty", 0, 0, 0, 0);
	seed_capture(argv[1], "small", 12, 0, 0, 0);
	seed_capture(argv[1], "chunks", 60, 256, 0, 0);
	seed_capture(argv[1], "truncated", 60, 256, 0, 37);
	seed_capture(argv[1], "limited", 500, 256, 1500, 0);
	seed_round_trip(argv[1], "roundtrip", 20);
	return 0;
}
