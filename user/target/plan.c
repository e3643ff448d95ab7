#include "target/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "target/elf_file.h"
#include "target/ftlocks_plan.h"
#include "target/insn.h"
#include "target/layout_check.h"
#include "target/proc.h"
#include "target/py_debug.h"
#include "util/safe_text.h"

struct search {
	struct attach_plan *plan;
	const char *mode; /* asked for with --mode, or NULL: the row's default */
	char *err;
	size_t errlen;
	int ret; /* the first hard error met while matching */
};

/* Resolves nhooks hooks (fewer if one has no symbol: the table's end)
 * in ef after the plan's probes so far and refuses probe points the kernel
 * would single-step. */
int plan__add_hooks(struct attach_plan *plan, struct elf_file *ef, const char *who,
		    const struct runtime_hook *hooks, int nhooks, char *err, size_t errlen)
{
	struct elf_sym_info sym;

	for (int i = 0; i < nhooks && hooks[i].symbol; i++) {
		const struct runtime_hook *h = &hooks[i];
		unsigned char code[16];
		enum probe_cost cost;

		if (elf_file__find(ef, h->symbol, &sym) || !sym.is_func) {
			if (h->optional)
				continue;
			snprintf(err, errlen, "%s runtime without function %s", who, h->symbol);
			return -ENOENT;
		}
		if (h->at >= sym.size && h->at) {
			snprintf(err, errlen, "%s is too short to probe at +%u", h->symbol, h->at);
			return -ENOENT;
		}
		if (elf_file__read(ef, sym.file_offset + h->at, code, sizeof(code))) {
			snprintf(err, errlen, "cannot read %s: %s", h->symbol, strerror(EIO));
			return -EIO;
		}
		cost = insn__probe_cost(code, sizeof(code));
		if (cost == PROBE_COST_SINGLESTEP && !h->rare) {
			snprintf(err, errlen,
				 "refusing to probe %s: its first instruction (%02x %02x %02x) would be "
				 "single-stepped, about 10 us a hit",
				 h->symbol, code[0], code[1], code[2]);
			return -EOPNOTSUPP;
		}
		if (plan->nprobes == PLAN_MAX_PROBES) {
			snprintf(err, errlen, "too many probes for one target at %s", h->symbol);
			return -E2BIG;
		}
		plan->probes[plan->nprobes].offset = sym.file_offset + h->at;
		plan->probes[plan->nprobes].prog = h->prog;
		plan->probes[plan->nprobes].symbol = h->symbol;
		plan->probes[plan->nprobes].retprobe = h->retprobe;
		plan->nprobes++;
	}
	return 0;
}

/* The row's hooks of one mode, in place of any planned before. -ENOENT
 * (with a reason) when a required one is missing, which a CPython row
 * answers by falling back to futex mode. */
static int plan_hooks(struct attach_plan *plan, struct elf_file *ef,
		      const struct runtime_row *row, const struct runtime_hook *hooks,
		      char *err, size_t errlen)
{
	plan->nprobes = 0;
	return plan__add_hooks(plan, ef, row->name, hooks, RUNTIME_MAX_HOOKS, err, errlen);
}

/* The toy VM: the GIL's address is learnt from the first probe hit. */
static int plan_toyvm(struct attach_plan *plan, struct elf_file *ef,
		      const struct runtime_row *row, char *err, size_t errlen)
{
	struct elf_sym_info sym;

	if (elf_file__find(ef, row->gil_symbol, &sym)) {
		snprintf(err, errlen, "%s runtime without its %s symbol", row->name, row->gil_symbol);
		return -ENOENT;
	}
	plan->target.gil_span = sym.size;
	return plan_hooks(plan, ef, row, row->hooks, err, errlen);
}

/* Finds the mapped file that exports libc_hooks' functions (the C library). */
struct libc_search {
	struct attach_plan *plan;
	const struct runtime_row *row;
	char *err;
	size_t errlen;
	int ret;
};

