/*
 * Capture format: round trips, damage handling, file creation rules and the
 * writer's bounded memory, on hand-built event streams.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "capture/reader.h"
#include "capture/writer.h"

/*
 * Counting allocations by interposing malloc: the writer and reader must not
 * allocate per event, however long the recording. Sanitizers bring their own
 * malloc, so under them the count stays 0 and only the rest is checked.
 */
#if defined(__SANITIZE_ADDRESS__)
#define NO_ALLOC_COUNT
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_ALLOC_COUNT
#endif
#endif

static unsigned long alloc_calls;

#ifndef NO_ALLOC_COUNT
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

void *malloc(size_t n)
{
	alloc_calls++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	alloc_calls++;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	alloc_calls++;
	return __libc_realloc(p, n);
}
#endif

static char dir[] = "/tmp/giltrace-test-capture-XXXXXX";
static char errbuf[256];

/* A few rotating buffers so a test can hold several paths at once. */
static const char *tmp_path(const char *name)
{
	static char paths[8][PATH_MAX];
	static unsigned next;
	char *path = paths[next++ % 8];

	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	return path;
}

static struct trace_meta test_meta(void)
{
	struct trace_meta m = { .pid = 4242, .ncpus = 8, .mono_to_wall_ns = 1700000000123456789ull };

	strcpy(m.comm, "toyvm");
	strcpy(m.exe, "/usr/local/bin/toyvm");
	strcpy(m.runtime, "toyvm");
	strcpy(m.version, "1");
	strcpy(m.mode, "hooks");
	strcpy(m.kernel, "6.1.0-test");
	return m;
}

static struct gil_event ev(__u64 ts, __u16 kind, __u32 tgid, __u32 tid, __u16 cpu, __u64 addr,
			   __u64 value, __s32 ret)
{
	return (struct gil_event){ .ts = ts, .addr = addr, .value = value, .tgid = tgid,
				   .tid = tid, .ret = ret, .cpu = cpu, .kind = kind };
}

static void assert_event_equal(const struct gil_event *a, const struct gil_event *b)
{
	assert_int_equal(a->ts, b->ts);
	assert_int_equal(a->addr, b->addr);
	assert_int_equal(a->value, b->value);
	assert_int_equal(a->tgid, b->tgid);
	assert_int_equal(a->tid, b->tid);
	assert_int_equal(a->ret, b->ret);
	assert_int_equal(a->cpu, b->cpu);
	assert_int_equal(a->kind, b->kind);
}

static struct capture_writer *open_writer(const char *path, const struct capture_writer_opts *o)
{
	struct trace_meta m = test_meta();
	struct capture_writer *w = capture_writer__open(path, &m, 0, o, errbuf, sizeof(errbuf));

	if (!w)
		fail_msg("open %s: %s", path, errbuf);
	return w;
}

static void write_events(const char *path, const struct gil_event *evs, size_t n,
			 const struct capture_writer_opts *o)
{
	struct capture_writer *w = open_writer(path, o);

	for (size_t i = 0; i < n; i++)
		assert_int_equal(capture_writer__add_event(w, &evs[i]), 0);
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);
}

static struct capture_reader *open_reader(const char *path)
{
	struct capture_reader *r = capture_reader__open(path, errbuf, sizeof(errbuf));

	if (!r)
		fail_msg("open %s: %s", path, errbuf);
	return r;
}

