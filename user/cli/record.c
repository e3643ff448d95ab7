/* `giltrace record -o FILE [-p PID | -- CMD]`: write every event to a capture. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/out_file.h"
#include "cli/summary_out.h"
#include "cli/parse.h"
#include "cli/target_opts.h"
#include "stream/engine_sink.h"
#include "stream/tee.h"
#include "stream/writer_sink.h"
#include "util/sudo_user.h"

struct record_args {
	struct live_opts live;
	struct target_opts_input target;
	struct writer_sink ws;
	bool summary, json; /* also print the live summary ... */
	const char *summary_path; /* ... to this new file (NULL: stdout) */
};

enum { OPT_FORCE = 0x300, OPT_MAX_SIZE, OPT_SUMMARY, OPT_JSON, OPT_BLAME };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Capture:", 2 },
	{ "output", 'o', "FILE", 0, "Write the capture to FILE (created mode 0600); -: to "
				    "standard output", 2 },
	{ "force", OPT_FORCE, NULL, 0, "Overwrite FILE (and the summary's OUT) if it exists "
	  "(never through a symlink)", 2 },
	{ "max-size", OPT_MAX_SIZE, "MB", 0, "Stop recording cleanly when the file reaches MB "
					     "megabytes", 2 },
	{ "summary", OPT_SUMMARY, "OUT", OPTION_ARG_OPTIONAL, "Also print the live summary at the "
	  "end, to standard output or to OUT, a new file (--force overwrites it)", 2 },
	{ "json", OPT_JSON, "OUT", OPTION_ARG_OPTIONAL, "The same as JSON", 2 },
	{ "blame", OPT_BLAME, NULL, 0, "Also record the GIL holder's Python stacks, for report "
				       "--blame", 2 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct record_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		break;
	case 'o':
		a->ws.path = arg;
		break;
	case OPT_FORCE:
		a->ws.flags |= CAPTURE_WRITER_FORCE;
		break;
	case OPT_MAX_SIZE:
		a->ws.wopts.max_bytes =
			(__u64)parse__long(state, "size", arg, 1, LONG_MAX / 1048576) * 1048576;
		break;
	case OPT_SUMMARY:
	case OPT_JSON:
		if (a->summary)
			argp_error(state, "--summary and --json: give one");
		a->summary = true;
		a->json = key == OPT_JSON;
		a->summary_path = arg && strcmp(arg, "-") ? arg : NULL;
		break;
	case OPT_BLAME:
		a->live.blame = true;
		break;
	case ARGP_KEY_END:
		if (!a->ws.path)
			argp_error(state, "no capture file: give -o FILE");
		/* a capture is binary, and the summary goes to stdout too */
		else if (!strcmp(a->ws.path, "-") && a->summary && !a->summary_path)
			argp_error(state, "-o - writes the capture to standard output: give "
					  "--summary=OUT or --json=OUT to write the summary to a file");
		else if (!strcmp(a->ws.path, "-") && isatty(STDOUT_FILENO))
			argp_error(state, "-o - on a terminal: redirect standard output or give "
					  "-o FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"Record every GIL event of a process to a compact capture file, to analyse later "
	"(on this or another machine) with giltrace report, export and plot. The file is "
	"readable up to its last complete chunk even if giltrace is killed; ring-buffer "
	"drops are recorded where they happened.\v"
	"Examples:\n"
	"  sudo giltrace record -o app.gil -p 4242\n"
	"  sudo giltrace record -d 30 --max-size 100 -o app.gil -p 4242\n"
	"  sudo giltrace record -o c.gil -- build/toyvm tools/toyvm/examples/counter.tvm\n"
	"  sudo giltrace record -d 10 -o - -p 4242 | ssh host giltrace report -\n"
	"  sudo giltrace record -o app.gil --json=app.json -- python3 app.py\n"
	"  giltrace report app.gil";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "-o FILE [-- CMD [ARGS...]]",
	.doc = doc, .children = target_opts_children,
};

struct record_run {
	struct record_args *a;
	struct engine_sink es; /* eng NULL: no summary */
	FILE *out;             /* of the summary */
	bool printed;          /* else out is discarded */
	int end_ret;
};

/* A flush a second bounds what a SIGKILL can take from the capture. */
static int on_tick(void *ctx, __u64 now_ns)
{
	struct record_run *r = ctx;

	(void)now_ns;
	return writer_sink__flush(&r->a->ws);
}

/* The capture is closed and the summary printed before the probes are
 * detached, which takes the kernel a while. */
static void on_end(void *ctx, const struct live_result *res)
{
	struct record_run *r = ctx;

	r->end_ret = writer_sink__finish(&r->a->ws, res->drops);
	if (!r->end_ret && r->es.eng) {
		r->end_ret = summary_out__print(r->out, r->es.eng, &r->es.meta, r->a->json);
		r->printed = true;
	}
}

/* With -o -, standard output carries the capture alone: what CMD (or
 * anything else) writes there goes to standard error instead. Returns the
 * descriptor the capture goes to, or -1 after a one-line error. */
static int take_stdout(void)
{
	int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);

	if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		fprintf(stderr, "giltrace: cannot write to standard output: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int cmd_record(int argc, char **argv)
{
	struct record_args a = { .target.live = &a.live };
	struct record_run r = { .a = &a };
	struct live_hooks hooks = {
		.on_tick = on_tick, .on_end = on_end, .ctx = &r, .input_fd = -1, .tick_ms = 1000,
	};
	struct stream_sink engine, writer, sink;
	struct stream_tee tee = { 0 };
	struct live_result res;
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	/* Version 3 always: CPython traces carry HOLDER_FRAME and its one-frame
	 * stack records, blame or not (docs/capture-format.md). */
	a.ws.wopts.blame = true;
	a.ws.wopts.chown = sudo_user(&a.ws.wopts.uid, &a.ws.wopts.gid);
	if (!strcmp(a.ws.path, "-")) {
		a.ws.fd = take_stdout();
		if (a.ws.fd < 0)
			return 1;
	}
	/* live -> [engine -> summary (--summary, --json), capture writer] */
	if (a.summary) {
		r.out = out_file__open(a.summary_path, a.ws.flags & CAPTURE_WRITER_FORCE);
		if (!r.out)
			return 1;
		r.es.eng = engine__new(&(struct engine_opts){ 0 });
		if (!r.es.eng) {
			fprintf(stderr, "giltrace: out of memory\n");
			out_file__discard(r.out, a.summary_path);
			return 1;
		}
		engine = engine_sink__sink(&r.es);
		stream_tee__add(&tee, &engine);
	}
	writer = writer_sink__sink(&a.ws);
	stream_tee__add(&tee, &writer);
	sink = stream_tee__sink(&tee);
	ret = live__run(&a.live, &sink, &hooks, &res);
	/* A run that failed early still leaves a complete, readable file. */
	ret = writer_sink__finish(&a.ws, res.drops) || ret || r.end_ret;
	if (r.out && !r.printed)
		out_file__discard(r.out, a.summary_path);
	else if (r.out && out_file__close(r.out, a.summary_path))
		ret = 1;
	engine__free(r.es.eng);
	return ret ? ret : live__exit_status(&res);
}
