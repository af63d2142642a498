/*
 * claims/batch.c - the revocation queue emptied in batches (seed 000: "when
 * the last MOP relinquishes its last claim for a range, the memory manager
 * will add the range to a queue to be revoked").
 *
 * A range joins the queue when its last claim goes (claims.c); a queued
 * range merges with queued neighbours (I3), so adjacent freed ranges leave
 * as one.  A batch takes ranges from the head, marks them revoking, and,
 * with the claims lock dropped, hands them all to the revoker at once, so
 * the revoker can gather its TLB shootdowns into one per address space per
 * batch (vm_revoke).  Only when the revoker has returned are the ranges
 * made free, so a range is never handed out while a mapping of it may
 * remain: until then a claim of it gets -MMK_EBUSY.  A failed revoker
 * (-MMK_ENOMEM for its bookkeeping) changed nothing; its ranges go back to
 * the head of the queue in their order and the next batch retries them.
 *
 * Revoking nodes are never split or merged (no operation on them is
 * allowed, and nothing is alike to them), so the batch may keep pointers to
 * them while the lock is dropped.  Two revoking nodes are never neighbours:
 * they were distinct queued nodes, which are never neighbours (I3).
 */
#include "claims/claims_internal.h"

int claims_vm_revoker(void *vm_system, const struct vm_range *ranges, size_t n)
{
	return vm_revoke(vm_system, ranges, n, NULL);
}

static void sort_ranges(struct vm_range *r, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct vm_range x = r[i];
		size_t j = i;
		for (; j > 0 && r[j - 1].start > x.start; j--)
			r[j] = r[j - 1];
		r[j] = x;
	}
}

/* Take up to cap ranges from the head of the queue into taken[] (queue
 * order), marking them revoking. */
static size_t take_ranges(struct claims *c, struct claim_node **taken, size_t cap)
{
	size_t k = 0;
	while (k < cap && c->qhead) {
		struct claim_node *n = c->qhead;
		queue_unlink(c, n);
		node_set_state(c, n, CLAIM_REVOKING);
		taken[k++] = n;
	}
	return k;
}

/* The revoker failed: back to the head of the queue, in the old order. */
static void put_back(struct claims *c, struct claim_node **taken, size_t k)
{
	for (size_t i = k; i-- > 0;) {
		node_set_state(c, taken[i], CLAIM_QUEUED);
		queue_push_front(c, taken[i]);
	}
	/* A neighbour released while the batch ran may be queued: merge. */
	for (size_t i = 0; i < k; i++)
		node_merge_around(c, taken[i]);
}

static void make_free(struct claims *c, struct claim_node **taken, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		c->ranges_revoked++;
		c->pages_revoked += taken[i]->npages;
		node_set_state(c, taken[i], CLAIM_FREE);
		node_merge_around(c, taken[i]);
	}
}

int claims_revoke_batch(struct claims *c, size_t max_ranges, struct vm_range *out, size_t *nout)
{
	struct claim_node *taken[CLAIMS_BATCH_MAX];
	struct vm_range r[CLAIMS_BATCH_MAX];
	if (nout)
		*nout = 0;
	size_t cap = max_ranges < CLAIMS_BATCH_MAX ? max_ranges : CLAIMS_BATCH_MAX;
	hal_spin_lock(&c->lock);
	size_t k = take_ranges(c, taken, cap);
	for (size_t i = 0; i < k; i++)
		r[i] = (struct vm_range){ page_va(c, taken[i]->first), page_va(c, node_end(taken[i])) };
	hal_spin_unlock(&c->lock);
	if (k == 0)
		return 0;
	sort_ranges(r, k);
	int rc = c->revoke ? c->revoke(c->revoke_ctx, r, k) : 0;
	hal_spin_lock(&c->lock);
	/* A merge may free a taken node, but only the one being processed
	 * (its neighbours are never taken ones), so each is used before. */
	if (rc) {
		put_back(c, taken, k);
		c->batches_failed++;
	} else {
		make_free(c, taken, k);
		c->batches++;
	}
	hal_spin_unlock(&c->lock);
	if (rc)
		return rc;
	if (out)
		mmk_memcpy(out, r, k * sizeof(r[0]));
	if (nout)
		*nout = k;
	return 0;
}
