/*
 * `giltrace top [-i SECONDS] [--sort KEY] [-p PID | -- CMD]`: the engine's
 * figures for each interval, live. On a terminal a full-screen view; when
 * stdout is a pipe or a file, the same figures as plain lines. Either way
 * the summary follows on stdout when the run ends.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/summary_out.h"
#include "cli/parse.h"
#include "cli/target_opts.h"
#include "run/signals.h"
#include "stream/engine_sink.h"
#include "stream/tee.h"
#include "util/clock.h"
#include "views/top.h"
#include "views/top_plain.h"
#include "views/top_screen.h"

/* How often keys and terminal resizes are looked at, whatever -i says. */
#define INPUT_TICK_MS 100
/* The final screen after the target exits waits this long for a key. */
#define FINAL_SCREEN_MS 10000

struct top_args {
	struct live_opts live;
	struct target_opts_input target;
	double interval_s;
	enum top_sort sort;
};

/* The terminal while the screen is up: the command's output and ours
 * would scribble over the display, so both are held in a file and shown
 * after the screen closes. */
struct held_output {
	FILE *tty;     /* the real stdout, for ncurses */
	FILE *held;    /* what fds 1 and 2 write to meanwhile */
	int saved_out, saved_err;
};

struct top_ctx {
	struct engine_sink es;
	struct top_control ctl;
	struct top_screen *screen; /* NULL: plain lines on stdout */
	struct held_output io;
	__u64 start_ns;     /* when tracing started */
	__u64 tick_ns;      /* the engine's last tick */
	__u64 next_ns;      /* when the next interval closes */
	__u64 seen_ns;      /* the last on_tick(): the run was still going */
	const char *end_reason; /* set once the run is over */
	int out_err;        /* plain output failed */
};

enum { OPT_SORT = 0x300, OPT_BLAME };

static const struct argp_option options[] = {
	{ "interval", 'i', "SECONDS", 0, "Refresh every SECONDS (default 1; + and - change it)",
	  2 },
	{ "sort", OPT_SORT, "KEY", 0, "Order threads by KEY: hold (default), wait, acq, mean, "
				      "max, retries, forced, tid, name", 2 },
	{ "blame", OPT_BLAME, NULL, 0, "Read the holder's Python stack when others wait, and "
				       "show the function it holds the GIL in (HOLDING NOW)", 2 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct top_args *a = state->input;
	int sort;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		break;
	case 'i':
		a->interval_s = parse__double(state, "interval", arg, 0.1, 3600);
		break;
	case OPT_SORT:
		sort = top_sort__parse(arg);
		if (sort < 0)
			argp_error(state, "invalid sort key '%s': expected one of %s", arg,
				   top_sort__names());
		a->sort = (enum top_sort)sort;
		break;
	case OPT_BLAME:
		a->live.blame = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"Show live, interval by interval, which threads hold and wait for the GIL, how "
	"often it switches, how many wake-ups fail, and what pathology that adds up to. "
	"Keys: q quit, p pause, + and - change the interval, s or h w a m x r f t n sort, "
	"? help. When stdout is not a terminal, prints each interval as plain lines. The "
	"summary follows when the run ends.\v"
	"Examples:\n"
	"  sudo giltrace top -p 4242\n"
	"  sudo giltrace top -i 0.5 --sort wait -p 4242\n"
	"  sudo giltrace top -- build/toyvm tools/toyvm/examples/counter.tvm 4\n"
	"  sudo giltrace top -d 10 -p 4242 > top.log     plain lines, then the summary\n\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage error; with -- CMD, CMD's\n"
	"own when it ended by itself (128 + N for signal N).";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "[-- CMD [ARGS...]]", .doc = doc,
	.children = target_opts_children,
};

static int held_output__start(struct held_output *io)
{
	int tty_fd, err;

	io->saved_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	io->saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	tty_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	io->tty = tty_fd >= 0 ? fdopen(tty_fd, "w") : NULL;
	io->held = tmpfile();
	if (io->saved_out < 0 || io->saved_err < 0 || !io->tty || !io->held) {
		err = -errno;
		if (io->held)
			fclose(io->held);
		if (io->tty)
			fclose(io->tty);
		else if (tty_fd >= 0)
			close(tty_fd);
		if (io->saved_out >= 0)
			close(io->saved_out);
		if (io->saved_err >= 0)
			close(io->saved_err);
		memset(io, 0, sizeof(*io));
		return err;
	}
	fcntl(fileno(io->held), F_SETFD, FD_CLOEXEC);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(io->held), STDOUT_FILENO);
	dup2(fileno(io->held), STDERR_FILENO);
	return 0;
}

