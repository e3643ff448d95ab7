/* The toy VM's GIL: four designs behind one interface. */
#ifndef TOYVM_GIL_H
#define TOYVM_GIL_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

enum gil_design { GIL_OLD, GIL_NEW, GIL_PRIO, GIL_FIFO };

#define GIL_MAX_LIVE_THREADS 64

struct gil_thread;

/* Set by a waiter asking the holder to drop the GIL (new, prio, fifo); the
 * interpreter polls it at every instruction boundary. */
extern atomic_int gil_eval_breaker;

void gil_init(enum gil_design design, long check_interval, long switch_us,
	      int want_log);
const char *gil_design_name(enum gil_design design);
long gil_check_interval(void);

/* Creates the GIL state of a new VM thread (called by the creator; NULL if
 * too many threads are alive). The thread itself calls gil_thread_start
 * first thing, and gil_thread_exit last (after its final release). */
struct gil_thread *gil_thread_new(const char *name);
void gil_thread_start(struct gil_thread *t);
void gil_thread_exit(struct gil_thread *t);
void gil_thread_setname(struct gil_thread *t, const char *name);

void gil_acquire(struct gil_thread *t);
void gil_release(struct gil_thread *t);
/* Called by the interpreter when t's tick count reaches zero. */
void gil_tick_check(struct gil_thread *t);
/* Called by the interpreter when gil_eval_breaker is set. */
void gil_drop_check(struct gil_thread *t);

int *gil_thread_ticks(struct gil_thread *t);

/* A consistent snapshot of every counter, taken under the GIL's internal
 * mutex, as one JSON line (malloc'd, ends with a newline). */
char *gil_snapshot_json(const char *reason);
/* Writes the event log; returns the number of dropped events. */
uint64_t gil_log_write(FILE *f, uint64_t *kept);
/* The same, but leaves the internal mutex locked for good, so that nothing
 * happens after the snapshot (the final write on SIGINT or SIGTERM). */
char *gil_freeze_and_snapshot_json(const char *reason);

#endif