static void test_round_trip_extremes(void **state)
{
	(void)state;
	enum { N = 2 * GIL_EV__MAX * 8 + 200 };
	static struct gil_event evs[N];
	size_t n = 0;
	const __u64 ts_vals[] = { 0, UINT64_MAX, 5, 1000000000, 999999000, UINT64_MAX - 1, 1, 0 };

	for (__u16 k = 1; k < GIL_EV__MAX; k++) {
		for (size_t j = 0; j < 8; j++)
			evs[n++] = ev(ts_vals[j], k, j & 1 ? UINT32_MAX : 0, j & 2 ? UINT32_MAX : j,
				      j & 4 ? UINT16_MAX : 0, j & 1 ? UINT64_MAX : j << 40,
				      j & 2 ? UINT64_MAX : 0, j & 1 ? INT32_MIN : (j & 2 ? -1 : INT32_MAX));
	}
	/* more threads and addresses than the per-chunk tables hold */
	for (size_t i = 0; i < 200; i++)
		evs[n++] = ev(2000000000 - i * 7, (__u16)(1 + i % (GIL_EV__MAX - 1)), 100 + i % 3,
			      1000 + i, (__u16)(i % 5), 0x7f0000000000ull + (i % 40) * 8, i, -(int)i);
	assert_true(n <= N);
	write_events(tmp_path("extremes.gil"), evs, n, NULL);

	struct capture_reader *r = open_reader(tmp_path("extremes.gil"));
	struct capture_record rec;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(capture_reader__next(r, &rec), 1);
		assert_int_equal(rec.kind, CAPTURE_REC_EVENT);
		assert_event_equal(&rec.event, &evs[i]);
	}
	assert_int_equal(capture_reader__next(r, &rec), 0);
	const struct capture_status *st = capture_reader__status(r);
	assert_true(st->clean_end);
	assert_int_equal(st->events, n);
	assert_int_equal(st->end_events, n);
	assert_int_equal(st->bytes_skipped, 0);
	capture_reader__free(r);
}

static void test_kind_out_of_range_refused(void **state)
{
	(void)state;
	struct capture_writer *w = open_writer(tmp_path("badkind.gil"), NULL);
	struct gil_event e = ev(1, GIL_EV__MAX, 1, 1, 0, 0, 0, 0);

	assert_int_equal(capture_writer__add_event(w, &e), -EINVAL);
	e.kind = 0;
	assert_int_equal(capture_writer__add_event(w, &e), -EINVAL);
	assert_string_equal(capture_writer__error(w), "event kind 0 out of range");
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);
}

static void test_thread_names_interleaved(void **state)
{
	(void)state;
	const char *path = tmp_path("names.gil");
	struct capture_writer *w = open_writer(path, &(struct capture_writer_opts){ .chunk_bytes = 300 });
	char longname[200];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (__u32 i = 0; i < 100; i++) {
		struct gil_event e = ev(1000 * i, GIL_EV_ACQUIRE, 7, 70 + i % 4, 1, 0x1000, 0, 0);
		char name[32];
		if (i % 10 == 3) {
			snprintf(name, sizeof(name), "worker-%u", i);
			assert_int_equal(capture_writer__name_thread(w, 7, 70 + i % 4,
								     i == 53 ? longname : name), 0);
		}
		assert_int_equal(capture_writer__add_event(w, &e), 0);
	}
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);

	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	for (__u32 i = 0; i < 100; i++) {
		if (i % 10 == 3) {
			assert_int_equal(capture_reader__next(r, &rec), 1);
			assert_int_equal(rec.kind, CAPTURE_REC_THREAD_NAME);
			assert_int_equal(rec.thread.tgid, 7);
			assert_int_equal(rec.thread.tid, 70 + i % 4);
			if (i == 53) {
				assert_int_equal(strlen(rec.thread.name), CAPTURE_THREAD_NAME_MAX - 1);
				assert_int_equal(strspn(rec.thread.name, "x"), CAPTURE_THREAD_NAME_MAX - 1);
			} else {
				char name[32];
				snprintf(name, sizeof(name), "worker-%u", i);
				assert_string_equal(rec.thread.name, name);
			}
		}
		assert_int_equal(capture_reader__next(r, &rec), 1);
		assert_int_equal(rec.kind, CAPTURE_REC_EVENT);
		assert_int_equal(rec.event.ts, 1000 * i);
	}
	assert_int_equal(capture_reader__next(r, &rec), 0);
	assert_int_equal(capture_reader__status(r)->thread_names, 10);
	assert_true(capture_reader__status(r)->chunks > 1);
	capture_reader__free(r);
}

static void fill_str(char *s, size_t size, char c)
{
	memset(s, c, size - 1);
	s[size - 1] = '\0';
}

