/*
 * klib.c - the C library routines a freestanding kernel still needs: the
 * compiler may emit calls to memset, memcpy, memmove and memcmp for
 * structure copies and initialisers (GCC's freestanding requirement), and
 * the cmocka shim uses strlen, strcmp and strstr.  The fills and copies
 * use the string instructions (one instruction under TCG) and are written
 * in asm so the compiler cannot turn them back into calls to themselves;
 * memcmp and strlen are the core's (src/lib/mem.c).
 */
#include "klib.h"

#include "lib/mem.h" /* the core's own routines, where no asm is needed */

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	if ((uintptr_t)dst <= (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n)
		return memcpy(dst, src, n);
	/* Overlap with dst above src: copy backwards. */
	unsigned char *d = (unsigned char *)dst + n - 1;
	const unsigned char *s = (const unsigned char *)src + n - 1;
	__asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n) { return mmk_memcmp(a, b, n); }

size_t strlen(const char *s) { return mmk_strlen(s); }

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (memcmp(hay, needle, n) == 0)
			return (char *)hay;
	return n == 0 ? (char *)hay : NULL;
}
