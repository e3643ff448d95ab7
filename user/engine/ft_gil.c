/*
 * Free-threaded CPython: whether the GIL was on, and when and by which
 * import it came back (struct ft_gil in engine.h). Waits, hand-offs and
 * forced switches need nothing here: while the GIL is off take_gil()
 * returns at once and emits nothing, and once it is on they are the GIL
 * build's (docs/cpython.md, "Free-threaded builds").
 */
#include <string.h>

#include "engine/engine_int.h"

int ft_gil__off(const struct ft_gil *ft)
{
	return ft->free_threaded && ft->off_now && !ft->on_at_first && !ft->enabled_ts &&
	       !ft->on_by_ts;
}

void ft_gil__reading(struct engine_proc *p, const struct gil_event *ev)
{
	struct ft_gil *ft = &p->ft;
	int first = !ft->free_threaded;

	if (!(ev->ret & GIL_STATE_FREE_THREADED))
		return;
	ft->free_threaded = 1;
	if (first) {
		ft->off_at_first = !!(ev->ret & GIL_STATE_GIL_OFF);
		ft->on_at_first = !!(ev->ret & GIL_STATE_GIL_FOR_GOOD);
	}
	/* Neither flag: on for the moment, an extension module's import. */
	ft->off_now = !!(ev->ret & GIL_STATE_GIL_OFF);
	if (ft->off_now) {
		ft->last_off_ts = ev->ts;
	} else if ((ev->ret & GIL_STATE_GIL_FOR_GOOD) && ft->last_off_ts && !ft->on_by_ts) {
		ft->on_after_ts = ft->last_off_ts;
		ft->on_by_ts = ev->ts;
	}
}

void ft_gil__enabled(struct engine_proc *p, const struct gil_event *ev)
{
	struct ft_gil *ft = &p->ft;
	unsigned int chunk = (unsigned int)ev->ret & FT_GIL_CHUNK_MASK;
	size_t at = (size_t)chunk * FT_GIL_CHUNK;

	/* The GIL is turned on for good once: a second event would be a
	 * later one of another interpreter, which this engine does not tell. */
	if (!chunk) {
		if (ft->enabled_ts)
			return;
		ft->enabled_ts = ev->ts;
		ft->enabled_tid = ev->tid;
		ft->name_flags = (__u32)ev->ret & (FT_GIL_NAME_UNKNOWN | FT_GIL_NAME_CUT);
		memset(ft->module, 0, sizeof(ft->module));
	} else if (ev->ts != ft->enabled_ts || ev->tid != ft->enabled_tid ||
		   at + FT_GIL_CHUNK > FT_GIL_NAME_MAX) {
		return;
	}
	if (ft->name_flags & FT_GIL_NAME_UNKNOWN)
		return;
	memcpy(ft->module + at, &ev->addr, sizeof(ev->addr));
	memcpy(ft->module + at + sizeof(ev->addr), &ev->value, sizeof(ev->value));
	ft->module[FT_GIL_NAME_MAX] = '\0';
}
