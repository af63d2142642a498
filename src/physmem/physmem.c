/*
 * physmem/physmem.c - seed 001's physical memory server.
 *
 * Theory.
 * 1. Vocabulary (seed 001).  An account (memory control capability) guarantees
 *    frames.  A container, made from one, is a name space of byte offsets;
 *    its contents are reached only by mapping them, copying them, or the
 *    kernel-side read/write.  A frame is a power-of-two block of the buddy
 *    allocator (per-frame state, reference counted); a frame entry says that
 *    container pages [start, start + npages) are pages [frame_off, ...) of
 *    a frame (per-mapping state: "exactly one frame entry exists for each
 *    mapping of a frame").  A weak capability is a ref without ALLOC,
 *    DEALLOC and TAKE, through a share its giver can cancel.
 * 2. Structures.  Each container keeps its entries in a B-tree keyed by
 *    (start, size) that refuses overlaps (lib/btree.c); each frame keeps the
 *    list of entries naming it; physmem keeps an index of whole frames by
 *    physical range (for migration) and the list of containers.  Maps go
 *    through views: one external vm_object per owner and per share, whose
 *    page source (map.c) finds the frame of a faulting page in the B-tree.
 * 3. Invariants (physmem_check): entries of a container never overlap and
 *    their sizes sum to its pages, which its account is charged for; a
 *    frame's refs equals the entries naming it; the blocks a frame holds are
 *    the canonical cover of the union of its entries (frame.c); a frame page
 *    two entries name is mapped read-only unless the frame is shared (not
 *    copy-on-write); a deallocated page is mapped only read-only, and only
 *    while it is parked (point 5).
 * 4. Copy-on-write lives in the frame: a frame is either shared (every
 *    entry sees every write) or copy-on-write (a write through an entry to a
 *    page another entry names first copies that page for the writer:
 *    copy.c).  A COW copy of a shared frame is made eagerly, a shared copy
 *    of a COW frame first gives the source its own pages, so the two kinds
 *    never mix on one frame.
 * 5. Deferred unmap (seed 001: "physmem may not immediately unmap it from
 *    the client where it is safe to do so").  At deallocation, a
 *    translation of a deallocated page is removed at once when it is
 *    writable, or when another entry (live or parked) still names the frame
 *    page.  Otherwise (read-only, and nobody can write the page any more,
 *    so its contents are frozen at what those readers could already read)
 *    it may stay: the cut entry is parked on its container, keeping its
 *    frame, and its charge is returned.  A parked page is unmapped and freed
 *    when (a) its container offset is allocated or copied into again,
 *    (b) physmem runs short of frames (an allocation flushes all parked
 *    pages before giving up), (c) a compaction pass starts, (d)
 *    physmem_flush_deferred is called (a reclaimer's hook), (e) the
 *    container dies.  A read fault on a parked page finds no entry: maps of
 *    deallocated pages never come back once gone.  Nothing leaks: the frame
 *    is not reused while any translation of it remains.
 * 6. Locking: pm->lock over everything here; it ranks below vm_space.lock
 *    (the page source runs under the faulting space's lock) and above the
 *    kmem and phys locks; removing translations in other spaces uses
 *    trylock (vm_object_zap), so a busy space yields -MMK_EAGAIN before
 *    anything is committed.  Account charges are lock-free.
 * 7. Failure policy: validate, reserve, commit (txn.c).  On error nothing
 *    changed, except that translations may have been removed (they
 *    re-fault) and parked pages may have been flushed: neither is state a
 *    client can rely on ("maps are not persistent").
 * 8. Source: seed 001 (the Hurd's physmem design note); the Hurd's code had
 *    containers of power-of-two frames in a B-tree and COW between
 *    containers, and left weak capabilities, pinning, migration, the DMA
 *    zone and container_release unwritten: docs/design.md says how mmk
 *    does them.
 */
#include "physmem_internal.h"

