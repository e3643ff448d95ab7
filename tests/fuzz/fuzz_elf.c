/*
 * libFuzzer target for the ELF reader (user/target/elf_file.c): the files
 * a traced process maps, which it (or its container) controls. The input
 * is an ELF file; every query giltrace makes of one runs on it. Crashes,
 * leaks, hangs and sanitizer reports are bugs; error returns are not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "target/elf_file.h"

static const char *const symbols[] = {
	"_PyRuntime", "take_gil", "PyEval_SaveThread", "pthread_cond_signal@@GLIBC_2.3.2",
	"toyvm_gil_acquired", "interpreter_lock",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_elf", MFD_CLOEXEC);
	struct elf_file *ef;
	char buf[128];
	unsigned char bytes[16];

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	ef = elf_file__open_fd(fd);
	if (!ef)
		return 0; /* fd closed by the failed open */
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		struct elf_sym_info s;
		__u64 off, bias;

		if (elf_file__find(ef, symbols[i], &s))
			continue;
		if (!elf_file__vaddr_to_offset(ef, s.vaddr, &off))
			elf_file__read(ef, off, bytes, sizeof(bytes));
		elf_file__read(ef, s.file_offset, bytes, sizeof(bytes));
		elf_file__load_bias(ef, 0x400000, s.file_offset & ~0xfffULL, &bias);
	}
	elf_file__soname(ef, buf, sizeof(buf));
	elf_file__rodata_string(ef, "3.", buf, sizeof(buf));
	elf_file__close(ef);
	return 0;
}
