/*
 * What giltrace may do, asked of the kernel with libcap.
 *
 * Up front: whether this process may trace at all (CAP_PERFMON and
 * CAP_SYS_ADMIN, which covers CAP_BPF and /proc/PID/map_files; the kernel
 * also refuses the uprobes without it), so that the user hears "run with
 * sudo", not a confusing failure further on.
 *
 * Once attached: giltrace reads what the traced processes control for as
 * long as it runs (their memory, names and files; `serve` answers HTTP too),
 * so it gives up every capability it no longer needs (docs/security.md).
 */
#ifndef GILTRACE_PRIVILEGES_H
#define GILTRACE_PRIVILEGES_H

#include <stdbool.h>
#include <sys/types.h>

bool privileges__can_trace(void);

/* Whom giltrace becomes once attached, when it runs on for long with a
 * network peer (serve): a uid and gid other than root's. */
struct run_as {
	bool set;
	uid_t uid;
	gid_t gid;
	char name[64]; /* for messages */
};

/* Resolves USER (a name or a number) into as; 0, or a one-line reason. */
int privileges__lookup_user(const char *user, struct run_as *as, char *err, size_t errlen);

/* Keeps only what tracing needs from now on, in the effective, permitted
 * and inheritable sets, and empties the bounding and ambient sets so that
 * nothing giltrace might exec gets more. later_attaches: probes will still
 * be attached to processes found later (--all). With as->set, first
 * becomes that user and group (no supplementary groups), keeping those
 * capabilities: root's uid would regain every capability at an exec, and
 * a uid other than root's makes the process undumpable, out of reach of
 * that user's other processes. 0 or -errno. Capabilities are per thread:
 * call before starting threads that read what a peer sends. */
int privileges__drop_after_attach(bool later_attaches, const struct run_as *as);

#endif
