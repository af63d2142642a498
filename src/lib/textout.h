/*
 * lib/textout.h - snprintf-like text output for the freestanding core
 * (vm_display, claims_format).  Characters past cap are counted but not
 * stored, so a caller learns the length the whole text needs and can size
 * a buffer and call again; textout_end NUL-terminates.
 */
#ifndef MMK_LIB_TEXTOUT_H
#define MMK_LIB_TEXTOUT_H

#include <mmk/types.h>

struct textout {
	char *buf;
	size_t cap, len; /* len: characters produced so far, stored or not */
};

static inline void textout_char(struct textout *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static inline void textout_str(struct textout *o, const char *s)
{
	while (*s)
		textout_char(o, *s++);
}

/* Hex with at least min_digits digits, no prefix. */
static inline void textout_hex(struct textout *o, uint64_t x, int min_digits)
{
	char tmp[16];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[x & 15];
		x >>= 4;
	} while (x);
	for (int i = n; i < min_digits; i++)
		textout_char(o, '0');
	while (n)
		textout_char(o, tmp[--n]);
}

static inline void textout_dec(struct textout *o, uint64_t x)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	while (n)
		textout_char(o, tmp[--n]);
}

/* NUL-terminate what fits; returns the whole text's length. */
static inline size_t textout_end(struct textout *o)
{
	if (o->cap)
		o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
	return o->len;
}

#endif
