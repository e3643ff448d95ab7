#include "cli/summary_out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "views/summary.h"

int summary_out__print(const struct engine *eng, const struct trace_meta *meta, bool json)
{
	if (json)
		summary__print_json(stdout, eng, meta);
	else
		summary__print_text(stdout, eng, meta);
	if (fflush(stdout) == 0)
		return 0;
	if (errno == EPIPE)
		return 0;
	fprintf(stderr, "giltrace: cannot write the summary: %s\n", strerror(errno));
	return 1;
}
