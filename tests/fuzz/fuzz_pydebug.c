/*
 * libFuzzer target for the _Py_DebugOffsets reader (user/target/py_debug.c):
 * the first PY_DEBUG_BYTES of a CPython 3.13+ _PyRuntime, which the traced
 * process (or whoever built its interpreter) controls. The input, padded
 * with zeros, is that memory; every version's description is tried
 * through the version field, and what parses is turned into a layout on
 * top of each CPython 3 row of the table. Crashes and sanitizer reports
 * are bugs; refusals are not.
 */
#include <stdint.h>
#include <string.h>

#include "target/py_debug.h"
#include "target/runtimes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char raw[PY_DEBUG_BYTES] = { 0 };
	struct py_debug d;
	char err[256];
	const struct runtime_row *rows;
	int n;

	memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
	if (py_debug__parse(raw, &d, err, sizeof(err)))
		return 0;
	py_debug__main_interp(&d);
	rows = runtimes__table(&n);
	for (int i = 0; i < n; i++) {
		struct cpython_layout l;

		if (!rows[i].cpython)
			continue;
		l = *rows[i].cpython;
		py_debug__layout(&d, &l, err, sizeof(err));
	}
	return 0;
}
