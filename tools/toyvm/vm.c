/*
 * The toy VM: a bytecode interpreter with real threads and a choice of GIL
 * designs (see gil.c), built as giltrace's ground truth.
 *
 *   toyvm [options] PROGRAM [ARGS...]
 *
 * Exit status: 0 on success; 1 for errors in the program (syntax, compile
 * and runtime errors); 2 for usage errors (bad options, unreadable program
 * or output file); 128+N when killed by signal N (SIGINT, SIGTERM).
 */
#include "gil.h"
#include "toyvm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STACK_VALUES (256 * 1024)
#define STACK_MARGIN 4096
#define MAX_FRAMES 10000
#define IOBUF_SIZE (64 * 1024)

struct frame {
	int64_t *base;
	int ret_pc;
};

struct vthread {
	struct gil_thread *gt;
	pthread_t pth;
	int handle;
	int func;
	int nargs;
	int64_t args[64];
	int64_t result;
	bool joined;
	int64_t *stack;
	struct frame *frames;
	char *iobuf;
};

static struct program prog;
static int64_t *gvals;
static unsigned char *gdefined;
static struct vthread **vts;	/* by handle; 0 is main (under the GIL) */
static int nvts, capvts;
static char **prog_args;
static int prog_nargs;

static const char *stats_path;	/* NULL: stderr */
static int stats_fd = -1;
static const char *log_path;
static FILE *log_file;
static sigset_t sigs;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
/* Guards vts, nvts and joined: the main thread reads them without the GIL
 * at exit. */
static pthread_mutex_t vts_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- errors ---- */

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("toyvm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
rt_error(const struct insn *at, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "toyvm: %s:%d:%d: runtime error: ", prog.file,
		at->line, at->col);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "toyvm: out of memory\n");
		_exit(1);
	}
	return p;
}

/* ---- output of stats and log ---- */

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void write_snapshot(const char *reason)
{
	char *s;

	if (stats_fd < 0)
		return;
	s = gil_snapshot_json(reason);
	write_all(stats_fd, s, strlen(s));
	free(s);
}

static void write_log(void)
{
	uint64_t kept, dropped;

	if (!log_file)
		return;
	dropped = gil_log_write(log_file, &kept);
	if (fclose(log_file))
		fprintf(stderr, "toyvm: %s: %s\n", log_path, strerror(errno));
	log_file = NULL;
	if (dropped)
		fprintf(stderr, "toyvm: gil log truncated: kept %llu events, "
			"dropped %llu\n", (unsigned long long)kept,
			(unsigned long long)dropped);
}

/* The signal thread: never takes the GIL, only its internal mutex (for a
 * consistent snapshot). */
static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	char *s;

	pthread_setname_np(pthread_self(), "toyvm-signal");
	for (;;) {
		int sig;

		if (sigwait(set, &sig))
			continue;
		if (sig == SIGUSR1) {
			pthread_mutex_lock(&out_lock);
			write_snapshot("sigusr1");
			pthread_mutex_unlock(&out_lock);
			continue;
		}
		/* SIGINT, SIGTERM: final snapshot and log, then exit. */
		pthread_mutex_lock(&out_lock);
		s = gil_freeze_and_snapshot_json("signal");
		if (stats_fd >= 0)
			write_all(stats_fd, s, strlen(s));
		write_log();
		fflush(stdout);
		_exit(128 + sig);
	}
	return NULL;
}

/* ---- threads ---- */

static int64_t run(struct vthread *vt, int func);

static void *thread_main(void *arg)
{
	struct vthread *vt = arg;

	gil_thread_start(vt->gt);
	gil_acquire(vt->gt);
	vt->result = run(vt, vt->func);
	gil_release(vt->gt);
	gil_thread_exit(vt->gt);
	return NULL;
}

static struct vthread *new_vthread(const struct insn *at, const char *name)
{
	struct vthread *vt = calloc(1, sizeof(*vt));

	if (!vt) {
		if (at)
			rt_error(at, "out of memory");
		fprintf(stderr, "toyvm: out of memory\n");
		exit(1);
	}
	vt->gt = gil_thread_new(name);
	if (!vt->gt) {
		if (at)
			rt_error(at, "too many threads (at most %d alive)",
				 GIL_MAX_LIVE_THREADS);
		fprintf(stderr, "toyvm: out of memory\n");
		exit(1);
	}
	vt->stack = xmalloc(STACK_VALUES * sizeof(int64_t));
	vt->frames = xmalloc(MAX_FRAMES * sizeof(struct frame));
	pthread_mutex_lock(&vts_lock);
	if (nvts == capvts) {
		capvts = capvts ? capvts * 2 : 16;
		vts = realloc(vts, capvts * sizeof(*vts));
		if (!vts) {
			fprintf(stderr, "toyvm: out of memory\n");
			_exit(1);
		}
	}
	vt->handle = nvts;
	vts[nvts++] = vt;
	pthread_mutex_unlock(&vts_lock);
	return vt;
}