static int try_libc(const struct proc_mapping *m, void *ctx)
{
	struct libc_search *ls = ctx;
	struct elf_sym_info sym;
	struct elf_file *ef;
	int fd = proc__open_mapping(ls->plan->pid, m);

	if (fd < 0)
		return 0;
	ef = elf_file__open_fd(fd);
	if (!ef)
		return 0;
	if (elf_file__find(ef, ls->row->libc_hooks[0].symbol, &sym) || !sym.is_func) {
		elf_file__close(ef);
		return 0;
	}
	ls->ret = plan_hooks(ls->plan, ef, ls->row, ls->row->libc_hooks, ls->err, ls->errlen);
	if (!ls->ret) {
		ls->plan->libc_fd = dup(elf_file__fd(ef));
		if (ls->plan->libc_fd < 0) {
			ls->ret = -errno;
			snprintf(ls->err, ls->errlen, "cannot keep %s open: %s", m->path,
				 strerror(errno));
		}
	}
	elf_file__close(ef);
	return 1;
}

/* Cond mode: every probe in the C library; -ENOENT when no mapped file
 * exports its functions (another C library), with a reason in err. */
static int plan_libc(struct attach_plan *plan, const struct runtime_row *row, char *err,
		     size_t errlen)
{
	struct libc_search ls = { .plan = plan, .row = row, .err = err, .errlen = errlen,
				  .ret = -ENOENT };
	int ret = proc__for_each_file(plan->pid, try_libc, &ls);

	if (ret < 0)
		ls.ret = ret;
	if (ls.ret == -ENOENT && !ret)
		snprintf(err, errlen, "no mapped file exports %s (not glibc?)",
			 row->libc_hooks[0].symbol);
	if (ls.ret)
		return ls.ret;
	for (int i = 0; i < plan->nprobes; i++)
		plan->probes[i].in_libc = true;
	plan->target.flags |= GIL_TARGET_LIBC_COND;
	plan->target.off_switch_cond = plan->layout.switch_cond;
	snprintf(plan->meta.mode, sizeof(plan->meta.mode), "%s", row->libc_mode);
	return 0;
}

/* The mode asked for (mode), or the one the row prefers: cond mode where
 * the row has it and the C library exports its functions, else the hooks
 * where their symbols are (unless row->hooks_on_request), else futex mode.
 * A mode the row lacks, or one asked for that cannot be planned, is an
 * error. */
static int plan_mode(struct attach_plan *plan, struct elf_file *ef,
		     const struct runtime_row *row, const char *mode, char *err, size_t errlen)
{
	bool futex = mode ? row->futex_mode && !strcmp(mode, row->futex_mode)
			  : row->hooks_on_request;
	bool cond = row->libc_mode && (!mode || !strcmp(mode, row->libc_mode));
	int ret;

	if (mode && !futex && !cond && strcmp(mode, row->mode)) {
		snprintf(err, errlen, "%s %s has no mode %s (modes: %s%s%s%s%s)", row->name,
			 row->version, mode, row->libc_mode ? row->libc_mode : "",
			 row->libc_mode ? ", " : "", row->mode, row->futex_mode ? ", " : "",
			 row->futex_mode ? row->futex_mode : "");
		return -EINVAL;
	}
	if (cond) {
		ret = plan_libc(plan, row, err, errlen);
		/* Asked for, it must work; as the default, the row's next
		 * choice follows (the self-check says what that one misses). */
		if (!ret || mode)
			return ret;
		plan->nprobes = 0;
		if (plan->libc_fd >= 0)
			close(plan->libc_fd);
		plan->libc_fd = -1;
	}
	ret = futex ? -ENOENT : plan_hooks(plan, ef, row, row->hooks, err, errlen);
	if (ret == -ENOENT && row->futex_mode && (futex || !mode)) {
		/* Stripped build, or asked for: no per-acquisition probe. */
		plan->nprobes = 0;
		plan->target.flags |= GIL_TARGET_FUTEX_ONLY;
		snprintf(plan->meta.mode, sizeof(plan->meta.mode), "%s", row->futex_mode);
		return 0;
	}
	snprintf(plan->meta.mode, sizeof(plan->meta.mode), "%s", row->mode);
	return ret;
}

/* CPython 2.7: the GIL is the semaphore interpreter_lock points to, which
 * PyEval_InitThreads allocates when the first thread starts; BPF reads the
 * pointer until it is set (gil_ptr), so a CMD started by giltrace works. */
