#include "cli/consumer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "views/summary.h"

static int on_start(void *ctx, const struct trace_meta *meta, char *err, size_t errlen)
{
	struct consumer *c = ctx;

	c->meta = *meta;
	if (!c->path)
		return 0;
	c->w = capture_writer__open(c->path, meta, c->capture_flags, &c->wopts, err, errlen);
	if (!c->w && errno == EEXIST) {
		snprintf(err, errlen, "%s exists: choose another name or add --force", c->path);
		return -EEXIST;
	}
	return c->w ? 0 : -errno;
}

static int on_event(void *ctx, const struct gil_event *ev)
{
	struct consumer *c = ctx;
	int err;

	if (c->eng)
		engine__feed(c->eng, ev);
	if (!c->w || c->write_err)
		return c->write_err;
	err = capture_writer__add_event(c->w, ev);
	if (err) {
		c->write_err = err;
		return err;
	}
	return 0;
}

static void on_thread(void *ctx, __u32 tgid, __u32 tid, const char *name)
{
	struct consumer *c = ctx;

	if (c->eng)
		engine__name_thread(c->eng, tgid, tid, name);
	if (c->w && !c->write_err)
		c->write_err = capture_writer__name_thread(c->w, tgid, tid, name);
}

/* Blame: a stack is kept for the views and recorded ahead of the event
 * that names it. */
static void on_stack(void *ctx, __u32 tgid, __u64 id, __u32 flags,
		     const struct blame_frame *frames, unsigned int nframes)
{
	struct consumer *c = ctx;

	if (c->stacks)
		stack_table__add(c->stacks, tgid, id, flags, frames, nframes);
	if (c->w && !c->write_err)
		c->write_err = capture_writer__add_stack(c->w, tgid, id, flags, frames, nframes);
}

/* A flush a second bounds what a SIGKILL can take from the capture. */
static int on_tick(void *ctx, __u64 now_ns)
{
	struct consumer *c = ctx;

	(void)now_ns;
	if (c->w && !c->write_err)
		c->write_err = capture_writer__flush(c->w);
	return c->write_err;
}

static void on_end(void *ctx, const struct live_result *res)
{
	struct consumer *c = ctx;

	c->end_ret = consumer__finish(c, res->drops);
	if (!c->end_ret && c->summary)
		c->end_ret = consumer__print_summary(c, c->json);
}

struct live_sink consumer__sink(struct consumer *c)
{
	struct live_sink s = {
		.on_start = on_start, .on_event = on_event, .on_thread = on_thread,
		.on_tick = on_tick, .on_end = on_end, .on_stack = on_stack, .ctx = c,
		.input_fd = -1, .tick_ms = 1000,
	};

	return s;
}

int consumer__finish(struct consumer *c, unsigned long long drops)
{
	unsigned long long events;
	char err[512];
	bool closed;
	int ret = 0;

	if (!c->w)
		return 0;
	if (!c->write_err)
		c->write_err = capture_writer__flush(c->w);
	events = capture_writer__events_written(c->w);
	closed = !capture_writer__close(c->w, err, sizeof(err));
	c->w = NULL;
	if (c->write_err == -ENOSPC || c->write_err == -EDQUOT) {
		/* The writer cut the partial chunk off and ended the file. */
		fprintf(stderr, "giltrace: no space left for %s: recording stopped after %llu events "
			"(%s)\n", c->path, events, closed ? "the capture is complete up to there"
						     : "giltrace report recovers them");
		return 1;
	}
	if (c->write_err == -EFBIG) {
		fprintf(stderr, "giltrace: %s reached its size limit: recording stopped\n", c->path);
	} else if (c->write_err) {
		fprintf(stderr, "giltrace: writing %s failed: %s (%llu events written)\n", c->path,
			strerror(-c->write_err), events);
		ret = 1;
	}
	if (!closed && !ret) {
		fprintf(stderr, "giltrace: closing %s failed: %s\n", c->path, err);
		ret = 1;
	}
	if (!ret)
		fprintf(stderr, "giltrace: recorded %llu events to %s, %llu lost to ring-buffer "
			"drops\n", events, c->path, drops);
	return ret;
}

int consumer__print_summary(const struct consumer *c, bool json)
{
	if (json)
		summary__print_json(stdout, c->eng, &c->meta);
	else
		summary__print_text(stdout, c->eng, &c->meta);
	if (fflush(stdout) == 0)
		return 0;
	if (errno == EPIPE)
		return 0;
	fprintf(stderr, "giltrace: cannot write the summary: %s\n", strerror(errno));
	return 1;
}
