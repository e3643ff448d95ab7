#include "target/plan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "target/elf_file.h"
#include "target/insn.h"
#include "target/proc.h"

struct search {
	struct attach_plan *plan;
	char *err;
	size_t errlen;
	int ret; /* the first hard error met while matching */
};

/* Resolves every hook of row in ef and refuses probe points the kernel
 * would single-step. */
static int plan_hooks(struct attach_plan *plan, struct elf_file *ef,
		      const struct runtime_row *row, char *err, size_t errlen)
{
	struct elf_sym_info sym;

	if (elf_file__find(ef, row->gil_symbol, &sym)) {
		snprintf(err, errlen, "%s runtime without its %s symbol", row->name, row->gil_symbol);
		return -ENOENT;
	}
	plan->gil_span = sym.size;
	plan->nprobes = 0;
	for (int i = 0; i < RUNTIME_MAX_HOOKS && row->hooks[i].symbol; i++) {
		const struct runtime_hook *h = &row->hooks[i];
		unsigned char code[16];
		enum probe_cost cost;

		if (elf_file__find(ef, h->symbol, &sym) || !sym.is_func) {
			snprintf(err, errlen, "%s runtime without function %s", row->name, h->symbol);
			return -ENOENT;
		}
		if (elf_file__read(ef, sym.file_offset, code, sizeof(code))) {
			snprintf(err, errlen, "cannot read %s: %s", h->symbol, strerror(EIO));
			return -EIO;
		}
		cost = insn__probe_cost(code, sizeof(code));
		if (cost == PROBE_COST_SINGLESTEP) {
			snprintf(err, errlen,
				 "refusing to probe %s: its first instruction (%02x %02x %02x) would be "
				 "single-stepped, about 10 us a hit",
				 h->symbol, code[0], code[1], code[2]);
			return -EOPNOTSUPP;
		}
		plan->probes[plan->nprobes].offset = sym.file_offset;
		plan->probes[plan->nprobes].prog = h->prog;
		plan->probes[plan->nprobes].symbol = h->symbol;
		plan->nprobes++;
	}
	return 0;
}

static int try_file(const struct proc_mapping *m, void *ctx)
{
	struct search *s = ctx;
	const struct runtime_row *rows;
	struct elf_sym_info sym;
	struct elf_file *ef;
	int n, fd;

	fd = proc__open_mapping(s->plan->pid, m);
	if (fd < 0)
		return 0;
	ef = elf_file__open_fd(fd);
	if (!ef)
		return 0;
	rows = runtimes__table(&n);
	for (int i = 0; i < n; i++) {
		int err;

		if (elf_file__find(ef, rows[i].detect_symbol, &sym))
			continue;
		err = plan_hooks(s->plan, ef, &rows[i], s->err, s->errlen);
		if (err) {
			s->ret = err;
			elf_file__close(ef);
			return 1;
		}
		s->plan->row = &rows[i];
		s->plan->fd = dup(elf_file__fd(ef));
		snprintf(s->plan->meta.exe, sizeof(s->plan->meta.exe), "%.*s",
			 (int)sizeof(s->plan->meta.exe) - 1, m->path);
		elf_file__close(ef);
		if (s->plan->fd < 0) {
			s->ret = -errno;
			snprintf(s->err, s->errlen, "cannot keep %s open: %s", m->path, strerror(errno));
		}
		return 1;
	}
	elf_file__close(ef);
	return 0;
}

static void fill_machine_meta(struct trace_meta *meta)
{
	struct timespec mono, wall;
	struct utsname u;

	meta->ncpus = (__u32)sysconf(_SC_NPROCESSORS_ONLN);
	if (!uname(&u))
		snprintf(meta->kernel, sizeof(meta->kernel), "%s", u.release);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	meta->mono_to_wall_ns = (__u64)(wall.tv_sec - mono.tv_sec) * 1000000000ull +
				(__u64)(wall.tv_nsec - mono.tv_nsec);
}

int plan__build(__u32 pid, struct attach_plan *plan, char *err, size_t errlen)
{
	struct search s = { .plan = plan, .err = err, .errlen = errlen };
	char exe[PROC_PATH_MAX];
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->pid = pid;
	plan->fd = -1;
	ret = proc__check(pid);
	if (ret == -ESRCH) {
		snprintf(err, errlen, "cannot attach to PID %u: no such process", pid);
		return ret;
	}
	if (ret == -ECHILD) {
		snprintf(err, errlen, "cannot attach to PID %u: it is a zombie (exited, not yet reaped)",
			 pid);
		return ret;
	}
	proc__comm(pid, pid, plan->meta.comm, sizeof(plan->meta.comm));
	ret = proc__for_each_file(pid, try_file, &s);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read the mappings of PID %u: %s", pid, strerror(-ret));
		return ret;
	}
	if (s.ret) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "cannot trace PID %u (%s): %s", pid, plan->meta.comm, why);
		return s.ret;
	}
	if (!plan->row) {
		if (proc__exe(pid, exe, sizeof(exe)))
			snprintf(exe, sizeof(exe), "?");
		snprintf(err, errlen,
			 "PID %u (%s, %s) is not a supported runtime: no GIL functions found "
			 "(supported: the toy VM)",
			 pid, plan->meta.comm, exe);
		return -ENOENT;
	}
	plan->meta.pid = pid;
	snprintf(plan->meta.runtime, sizeof(plan->meta.runtime), "%s", plan->row->name);
	snprintf(plan->meta.version, sizeof(plan->meta.version), "%s", plan->row->version);
	snprintf(plan->meta.mode, sizeof(plan->meta.mode), "%s", plan->row->mode);
	fill_machine_meta(&plan->meta);
	return 0;
}

void plan__release(struct attach_plan *plan)
{
	if (plan->fd >= 0)
		close(plan->fd);
	plan->fd = -1;
}