int physmem_init(struct physmem *pm, struct phys *ph, struct vm_system *vm)
{
	if (!pm || !ph)
		return -MMK_EINVAL;
	mmk_memset(pm, 0, sizeof(*pm));
	pm->phys = ph;
	pm->vm = vm;
	hal_spin_init(&pm->lock);
	mmk_list_init(&pm->containers);
	pm->next_id = 1;
	struct kmem_cache *made[5];
	unsigned n = 0;
	int rc = kmem_cache_init(&pm->container_cache, ph, "pm_container", sizeof(struct container), 0);
	if (!rc)
		made[n++] = &pm->container_cache;
	if (!rc && !(rc = kmem_cache_init(&pm->entry_cache, ph, "pm_entry", sizeof(struct pm_entry), 0)))
		made[n++] = &pm->entry_cache;
	if (!rc && !(rc = kmem_cache_init(&pm->frame_cache, ph, "pm_frame", sizeof(struct pm_frame), 0)))
		made[n++] = &pm->frame_cache;
	if (!rc && !(rc = kmem_cache_init(&pm->share_cache, ph, "pm_share", sizeof(struct container_share), 0)))
		made[n++] = &pm->share_cache;
	if (!rc && !(rc = btree_node_cache_init(&pm->node_cache, ph)))
		made[n++] = &pm->node_cache;
	if (rc) {
		while (n)
			kmem_cache_destroy(made[--n]);
		return rc;
	}
	btree_init(&pm->frames, &pm->node_cache);
	return 0;
}

int physmem_fini(struct physmem *pm)
{
	hal_spin_lock(&pm->lock);
	bool busy = !mmk_list_empty(&pm->containers) || kmem_cache_live(&pm->share_cache);
	hal_spin_unlock(&pm->lock);
	if (busy)
		return -MMK_EBUSY;
	btree_destroy(&pm->frames);
	kmem_cache_destroy(&pm->node_cache);
	kmem_cache_destroy(&pm->share_cache);
	kmem_cache_destroy(&pm->frame_cache);
	kmem_cache_destroy(&pm->entry_cache);
	kmem_cache_destroy(&pm->container_cache);
	return 0;
}

size_t physmem_reap(struct physmem *pm)
{
	hal_spin_lock(&pm->lock);
	struct mmk_list *l;
	mmk_list_for_each(l, &pm->containers)
		btree_drain(&mmk_list_entry(l, struct container, link)->entries);
	btree_drain(&pm->frames);
	hal_spin_unlock(&pm->lock);
	size_t n = kmem_cache_reap(&pm->container_cache) + kmem_cache_reap(&pm->entry_cache) +
		   kmem_cache_reap(&pm->frame_cache) + kmem_cache_reap(&pm->share_cache) +
		   kmem_cache_reap(&pm->node_cache);
	return n;
}

void physmem_set_time(struct physmem *pm, uint64_t now)
{
	hal_spin_lock(&pm->lock);
	if (now > pm->now)
		pm->now = now;
	hal_spin_unlock(&pm->lock);
}

struct physmem *pm_of_ref(struct container_ref r)
{
	if (r.share)
		return r.share->pm;
	return r.c ? r.c->pm : NULL;
}

int pm_resolve(struct container_ref r, unsigned need, struct container **out)
{
	struct container *c = r.c;
	unsigned rights = r.rights;
	if (r.share) {
		if (r.share->cancelled || !r.share->c)
			return -MMK_EIDRM; /* the client cancelled the share */
		c = r.share->c;
		rights &= r.share->rights;
	}
	if (!c)
		return -MMK_EINVAL;
	if (c->dead)
		return -MMK_EIDRM;
	if (need & ~rights)
		return -MMK_EPERM;
	*out = c;
	return 0;
}

int pm_pages(uint64_t offset, uint64_t len, uint64_t *first, uint64_t *npages)
{
	if (len == 0 || !mmk_page_aligned(offset) || !mmk_page_aligned(len) || offset + len < offset)
		return -MMK_EINVAL;
	*first = offset >> MMK_PAGE_SHIFT;
	*npages = len >> MMK_PAGE_SHIFT;
	if (*first >= PM_PAGE_LIMIT || *npages > PM_PAGE_LIMIT - *first)
		return -MMK_EINVAL;
	return 0;
}

