#include "cli/summary_out.h"

#include <errno.h>
#include <string.h>

#include "views/summary.h"

int summary_out__print(FILE *out, const struct engine *eng, const struct trace_meta *meta,
		       bool json)
{
	int err;

	if (json)
		summary__print_json(out, eng, meta);
	else
		summary__print_text(out, eng, meta);
	if (!fflush(out))
		return 0;
	/* Said here, while errno is fflush's: out_file__close() comes after
	 * the teardown. */
	err = errno;
	clearerr(out);
	if (err == EPIPE && out == stdout)
		return 0;
	fprintf(stderr, "giltrace: cannot write the summary: %s\n", strerror(err));
	return 1;
}
