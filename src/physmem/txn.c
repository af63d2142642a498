/*
 * physmem/txn.c - validate, reserve, commit (DESIGN.md, after seL4).
 *
 * Every physmem call that changes a container first takes everything it
 * may need into a struct pm_txn: spare entry structs for the entries a cut
 * splits, new frames (already charged and zeroed) for the pages it
 * allocates, and B-tree nodes for the inserts (btree_preload).  Only then
 * does it remove translations (which may fail with -MMK_EAGAIN but changes
 * nothing a client can tell: a removed translation re-faults) and commit:
 * txn_cut detaches the old entries of a range, txn_plant inserts the new
 * ones.  Neither can fail.  txn_abort gives back whatever was reserved.
 */
#include "physmem_internal.h"

void txn_init(struct pm_txn *t, struct container *c)
{
	mmk_memset(t, 0, sizeof(*t));
	t->pm = c->pm;
	t->c = c;
	mmk_list_init(&t->spare);
	mmk_list_init(&t->fresh);
	mmk_list_init(&t->cut);
}

static struct pm_entry *entry_new(struct physmem *pm)
{
	struct pm_entry *e = kmem_cache_alloc(&pm->entry_cache);
	if (!e)
		return NULL;
	mmk_memset(e, 0, sizeof(*e));
	mmk_list_init(&e->frame_link);
	mmk_list_init(&e->link);
	return e;
}

void entry_free(struct physmem *pm, struct pm_entry *e) { kmem_cache_free(&pm->entry_cache, e); }

void entry_drop(struct physmem *pm, struct pm_entry *e)
{
	frame_detach(pm, e);
	entry_free(pm, e);
}

int txn_reserve_entries(struct pm_txn *t, unsigned n)
{
	while (t->nspare < n) {
		struct pm_entry *e = entry_new(t->pm);
		if (!e)
			return -MMK_ENOMEM;
		mmk_list_push_back(&t->spare, &e->link);
		t->nspare++;
	}
	return 0;
}

struct pm_entry *txn_take_entry(struct pm_txn *t)
{
	struct mmk_list *l = t->spare.next; /* reserved: never empty here */
	mmk_list_remove(l);
	t->nspare--;
	struct pm_entry *e = mmk_list_entry(l, struct pm_entry, link);
	mmk_memset(e, 0, sizeof(*e));
	mmk_list_init(&e->frame_link);
	mmk_list_init(&e->link);
	e->c = t->c;
	return e;
}

int txn_charge(struct pm_txn *t, uint64_t n)
{
	if (t->no_charge)
		return 0;
	int rc = acct_charge(t->c->holder.acct, n);
	if (!rc)
		t->charged += n;
	return rc;
}

struct gather {
	struct pm_txn *t;
	unsigned zone_flags;
	bool zero, charge_each, stop;
};

/* One aligned piece of 2^order pages at container page pos; on a shortage
 * it flushes parked pages, empties the DMA zone for a DMA request, and
 * finally falls back to the two halves. */
