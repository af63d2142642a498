/*
 * phys/carve.c - two block operations for a layer that moves frames
 * (seed 001's physmem: partial deallocation and migration):
 *
 *   phys_alloc_at  takes a chosen free block out of the allocator, so a
 *                  compaction pass can fence a region off before it empties
 *                  it (no new allocation lands there meanwhile);
 *   phys_split     cuts an allocated block into its two buddies, so the
 *                  unused half of a partly deallocated frame can be freed
 *                  while the used half stays where it is.
 *
 * Both run under phys.lock and keep every invariant of buddy.c (its theory
 * comment): heads carry state and order, interiors are TAIL.
 */
#include "phys_internal.h"

int phys_alloc_at(struct phys *ph, pfn_t pfn, unsigned order, unsigned flags)
{
	if (!ph || order > MMK_MAX_ORDER || !phys_pfn_aligned(pfn, order) || (flags & ~PHYS_USER))
		return -MMK_EINVAL;
	hal_spin_lock(&ph->lock);
	pfn_t head;
	unsigned o;
	int err = 0;
	if (mmk_failpoint_hit(ph->failpoint))
		err = -MMK_ENOMEM;
	else if (!phys_db_block_of(ph, pfn, &head, &o) || phys_fr(ph, head)->state != MMK_FRAME_FREE ||
		 o < order || phys_fr(ph, head)->owner == MMK_OWNER_KERNEL)
		err = -MMK_EBUSY; /* not wholly inside one free block of user space's (seed 002:
		                     the kernel's free frames are its own) */
	if (err) {
		hal_spin_unlock(&ph->lock);
		return err;
	}
	struct mmk_zone *z = &ph->zones[phys_fr(ph, head)->zone];
	unsigned from = phys_fr(ph, head)->owner; /* user space's lists (seed 002) */
	phys_list_remove(ph, z, o, head);
	/* Give back the halves that do not hold the wanted block (Knuth R). */
	while (o > order) {
		o--;
		pfn_t upper = head + phys_order_frames(o);
		if (pfn >= upper) {
			phys_make_free_head(ph, z, head, o, from);
			head = upper;
		} else {
			phys_make_free_head(ph, z, upper, o, from);
		}
	}
	struct mmk_frame *f = phys_fr(ph, head);
	f->state = MMK_FRAME_ALLOCATED;
	f->order = (uint8_t)order;
	f->owner = (flags & PHYS_USER) ? MMK_OWNER_USER : MMK_OWNER_KERNEL;
	f->refcount = 0;
	f->private_data = 0;
	*phys_zone_free(z, from) -= phys_order_frames(order);
	hal_spin_unlock(&ph->lock);
	return 0;
}

int phys_split(struct phys *ph, pfn_t pfn, unsigned order)
{
	if (!ph || order == 0 || order > MMK_MAX_ORDER || !phys_in_db(ph, pfn))
		return -MMK_EINVAL;
	hal_spin_lock(&ph->lock);
	struct mmk_frame *f = phys_fr(ph, pfn);
	if (f->state != MMK_FRAME_ALLOCATED || f->order != order) {
		hal_spin_unlock(&ph->lock);
		return -MMK_EINVAL;
	}
	/* The upper buddy becomes a head of its own; per-frame refcounts are
	 * per page (translations) and stay as they are. */
	struct mmk_frame *u = phys_fr(ph, pfn + phys_order_frames(order - 1));
	f->order = (uint8_t)(order - 1);
	u->state = MMK_FRAME_ALLOCATED;
	u->order = (uint8_t)(order - 1);
	u->owner = f->owner;
	u->private_data = 0;
	hal_spin_unlock(&ph->lock);
	return 0;
}
