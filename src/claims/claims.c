/*
 * claims/claims.c - claims on virtual ranges (seed 000, the CheriOS memory
 * manager); API in mmk/claims.h.
 *
 * 1. Vocabulary.  The manager holds a reservation of npages pages from
 *    base.  A claimant (a MOP's side of it) claims ranges: "the authority to
 *    insist that parts of the virtual address space stay mapped" (seed 000),
 *    never access.  Each page has a state (free, claimed, queued, revoking)
 *    and, when claimed, 1..4 claimants each with a count of its claims.
 *    Releasing the last claim queues the page for revocation; a revocation
 *    batch (batch.c) unmaps it everywhere and makes it free again.
 *
 * 2. Structures.  A node is a run of pages [first, first + npages) with
 *    one state and one set of (claimant, count) slots.  Nodes are indexed
 *    by their first page in a three-level trie (trie.c) shaped like a page
 *    table over the reservation (9 bits a level: 2^27 pages), so the node
 *    starting at a page is three loads away, and the node holding any page
 *    is found through the tables' occupancy bitmaps; a node's next
 *    neighbour is the node starting at its end.  Why three levels and not
 *    a balanced tree: lookups by start are O(1) with no comparisons, the
 *    shape and the memory follow the page tables the ranges end up in
 *    (seed 000: "basically the same structure as a three-level page table,
 *    but each node also has a length"), and a long run costs one node, not
 *    one entry per page.  Each claimant threads its slots (one per node it
 *    claims) in an intrusive doubly linked list, so a MOP's destruction
 *    finds its claims without a search.  Queued nodes are also on the
 *    revocation queue, oldest first.
 *
 * 3. Invariants (claims_check re-derives each).
 *    I1 nodes tile the reservation: starting at page 0, each node's end is
 *       the next node's first, and the last ends at npages.
 *    I2 a claimed node has 1..4 slots in use, distinct claimants, counts
 *       >= 1; free, queued and revoking nodes have none.
 *    I3 merged: no two neighbouring nodes are alike (same state, same
 *       claimants with the same counts).  With I1 this makes the tiling a
 *       function of the per-page state alone: the maximal runs of equal
 *       pages, which is what the model test compares.
 *    I4 the queue holds exactly the queued nodes; pages[] sums each state.
 *    I5 a claimant's list holds exactly its slots; nodes and pages are its
 *       length and the pages of its nodes; mgr is NULL iff the list is empty.
 *    I6 the trie's bitmaps and counts match its entries; only the root may
 *       be an empty table.
 *
 * 4. Operations stay exact by splitting and merging.  A claim or release of
 *    [s, e) first splits the nodes holding s and e so that nodes tile the
 *    range exactly, changes each node inside, then merges alike neighbours
 *    from s - 1 to e.  Inside the range one operation adds (or removes) the
 *    same claim to every node, which keeps different nodes different, so
 *    only the two ends can merge; the walk is over the range anyway.
 *    Costs: O(nodes in the range) plus O(1) for each split and merge.
 *
 * 5. Failure policy: validate, reserve, commit.  Every call first walks the
 *    range and refuses (busy, too many claimants, not claimed, overflow)
 *    before touching anything; then it takes the nodes and tables its two
 *    splits may need (at most 2 nodes, 4 tables); then a claim's admission
 *    (claims_claim_admit: a MOP charging its account for the pages the
 *    claim adds) may still refuse; the commit cannot fail.  Merges and
 *    claims_release_all only free.  So an error changes nothing.
 *
 * 6. Locking: claims.lock, taken by every public call; kmem cache locks
 *    and phys.lock nest inside it.  It is dropped while a batch's revoker
 *    runs (which takes vm_space locks), so it never nests with those.
 *
 * 7. Sources: seed 000 (CheriOS memmgt: MOPs, claims, the three-tier trie
 *    with lengths, 4 claimants per range, intrusive per-MOP lists, the
 *    revocation queue); x86-64 four-level paging for the trie's shape.
 *    Written from the seed's description; no code taken.
 */
#include "claims/claims_internal.h"

/* ---- arguments ---- */

/* Pages [*first, *end) of [start, start + len), or false when the range is
 * empty, unaligned, wraps or leaves the reservation. */
