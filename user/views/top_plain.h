/*
 * The top view without a terminal (stdout is a pipe or a file): each
 * interval as one line of totals and one line per thread, key=value words
 * that grep and awk can read. The name comes last: it may hold spaces.
 */
#ifndef GILTRACE_TOP_PLAIN_H
#define GILTRACE_TOP_PLAIN_H

#include <stdio.h>

#include "views/top.h"

/* Returns 0, or -EIO when out failed (a closed pipe). */
int top_plain__print(FILE *out, const struct top_frame *f);

#endif
