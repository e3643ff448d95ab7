#include "target/elf_file.h"

#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct elf_file {
	int fd;
	Elf *elf;
};

struct elf_file *elf_file__open_fd(int fd)
{
	struct elf_file *ef;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		close(fd);
		errno = ENOSYS;
		return NULL;
	}
	ef = calloc(1, sizeof(*ef));
	if (!ef) {
		close(fd);
		return NULL;
	}
	ef->fd = fd;
	ef->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF) {
		elf_file__close(ef);
		errno = ENOEXEC;
		return NULL;
	}
	return ef;
}

void elf_file__close(struct elf_file *ef)
{
	if (!ef)
		return;
	if (ef->elf)
		elf_end(ef->elf);
	close(ef->fd);
	free(ef);
}

int elf_file__fd(const struct elf_file *ef)
{
	return ef->fd;
}

/* A symbol's address becomes a file offset through the PT_LOAD segment
 * holding it; this is what makes PIE and ASLR irrelevant to uprobes. */
static int vaddr_to_offset(Elf *elf, __u64 vaddr, __u64 *off)
{
	size_t n;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_memsz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static int find_in_table(Elf *elf, Elf_Scn *scn, const char *name, GElf_Sym *out)
{
	GElf_Shdr sh;
	Elf_Data *data;
	size_t count;

	if (!gelf_getshdr(scn, &sh) || !(data = elf_getdata(scn, NULL)) || !sh.sh_entsize)
		return -ENOENT;
	count = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *s;

		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		s = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (s && !strcmp(s, name)) {
			*out = sym;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_file__find(struct elf_file *ef, const char *name, struct elf_sym_info *out)
{
	static const Elf64_Word order[] = { SHT_SYMTAB, SHT_DYNSYM };

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(ef->elf, scn))) {
			GElf_Shdr sh;
			GElf_Sym sym;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != order[k])
				continue;
			if (find_in_table(ef->elf, scn, name, &sym))
				continue;
			out->vaddr = sym.st_value;
			out->size = sym.st_size;
			out->is_func = GELF_ST_TYPE(sym.st_info) == STT_FUNC;
			return vaddr_to_offset(ef->elf, sym.st_value, &out->file_offset);
		}
	}
	return -ENOENT;
}

int elf_file__read(const struct elf_file *ef, __u64 offset, void *buf, size_t len)
{
	ssize_t n = pread(ef->fd, buf, len, (off_t)offset);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}
