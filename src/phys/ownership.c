/*
 * phys/ownership.c - frame ownership between the kernel and user space
 * (seed 002, Jinue's physical memory ownership model).
 *
 * 1. What.  Every managed frame is the kernel's or user space's, in use or
 *    free (mmk/phys.h says which state is which).  Two calls move free
 *    frames across: phys_give_to_kernel (user space's memory manager feeds
 *    the kernel) and phys_take_from_kernel (it takes back what the kernel
 *    does not use).  With strict ownership on, the kernel allocates only
 *    from its own free frames (kmem slabs, page tables, kmalloc): when it
 *    has none, the call that needed memory fails with -MMK_ENOMEM, as seed
 *    002 asks, and user space decides whether to give it more.
 * 2. Structures.  The kernel's free frames are FREE block heads with owner
 *    KERNEL on per-zone lists of their own (struct mmk_zone kfree_head),
 *    coalesced like any buddy block but never with user space's, so a
 *    multi-frame slab can still come from them.  No new descriptor field:
 *    the 24-byte descriptor stays as it was.
 * 3. Invariants (phys_check, I4-I7): a FREE head's owner says whose list it
 *    is on; counters kernel_free and free recount the two sides.
 * 4. Locking: ph->lock for the whole list, so a list moves atomically.
 * 5. Failure policy: validate and commit frame by frame, undoing the frames
 *    already moved when one is refused (a move is carve + release, which
 *    allocate nothing, so the undo cannot fail either).  Zeroing happens
 *    once the whole list moved, still under the lock, so no frame is seen
 *    by its new owner with the old owner's bytes.
 * 6. Source: seed 002 ("It will not accept ownership of user page frames
 *    that are in use ... for a page frame it already owns ... only a
 *    subset of page frames can be owned and used by the microkernel";
 *    "neither of these two system calls can fail because of a memory
 *    allocation failure").
 */
#include <hal/hal.h>

#include "lib/mem.h"
#include "phys_internal.h"

/* Which side owns pfn, and whether it is free: the verdict of one frame
 * for a move to `to` (MMK_OWNER_KERNEL: give, MMK_OWNER_NONE: take). */
static int verdict(struct phys *ph, pfn_t pfn, unsigned to)
{
	pfn_t head;
	unsigned order;

	if (!phys_in_db(ph, pfn))
		return -MMK_EINVAL;
	const struct mmk_frame *f = phys_fr(ph, pfn);
	if (f->state == MMK_FRAME_ABSENT)
		return -MMK_EINVAL;
	if (f->state == MMK_FRAME_RESERVED) /* boot image, frame database: the kernel's, in use */
		return to == MMK_OWNER_KERNEL ? -MMK_EEXIST : -MMK_EBUSY;
	if (!phys_db_block_of(ph, pfn, &head, &order))
		return -MMK_EINVAL;
	const struct mmk_frame *h = phys_fr(ph, head);
	bool kernel = h->owner == MMK_OWNER_KERNEL;
	if (kernel == (to == MMK_OWNER_KERNEL))
		return -MMK_EEXIST; /* the receiver owns it already */
	if (h->state != MMK_FRAME_FREE || f->refcount)
		return -MMK_EBUSY; /* allocated (held by an anon, object, container, slab) or mapped */
	if (to == MMK_OWNER_KERNEL && (pfn < ph->kernel_start_pfn || pfn >= ph->kernel_end_pfn))
		return -MMK_EPERM;
	return 0;
}

/* Move the free frame pfn onto to's lists (it passed verdict). */
static void move_locked(struct phys *ph, pfn_t pfn, unsigned to)
{
	phys_carve_locked(ph, pfn);
	phys_release_locked(ph, pfn, 0, to);
}

static int move_list(struct phys *ph, const pfn_t *pfns, size_t n, unsigned to)
{
	unsigned back = to == MMK_OWNER_KERNEL ? MMK_OWNER_NONE : MMK_OWNER_KERNEL;
	int err = 0;
	size_t i;

	if (!ph || !pfns || n == 0)
		return -MMK_EINVAL;
	hal_spin_lock(&ph->lock);
	for (i = 0; i < n && !err; i++) {
		err = verdict(ph, pfns[i], to);
		if (!err)
			move_locked(ph, pfns[i], to);
	}
	if (err) {
		/* pfns[i - 1] was refused; undo the ones before it, newest first. */
		for (i--; i-- > 0;)
			move_locked(ph, pfns[i], back);
	} else {
		for (i = 0; i < n; i++)
			mmk_memset(hal_phys_map(ph->machine, mmk_pfn_to_paddr(pfns[i])), 0, MMK_PAGE_SIZE);
	}
	hal_spin_unlock(&ph->lock);
	return err;
}

int phys_give_to_kernel(struct phys *ph, const pfn_t *pfns, size_t n)
{
	return move_list(ph, pfns, n, MMK_OWNER_KERNEL);
}

int phys_take_from_kernel(struct phys *ph, const pfn_t *pfns, size_t n)
{
	return move_list(ph, pfns, n, MMK_OWNER_NONE);
}

void phys_set_strict_ownership(struct phys *ph, bool strict)
{
	hal_spin_lock(&ph->lock);
	ph->strict_ownership = strict;
	hal_spin_unlock(&ph->lock);
}

/* True when a kernel-free block lies (partly) outside [start, end). */
static bool kernel_free_outside(struct phys *ph, pfn_t start, pfn_t end)
{
	for (unsigned z = 0; z < MMK_NR_ZONES; z++)
		for (unsigned o = 0; o <= MMK_MAX_ORDER; o++)
			for (uint32_t i = ph->zones[z].kfree_head[o]; i != MMK_FRAME_NIL; i = ph->frames[i].next) {
				pfn_t p = phys_idx_pfn(ph, i);
				if (p < start || p + phys_order_frames(o) > end)
					return true;
			}
	return false;
}

int phys_set_kernel_frames(struct phys *ph, pfn_t start, pfn_t end)
{
	if (!ph || start > end)
		return -MMK_EINVAL;
	hal_spin_lock(&ph->lock);
	int err = kernel_free_outside(ph, start, end) ? -MMK_EBUSY : 0;
	if (!err) {
		ph->kernel_start_pfn = start;
		ph->kernel_end_pfn = end;
	}
	hal_spin_unlock(&ph->lock);
	return err;
}

unsigned phys_owner_of(struct phys *ph, pfn_t pfn)
{
	pfn_t head;
	unsigned order, owner = MMK_OWNER_NONE;

	hal_spin_lock(&ph->lock);
	if (phys_in_db(ph, pfn)) {
		const struct mmk_frame *f = phys_fr(ph, pfn);
		if (f->state == MMK_FRAME_RESERVED)
			owner = f->owner;
		else if (phys_db_block_of(ph, pfn, &head, &order))
			owner = phys_fr(ph, head)->owner;
	}
	hal_spin_unlock(&ph->lock);
	return owner;
}
