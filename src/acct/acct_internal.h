/*
 * acct/acct_internal.h - what the files of src/acct share.  Theory in
 * account.c.
 *
 *   account.c     the tree: split, destroy, references, holders
 *   charge.c      charges: frames and kernel-object bytes, lock-free
 *   acct_check.c  the checker, usage snapshots and the printed tree
 */
#ifndef MMK_ACCT_INTERNAL_H
#define MMK_ACCT_INTERNAL_H

#include <mmk/acct.h>

/* used += n unless that passes the limit: 0 or -MMK_ENOMEM (one CAS loop). */
int acct_used_add(struct mmk_account *a, uint64_t n);
/* used -= n, stopping at 0. */
void acct_used_sub(struct mmk_account *a, uint64_t n);

/* The account after a in a pre-order walk of the subtree under top, or NULL. */
struct mmk_account *acct_next_preorder(struct mmk_account *top, struct mmk_account *a);

#endif
