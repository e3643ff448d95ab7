/*
 * `giltrace serve`: a long-lived agent that traces processes (-p, --all)
 * and serves their GIL figures at /metrics for Prometheus.
 *
 * The engine is not thread-safe, so the HTTP thread never reads it: the
 * main (polling) thread keeps one engine per traced process, renders both
 * exposition formats once a tick and when a process goes, and swaps them in
 * under a mutex; the HTTP handler copies the latest page under that mutex.
 * One engine per process lets a process that exits take its memory along.
 */
#include <argp.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/parse.h"
#include "cli/target_opts.h"
#include "run/privileges.h"
#include "stream/proc_demux.h"
#include "stream/tee.h"
#include "views/metrics_prom.h"

#define DEFAULT_LISTEN "127.0.0.1:9464"
/* Bounds what a flood of connections can take from the agent. */
#define MAX_CONNECTIONS 64
#define CONNECTION_TIMEOUT_S 10

/* The latest rendering, shared with the HTTP thread under lock. */
struct page {
	char *buf;
	size_t len;
};

struct serve {
	/* Main thread only. */
	struct proc_demux demux;    /* one engine per traced process */
	struct prom_opts popts;
	/* Shared. */
	pthread_mutex_t lock;
	struct page pages[2];       /* by enum prom_format */
	/* HTTP */
	int listen_fd;              /* bound at the start, served once attached */
	struct MHD_Daemon *http;
	const char *as;             /* the user it serves as (--user) */
};

struct serve_args {
	struct live_opts live;
	struct target_opts_input target;
	const char *listen;
	const char *user;
	bool per_thread;
};

#define DEFAULT_USER "nobody"

enum { OPT_LISTEN = 0x300, OPT_PER_THREAD, OPT_USER };

static int render(struct serve *sv, enum prom_format f, struct page *out)
{
	const struct proc_demux *d = &sv->demux;
	struct prom_process *pp = calloc(d->n ? d->n : 1, sizeof(*pp));
	struct prom_opts o = sv->popts;
	FILE *mem;
	int err;

	out->buf = NULL;
	out->len = 0;
	if (!pp)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++) {
		pp[i].meta = &d->procs[i].meta;
		pp[i].eng = d->procs[i].eng;
	}
	o.format = f;
	mem = open_memstream(&out->buf, &out->len);
	if (!mem) {
		free(pp);
		return -ENOMEM;
	}
	err = metrics_prom__write(mem, pp, d->n, d->drops, &o);
	if (fclose(mem) && !err)
		err = -ENOMEM;
	free(pp);
	if (err) {
		free(out->buf);
		out->buf = NULL;
	}
	return err;
}

/* Renders both formats, then swaps them in; on failure the last good
 * pages stay. */
static void publish(struct serve *sv)
{
	struct page fresh[2], old[2];

	if (render(sv, PROM_TEXT, &fresh[0]))
		return;
	if (render(sv, PROM_OPENMETRICS, &fresh[1])) {
		free(fresh[0].buf);
		return;
	}
	pthread_mutex_lock(&sv->lock);
	memcpy(old, sv->pages, sizeof(old));
	memcpy(sv->pages, fresh, sizeof(fresh));
	pthread_mutex_unlock(&sv->lock);
	free(old[0].buf);
	free(old[1].buf);
}

/* After the demultiplexer dropped the process: it leaves /metrics at once. */
static void on_target_exit(void *ctx, __u32 pid)
{
	(void)pid;
	publish(ctx);
}

static int on_tick(void *ctx, __u64 now_ns)
{
	struct serve *sv = ctx;

	(void)now_ns;
	publish(sv);
	return sv->demux.err;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	return reply(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

static bool wants_openmetrics(struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);

	return accept && strstr(accept, "application/openmetrics-text");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	static int first_call;
	struct serve *sv = cls;
	enum prom_format f;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	/* The first call has only the headers; a body, if any, is ignored. */
	if (!*req_cls) {
		*req_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, "/"))
		return reply_text(c, MHD_HTTP_OK, "giltrace agent: metrics at /metrics\n");
	if (strcmp(url, "/metrics"))
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	f = wants_openmetrics(c) ? PROM_OPENMETRICS : PROM_TEXT;
	pthread_mutex_lock(&sv->lock);
	if (sv->pages[f].buf)
		ret = reply(c, MHD_HTTP_OK, metrics_prom__content_type(f), sv->pages[f].buf,
			    sv->pages[f].len);
	else
		ret = reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "metrics not ready\n");
	pthread_mutex_unlock(&sv->lock);
	return ret;
}

/* "HOST:PORT" or "[V6]:PORT"; 0, or a one-line reason in err. */
static int resolve_listen(const char *spec, struct sockaddr_storage *sa, socklen_t *salen,
			  char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	char host[256];
	const char *port, *colon = strrchr(spec, ':');
	struct addrinfo *res;
	size_t hl;
	int ret;

	port = colon + 1; /* checked by parse() */
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "invalid listen address: host name too long");
		return -EINVAL;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	ret = getaddrinfo(hl ? host : NULL, port, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "invalid listen address '%s:%s': %s", host, port,
			 gai_strerror(ret));
		return -EINVAL;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Binds SPEC before anything is traced, so that a port in use is said at
 * once; -1 after a one-line error. */
