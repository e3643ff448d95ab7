#include "cli/out_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sudo_user.h"

#define OUT_BUF (1 << 20)

enum { OPT_FORCE = 0x900 };

static const struct argp_option options[] = {
	{ "output", 'o', "OUT", 0, "Write to OUT, a new file, instead of standard output (-: standard output)", 0 },
	{ "force", OPT_FORCE, NULL, 0, "Overwrite OUT if it exists (never through a symlink)", 0 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct out_file_opts *o = state->input;

	switch (key) {
	case 'o':
		/* "-" is standard output, as for every tool that writes a stream */
		o->path = strcmp(arg, "-") ? arg : NULL;
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp out_file_argp = { .options = options, .parser = parse };

/* Under sudo the output is the invoking user's, as if they had made it. */
static int give_to_sudo_user(int fd)
{
	uid_t uid;
	gid_t gid;

	return sudo_user(&uid, &gid) ? fchown(fd, uid, gid) : 0;
}

FILE *out_file__open(const char *path, bool force)
{
	int oflags = O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	FILE *f;
	int fd;

	if (!path) {
		setvbuf(stdout, NULL, _IOFBF, OUT_BUF);
		return stdout;
	}
	/* O_EXCL refuses symlinks too; O_NOFOLLOW keeps --force from writing
	 * through one, O_NONBLOCK from hanging on a FIFO. */
	oflags |= force ? O_TRUNC | O_NONBLOCK : O_EXCL;
	fd = open(path, oflags, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "giltrace: %s exists: choose another name or add --force\n",
				path);
		else if (errno == ELOOP)
			fprintf(stderr, "giltrace: cannot create %s: it is a symbolic link\n", path);
		else
			fprintf(stderr, "giltrace: cannot create %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || fcntl(fd, F_SETFL, 0) || give_to_sudo_user(fd)) {
		fprintf(stderr, "giltrace: cannot create %s: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "giltrace: cannot create %s: not a regular file\n", path);
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, "giltrace: cannot create %s: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, OUT_BUF);
	return f;
}

void out_file__discard(FILE *f, const char *path)
{
	if (f == stdout)
		return;
	fclose(f);
	unlink(path);
}

int out_file__close(FILE *f, const char *path)
{
	int err = ferror(f) ? (errno ? errno : EIO) : 0;

	if (fflush(f) && !err)
		err = errno;
	if (f != stdout && fclose(f) && !err)
		err = errno;
	if (!err || (err == EPIPE && f == stdout))
		return 0;
	fprintf(stderr, "giltrace: cannot write %s: %s\n", path ? path : "the output",
		strerror(err));
	return 1;
}
