/*
 * kprintf.h - formatted output to the console (hal_console_write).
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, with the length modifiers l, ll,
 * z, a field width and the 0 flag; enough for the kernel's messages and for
 * the cmocka shim's fail_msg.  No floating point (the kernel is built with
 * -mgeneral-regs-only).
 */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Into buf[cap], always NUL-terminated when cap > 0; returns the length
 * written (without the NUL), truncated to cap - 1. */
size_t ksnprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