static int64_t do_spawn(const struct insn *in, int64_t *args)
{
	struct vthread *vt;
	char name[16];
	int r;

	snprintf(name, sizeof(name), "t%d", nvts);
	vt = new_vthread(in, name);
	vt->func = (int)in->a;
	vt->nargs = in->b;
	if (in->b > 64)
		rt_error(in, "too many arguments to spawn");
	memcpy(vt->args, args, (size_t)in->b * sizeof(int64_t));
	r = pthread_create(&vt->pth, NULL, thread_main, vt);
	if (r)
		rt_error(in, "cannot create thread: %s", strerror(r));
	return vt->handle;
}

/* ---- builtins ---- */

static char *iobuf(struct vthread *vt)
{
	if (!vt->iobuf)
		vt->iobuf = calloc(1, IOBUF_SIZE);
	if (!vt->iobuf) {
		fprintf(stderr, "toyvm: out of memory\n");
		_exit(1);
	}
	return vt->iobuf;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000,
			       .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t parse_arg(const struct insn *in, int64_t i)
{
	const char *s = prog_args[i];
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end)
		rt_error(in, "argument %lld is not an integer: '%s'",
			 (long long)i, s);
	return v;
}

static int check_fd(const struct insn *in, int64_t fd)
{
	if (fd < 0 || fd > INT_MAX)
		rt_error(in, "bad file descriptor %lld", (long long)fd);
	return (int)fd;
}

static int64_t do_connect(struct vthread *vt, const struct insn *in,
			  const char *host, int64_t port)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM }, *res = NULL;
	char portbuf[16];
	int fd = -1, one = 1;

	if (port < 1 || port > 65535)
		rt_error(in, "bad port %lld", (long long)port);
	snprintf(portbuf, sizeof(portbuf), "%d", (int)port);
	gil_release(vt->gt);
	if (!getaddrinfo(host, portbuf, &hints, &res) && res) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen)) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
	}
	if (res)
		freeaddrinfo(res);
	gil_acquire(vt->gt);
	return fd;
}

static int64_t builtin(struct vthread *vt, const struct insn *in,
		       int64_t *a)
{
	int64_t r = 0;
	ssize_t n;

	switch ((enum builtin)in->a) {
	case B_JOIN: {
		struct vthread *t;
		bool was;

		pthread_mutex_lock(&vts_lock);
		t = a[0] >= 1 && a[0] < nvts ? vts[a[0]] : NULL;
		was = t && t->joined;
		if (t && t != vt)
			t->joined = true;
		pthread_mutex_unlock(&vts_lock);
		if (!t)
			rt_error(in, "join of bad thread handle %lld",
				 (long long)a[0]);
		if (t == vt)
			rt_error(in, "a thread cannot join itself");
		if (was)
			rt_error(in, "thread %lld already joined",
				 (long long)a[0]);
		gil_release(vt->gt);
		pthread_join(t->pth, NULL);
		gil_acquire(vt->gt);
		return t->result;
	}
	case B_SLEEP:
	case B_USLEEP:
		if (a[0] < 0 || a[0] > INT64_MAX / 1000000)
			rt_error(in, "bad sleep time %lld", (long long)a[0]);
		gil_release(vt->gt);
		sleep_ns(a[0] * (in->a == B_SLEEP ? 1000000 : 1000));
		gil_acquire(vt->gt);
		return 0;
	case B_CLOCK:
		return mono_ns();
	case B_CLOCK_US:
		return mono_ns() / 1000;
	case B_ARGC:
		return prog_nargs;
	case B_ARG:
		if (a[0] >= 0 && a[0] < prog_nargs)
			return parse_arg(in, a[0]);
		if (in->b == 2)
			return a[1];
		rt_error(in, "missing argument %lld", (long long)a[0]);
	case B_LISTEN: {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int fd, one = 1;

		if (a[0] < 0 || a[0] > 65535)
			rt_error(in, "bad port %lld", (long long)a[0]);
		sa.sin_port = htons((uint16_t)a[0]);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(fd, 128)) {
			close(fd);
			return -1;
		}
		return fd;
	}
	case B_ACCEPT: {
		int fd = check_fd(in, a[0]), c, one = 1;

		gil_release(vt->gt);
		do
			c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		while (c < 0 && errno == EINTR);
		gil_acquire(vt->gt);
		if (c >= 0)
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
		return c;
	}
	case B_CONNECT:
		if (in->b == 2)
			return do_connect(vt, in, prog.strings[a[0]], a[1]);
		return do_connect(vt, in, "127.0.0.1", a[0]);
	case B_RECV: {
		int fd = check_fd(in, a[0]);
		char *buf = iobuf(vt);

		if (a[1] < 0)
			rt_error(in, "bad length %lld", (long long)a[1]);
		gil_release(vt->gt);
		do
			n = recv(fd, buf, a[1] < IOBUF_SIZE ? (size_t)a[1]
				 : IOBUF_SIZE, 0);
		while (n < 0 && errno == EINTR);
		gil_acquire(vt->gt);
		return n;
	}
	case B_SEND: {
		int fd = check_fd(in, a[0]);
		char *buf = iobuf(vt);
		int64_t left = a[1];

		if (a[1] < 0)
			rt_error(in, "bad length %lld", (long long)a[1]);
		gil_release(vt->gt);
		while (left > 0) {
			n = send(fd, buf, left < IOBUF_SIZE ? (size_t)left
				 : IOBUF_SIZE, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = -1;
				break;
			}
			left -= n;
		}
		gil_acquire(vt->gt);
		return r < 0 ? -1 : a[1];
	}
	case B_CLOSE:
		return close(check_fd(in, a[0]));
	case B_TID:
		return syscall(SYS_gettid);
	case B_SETNAME:
		gil_thread_setname(vt->gt, prog.strings[a[0]]);
		return 0;
	case B_ASSERT:
		if (!a[0])
			rt_error(in, "assertion failed");
		return 0;
	}
	rt_error(in, "unknown builtin");
}