static bool range_pages(const struct claims *c, vaddr_t start, size_t len, uint64_t *first, uint64_t *end)
{
	if (len == 0 || !mmk_page_aligned(start) || !mmk_page_aligned(len) || start < c->base)
		return false;
	uint64_t f = (start - c->base) >> MMK_PAGE_SHIFT, n = len >> MMK_PAGE_SHIFT;
	if (f >= c->npages || n > c->npages - f)
		return false;
	*first = f;
	*end = f + n;
	return true;
}

/* ---- init and fini ---- */

int claims_init(struct claims *c, struct phys *ph, vaddr_t base, uint64_t size, claims_revoke_fn revoke,
		void *revoke_ctx)
{
	if (!mmk_page_aligned(base) || !mmk_page_aligned(size) || size == 0 ||
	    (size >> MMK_PAGE_SHIFT) > CLAIMS_MAX_PAGES || base + size < base)
		return -MMK_EINVAL;
	mmk_memset(c, 0, sizeof(*c));
	hal_spin_init(&c->lock);
	c->base = base;
	c->npages = size >> MMK_PAGE_SHIFT;
	c->revoke = revoke;
	c->revoke_ctx = revoke_ctx;
	int rc = kmem_cache_init(&c->node_cache, ph, "claim_node", sizeof(struct claim_node), 8);
	if (!rc)
		rc = kmem_cache_init(&c->table_cache, ph, "claims_table", sizeof(struct claims_table), 64);
	if (rc)
		return rc;
	/* The root, then one free node over everything (its path: 2 tables). */
	struct claims_spares sp;
	c->root = table_alloc(c);
	if (!c->root || spares_reserve(c, &sp, 1, CLAIMS_LEVELS - 1)) {
		if (c->root)
			table_free(c, c->root);
		kmem_cache_destroy(&c->node_cache);
		kmem_cache_destroy(&c->table_cache);
		return -MMK_ENOMEM;
	}
	struct claim_node *n = spares_take_node(&sp);
	mmk_memset(n, 0, sizeof(*n));
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++)
		n->slot[i].index = i;
	n->npages = c->npages;
	n->state = CLAIM_FREE;
	c->pages[CLAIM_FREE] = c->npages;
	trie_insert(c, n, &sp);
	return 0;
}

int claims_fini(struct claims *c)
{
	hal_spin_lock(&c->lock);
	if (c->pages[CLAIM_FREE] != c->npages) {
		hal_spin_unlock(&c->lock);
		return -MMK_EBUSY;
	}
	/* All free, hence merged into one node (I3). */
	struct claim_node *n = trie_node_at(c, 0);
	trie_remove(c, n);
	(void)kmem_cache_free(&c->node_cache, n);
	trie_free_tables(c);
	table_free(c, c->root);
	c->root = NULL;
	hal_spin_unlock(&c->lock);
	kmem_cache_destroy(&c->node_cache);
	kmem_cache_destroy(&c->table_cache);
	return 0;
}

void claimant_init(struct claimant *cl, uint32_t id)
{
	mmk_memset(cl, 0, sizeof(*cl));
	cl->id = id;
}

int claimant_fini(struct claimant *cl)
{
	/* Reading head without the manager's lock: the owner is finishing cl,
	 * so no call on cl may run concurrently. */
	return cl->head ? -MMK_EBUSY : 0;
}

/* ---- claim and release ---- */

/* Reserve the nodes and tables the splits at first and end need: 0 or
 * -MMK_ENOMEM with nothing held. */
static int reserve_splits(struct claims *c, uint64_t first, uint64_t end, struct claims_spares *sp)
{
	unsigned n1, t1, n2, t2;
	node_split_needs(c, first, &n1, &t1);
	node_split_needs(c, end, &n2, &t2);
	return spares_reserve(c, sp, n1 + n2, t1 + t2);
}

/*
 * Claim and release share one shape: validate the range, find a refusal
 * under the lock before anything changes, reserve what the splits need,
 * ask the caller's admission (a claim's charge, mmk/mop.h) with the pages
 * the claim would add, then split so that nodes tile the range exactly,
 * apply the change to every node of the range, and merge alike neighbours
 * from first - 1 to end.  *delta (when not NULL) = how far cl->pages moved.
 */
