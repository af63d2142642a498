/*
 * physmem/container.c - containers: create and destroy (also by their
 * account's destruction), allocate and deallocate frames.
 */
#include "physmem_internal.h"

static void container_account_release(struct acct_holder *h);

int container_create(struct physmem *pm, struct mmk_account *acct, struct container_ref *out)
{
	if (!pm || !acct || !out)
		return -MMK_EINVAL;
	struct container *c = kmem_cache_alloc(&pm->container_cache);
	if (!c)
		return -MMK_ENOMEM;
	mmk_memset(c, 0, sizeof(*c));
	c->pm = pm;
	btree_init(&c->entries, &pm->node_cache);
	mmk_list_init(&c->parked);
	mmk_list_init(&c->shares);
	view_init(&c->view, c, NULL);
	c->refs = 1;
	int rc = acct_holder_attach(acct, &c->holder, container_account_release);
	if (rc) {
		kmem_cache_free(&pm->container_cache, c);
		return rc;
	}
	hal_spin_lock(&pm->lock);
	c->id = pm->next_id++;
	mmk_list_push_back(&pm->containers, &c->link);
	hal_spin_unlock(&pm->lock);
	out->c = c;
	out->rights = PM_RIGHTS_ALL;
	out->share = NULL;
	return 0;
}

int container_ref_dup(struct container_ref r, struct container_ref *out)
{
	if (r.share)
		return -MMK_EPERM; /* a weak ref cannot make owner refs */
	if (!r.c || !out)
		return -MMK_EINVAL;
	hal_spin_lock(&r.c->pm->lock);
	r.c->refs++;
	hal_spin_unlock(&r.c->pm->lock);
	*out = r;
	return 0;
}

int container_teardown_locked(struct container *c)
{
	struct physmem *pm = c->pm;
	int rc = pm_zap(c, 0, PM_PAGE_LIMIT, NULL, NULL, NULL);
	if (rc)
		return rc;
	/* No translation is left, and none can come back while we hold the
	 * lock: cut the views off, then free every frame. */
	struct mmk_list *l;
	mmk_list_for_each(l, &c->shares)
		view_cut(pm, &mmk_list_entry(l, struct container_share, link)->view);
	view_cut(pm, &c->view);
	const struct btree_item *it;
	while ((it = btree_first_after(&c->entries, 0))) {
		struct pm_entry *e = it->val;
		btree_remove(&c->entries, e->start);
		entry_drop(pm, e);
	}
	while (!mmk_list_empty(&c->parked)) {
		struct pm_entry *e = mmk_list_entry(c->parked.next, struct pm_entry, link);
		mmk_list_remove(&e->link);
		entry_drop(pm, e);
	}
	pm->parked_pages -= c->parked_pages;
	c->parked_pages = 0;
	if (c->holder.acct && c->pages)
		acct_uncharge(c->holder.acct, c->pages);
	c->pages = 0;
	c->dead = true;
	btree_destroy(&c->entries);
	return 0;
}

void container_free_locked(struct container *c)
{
	struct physmem *pm = c->pm;
	while (!mmk_list_empty(&c->shares)) {
		struct container_share *s = mmk_list_entry(c->shares.next, struct container_share, link);
		mmk_list_remove(&s->link);
		mmk_list_init(&s->link);
		s->c = NULL;
		s->cancelled = true;
	}
	mmk_list_remove(&c->link);
	kmem_cache_free(&pm->container_cache, c);
}

/* The account died (seed 001: "any containers and frames allocated using it
 * are implicitly deallocated"): free everything; the owner's refs stay
 * until destroyed, and every call on them is -MMK_EIDRM. */
static void container_account_release(struct acct_holder *h)
{
	struct container *c = (struct container *)(void *)((char *)h - offsetof(struct container, holder));
	struct physmem *pm = c->pm;
	for (;;) {
		hal_spin_lock(&pm->lock);
		int rc = c->dead ? 0 : container_teardown_locked(c);
		hal_spin_unlock(&pm->lock);
		if (rc == 0)
			break; /* -MMK_EAGAIN: a space mapping it is busy; it will not stay so */
	}
	acct_holder_detach(h);
}

int container_destroy(struct container_ref *r)
{
	if (!r || r->share || !r->c)
		return -MMK_EINVAL;
	struct container *c = r->c;
	struct physmem *pm = c->pm;
	hal_spin_lock(&pm->lock);
	if (c->refs > 1) {
		c->refs--;
		hal_spin_unlock(&pm->lock);
		r->c = NULL;
		return 0;
	}
	int rc = c->dead ? 0 : container_teardown_locked(c);
	hal_spin_unlock(&pm->lock);
	if (rc)
		return rc;
	acct_holder_detach(&c->holder);
	hal_spin_lock(&pm->lock);
	container_free_locked(c);
	hal_spin_unlock(&pm->lock);
	r->c = NULL;
	return 0;
}

