/*
 * mmk/mop.h - memory ownership principals (seed 000: the CheriOS memory
 * manager's MOPs).
 *
 * A MOP is who holds claims on virtual ranges.  It is three things bound
 * together: its own account (mmk/acct.h), split off a parent account that
 * "temporarily donates some of its resource limit"; a claimant in one
 * claims manager (mmk/claims.h); and a holder on its account, so that
 * destroying the account, or any ancestor of it ("if a parent is
 * destroyed, all children are also destroyed"), releases every claim of the
 * MOP and marks it dead.  A MOP need not be a process (seed 000: a cache
 * may outlive every process); a process manager makes one per process and
 * keeps the authority to destroy it.  A MOP is the authority to insist
 * that ranges stay mapped, never access to memory: nothing here maps.
 *
 * Hierarchy.  mop_create_child splits the child's account off the
 * parent's, so the tree of MOPs is a subtree of the account tree: the
 * parent's available limit drops by the child's limit while the child
 * lives, and destroying a MOP destroys its descendants (through
 * acct_destroy) and gives its limit back to its parent.
 *
 * The charging rule.  The memory manager "does not have access to the
 * memory it tracks" (seed 000), so what a MOP's account limits is what it
 * claims: the distinct pages it holds a claim on.  Seed 000 counted such
 * limits and never enforced them; here they are enforced:
 *   - a claim charges the pages of the range the MOP did not claim before
 *     (claimant.pages rises by exactly that; claiming again what it
 *     already claims raises a count, not the charge);
 *   - a release uncharges the pages the MOP claims no more (their count
 *     went to 0); pages another MOP still claims are not this MOP's charge;
 *   - destroying a MOP uncharges everything it claimed.
 * So charged frames of the MOP's account == claimant.pages, always
 * (mop_check tests it); nothing else may charge a MOP's account.  The
 * charge is exact, computed under the claims lock after every other check
 * (claims_claim_admit): a claim fails with -MMK_ENOMEM only when the pages
 * it adds do not fit, and then nothing changed.
 *
 * Units: limits and charges in pages (frames: 4 KiB); addresses vaddr_t
 * bytes and lengths size_t bytes, page-aligned; ranges [start, start+len).
 *
 * Ownership and lifetime: the caller owns struct mop's memory.  It is
 * valid from a successful mop_create until the caller frees it, which it
 * may do once the MOP is dead (mop_destroy, or an ancestor account's
 * destroy, released it); a live MOP must be destroyed first.  A dead MOP
 * answers every call with -MMK_EIDRM and holds nothing.
 *
 * Locking: the claims manager's lock guards the claimant; the account
 * system's lock the account and holder; the charge is lock-free and taken
 * under the claims lock.  The two locks are never held together, and
 * every call here takes them in turn.  Calls on one MOP, and destroys of
 * its ancestors' accounts, are serialised by the caller (src/sys does so
 * under cap_system.lock), as acct_destroy requires of holders.
 *
 * Errors: 0 or a negative MMK_E* code; on error nothing changed.
 */
#ifndef MMK_MOP_H
#define MMK_MOP_H

#include <mmk/acct.h>
#include <mmk/claims.h>

struct mop {
	struct claimant claimant;  /* its claims; claimant.id == id */
	struct acct_holder holder; /* on acct: acct_destroy releases the MOP */
	struct claims *mgr;        /* the manager it claims from */
	struct mmk_account *acct;  /* its own account (the holder's reference); NULL once dead */
	uint32_t id;               /* for printing: "#id" in claims_format */
	bool dead;                 /* released: every call is -MMK_EIDRM */
};

/*
 * Make a MOP in m claiming from mgr, with an account of limit_pages split
 * off parent (seed 000: a parent "temporarily donates some of its resource
 * limit"; seed 001's split).  name names the account (may be NULL,
 * truncated to ACCT_NAME_LEN - 1 bytes); id is printed with its claims.
 * 0; -MMK_EINVAL (NULL m, mgr or parent, limit_pages 0); -MMK_EIDRM
 * (parent destroyed); -MMK_ENOMEM (parent has less than limit_pages
 * available, or no account struct).  On error m is not a MOP.
 */
int mop_create(struct mop *m, struct claims *mgr, struct mmk_account *parent, uint64_t limit_pages, uint32_t id,
	       const char *name);

/*
 * Make child a MOP whose account is split off parent's (limit_pages of the
 * parent's available limit), claiming from the parent's manager.  Errors
 * as mop_create; -MMK_EIDRM also for a dead parent MOP.
 */
int mop_create_child(struct mop *child, struct mop *parent, uint64_t limit_pages, uint32_t id, const char *name);

/*
 * Claim [start, start + len) for m (seed 000: the first MOP to claim a
 * range gets it; others may claim it too, at most 4 per page).  Charges
 * m's account the pages m did not claim before (the charging rule above).
 * claims_claim's errors (-MMK_EINVAL, -MMK_EBUSY, -MMK_EUSERS,
 * -MMK_EOVERFLOW, -MMK_ENOMEM for a trie node), then -MMK_ENOMEM when the
 * new pages pass m's limit (counted in the account's failcnt); -MMK_EIDRM
 * for a dead m.  All or nothing.
 */
int mop_claim(struct mop *m, vaddr_t start, size_t len);

/*
 * Release one claim of m on every page of [start, start + len) and
 * uncharge the pages m claims no more; pages nobody claims any more join
 * the revocation queue (mmk/claims.h).  claims_release's errors
 * (-MMK_EINVAL, -MMK_ENOENT when m does not claim some page of it,
 * -MMK_ENOMEM for a trie node); -MMK_EIDRM for a dead m.  All or nothing.
 */
int mop_release(struct mop *m, vaddr_t start, size_t len);

/*
 * Destroy m and every MOP (and account) below it: each releases all its
 * claims (claims_release_all: ranges nobody else claims are queued for
 * revocation), uncharges, and is marked dead; m's limit returns to its
 * parent account.  Allocates nothing.  0; -MMK_EINVAL (NULL); -MMK_EIDRM
 * (already dead).
 */
int mop_destroy(struct mop *m);

/* Pages m claims (each once, whatever its count); 0 when dead. */
uint64_t mop_pages(struct mop *m);

/*
 * Re-derive m's invariants: a live MOP's holder is attached to its live
 * account, its claimant is bound to its manager or to none, with its id,
 * and the account's charged frames equal the claimant's pages; a dead
 * MOP has no account, a detached holder and no claims.  0, or -MMK_EINVAL
 * with *why (why may be NULL).  Takes the claims and account locks in
 * turn.
 */
int mop_check(struct mop *m, const char **why);

#endif