struct range_op {
	int (*refusal)(struct claims *c, struct claimant *cl, uint64_t first, uint64_t end);
	void (*apply)(struct claims *c, struct claimant *cl, struct claim_node *n);
};

struct admission {
	claims_admit_fn fn; /* NULL: admit everything */
	void *ctx;
};

/* Pages of [first, end) that cl does not claim yet: what a claim adds to
 * cl->pages.  O(nodes in the range). */
static uint64_t pages_new_to(struct claims *c, const struct claimant *cl, uint64_t first, uint64_t end)
{
	uint64_t pages = 0;
	for (struct claim_node *n = trie_node_containing(c, first); n && n->first < end; n = node_next(c, n)) {
		if (slot_find(n, cl))
			continue;
		uint64_t a = n->first > first ? n->first : first, b = node_end(n) < end ? node_end(n) : end;
		pages += b - a;
	}
	return pages;
}

static int range_op(struct claims *c, struct claimant *cl, vaddr_t start, size_t len, const struct range_op *op,
		    const struct admission *adm, uint64_t *delta)
{
	uint64_t first, end;
	if (!range_pages(c, start, len, &first, &end))
		return -MMK_EINVAL;
	hal_spin_lock(&c->lock);
	int rc = op->refusal(c, cl, first, end);
	struct claims_spares sp;
	if (!rc)
		rc = reserve_splits(c, first, end, &sp);
	if (!rc && adm && adm->fn && (rc = adm->fn(adm->ctx, pages_new_to(c, cl, first, end))) != 0)
		spares_release(c, &sp);
	if (rc) {
		hal_spin_unlock(&c->lock);
		return rc;
	}
	uint64_t before = cl->pages;
	node_split_at(c, first, &sp);
	node_split_at(c, end, &sp);
	for (struct claim_node *n = trie_node_at(c, first); n && n->first < end; n = node_next(c, n))
		op->apply(c, cl, n);
	node_merge_span(c, first ? first - 1 : 0, end);
	spares_release(c, &sp);
	if (delta)
		*delta = cl->pages > before ? cl->pages - before : before - cl->pages;
	hal_spin_unlock(&c->lock);
	return 0;
}

/* Refusals of a claim of [first, end) by cl, the first in address order. */
static int claim_refusal(struct claims *c, struct claimant *cl, uint64_t first, uint64_t end)
{
	if (cl->mgr && cl->mgr != c)
		return -MMK_EINVAL;
	for (struct claim_node *n = trie_node_containing(c, first); n && n->first < end; n = node_next(c, n)) {
		if (n->state == CLAIM_QUEUED || n->state == CLAIM_REVOKING)
			return -MMK_EBUSY;
		struct claim_slot *s = slot_find(n, cl);
		if (s ? s->count == UINT32_MAX : n->nslots == CLAIMS_MAX_CLAIMANTS)
			return s ? -MMK_EOVERFLOW : -MMK_EUSERS;
	}
	return 0;
}

static void claim_apply(struct claims *c, struct claimant *cl, struct claim_node *n)
{
	struct claim_slot *s = slot_find(n, cl);
	if (s) {
		s->count++;
		return;
	}
	if (n->state == CLAIM_FREE)
		node_set_state(c, n, CLAIM_CLAIMED); /* the first claimant gets it */
	slot_add(n, cl, 1);
	cl->mgr = c;
}

static const struct range_op claim_op = { claim_refusal, claim_apply };

int claims_claim(struct claims *c, struct claimant *cl, vaddr_t start, size_t len)
{
	return range_op(c, cl, start, len, &claim_op, NULL, NULL);
}

int claims_claim_admit(struct claims *c, struct claimant *cl, vaddr_t start, size_t len, claims_admit_fn admit,
		       void *ctx)
{
	const struct admission adm = { admit, ctx };
	return range_op(c, cl, start, len, &claim_op, &adm, NULL);
}

