/*
 * own_text.h - the claims trie and the account tree as text, for tests that
 * prove "nothing changed" by comparing snapshots (test_mop, the sys
 * fixture).  Hosted test code.
 */
#ifndef MMK_TESTS_OWN_TEXT_H
#define MMK_TESTS_OWN_TEXT_H

#include <mmk/acct.h>
#include <mmk/claims.h>

/* claims_format into a malloc'd string. */
char *own_claims_text(struct claims *c);

/* acct_format into a malloc'd string, without the " failcnt=N" fields: a
 * charge refused for the limit counts one (a statistic, the only thing a
 * refusal may change). */
char *own_accounts_text(struct acct_system *s);

#endif