static int plan_cpython2(struct attach_plan *plan, struct elf_file *ef,
			 const struct proc_mapping *m, const struct runtime_row *row,
			 const char *mode, char *err, size_t errlen)
{
	const struct cpython2_layout *l = row->cpython2;
	struct gil_target *t = &plan->target;
	struct elf_sym_info sym, eval;
	__u64 bias;

	if (elf_file__find(ef, l->lock_ptr, &sym) || elf_file__find(ef, l->eval_loop, &eval) ||
	    elf_file__load_bias(ef, m->start, m->offset, &bias)) {
		snprintf(err, errlen, "cannot locate %s and %s in %s", l->lock_ptr, l->eval_loop,
			 m->path);
		return -ENOENT;
	}
	t->gil_ptr = sym.vaddr + bias;
	t->gil_span = l->sem_size;
	t->flags = GIL_TARGET_SEM;
	/* Full mode: a release called from the eval loop is forced. */
	t->drop_req_addr = eval.vaddr + bias;
	t->drop_req_off = (__u32)eval.size;
	return plan_mode(plan, ef, row, mode, err, errlen);
}

/* Where _PyRuntime is in the file: its dynamic symbol, or the .PyRuntime
 * section CPython 3.14+ puts it in for debuggers to find without one. */
static int find_runtime(struct elf_file *ef, const char *symbol, __u64 *vaddr)
{
	struct elf_sym_info sym;

	if (!elf_file__find(ef, symbol, &sym)) {
		*vaddr = sym.vaddr;
		return 0;
	}
	return elf_file__section(ef, ".PyRuntime", vaddr, NULL);
}

/* A test's deliberately wrong layout (tests/e2e/test_trace_sid.py): the
 * GIL's offset moved by GILTRACE_TEST_LAYOUT_SKEW bytes, which the live
 * checks must refuse. */
static void test_skew(struct cpython_layout *l)
{
	const char *skew = getenv("GILTRACE_TEST_LAYOUT_SKEW");

	if (skew)
		l->gil += (__u64)strtoll(skew, NULL, 0);
}

/* 3.13+: the layout from the file's _Py_DebugOffsets, and the raw bytes
 * the live check compares with memory. */
static int debug_layout(struct elf_file *ef, __u64 runtime_vaddr, const char *key,
			struct attach_plan *plan, struct py_debug *d, unsigned char *raw,
			char *err, size_t errlen)
{
	unsigned int major, minor;
	__u64 off;
	int ret;

	if (elf_file__vaddr_to_offset(ef, runtime_vaddr, &off) ||
	    elf_file__read(ef, off, raw, PY_DEBUG_BYTES)) {
		snprintf(err, errlen, "cannot read _PyRuntime's debug offsets from the file");
		return -ENOENT;
	}
	ret = py_debug__parse(raw, d, err, errlen);
	if (ret)
		return ret;
	if (sscanf(key, "%u.%u", &major, &minor) != 2 || major != d->major || minor != d->minor) {
		snprintf(err, errlen, "layout check 'version' failed: the file is named for %s, "
			 "its _Py_DebugOffsets say %u.%u", key, d->major, d->minor);
		return -EPROTO;
	}
	if (d->guessed)
		snprintf(plan->warning, sizeof(plan->warning),
			 "CPython %s is newer than any giltrace was tested with: its layout was read "
			 "from its _Py_DebugOffsets and checked against the process", key);
	return py_debug__layout(d, &plan->layout, err, errlen);
}

/* Free-threaded CPython: the probes that see the GIL turned on for good
 * and by which import, in every mode, and where BPF reads a str's text
 * and state (both from the debug offsets). */
