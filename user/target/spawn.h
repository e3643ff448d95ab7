/*
 * Starting a target under giltrace (`giltrace -- CMD ARGS...`): the command
 * runs up to its program's entry point, where the dynamic loader has mapped
 * every library but no Python code has run, and waits there while probes are
 * attached. Under sudo it runs as the invoking user, not as root.
 */
#ifndef GILTRACE_SPAWN_H
#define GILTRACE_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Starts argv[0] (searched in PATH) stopped at its entry point; 0 and *pid,
 * or -errno with a one-line reason in err. */
int spawn__start(char *const argv[], bool keep_root, pid_t *pid, char *err, size_t errlen);
/* Lets the stopped command run. */
int spawn__resume(pid_t pid);
/* Kills a command that never got to run (attach failed). */
void spawn__abort(pid_t pid);

#endif
