/* The one global: set by SIGINT, SIGTERM and SIGHUP, read by the loops. */
#ifndef GILTRACE_SIGNALS_H
#define GILTRACE_SIGNALS_H

#include <signal.h>

extern volatile sig_atomic_t signals_stop;

/* Installs the handlers (before anything is attached) and ignores SIGPIPE,
 * so that `giltrace ... | head` ends with a clean write error instead. */
void signals__install(void);

#endif
