/*
 * The name of a type object in a free-threaded CPython target, for naming
 * a lock by its owner's type ("dict"). Refused, never guessed, when the
 * object read is no type.
 */
#ifndef GILTRACE_PYTYPE_H
#define GILTRACE_PYTYPE_H

#include <stddef.h>
#include <linux/types.h>

#include "target/plan.h"

/* The short name (tp_name after its last dot, at most len - 1 bytes) of
 * the type at type in pid: 0, or -EFAULT when it does not read as a type
 * (its own type is neither PyType_Type nor of type PyType_Type) or its
 * name is not printable text. */
int pytype__name(__u32 pid, __u64 type, const struct ftlocks_layout *l, char *buf, size_t len);

/* Pure: whether name (NUL-terminated) is a plausible tp_name, and its
 * part after the last dot. NULL when it is not. */
const char *pytype__short(const char *name);

#endif
