/* The one libbpf print callback: silent unless -v, because libbpf prints
 * the whole verifier log as a warning and our one-line error speaks instead. */
#ifndef GILTRACE_LIBBPF_LOG_H
#define GILTRACE_LIBBPF_LOG_H

#include <stdbool.h>

void libbpf_log__setup(bool verbose);

#endif
