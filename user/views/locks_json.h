/* Free-threaded CPython's locks in the JSON summary: the "locks" object
 * (docs/json.md), present only when a lock or stop-the-world event came. */
#ifndef GILTRACE_LOCKS_JSON_H
#define GILTRACE_LOCKS_JSON_H

#include <json-c/json.h>

struct engine;

/* Adds "locks" to root; 0 or -ENOMEM. */
int locks_json__add(struct json_object *root, const struct engine *eng);

#endif
