/*
 * physmem/migrate.c - migration (seed 001: "physmem may rearrange physical
 * memory to defragment it or to clear space in a special zone (for
 * instance, for DMA)").  The Hurd never wrote it; mmk's protocol:
 *
 * 1. Fence.  The free blocks of the region to empty (an aligned block of
 *    2^order frames, or a whole zone) are taken out of the allocator
 *    (phys_alloc_at, tagged PM_FENCE in private_data), so no block a move
 *    allocates can land inside the region.
 * 2. Move each container frame in the region, one at a time, under
 *    pm->lock: skip it if pinned or holey (split by a partial free);
 *    allocate a block of its order (outside the fence); remove every
 *    translation of every entry naming it (unmap; -MMK_EAGAIN when a space
 *    is busy: the frame is skipped); copy its pages; free the old block and
 *    repoint the frame (every entry follows, since entries name the frame,
 *    not the block).  Clients re-fault and find the new frame: maps are
 *    not persistent.  A failed step leaves the frame where it was.
 * 3. Unfence: the fenced blocks, and the old blocks of the moved frames
 *    (fenced too, so no later move's allocation lands in them), go back
 *    and coalesce, so a fully emptied region becomes one free block.
 *
 * Compaction picks regions holding only movable frames and free blocks,
 * cheapest (fewest frames to move) first, by thresholds 1, 2, 4, ... of
 * frames to move.  Parked (deferred-unmap) pages are flushed first.
 */
#include "physmem_internal.h"

#define PM_FENCE 0x46454e4345ull /* "FENCE": private_data of a fenced free block */

/* The container frame whose block starts at pfn, if whole and indexed. */
static struct pm_frame *frame_at(struct physmem *pm, pfn_t pfn)
{
	const struct btree_item *it = btree_lookup(&pm->frames, pfn);
	return it && it->start == pfn ? it->val : NULL;
}

/* Move frame f to a new block; zone_flags restrict where (PHYS_ZONE_*).
 * The old block joins the fence (it is freed by unfence), so nothing that
 * later moves allocate can land in the region being emptied. */
static int move_frame(struct physmem *pm, struct pm_frame *f, unsigned zone_flags, struct pm_compact_result *res)
{
	if (frame_pinned(pm, f)) {
		if (res)
			res->skipped_pinned++;
		return -MMK_EBUSY;
	}
	if (!f->whole)
		return -MMK_EBUSY;
	pfn_t npfn;
	int rc = phys_alloc(pm->phys, f->order, PHYS_USER | zone_flags, &npfn);
	if (rc)
		return rc;
	rc = btree_preload(&pm->frames, 1);
	if (!rc)
		rc = pm_zap_frame(pm, f, NULL); /* unmap: every client re-faults */
	if (rc) {
		phys_free(pm->phys, npfn, f->order);
		if (res)
			res->skipped_busy++;
		return rc;
	}
	for (uint64_t i = 0; i < pm_order_pages(f->order); i++)
		mmk_memcpy(phys_frame_ptr(pm->phys, npfn + i), phys_frame_ptr(pm->phys, f->pfn + i), MMK_PAGE_SIZE);
	frame_unindex(pm, f);
	phys_frame(pm->phys, f->pfn)->private_data = PM_FENCE; /* unfence frees it */
	f->pfn = npfn;
	frame_index(pm, f);
	pm->migrated_frames++;
	pm->migrated_pages += pm_order_pages(f->order);
	if (res) {
		res->frames_moved++;
		res->pages_moved += pm_order_pages(f->order);
	}
	return 0;
}

/* Take every free block in [start, end) out of the allocator. */
static void fence(struct physmem *pm, pfn_t start, pfn_t end)
{
	for (pfn_t p = start; p < end;) {
		struct mmk_frame *d = phys_frame(pm->phys, p);
		uint64_t len = d && d->state == MMK_FRAME_FREE ? pm_order_pages(d->order) : 1;
		if (d && d->state == MMK_FRAME_FREE && p + len <= end && phys_alloc_at(pm->phys, p, d->order, 0) == 0)
			phys_frame(pm->phys, p)->private_data = PM_FENCE;
		else if (d && d->state == MMK_FRAME_ALLOCATED)
			len = pm_order_pages(d->order);
		p += len;
	}
}

static void unfence(struct physmem *pm, pfn_t start, pfn_t end)
{
	for (pfn_t p = start; p < end;) {
		struct mmk_frame *d = phys_frame(pm->phys, p);
		uint64_t len = d && (d->state == MMK_FRAME_FREE || d->state == MMK_FRAME_ALLOCATED)
				       ? pm_order_pages(d->order)
				       : 1;
		if (d && d->state == MMK_FRAME_ALLOCATED && d->private_data == PM_FENCE) {
			unsigned o = d->order;
			phys_free(pm->phys, p, o);
		}
		p += len;
	}
}

/* Frames to move to empty region [r, r + 2^order), or -1 when something
 * in it cannot move (or it is free already: 0). */