static int gather_piece(struct gather *g, uint64_t pos, unsigned order)
{
	struct pm_txn *t = g->t;
	struct physmem *pm = t->pm;
	if (g->stop)
		return -MMK_ENOMEM;
	if (g->charge_each && txn_charge(t, pm_order_pages(order))) {
		if (order == 0) { /* the guarantee is used up to the last page */
			g->stop = true;
			return -MMK_ENOMEM;
		}
		int rc = gather_piece(g, pos, order - 1);
		return rc ? rc : gather_piece(g, pos + pm_order_pages(order - 1), order - 1);
	}
	struct pm_entry *e = entry_new(pm);
	struct pm_frame *f = e ? frame_alloc(pm) : NULL;
	int rc = f ? frame_get_block(pm, f, order, g->zone_flags, g->zero) : -MMK_ENOMEM;
	if (rc && f && !t->flushed) {
		t->flushed = true;
		if (pm_flush_all_locked(pm))
			rc = frame_get_block(pm, f, order, g->zone_flags, g->zero);
	}
	if (rc && f && (g->zone_flags & PHYS_ZONE_DMA) &&
	    pm_evacuate_locked(pm, MMK_ZONE_DMA, pm_order_pages(order), NULL) >= pm_order_pages(order))
		rc = frame_get_block(pm, f, order, g->zone_flags, g->zero);
	if (rc) {
		if (f)
			frame_free_struct(pm, f);
		if (e)
			entry_free(pm, e);
		if (g->charge_each && !t->no_charge) {
			acct_uncharge(t->c->holder.acct, pm_order_pages(order));
			t->charged -= pm_order_pages(order);
		}
		if (order == 0 || !f) {
			g->stop = true;
			return -MMK_ENOMEM;
		}
		rc = gather_piece(g, pos, order - 1);
		return rc ? rc : gather_piece(g, pos + pm_order_pages(order - 1), order - 1);
	}
	e->c = t->c;
	e->start = pos;
	e->npages = pm_order_pages(order);
	frame_attach(f, e);
	mmk_list_push_back(&t->fresh, &e->link);
	t->fresh_pages += e->npages;
	t->nfresh++;
	return 0;
}

/* Largest order of an aligned block at pos that fits below end. */
static unsigned piece_order(uint64_t pos, uint64_t end)
{
	unsigned o = MMK_MAX_ORDER;
	while (o > 0 && ((pos & (pm_order_pages(o) - 1)) || pm_order_pages(o) > end - pos))
		o--;
	return o;
}

int txn_gather(struct pm_txn *t, uint64_t first, uint64_t n, unsigned zone_flags, bool partial, bool zero,
	       uint64_t *got)
{
	struct gather g = { t, zone_flags, zero, partial, false };
	uint64_t before = t->fresh_pages;
	if (!partial) {
		int rc = txn_charge(t, n); /* over the guarantee: refused before any frame is touched */
		if (rc)
			return rc;
	}
	for (uint64_t pos = first, end = first + n; pos < end && !g.stop;) {
		unsigned o = piece_order(pos, end);
		gather_piece(&g, pos, o); /* all of it, or g.stop */
		pos += pm_order_pages(o);
	}
	*got = t->fresh_pages - before;
	if (*got == 0 || (!partial && *got < n))
		return -MMK_ENOMEM;
	return 0;
}

void txn_drop_fresh_after(struct pm_txn *t, struct mmk_list *tail)
{
	while (tail->next != &t->fresh) {
		struct pm_entry *e = mmk_list_entry(tail->next, struct pm_entry, link);
		mmk_list_remove(&e->link);
		t->fresh_pages -= e->npages;
		t->nfresh--;
		entry_drop(t->pm, e);
	}
}

struct mmk_list *txn_next_run(struct pm_txn *t, struct mmk_list *l, uint64_t *lo, uint64_t *hi)
{
	if (l == &t->fresh)
		return NULL;
	const struct pm_entry *e = mmk_list_entry(l, struct pm_entry, link);
	*lo = e->start;
	*hi = entry_end(e);
	for (l = l->next; l != &t->fresh; l = l->next) {
		e = mmk_list_entry(l, struct pm_entry, link);
		if (e->start != *hi)
			break;
		*hi = entry_end(e);
	}
	return l;
}

int txn_preload(struct pm_txn *t, uint64_t inserts)
{
	int rc = btree_preload(&t->c->entries, inserts);
	return rc ? rc : btree_preload(&t->pm->frames, t->nfresh);
}

void txn_abort(struct pm_txn *t)
{
	struct physmem *pm = t->pm;
	while (!mmk_list_empty(&t->fresh)) {
		struct pm_entry *e = mmk_list_entry(t->fresh.next, struct pm_entry, link);
		mmk_list_remove(&e->link);
		entry_drop(pm, e);
	}
	t->fresh_pages = t->nfresh = 0;
	if (t->charged)
		acct_uncharge(t->c->holder.acct, t->charged);
	t->charged = 0;
	txn_finish(t);
}

