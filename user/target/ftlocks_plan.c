#include "target/ftlocks_plan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "target/elf_file.h"

#define WHO "free-threaded CPython"
#define NHOOKS(hooks) ((int)(sizeof(hooks) / sizeof((hooks)[0])))

/* Python/lock.c and parking_lot.c (3.13): the slow paths of PyMutex, which
 * an uncontended lock never calls. Exported: a stripped build has them. */
static const struct runtime_hook mutex_hooks[] = {
	{ "PyMutex_Lock", "ft_mutex_lock_blocking", false, false, false, 0 },
	{ "PyMutex_Lock", "ft_mutex_lock_blocking_ret", true, false, false, 0 },
	{ "_PySemaphore_Wait", "ft_park", false, false, false, 0 },
	{ NULL, NULL, false, false, false, 0 },
};

/* PyMutex_LockFlags' slow path (the dict keys' lock, ...): a hidden symbol,
 * in .symtab only, so a stripped build lacks it (said at attach). */
static const struct runtime_hook timed_hooks[] = {
	{ "_PyMutex_LockTimed", "ft_mutex_lock", false, false, false, 0 },
	{ "_PyMutex_LockTimed", "ft_mutex_lock_ret", true, false, false, 0 },
	{ NULL, NULL, false, false, false, 0 },
};

/* Python/critical_section.c (3.13): a critical section's slow start. */
static const struct runtime_hook section_hooks[] = {
	{ "_PyCriticalSection_BeginSlow", "ft_section", false, false, false, 0 },
	{ "_PyCriticalSection2_BeginSlow", "ft_section2", false, false, false, 0 },
	{ NULL, NULL, false, false, false, 0 },
};

/* Python/pystate.c (3.13): the static functions every stop-the-world goes
 * through (_PyEval_StopTheWorld and ...All jump to them after an add, an
 * instruction a uprobe would single-step). Local symbols: a stripped
 * build has none, and then pauses are not traced (said at attach). */
static const struct runtime_hook stw_hooks[] = {
	{ "stop_the_world", "ft_stop_world", false, false, false, 0 },
	{ "stop_the_world", "ft_stop_world_ret", true, false, false, 0 },
	{ "start_the_world", "ft_start_world", false, false, false, 0 },
	{ NULL, NULL, false, false, false, 0 },
};

/* Each table ends with a NULL row. */
_Static_assert(NHOOKS(mutex_hooks) + NHOOKS(timed_hooks) + NHOOKS(section_hooks) +
			       NHOOKS(stw_hooks) - 4 <=
		       PLAN_LOCK_PROBES,
	       "plan.h's PLAN_LOCK_PROBES holds every lock probe");

/* Include/object.h (3.13, Py_GIL_DISABLED): ob_tid (8), _padding (2),
 * ob_mutex, ob_gc_bits, ob_ref_local (4), ob_ref_shared (8), ob_type. */
#define FT_OB_MUTEX 10
#define FT_OB_TYPE 24
#define FT_OBJECT_SIZE 32
/* Include/internal/pycore_runtime.h (3.13): where _Py_DebugOffsets keeps
 * free_threaded, pyobject.{size, ob_type} and type_object.{size, tp_name}. */
#define DBG_FREE_THREADED 16
#define DBG_OBJECT_SIZE 352
#define DBG_OB_TYPE 360
#define DBG_TYPE_SIZE 368
#define DBG_TP_NAME 376
#define DBG_BYTES 384

static __u64 u64_at(const unsigned char *raw, size_t at)
{
	__u64 v;

	memcpy(&v, raw + at, sizeof(v));
	return v;
}

/* The start of the file's _Py_DebugOffsets (3.13+), which say whether the
 * build is free-threaded: the file's name alone does not. */
static int read_debug(struct elf_file *ef, unsigned char *raw)
{
	struct elf_sym_info rt;
	__u64 off;

	if (elf_file__find(ef, "_PyRuntime", &rt) || elf_file__vaddr_to_offset(ef, rt.vaddr, &off) ||
	    elf_file__read(ef, off, raw, DBG_BYTES) || memcmp(raw, "xdebugpy", 8))
		return -ENOENT;
	return u64_at(raw, DBG_FREE_THREADED) == 1 ? 0 : -ENOENT;
}

/* Names are read only where the file's own _Py_DebugOffsets (3.13) agree
 * with the object header above; otherwise locks stay unnamed (type 0). */