static int plan_free_threaded(struct attach_plan *plan, struct elf_file *ef,
			      const struct runtime_row *row, char *err, size_t errlen)
{
	int before = plan->nprobes, ret;

	if (!plan->layout.free_threaded)
		return 0;
	ret = plan__add_hooks(plan, ef, row->name, row->ft_hooks, RUNTIME_FT_HOOKS, err, errlen);
	if (ret)
		return ret;
	/* Both or neither: the moment without the name is the readings' job. */
	plan->has_ft_probes = plan->nprobes - before == RUNTIME_FT_HOOKS;
	if (!plan->has_ft_probes)
		plan->nprobes = before;
	plan->ft.str_data = plan->layout.code.ascii_data;
	plan->ft.str_state = (__u32)plan->debug.v[PYDBG_STR_STATE];
	/* A version whose description lacks it: the text follows the state
	 * and its padding, as in 3.13 (48 and 56 free-threaded). */
	if (!plan->ft.str_state || plan->ft.str_state + 4 > plan->ft.str_data)
		plan->ft.str_state = plan->ft.str_data - 8;
	return 0;
}

/* CPython: the main interpreter's GIL sits at a fixed distance from
 * _PyRuntime, so its address is known before any probe fires, and futex
 * mode (no take_gil symbol) needs nothing else. The layout is checked
 * against the live process first: wrong offsets would trace zeros. */
static int plan_cpython(struct attach_plan *plan, struct elf_file *ef,
			const struct proc_mapping *m, const struct runtime_row *row,
			const char *key, const char *mode, char *err, size_t errlen)
{
	const struct cpython_layout *l = &plan->layout;
	struct gil_target *t = &plan->target;
	unsigned char raw[PY_DEBUG_BYTES];
	__u64 bias, runtime;
	int ret;

	if (find_runtime(ef, row->gil_symbol, &runtime) ||
	    elf_file__load_bias(ef, m->start, m->offset, &bias)) {
		snprintf(err, errlen, "cannot locate %s in %s", row->gil_symbol, m->path);
		return -ENOENT;
	}
	plan->layout = *row->cpython;
	if (l->debug_offsets) {
		ret = debug_layout(ef, runtime, key, plan, &plan->debug, raw, err, errlen);
		if (ret)
			return ret;
		plan->has_debug = true;
		memcpy(plan->debug_head, raw, sizeof(plan->debug_head));
	}
	runtime += bias;
	plan->runtime = runtime;
	test_skew(&plan->layout);
	ret = layout_check__live(plan->pid, runtime, l, plan->has_debug ? &plan->debug : NULL,
				 plan->debug_head, err, errlen);
	if (ret < 0)
		return ret;
	plan->layout_pending = ret == 1;
	t->gil_base = runtime + l->gil;
	t->gil_span = l->gil_size;
	t->off_locked = l->locked;
	t->off_switch = l->switch_number;
	t->off_cond = l->cond;
	t->cond_size = l->cond_size;
	t->drop_req_mask = l->drop_req_mask;
	t->flags = GIL_TARGET_CPYTHON;
	switch (l->drop_how) {
	case DROP_REQ_RUNTIME:
		t->drop_req_addr = runtime + l->drop_req;
		break;
	case DROP_REQ_MAIN_INTERP:
		t->drop_req_addr = runtime + l->drop_req;
		t->drop_req_off = l->drop_req_off;
		t->flags |= GIL_TARGET_DEREF;
		break;
	case DROP_REQ_HOLDER:
		t->drop_req_addr = t->gil_base + l->drop_req;
		t->drop_req_off = l->drop_req_off;
		t->flags |= GIL_TARGET_DEREF;
		break;
	}
	ret = plan_mode(plan, ef, row, mode, err, errlen);
	if (!ret)
		ret = plan_free_threaded(plan, ef, row, err, errlen);
	if (ret || !l->free_threaded)
		return ret;
	/* Its locks' probes go beside the GIL's, in every mode. A build
	 * without their functions (-ENOENT) is still traced for its GIL: the
	 * plan's warning says what is not. */
	ret = ftlocks_plan__add(plan, ef, m, err, errlen);
	if (ret == -ENOENT) {
		err[0] = '\0';
		ret = 0;
	}
	return ret;
}

/* The CPython version of a file holding _PyRuntime, from the file alone:
 * libpython's soname, else the executable's name ("python3.11"), and the
 * full PY_VERSION string from .rodata when the linker kept it whole. */
