#include "target/elf_file.h"

#include <errno.h>
#include <gelf.h>
#include <stdio.h>
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

/* The .gnu.version entries of a .dynsym (one half-word per symbol), or
 * NULL when the file has none. */
static Elf_Data *versym_data(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_versym)
			return elf_getdata(scn, NULL);
	return NULL;
}

/* A hidden version (readelf's "name@VER", not "name@@VER") is kept for
 * programs linked against an old library: a name such as glibc's
 * pthread_cond_signal has one beside the default that programs call now. */
#define VERSYM_HIDDEN 0x8000

static int find_in_table(Elf *elf, Elf_Scn *scn, const char *name, GElf_Sym *out)
{
	Elf_Data *data, *versym = NULL;
	GElf_Shdr sh;
	size_t count;

	if (!gelf_getshdr(scn, &sh) || !(data = elf_getdata(scn, NULL)) || !sh.sh_entsize)
		return -ENOENT;
	if (sh.sh_type == SHT_DYNSYM)
		versym = versym_data(elf);
	count = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Versym ver;
		GElf_Sym sym;
		const char *s;

		/* Section and file symbols have no name: "" finds nothing. */
		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_name)
			continue;
		s = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!s || strcmp(s, name))
			continue;
		if (versym && gelf_getversym(versym, (int)i, &ver) && (ver & VERSYM_HIDDEN))
			continue;
		*out = sym;
		return 0;
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

int elf_file__vaddr_to_offset(const struct elf_file *ef, __u64 vaddr, __u64 *off)
{
	return vaddr_to_offset(ef->elf, vaddr, off);
}

int elf_file__read(const struct elf_file *ef, __u64 offset, void *buf, size_t len)
{
	ssize_t n = pread(ef->fd, buf, len, (off_t)offset);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int elf_file__load_bias(const struct elf_file *ef, __u64 map_start, __u64 map_offset, __u64 *bias)
{
	size_t n;
	GElf_Phdr ph;

	if (elf_getphdrnum(ef->elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* The kernel maps whole pages: the segment starts in the page
		 * at map_offset, at the same distance into it. */
		if ((ph.p_offset & ~0xfffull) == map_offset) {
			*bias = map_start - (ph.p_vaddr & ~0xfffull);
			return 0;
		}
	}
	return -ENOENT;
}

int elf_file__soname(const struct elf_file *ef, char *buf, size_t len)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag != DT_SONAME)
				continue;
			s = elf_strptr(ef->elf, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				return -ENOENT;
			snprintf(buf, len, "%s", s);
			return 0;
		}
	}
	return -ENOENT;
}

/* A whole string "<prefix><digit>[0-9a-z+]*", as PY_VERSION is kept. */
static bool version_string(const char *s, size_t n, const char *prefix)
{
	size_t plen = strlen(prefix);

	if (n <= plen || memcmp(s, prefix, plen) || s[plen] < '0' || s[plen] > '9')
		return false;
	for (size_t i = plen; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || s[i] == '+'))
			return false;
	return true;
}

/* The section called name (the first), or NULL. */
static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

int elf_file__section(const struct elf_file *ef, const char *name, __u64 *vaddr, __u64 *size)
{
	GElf_Shdr sh;

	if (!find_section(ef->elf, name, &sh))
		return -ENOENT;
	*vaddr = sh.sh_addr;
	if (size)
		*size = sh.sh_size;
	return 0;
}

int elf_file__rodata_string(const struct elf_file *ef, const char *prefix, char *buf, size_t len)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(ef->elf, ".rodata", &sh);
	Elf_Data *data;
	const char *p, *end;

	if (!scn || sh.sh_type != SHT_PROGBITS || !(data = elf_getdata(scn, NULL)) || !data->d_buf)
		return -ENOENT;
	p = data->d_buf;
	end = p + data->d_size;
	while (p < end) {
		size_t n = strnlen(p, (size_t)(end - p));

		if ((p == (const char *)data->d_buf || p[-1] == '\0') &&
		    version_string(p, n, prefix) && n < len) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			return 0;
		}
		p += n + 1;
	}
	return -ENOENT;
}
