/*
 * A one-shot breakpoint at the entry point of a process stopped under ptrace
 * just after an exec: there the dynamic loader has mapped every library
 * (libpython among them) and none of the program's own code has run, which
 * is where giltrace looks at what the process is and attaches its probes.
 */
#ifndef GILTRACE_ENTRY_TRAP_H
#define GILTRACE_ENTRY_TRAP_H

#include <stdbool.h>
#include <sys/types.h>

struct entry_trap {
	unsigned long addr; /* AT_ENTRY; 0 when no trap is set */
	long word;          /* the text word the int3 replaced */
};

/* Sets the trap in pid (stopped at its exec); 0 or -errno. */
int entry_trap__set(pid_t pid, struct entry_trap *t);
/* pid, stopped by a SIGTRAP, stopped on the trap. */
bool entry_trap__hit(pid_t pid, const struct entry_trap *t);
/* Puts the text back and, when pid stopped on the trap, rewinds it to the
 * entry point, so that it runs on as if the trap had never been there;
 * 0 or -errno. */
int entry_trap__clear(pid_t pid, struct entry_trap *t);

#endif
