#include "target/pyobj.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "target/proc.h"

#define STR_MAX 1024       /* longer names and paths are cut */
#define LINETABLE_MAX 65536

/*
 * What every CPython 3 version lays out the same way on x86-64 (Include/
 * object.h, cpython/unicodeobject.h, cpython/bytesobject.h, 3.8-3.13):
 * PyObject.ob_type at 8, PyTypeObject.tp_name at 24, PyVarObject.ob_size
 * (bytes) and PyASCIIObject.length (str) at 16, PyASCIIObject.state at 32
 * (kind bits 2-4, compact bit 5, ascii bit 6: gdb ptype /o PyASCIIObject),
 * PyBytesObject.ob_sval at 32.
 */
#define OB_TYPE 8
#define TP_NAME 24
#define VAR_SIZE 16
#define STR_STATE 32
#define STR_KIND(state) ((state) >> 2 & 7)
#define STR_COMPACT (1u << 5)
#define STR_ASCII (1u << 6)
#define BYTES_DATA 32

static int peek_u64(__u32 pid, __u64 addr, __u64 *v)
{
	return proc__read_mem(pid, addr, v, sizeof(*v));
}

/* The object at addr has the type whose tp_name is want. */
static bool has_type(__u32 pid, __u64 obj, const char *want)
{
	char name[16];
	__u64 type, tp_name;
	size_t n = strlen(want) + 1;

	if (peek_u64(pid, obj + OB_TYPE, &type) || peek_u64(pid, type + TP_NAME, &tp_name) ||
	    proc__read_mem(pid, tp_name, name, n))
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

	if (!has_type(pid, obj, "str") || peek_u64(pid, obj + VAR_SIZE, &len) ||
	    proc__read_mem(pid, obj + STR_STATE, &state, sizeof(state)))
		return NULL;
	kind = STR_KIND(state);
	if (!(state & STR_COMPACT) || (kind != 1 && kind != 2 && kind != 4))
		return NULL; /* not compact: code objects' strings always are */
	if (len > STR_MAX)
		len = STR_MAX;
	raw = malloc(len * kind + 1);
	out = malloc(len * 4 + 1);
	if (!raw || !out ||
	    proc__read_mem(pid, obj + (state & STR_ASCII ? cl->ascii_data : cl->compact_data), raw,
		 len * kind)) {
		free(raw);
		free(out);
		return NULL;
	}
	p = out;
	for (__u64 i = 0; i < len; i++) {
		__u32 c = kind == 1 ? raw[i] : kind == 2 ? ((__u16 *)raw)[i] : ((__u32 *)raw)[i];

		/* Names and files come from the target: no control character
		 * (C0, DEL, C1) and no lone surrogate reaches a view. */
		bool bad = c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
			   (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff;

		p = utf8_put(p, bad ? '?' : c);
	}
	*p = '\0';
	free(raw);
	return out;
}

static unsigned char *read_bytes(__u32 pid, __u64 obj, size_t *n)
{
	unsigned char *buf;
	__u64 len;

	if (!has_type(pid, obj, "bytes") || peek_u64(pid, obj + VAR_SIZE, &len) ||
	    len > LINETABLE_MAX)
		return NULL;
	buf = malloc(len ? len : 1);
	if (buf && proc__read_mem(pid, obj + BYTES_DATA, buf, len)) {
		free(buf);
		return NULL;
	}
	*n = len;
	return buf;
}

void pyobj_code__free(struct pyobj_code *c)
{
	free(c->name);
	free(c->file);
	free(c->lines);
	memset(c, 0, sizeof(*c));
}

int pyobj__read_code(__u32 pid, __u64 addr, const struct cpython_code_layout *cl,
		     struct pyobj_code *out)
{
	__u64 file, name, table;
	__s32 first;

	memset(out, 0, sizeof(*out));
	if (!has_type(pid, addr, "code") || peek_u64(pid, addr + cl->filename, &file) ||
	    peek_u64(pid, addr + (cl->qualname ? cl->qualname : cl->name), &name) ||
	    proc__read_mem(pid, addr + cl->firstlineno, &first, sizeof(first)))
		return -EFAULT;
	out->file = read_str(pid, cl, file);
	out->name = read_str(pid, cl, name);
	if (!out->file || !out->name) {
		pyobj_code__free(out);
		return -EFAULT;
	}
	out->firstlineno = first > 0 ? (__u32)first : 0;
	/* Without its line table a frame still has a name: the line is then
	 * the function's first. */
	if (!peek_u64(pid, addr + cl->linetable, &table))
		out->lines = read_bytes(pid, table, &out->nlines);
	return 0;
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

__u32 pyobj__line(enum cpython_lines how, const unsigned char *tab, size_t len,
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

__u32 pyobj__frame_line(const struct cpython_code_layout *cl, __u64 code_addr,
			const struct pyobj_code *code, __u64 instr)
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
		addrq = instr >= code_addr + cl->code_adaptive
				? (long)((instr - code_addr - cl->code_adaptive) / 2)
				: -1;
		break;
	}
	line = pyobj__line(cl->lines, code->lines, code->nlines, code->firstlineno, addrq);
	return line ? line : code->firstlineno;
}
