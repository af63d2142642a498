/* lib/mem.c - byte routines for the freestanding core (see mem.h). */
#include "lib/mem.h"

void mmk_memset(void *dst, int c, size_t len)
{
	unsigned char *d = dst;
	/* Word stores for the bulk: zeroing frames is the hot use. */
	uint64_t w = (unsigned char)c;
	w |= w << 8;
	w |= w << 16;
	w |= w << 32;
	while (len && ((uintptr_t)d & 7)) {
		*d++ = (unsigned char)c;
		len--;
	}
	for (; len >= 8; len -= 8, d += 8)
		*(uint64_t *)(void *)d = w;
	while (len--)
		*d++ = (unsigned char)c;
}

void mmk_memcpy(void *dst, const void *src, size_t len)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
		for (; len >= 8; len -= 8, d += 8, s += 8)
			*(uint64_t *)(void *)d = *(const uint64_t *)(const void *)s;
	}
	while (len--)
		*d++ = *s++;
}

void mmk_memmove(void *dst, const void *src, size_t len)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d <= s || d >= s + len) {
		mmk_memcpy(dst, src, len); /* ascending copy is safe */
		return;
	}
	while (len--)
		d[len] = s[len]; /* overlapping with dst above src: copy down */
}

int mmk_memcmp(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < len; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t mmk_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
