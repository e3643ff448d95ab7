/*
 * libFuzzer target for the /proc parsers (user/target/proc.c): a target's
 * /proc/PID/maps names files it chose (any bytes but NUL and newline), and
 * its status is read to tell a live process from a zombie. The first byte
 * picks the parser (even: maps, odd: status); the rest is the text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/proc.h"

static int check_mapping(const struct proc_mapping *m, void *ctx)
{
	(void)ctx;
	/* the parser promises a NUL-terminated path within its array */
	if (strnlen(m->path, sizeof(m->path)) == sizeof(m->path))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;

	if (size < 2)
		return 0;
	f = fmemopen((void *)(data + 1), size - 1, "r");
	if (!f)
		return 0;
	if (data[0] & 1)
		proc__parse_status(f);
	else
		proc__parse_maps(f, check_mapping, NULL);
	fclose(f);
	return 0;
}
