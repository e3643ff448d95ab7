/* Number parsing for argp parsers: strtol/strtod, errno and a range test;
 * a bad value is an argp_error() naming the option and the value. */
#ifndef GILTRACE_PARSE_H
#define GILTRACE_PARSE_H

#include <argp.h>

long parse__long(struct argp_state *state, const char *what, const char *arg, long min,
		 long max);
double parse__double(struct argp_state *state, const char *what, const char *arg, double min,
		     double max);

#endif
