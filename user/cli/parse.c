#include "cli/parse.h"

#include <errno.h>
#include <stdlib.h>

long parse__long(struct argp_state *state, const char *what, const char *arg, long min,
		 long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		argp_error(state, "invalid %s '%s': expected an integer from %ld to %ld", what, arg,
			   min, max);
	return v;
}

double parse__double(struct argp_state *state, const char *what, const char *arg, double min,
		     double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= min && v <= max))
		argp_error(state, "invalid %s '%s': expected a number from %g to %g", what, arg, min,
			   max);
	return v;
}
