#include "blame/rows.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "blame.h"

static const char unknown[] = "[unknown]";
static const char no_frames[] = "[no Python frame]";

__u64 blame_row__weight(const struct blame_row *r, enum blame_weight w)
{
	return w == BLAME_BY_HOLD ? r->hold_ns : w == BLAME_BY_SAMPLES ? r->samples : r->wait_ns;
}

/* Two rows are one when process, specials, flags and every frame match.
 * Strings are interned by the stack table, so pointers compare. */
static bool same(const struct blame_row *a, const struct blame_row *b)
{
	if (a->tgid != b->tgid || a->special != b->special || a->flags != b->flags ||
	    a->nframes != b->nframes)
		return false;
	for (unsigned int i = 0; i < a->nframes; i++)
		if (a->frames[i].name != b->frames[i].name || a->frames[i].file != b->frames[i].file ||
		    a->frames[i].line != b->frames[i].line)
			return false;
	return true;
}

static size_t row_hash(const struct blame_row *r)
{
	__u64 h = 0xcbf29ce484222325ULL ^ r->tgid ^ (__u64)(size_t)r->special ^ r->flags;

	for (unsigned int i = 0; i < r->nframes; i++) {
		h = (h ^ (__u64)(size_t)r->frames[i].name) * 0x100000001b3ULL;
		h = (h ^ (__u64)(size_t)r->frames[i].file) * 0x100000001b3ULL;
		h = (h ^ r->frames[i].line) * 0x100000001b3ULL;
	}
	return (size_t)(h ^ h >> 29);
}

static int row_cmp(const void *a, const void *b, void *by)
{
	enum blame_weight w = *(const enum blame_weight *)by;
	__u64 x = blame_row__weight(a, w), y = blame_row__weight(b, w);

	return x > y ? -1 : x < y ? 1 : 0;
}

int blame_rows__build(struct blame_rows *rows, const struct engine *eng,
		      const struct stack_table *tab, enum blame_weight sort_by)
{
	size_t n = engine__blame(eng, NULL, 0), nslots = 16;
	const struct engine_blame **ids = NULL;
	size_t *slots = NULL;
	int ret = -ENOMEM;

	memset(rows, 0, sizeof(*rows));
	engine__blame_totals(eng, &rows->tot);
	while (nslots < 2 * n + 2)
		nslots *= 2;
	ids = malloc((n ? n : 1) * sizeof(*ids));
	rows->v = calloc(n ? n : 1, sizeof(*rows->v));
	slots = calloc(nslots, sizeof(*slots)); /* index + 1 into rows->v */
	if (!ids || !rows->v || !slots)
		goto out;
	engine__blame(eng, ids, n);
	for (size_t i = 0; i < n; i++) {
		const struct blame_resolved *res = stack_table__find(tab, ids[i]->tgid, ids[i]->id);
		struct blame_row r = { .tgid = ids[i]->tgid };
		size_t s;

		if (res) {
			r.frames = res->frames;
			r.nframes = res->nframes;
			r.flags = res->flags;
		} else {
			r.special = ids[i]->id == BLAME_ID_NO_FRAMES ? no_frames : unknown;
		}
		for (s = row_hash(&r) & (nslots - 1); slots[s] && !same(&rows->v[slots[s] - 1], &r);
		     s = (s + 1) & (nslots - 1))
			;
		if (!slots[s]) {
			rows->v[rows->n] = r;
			slots[s] = ++rows->n;
		}
		rows->v[slots[s] - 1].wait_ns += ids[i]->wait_ns;
		rows->v[slots[s] - 1].hold_ns += ids[i]->hold_ns;
		rows->v[slots[s] - 1].samples += ids[i]->samples;
	}
	for (size_t i = 0; i < rows->n; i++) {
		struct blame_row *r = &rows->v[i];

		r->wait_share = rows->tot.wait_ns ? (double)r->wait_ns / (double)rows->tot.wait_ns : 0;
		r->hold_share = rows->tot.hold_ns ? (double)r->hold_ns / (double)rows->tot.hold_ns : 0;
	}
	qsort_r(rows->v, rows->n, sizeof(*rows->v), row_cmp, &sort_by);
	ret = 0;
out:
	free(ids);
	free(slots);
	if (ret)
		blame_rows__free(rows);
	return ret;
}

void blame_rows__free(struct blame_rows *rows)
{
	free(rows->v);
	rows->v = NULL;
	rows->n = 0;
}
