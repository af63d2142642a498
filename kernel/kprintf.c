/*
 * kprintf.c - a small printf for the kernel (see kprintf.h).  Output is
 * collected in a line buffer and written to the console per line or when
 * full, so a message reaches the serial port in one piece.
 */
#include "kprintf.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

struct sink {
	char *buf;
	size_t cap, len; /* len may exceed cap: counts what did not fit */
	bool console;    /* flush buf to the console when full or at '\n' */
};

static void sink_flush(struct sink *s)
{
	if (s->console && s->len) {
		hal_console_write(kernel.machine, s->buf, s->len);
		s->len = 0;
	}
}

static void sink_put(struct sink *s, char c)
{
	if (s->len < s->cap)
		s->buf[s->len] = c;
	s->len++;
	if (s->console && (c == '\n' || s->len == s->cap))
		sink_flush(s);
}

static void put_str(struct sink *s, const char *str, unsigned width)
{
	size_t n = 0;
	while (str[n])
		n++;
	for (size_t i = n; i < width; i++)
		sink_put(s, ' ');
	for (size_t i = 0; i < n; i++)
		sink_put(s, str[i]);
}

static void put_uint(struct sink *s, uint64_t v, unsigned base, bool upper, unsigned width, char pad, bool neg)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	unsigned len = n + (neg ? 1u : 0u);
	if (neg && pad == '0')
		sink_put(s, '-');
	for (unsigned i = len; i < width; i++)
		sink_put(s, pad);
	if (neg && pad != '0')
		sink_put(s, '-');
	while (n)
		sink_put(s, tmp[--n]);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		unsigned width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		unsigned lng = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_uint(s, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, false, width, pad, v < 0);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_uint(s, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, pad, false);
			break;
		}
		case 'p':
			sink_put(s, '0');
			sink_put(s, 'x');
			put_uint(s, (uintptr_t)va_arg(ap, void *), 16, false, width, pad, false);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			put_str(s, str ? str : "(null)", width);
			break;
		}
		case 'c':
			sink_put(s, (char)va_arg(ap, int));
			break;
		case '%':
			sink_put(s, '%');
			break;
		default:
			sink_put(s, '?');
			if (!*fmt)
				return;
		}
	}
}

void kvprintf(const char *fmt, va_list ap)
{
	char line[160];
	struct sink s = { line, sizeof(line), 0, true };
	format(&s, fmt, ap);
	sink_flush(&s);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

size_t ksnprintf(char *buf, size_t cap, const char *fmt, ...)
{
	struct sink s = { buf, cap ? cap - 1 : 0, 0, false };
	va_list ap;
	va_start(ap, fmt);
	format(&s, fmt, ap);
	va_end(ap);
	size_t n = s.len < s.cap ? s.len : s.cap;
	if (cap)
		buf[n] = 0;
	return n;
}
