/*
 * claims/node.c - claim nodes: their claimant slots and lists, their
 * neighbours, split and merge, and the revocation queue's links (theory:
 * claims.c, sections 2 and 3).
 */
#include "claims/claims_internal.h"

/* ---- neighbours ---- */

struct claim_node *node_next(const struct claims *c, const struct claim_node *n)
{
	return trie_node_at(c, node_end(n));
}

struct claim_node *node_prev(const struct claims *c, const struct claim_node *n)
{
	return n->first ? trie_node_containing(c, n->first - 1) : NULL;
}

void node_set_state(struct claims *c, struct claim_node *n, enum claim_state s)
{
	c->pages[n->state] -= n->npages;
	n->state = (uint8_t)s;
	c->pages[s] += n->npages;
}

/* ---- slots and the claimants' lists ---- */

struct claim_slot *slot_find(struct claim_node *n, const struct claimant *cl)
{
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++)
		if (n->slot[i].who == cl)
			return &n->slot[i];
	return NULL;
}

/* Put s (unused) on cl's list with count. */
static void slot_link(struct claim_slot *s, struct claimant *cl, uint32_t count)
{
	s->who = cl;
	s->count = count;
	s->prev = NULL;
	s->next = cl->head;
	if (cl->head)
		cl->head->prev = s;
	cl->head = s;
	cl->nodes++;
}

static void slot_unlink(struct claim_slot *s)
{
	struct claimant *cl = s->who;
	if (s->prev)
		s->prev->next = s->next;
	else
		cl->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	cl->nodes--;
	s->who = NULL;
	s->count = 0;
	s->prev = s->next = NULL;
}

void slot_add(struct claim_node *n, struct claimant *cl, uint32_t count)
{
	struct claim_slot *s = slot_find(n, NULL);
	slot_link(s, cl, count);
	cl->pages += n->npages;
	n->nslots++;
}

void slot_drop(struct claim_slot *s)
{
	struct claim_node *n = slot_node(s);
	struct claimant *cl = s->who;
	cl->pages -= n->npages;
	slot_unlink(s);
	n->nslots--;
	if (cl->nodes == 0)
		cl->mgr = NULL; /* holds nothing: free to claim from another manager */
}

bool node_alike(const struct claim_node *a, const struct claim_node *b)
{
	if (a->state != b->state || a->nslots != b->nslots)
		return false;
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++) {
		const struct claim_slot *s = &a->slot[i];
		if (!s->who)
			continue;
		const struct claim_slot *t = slot_find((struct claim_node *)b, s->who);
		if (!t || t->count != s->count)
			return false;
	}
	return true;
}

/* ---- the revocation queue ---- */

void queue_append(struct claims *c, struct claim_node *n)
{
	n->qnext = NULL;
	n->qprev = c->qtail;
	if (c->qtail)
		c->qtail->qnext = n;
	else
		c->qhead = n;
	c->qtail = n;
	c->queued_ranges++;
}

void queue_push_front(struct claims *c, struct claim_node *n)
{
	n->qprev = NULL;
	n->qnext = c->qhead;
	if (c->qhead)
		c->qhead->qprev = n;
	else
		c->qtail = n;
	c->qhead = n;
	c->queued_ranges++;
}

void queue_unlink(struct claims *c, struct claim_node *n)
{
	if (n->qprev)
		n->qprev->qnext = n->qnext;
	else
		c->qhead = n->qnext;
	if (n->qnext)
		n->qnext->qprev = n->qprev;
	else
		c->qtail = n->qprev;
	n->qprev = n->qnext = NULL;
	c->queued_ranges--;
}

/* ---- split ---- */

void node_split_needs(const struct claims *c, uint64_t page, unsigned *nnodes, unsigned *ntables)
{
	if (page == 0 || page >= c->npages || trie_node_at(c, page)) {
		*nnodes = *ntables = 0;
		return;
	}
	*nnodes = 1;
	*ntables = trie_tables_missing(c, page);
}

/*
 * The upper part [page, end) becomes a new node with the same state and
 * claims; each claimant's list gains a link for it.  Only free and claimed
 * nodes are ever split (queued and revoking ones are refused before any
 * split), so the queue needs no change.
 */
void node_split_at(struct claims *c, uint64_t page, struct claims_spares *sp)
{
	if (page == 0 || page >= c->npages || trie_node_at(c, page))
		return;
	struct claim_node *n = trie_node_containing(c, page);
	struct claim_node *m = spares_take_node(sp);
	mmk_memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++)
		m->slot[i].index = i;
	m->first = page;
	m->npages = node_end(n) - page;
	m->state = n->state;
	n->npages = page - n->first;
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++)
		if (n->slot[i].who)
			slot_link(&m->slot[i], n->slot[i].who, n->slot[i].count);
	m->nslots = n->nslots;
	trie_insert(c, m, sp);
}

/* ---- merge ---- */

/* n absorbs its upper neighbour m (alike). */
static void absorb(struct claims *c, struct claim_node *n, struct claim_node *m)
{
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++)
		if (m->slot[i].who)
			slot_unlink(&m->slot[i]);
	if (m->state == CLAIM_QUEUED)
		queue_unlink(c, m); /* the merged range keeps n's place in the queue */
	trie_remove(c, m);
	n->npages += m->npages;
	(void)kmem_cache_free(&c->node_cache, m);
}

struct claim_node *node_merge_around(struct claims *c, struct claim_node *n)
{
	struct claim_node *next = node_next(c, n);
	if (next && node_alike(n, next))
		absorb(c, n, next);
	struct claim_node *prev = node_prev(c, n);
	if (prev && node_alike(prev, n)) {
		absorb(c, prev, n);
		n = prev;
	}
	return n;
}

void node_merge_span(struct claims *c, uint64_t from, uint64_t to)
{
	struct claim_node *n = trie_node_containing(c, from);
	while (n && n->first < to) {
		struct claim_node *next = node_next(c, n);
		if (next && node_alike(n, next))
			absorb(c, n, next); /* n grew: look at its new neighbour */
		else
			n = next;
	}
}
