/*
 * Formatting by hand into one line buffer: printf's format parsing would
 * cost more than everything else per event.
 */
#include "views/export_csv.h"

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
	[GIL_EV_GIL_STATE] = "gil_state",
};

static const char *kind_name(unsigned int kind)
{
	return kind < GIL_EV__MAX && kind_names[kind] ? kind_names[kind] : "unknown";
}

void export_csv__header(FILE *out)
{
	fputs("ts_ns,kind,tgid,tid,cpu,addr,value,ret\n", out);
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

void export_csv__event(FILE *out, const struct gil_event *ev)
{
	char line[160], *p = line;

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
	*p++ = '\n';
	fwrite_unlocked(line, 1, (size_t)(p - line), out);
}