int pm_begin(struct container_ref r, uint64_t offset, uint64_t len, unsigned need, unsigned checks,
	     struct physmem **pm, struct container **c, uint64_t *first, uint64_t *n)
{
	*pm = pm_of_ref(r);
	if (!*pm || pm_pages(offset, len, first, n)) {
		*pm = NULL;
		return -MMK_EINVAL;
	}
	hal_spin_lock(&(*pm)->lock);
	int rc = pm_resolve(r, need, c);
	if (!rc && (checks & PM_NEED_ALLOCATED) && !range_allocated(*c, *first, *n))
		rc = -MMK_ENOENT;
	if (!rc && (checks & PM_NEED_UNPINNED) && range_pinned(*c, *first, *n))
		rc = -MMK_EBUSY;
	return rc;
}

/* Unmap a parked entry's pages and free them. */
static int flush_parked(struct container *c, struct pm_entry *e)
{
	int rc = pm_zap(c, e->start, e->npages, NULL, NULL, NULL);
	if (rc)
		return rc;
	mmk_list_remove(&e->link);
	c->parked_pages -= e->npages;
	c->pm->parked_pages -= e->npages;
	entry_drop(c->pm, e);
	return 0;
}

int pm_flush_parked_range(struct container *c, uint64_t first, uint64_t n)
{
	struct mmk_list *l = c->parked.next;
	while (l != &c->parked) {
		struct pm_entry *e = mmk_list_entry(l, struct pm_entry, link);
		l = l->next;
		if (e->start < first + n && first < entry_end(e)) {
			int rc = flush_parked(c, e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

uint64_t pm_flush_all_locked(struct physmem *pm)
{
	uint64_t before = pm->parked_pages;
	struct mmk_list *l;
	mmk_list_for_each(l, &pm->containers) {
		struct container *c = mmk_list_entry(l, struct container, link);
		pm_flush_parked_range(c, 0, PM_PAGE_LIMIT);
	}
	return before - pm->parked_pages;
}

uint64_t physmem_flush_deferred(struct physmem *pm)
{
	hal_spin_lock(&pm->lock);
	uint64_t n = pm_flush_all_locked(pm);
	hal_spin_unlock(&pm->lock);
	return n;
}

void physmem_frag_stats(struct physmem *pm, struct pm_frag_stats *st)
{
	struct phys_stats ps;
	phys_get_stats(pm->phys, &ps);
	mmk_memset(st, 0, sizeof(*st));
	st->free_frames = ps.free_frames;
	st->largest_order = -1;
	for (unsigned z = 0; z < MMK_NR_ZONES; z++)
		for (unsigned o = 0; o <= MMK_MAX_ORDER; o++) {
			st->nr_free[o] += ps.zone[z].nr_free[o];
			if (ps.zone[z].nr_free[o] && (int)o > st->largest_order)
				st->largest_order = (int)o;
		}
}

static bool count_shared(void *ctx, const struct btree_item *it)
{
	const struct pm_entry *e = it->val;
	uint64_t *n = ctx;
	*n += e->frame->refs > 1;
	return true;
}

int container_get_info(struct container_ref r, struct container_info *info)
{
	struct physmem *pm = pm_of_ref(r);
	if (!pm || !info)
		return -MMK_EINVAL;
	hal_spin_lock(&pm->lock);
	struct container *c = r.share ? r.share->c : r.c;
	int rc = (r.share && r.share->cancelled) || !c ? -MMK_EIDRM : 0;
	if (!rc) {
		mmk_memset(info, 0, sizeof(*info));
		info->pages = c->pages;
		info->parked_pages = c->parked_pages;
		info->entries = c->entries.count;
		btree_walk(&c->entries, count_shared, &info->frames_shared);
		struct mmk_list *l;
		mmk_list_for_each(l, &c->shares)
			info->shares++;
		info->id = c->id;
		info->dead = c->dead;
	}
	hal_spin_unlock(&pm->lock);
	return rc;
}

int container_frame_of(struct container_ref r, uint64_t offset, pfn_t *pfn)
{
	struct physmem *pm = pm_of_ref(r);
	struct container *c;
	if (!pm || !pfn)
		return -MMK_EINVAL;
	hal_spin_lock(&pm->lock);
	int rc = pm_resolve(r, 0, &c);
	struct pm_entry *e = rc ? NULL : entry_of_item(btree_lookup(&c->entries, offset >> MMK_PAGE_SHIFT));
	if (!rc && !e)
		rc = -MMK_ENOENT;
	if (!rc)
		*pfn = entry_pfn(e, offset >> MMK_PAGE_SHIFT);
	hal_spin_unlock(&pm->lock);
	return rc;
}