static int open_listener(const char *spec)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	char err[512];
	int fd, one = 1;

	if (resolve_listen(spec, &sa, &salen, err, sizeof(err))) {
		fprintf(stderr, "giltrace: %s\n", err);
		return -1;
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, salen) || listen(fd, MAX_CONNECTIONS)) {
		fprintf(stderr, "giltrace: cannot listen on %s: %s\n", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The HTTP thread starts once giltrace is down to what a trace keeps, as
 * another user (--user): capabilities are per thread, and a thread started
 * before would keep root's. */
static int start_http(void *ctx)
{
	struct serve *sv = ctx;
	struct sockaddr_storage sa = { 0 };
	socklen_t salen = sizeof(sa);
	char host[128], port[16];
	sigset_t block, old;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;

	if (getsockname(sv->listen_fd, (struct sockaddr *)&sa, &salen) ||
	    getnameinfo((struct sockaddr *)&sa, salen, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		fprintf(stderr, "giltrace: cannot read the listening address: %s\n",
			strerror(errno));
		return -1;
	}
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Signals are for the main thread: the HTTP thread inherits this mask. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sv->http = MHD_start_daemon(flags, 0, NULL, NULL, handle, sv,
				    MHD_OPTION_LISTEN_SOCKET, sv->listen_fd,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
				    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!sv->http) {
		fprintf(stderr, "giltrace: cannot start the HTTP server: %s\n",
			errno ? strerror(errno) : "libmicrohttpd failed");
		return -1;
	}
	sv->listen_fd = -1; /* MHD's now: MHD_stop_daemon() closes it */
	fprintf(stderr, "giltrace: serving metrics on http://%s%s%s:%s/metrics as user %s\n",
		sa.ss_family == AF_INET6 ? "[" : "", host, sa.ss_family == AF_INET6 ? "]" : "",
		port, sv->as);
	return 0;
}

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Serving:", 2 },
	{ "listen", OPT_LISTEN, "HOST:PORT", 0, "Serve /metrics there (default "
						DEFAULT_LISTEN "; port 0 picks a free one)", 2 },
	{ "per-thread", OPT_PER_THREAD, NULL, 0, "Add per-thread series (one per thread: mind "
						 "the cardinality)", 2 },
	{ "user", OPT_USER, "USER", 0, "Once attached, run and answer HTTP as USER (a name or "
				       "uid; default " DEFAULT_USER "), keeping only the "
				       "capabilities a trace needs (docs/security.md)", 2 },
	{ 0 },
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct serve_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		break;
	case OPT_LISTEN: {
		const char *colon = strrchr(arg, ':');

		/* getaddrinfo() takes any number as a port and keeps its low 16
		 * bits: 99999 would serve on 34463. */
		if (!colon || !colon[1])
			argp_error(state, "invalid listen address '%s': expected HOST:PORT", arg);
		parse__long(state, "port", colon + 1, 0, 65535);
		a->listen = arg;
		break;
	}
	case OPT_PER_THREAD:
		a->per_thread = true;
		break;
	case OPT_USER:
		a->user = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"Trace processes until stopped and serve their GIL figures to Prometheus at /metrics "
	"(text format, or OpenMetrics when the Accept header asks for it). Processes that exit "
	"leave /metrics; with --all, new ones join within a second.\v"
	"Examples:\n"
	"  sudo giltrace serve --all\n"
	"  sudo giltrace serve --all --comm python3 --listen 127.0.0.1:9464\n"
	"  sudo giltrace serve -p 4242,4243 --per-thread\n"
	"  curl -s http://127.0.0.1:9464/metrics\n\n"
	"docs/prometheus.md has the metrics, a scrape config and queries.\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage error.";

static const struct argp argp = {
	.options = options, .parser = parse, .args_doc = "[-- CMD [ARGS...]]", .doc = doc,
	.children = target_opts_children,
};

int cmd_serve(int argc, char **argv)
{
	struct serve_args a = { .target.live = &a.live, .listen = DEFAULT_LISTEN,
				.user = DEFAULT_USER };
	struct serve sv = { .lock = PTHREAD_MUTEX_INITIALIZER, .listen_fd = -1 };
	struct stream_sink demux = proc_demux__sink(&sv.demux), sink,
			   exits = { .target_exit = on_target_exit, .ctx = &sv };
	struct live_hooks hooks = { .on_tick = on_tick, .on_traced = start_http, .ctx = &sv,
				    .input_fd = -1, .tick_ms = 1000 };
	struct stream_tee tee = { 0 };
	struct live_result res;
	char err[256];
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	if (privileges__lookup_user(a.user, &a.live.run_as, err, sizeof(err))) {
		fprintf(stderr, "giltrace: %s\n", err);
		return 2;
	}
	sv.as = a.live.run_as.name;
	sv.popts.per_thread = a.per_thread;
	/* An agent outlives its targets: they leave /metrics, it stays up. */
	a.live.persist = true;
	publish(&sv);
	sv.listen_fd = open_listener(a.listen);
	if (sv.listen_fd < 0)
		return 1;
	/* live -> [one engine per process, republish when one exits] ->
	 * /metrics, rendered every tick */
	stream_tee__add(&tee, &demux);
	stream_tee__add(&tee, &exits);
	sink = stream_tee__sink(&tee);
	ret = live__run(&a.live, &sink, &hooks, &res);
	if (!ret && sv.demux.err) {
		fprintf(stderr, "giltrace: out of memory\n");
		ret = 1;
	}
	if (sv.http)
		MHD_stop_daemon(sv.http);
	if (sv.listen_fd >= 0)
		close(sv.listen_fd);
	proc_demux__free(&sv.demux);
	free(sv.pages[0].buf);
	free(sv.pages[1].buf);
	return ret;
}
