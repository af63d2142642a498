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

/*
 * A destroyed account whose frames are still charged (a page it paid for
 * lives on in another account's task, shared copy-on-write or through an
 * object) keeps its struct: the tree's reference becomes a pin, marked by
 * this bit of `used`, and the uncharge that brings the count to 0 clears
 * the bit in the same CAS and drops the reference (charge.c).  Only a dead
 * account out of the tree carries it.
 */
#define ACCT_USED_PINNED ((uint64_t)1 << 63)

/* used without the pin bit. */
static inline uint64_t acct_used_count(const struct mmk_account *a)
{
	return __atomic_load_n(&a->used, __ATOMIC_ACQUIRE) & ~ACCT_USED_PINNED;
}

/* Drop the tree's reference of a (dead, children gone) with s->lock held:
 * a pin instead while frames are still charged to it. */
void acct_drop_tree_ref_locked(struct acct_system *s, struct mmk_account *a);

/* Drop one reference with s->lock held; frees the struct with the last. */
void acct_put_locked(struct acct_system *s, struct mmk_account *a);

/* used += n unless that passes the limit: 0 or -MMK_ENOMEM (one CAS loop). */
int acct_used_add(struct mmk_account *a, uint64_t n);
/* used -= n, stopping at 0. */
void acct_used_sub(struct mmk_account *a, uint64_t n);

/* The account after a in a pre-order walk of the subtree under top, or NULL. */
struct mmk_account *acct_next_preorder(struct mmk_account *top, struct mmk_account *a);

#endif
