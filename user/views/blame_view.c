#include "views/blame_view.h"

#include <errno.h>
#include <string.h>

#include "target/runtimes.h"
#include "views/format.h"

static void print_frame(FILE *out, const struct blame_frame *f, int folded)
{
	/* ';' separates folded frames and a space ends the stack's text: keep
	 * both out of a frame. */
	const char *s[2] = { f->name, f->file };

	for (int k = 0; k < 2; k++) {
		if (k)
			fputs(" (", out);
		for (const char *p = s[k]; *p; p++)
			fputc(folded && *p == ';' ? '_' : *p, out);
	}
	if (f->line)
		fprintf(out, ":%u)", f->line);
	else
		fputc(')', out);
}

int blame_view__text(FILE *out, const struct blame_rows *rows, const struct engine *eng,
		     const struct trace_meta *meta, size_t top)
{
	struct engine_totals tot;
	char a[FORMAT_LEN], b[FORMAT_LEN], c[FORMAT_LEN];
	size_t n = top && top < rows->n ? top : rows->n;

	engine__totals(eng, &tot);
	if (meta && meta->pid)
		fprintf(out, "PID %u (%s), %s %s, %s mode\n", meta->pid, meta->comm, meta->runtime,
			meta->version, meta->mode);
	fprintf(out, "threads waited %s for the GIL; %s of it attributed to the holder's stack, "
		"%s while it changed hands (%llu samples, %llu unknown, %llu stacks)\n",
		format__duration(a, sizeof(a), (double)tot.c.wait_ns),
		format__duration(b, sizeof(b), (double)rows->tot.wait_ns),
		format__duration(c, sizeof(c), (double)rows->tot.unattributed_ns),
		(unsigned long long)rows->tot.samples,
		(unsigned long long)rows->tot.unknown_samples,
		(unsigned long long)rows->tot.stacks);
	if (tot.drops)
		fprintf(out, "%llu events lost to ring-buffer drops\n", (unsigned long long)tot.drops);
	if (!rows->n) {
		char versions[64];

		runtimes__blame_versions(versions, sizeof(versions));
		fprintf(out, "no holder stacks: no thread waited for the GIL while blame was on (blame "
			"reads the frames of %s)\n", versions);
		return ferror(out) ? -EIO : 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct blame_row *r = &rows->v[i];

		fprintf(out, "\n#%zu  caused wait %s (%.1f%%)  hold %s  samples %s  pid %u\n", i + 1,
			format__duration(a, sizeof(a), (double)r->wait_ns), r->wait_share * 100,
			format__duration(b, sizeof(b), (double)r->hold_ns),
			format__count(c, sizeof(c), (double)r->samples), r->tgid);
		if (r->special)
			fprintf(out, "    %s\n", r->special);
		for (unsigned int f = 0; f < r->nframes; f++) {
			fputs("    ", out);
			print_frame(out, &r->frames[f], 0);
			fputc('\n', out);
		}
		if (r->flags & BLAME_STACK_TRUNCATED)
			fputs("    [truncated]\n", out);
		if (r->flags & BLAME_STACK_FAULT)
			fputs("    [unknown]\n", out);
	}
	return ferror(out) ? -EIO : 0;
}

int blame_view__folded(FILE *out, const struct blame_rows *rows, enum blame_weight w)
{
	for (size_t i = 0; i < rows->n; i++) {
		const struct blame_row *r = &rows->v[i];
		__u64 weight = blame_row__weight(r, w);

		if (w != BLAME_BY_SAMPLES)
			weight /= 1000;
		if (!weight)
			continue;
		if (r->special)
			fputs(r->special, out);
		if (r->flags & BLAME_STACK_TRUNCATED)
			fputs("[truncated];", out);
		if (r->flags & BLAME_STACK_FAULT)
			fputs("[unknown];", out);
		for (unsigned int f = r->nframes; f-- > 0;) {
			print_frame(out, &r->frames[f], 1);
			if (f)
				fputc(';', out);
		}
		fprintf(out, " %llu\n", (unsigned long long)weight);
	}
	return ferror(out) ? -EIO : 0;
}

void blame_view__leaf(char *buf, size_t len, const struct blame_resolved *res)
{
	if (!res || !res->nframes)
		snprintf(buf, len, "[unknown]");
	else if (res->frames[0].line)
		snprintf(buf, len, "%s (%s:%u)", res->frames[0].name, res->frames[0].file,
			 res->frames[0].line);
	else
		snprintf(buf, len, "%s (%s)", res->frames[0].name, res->frames[0].file);
}