static void test_meta_round_trip(void **state)
{
	(void)state;
	struct trace_meta m = { .pid = UINT32_MAX, .ncpus = 1024, .mono_to_wall_ns = UINT64_MAX };
	const char *path = tmp_path("meta.gil");

	fill_str(m.comm, sizeof(m.comm), 'c');
	fill_str(m.exe, sizeof(m.exe), 'e');
	strcpy(m.runtime, "cpython");
	strcpy(m.version, "3.11.2");
	strcpy(m.mode, "");
	fill_str(m.kernel, sizeof(m.kernel), 'k');
	struct capture_writer *w = capture_writer__open(path, &m, 0, NULL, errbuf, sizeof(errbuf));
	assert_non_null(w);
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);

	struct capture_reader *r = open_reader(path);
	assert_memory_equal(capture_reader__meta(r), &m, sizeof(m));
	struct capture_record rec;
	assert_int_equal(capture_reader__next(r, &rec), 0);
	assert_true(capture_reader__status(r)->clean_end);
	capture_reader__free(r);
}

/*
 * What a GIL trace looks like: a few threads passing the GIL around, WAITs
 * and FORCED_RELEASEs on the 5 ms switch interval, hand-offs a microsecond
 * apart, all on one GIL address.
 */
static size_t realistic_stream(struct gil_event *evs, size_t max)
{
	const __u64 gil = 0x55d1c0ffe0a0ull;
	__u64 ts = 123456789000ull;
	unsigned seed = 1;
	size_t n = 0;

	for (unsigned i = 0; n + 4 <= max; i++) {
		__u32 holder = 4000 + i % 4, waiter = 4000 + (i + 1) % 4;
		seed = seed * 1103515245 + 12345;
		__u64 jitter = (seed >> 8) % 200000;
		evs[n++] = ev(ts, GIL_EV_WAIT, 4000, waiter, (__u16)(waiter % 4), gil, 0, 0);
		ts += 5000000 + jitter;
		evs[n++] = ev(ts, GIL_EV_FORCED_RELEASE, 4000, holder, (__u16)(holder % 4), gil, 0, 0);
		ts += 800 + jitter % 500;
		evs[n++] = ev(ts, GIL_EV_ACQUIRE, 4000, waiter, (__u16)(waiter % 4), gil, 0, 0);
		ts += 1000 + jitter % 300;
		if (i % 3 == 0)
			evs[n++] = ev(ts, GIL_EV_RELEASE, 4000, waiter, (__u16)(waiter % 4), gil, 0, 0);
	}
	return n;
}

static void test_bytes_per_event(void **state)
{
	(void)state;
	enum { N = 200000 };
	static struct gil_event evs[N];
	size_t n = realistic_stream(evs, N);
	const char *path = tmp_path("realistic.gil");
	struct stat st;

	write_events(path, evs, n, NULL);
	assert_int_equal(stat(path, &st), 0);
	double per_event = (double)st.st_size / (double)n;
	print_message("realistic stream: %zu events, %lld bytes, %.2f bytes/event\n", n,
		      (long long)st.st_size, per_event);
	assert_true(per_event <= 16.0);

	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(capture_reader__next(r, &rec), 1);
		assert_event_equal(&rec.event, &evs[i]);
	}
	assert_int_equal(capture_reader__next(r, &rec), 0);
	capture_reader__free(r);
}

static void copy_prefix(const char *from, const char *to, size_t len)
{
	static unsigned char buf[1 << 16];
	int in = open(from, O_RDONLY), out;

	assert_true(len <= sizeof(buf));
	assert_true(in >= 0);
	assert_int_equal(pread(in, buf, len, 0), (ssize_t)len);
	close(in);
	unlink(to);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	assert_int_equal(write(out, buf, len), (ssize_t)len);
	close(out);
}

