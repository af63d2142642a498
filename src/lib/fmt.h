/*
 * lib/fmt.h - a tiny string builder for the core's reports (the core has no
 * libc, so no snprintf): slab reports and slabinfo lines, account trees,
 * the claims trie.
 *
 * Writes at most len - 1 characters and always NUL-terminates when len > 0;
 * pos keeps counting past the end so the caller learns the length needed.
 * No locking: a builder belongs to one caller.
 */
#ifndef MMK_LIB_FMT_H
#define MMK_LIB_FMT_H

#include <mmk/types.h>

struct mmk_fmt {
	char *buf;
	size_t len, pos; /* pos may exceed len: the length needed */
};

void mmk_fmt_str(struct mmk_fmt *f, const char *s);
void mmk_fmt_dec(struct mmk_fmt *f, uint64_t v);
void mmk_fmt_hex(struct mmk_fmt *f, uint64_t v);
/* s left-aligned in width columns (at least one space after). */
void mmk_fmt_col(struct mmk_fmt *f, const char *s, size_t width);
/* v right-aligned in width columns, with a leading space. */
void mmk_fmt_rdec(struct mmk_fmt *f, uint64_t v, size_t width);
/* NUL-terminate; returns pos or -MMK_ENOSPC. */
int mmk_fmt_end(struct mmk_fmt *f);

#endif
