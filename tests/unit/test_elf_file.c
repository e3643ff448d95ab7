/*
 * target/elf_file.c on tiny shared objects compiled here with cc: symbols
 * from .symtab and .dynsym, their sizes and bytes, a stripped file with
 * only dynamic symbols, a missing symbol, the soname, the version string
 * in .rodata, the load bias, a named section (CPython 3.14's .PyRuntime),
 * and files that are not ELF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/elf_file.h"

/* gt_nops and gt_local are written in assembly so that their bytes and
 * sizes are known; gt_local is a local symbol (.symtab only). */
static const char source[] =
	"const char gt_marker[16] = \"giltrace-marker\";\n"
	"char gt_data[123] = { 1 };\n"
	"__attribute__((section(\".PyRuntime\"))) char gt_runtime[64] = \"xdebugpy\";\n"
	"const char gt_version[] = \"\\0\" \"3.11.x7\\0\" \"3.11.7\";\n"
	"__asm__(\".text\\n.globl gt_nops\\n.type gt_nops,@function\\ngt_nops:\\n"
	"\\tnop\\n\\tnop\\n\\tret\\n.size gt_nops, 3\\n\");\n"
	"__asm__(\".text\\n.type gt_local,@function\\ngt_local:\\n"
	"\\tint3\\n\\tret\\n.size gt_local, 2\\n\");\n"
	"void gt_call_local(void) { __asm__ volatile(\"call gt_local\"); }\n";

struct files {
	char dir[64];
	char lib[96], stripped[96], text[96], empty[96], src[96];
};

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(s, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void run(const char *cmd)
{
	int rc = system(cmd);

	if (rc)
		fail_msg("'%s' failed (%d): the test builds its ELF files with cc", cmd, rc);
}

static int setup(void **state)
{
	struct files *fs = calloc(1, sizeof(*fs));
	char cmd[512];

	assert_non_null(fs);
	snprintf(fs->dir, sizeof(fs->dir), "/tmp/giltrace-elf-XXXXXX");
	assert_non_null(mkdtemp(fs->dir));
	snprintf(fs->src, sizeof(fs->src), "%s/gt.c", fs->dir);
	snprintf(fs->lib, sizeof(fs->lib), "%s/libgt.so", fs->dir);
	snprintf(fs->stripped, sizeof(fs->stripped), "%s/libgt-stripped.so", fs->dir);
	snprintf(fs->text, sizeof(fs->text), "%s/notes.txt", fs->dir);
	snprintf(fs->empty, sizeof(fs->empty), "%s/empty", fs->dir);
	write_file(fs->src, source);
	write_file(fs->text, "not an ELF file, just text\n");
	write_file(fs->empty, "");
	snprintf(cmd, sizeof(cmd), "${CC:-cc} -shared -fPIC -O0 -Wl,-soname,libgt.so.7 -o %s %s",
		 fs->lib, fs->src);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "${CC:-cc} -shared -fPIC -O0 -s -Wl,-soname,libgt.so.7 -o %s %s",
		 fs->stripped, fs->src);
	run(cmd);
	*state = fs;
	return 0;
}

static int teardown(void **state)
{
	struct files *fs = *state;
	const char *paths[] = { fs->lib, fs->stripped, fs->text, fs->empty, fs->src };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		unlink(paths[i]);
	rmdir(fs->dir);
	free(fs);
	return 0;
}

static struct elf_file *open_elf(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct elf_file *ef;

	assert_true(fd >= 0);
	ef = elf_file__open_fd(fd);
	assert_non_null(ef);
	assert_int_equal(elf_file__fd(ef), fd);
	return ef;
}

static void assert_bytes(struct elf_file *ef, __u64 off, const void *want, size_t len)
{
	unsigned char got[32];

	assert_true(len <= sizeof(got));
	assert_int_equal(elf_file__read(ef, off, got, len), 0);
	assert_memory_equal(got, want, len);
}

static void test_symbols(void **state)
{
	struct files *fs = *state;
	struct elf_file *ef = open_elf(fs->lib);
	struct elf_sym_info s;
	__u64 off;

	assert_int_equal(elf_file__find(ef, "gt_nops", &s), 0);
	assert_true(s.is_func);
	assert_int_equal(s.size, 3);
	assert_true(s.vaddr != 0);
	assert_bytes(ef, s.file_offset, "\x90\x90\xc3", 3);
	assert_int_equal(elf_file__vaddr_to_offset(ef, s.vaddr, &off), 0);
	assert_int_equal(off, s.file_offset);

	assert_int_equal(elf_file__find(ef, "gt_marker", &s), 0);
	assert_false(s.is_func);
	assert_int_equal(s.size, 16);
	assert_bytes(ef, s.file_offset, "giltrace-marker", 16);

	assert_int_equal(elf_file__find(ef, "gt_data", &s), 0);
	assert_false(s.is_func);
	assert_int_equal(s.size, 123);

	/* local: in .symtab only */
	assert_int_equal(elf_file__find(ef, "gt_local", &s), 0);
	assert_true(s.is_func);
	assert_int_equal(s.size, 2);
	assert_bytes(ef, s.file_offset, "\xcc\xc3", 2);
	elf_file__close(ef);
}

