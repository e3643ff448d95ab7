/*
 * Symbols of an ELF file mapped by the target, read with libelf: where a
 * function starts in the file (what a uprobe takes) and what its first bytes
 * are (what the probe will cost).
 */
#ifndef GILTRACE_ELF_FILE_H
#define GILTRACE_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct elf_file;

struct elf_sym_info {
	__u64 vaddr;       /* st_value */
	__u64 size;        /* st_size */
	__u64 file_offset; /* where the symbol's bytes are in the file */
	bool is_func;
};

/* Takes ownership of fd. NULL with errno set on failure. */
struct elf_file *elf_file__open_fd(int fd);
void elf_file__close(struct elf_file *ef);
int elf_file__fd(const struct elf_file *ef);
/* 0 and *out filled, or -ENOENT; .symtab is searched before .dynsym. */
int elf_file__find(struct elf_file *ef, const char *name, struct elf_sym_info *out);
/* The file offset of a virtual address (st_value-like); 0 or -ENOENT. */
int elf_file__vaddr_to_offset(const struct elf_file *ef, __u64 vaddr, __u64 *off);
/* Reads len bytes at a file offset; 0 or -errno. */
int elf_file__read(const struct elf_file *ef, __u64 offset, void *buf, size_t len);

/* Load bias of the file mapped at map_start from file offset map_offset
 * (for a symbol's run-time address: st_value + bias); 0 or -errno. */
int elf_file__load_bias(const struct elf_file *ef, __u64 map_start, __u64 map_offset,
			__u64 *bias);
/* The address (and size, if size is not NULL) of the section called name;
 * 0 or -ENOENT. */
int elf_file__section(const struct elf_file *ef, const char *name, __u64 *vaddr, __u64 *size);
/* DT_SONAME; 0 or -ENOENT. */
int elf_file__soname(const struct elf_file *ef, char *buf, size_t len);
/* The first whole NUL-terminated string in .rodata that is prefix
 * followed by a digit and [0-9a-z+]* (a version such as PY_VERSION). */
int elf_file__rodata_string(const struct elf_file *ef, const char *prefix, char *buf,
			    size_t len);

#endif
