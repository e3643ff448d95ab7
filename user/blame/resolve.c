#include "blame/resolve.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "util/u64map.h"

#define STR_MAX 1024       /* longer names and paths are cut */
#define LINETABLE_MAX 65536

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

static int peek(__u32 pid, __u64 addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };

	if (!addr)
		return -EFAULT;
	return process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

static int peek_u64(__u32 pid, __u64 addr, __u64 *v)
{
	return peek(pid, addr, v, sizeof(*v));
}

/* The object at addr has the type whose tp_name is want. */
static bool has_type(__u32 pid, __u64 obj, const char *want)
{
	char name[16];
	__u64 type, tp_name;
	size_t n = strlen(want) + 1;

	if (peek_u64(pid, obj + 8, &type) || peek_u64(pid, type + 24, &tp_name) ||
	    peek(pid, tp_name, name, n))
		return false;
	return !memcmp(name, want, n);
}

static char *utf8_put(char *p, __u32 c)
{
	if (c < 0x80) {
		*p++ = (char)c;
	} else if (c < 0x800) {
		*p++ = (char)(0xc0 | c >> 6);
		*p++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*p++ = (char)(0xe0 | c >> 12);
		*p++ = (char)(0x80 | (c >> 6 & 0x3f));
		*p++ = (char)(0x80 | (c & 0x3f));
	} else {
		*p++ = (char)(0xf0 | c >> 18);
		*p++ = (char)(0x80 | (c >> 12 & 0x3f));
		*p++ = (char)(0x80 | (c >> 6 & 0x3f));
		*p++ = (char)(0x80 | (c & 0x3f));
	}
	return p;
}

/* A compact str (PEP 393) as UTF-8; NULL when it is anything else. */
static char *read_str(__u32 pid, const struct cpython_code_layout *cl, __u64 obj)
{
	__u64 len;
	__u32 state, kind;
	unsigned char *raw;
	char *out, *p;

	if (!has_type(pid, obj, "str") || peek_u64(pid, obj + 16, &len) ||
	    peek(pid, obj + 32, &state, sizeof(state)))
		return NULL;
	kind = state >> 2 & 7;
	if (!(state & 1u << 5) || (kind != 1 && kind != 2 && kind != 4))
		return NULL; /* not compact: code objects' strings always are */
	if (len > STR_MAX)
		len = STR_MAX;
	raw = malloc(len * kind + 1);
	out = malloc(len * 4 + 1);
	if (!raw || !out ||
	    peek(pid, obj + (state & 1u << 6 ? cl->ascii_data : cl->compact_data), raw,
		 len * kind)) {
		free(raw);
		free(out);
		return NULL;
	}
	p = out;
	for (__u64 i = 0; i < len; i++) {
		__u32 c = kind == 1 ? raw[i] : kind == 2 ? ((__u16 *)raw)[i] : ((__u32 *)raw)[i];

		p = utf8_put(p, c ? c : '?');
	}
	*p = '\0';
	free(raw);
	return out;
}

static unsigned char *read_bytes(__u32 pid, __u64 obj, size_t *n)
{
	unsigned char *buf;
	__u64 len;

	if (!has_type(pid, obj, "bytes") || peek_u64(pid, obj + 16, &len) || len > LINETABLE_MAX)
		return NULL;
	buf = malloc(len ? len : 1);
	if (buf && peek(pid, obj + 32, buf, len)) {
		free(buf);
		return NULL;
	}
	*n = len;
	return buf;
}

