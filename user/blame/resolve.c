#include "blame/resolve.h"

#include <errno.h>
#include <stdlib.h>

#include "target/pyobj.h"

struct code_info {
	__u32 pid;
	__u64 addr;
	int ok;               /* read back as a code object */
	char *name, *file;
	__u32 firstlineno;
	unsigned char *lines; /* the line table's bytes */
	size_t nlines;
};

struct blame_resolver {
	struct code_info **slots; /* open addressing on (pid, addr) */
	size_t cap, count;
};

static const char unknown[] = "[unknown]";

/* Decoding is target/'s (pyobj.c); the cache keeps what it read. */
static void read_code(struct code_info *ci, const struct cpython_code_layout *cl)
{
	struct pyobj_code c;

	if (pyobj__read_code(ci->pid, ci->addr, cl, &c))
		return;
	ci->name = c.name;
	ci->file = c.file;
	ci->firstlineno = c.firstlineno;
	ci->lines = c.lines;
	ci->nlines = c.nlines;
	ci->ok = 1;
}

static size_t slot_of(struct code_info **slots, size_t cap, __u32 pid, __u64 addr)
{
	__u64 k = addr ^ ((__u64)pid << 40);
	size_t i;

	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ULL;
	k ^= k >> 32;
	for (i = (size_t)k & (cap - 1); slots[i] && !(slots[i]->pid == pid && slots[i]->addr == addr);
	     i = (i + 1) & (cap - 1))
		;
	return i;
}

static void free_code(struct code_info *ci)
{
	if (!ci)
		return;
	free(ci->name);
	free(ci->file);
	free(ci->lines);
	free(ci);
}

static int grow(struct blame_resolver *r)
{
	size_t cap = r->cap ? r->cap * 2 : 256;
	struct code_info **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < r->cap; i++)
		if (r->slots[i])
			slots[slot_of(slots, cap, r->slots[i]->pid, r->slots[i]->addr)] = r->slots[i];
	free(r->slots);
	r->slots = slots;
	r->cap = cap;
	return 0;
}

static struct code_info *code_get(struct blame_resolver *r, __u32 pid, __u64 addr,
				  const struct cpython_code_layout *cl)
{
	struct code_info *ci;
	size_t i;

	if ((r->count + 1) * 2 > r->cap && grow(r))
		return NULL;
	i = slot_of(r->slots, r->cap, pid, addr);
	if (r->slots[i])
		return r->slots[i];
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		return NULL;
	ci->pid = pid;
	ci->addr = addr;
	read_code(ci, cl);
	r->slots[i] = ci;
	r->count++;
	return ci;
}

struct blame_resolver *resolver__new(void)
{
	return calloc(1, sizeof(struct blame_resolver));
}

void resolver__free(struct blame_resolver *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->cap; i++)
		free_code(r->slots[i]);
	free(r->slots);
	free(r);
}

void resolver__forget(struct blame_resolver *r, __u32 pid)
{
	struct code_info **old = r->slots;
	size_t cap = r->cap;

	r->slots = NULL;
	r->cap = r->count = 0;
	for (size_t i = 0; i < cap; i++) {
		if (!old[i])
			continue;
		if (old[i]->pid == pid || ((r->count + 1) * 2 > r->cap && grow(r))) {
			free_code(old[i]);
			continue;
		}
		r->slots[slot_of(r->slots, r->cap, old[i]->pid, old[i]->addr)] = old[i];
		r->count++;
	}
	free(old);
}

static __u32 frame_line(const struct code_info *ci, const struct cpython_code_layout *cl,
			__u64 instr)
{
	const struct pyobj_code c = { .firstlineno = ci->firstlineno, .lines = ci->lines,
				      .nlines = ci->nlines };

	return pyobj__frame_line(cl, ci->addr, &c, instr);
}

unsigned int resolver__resolve(struct blame_resolver *r, __u32 pid,
			       const struct cpython_code_layout *cl,
			       const struct blame_stack *raw, struct blame_frame *out)
{
	unsigned int n = raw->nframes < BLAME_MAX_FRAMES ? raw->nframes : BLAME_MAX_FRAMES;

	for (unsigned int i = 0; i < n; i++) {
		struct code_info *ci = code_get(r, pid, raw->frames[i].code, cl);

		if (!ci || !ci->ok) {
			out[i].name = unknown;
			out[i].file = "";
			out[i].line = 0;
			continue;
		}
		out[i].name = ci->name;
		out[i].file = ci->file;
		out[i].line = frame_line(ci, cl, raw->frames[i].instr);
	}
	return n;
}
