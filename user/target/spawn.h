/*
 * Starting a target under giltrace (`giltrace -- CMD ARGS...`): the command
 * and every process it forks are followed through their execs (target/
 * follow.h) until one of them runs a supported runtime, which waits at its
 * program's entry point, where the dynamic loader has mapped every library
 * but no Python code has run, while probes are attached; the others run on
 * untraced. Under sudo the command runs as the invoking user, not as root.
 */
#ifndef GILTRACE_SPAWN_H
#define GILTRACE_SPAWN_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "target/follow.h"

struct spawn;

/* Starts argv[0] (searched in PATH) and follows it as fo says; 0 and *sp
 * with the process taken stopped, FOLLOW_STOPPED (the command was sent
 * SIGTERM and has ended) or -errno, both with a one-line reason in err and
 * no process of the command left behind under ptrace. */
int spawn__start(char *const argv[], bool keep_root, const struct follow_opts *fo,
		 struct spawn **sp, char *err, size_t errlen);
/* Lets the stopped runtime run. */
int spawn__resume(struct spawn *sp);
/* The command giltrace started, or the runtime when the command has
 * already been reaped (it exec'd nothing and left the runtime running). */
pid_t spawn__pid(const struct spawn *sp);
/* Sends sig (0: none) to the runtime and to the command that started it,
 * waits for the command (giltrace's child) to end, its wait status in
 * *status (unless NULL; 0 when it was reaped before), and frees sp. With
 * grace_ms, whatever has not ended grace_ms later, or once *interrupt is
 * set (a second Ctrl-C), gets SIGKILL: giltrace never waits for ever on a
 * command that ignores sig, and never leaves one behind. */
void spawn__end(struct spawn *sp, int sig, int grace_ms, volatile sig_atomic_t *interrupt,
		int *status);

#endif
