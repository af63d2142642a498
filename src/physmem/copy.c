/*
 * physmem/copy.c - copies between containers (shared or copy-on-write),
 * copy-on-write breaks, container_release, and the kernel-side read/write.
 *
 * A frame's entries share it one way (physmem.c, point 4): pm_frame.cow.
 * A COW copy adds entries on the source's frames and marks them COW, except
 * where the frame is shared-writable with others: a snapshot of memory
 * someone else may write cannot be lazy, so those pages are copied at once
 * (eager_copies).  A shared copy of frames that are COW-shared first gives
 * the source private frames (pm_replace_locked), then shares those.
 * A write to a page that is COW-shared copies the page for the writer only
 * (the other entries keep the frame); container_release does the same to
 * a whole range, COW or not, so the range can be reused in place.
 */
#include "physmem_internal.h"

/* One page's bytes from entry `from` (page pg) to entry `to` (page tpg). */
static void copy_page(struct physmem *pm, const struct pm_entry *to, uint64_t tpg, const struct pm_entry *from,
		      uint64_t pg)
{
	mmk_memcpy(entry_page_ptr(pm, to, tpg), entry_page_ptr(pm, from, pg), MMK_PAGE_SIZE);
}

/* Fill the fresh entries of t from container src starting at page sfirst
 * (fresh entry page p copies source page sfirst + (p - dfirst)). */
static void fill_fresh(struct physmem *pm, struct pm_txn *t, struct container *src, uint64_t sfirst,
		       uint64_t dfirst, const struct mmk_list *from)
{
	(void)t;
	for (const struct mmk_list *l = from->next; l != &t->fresh; l = l->next) {
		const struct pm_entry *f = mmk_list_entry(l, struct pm_entry, link);
		for (uint64_t p = f->start; p < entry_end(f); p++) {
			uint64_t sp = sfirst + (p - dfirst);
			copy_page(pm, f, p, entry_of_item(btree_lookup(&src->entries, sp)), sp);
		}
	}
}

/* Does page range [lo, hi) of entry e need replacing? */
static bool needs_replace(const struct pm_entry *e, uint64_t lo, uint64_t hi, bool only_shared)
{
	if (!only_shared)
		return true;
	return frame_range_shared(e->frame, e->frame_off + (lo - e->start), hi - lo, e);
}

int pm_replace_locked(struct container *c, uint64_t first, uint64_t n, bool only_shared, struct vm_space *held)
{
	struct physmem *pm = c->pm;
	struct pm_txn t;
	txn_init(&t, c);
	t.no_charge = true; /* the pages are charged already */
	const struct btree_item *it;
	uint64_t end = first + n, got;
	int rc = txn_reserve_entries(&t, 2);
	for (uint64_t pos = first; !rc && pos < end && (it = btree_first_after(&c->entries, pos)) && it->start < end;) {
		struct pm_entry *e = it->val;
		uint64_t lo = e->start > first ? e->start : first, hi = entry_end(e) < end ? entry_end(e) : end;
		pos = hi;
		if (!needs_replace(e, lo, hi, only_shared))
			continue;
		struct mmk_list *tail = t.fresh.prev;
		rc = txn_gather(&t, lo, hi - lo, 0, false, false, &got);
		if (!rc)
			fill_fresh(pm, &t, c, lo, lo, tail);
	}
	if (!rc)
		rc = txn_preload(&t, t.nfresh + 1);
	/* Translations of the replaced pages go before the swap; the swap cuts
	 * whole runs of fresh pages, so only the two ends split old entries. */
	uint64_t lo, hi;
	for (struct mmk_list *l = t.fresh.next; !rc && (l = txn_next_run(&t, l, &lo, &hi));)
		rc = pm_zap(c, lo, hi - lo, NULL, NULL, held);
	if (rc) {
		txn_abort(&t);
		return rc;
	}
	for (struct mmk_list *l = t.fresh.next; (l = txn_next_run(&t, l, &lo, &hi));) {
		txn_cut(&t, lo, hi - lo);
		pm->released_pages += hi - lo;
	}
	while (!mmk_list_empty(&t.cut)) {
		struct pm_entry *e = mmk_list_entry(t.cut.next, struct pm_entry, link);
		mmk_list_remove(&e->link);
		entry_drop(pm, e);
	}
	txn_plant(&t);
	txn_finish(&t);
	return 0;
}

int container_release(struct container_ref r, uint64_t offset, uint64_t len)
{
	struct physmem *pm;
	struct container *c;
	uint64_t first, n;
	int rc = pm_begin(r, offset, len, PM_ALLOC, PM_NEED_ALLOCATED | PM_NEED_UNPINNED, &pm, &c, &first, &n);
	if (!pm)
		return rc;
	if (!rc)
		rc = pm_replace_locked(c, first, n, true, NULL);
	hal_spin_unlock(&pm->lock);
	return rc;
}

