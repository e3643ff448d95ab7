/*
 * Text a target controls (thread names, its command and executable, what a
 * capture from elsewhere says) made safe to print: a thread may name itself
 * "\x1b[2J" or "a\nb" (prctl(PR_SET_NAME) takes any 15 bytes), and printed
 * raw that would clear the user's terminal or break a table. Valid UTF-8 is
 * kept; every control character (C0, DEL, C1) and every byte of an invalid
 * UTF-8 sequence becomes '?', one column for the one it replaces.
 */
#ifndef GILTRACE_SAFE_TEXT_H
#define GILTRACE_SAFE_TEXT_H

#include <stddef.h>

/* Copies src into dst (len bytes, NUL-terminated) made safe as above; never
 * cuts a UTF-8 sequence in two. dst may be src. Returns dst. */
char *safe_text__copy(char *dst, size_t len, const char *src);
/* Cleans s in place (a fixed-size field). */
#define safe_text__clean(s) safe_text__copy((s), sizeof(s), (s))

/* A table cell: safe text cut to at most cols characters (code points) and
 * padded with spaces to cols, so names in any script keep the columns
 * aligned where printf's %-15.15s counts bytes. Returns dst. */
char *safe_text__cell(char *dst, size_t len, const char *src, int cols);

#endif
