/*
 * lib/mem.h - byte routines for the freestanding core.
 *
 * The core may not call libc; these are the mem* it needs.  They are plain
 * loops on purpose: the core is built with -fno-builtin so the compiler does
 * not turn them back into calls to a libc it may not have.
 */
#ifndef MMK_LIB_MEM_H
#define MMK_LIB_MEM_H

#include <mmk/types.h>

/* Fill len bytes at dst with byte c. */
void mmk_memset(void *dst, int c, size_t len);
/* Copy len bytes; the ranges must not overlap. */
void mmk_memcpy(void *dst, const void *src, size_t len);
/* Copy len bytes between buffers that may overlap (memmove). */
void mmk_memmove(void *dst, const void *src, size_t len);
/* 0 when the len bytes are equal, else the sign of the first difference. */
int mmk_memcmp(const void *a, const void *b, size_t len);
/* Length of a NUL-terminated string. */
size_t mmk_strlen(const char *s);

#endif