/* ---- copy ---- */

struct copy_plan {
	struct container *src, *dst;
	uint64_t sfirst, dfirst, n;
	bool cow, partial;
	uint64_t done; /* source pages planned */
};

/* A COW copy of a frame shared-writable with others is made at once. */
static bool eager(const struct copy_plan *p, const struct pm_entry *e)
{
	return p->cow && !e->frame->cow && e->frame->refs > 1;
}

/* Reserve for the copy: charges, entries, eager frames, tree nodes.  With
 * partial, stop before the first piece that cannot be had. */
static int plan_copy(struct copy_plan *p, struct pm_txn *t)
{
	const struct btree_item *it;
	uint64_t end = p->sfirst + p->n, got, pieces = 0;
	int rc = p->partial ? 0 : txn_charge(t, p->n);
	t->no_charge = true; /* gathers replace nothing: the copy is charged here */
	for (uint64_t pos = p->sfirst; !rc && pos < end && (it = btree_first_after(&p->src->entries, pos)) && it->start < end;) {
		struct pm_entry *e = it->val;
		uint64_t lo = e->start > pos ? e->start : pos, hi = entry_end(e) < end ? entry_end(e) : end;
		if (p->partial && (rc = acct_charge(t->c->holder.acct, hi - lo)) == 0)
			t->charged += hi - lo;
		if (!rc && eager(p, e)) {
			struct mmk_list *tail = t->fresh.prev;
			rc = txn_gather(t, p->dfirst + (lo - p->sfirst), hi - lo, 0, false, false, &got);
			if (rc)
				txn_drop_fresh_after(t, tail);
			else
				fill_fresh(t->pm, t, p->src, lo, p->dfirst + (lo - p->sfirst), tail);
		} else if (!rc && !(rc = txn_reserve_entries(t, (unsigned)(pieces + 1)))) {
			pieces++;
		}
		if (rc && p->partial && t->charged > p->done) {
			acct_uncharge(t->c->holder.acct, t->charged - p->done);
			t->charged = p->done; /* this piece's charge back */
		}
		if (!rc)
			p->done += hi - lo;
		pos = hi;
	}
	if (rc && p->partial && p->done)
		rc = 0; /* keep the prefix */
	return rc ? rc : txn_preload(t, pieces + t->nfresh);
}

/* Commit: the non-eager pieces name the source's frames. */
static void commit_copy(struct copy_plan *p, struct pm_txn *t)
{
	const struct btree_item *it;
	uint64_t end = p->sfirst + p->done;
	for (uint64_t pos = p->sfirst; pos < end && (it = btree_first_after(&p->src->entries, pos)) && it->start < end;) {
		struct pm_entry *e = it->val;
		uint64_t lo = e->start > pos ? e->start : pos, hi = entry_end(e) < end ? entry_end(e) : end;
		pos = hi;
		if (eager(p, e)) {
			t->pm->eager_copies += hi - lo;
			continue;
		}
		struct pm_entry *d = txn_take_entry(t);
		d->start = p->dfirst + (lo - p->sfirst);
		d->npages = hi - lo;
		d->frame_off = e->frame_off + (lo - e->start);
		frame_attach(e->frame, d);
		e->frame->cow = p->cow;
		entry_plant(p->dst, d);
	}
	txn_plant(t);
}

static int copy_checks(struct copy_plan *p, struct container_ref src, struct container_ref dst, unsigned flags)
{
	unsigned need = (flags & PM_COPY_SHARED) ? PM_READ | PM_WRITE | PM_TAKE : PM_READ;
	int rc = pm_resolve(src, need, &p->src);
	if (!rc)
		rc = pm_resolve(dst, PM_ALLOC, &p->dst);
	if (!rc && p->src == p->dst && p->sfirst < p->dfirst + p->n && p->dfirst < p->sfirst + p->n)
		rc = -MMK_EINVAL;
	if (!rc && !range_allocated(p->src, p->sfirst, p->n))
		rc = -MMK_ENOENT;
	if (!rc && !range_free(p->dst, p->dfirst, p->n))
		rc = -MMK_EEXIST;
	return rc;
}

static bool writable_only(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits)
{
	(void)ctx;
	(void)pgoff;
	(void)pa;
	return bits & PMAP_PROT_WRITE;
}