static void test_truncation_every_offset(void **state)
{
	(void)state;
	enum { N = 120, PER_CHUNK = 13 };
	struct gil_event evs[N];
	__u64 bound_bytes[N], bound_events[N];
	size_t nb = 0, header_len;
	const char *full = tmp_path("trunc-full.gil");
	char cut[PATH_MAX];
	struct capture_writer *w = open_writer(full, NULL);

	snprintf(cut, sizeof(cut), "%s", tmp_path("trunc-cut.gil"));
	header_len = capture_writer__bytes_written(w);
	for (size_t i = 0; i < N; i++) {
		evs[i] = ev(1000000 + i * 997 - (i % 3) * 2000, (__u16)(1 + i % 12), 9, 90 + i % 3,
			    (__u16)(i % 2), 0xabc000, i % 5, (__s32)(i % 7) - 3);
		assert_int_equal(capture_writer__add_event(w, &evs[i]), 0);
		if (i % PER_CHUNK == PER_CHUNK - 1 || i == N - 1) {
			assert_int_equal(capture_writer__flush(w), 0);
			bound_bytes[nb] = capture_writer__bytes_written(w);
			bound_events[nb++] = capture_writer__events_written(w);
		}
	}
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);
	struct stat st;
	assert_int_equal(stat(full, &st), 0);
	size_t size = (size_t)st.st_size;

	for (size_t len = 0; len <= size; len++) {
		copy_prefix(full, cut, len);
		struct capture_reader *r = capture_reader__open(cut, errbuf, sizeof(errbuf));
		if (len < header_len) {
			assert_null(r);
			if (len == 0)
				assert_string_equal(errbuf, "not a giltrace capture (empty file)");
			else
				assert_non_null(strstr(errbuf, "truncated capture header"));
			continue;
		}
		assert_non_null(r);
		__u64 want_events = 0, want_chunks = 0, good_end = header_len;
		for (size_t b = 0; b < nb; b++) {
			if (bound_bytes[b] <= len) {
				want_events = bound_events[b];
				want_chunks = b + 1;
				good_end = bound_bytes[b];
			}
		}
		struct capture_record rec;
		int ret;
		size_t i = 0;
		while ((ret = capture_reader__next(r, &rec)) == 1) {
			assert_true(i < want_events);
			assert_event_equal(&rec.event, &evs[i++]);
		}
		if (ret)
			fail_msg("cut at %zu: %s", len, capture_reader__error(r));
		const struct capture_status *s = capture_reader__status(r);
		assert_int_equal(s->events, want_events);
		assert_int_equal(s->chunks, want_chunks);
		assert_int_equal(s->clean_end, len == size);
		assert_int_equal(s->bytes_skipped, len == size ? 0 : len - good_end);
		assert_int_equal(s->bad_chunks, 0);
		capture_reader__free(r);
	}
}

static size_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

static void patch_byte(const char *path, size_t off, unsigned char xor)
{
	int fd = open(path, O_RDWR);
	unsigned char b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= xor;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

/* Writes 3 chunks of 50 events each; returns the file offsets of the chunks. */
static void three_chunks(const char *path, __u64 off[4])
{
	struct capture_writer *w = open_writer(path, NULL);

	off[0] = capture_writer__bytes_written(w);
	for (int c = 0; c < 3; c++) {
		for (int i = 0; i < 50; i++) {
			struct gil_event e = ev(c * 1000 + i, GIL_EV_WAIT, 1, 2, 3, 4, 5, 6);
			assert_int_equal(capture_writer__add_event(w, &e), 0);
		}
		assert_int_equal(capture_writer__flush(w), 0);
		off[c + 1] = capture_writer__bytes_written(w);
	}
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);
}

static void read_all(const char *path, int want_ret, __u64 want_events)
{
	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	int ret;

	while ((ret = capture_reader__next(r, &rec)) == 1)
		;
	assert_int_equal(ret, want_ret);
	assert_int_equal(capture_reader__status(r)->events, want_events);
	capture_reader__free(r);
}

