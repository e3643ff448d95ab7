#include "target/pytype.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "target/proc.h"

/* Longer tp_names exist ("collections.OrderedDict"); only the last part
 * is kept, so this bounds the read, not the names shown. */
#define TP_NAME_READ 64

static int peek_u64(__u32 pid, __u64 addr, __u64 *v)
{
	return proc__read_mem(pid, addr, v, sizeof(*v));
}

const char *pytype__short(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!name[0])
		return NULL;
	for (const char *p = name; *p; p++)
		if (!(*p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return NULL;
	name = dot ? dot + 1 : name;
	return name[0] ? name : NULL;
}

/* A string read 16 bytes at a time: a name near the end of a mapping
 * would fail one long read. */
static int read_cstr(__u32 pid, __u64 addr, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 16 < len) {
		if (proc__read_mem(pid, addr + got, buf + got, 16))
			return -EFAULT;
		if (memchr(buf + got, '\0', 16))
			return 0;
		got += 16;
	}
	return -EFAULT;
}

int pytype__name(__u32 pid, __u64 type, const struct ftlocks_layout *l, char *buf, size_t len)
{
	char raw[TP_NAME_READ];
	__u64 meta, metameta, name;
	const char *s;

	if (!type || !l->ob_type || !l->type_type || peek_u64(pid, type + l->ob_type, &meta))
		return -EFAULT;
	/* Built-in and heap types are of type `type`; a class with a
	 * metaclass is of a type that is. */
	if (meta != l->type_type &&
	    (peek_u64(pid, meta + l->ob_type, &metameta) || metameta != l->type_type))
		return -EFAULT;
	if (peek_u64(pid, type + l->tp_name, &name) || read_cstr(pid, name, raw, sizeof(raw)))
		return -EFAULT;
	s = pytype__short(raw);
	if (!s)
		return -EFAULT;
	snprintf(buf, len, "%s", s);
	return 0;
}