/* Refusal of a release: cl must claim every page of [first, end). */
static int release_refusal(struct claims *c, struct claimant *cl, uint64_t first, uint64_t end)
{
	if (cl->mgr != c)
		return -MMK_ENOENT;
	for (struct claim_node *n = trie_node_containing(c, first); n && n->first < end; n = node_next(c, n))
		if (!slot_find(n, cl))
			return -MMK_ENOENT;
	return 0;
}

/* n lost its last claim: it waits for revocation. */
static void queue_for_revocation(struct claims *c, struct claim_node *n)
{
	node_set_state(c, n, CLAIM_QUEUED);
	queue_append(c, n);
}

static void release_apply(struct claims *c, struct claimant *cl, struct claim_node *n)
{
	struct claim_slot *s = slot_find(n, cl);
	if (--s->count > 0)
		return;
	slot_drop(s);
	if (n->nslots == 0)
		queue_for_revocation(c, n);
}

static const struct range_op release_op = { release_refusal, release_apply };

int claims_release(struct claims *c, struct claimant *cl, vaddr_t start, size_t len)
{
	return range_op(c, cl, start, len, &release_op, NULL, NULL);
}

int claims_release_counted(struct claims *c, struct claimant *cl, vaddr_t start, size_t len, uint64_t *unclaimed)
{
	uint64_t n = 0;
	int rc = range_op(c, cl, start, len, &release_op, NULL, &n);
	if (unclaimed)
		*unclaimed = rc ? 0 : n;
	return rc;
}

uint64_t claims_release_all(struct claims *c, struct claimant *cl)
{
	hal_spin_lock(&c->lock);
	uint64_t pages = cl->mgr == c ? cl->pages : 0;
	/* Take the head each time: a node merges only with neighbours that no
	 * longer hold cl, so no node still on cl's list is ever freed here. */
	while (cl->mgr == c && cl->head) {
		struct claim_slot *s = cl->head;
		struct claim_node *n = slot_node(s);
		slot_drop(s);
		if (n->nslots == 0)
			queue_for_revocation(c, n);
		node_merge_around(c, n);
	}
	hal_spin_unlock(&c->lock);
	return pages;
}

/* ---- queries ---- */

uint32_t claims_count(struct claims *c, const struct claimant *cl, vaddr_t va)
{
	uint64_t page, end;
	if (!range_pages(c, mmk_page_round_down(va), MMK_PAGE_SIZE, &page, &end))
		return 0;
	hal_spin_lock(&c->lock);
	struct claim_slot *s = slot_find(trie_node_containing(c, page), cl);
	uint32_t n = s ? s->count : 0;
	hal_spin_unlock(&c->lock);
	return n;
}

enum claim_state claims_state(struct claims *c, vaddr_t va)
{
	uint64_t page, end;
	if (!range_pages(c, mmk_page_round_down(va), MMK_PAGE_SIZE, &page, &end))
		return CLAIM_NSTATES;
	hal_spin_lock(&c->lock);
	enum claim_state s = trie_node_containing(c, page)->state;
	hal_spin_unlock(&c->lock);
	return s;
}

uint64_t claims_queued_ranges(struct claims *c)
{
	hal_spin_lock(&c->lock);
	uint64_t n = c->queued_ranges;
	hal_spin_unlock(&c->lock);
	return n;
}

uint64_t claims_queued_pages(struct claims *c)
{
	hal_spin_lock(&c->lock);
	uint64_t n = c->pages[CLAIM_QUEUED];
	hal_spin_unlock(&c->lock);
	return n;
}

uint64_t claims_walk(struct claims *c, void (*fn)(void *ctx, const struct claims_range_info *r), void *ctx)
{
	uint64_t count = 0;
	hal_spin_lock(&c->lock);
	for (struct claim_node *n = trie_node_at(c, 0); n; n = node_next(c, n)) {
		struct claims_range_info r;
		mmk_memset(&r, 0, sizeof(r));
		r.start = page_va(c, n->first);
		r.len = n->npages << MMK_PAGE_SHIFT;
		r.state = (enum claim_state)n->state;
		for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++) {
			if (!n->slot[i].who)
				continue;
			r.who[r.nclaimants] = n->slot[i].who;
			r.count[r.nclaimants++] = n->slot[i].count;
		}
		fn(ctx, &r);
		count++;
	}
	hal_spin_unlock(&c->lock);
	return count;
}
