/* `giltrace blame [-p PID | -- CMD]`: which Python code held the GIL while
 * other threads waited (docs/blame.md). */
#include <argp.h>
#include <stdio.h>

#include "cli/blame_out.h"
#include "cli/commands.h"
#include "cli/out_file.h"
#include "cli/target_opts.h"
#include "stream/engine_sink.h"
#include "target/runtimes.h"

struct blame_args {
	struct live_opts live;
	struct target_opts_input target;
	struct blame_out_opts out;
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct blame_args *a = state->input;

	(void)arg;
	if (key != ARGP_KEY_INIT)
		return ARGP_ERR_UNKNOWN;
	state->child_inputs[0] = &a->target;
	state->child_inputs[1] = &a->out;
	state->child_inputs[2] = &a->out.out;
	return 0;
}

static const struct argp_child children[] = {
	{ &target_opts_argp, 0, "Target:", 1 },
	{ &blame_out_argp, 0, "Output:", 2 },
	{ &out_file_argp, 0, NULL, 3 },
	{ 0 },
};

/* %s: the runtimes blame reads (target/runtimes.h). */
static const char doc_fmt[] =
	"Show which Python code held the GIL while other threads waited: the holder's "
	"stacks (function, file, line), weighted by the wait they caused and by hold "
	"time. The holder's frames are read in the kernel at the moment a thread starts "
	"waiting, when a timed wait expires and when a holder is forced off; %s, "
	"Debian's stripped python3 too.\v"
	"Examples:\n"
	"  sudo giltrace blame -d 10 -p 4242\n"
	"  sudo giltrace blame --top 3 -- python3 app.py\n"
	"  sudo giltrace blame -d 10 --folded - -p 4242 | flamegraph.pl > gil.svg\n"
	"  sudo giltrace record --blame -o app.gil -p 4242\n"
	"  giltrace report --blame app.gil\n\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage error; with -- CMD, CMD's\n"
	"own when it ended by itself (128 + N for signal N).";


struct blame_run {
	struct engine_sink es;
	const struct blame_out_opts *out;
	int end_ret;
};

/* Printed before the probes are detached, as the summary is. */
static void on_end(void *ctx, const struct live_result *res)
{
	struct blame_run *b = ctx;

	(void)res;
	b->end_ret = blame_out__print(b->out, b->es.eng, b->es.stacks, &b->es.meta);
}

int cmd_blame(int argc, char **argv)
{
	struct blame_args a = { .target.live = &a.live, .out = BLAME_OUT_INIT };
	struct blame_run b = { .out = &a.out };
	struct live_hooks hooks = { .on_end = on_end, .ctx = &b, .input_fd = -1 };
	struct stream_sink sink;
	struct live_result res;
	char versions[64], doc[sizeof(doc_fmt) + sizeof(versions)];
	const struct argp argp = {
		.parser = parse, .args_doc = "[-- CMD [ARGS...]]", .doc = doc, .children = children,
	};
	int ret = 1;

	runtimes__blame_versions(versions, sizeof(versions));
	snprintf(doc, sizeof(doc), doc_fmt, versions);
	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	a.live.blame = true;
	b.es.eng = engine__new(&(struct engine_opts){ 0 });
	b.es.stacks = stack_table__new();
	if (!b.es.eng || !b.es.stacks) {
		fprintf(stderr, "giltrace: out of memory\n");
		goto cleanup;
	}
	/* live -> engine (+ stacks) -> blame view */
	sink = engine_sink__sink(&b.es);
	ret = live__run(&a.live, &sink, &hooks, &res);
	ret = ret || b.end_ret;
	if (!ret)
		ret = live__exit_status(&res);
cleanup:
	stack_table__free(b.es.stacks);
	engine__free(b.es.eng);
	return ret;
}