int container_copy(struct container_ref src, uint64_t src_off, struct container_ref dst, uint64_t dst_off,
		   uint64_t len, unsigned flags, uint64_t *done)
{
	struct physmem *pm = pm_of_ref(src);
	struct copy_plan p = { 0 };
	uint64_t n2;
	if (!pm || pm != pm_of_ref(dst) || (flags & ~PM_COPY_FLAGS_ALL) || pm_pages(src_off, len, &p.sfirst, &p.n) ||
	    pm_pages(dst_off, len, &p.dfirst, &n2))
		return -MMK_EINVAL;
	p.cow = !(flags & PM_COPY_SHARED);
	p.partial = flags & PM_COPY_PARTIAL;
	hal_spin_lock(&pm->lock);
	int rc = copy_checks(&p, src, dst, flags);
	if (!rc)
		rc = pm_flush_parked_range(p.dst, p.dfirst, p.n);
	/* A shared copy of COW frames: the source gets frames of its own first
	 * (contents unchanged; kept even if the copy then fails). */
	const struct btree_item *it;
	for (uint64_t pos = p.sfirst; !rc && !p.cow && pos < p.sfirst + p.n &&
				       (it = btree_first_after(&p.src->entries, pos)) && it->start < p.sfirst + p.n;) {
		struct pm_entry *e = it->val;
		uint64_t lo = e->start > pos ? e->start : pos;
		uint64_t hi = entry_end(e) < p.sfirst + p.n ? entry_end(e) : p.sfirst + p.n;
		if (e->frame->cow && e->frame->refs > 1)
			rc = pm_replace_locked(p.src, lo, hi - lo, false, NULL);
		pos = hi;
	}
	/* A COW copy: the source's writable translations go (its pages become
	 * copy-on-write; reads keep their read-only translations). */
	if (!rc && p.cow)
		rc = pm_zap(p.src, p.sfirst, p.n, writable_only, NULL, NULL);
	struct pm_txn t;
	if (!rc) {
		txn_init(&t, p.dst);
		t.flushed = true; /* no flush while planning: it could change which pieces are eager */
		rc = plan_copy(&p, &t);
		if (rc)
			txn_abort(&t);
	}
	if (!rc) {
		commit_copy(&p, &t);
		txn_finish(&t);
	}
	hal_spin_unlock(&pm->lock);
	if (!rc && done)
		*done = p.done;
	return rc;
}

/* ---- kernel-side read and write ---- */

static int rw_range(struct container_ref r, uint64_t offset, uint64_t len, unsigned need, struct container **c,
		    uint64_t *first, uint64_t *last)
{
	if (len == 0 || offset + len < offset || offset + len > (PM_PAGE_LIMIT << MMK_PAGE_SHIFT))
		return -MMK_EINVAL;
	int rc = pm_resolve(r, need, c);
	*first = offset >> MMK_PAGE_SHIFT;
	*last = (offset + len - 1) >> MMK_PAGE_SHIFT;
	if (!rc && !range_allocated(*c, *first, *last - *first + 1))
		rc = -MMK_ENOENT;
	return rc;
}

/* Move len bytes between buf and the container from byte offset on (the
 * range is allocated). */
static void move_bytes(struct physmem *pm, struct container *c, uint64_t offset, void *buf, uint64_t len, bool out)
{
	for (uint64_t done = 0; done < len;) {
		uint64_t pos = offset + done, pg = pos >> MMK_PAGE_SHIFT, in = pos & MMK_PAGE_MASK;
		uint64_t chunk = MMK_PAGE_SIZE - in < len - done ? MMK_PAGE_SIZE - in : len - done;
		char *page = (char *)entry_page_ptr(pm, entry_of_item(btree_lookup(&c->entries, pg)), pg) + in;
		if (out)
			mmk_memcpy((char *)buf + done, page, chunk);
		else
			mmk_memcpy(page, (char *)buf + done, chunk);
		done += chunk;
	}
}

int container_read(struct container_ref r, uint64_t offset, void *buf, uint64_t len)
{
	struct physmem *pm = pm_of_ref(r);
	struct container *c;
	uint64_t first, last;
	if (!pm || !buf)
		return -MMK_EINVAL;
	hal_spin_lock(&pm->lock);
	int rc = rw_range(r, offset, len, PM_READ, &c, &first, &last);
	if (!rc)
		move_bytes(pm, c, offset, buf, len, true);
	hal_spin_unlock(&pm->lock);
	return rc;
}

int container_write(struct container_ref r, uint64_t offset, const void *buf, uint64_t len)
{
	struct physmem *pm = pm_of_ref(r);
	struct container *c;
	uint64_t first, last;
	if (!pm || !buf)
		return -MMK_EINVAL;
	hal_spin_lock(&pm->lock);
	int rc = rw_range(r, offset, len, PM_WRITE, &c, &first, &last);
	/* Copy-on-write pages get copies of their own first (contents the same,
	 * so a failure halfway changes nothing a client can see). */
	for (uint64_t pg = first; !rc && pg <= last; pg++)
		if (entry_page_cow(entry_of_item(btree_lookup(&c->entries, pg)), pg)) {
			rc = pm_replace_locked(c, pg, 1, true, NULL);
			pm->cow_breaks += !rc;
		}
	if (!rc)
		move_bytes(pm, c, offset, (void *)(uintptr_t)buf, len, false);
	hal_spin_unlock(&pm->lock);
	return rc;
}
