/*
 * claims/mop.c - memory ownership principals (seed 000); API and the
 * charging rule in mmk/mop.h.
 *
 * 1. What: a MOP binds a claimant (its claims in the trie) to an account
 *    of its own (its limit), split off a parent's.  The account tree is
 *    the MOP tree; the claims trie knows nothing of accounts.
 * 2. How the charge stays exact: a claim passes an admission to
 *    claims_claim_admit, which the trie calls under its lock once the
 *    claim is valid and reserved, with the pages the MOP does not claim
 *    yet; the admission charges exactly those (acct_charge is lock-free, so
 *    it may run under the claims lock) or refuses with nothing changed.
 *    A release learns from claims_release_counted the pages the MOP
 *    claims no more and uncharges them.
 * 3. Destroy cascades through the account tree: acct_destroy kills the
 *    subtree and calls every holder's release, and a MOP's release drops
 *    all its claims (claims_release_all: ranges left unclaimed are queued
 *    for revocation), uncharges them and detaches.  The MOP is marked
 *    dead before its claims go, so an admission racing the destroy sees
 *    it under the claims lock and refuses (the account is dead by then
 *    too: acct_charge says -MMK_EIDRM).
 * 4. Invariants (mop_check): live: holder attached to acct, acct alive,
 *    account charged == claimant.pages; dead: no account, no claims.
 * 5. Locking: claims.lock and acct_system.lock are taken in turn, never
 *    nested; callers serialise calls on one MOP (mmk/mop.h).
 * 6. Sources: seed 000 (MOPs: hierarchy, donation of limit, destroy of
 *    the children, claims); seed 001 (the split of a guarantee).
 */
#include <mmk/errno.h>
#include <mmk/mop.h>

static struct mop *mop_of_holder(struct acct_holder *h)
{
	return (struct mop *)(void *)((char *)h - offsetof(struct mop, holder));
}

/* The account (or an ancestor's) is being destroyed: let everything go. */
static void mop_released(struct acct_holder *h)
{
	struct mop *m = mop_of_holder(h);
	__atomic_store_n(&m->dead, true, __ATOMIC_RELEASE); /* admissions read it under the claims lock */
	uint64_t pages = claims_release_all(m->mgr, &m->claimant);
	acct_uncharge(h->acct, pages);
	m->acct = NULL;
	acct_holder_detach(h);
}

int mop_create(struct mop *m, struct claims *mgr, struct mmk_account *parent, uint64_t limit_pages, uint32_t id,
	       const char *name)
{
	if (!m || !mgr || !parent || limit_pages == 0)
		return -MMK_EINVAL;
	struct mmk_account *a;
	int rc = acct_split(parent, limit_pages, name, &a);
	if (rc)
		return rc;
	claimant_init(&m->claimant, id);
	m->holder.acct = NULL;
	m->mgr = mgr;
	m->acct = a;
	m->id = id;
	m->dead = false;
	rc = acct_holder_attach(a, &m->holder, mop_released);
	if (rc) {
		/* Only a destroy of parent racing this call gets here (the
		 * caller's to prevent); give the limit back if it is not gone. */
		(void)acct_destroy(a);
		m->acct = NULL;
		m->dead = true;
	}
	return rc;
}

int mop_create_child(struct mop *child, struct mop *parent, uint64_t limit_pages, uint32_t id, const char *name)
{
	if (!child || !parent)
		return -MMK_EINVAL;
	if (parent->dead)
		return -MMK_EIDRM;
	return mop_create(child, parent->mgr, parent->acct, limit_pages, id, name);
}

/* The admission of a claim: charge exactly the pages it adds. */
static int charge_new_pages(void *ctx, uint64_t new_pages)
{
	struct mop *m = ctx;
	if (__atomic_load_n(&m->dead, __ATOMIC_ACQUIRE))
		return -MMK_EIDRM;
	return acct_charge(m->acct, new_pages);
}

int mop_claim(struct mop *m, vaddr_t start, size_t len)
{
	if (!m)
		return -MMK_EINVAL;
	if (m->dead)
		return -MMK_EIDRM;
	return claims_claim_admit(m->mgr, &m->claimant, start, len, charge_new_pages, m);
}

int mop_release(struct mop *m, vaddr_t start, size_t len)
{
	if (!m)
		return -MMK_EINVAL;
	if (m->dead)
		return -MMK_EIDRM;
	uint64_t unclaimed;
	int rc = claims_release_counted(m->mgr, &m->claimant, start, len, &unclaimed);
	if (!rc)
		acct_uncharge(m->acct, unclaimed);
	return rc;
}

int mop_destroy(struct mop *m)
{
	if (!m)
		return -MMK_EINVAL;
	if (m->dead)
		return -MMK_EIDRM;
	return acct_destroy(m->acct); /* releases m (and the MOPs below) through their holders */
}

uint64_t mop_pages(struct mop *m)
{
	if (m->dead)
		return 0;
	hal_spin_lock(&m->mgr->lock);
	uint64_t pages = m->claimant.pages;
	hal_spin_unlock(&m->mgr->lock);
	return pages;
}

static int broken(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -MMK_EINVAL;
}

int mop_check(struct mop *m, const char **why)
{
	hal_spin_lock(&m->mgr->lock);
	struct claimant cl = m->claimant;
	hal_spin_unlock(&m->mgr->lock);
	if (cl.id != m->id)
		return broken(why, "MOP's claimant has another id");
	if (cl.mgr && cl.mgr != m->mgr)
		return broken(why, "MOP's claimant is bound to another manager");
	if (m->dead) {
		if (m->acct || m->holder.acct)
			return broken(why, "dead MOP still has an account");
		if (cl.head || cl.pages || cl.nodes || cl.mgr)
			return broken(why, "dead MOP still claims pages");
		return 0;
	}
	if (!m->acct || m->holder.acct != m->acct || m->holder.release != mop_released)
		return broken(why, "live MOP's holder is not attached to its account");
	struct acct_usage u;
	acct_get_usage(m->acct, &u);
	if (u.dead)
		return broken(why, "live MOP on a dead account");
	if (u.charged != cl.pages)
		return broken(why, "MOP's account charge differs from the pages it claims");
	return 0;
}
