/*
 * lib/fmt.c - the string builder of fmt.h.
 */
#include <mmk/errno.h>

#include "fmt.h"

static void put(struct mmk_fmt *f, char ch)
{
	if (f->pos + 1 < f->len)
		f->buf[f->pos] = ch;
	f->pos++;
}

void mmk_fmt_str(struct mmk_fmt *f, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		put(f, *s++);
}

static size_t utoa(char *tmp, uint64_t v, unsigned base)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	return n;
}

void mmk_fmt_dec(struct mmk_fmt *f, uint64_t v)
{
	char tmp[24];
	size_t n = utoa(tmp, v, 10);
	while (n)
		put(f, tmp[--n]);
}

void mmk_fmt_hex(struct mmk_fmt *f, uint64_t v)
{
	char tmp[24];
	size_t n = utoa(tmp, v, 16);
	put(f, '0');
	put(f, 'x');
	while (n)
		put(f, tmp[--n]);
}

void mmk_fmt_col(struct mmk_fmt *f, const char *s, size_t width)
{
	size_t start = f->pos;
	mmk_fmt_str(f, s);
	do
		put(f, ' ');
	while (f->pos - start < width);
}

void mmk_fmt_rdec(struct mmk_fmt *f, uint64_t v, size_t width)
{
	char tmp[24];
	size_t n = utoa(tmp, v, 10);
	put(f, ' ');
	for (size_t i = n; i < width; i++)
		put(f, ' ');
	while (n)
		put(f, tmp[--n]);
}

int mmk_fmt_end(struct mmk_fmt *f)
{
	if (f->len == 0)
		return -MMK_ENOSPC;
	if (f->pos < f->len) {
		f->buf[f->pos] = '\0';
		return (int)f->pos;
	}
	f->buf[f->len - 1] = '\0';
	return -MMK_ENOSPC;
}