/* Puts fds 1 and 2 back and shows on stderr what was held meanwhile. */
static void held_output__end(struct held_output *io)
{
	char buf[4096];
	size_t n;

	if (!io->held)
		return;
	fflush(stdout);
	fflush(stderr);
	dup2(io->saved_out, STDOUT_FILENO);
	dup2(io->saved_err, STDERR_FILENO);
	close(io->saved_out);
	close(io->saved_err);
	rewind(io->held);
	while ((n = fread(buf, 1, sizeof(buf), io->held)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(io->held);
	fclose(io->tty);
	memset(io, 0, sizeof(*io));
}

static struct top_frame frame_of(const struct top_ctx *t)
{
	struct top_frame f = {
		.eng = t->es.eng, .meta = &t->es.meta, .interval_ms = t->ctl.interval_ms,
		.sort = t->ctl.sort, .paused = t->ctl.paused,
		.elapsed_ns = t->tick_ns > t->start_ns ? t->tick_ns - t->start_ns : 0,
		.ended = t->end_reason != NULL, .end_reason = t->end_reason,
		.stacks = t->es.stacks,
	};

	return f;
}

static int show(struct top_ctx *t)
{
	struct top_frame f = frame_of(t);

	if (t->screen) {
		top_screen__draw(t->screen, &f);
		return 0;
	}
	if (!t->out_err)
		t->out_err = top_plain__print(stdout, &f);
	return t->out_err;
}

/* Closes the engine's interval at now and shows it. */
static int close_interval(struct top_ctx *t, __u64 now)
{
	engine__tick(t->es.eng, now);
	t->tick_ns = now;
	t->next_ns = now + (__u64)t->ctl.interval_ms * 1000000ull;
	return show(t);
}

/* When the run ended: detaching the probes takes a while after the loop
 * stops, and that time is no part of the run. The loop ran until at least
 * the last tick it made and the last event it delivered. */
static __u64 end_of_run(const struct top_ctx *t)
{
	struct engine_totals tot;
	__u64 end = t->seen_ns, now = mono_now();

	engine__totals(t->es.eng, &tot);
	if (tot.last_ts > end)
		end = tot.last_ts;
	if (end < t->tick_ns)
		end = t->tick_ns;
	return end < now ? end : now;
}

/* After the engine sink has the meta: the screen shows it at once. */
static int on_start(void *ctx, const struct trace_meta *meta, char *err, size_t errlen)
{
	struct top_ctx *t = ctx;

	(void)meta;
	(void)err;
	(void)errlen;
	t->start_ns = t->tick_ns = mono_now();
	t->next_ns = t->start_ns + (__u64)t->ctl.interval_ms * 1000000ull;
	if (t->screen)
		show(t);
	return 0;
}

/* Keys: q stops the run; pause freezes the engine's last interval on the
 * screen while events keep flowing in; resuming closes the interval at
 * once, so the next frame covers the pause. */
static int on_input(void *ctx)
{
	struct top_ctx *t = ctx;
	int changed;

	if (!t->screen)
		return 0;
	changed = top_screen__input(t->screen, &t->ctl);
	if (changed & TOP_INPUT_QUIT)
		return 1;
	if ((changed & TOP_INPUT_PAUSE) && !t->ctl.paused)
		return close_interval(t, mono_now());
	if (changed & TOP_INPUT_INTERVAL)
		t->next_ns = t->tick_ns + (__u64)t->ctl.interval_ms * 1000000ull;
	if (changed)
		show(t);
	return 0;
}

static int on_tick(void *ctx, __u64 now)
{
	struct top_ctx *t = ctx;

	t->seen_ns = now;
	/* A resize interrupts poll() but makes no input: look for it here. */
	if (t->screen && on_input(t))
		return 1;
	if (now < t->next_ns)
		return 0;
	if (t->ctl.paused) {
		t->next_ns = now + (__u64)t->ctl.interval_ms * 1000000ull;
		return 0;
	}
	return close_interval(t, now);
}

/* After the target exited (or -d ran out): the last frame stays up until a
 * key, Ctrl-C or FINAL_SCREEN_MS; a resize redraws it. */
static void final_screen(struct top_ctx *t)
{
	__u64 end = mono_now() + FINAL_SCREEN_MS * 1000000ull;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

	while (!signals_stop && mono_now() < end) {
		int changed;

		poll(&pfd, 1, INPUT_TICK_MS);
		changed = top_screen__input(t->screen, &t->ctl);
		if (changed & TOP_INPUT_KEY)
			break;
		if (changed)
			show(t);
	}
}

static int open_screen(struct top_ctx *t)
{
	char err[256];
	int ret = held_output__start(&t->io);

	if (ret) {
		fprintf(stderr, "giltrace: cannot set the terminal aside: %s\n", strerror(-ret));
		return 1;
	}
	t->screen = top_screen__open(t->io.tty, stdin, err, sizeof(err));
	if (!t->screen) {
		held_output__end(&t->io);
		fprintf(stderr, "giltrace: %s (redirect stdout for plain lines)\n", err);
		return 1;
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { .target.live = &a.live, .interval_s = 1.0, .sort = TOP_SORT_HOLD };
	struct engine_opts eo = { 0 };
	struct top_ctx t = { 0 };
	struct stream_sink engine, start = { .start = on_start, .ctx = &t }, sink;
	struct stream_tee tee = { 0 };
	struct live_hooks hooks;
	struct live_result res;
	__u64 end;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	t.ctl.interval_ms = (int)(a.interval_s * 1000.0 + 0.5);
	t.ctl.sort = a.sort;
	t.es.eng = engine__new(&eo);
	if (a.live.blame)
		t.es.stacks = stack_table__new();
	if (!t.es.eng || (a.live.blame && !t.es.stacks)) {
		engine__free(t.es.eng);
		stack_table__free(t.es.stacks);
		fprintf(stderr, "giltrace: out of memory\n");
		return 1;
	}
	if (isatty(STDOUT_FILENO) && open_screen(&t)) {
		engine__free(t.es.eng);
		stack_table__free(t.es.stacks);
		return 1;
	}
	a.live.quiet = t.screen != NULL;
	/* live -> [engine, the screen's clock] -> top view, closed each interval */
	engine = engine_sink__sink(&t.es);
	stream_tee__add(&tee, &engine);
	stream_tee__add(&tee, &start);
	sink = stream_tee__sink(&tee);
	hooks = (struct live_hooks){
		.on_tick = on_tick, .on_input = on_input, .ctx = &t,
		.input_fd = t.screen && isatty(STDIN_FILENO) ? STDIN_FILENO : -1,
		.tick_ms = INPUT_TICK_MS,
	};
	ret = live__run(&a.live, &sink, &hooks, &res);
	if (!ret) {
		/* The last, partial interval: with it the intervals add up to
		 * the run, as the summary counts it. */
		t.end_reason = t.ctl.quit || signals_stop ? "stopped" :
			       res.target_exited ? "target exited" : "duration reached";
		t.ctl.paused = false;
		end = end_of_run(&t);
		/* Plain lines need it to add up; the screen keeps the last
		 * full interval rather than show a sliver's noisy rates. */
		if (!t.screen || end - t.tick_ns >= (__u64)t.ctl.interval_ms * 500000ull ||
		    t.tick_ns == t.start_ns)
			close_interval(&t, end);
		else
			show(&t);
		if (hooks.input_fd >= 0 && !t.ctl.quit && !signals_stop)
			final_screen(&t);
	}
	if (t.screen) {
		top_screen__close(t.screen);
		held_output__end(&t.io);
	}
	if (!ret)
		ret = summary_out__print(stdout, t.es.eng, &t.es.meta, false);
	engine__free(t.es.eng);
	stack_table__free(t.es.stacks);
	return ret ? ret : live__exit_status(&res);
}
