#include "target/runtimes.h"

static const struct runtime_row rows[] = {
	{
		.name = "toyvm",
		.version = "1",
		.mode = "hooks",
		.detect_symbol = "toyvm_gil_acquired",
		.gil_symbol = "toyvm_gil",
		.hooks = {
			{ "toyvm_gil_wait", "gil_wait" },
			{ "toyvm_gil_retry", "gil_retry" },
			{ "toyvm_gil_timeout", "gil_timeout" },
			{ "toyvm_gil_drop_request", "gil_drop_request" },
			{ "toyvm_gil_acquired", "gil_acquire" },
			{ "toyvm_gil_release", "gil_release" },
			{ "toyvm_gil_forced_release", "gil_forced_release" },
		},
		.verified = "tools/toyvm/gil_hooks.h; counts checked against --gil-stats "
			    "by tests/e2e/test_trace_toyvm.py",
	},
};

const struct runtime_row *runtimes__table(int *count)
{
	*count = (int)(sizeof(rows) / sizeof(rows[0]));
	return rows;
}
