#include "views/holder_text.h"

#include <stdio.h>
#include <string.h>

#include "util/safe_text.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

void holder_text__where(char *buf, size_t len, const struct engine_forced_fn *f)
{
	char name[128], file[128];

	safe_text__copy(name, sizeof(name), f->name);
	if (f->name[0] == '[') {
		snprintf(buf, len, "%s", name);
		return;
	}
	safe_text__copy(file, sizeof(file), base_name(f->file));
	if (f->line)
		snprintf(buf, len, "%s() %s:%u", name, file, f->line);
	else
		snprintf(buf, len, "%s() %s", name, file);
}

/* The thread as the user knows it: its name, unless it is only its
 * process's (threads CPython before 3.14 leaves unnamed). */
static void who(char *buf, size_t len, const struct engine *eng, __u32 tgid,
		const struct engine_forced_fn *f)
{
	const struct engine_thread *t = engine__find_thread(eng, tgid, f->tid);
	const struct engine_thread *main = engine__find_thread(eng, tgid, tgid);
	char name[ENGINE_NAME_LEN * 4], more[48] = "";

	if (f->nthreads > 1)
		snprintf(more, sizeof(more), ", the longest of %u threads", f->nthreads);
	if (t && t->name[0] && (t == main || !main || strcmp(t->name, main->name))) {
		safe_text__copy(name, sizeof(name), t->name);
		snprintf(buf, len, "%s (tid %u%s)", name, f->tid, more);
	} else {
		snprintf(buf, len, "thread %u%s%s", f->tid, more[0] ? " (" : "",
			 more[0] ? more + 2 : "");
		if (more[0])
			strncat(buf, ")", len - strlen(buf) - 1);
	}
}

int holder_text__line(char *buf, size_t len, const struct engine *eng, __u32 tgid)
{
	struct engine_forced_holders h;
	char where[HOLDER_TEXT / 2], thread[256]; /* who(): a name, the tid, "more" */
	const struct engine_forced_fn *f;
	int n, err = engine__forced_holders(eng, tgid, &h);

	if (err)
		return err;
	if (!h.sampled || !h.nfns) {
		engine__forced_holders_free(&h);
		return 0;
	}
	f = &h.fns[0];
	holder_text__where(where, sizeof(where), f);
	who(thread, sizeof(thread), eng, tgid, f);
	n = snprintf(buf, len, "held mostly by %s in %s: %.0f%% of the forced holds' %s, "
		     "sampled at %llu of %llu forced switches", thread, where, f->share * 100.0,
		     h.sampled_ns ? "time" : "count", (unsigned long long)h.sampled,
		     (unsigned long long)h.forced_switches);
	/* Holds whose start was not seen weigh nothing in the time: say so. */
	if (h.unmeasured && h.sampled_ns && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " (%llu of them with no measured start, not "
			 "timed)", (unsigned long long)h.unmeasured);
	engine__forced_holders_free(&h);
	return 1;
}

int holder_text__each(const struct engine *eng,
		      void (*put)(void *ctx, __u32 tgid, const char *line, bool several),
		      void *ctx)
{
	const struct engine_proc *procs[GILTRACE_MAX_TARGETS];
	size_t n = engine__procs(eng, procs, GILTRACE_MAX_TARGETS);
	char line[HOLDER_TEXT];

	for (size_t i = 0; i < n && i < GILTRACE_MAX_TARGETS; i++) {
		int ret = holder_text__line(line, sizeof(line), eng, procs[i]->tgid);

		if (ret < 0)
			return ret;
		if (ret)
			put(ctx, procs[i]->tgid, line, n > 1);
	}
	return 0;
}