static void read_layout(struct attach_plan *plan, struct elf_file *ef,
			const struct proc_mapping *m, const unsigned char *raw)
{
	struct ftlocks_layout *l = &plan->locks;
	struct elf_sym_info type;
	__u64 bias, version;

	if (elf_file__find(ef, "PyType_Type", &type) ||
	    elf_file__load_bias(ef, m->start, m->offset, &bias))
		return;
	version = u64_at(raw, 8);
	if ((version >> 16 & 0xffff) != 0x030d || u64_at(raw, DBG_OBJECT_SIZE) != FT_OBJECT_SIZE ||
	    u64_at(raw, DBG_OB_TYPE) != FT_OB_TYPE ||
	    u64_at(raw, DBG_TP_NAME) >= u64_at(raw, DBG_TYPE_SIZE))
		return;
	l->ob_mutex = FT_OB_MUTEX;
	l->ob_type = FT_OB_TYPE;
	l->tp_name = (__u16)u64_at(raw, DBG_TP_NAME);
	l->type_type = type.vaddr + bias;
}

/* Python/gc_free_threading.c (3.13): gc_collect_internal, which stops the
 * world twice a collection, is inlined into gc_collect_main (and a
 * constant-propagated copy); local symbols, like stop_the_world's. */
static const char *const gc_functions[FTLOCKS_GC_RANGES] = {
	"gc_collect_main",
	"gc_collect_main.constprop.0",
};

static void read_gc_ranges(struct attach_plan *plan, struct elf_file *ef,
			   const struct proc_mapping *m)
{
	struct elf_sym_info sym;
	__u64 bias;

	if (elf_file__load_bias(ef, m->start, m->offset, &bias))
		return;
	for (int i = 0; i < FTLOCKS_GC_RANGES; i++) {
		if (elf_file__find(ef, gc_functions[i], &sym) || !sym.is_func)
			continue;
		plan->locks.gc_lo[i] = sym.vaddr + bias;
		plan->locks.gc_hi[i] = sym.vaddr + bias + sym.size;
	}
}

/* Appends "WHAT not traced (WHY)" to the plan's warning. */
static void not_traced(struct attach_plan *plan, const char *what, const char *why)
{
	size_t used = strlen(plan->warning);

	snprintf(plan->warning + used, sizeof(plan->warning) - used, "%s%s not traced (%s)",
		 used ? "; " : "", what, why);
}

/* Hooks the plan can do without: added whole or not at all, and what is
 * then not traced said. */
static bool add_optional(struct attach_plan *plan, struct elf_file *ef,
			 const struct runtime_hook *hooks, int nhooks, const char *what)
{
	int n = plan->nprobes, ret;
	char why[160];

	ret = plan__add_hooks(plan, ef, WHO, hooks, nhooks, why, sizeof(why));
	if (!ret)
		return true;
	plan->nprobes = n;
	if (ret == -ENOENT) /* the usual case: a stripped build */
		snprintf(why, sizeof(why), "no symbol %s", hooks[0].symbol);
	not_traced(plan, what, why);
	return false;
}

void ftlocks_plan__note(struct attach_plan *plan)
{
	size_t used = strlen(plan->meta.note);

	if (!plan->locks.on || (plan->locks.stw && plan->locks.timed))
		return;
	snprintf(plan->meta.note + used, sizeof(plan->meta.note) - used, "%snot traced: %s%s%s",
		 used ? "; " : "", plan->locks.timed ? "" : "PyMutex_LockFlags' slow path",
		 plan->locks.timed || plan->locks.stw ? "" : ", ",
		 plan->locks.stw ? "" : "stop-the-world pauses");
}

int ftlocks_plan__add(struct attach_plan *plan, struct elf_file *ef,
		      const struct proc_mapping *m, char *err, size_t errlen)
{
	unsigned char raw[DBG_BYTES];
	int n = plan->nprobes, ret;

	memset(&plan->locks, 0, sizeof(plan->locks));
	if (read_debug(ef, raw)) {
		snprintf(err, errlen, "its _Py_DebugOffsets do not say it is free-threaded");
		not_traced(plan, "lock contention", err);
		return -ENOENT;
	}
	ret = plan__add_hooks(plan, ef, WHO, mutex_hooks, NHOOKS(mutex_hooks), err, errlen);
	if (!ret)
		ret = plan__add_hooks(plan, ef, WHO, section_hooks, NHOOKS(section_hooks), err,
				      errlen);
	if (ret) {
		plan->nprobes = n;
		if (ret == -ENOENT)
			not_traced(plan, "lock contention", err);
		return ret;
	}
	plan->locks.timed = add_optional(plan, ef, timed_hooks, NHOOKS(timed_hooks),
					 "PyMutex_LockFlags' slow path");
	plan->locks.stw = add_optional(plan, ef, stw_hooks, NHOOKS(stw_hooks),
				       "stop-the-world pauses");
	read_layout(plan, ef, m, raw);
	read_gc_ranges(plan, ef, m);
	plan->locks.on = true;
	return 0;
}
