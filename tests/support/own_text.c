/*
 * own_text.c - see own_text.h.  Hosted code: libc and cmocka.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "own_text.h"

char *own_claims_text(struct claims *c)
{
	size_t n = claims_format(c, NULL, 0);
	char *t = malloc(n + 1);
	assert_non_null(t);
	assert_int_equal(claims_format(c, t, n + 1), n);
	return t;
}

char *own_accounts_text(struct acct_system *s)
{
	size_t n = acct_format(s, NULL, 0);
	char *t = malloc(n + 1);
	assert_non_null(t);
	assert_int_equal(acct_format(s, t, n + 1), n);
	/* Cut every " failcnt=<digits>" out in place. */
	char *w = t;
	for (const char *r = t; *r;) {
		if (strncmp(r, " failcnt=", 9) == 0) {
			r += 9;
			while (*r >= '0' && *r <= '9')
				r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return t;
}
