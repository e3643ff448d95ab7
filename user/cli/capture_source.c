#include "cli/capture_source.h"

#include <stdio.h>

#include "run/signals.h"

struct capture_reader *capture_source__open(const char *path)
{
	struct capture_reader *r;
	char err[512];

	r = capture_reader__open(path, err, sizeof(err));
	if (!r)
		fprintf(stderr, "giltrace: cannot read %s: %s\n", path, err);
	return r;
}

static void report_recovery(const char *path, const struct capture_status *st)
{
	if (!st->clean_end)
		fprintf(stderr, "giltrace: %s was not closed cleanly: recovered %llu events in "
			"%llu chunks, %llu bytes at the end skipped\n", path,
			(unsigned long long)st->events, (unsigned long long)st->chunks,
			(unsigned long long)st->bytes_skipped);
	else if (st->bytes_skipped || st->bad_chunks)
		fprintf(stderr, "giltrace: %s is damaged: %llu chunks failed their checksum, "
			"%llu bytes skipped\n", path, (unsigned long long)st->bad_chunks,
			(unsigned long long)st->bytes_skipped);
	if (st->size_limited)
		fprintf(stderr, "giltrace: %s stopped at its size limit\n", path);
}

int capture_source__drain(struct capture_reader *r, const char *path,
			  const struct capture_sink *sink)
{
	struct capture_record rec;
	int n;

	while ((n = capture_reader__next(r, &rec)) > 0) {
		if (rec.kind == CAPTURE_REC_EVENT) {
			if (sink->event(sink->ctx, &rec.event))
				return 0;
		} else if (rec.kind == CAPTURE_REC_THREAD_NAME && sink->thread) {
			sink->thread(sink->ctx, rec.thread.tgid, rec.thread.tid, rec.thread.name);
		} else if (rec.kind == CAPTURE_REC_STACK && sink->stack) {
			sink->stack(sink->stack_ctx, rec.stack.tgid, rec.stack.id, rec.stack.flags,
				    rec.stack.frames, rec.stack.nframes);
		}
		/* the handlers only set the flag: hours of capture stay stoppable */
		if (signals_stop) {
			fprintf(stderr, "giltrace: interrupted\n");
			return 1;
		}
	}
	if (n < 0) {
		fprintf(stderr, "giltrace: %s is corrupt: %s\n", path, capture_reader__error(r));
		return 1;
	}
	if (!sink->quiet)
		report_recovery(path, capture_reader__status(r));
	return 0;
}

static int engine_event(void *ctx, const struct gil_event *ev)
{
	engine__feed(ctx, ev);
	return 0;
}

static void engine_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	engine__name_thread(ctx, tgid, tid, name);
}

struct capture_sink capture_source__engine_sink(struct engine *eng)
{
	struct capture_sink s = { .event = engine_event, .thread = engine_thread, .ctx = eng };

	return s;
}

__u64 capture_source__first_ts(const char *path)
{
	struct capture_record rec;
	struct capture_reader *r;
	char err[512];
	__u64 ts = 0;

	r = capture_reader__open(path, err, sizeof(err));
	if (!r)
		return 0;
	while (capture_reader__next(r, &rec) > 0)
		if (rec.kind == CAPTURE_REC_EVENT) {
			ts = rec.event.ts;
			break;
		}
	capture_reader__free(r);
	return ts;
}

__u64 capture_source__window_edge(__u64 first_ts, double s)
{
	return s < 0 ? 0 : first_ts + (__u64)(s * 1e9);
}
