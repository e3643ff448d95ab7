/*
 * Number formatting shared by the views: figures come from the engine as
 * plain numbers, and every view turns them into text the same way.
 */
#ifndef GILTRACE_FORMAT_H
#define GILTRACE_FORMAT_H

#include <stddef.h>
#include <linux/types.h>

#include "engine/engine.h"

#define FORMAT_LEN 24

/* "0 ns", "850 ns", "12.3 us", "4.56 ms", "2.31 s", "1h02m". Returns buf. */
char *format__duration(char *buf, size_t len, double ns);
/* "999", "12.3k", "4.56M", "1.20G". Returns buf. */
char *format__count(char *buf, size_t len, double n);
/* "holding", "waiting", "running", "unknown". */
const char *format__state(enum thread_state state);

#endif