static void read_code(struct code_info *ci, const struct cpython_code_layout *cl)
{
	__u64 file, name;
	__s32 first;

	if (!has_type(ci->pid, ci->addr, "code") ||
	    peek_u64(ci->pid, ci->addr + cl->filename, &file) ||
	    peek_u64(ci->pid, ci->addr + (cl->qualname ? cl->qualname : cl->name), &name) ||
	    peek(ci->pid, ci->addr + cl->firstlineno, &first, sizeof(first)))
		return;
	ci->file = read_str(ci->pid, cl, file);
	ci->name = read_str(ci->pid, cl, name);
	if (!ci->file || !ci->name)
		return;
	ci->firstlineno = first > 0 ? (__u32)first : 0;
	/* Without its line table a frame still has a name: the line is then
	 * the function's first. */
	if (!peek_u64(ci->pid, ci->addr + cl->linetable, &file))
		ci->lines = read_bytes(ci->pid, file, &ci->nlines);
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

/* Location-table varints (Objects/locations.md): 6 bits a byte, low first,
 * 0x40 says another byte follows. */
static __u32 loc_varint(const unsigned char **p, const unsigned char *e)
{
	__u32 v = 0;
	int shift = 0;

	while (*p < e) {
		unsigned char b = *(*p)++;

		v |= (__u32)(b & 63) << shift;
		shift += 6;
		if (!(b & 64) || shift > 30)
			break;
	}
	return v;
}

static int loc_svarint(const unsigned char **p, const unsigned char *e)
{
	__u32 v = loc_varint(p, e);

	return v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
}

/* 3.11+ (Python/compile.c write_location_info_entry, Objects/codeobject.c
 * advance): entries of 1-8 code units, the first byte 1CCCCLLL. */
static long line_locations(const unsigned char *p, const unsigned char *e, long line, long addrq)
{
	long addr = 0;

	while (p < e) {
		unsigned char b = *p++;
		int code = b >> 3 & 15, len = (b & 7) + 1, here = 1;

		if (!(b & 0x80))
			return 0; /* not on an entry start: the table is not what we think */
		if (code == 15) {
			here = 0;
		} else if (code == 14) {
			line += loc_svarint(&p, e);
			loc_varint(&p, e);
			loc_varint(&p, e);
			loc_varint(&p, e);
		} else if (code == 13) {
			line += loc_svarint(&p, e);
		} else if (code >= 10) {
			line += code - 10;
			p += 2;
		} else {
			p += 1;
		}
		addr += len;
		if (addrq < addr)
			return here ? line : 0;
	}
	return 0;
}

__u32 resolver__line(enum cpython_lines how, const unsigned char *tab, size_t len,
		     __u32 firstlineno, long addrq)
{
	const unsigned char *p, *e;
	long line = firstlineno, addr = 0, ar_line = 0;

	if (addrq < 0 || !tab)
		return firstlineno;
	p = tab;
	e = tab + len;
	switch (how) {
	case LINES_LNOTAB: /* Objects/codeobject.c 3.9 PyCode_Addr2Line */
		for (; p + 1 < e; p += 2) {
			addr += p[0];
			if (addr > addrq)
				break;
			line += (signed char)p[1];
		}
		return line > 0 ? (__u32)line : 0;
	case LINES_LINETABLE: /* 3.10 _PyCode_CheckLineNumber, by bytes */
		for (; p + 1 < e && addr <= addrq; p += 2) {
			addr += p[0];
			if ((signed char)p[1] == -128) {
				ar_line = 0;
			} else {
				line += (signed char)p[1];
				ar_line = line;
			}
		}
		return addr > addrq && ar_line > 0 ? (__u32)ar_line : 0;
	case LINES_LOCATIONS:
		line = line_locations(p, e, line, addrq);
		return line > 0 ? (__u32)line : 0;
	}
	return 0;
}

static __u32 frame_line(const struct code_info *ci, const struct cpython_code_layout *cl,
			__u64 instr)
{
	long addrq;
	__u32 line;

	switch (cl->instr) {
	case INSTR_LASTI_BYTES:
		addrq = (long)(__s64)instr;
		break;
	case INSTR_LASTI_UNITS:
		addrq = (long)(__s64)instr * 2;
		break;
	default:
		addrq = instr >= ci->addr + cl->code_adaptive
				? (long)((instr - ci->addr - cl->code_adaptive) / 2)
				: -1;
		break;
	}
	line = resolver__line(cl->lines, ci->lines, ci->nlines, ci->firstlineno, addrq);
	return line ? line : ci->firstlineno;
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
