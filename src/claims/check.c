/*
 * claims/check.c - claims_check: re-derive invariants I1..I6 of claims.c
 * from the trie, the nodes, the queue and the claimants' lists.
 */
#include "claims/claims_internal.h"

struct recount {
	uint64_t nodes, slots, pages[CLAIM_NSTATES], queued;
	const char *why;
};

static bool fail(struct recount *r, const char *why)
{
	r->why = why;
	return false;
}

/* I2 for one node. */
static bool check_slots(struct recount *r, const struct claim_node *n)
{
	unsigned used = 0;
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++) {
		const struct claim_slot *s = &n->slot[i];
		if (s->index != i)
			return fail(r, "claims: a slot's index is not its position");
		if (!s->who)
			continue;
		used++;
		if (s->count == 0)
			return fail(r, "claims: a used slot with count 0");
		for (unsigned j = i + 1; j < CLAIMS_MAX_CLAIMANTS; j++)
			if (n->slot[j].who == s->who)
				return fail(r, "claims: a claimant twice in one node");
	}
	if (used != n->nslots)
		return fail(r, "claims: nslots differs from the used slots");
	if ((n->state == CLAIM_CLAIMED) != (used > 0))
		return fail(r, "claims: a claimed node without claimants, or claimants on an unclaimed node");
	r->slots += used;
	return true;
}

/* I1, I2, I3 along the tiling. */
static bool check_tiling(struct claims *c, struct recount *r)
{
	uint64_t page = 0;
	const struct claim_node *prev = NULL;
	while (page < c->npages) {
		const struct claim_node *n = trie_node_at(c, page);
		if (!n)
			return fail(r, "claims: a gap: no node starts where the previous one ends");
		if (n->npages == 0 || n->npages > c->npages - page)
			return fail(r, "claims: a node empty or past the reservation");
		if (n->state >= CLAIM_NSTATES)
			return fail(r, "claims: a node in no known state");
		if (!check_slots(r, n))
			return false;
		if (prev && node_alike(prev, n))
			return fail(r, "claims: two alike neighbours not merged");
		if (trie_node_containing(c, node_end(n) - 1) != n)
			return fail(r, "claims: the last page of a node is found in another node");
		r->nodes++;
		r->pages[n->state] += n->npages;
		r->queued += n->state == CLAIM_QUEUED;
		page = node_end(n);
		prev = n;
	}
	return true;
}

/* I4: the queue, both directions. */
static bool check_queue(struct claims *c, struct recount *r)
{
	uint64_t k = 0;
	const struct claim_node *prev = NULL;
	for (const struct claim_node *n = c->qhead; n; prev = n, n = n->qnext) {
		if (++k > r->queued)
			return fail(r, "claims: more ranges on the queue than queued nodes");
		if (n->state != CLAIM_QUEUED)
			return fail(r, "claims: a node on the queue is not queued");
		if (n->qprev != prev)
			return fail(r, "claims: queue back link broken");
		if (trie_node_at(c, n->first) != n)
			return fail(r, "claims: a queued node is not in the trie");
	}
	if (prev != c->qtail)
		return fail(r, "claims: queue tail is not its last node");
	if (k != r->queued || k != c->queued_ranges)
		return fail(r, "claims: queue length differs from the queued nodes");
	return true;
}

/* I5: walk the list of every claimant found at the head of its list. */
static bool check_lists(struct claims *c, struct recount *r)
{
	uint64_t listed = 0;
	for (const struct claim_node *n = trie_node_at(c, 0); n; n = node_next(c, n)) {
		for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++) {
			const struct claim_slot *s = &n->slot[i];
			if (!s->who)
				continue;
			if ((s->prev ? s->prev->next : s->who->head) != s)
				return fail(r, "claims: claimant list link does not lead back to its slot");
			if (s->next && s->next->prev != s)
				return fail(r, "claims: claimant list forward link broken");
			if (s->prev)
				continue;
			const struct claimant *cl = s->who;
			uint64_t nodes = 0, pages = 0;
			for (const struct claim_slot *t = cl->head; t; t = t->next) {
				if (t->who != cl)
					return fail(r, "claims: a claimant's list holds another's slot");
				if (++nodes > r->slots)
					return fail(r, "claims: a claimant's list loops");
				pages += slot_node(t)->npages;
			}
			if (cl->mgr != c)
				return fail(r, "claims: a claimant with claims here is bound elsewhere");
			if (nodes != cl->nodes || pages != cl->pages)
				return fail(r, "claims: a claimant's node or page total differs from its list");
			listed += nodes;
		}
	}
	if (listed != r->slots)
		return fail(r, "claims: used slots missing from their claimants' lists");
	return true;
}

int claims_check(struct claims *c, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	hal_spin_lock(&c->lock);
	struct recount r = { 0 };
	uint64_t indexed = 0;
	int rc = trie_check(c, &indexed, why);
	if (!rc && !(check_tiling(c, &r) && check_queue(c, &r) && check_lists(c, &r))) {
		*why = r.why;
		rc = -MMK_EINVAL;
	}
	if (!rc && r.nodes != indexed) {
		*why = "claims: nodes indexed but not on the tiling";
		rc = -MMK_EINVAL;
	}
	for (unsigned s = 0; !rc && s < CLAIM_NSTATES; s++) {
		if (r.pages[s] != c->pages[s]) {
			*why = "claims: pages per state differ from the recount";
			rc = -MMK_EINVAL;
		}
	}
	hal_spin_unlock(&c->lock);
	return rc;
}
