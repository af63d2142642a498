/*
 * phys/framedb.c - the page frame database: one compact descriptor per frame
 * of [base_pfn, end_pfn), stored in RAM and reached through the HAL's direct
 * map, as Linux's mem_map.
 *
 * Descriptors are 24 bytes so the database costs 0.6% of RAM.  Only block
 * heads carry order and owner; the other frames of a block are TAIL, and
 * the block holding any frame is found by trying each order's aligned head
 * (phys_db_block_of), which costs O(MMK_MAX_ORDER) reads and lets alloc and
 * free write O(order) descriptors instead of O(2^order).
 */
#include <hal/hal.h>

#include "phys_internal.h"

_Static_assert(sizeof(struct mmk_frame) <= 32, "a frame descriptor must stay compact");
_Static_assert(sizeof(struct mmk_frame) == 24, "struct mmk_frame is documented as 24 bytes");

void phys_db_format(struct phys *ph)
{
	for (pfn_t p = ph->base_pfn; p < ph->end_pfn; p++) {
		struct mmk_frame *f = phys_fr(ph, p);

		f->next = MMK_FRAME_NIL;
		f->prev = MMK_FRAME_NIL;
		f->refcount = 0;
		f->state = MMK_FRAME_ABSENT;
		f->order = 0;
		f->zone = (uint8_t)phys_zone_of(p);
		f->owner = MMK_OWNER_NONE;
		f->private_data = 0;
	}
}

void phys_db_reserve(struct phys *ph, pfn_t pfn, uint64_t npages, unsigned owner)
{
	for (uint64_t i = 0; i < npages; i++) {
		struct mmk_frame *f = phys_fr(ph, pfn + i);

		f->state = MMK_FRAME_RESERVED;
		f->owner = (uint8_t)owner;
	}
}

/* A block of `order` headed at pfn holds pfn's aligned neighbourhood:
 * its head is pfn rounded down to 2^order, so one probe per order. */
bool phys_db_block_of(struct phys *ph, pfn_t pfn, pfn_t *head, unsigned *order)
{
	struct mmk_frame *f;

	if (!phys_in_db(ph, pfn))
		return false;
	f = phys_fr(ph, pfn);
	if (f->state == MMK_FRAME_FREE || f->state == MMK_FRAME_ALLOCATED) {
		*head = pfn;
		*order = f->order;
		return true;
	}
	if (f->state != MMK_FRAME_TAIL)
		return false; /* absent or reserved: in no block */
	for (unsigned o = 1; o <= MMK_MAX_ORDER; o++) {
		pfn_t h = pfn & ~(phys_order_frames(o) - 1);

		if (!phys_in_db(ph, h))
			return false;
		f = phys_fr(ph, h);
		if ((f->state == MMK_FRAME_FREE || f->state == MMK_FRAME_ALLOCATED) && f->order == o) {
			*head = h;
			*order = o;
			return true;
		}
	}
	return false;
}

struct mmk_frame *phys_frame(struct phys *ph, pfn_t pfn)
{
	struct mmk_frame *f = NULL;

	if (!ph)
		return NULL;
	hal_spin_lock(&ph->lock);
	if (phys_in_db(ph, pfn))
		f = phys_fr(ph, pfn);
	hal_spin_unlock(&ph->lock);
	return f;
}

/* Only RAM is in the direct map: NULL for holes and outside the database. */
void *phys_frame_ptr(struct phys *ph, pfn_t pfn)
{
	bool ram;

	if (!ph)
		return NULL;
	hal_spin_lock(&ph->lock);
	ram = phys_in_db(ph, pfn) && phys_fr(ph, pfn)->state != MMK_FRAME_ABSENT;
	hal_spin_unlock(&ph->lock);
	return ram ? hal_phys_map(ph->machine, mmk_pfn_to_paddr(pfn)) : NULL;
}
