/*
 * A process that claims to be CPython and lies (tests/e2e/test_hostile_target.py):
 * built as "python3.14" (and as "python3.99"), it exports a _PyRuntime
 * whose file image starts with the _Py_DebugOffsets of a real CPython
 * 3.14.10 (-include of a header the test writes from
 * tests/fuzz/corpus/pydebug/python3.14, defining DEBUG_OFFSETS, with the
 * version of the name, DEBUG_END, where its last non-zero word ends, and
 * HEAD_AT, where the debug offsets put _PyRuntime.interpreters.head), so
 * giltrace's reading of the file succeeds and the process's memory is what
 * it must check. In memory, the interpreter list's head and everything from
 * DEBUG_END on say what argv[1] asks; it prints "ready" and
 * sleeps, so giltrace -p reads it. Kinds:
 *   cookie    a wrong cookie
 *   garbage   the right cookie and version, then random bytes (seed argv[2])
 *   unmapped  the right cookie and version, every later word a small
 *             offset or a pointer into unmapped memory
 *   cycle     the right cookie and version, every later word pointing back
 *             into _PyRuntime itself (lists that loop for ever)
 *   future    garbage, in the 3.99 build: newer than every description
 *             giltrace has
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Initialised, so that it sits in the file's data as CPython's does; as
 * large as a real _PyRuntimeState, whose end the main interpreter is. */
unsigned char _PyRuntime[4 << 20] __attribute__((aligned(64))) = { DEBUG_OFFSETS };

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "cookie";
	uint64_t *w = (uint64_t *)_PyRuntime;
	size_t nw = sizeof(_PyRuntime) / 8;

	srandom(argc > 2 ? (unsigned)atoi(argv[2]) : 1);
	if (!strcmp(kind, "cookie"))
		memcpy(_PyRuntime, "xdebugPY", 8);
	for (size_t i = DEBUG_END / 8; i <= nw; i++) {
		size_t at = i < nw ? i : HEAD_AT / 8; /* the list's head last */

		if (!strcmp(kind, "unmapped"))
			w[at] = i % 2 ? 8 * i : 0x10 + 8 * i;
		else if (!strcmp(kind, "cycle"))
			w[at] = (uint64_t)(uintptr_t)&w[(i * 7) % nw];
		else
			w[at] = (uint64_t)random() << 32 | (uint64_t)random();
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}
