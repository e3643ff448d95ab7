#include "blame/resolve.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "target/pyobj.h"
#include "util/u64map.h"

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
	struct u64map by_pid; /* pid -> struct u64map * of address -> struct code_info * */
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

static void free_code(struct code_info *ci)
{
	if (!ci)
		return;
	free(ci->name);
	free(ci->file);
	free(ci->lines);
	free(ci);
}

static void free_code_val(__u64 val)
{
	free_code((struct code_info *)(uintptr_t)val);
}

static struct code_info *code_get(struct blame_resolver *r, __u32 pid, __u64 addr,
				  const struct cpython_code_layout *cl)
{
	struct u64map *codes;
	struct code_info *ci;
	__u64 v;

	codes = u64map__sub(&r->by_pid, pid);
	if (!codes)
		return NULL;
	if (u64map__get(codes, addr, &v))
		return (struct code_info *)(uintptr_t)v;
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		return NULL;
	ci->pid = pid;
	ci->addr = addr;
	read_code(ci, cl);
	if (u64map__put(codes, addr, (uintptr_t)ci) < 0) {
		free_code(ci);
		return NULL;
	}
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
	u64map__destroy_subs(&r->by_pid, free_code_val);
	free(r);
}

void resolver__forget(struct blame_resolver *r, __u32 pid)
{
	__u64 codes;

	if (u64map__del(&r->by_pid, pid, &codes))
		u64map__free_sub((struct u64map *)(uintptr_t)codes, free_code_val);
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
		__u64 code = raw->frames[i].code & ~(__u64)cl->ref_tag_bits;
		struct code_info *ci = code_get(r, pid, code, cl);

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

__u64 resolver__frame_id(__u32 pid, __u64 code, __u64 instr)
{
	/* FNV-1a over the words, as BPF hashes a stack (bpf/blame.bpf.h). */
	__u64 h = ((FNV_OFFSET ^ code) * FNV_PRIME ^ instr) * FNV_PRIME;

	h ^= (__u64)pid << 32;
	return h < BLAME_ID_FIRST ? h + BLAME_ID_FIRST : h;
}