static void cpython_version(const struct elf_file *ef, const char *path, char *key, size_t klen,
			    char *full, size_t flen, bool *free_threaded)
{
	char soname[256], prefix[40];
	const char *base = NULL;
	unsigned int major, minor;
	int n = 0;

	key[0] = '\0';
	*free_threaded = false;
	if (!elf_file__soname(ef, soname, sizeof(soname)) && !strncmp(soname, "libpython", 9)) {
		base = soname + 9;
	} else {
		base = strrchr(path, '/');
		base = base ? base + 1 : path;
		base = strncmp(base, "python", 6) ? NULL : base + 6;
	}
	if (base && sscanf(base, "%u.%u%n", &major, &minor, &n) == 2) {
		*free_threaded = base[n] == 't';
		snprintf(key, klen, "%u.%u", major, minor);
	}
	snprintf(prefix, sizeof(prefix), "%s.", key[0] ? key : "3");
	if (elf_file__rodata_string(ef, prefix, full, flen))
		snprintf(full, flen, "%s", key[0] ? key : "?");
	if (!key[0] && sscanf(full, "%u.%u", &major, &minor) == 2)
		snprintf(key, klen, "%u.%u", major, minor);
	/* "3.13t", "3.13.0rc2t": free-threaded builds have rows of their own */
	if (*free_threaded) {
		strncat(key, "t", klen - strlen(key) - 1);
		strncat(full, "t", flen - strlen(full) - 1);
	}
}

/* "3.14" -> 314; 0 when key is no version. */
static unsigned int version_num(const char *key)
{
	unsigned int major, minor;

	return sscanf(key, "%u.%u", &major, &minor) == 2 ? major * 100 + minor : 0;
}

/* Whether a row is for free-threaded builds, as a key ending in 't' is. */
static bool row_free_threaded(const struct runtime_row *row)
{
	return row->cpython && row->cpython->free_threaded;
}

/* Whether row i is the one for CPython version key ("3.13", "3.13t"): its
 * own, or, for a minor version newer than every row of its kind (GIL or
 * free-threaded), the newest such row that reads the layout from
 * _Py_DebugOffsets (the live checks then decide). */
static bool row_fits(const struct runtime_row *rows, int n, int i, const char *key)
{
	bool ft = key[0] && key[strlen(key) - 1] == 't';

	if (!strcmp(key, rows[i].version))
		return true;
	if (!rows[i].cpython || !rows[i].cpython->debug_offsets ||
	    row_free_threaded(&rows[i]) != ft ||
	    version_num(key) <= version_num(rows[i].version) || version_num(key) / 100 != 3)
		return false;
	for (int j = i + 1; j < n; j++)
		if (rows[j].cpython && row_free_threaded(&rows[j]) == ft)
			return false;
	return true;
}

/* The file defines what the row is detected by; a CPython 3.14+ without
 * an exported _PyRuntime still has its .PyRuntime section (pyruntime). */
static bool detected(struct elf_file *ef, const struct runtime_row *row, bool pyruntime)
{
	struct elf_sym_info sym;

	return !elf_file__find(ef, row->detect_symbol, &sym) || (row->cpython && pyruntime);
}