void txn_finish(struct pm_txn *t)
{
	while (!mmk_list_empty(&t->spare)) {
		struct mmk_list *l = t->spare.next;
		mmk_list_remove(l);
		entry_free(t->pm, mmk_list_entry(l, struct pm_entry, link));
	}
	t->nspare = 0;
	btree_unload(&t->c->entries);
	btree_unload(&t->pm->frames);
}

bool range_allocated(struct container *c, uint64_t first, uint64_t n)
{
	for (uint64_t pos = first; pos < first + n;) {
		struct pm_entry *e = entry_of_item(btree_lookup(&c->entries, pos));
		if (!e)
			return false;
		pos = entry_end(e);
	}
	return true;
}

bool range_free(struct container *c, uint64_t first, uint64_t n)
{
	const struct btree_item *it = btree_first_after(&c->entries, first);
	return !it || it->start >= first + n;
}

bool range_pinned(struct container *c, uint64_t first, uint64_t n)
{
	const struct btree_item *it;
	for (uint64_t pos = first; (it = btree_first_after(&c->entries, pos)) && it->start < first + n;
	     pos = it->start + it->size)
		if (frame_pinned(c->pm, entry_of_item(it)->frame))
			return true;
	return false;
}

/* A new entry for pages [start, start + npages) of e's frame, attached. */
static struct pm_entry *piece_of(struct pm_txn *t, struct pm_entry *e, uint64_t start, uint64_t npages)
{
	struct pm_entry *p = txn_take_entry(t);
	p->start = start;
	p->npages = npages;
	p->frame_off = e->frame_off + (start - e->start);
	frame_attach(e->frame, p);
	return p;
}

void txn_cut(struct pm_txn *t, uint64_t first, uint64_t n)
{
	struct container *c = t->c;
	uint64_t end = first + n;
	const struct btree_item *it;
	c->pages -= n;
	while ((it = btree_first_after(&c->entries, first)) && it->start < end) {
		struct pm_entry *e = it->val;
		uint64_t s = e->start, ee = entry_end(e);
		if (s >= first && ee <= end) {
			btree_remove(&c->entries, s);
			mmk_list_push_back(&t->cut, &e->link);
			continue;
		}
		uint64_t lo = s > first ? s : first, hi = ee < end ? ee : end;
		mmk_list_push_back(&t->cut, &piece_of(t, e, lo, hi - lo)->link);
		if (s < first && ee > end) { /* the range lies inside e: e keeps the left, a new entry the right */
			struct pm_entry *right = piece_of(t, e, end, ee - end);
			btree_set_range(&c->entries, s, s, first - s);
			e->npages = first - s;
			btree_insert(&c->entries, right->start, right->npages, right);
			break;
		}
		if (s < first) { /* e keeps its left part */
			btree_set_range(&c->entries, s, s, first - s);
			e->npages = first - s;
			continue;
		}
		btree_set_range(&c->entries, s, end, ee - end); /* e keeps its right part */
		e->frame_off += end - s;
		e->start = end;
		e->npages = ee - end;
		break;
	}
	/* The pieces cut off boundary entries cover pages the entries covered:
	 * the frames' covers, hence their blocks, are unchanged. */
}

void entry_plant(struct container *c, struct pm_entry *e)
{
	btree_insert(&c->entries, e->start, e->npages, e);
	c->pages += e->npages;
}

void txn_plant(struct pm_txn *t)
{
	while (!mmk_list_empty(&t->fresh)) {
		struct pm_entry *e = mmk_list_entry(t->fresh.next, struct pm_entry, link);
		mmk_list_remove(&e->link);
		entry_plant(t->c, e);
		if (e->frame->whole && !e->frame->indexed)
			frame_index(t->pm, e->frame);
	}
	t->fresh_pages = t->nfresh = 0;
}
