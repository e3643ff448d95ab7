#include "views/ft_gil_text.h"

#include <stdio.h>
#include <string.h>

#include "util/safe_text.h"
#include "views/format.h"

#define NS_PER_S 1e9

const char *ft_gil_text__state(const struct ft_gil *ft)
{
	if (!ft->free_threaded)
		return NULL;
	if (ft->enabled_ts || ft->on_by_ts)
		return "re_enabled";
	if (ft->on_at_first)
		return "on_from_start";
	return ft_gil__off(ft) ? "off" : "on_now";
}

static double secs(__u64 ts, __u64 origin_ts)
{
	return ts > origin_ts ? (double)(ts - origin_ts) / NS_PER_S : 0.0;
}

int ft_gil_text__line(char *buf, size_t len, const struct engine_proc *p, __u64 origin_ts)
{
	const struct ft_gil *ft = &p->ft;
	const char *state = ft_gil_text__state(ft);
	char module[FT_GIL_NAME_MAX + 1], waited[FORMAT_LEN];

	buf[0] = '\0';
	if (!state)
		return 0;
	if (ft->enabled_ts && !(ft->name_flags & FT_GIL_NAME_UNKNOWN)) {
		/* A name the target chose. */
		safe_text__copy(module, sizeof(module), ft->module);
		snprintf(buf, len, "GIL re-enabled at %.2f s by import of %s%s (not marked "
			 "free-threading safe), in thread %u", secs(ft->enabled_ts, origin_ts), module,
			 ft->name_flags & FT_GIL_NAME_CUT ? "..." : "", ft->enabled_tid);
	} else if (ft->enabled_ts) {
		snprintf(buf, len, "GIL re-enabled at %.2f s by the import of a module not marked "
			 "free-threading safe (its name was not read), in thread %u",
			 secs(ft->enabled_ts, origin_ts), ft->enabled_tid);
	} else if (ft->on_by_ts) {
		snprintf(buf, len, "GIL re-enabled between %.2f s and %.2f s (found by the readings "
			 "of gil->enabled; this build's import check was not probed)",
			 secs(ft->on_after_ts, origin_ts), secs(ft->on_by_ts, origin_ts));
	} else if (!strcmp(state, "on_from_start")) {
		snprintf(buf, len, "GIL on from the start of the trace (a free-threaded CPython run "
			 "with PYTHON_GIL=1 or -X gil=1, or one that imported a module not marked "
			 "free-threading safe before)");
	} else if (!strcmp(state, "off") && p->wait_held_ns) {
		/* Extension imports turn it on for the moment, and threads
		 * running then queue behind it: real waits, said as such. */
		format__duration(waited, sizeof(waited), (double)p->wait_held_ns);
		snprintf(buf, len, "GIL off but while extension modules were imported (on for the "
			 "moment then): its threads waited %s for it in those windows", waited);
	} else if (!strcmp(state, "off")) {
		snprintf(buf, len, "GIL off: a free-threaded CPython whose GIL was never enabled "
			 "for good, so nothing contends for it%s",
			 p->acquisitions ? " (the acquisitions counted were made while extension "
					   "modules were imported, when it is on for the moment)" : "");
	} else {
		snprintf(buf, len, "GIL on for the moment at the last reading: an extension "
			 "module's import in progress");
	}
	return 1;
}

const struct engine_proc *ft_gil_text__first(char *buf, size_t len, const struct engine *eng)
{
	const struct engine_proc *procs[64];
	size_t n = engine__procs(eng, procs, 64);
	struct engine_totals tot;

	buf[0] = '\0';
	engine__totals(eng, &tot);
	for (size_t i = 0; i < n && i < 64; i++)
		if (ft_gil_text__line(buf, len, procs[i], tot.first_ts))
			return procs[i];
	return NULL;
}