static void test_corrupt_crc(void **state)
{
	(void)state;
	const char *path = tmp_path("crc.gil");
	__u64 off[4];

	/* payload damage in the middle chunk: that chunk alone is lost */
	three_chunks(path, off);
	patch_byte(path, off[1] + 16 + 20, 0x01);
	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	int ret;
	__u64 n = 0;
	while ((ret = capture_reader__next(r, &rec)) == 1)
		assert_int_equal(rec.event.ts, (n < 50 ? 0 : 2000) + n % 50), n++;
	assert_int_equal(ret, 0);
	const struct capture_status *s = capture_reader__status(r);
	assert_int_equal(s->events, 100);
	assert_int_equal(s->bad_chunks, 1);
	assert_int_equal(s->chunks, 2);
	assert_int_equal(s->bytes_skipped, off[2] - off[1]);
	assert_true(s->clean_end);
	assert_int_equal(s->end_events, 150);
	capture_reader__free(r);

	/* frame damage (its length): the reader finds the next frame */
	unlink(path);
	three_chunks(path, off);
	patch_byte(path, off[1] + 5, 0x40);
	r = open_reader(path);
	while ((ret = capture_reader__next(r, &rec)) == 1)
		;
	assert_int_equal(ret, 0);
	s = capture_reader__status(r);
	assert_int_equal(s->events, 100);
	assert_int_equal(s->bytes_skipped, off[2] - off[1]);
	assert_true(s->clean_end);
	capture_reader__free(r);

	/* header damage is fatal: without meta there is nothing to show */
	unlink(path);
	three_chunks(path, off);
	patch_byte(path, 20, 0x01);
	assert_null(capture_reader__open(path, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "capture header is corrupt (checksum mismatch)");
}

static void put_le32(unsigned char *p, __u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void test_bad_content_with_good_crc(void **state)
{
	(void)state;
	const char *path = tmp_path("badcontent.gil");
	__u64 off[4];
	unsigned char frame[16], *payload;

	three_chunks(path, off);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	size_t len = off[2] - off[1] - 16;
	payload = malloc(len);
	assert_int_equal(pread(fd, frame, 16, (off_t)off[1]), 16);
	assert_int_equal(pread(fd, payload, len, (off_t)off[1] + 16), (ssize_t)len);
	/*
	 * The 4th event's tag byte: after the 12-byte chunk header, the first
	 * event takes 10 bytes (tag, ts, new-thread ref, tgid, tid, cpu,
	 * new-address ref, address, value, ret) and the next ones 5 (tag, ts,
	 * thread ref, value, ret).
	 */
	size_t p = 12 + 10 + 5 + 5;
	assert_int_equal(payload[p] & 0x0f, GIL_EV_WAIT);
	/* The extended form (nibble 15, then the kind as a varint, which
	 * replaces the first byte of the ts delta): every kind fits the
	 * nibble, so only this form can name one out of range. */
	payload[p] = (unsigned char)((payload[p] & 0xf0) | 15);
	payload[p + 1] = 0x7f;
	put_le32(frame + 8, (__u32)crc32(0, payload, (uInt)len));
	put_le32(frame + 12, (__u32)crc32(0, frame, 12));
	assert_int_equal(pwrite(fd, frame, 16, (off_t)off[1]), 16);
	assert_int_equal(pwrite(fd, payload, len, (off_t)off[1] + 16), (ssize_t)len);
	close(fd);
	free(payload);

	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	int ret;
	while ((ret = capture_reader__next(r, &rec)) == 1)
		;
	assert_int_equal(ret, -EBADMSG);
	char want[128];
	snprintf(want, sizeof(want), "corrupt chunk at byte %llu: event 3: kind 127 out of range",
		 (unsigned long long)off[1]);
	assert_string_equal(capture_reader__error(r), want);
	assert_int_equal(capture_reader__status(r)->events, 53);
	/* the error sticks */
	assert_int_equal(capture_reader__next(r, &rec), -EBADMSG);
	capture_reader__free(r);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_header_messages(void **state)
{
	(void)state;
	const char *path = tmp_path("hdr.gil");
	unsigned char buf[64] = "GILTRACE";

	write_file(path, "PK\3\4 this is a zip file", 24);
	assert_null(capture_reader__open(path, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "not a giltrace capture");
	assert_int_equal(errno, EBADMSG);

	buf[8] = 7; /* version 7 */
	buf[12] = 20;
	write_file(path, buf, sizeof(buf));
	assert_null(capture_reader__open(path, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "capture format version 7 is newer than this giltrace (3)");

	write_file(path, "GILTR", 5);
	assert_null(capture_reader__open(path, errbuf, sizeof(errbuf)));
	assert_string_equal(errbuf, "truncated capture header (5 of at least 16 bytes)");

	assert_null(capture_reader__open(tmp_path("missing.gil"), errbuf, sizeof(errbuf)));
	assert_int_equal(errno, ENOENT);
}

static void test_create_rules(void **state)
{
	(void)state;
	const char *path = tmp_path("exist.gil");
	char link[PATH_MAX];
	struct trace_meta m = test_meta();
	struct stat st;
	mode_t old = umask(0);

	snprintf(link, sizeof(link), "%s", tmp_path("link.gil"));
	write_file(path, "precious", 8);
	chmod(path, 0644);
	assert_null(capture_writer__open(path, &m, 0, NULL, errbuf, sizeof(errbuf)));
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(errbuf, "file exists"));
	assert_int_equal(file_size(path), 8);

	assert_int_equal(symlink(path, link), 0);
	assert_null(capture_writer__open(link, &m, 0, NULL, errbuf, sizeof(errbuf)));
	assert_true(errno == EEXIST || errno == ELOOP);
	assert_null(capture_writer__open(link, &m, CAPTURE_WRITER_FORCE, NULL, errbuf,
					 sizeof(errbuf)));
	assert_int_equal(errno, ELOOP);
	assert_int_equal(file_size(path), 8);

	struct capture_writer *w = capture_writer__open(path, &m, CAPTURE_WRITER_FORCE, NULL,
							errbuf, sizeof(errbuf));
	assert_non_null(w);
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	read_all(path, 0, 0);

	const char *fifo = tmp_path("fifo.gil");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(capture_writer__open(fifo, &m, CAPTURE_WRITER_FORCE, NULL, errbuf,
					 sizeof(errbuf)));
	assert_true(errno == ENXIO || errno == EINVAL);

	const char *fresh = tmp_path("fresh.gil");
	w = capture_writer__open(fresh, &m, 0, NULL, errbuf, sizeof(errbuf));
	assert_non_null(w);
	assert_int_equal(stat(fresh, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);
	umask(old);
}

static void test_max_size(void **state)
{
	(void)state;
	const char *path = tmp_path("limit.gil");
	const __u64 limit = 4096;
	struct capture_writer *w = open_writer(path, &(struct capture_writer_opts){
		.max_bytes = limit, .chunk_bytes = 1000 });
	__u64 accepted = 0;
	int ret;

	for (;;) {
		struct gil_event e = ev(accepted * 5000000, GIL_EV_ACQUIRE, 1, 2 + accepted % 3,
					(__u16)(accepted % 3), 0x1234, accepted, 0);
		ret = capture_writer__add_event(w, &e);
		if (ret)
			break;
		accepted++;
	}
	assert_int_equal(ret, -EFBIG);
	assert_string_equal(capture_writer__error(w), "size limit of 4096 bytes reached");
	assert_int_equal(capture_writer__name_thread(w, 1, 2, "late"), -EFBIG);
	assert_int_equal(capture_writer__events_written(w), accepted);
	assert_true(accepted > 100);
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);
	assert_true(file_size(path) <= limit);
	assert_true(file_size(path) > limit / 2);

	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	while ((ret = capture_reader__next(r, &rec)) == 1)
		;
	assert_int_equal(ret, 0);
	const struct capture_status *s = capture_reader__status(r);
	assert_int_equal(s->events, accepted);
	assert_true(s->clean_end);
	assert_true(s->size_limited);
	capture_reader__free(r);
}

static void test_write_error(void **state)
{
	(void)state;
	const char *path = tmp_path("fsize.gil");
	struct rlimit old, lim;
	struct sigaction ign = { .sa_handler = SIG_IGN }, oldsa;
	int ret = 0;

	/* RLIMIT_FSIZE stands in for a full disk: write() fails with EFBIG */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 10000;
	sigaction(SIGXFSZ, &ign, &oldsa);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	struct capture_writer *w = open_writer(path, &(struct capture_writer_opts){ .chunk_bytes = 1500 });
	for (__u64 i = 0; i < 100000 && !ret; i++) {
		struct gil_event e = ev(i * 1000, GIL_EV_WAIT, 1, 2, 0, 0x10, i, 0);
		ret = capture_writer__add_event(w, &e);
	}
	setrlimit(RLIMIT_FSIZE, &old);
	sigaction(SIGXFSZ, &oldsa, NULL);
	assert_int_equal(ret, -EFBIG);
	__u64 safe = capture_writer__events_written(w);
	char want[128];
	snprintf(want, sizeof(want), "write failed after %llu events safely written: %s",
		 (unsigned long long)safe, strerror(EFBIG));
	assert_string_equal(capture_writer__error(w), want);
	assert_true(safe > 0);
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), -EFBIG);
	assert_string_equal(errbuf, want);

	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	while ((ret = capture_reader__next(r, &rec)) == 1)
		;
	assert_int_equal(ret, 0);
	assert_int_equal(capture_reader__status(r)->events, safe);
	assert_false(capture_reader__status(r)->clean_end);
	capture_reader__free(r);
}

static void test_bounded_memory(void **state)
{
	(void)state;
	const char *path = tmp_path("million.gil");
	unsigned long before = alloc_calls;
	struct capture_writer *w = open_writer(path, NULL);

#ifndef NO_ALLOC_COUNT
	/* the counter sees the writer's own buffers, so a zero below means something */
	assert_true(alloc_calls > before);
#endif
	before = alloc_calls;

	for (__u64 i = 0; i < 1000000; i++) {
		struct gil_event e = ev(i * 2500, (__u16)(1 + i % 12), 1, 100 + i % 4, (__u16)(i % 4),
					0x1000 + (i % 3) * 8, i % 7, 0);
		assert_int_equal(capture_writer__add_event(w, &e), 0);
		if (i % 100000 == 0)
			assert_int_equal(capture_writer__name_thread(w, 1, 100 + i % 4, "t"), 0);
	}
	assert_int_equal(alloc_calls, before);
	assert_int_equal(capture_writer__close(w, errbuf, sizeof(errbuf)), 0);

	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	before = alloc_calls;
	__u64 n = 0;
	int ret;
	while ((ret = capture_reader__next(r, &rec)) == 1)
		n += rec.kind == CAPTURE_REC_EVENT;
	assert_int_equal(alloc_calls, before);
	assert_int_equal(ret, 0);
	assert_int_equal(n, 1000000);
	capture_reader__free(r);
}

/* Chunks larger than the reader's first buffer make it grow, once. */
static void test_large_chunks(void **state)
{
	(void)state;
	enum { N = 300000 };
	static struct gil_event evs[N];
	size_t n = realistic_stream(evs, N);
	const char *path = tmp_path("large.gil");

	write_events(path, evs, n, &(struct capture_writer_opts){ .chunk_bytes = UINT32_MAX });
	struct capture_reader *r = open_reader(path);
	struct capture_record rec;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(capture_reader__next(r, &rec), 1);
		assert_event_equal(&rec.event, &evs[i]);
	}
	assert_int_equal(capture_reader__next(r, &rec), 0);
	assert_int_equal(capture_reader__status(r)->chunks, 2);
	capture_reader__free(r);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_extremes),
		cmocka_unit_test(test_kind_out_of_range_refused),
		cmocka_unit_test(test_thread_names_interleaved),
		cmocka_unit_test(test_meta_round_trip),
		cmocka_unit_test(test_bytes_per_event),
		cmocka_unit_test(test_truncation_every_offset),
		cmocka_unit_test(test_corrupt_crc),
		cmocka_unit_test(test_bad_content_with_good_crc),
		cmocka_unit_test(test_header_messages),
		cmocka_unit_test(test_create_rules),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_bounded_memory),
		cmocka_unit_test(test_large_chunks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