static int try_file(const struct proc_mapping *m, void *ctx)
{
	struct search *s = ctx;
	const struct runtime_row *rows;
	struct elf_file *ef;
	char key[32] = "", full[64] = "";
	bool is_cpython = false, free_threaded = false, pyruntime;
	struct elf_sym_info sym;
	__u64 vaddr;
	int n, fd;

	fd = proc__open_mapping(s->plan->pid, m);
	if (fd < 0)
		return 0;
	ef = elf_file__open_fd(fd);
	if (!ef)
		return 0;
	rows = runtimes__table(&n);
	pyruntime = !elf_file__section(ef, ".PyRuntime", &vaddr, NULL);
	for (int i = 0; i < n; i++) {
		int err;

		if (!detected(ef, &rows[i], pyruntime))
			continue;
		if (rows[i].cpython || rows[i].cpython2) {
			if (!is_cpython)
				cpython_version(ef, m->path, key, sizeof(key), full, sizeof(full),
						&free_threaded);
			is_cpython = true;
			if (!row_fits(rows, n, i, key))
				continue;
			err = rows[i].cpython2
				      ? plan_cpython2(s->plan, ef, m, &rows[i], s->mode, s->err,
						      s->errlen)
				      : plan_cpython(s->plan, ef, m, &rows[i], key, s->mode, s->err,
						     s->errlen);
			snprintf(s->plan->meta.version, sizeof(s->plan->meta.version), "%s", full);
			safe_text__clean(s->plan->meta.version); /* read from the target's file */
		} else if (s->mode && strcmp(s->mode, rows[i].mode)) {
			snprintf(s->err, s->errlen, "the %s runtime has no mode %s (modes: %s)",
				 rows[i].name, s->mode, rows[i].mode);
			err = -EINVAL;
		} else {
			err = plan_toyvm(s->plan, ef, &rows[i], s->err, s->errlen);
			snprintf(s->plan->meta.mode, sizeof(s->plan->meta.mode), "%s", rows[i].mode);
			snprintf(s->plan->meta.version, sizeof(s->plan->meta.version), "%s",
				 rows[i].version);
		}
		if (err) {
			s->ret = err;
			elf_file__close(ef);
			return 1;
		}
		s->plan->row = &rows[i];
		snprintf(s->plan->meta.note, sizeof(s->plan->meta.note), "%s",
			 rows[i].note ? rows[i].note : "");
		ftlocks_plan__note(s->plan); /* what a stripped build's lock probes miss */
		s->plan->fd = dup(elf_file__fd(ef));
		snprintf(s->plan->meta.exe, sizeof(s->plan->meta.exe), "%.*s",
			 (int)sizeof(s->plan->meta.exe) - 1, m->path);
		safe_text__clean(s->plan->meta.exe); /* a file name the target chose */
		elf_file__close(ef);
		if (s->plan->fd < 0) {
			s->ret = -errno;
			snprintf(s->err, s->errlen, "cannot keep %s open: %s", m->path, strerror(errno));
		}
		return 1;
	}
	/* CPython before 3.7 has no _PyRuntime: named by the function every
	 * CPython exports, so that 3.6 is refused by its version. */
	if (!is_cpython && !elf_file__find(ef, "Py_GetVersion", &sym)) {
		cpython_version(ef, m->path, key, sizeof(key), full, sizeof(full), &free_threaded);
		is_cpython = true;
	}
	elf_file__close(ef);
	if (is_cpython) {
		s->ret = -EPROTONOSUPPORT;
		snprintf(s->err, s->errlen, "%s is %sCPython %s, which giltrace does not know "
			 "(supported: %s)", m->path, free_threaded ? "a free-threaded " : "", full,
			 runtimes__cpython_versions());
		return 1;
	}
	return 0;
}

void plan__machine_meta(struct trace_meta *meta)
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

int plan__build(__u32 pid, const char *mode, struct attach_plan *plan, char *err,
		size_t errlen)
{
	struct search s = { .plan = plan, .mode = mode, .err = err, .errlen = errlen };
	char exe[PROC_PATH_MAX];
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->pid = pid;
	plan->fd = -1;
	plan->libc_fd = -1;
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
			 "(supported: the toy VM, %s)",
			 pid, plan->meta.comm, exe, runtimes__cpython_versions());
		return PLAN_NOT_RUNTIME;
	}
	plan->meta.pid = pid;
	snprintf(plan->meta.runtime, sizeof(plan->meta.runtime), "%s", plan->row->name);
	plan__machine_meta(&plan->meta);
	return 0;
}

int plan__check_layout(struct attach_plan *plan, char *err, size_t errlen)
{
	int ret;

	if (!plan->layout_pending)
		return 0;
	ret = layout_check__live(plan->pid, plan->runtime, &plan->layout,
				 plan->has_debug ? &plan->debug : NULL, plan->debug_head, err, errlen);
	if (ret < 0)
		return ret;
	plan->layout_pending = ret == 1;
	return 0;
}

void plan__release(struct attach_plan *plan)
{
	if (plan->fd >= 0)
		close(plan->fd);
	plan->fd = -1;
	if (plan->libc_fd >= 0)
		close(plan->libc_fd);
	plan->libc_fd = -1;
}
