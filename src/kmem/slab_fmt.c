/*
 * kmem/slab_fmt.c - a tiny string builder for the slab allocator's reports
 * and slabinfo lines (the core has no libc, so no snprintf).
 *
 * Writes at most len - 1 characters and always NUL-terminates when len > 0;
 * pos keeps counting past the end so the caller learns the length needed.
 */
#include "slab_internal.h"

static void put(struct kmem_fmt *f, char ch)
{
	if (f->pos + 1 < f->len)
		f->buf[f->pos] = ch;
	f->pos++;
}

void kmem_fmt_str(struct kmem_fmt *f, const char *s)
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

void kmem_fmt_dec(struct kmem_fmt *f, uint64_t v)
{
	char tmp[24];
	size_t n = utoa(tmp, v, 10);
	while (n)
		put(f, tmp[--n]);
}

void kmem_fmt_hex(struct kmem_fmt *f, uint64_t v)
{
	char tmp[24];
	size_t n = utoa(tmp, v, 16);
	put(f, '0');
	put(f, 'x');
	while (n)
		put(f, tmp[--n]);
}

void kmem_fmt_col(struct kmem_fmt *f, const char *s, size_t width)
{
	size_t start = f->pos;
	kmem_fmt_str(f, s);
	do
		put(f, ' ');
	while (f->pos - start < width);
}

void kmem_fmt_rdec(struct kmem_fmt *f, uint64_t v, size_t width)
{
	char tmp[24];
	size_t n = utoa(tmp, v, 10);
	put(f, ' ');
	for (size_t i = n; i < width; i++)
		put(f, ' ');
	while (n)
		put(f, tmp[--n]);
}

int kmem_fmt_end(struct kmem_fmt *f)
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
