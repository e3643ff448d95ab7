#include "cli/summary_out.h"

#include "views/summary.h"

void summary_out__print(FILE *out, const struct engine *eng, const struct trace_meta *meta,
			bool json)
{
	if (json)
		summary__print_json(out, eng, meta);
	else
		summary__print_text(out, eng, meta);
	fflush(out);
}