static void test_missing_symbol(void **state)
{
	struct files *fs = *state;
	struct elf_file *ef = open_elf(fs->lib);
	struct elf_sym_info s = { .size = 99 };
	__u64 off = 5;

	assert_int_equal(elf_file__find(ef, "gt_nothing", &s), -ENOENT);
	assert_int_equal(elf_file__find(ef, "", &s), -ENOENT);
	/* a prefix of a symbol is not the symbol */
	assert_int_equal(elf_file__find(ef, "gt_nop", &s), -ENOENT);
	assert_int_equal(s.size, 99);
	/* an address no segment maps */
	assert_int_equal(elf_file__vaddr_to_offset(ef, 0x7fff00000000ull, &off), -ENOENT);
	assert_int_equal(off, 5);
	elf_file__close(ef);
}

/* Stripped (cc -s): no .symtab, exported symbols stay in .dynsym. */
static void test_stripped(void **state)
{
	struct files *fs = *state;
	struct elf_file *full = open_elf(fs->lib), *ef = open_elf(fs->stripped);
	struct elf_sym_info s, f;

	assert_int_equal(elf_file__find(ef, "gt_nops", &s), 0);
	assert_int_equal(elf_file__find(full, "gt_nops", &f), 0);
	assert_true(s.is_func);
	assert_int_equal(s.size, 3);
	assert_int_equal(s.vaddr, f.vaddr);
	assert_bytes(ef, s.file_offset, "\x90\x90\xc3", 3);
	assert_int_equal(elf_file__find(ef, "gt_marker", &s), 0);
	assert_int_equal(s.size, 16);
	assert_bytes(ef, s.file_offset, "giltrace-marker", 16);
	assert_int_equal(elf_file__find(ef, "gt_local", &s), -ENOENT);
	elf_file__close(full);
	elf_file__close(ef);
}

static void test_soname_and_version(void **state)
{
	struct files *fs = *state;
	struct elf_file *ef = open_elf(fs->lib);
	char buf[64];

	assert_int_equal(elf_file__soname(ef, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "libgt.so.7");
	/* "3.11.x7" is skipped: a digit must follow the prefix */
	assert_int_equal(elf_file__rodata_string(ef, "3.11.", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "3.11.7");
	assert_int_equal(elf_file__rodata_string(ef, "3.12.", buf, sizeof(buf)), -ENOENT);
	/* too long for the buffer: not cut, not found */
	assert_int_equal(elf_file__rodata_string(ef, "3.11.", buf, 6), -ENOENT);
	elf_file__close(ef);
	ef = open_elf(fs->stripped);
	assert_int_equal(elf_file__soname(ef, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "libgt.so.7");
	elf_file__close(ef);
}

/* .PyRuntime, where CPython 3.14+ keeps _PyRuntime for debuggers: found
 * by name, with or without symbols, and nothing for a name not there. */
static void test_section(void **state)
{
	struct files *fs = *state;
	struct elf_file *ef = open_elf(fs->lib);
	struct elf_sym_info sym;
	__u64 vaddr = 0, size = 0, off;

	assert_int_equal(elf_file__section(ef, ".PyRuntime", &vaddr, &size), 0);
	assert_int_equal(elf_file__find(ef, "gt_runtime", &sym), 0);
	assert_int_equal(vaddr, sym.vaddr);
	assert_int_equal(size, 64);
	assert_int_equal(elf_file__section(ef, ".NoSuchSection", &vaddr, NULL), -ENOENT);
	elf_file__close(ef);
	ef = open_elf(fs->stripped);
	assert_int_equal(elf_file__section(ef, ".PyRuntime", &vaddr, NULL), 0);
	assert_int_equal(elf_file__vaddr_to_offset(ef, vaddr, &off), 0);
	assert_bytes(ef, off, "xdebugpy", 8);
	elf_file__close(ef);
}

/* A shared object's first segment is at vaddr 0, file offset 0. */
static void test_load_bias(void **state)
{
	struct files *fs = *state;
	struct elf_file *ef = open_elf(fs->lib);
	__u64 bias = 1;

	assert_int_equal(elf_file__load_bias(ef, 0x7f1234560000ull, 0, &bias), 0);
	assert_int_equal(bias, 0x7f1234560000ull);
	bias = 1;
	assert_int_equal(elf_file__load_bias(ef, 0x7f1234560000ull, 0x40000000, &bias), -ENOENT);
	assert_int_equal(bias, 1);
	elf_file__close(ef);
}

static void test_not_elf(void **state)
{
	struct files *fs = *state;
	const char *paths[] = { fs->text, fs->empty, fs->src };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);

		assert_true(fd >= 0);
		errno = 0;
		assert_null(elf_file__open_fd(fd));
		assert_int_equal(errno, ENOEXEC);
		/* the descriptor was taken, and closed */
		assert_int_equal(fcntl(fd, F_GETFD), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_stripped),
		cmocka_unit_test(test_soname_and_version),
		cmocka_unit_test(test_load_bias),
		cmocka_unit_test(test_section),
		cmocka_unit_test(test_not_elf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
