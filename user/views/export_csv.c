/*
 * Formatting by hand into one line buffer: printf's format parsing would
 * cost more than everything else per event.
 */
#include "views/export_csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/u64map.h"

/* A capture keeps names of up to 63 bytes (capture/writer.h). */
#define CSV_NAME 64

static const char *const kind_names[GIL_EV__MAX] = {
	[GIL_EV_WAIT] = "wait",
	[GIL_EV_WAKE] = "wake",
	[GIL_EV_RETRY] = "retry",
	[GIL_EV_TIMEOUT] = "timeout",
	[GIL_EV_DROP_REQUEST] = "drop_request",
	[GIL_EV_ACQUIRE] = "acquire",
	[GIL_EV_RELEASE] = "release",
	[GIL_EV_FORCED_RELEASE] = "forced_release",
	[GIL_EV_WAKE_CALL] = "wake_call",
	[GIL_EV_SCHED_WAKEUP] = "sched_wakeup",
	[GIL_EV_SCHED_RUN] = "sched_run",
	[GIL_EV_DROPS] = "drops",
	[GIL_EV_HOLDER_STACK] = "holder_stack",
	[GIL_EV_HOLDER_FRAME] = "holder_frame",
	[GIL_EV_GIL_STATE] = "gil_state",
	[GIL_EV_GIL_ENABLED] = "gil_enabled",
	[GIL_EV_LOCK_WAIT] = "lock_wait",
	[GIL_EV_LOCK_SECTION] = "lock_section",
	[GIL_EV_STW] = "stw",
	[GIL_EV_LOCK_TYPE] = "lock_type",
};

static const char *kind_name(unsigned int kind)
{
	return kind < GIL_EV__MAX && kind_names[kind] ? kind_names[kind] : "unknown";
}

/* Names by tid: the map holds an index into names. */
struct export_csv {
	FILE *out;
	struct u64map index;
	char (*names)[CSV_NAME];
	size_t n, cap;
};

struct export_csv *export_csv__new(FILE *out)
{
	struct export_csv *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->out = out;
	fputs("ts_ns,kind,tgid,tid,cpu,addr,value,ret,name\n", out);
	return x;
}

void export_csv__free(struct export_csv *x)
{
	if (!x)
		return;
	u64map__destroy(&x->index);
	free(x->names);
	free(x);
}

int export_csv__thread(struct export_csv *x, __u32 tid, const char *name)
{
	__u64 i;

	if (!u64map__get(&x->index, tid, &i)) {
		void *v = array__reserve(x->names, x->n, &x->cap, sizeof(*x->names), 16);

		if (!v)
			return -ENOMEM;
		x->names = v;
		i = x->n;
		if (u64map__put(&x->index, tid, i) < 0)
			return -ENOMEM;
		x->n++;
	}
	snprintf(x->names[i], sizeof(x->names[i]), "%s", name);
	return 0;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *put_dec(char *p, unsigned long long v)
{
	char tmp[20];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_hex(char *p, unsigned long long v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;

	*p++ = '0';
	*p++ = 'x';
	do
		tmp[n++] = digits[v & 15];
	while ((v >>= 4));
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* RFC 4180: a field with a comma, a quote or a line break goes in quotes,
 * its quotes doubled. */
static char *put_field(char *p, const char *s)
{
	if (!s[strcspn(s, ",\"\r\n")])
		return put_str(p, s);
	*p++ = '"';
	for (; *s; s++) {
		if (*s == '"')
			*p++ = '"';
		*p++ = *s;
	}
	*p++ = '"';
	return p;
}

void export_csv__event(struct export_csv *x, const struct gil_event *ev)
{
	char line[160 + 2 * CSV_NAME], *p = line;
	__u64 i;

	p = put_dec(p, ev->ts);
	*p++ = ',';
	p = put_str(p, kind_name(ev->kind));
	*p++ = ',';
	p = put_dec(p, ev->tgid);
	*p++ = ',';
	p = put_dec(p, ev->tid);
	*p++ = ',';
	p = put_dec(p, ev->cpu);
	*p++ = ',';
	p = put_hex(p, ev->addr);
	*p++ = ',';
	p = put_dec(p, ev->value);
	*p++ = ',';
	if (ev->ret < 0) {
		*p++ = '-';
		p = put_dec(p, -(long long)ev->ret);
	} else {
		p = put_dec(p, (unsigned long long)ev->ret);
	}
	*p++ = ',';
	if (u64map__get(&x->index, ev->tid, &i))
		p = put_field(p, x->names[i]);
	*p++ = '\n';
	fwrite_unlocked(line, 1, (size_t)(p - line), x->out);
}
