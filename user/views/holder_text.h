/*
 * The forced holder in words (engine__forced_holders()): which function, in
 * which thread, held the GIL most among the forced holds sampled, and how
 * exact that is. The summary, top and report take their line from here.
 */
#ifndef GILTRACE_HOLDER_TEXT_H
#define GILTRACE_HOLDER_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "engine/engine.h"

/* Room for the line: names and a path. */
#define HOLDER_TEXT 320

/* "cpu() app.py:16": the function, the file's last component, the line;
 * target-controlled text made safe to print. */
void holder_text__where(char *buf, size_t len, const struct engine_forced_fn *f);
/*
 * "held mostly by pool_3 (tid 4243, the longest of 3 threads) in cpu() app.py:16: 97% of
 * the forced holds' time, sampled at 412 of 415 forced switches". 1 when
 * written, 0 when tgid had no forced switch sampled, -ENOMEM.
 */
int holder_text__line(char *buf, size_t len, const struct engine *eng, __u32 tgid);
/* Calls put() with each process's line, in the engine's process order;
 * several: more than one process is traced (the line should name it).
 * 0 or -ENOMEM. */
int holder_text__each(const struct engine *eng,
		      void (*put)(void *ctx, __u32 tgid, const char *line, bool several),
		      void *ctx);

#endif