int container_allocate(struct container_ref r, uint64_t offset, uint64_t npages, unsigned flags, uint64_t *done)
{
	struct physmem *pm = pm_of_ref(r);
	uint64_t first, n, got = 0;
	if (!pm || (flags & ~PM_ALLOC_FLAGS_ALL) || npages > PM_PAGE_LIMIT ||
	    pm_pages(offset, npages << MMK_PAGE_SHIFT, &first, &n))
		return -MMK_EINVAL;
	hal_spin_lock(&pm->lock);
	struct container *c;
	int rc = pm_resolve(r, PM_ALLOC, &c);
	if (!rc && !range_free(c, first, n))
		rc = -MMK_EEXIST;
	if (rc) {
		hal_spin_unlock(&pm->lock);
		return rc;
	}
	struct pm_txn t;
	txn_init(&t, c);
	rc = pm_flush_parked_range(c, first, n); /* the offset is reused: deferred unmaps end */
	if (!rc)
		rc = txn_gather(&t, first, n, (flags & PM_ALLOC_DMA) ? PHYS_ZONE_DMA : 0, flags & PM_ALLOC_PARTIAL, true,
				&got);
	if (!rc)
		rc = txn_preload(&t, t.nfresh);
	if (rc) {
		txn_abort(&t);
		hal_spin_unlock(&pm->lock);
		return rc;
	}
	txn_plant(&t);
	txn_finish(&t);
	hal_spin_unlock(&pm->lock);
	if (done)
		*done = got;
	return 0;
}

/* ---- deallocation, with deferred unmap (physmem.c, point 5) ---- */

struct park_scan {
	struct container *c;
	uint64_t first, n;
	uint64_t kept, lo, hi; /* read-only translations kept, and their page span */
};

/* The part of live entry e inside the range can be parked: no other entry
 * names any of its frame pages, so nobody can write them any more. */
static bool parkable(const struct park_scan *p, const struct pm_entry *e)
{
	uint64_t lo = e->start > p->first ? e->start : p->first;
	uint64_t hi = entry_end(e) < p->first + p->n ? entry_end(e) : p->first + p->n;
	return !frame_range_shared(e->frame, e->frame_off + (lo - e->start), hi - lo, e);
}

static bool park_filter(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits)
{
	struct park_scan *p = ctx;
	(void)pa;
	if (bits & PMAP_PROT_WRITE)
		return true; /* writable: goes now */
	struct pm_entry *e = entry_of_item(btree_lookup(&p->c->entries, pgoff));
	if (!e || !parkable(p, e))
		return true;
	if (!p->kept || pgoff < p->lo)
		p->lo = pgoff;
	if (!p->kept || pgoff >= p->hi)
		p->hi = pgoff + 1;
	p->kept++;
	return false;
}

int container_deallocate(struct container_ref r, uint64_t offset, uint64_t len)
{
	struct physmem *pm;
	struct container *c = NULL;
	uint64_t first, n;
	int rc = pm_begin(r, offset, len, PM_DEALLOC, PM_NEED_ALLOCATED | PM_NEED_UNPINNED, &pm, &c, &first, &n);
	if (!pm)
		return rc;
	struct pm_txn t;
	struct park_scan scan = { c, first, n, 0, 0, 0 };
	if (!rc) {
		txn_init(&t, c);
		rc = txn_reserve_entries(&t, 2);
		if (!rc)
			rc = txn_preload(&t, 1);
		if (!rc)
			rc = pm_zap(c, first, n, park_filter, &scan, NULL);
		if (rc)
			txn_abort(&t);
	}
	if (rc) {
		hal_spin_unlock(&pm->lock);
		return rc;
	}
	txn_cut(&t, first, n);
	acct_uncharge(c->holder.acct, n);
	while (!mmk_list_empty(&t.cut)) {
		struct pm_entry *e = mmk_list_entry(t.cut.next, struct pm_entry, link);
		mmk_list_remove(&e->link);
		bool keep = scan.kept && e->start < scan.hi && scan.lo < entry_end(e) &&
			    !frame_range_shared(e->frame, e->frame_off, e->npages, e);
		if (!keep) {
			entry_drop(pm, e);
			continue;
		}
		e->parked = true;
		mmk_list_push_back(&c->parked, &e->link);
		c->parked_pages += e->npages;
		pm->parked_pages += e->npages;
	}
	txn_finish(&t);
	hal_spin_unlock(&pm->lock);
	return 0;
}