static int64_t region_cost(struct physmem *pm, pfn_t r, unsigned order)
{
	struct mmk_frame *head = phys_frame(pm->phys, r);
	struct mmk_frame *tail = phys_frame(pm->phys, r + pm_order_pages(order) - 1);
	if (!head || !tail || head->zone != tail->zone)
		return -1;
	int64_t cost = 0;
	for (pfn_t p = r; p < r + pm_order_pages(order);) {
		struct mmk_frame *d = phys_frame(pm->phys, p);
		if (d->state == MMK_FRAME_FREE) {
			if (d->order >= order)
				return 0;
			p += pm_order_pages(d->order);
			continue;
		}
		struct pm_frame *f = d->state == MMK_FRAME_ALLOCATED ? frame_at(pm, p) : NULL;
		if (!f || frame_pinned(pm, f))
			return -1;
		cost += (int64_t)pm_order_pages(f->order);
		p += pm_order_pages(f->order);
	}
	return cost;
}

/* Empty one region; true when it became one free block. */
static bool empty_region(struct physmem *pm, pfn_t r, unsigned order, struct pm_compact_result *res)
{
	pfn_t end = r + pm_order_pages(order);
	bool all = true;
	fence(pm, r, end);
	for (pfn_t p = r; p < end;) {
		struct mmk_frame *d = phys_frame(pm->phys, p);
		struct pm_frame *f = d->state == MMK_FRAME_ALLOCATED ? frame_at(pm, p) : NULL;
		uint64_t len = d->state == MMK_FRAME_FREE || d->state == MMK_FRAME_ALLOCATED ? pm_order_pages(d->order) : 1;
		if (f && move_frame(pm, f, 0, res))
			all = false;
		p += len;
	}
	unfence(pm, r, end);
	struct mmk_frame *h = phys_frame(pm->phys, r);
	return all && h->state == MMK_FRAME_FREE && h->order >= order;
}

int physmem_compact(struct physmem *pm, unsigned order, uint64_t max_regions, struct pm_compact_result *res)
{
	struct pm_compact_result dummy;
	if (!res)
		res = &dummy;
	mmk_memset(res, 0, sizeof(*res));
	if (order == 0 || order > MMK_MAX_ORDER)
		return -MMK_EINVAL;
	hal_spin_lock(&pm->lock);
	pm_flush_all_locked(pm);
	pm->compaction_passes++;
	struct phys *ph = pm->phys;
	pfn_t lo = (ph->base_pfn + pm_order_pages(order) - 1) & ~(pm_order_pages(order) - 1);
	for (uint64_t limit = 1; limit < pm_order_pages(order); limit *= 2) {
		for (pfn_t r = lo; r + pm_order_pages(order) <= ph->end_pfn; r += pm_order_pages(order)) {
			if (max_regions && res->regions_freed >= max_regions)
				goto done;
			int64_t cost = region_cost(pm, r, order);
			if (cost <= 0 || (uint64_t)cost > limit || (uint64_t)cost <= limit / 2)
				continue; /* this threshold's band only: cheapest first */
			res->regions_tried++;
			res->regions_freed += empty_region(pm, r, order, res);
		}
	}
done:
	hal_spin_unlock(&pm->lock);
	return 0;
}

uint64_t pm_evacuate_locked(struct physmem *pm, unsigned zone, uint64_t want, struct pm_compact_result *res)
{
	if (zone >= MMK_NR_ZONES)
		return 0;
	struct mmk_zone *z = &pm->phys->zones[zone];
	if (z->free >= want)
		return z->free;
	pm_flush_all_locked(pm);
	pfn_t start = z->start_pfn, end = z->end_pfn;
	fence(pm, start, end);
	uint64_t fenced = z->managed; /* recount below: fenced + freed */
	(void)fenced;
	uint64_t freed = 0, have = 0;
	for (pfn_t p = start; p < end;) {
		struct mmk_frame *d = phys_frame(pm->phys, p);
		if (d && d->state == MMK_FRAME_ALLOCATED && d->private_data == PM_FENCE)
			have += pm_order_pages(d->order);
		p += d && (d->state == MMK_FRAME_FREE || d->state == MMK_FRAME_ALLOCATED) ? pm_order_pages(d->order) : 1;
	}
	const struct btree_item *it;
	for (pfn_t pos = start; have + freed < want && (it = btree_first_after(&pm->frames, pos)) && it->start < end;) {
		struct pm_frame *f = it->val;
		pos = it->start + it->size;
		uint64_t len = pm_order_pages(f->order);
		/* Higher zones only: the zone's own free blocks are fenced. */
		if (move_frame(pm, f, 0, res) == 0)
			freed += len;
	}
	unfence(pm, start, end);
	return z->free;
}

uint64_t physmem_evacuate_zone(struct physmem *pm, unsigned zone, uint64_t want, struct pm_compact_result *res)
{
	if (res)
		mmk_memset(res, 0, sizeof(*res));
	hal_spin_lock(&pm->lock);
	uint64_t n = pm_evacuate_locked(pm, zone, want, res);
	hal_spin_unlock(&pm->lock);
	return n;
}
