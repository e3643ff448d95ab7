/*
 * Free-threaded CPython (3.13t): the probes on its locks' contended paths
 * (bpf/ftlocks.bpf.h) and how a lock's owner object is named. Kept apart
 * from the GIL's plan: a free-threaded build's GIL (off, or switched back
 * on) is planned elsewhere, and these probes go beside it.
 */
#ifndef GILTRACE_FTLOCKS_PLAN_H
#define GILTRACE_FTLOCKS_PLAN_H

#include <stddef.h>

#include "target/plan.h"
#include "target/proc.h"

/* Appends the lock probes found in ef (the mapped file holding _PyRuntime)
 * to plan and fills plan->locks. 0, or -errno with a reason in err:
 * -ENOENT when the file lacks the lock functions (also appended to the
 * plan's warning: the GIL is traced without them). */
int ftlocks_plan__add(struct attach_plan *plan, struct elf_file *ef,
		      const struct proc_mapping *m, char *err, size_t errlen);

/* After the plan's note is set: appends what a stripped build's lock
 * probes miss ("not traced: stop-the-world pauses"), which the summary
 * and a capture's header then carry. */
void ftlocks_plan__note(struct attach_plan *plan);

#endif
