#include "run/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/capability.h>

/*
 * What a running trace still needs, whatever it traces:
 * - CAP_SYS_PTRACE: the self-check and blame read the targets' memory,
 *   discovery their /proc/PID/maps (the targets run as other users);
 * - CAP_KILL: -- CMD's child runs as the invoking user and is stopped by
 *   giltrace at the end (-d, Ctrl-C);
 * - CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_CHOWN, CAP_FOWNER: files
 *   written at the end (summaries, under sudo in the user's directories and
 *   owned by the user).
 * BPF maps and the ring buffer need nothing once their fds are open (6.5+).
 */
static const cap_value_t keep_always[] = {
	CAP_SYS_PTRACE, CAP_KILL, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_CHOWN, CAP_FOWNER,
};
/* What attaching to a process found later takes: uprobes and their links
 * (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN for /proc/PID/map_files and the
 * uprobes), and the locked-memory limit libbpf may raise. */
static const cap_value_t keep_for_attach[] = {
	CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, CAP_SYS_RESOURCE,
};

bool privileges__can_trace(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t admin = CAP_CLEAR, perfmon = CAP_CLEAR;

	if (!caps)
		return false;
	/* CAP_SYS_ADMIN stands in for CAP_BPF. Without it the kernel refuses
	 * the uprobes on 6.x (EPERM) even with CAP_BPF, CAP_PERFMON and
	 * CAP_CHECKPOINT_RESTORE, so say so before loading anything. */
	cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &admin);
	cap_get_flag(caps, CAP_PERFMON, CAP_EFFECTIVE, &perfmon);
	cap_free(caps);
	return admin == CAP_SET && perfmon == CAP_SET;
}

static bool wanted(cap_value_t c, bool later_attaches)
{
	for (size_t i = 0; i < sizeof(keep_always) / sizeof(keep_always[0]); i++)
		if (keep_always[i] == c)
			return true;
	for (size_t i = 0; later_attaches && i < sizeof(keep_for_attach) / sizeof(keep_for_attach[0]);
	     i++)
		if (keep_for_attach[i] == c)
			return true;
	return false;
}

int privileges__lookup_user(const char *user, struct run_as *as, char *err, size_t errlen)
{
	struct passwd *pw;
	char *end;
	unsigned long n;

	errno = 0;
	pw = getpwnam(user);
	if (!pw && user[0] >= '0' && user[0] <= '9') {
		n = strtoul(user, &end, 10);
		if (!*end && n < (uid_t)-1)
			pw = getpwuid((uid_t)n);
	}
	if (!pw) {
		snprintf(err, errlen, "no user '%s' on this machine (--user takes a name or a uid "
			 "from /etc/passwd)", user);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "--user %s is root: name an unprivileged user, such as nobody",
			 user);
		return -EINVAL;
	}
	as->set = true;
	as->uid = pw->pw_uid;
	as->gid = pw->pw_gid;
	snprintf(as->name, sizeof(as->name), "%s", pw->pw_name);
	return 0;
}

/* setgroups and the gid, then the uid, whose change would take the
 * capability to change the others. libcap keeps the permitted set across
 * the uid change (PR_SET_KEEPCAPS); the effective set is emptied. Single
 * threaded here: without libpsx, libcap changes the calling thread only. */
static int become(const struct run_as *as)
{
	if (cap_setgroups(as->gid, 0, NULL))
		return -errno;
	if (cap_setuid(as->uid))
		return -errno;
	return 0;
}

int privileges__drop_after_attach(bool later_attaches, const struct run_as *as)
{
	static const cap_flag_t sets[] = { CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE };
	cap_flag_value_t setpcap = CAP_CLEAR;
	cap_t caps;
	int ret = 0;

	if (as && as->set) {
		ret = become(as);
		if (ret)
			return ret;
	}
	caps = cap_get_proc(); /* what we have: a partly privileged run keeps less */
	if (!caps)
		return -errno;
	/* A uid change empties the effective set (the permitted one stays):
	 * what is kept below must be in effect again. */
	if (cap_fill(caps, CAP_EFFECTIVE, CAP_PERMITTED) || cap_set_proc(caps)) {
		ret = -errno;
		cap_free(caps);
		return ret;
	}
	cap_get_flag(caps, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
	for (cap_value_t c = 0; !ret && c <= CAP_LAST_CAP; c++) {
		if (wanted(c, later_attaches) || !CAP_IS_SUPPORTED(c))
			continue;
		for (size_t i = 0; !ret && i < sizeof(sets) / sizeof(sets[0]); i++)
			if (cap_set_flag(caps, sets[i], 1, &c, CAP_CLEAR))
				ret = -errno;
		/* the bounding set while CAP_SETPCAP is still ours */
		if (!ret && setpcap == CAP_SET && cap_drop_bound(c))
			ret = -errno;
	}
	if (!ret && cap_reset_ambient() && errno != EINVAL)
		ret = -errno;
	if (!ret && cap_set_proc(caps))
		ret = -errno;
	cap_free(caps);
	return ret;
}
