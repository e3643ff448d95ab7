/*
 * libFuzzer target for blame's readers of CPython objects
 * (user/target/pyobj.c): code objects, their str and bytes, and the line
 * tables of every version, all of which the traced process controls.
 *
 * The first byte picks a layout (a row of the runtime table that blame
 * reads) and the line-table format; the rest becomes memory of this very
 * process, which pyobj reads as it reads a target's (process_vm_readv on
 * our own pid). Pointers are made from it: each 8-byte word whose top
 * bit is set is replaced by an address inside the buffer (its low bits
 * modulo the size), so mutated inputs build object graphs, cycles and
 * dangling pointers included. The code object is at the buffer's start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/pyobj.h"
#include "target/runtimes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cpython_layout *layouts[16];
	static int nlayouts;
	const struct cpython_layout *l;
	struct pyobj_code code;
	__u64 *mem, base;
	size_t words;

	if (!nlayouts) {
		int n;
		const struct runtime_row *rows = runtimes__table(&n);

		for (int i = 0; i < n && nlayouts < 16; i++)
			if (runtime__blame_layout(&rows[i]))
				layouts[nlayouts++] = runtime__blame_layout(&rows[i]);
	}
	if (size < 2 || !nlayouts)
		return 0;
	l = layouts[data[0] % nlayouts];
	/* the line decoders on the raw bytes, in every format */
	for (int how = LINES_LNOTAB; how <= LINES_LOCATIONS; how++)
		pyobj__line((enum cpython_lines)how, data + 1, size - 1, 1, (long)data[0] * 7);
	words = (size - 1) / 8;
	if (!words)
		return 0;
	mem = calloc(words, 8);
	if (!mem)
		abort();
	memcpy(mem, data + 1, words * 8);
	base = (__u64)(uintptr_t)mem;
	for (size_t i = 0; i < words; i++)
		if (mem[i] >> 63)
			mem[i] = base + (mem[i] & 0xffffffff) % (words * 8);
	if (!pyobj__read_code((__u32)getpid(), base, &l->code, &code)) {
		pyobj__frame_line(&l->code, base, &code, mem[words - 1]);
		pyobj_code__free(&code);
	}
	free(mem);
	return 0;
}