/* ---- the interpreter ---- */

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q;

	if (b == -1)
		return (int64_t)(0 - (uint64_t)a);
	q = a / b;
	if (a % b && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t floormod(int64_t a, int64_t b)
{
	int64_t r;

	if (b == -1)
		return 0;
	r = a % b;
	if (r && ((r < 0) != (b < 0)))
		r += b;
	return r;
}

/* The compiler sizes each frame and checks every jump, which the analyzer
 * cannot know: its "garbage value" reports on the operand stack are noise. */
// NOLINTBEGIN(clang-analyzer-core.*)
static int64_t run(struct vthread *vt, int func)
{
	const struct insn *code = prog.code, *in;
	struct gil_thread *gt = vt->gt;
	int *ticks = gil_thread_ticks(gt);
	int64_t *sp = vt->stack, *fp = vt->stack, a, b;
	int pc = 0, nframes = 0;

	if (func >= 0) {
		const struct func *f = &prog.funcs[func];

		memcpy(sp, vt->args, (size_t)vt->nargs * sizeof(int64_t));
		sp += f->nparams;
		for (a = f->nparams; a < f->nlocals; a++)
			*sp++ = 0;
		vt->frames[nframes++] = (struct frame){ fp, -1 };
		pc = f->entry;
	}
#define PUSH(v) (*sp++ = (v))
#define POP() (*--sp)
	for (;;) {
		if (--*ticks <= 0)
			gil_tick_check(gt);
		if (atomic_load_explicit(&gil_eval_breaker,
					 memory_order_relaxed))
			gil_drop_check(gt);
		in = &code[pc++];
		switch ((enum op)in->op) {
		case OP_CONST:
			PUSH(in->a);
			break;
		case OP_LOADL:
			PUSH(fp[in->a]);
			break;
		case OP_STOREL:
			fp[in->a] = POP();
			break;
		case OP_LOADG:
			if (!gdefined[in->a])
				rt_error(in, "undefined variable '%s'",
					 prog.globals[in->a]);
			PUSH(gvals[in->a]);
			break;
		case OP_STOREG:
			gvals[in->a] = POP();
			gdefined[in->a] = 1;
			break;
		case OP_ADDL:
			fp[in->a] = (int64_t)((uint64_t)fp[in->a] +
					      (uint64_t)POP());
			break;
		case OP_ADDG: {
			/* A plain read-modify-write: only the GIL makes it
			 * safe against the other threads. */
			volatile int64_t *g = &gvals[in->a];

			if (!gdefined[in->a])
				rt_error(in, "undefined variable '%s'",
					 prog.globals[in->a]);
			*g = (int64_t)((uint64_t)*g + (uint64_t)POP());
			break;
		}
#define BINOP(op, expr_) case op: b = POP(); a = POP(); PUSH(expr_); break;
		BINOP(OP_ADD, (int64_t)((uint64_t)a + (uint64_t)b))
		BINOP(OP_SUB, (int64_t)((uint64_t)a - (uint64_t)b))
		BINOP(OP_MUL, (int64_t)((uint64_t)a * (uint64_t)b))
		BINOP(OP_EQ, a == b)
		BINOP(OP_NE, a != b)
		BINOP(OP_LT, a < b)
		BINOP(OP_LE, a <= b)
		BINOP(OP_GT, a > b)
		BINOP(OP_GE, a >= b)
		case OP_DIV:
		case OP_MOD:
			b = POP();
			a = POP();
			if (b == 0)
				rt_error(in, in->op == OP_DIV ?
					 "division by zero" : "modulo by zero");
			PUSH(in->op == OP_DIV ? floordiv(a, b) : floormod(a, b));
			break;
		case OP_NEG:
			sp[-1] = (int64_t)(0 - (uint64_t)sp[-1]);
			break;
		case OP_NOT:
			sp[-1] = !sp[-1];
			break;
		case OP_JMP:
			pc = (int)in->a;
			break;
		case OP_JZ:
			if (!POP())
				pc = (int)in->a;
			break;
		case OP_JZK:
			if (!sp[-1])
				pc = (int)in->a;
			break;
		case OP_JNZK:
			if (sp[-1])
				pc = (int)in->a;
			break;
		case OP_POP:
			sp--;
			break;
		case OP_CALL: {
			const struct func *f = &prog.funcs[in->a];

			if (nframes == MAX_FRAMES ||
			    sp + f->nlocals + STACK_MARGIN >
			    vt->stack + STACK_VALUES)
				rt_error(in, "stack overflow (recursion too "
					 "deep)");
			vt->frames[nframes++] = (struct frame){ fp, pc };
			fp = sp - f->nparams;
			for (a = f->nparams; a < f->nlocals; a++)
				PUSH(0);
			pc = f->entry;
			break;
		}
		case OP_RET: {
			struct frame *fr = &vt->frames[--nframes];

			a = POP();
			sp = fp;
			fp = fr->base;
			if (fr->ret_pc < 0)
				return a;
			pc = fr->ret_pc;
			PUSH(a);
			break;
		}
		case OP_BUILTIN:
			sp -= in->b;
			a = builtin(vt, in, sp);
			PUSH(a);
			break;
		case OP_SPAWN:
			sp -= in->b;
			a = do_spawn(in, sp);
			PUSH(a);
			break;
		case OP_PRINTS:
			fputs(prog.strings[in->a], stdout);
			break;
		case OP_PRINTI:
			printf("%lld", (long long)POP());
			break;
		case OP_PRINTSP:
			putchar(' ');
			break;
		case OP_PRINTNL:
			putchar('\n');
			fflush(stdout);
			PUSH(0);
			break;
		case OP_HALT:
			return 0;
		}
	}
#undef PUSH
#undef POP
}
// NOLINTEND(clang-analyzer-core.*)

/* ---- command line ---- */

static void usage(FILE *f)
{
	fputs("usage: toyvm [options] PROGRAM [ARGS...]\n"
	      "\n"
	      "Runs a toy VM program with real threads and a GIL.\n"
	      "\n"
	      "options:\n"
	      "  --gil=old|new|prio|fifo   GIL design (default new)\n"
	      "  --check-interval=N        old GIL: release and re-acquire every N\n"
	      "                            ticks (1..1000000000, default 100)\n"
	      "  --switch-interval=US      new, prio, fifo: switch interval or time\n"
	      "                            quantum in microseconds (1..10000000,\n"
	      "                            default 5000)\n"
	      "  --gil-stats[=FILE]        write GIL statistics as JSON at exit and on\n"
	      "                            SIGUSR1 (stderr, or FILE)\n"
	      "  --gil-log FILE            write a GIL event log to FILE at exit\n"
	      "  --help                    show this help\n"
	      "  --version                 show the version\n", f);
}

static long parse_long_opt(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage_error("invalid %s '%s': expected an integer from %ld to "
			    "%ld", opt, s, min, max);
	return v;
}

static char *read_program(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	struct stat st;

	if (!f)
		usage_error("cannot open '%s': %s", path, strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
		usage_error("cannot read '%s': %s", path, strerror(EISDIR));
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				usage_error("out of memory");
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		usage_error("cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	buf[len] = 0;
	if (strlen(buf) != len)
		usage_error("cannot read '%s': contains a NUL byte", path);
	return buf;
}

int main(int argc, char **argv)
{
	enum gil_design design = GIL_NEW;
	long check_interval = 100, switch_us = 5000;
	bool want_stats = false;
	const char *path;
	char *src;
	struct vthread *mainvt;
	sigset_t set;
	pthread_t sigth;
	int i, r;

	/* Every thread inherits this mask; only the signal thread takes the
	 * signals (a SIGUSR1 that comes early waits until it runs). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	set = sigs;
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t n;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			printf("toyvm %s\n", TOYVM_VERSION);
			return 0;
		}
		n = strcspn(a, "=");
		if (a[n] == '=')
			v = a + n + 1;
#define OPT(name) (n == strlen(name) && !strncmp(a, name, n))
		if (OPT("--gil-stats")) {
			want_stats = true;
			stats_path = v;
			if (v && !*v)
				usage_error("--gil-stats=: empty file name");
			continue;
		}
		if (!OPT("--gil") && !OPT("--check-interval") &&
		    !OPT("--switch-interval") && !OPT("--gil-log"))
			usage_error("unknown option '%.*s' (try --help)",
				    (int)n, a);
		if (!v) {
			if (i + 1 >= argc)
				usage_error("option '%s' needs a value", a);
			v = argv[++i];
		}
		if (OPT("--gil")) {
			if (!strcmp(v, "old"))
				design = GIL_OLD;
			else if (!strcmp(v, "new"))
				design = GIL_NEW;
			else if (!strcmp(v, "prio"))
				design = GIL_PRIO;
			else if (!strcmp(v, "fifo"))
				design = GIL_FIFO;
			else
				usage_error("unknown GIL design '%s' (expected "
					    "old, new, prio or fifo)", v);
		} else if (OPT("--check-interval")) {
			check_interval = parse_long_opt("--check-interval", v,
							1, 1000000000);
		} else if (OPT("--switch-interval")) {
			switch_us = parse_long_opt("--switch-interval", v, 1,
						   10000000);
		} else {
			if (!*v)
				usage_error("--gil-log: empty file name");
			log_path = v;
		}
#undef OPT
	}
	if (i >= argc)
		usage_error("no program given (try --help)");
	path = argv[i];
	prog_args = argv + i + 1;
	prog_nargs = argc - i - 1;
	src = read_program(path);
	if (want_stats) {
		if (stats_path) {
			stats_fd = open(stats_path, O_WRONLY | O_CREAT | O_TRUNC |
					O_APPEND | O_CLOEXEC, 0644);
			if (stats_fd < 0)
				usage_error("cannot open '%s': %s", stats_path,
					    strerror(errno));
		} else {
			stats_fd = 2;
		}
	}
	if (log_path) {
		log_file = fopen(log_path, "w");
		if (!log_file)
			usage_error("cannot open '%s': %s", log_path,
				    strerror(errno));
	}
	if (toyvm_compile(path, src, &prog))
		return 1;
	gvals = calloc((size_t)prog.nglobals + 1, sizeof(*gvals));
	gdefined = calloc((size_t)prog.nglobals + 1, 1);
	if (!gvals || !gdefined) {
		fprintf(stderr, "toyvm: out of memory\n");
		return 1;
	}

	gil_init(design, check_interval, switch_us, log_path != NULL);

	r = pthread_create(&sigth, NULL, signal_thread, &sigs);
	if (r) {
		fprintf(stderr, "toyvm: cannot create thread: %s\n",
			strerror(r));
		return 1;
	}

	mainvt = new_vthread(NULL, "main");
	gil_thread_start(mainvt->gt);
	gil_acquire(mainvt->gt);
	run(mainvt, -1);
	/* Wait for the threads nobody joined, as Python does at exit. */
	gil_release(mainvt->gt);
	for (i = 1;; i++) {
		struct vthread *t = NULL;

		pthread_mutex_lock(&vts_lock);
		if (i < nvts && !vts[i]->joined) {
			t = vts[i];
			t->joined = true;
		}
		r = i < nvts;
		pthread_mutex_unlock(&vts_lock);
		if (!r)
			break;
		if (t)
			pthread_join(t->pth, NULL);
	}
	gil_thread_exit(mainvt->gt);
	fflush(stdout);
	pthread_mutex_lock(&out_lock);
	write_snapshot("exit");
	write_log();
	fflush(NULL);
	_exit(0);
}
