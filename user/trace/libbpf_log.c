#include "trace/libbpf_log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>

static bool log_verbose;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	if (!log_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void libbpf_log__setup(bool verbose)
{
	log_verbose = verbose;
	libbpf_set_print(print_fn);
}
