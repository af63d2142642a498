/*
 * klib.h - the few C library routines of the kernel (klib.c), with their
 * standard names and contracts (ISO C 7.24).
 */
#ifndef KERNEL_KLIB_H
#define KERNEL_KLIB_H

#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strstr(const char *hay, const char *needle);

#endif
