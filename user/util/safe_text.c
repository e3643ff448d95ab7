#include "safe_text.h"

#include <stdbool.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1-4; RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), 0 when it is invalid;
 * *control says whether it encodes a control character (C0, DEL, C1). */
static size_t utf8_seq(const unsigned char *s, bool *control)
{
	unsigned int c = s[0], need, cp, min;

	*control = c < 0x20 || c == 0x7f;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	for (unsigned int i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*control = cp <= 0x9f;
	return need + 1;
}

/* Copies at most max_chars characters; returns how many it copied. */
static int copy_chars(char *dst, size_t len, const char *src, int max_chars)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;
	int n = 0;

	if (!len)
		return 0;
	while (*s && n < max_chars) {
		bool control;
		size_t k = utf8_seq(s, &control);

		if (k && !control) {
			if (o + k >= len)
				break;
			memmove(dst + o, s, k); /* dst may be src: o never passes s */
			o += k;
		} else {
			if (o + 1 >= len)
				break;
			dst[o++] = '?'; /* a control character, or one invalid byte */
		}
		s += k ? k : 1;
		n++;
	}
	dst[o] = '\0';
	return n;
}

char *safe_text__copy(char *dst, size_t len, const char *src)
{
	copy_chars(dst, len, src, (int)(len > 0x7fffffff ? 0x7fffffff : len));
	return dst;
}

char *safe_text__cell(char *dst, size_t len, const char *src, int cols)
{
	int n = copy_chars(dst, len, src, cols);
	size_t o = strlen(dst);

	while (n++ < cols && o + 1 < len)
		dst[o++] = ' ';
	dst[o] = '\0';
	return dst;
}
