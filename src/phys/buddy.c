/*
 * phys/buddy.c - the binary buddy allocator of physical frames.
 *
 * THEORY
 *
 * 1. What it does.  Hands out blocks of 2^order contiguous page frames,
 *    aligned to their size, from one of three zones, and takes them back,
 *    merging each freed block with its free "buddy" (the other half of the
 *    aligned block twice its size) until no merge is possible.  Splitting
 *    and merging keep external fragmentation bounded with O(MMK_MAX_ORDER)
 *    work per call.  The rest of mmk gets every frame from here: kernel
 *    allocators (kmem), user pages (vm), page tables (the HAL's pmap).
 *
 * 2. Vocabulary.  frame, PFN, order, block (2^order frames aligned to 2^order
 *    frames), head (the block's first frame), tail (any other frame of a
 *    block), buddy of the block at pfn of order k: pfn ^ 2^k.  Managed frames
 *    are those given to the allocator; RAM = managed + reserved.
 *
 * 3. Structures (include/mmk/phys.h).  The frame database: one 24-byte
 *    struct mmk_frame per frame of [base_pfn, end_pfn), living in RAM
 *    (framedb.c).  Per zone (zone.c), per order, a doubly linked list of
 *    free heads threaded through the descriptors by 32-bit index
 *    (freelist.c), with counters managed, free and nr_free[order].  Only a
 *    head carries order and owner; tails say TAIL and nothing else, so an
 *    allocation or free writes O(order) descriptors, never O(2^order).
 *
 * 4. Invariants (phys_check re-derives each one, in check.c).
 *    I1  Each descriptor's zone is the zone of its frame number; each zone's
 *        span is its boundaries clipped to the database.
 *    I2  Walking the database, every frame is ABSENT, RESERVED, or the head
 *        of a FREE or ALLOCATED block whose other frames are all TAIL; no
 *        TAIL frame lies outside a block; no other state value exists.
 *    I3  A block's order is at most MMK_MAX_ORDER, its head is aligned to
 *        2^order, it lies inside the database and inside one zone.
 *    I4  Owners: ABSENT and TAIL frames have none; FREE heads have none
 *        (user space's free frames) or KERNEL (the kernel's, seed 002);
 *        RESERVED frames belong to BOOT or KERNEL (the database's own
 *        frames to KERNEL); ALLOCATED heads to KERNEL or USER.  FREE heads
 *        have refcount 0.
 *    I5  No free block has a free buddy of the same order, zone and owner
 *        (it would have been merged): the free lists are fully coalesced.
 *    I6  Each list of (zone, order, owner) holds exactly the FREE heads of
 *        that zone, order and owner, once each, with prev links mirroring
 *        next links.
 *    I7  Counters equal recounts: nr_free, free and managed per zone,
 *        reserved_frames, and ram_frames = reserved + managed.
 *
 * 5. Locking.  One spin lock, ph->lock, guards the lists, the counters and
 *    the state/order/owner fields of every descriptor.  Every public
 *    function takes it; *_locked helpers expect it held.  PHYS_ZERO clears
 *    the block after the lock is dropped: the block is the caller's by then
 *    and zeroing 2^order pages must not stall other CPUs.  refcount and
 *    private_data belong to the layer holding the block (see phys.h).
 *
 * 6. Failure policy.  Validate, then commit: every check (the failpoint,
 *    argument ranges, the double-free and not-a-head tests) happens before
 *    the first write, so an error leaves everything as it was.  Bad input
 *    returns -MMK_EINVAL; a double free, found even after the freed block
 *    merged into a bigger one, returns -MMK_EALREADY; nothing panics.
 *    phys_alloc consults the failpoint once per call, first of all, so a
 *    fault-injection sweep can fail exactly the Nth frame allocation.
 *
 * 6b. Ownership (ownership.c).  The kernel's free frames sit on per-zone
 *    lists of their own and never merge with user space's; kernel
 *    allocations draw on them first, and only on them under strict
 *    ownership, where a freed kernel block also returns to them.
 *
 * 7. Sources.  Knuth, TAOCP vol. 1, 2.5 (the buddy system, 1973; Knowlton
 *    1965); Linux's zones, zonelist fallback and /proc/buddyinfo (nr_free);
 *    seed 002 (Jinue: every frame owned by kernel or user, refcounts),
 *    seed 003 (Phoenix-RTOS: the page allocator as the lowest layer),
 *    seed 004 (Kora: RAM initialisation with zones).
 */
#include <hal/hal.h>

#include "lib/mem.h"
#include "phys_internal.h"

/* Alignments beyond 2^63 frames do not exist in a 64-bit pfn. */
#define PHYS_ALIGN_ORDER_MAX 63u

/* ---- building blocks ---- */

void phys_make_tail(struct mmk_frame *f)
{
	f->state = MMK_FRAME_TAIL;
	f->order = 0;
	f->owner = MMK_OWNER_NONE;
}

/* Turn pfn into the head of a free block of order owned by owner (NONE:
 * user space's, KERNEL: the kernel's) and list it. */
void phys_make_free_head(struct phys *ph, struct mmk_zone *z, pfn_t pfn, unsigned order, unsigned owner)
{
	struct mmk_frame *f = phys_fr(ph, pfn);

	f->state = MMK_FRAME_FREE;
	f->order = (uint8_t)order;
	f->owner = (uint8_t)owner;
	f->refcount = 0;
	f->private_data = 0;
	phys_list_push(ph, z, order, pfn);
}

/* Largest order of a block that starts at pfn and fits in len frames. */
static unsigned largest_fit(pfn_t pfn, uint64_t len)
{
	unsigned o = MMK_MAX_ORDER;

	while (o > 0 && (!phys_pfn_aligned(pfn, o) || phys_order_frames(o) > len))
		o--;
	return o;
}

void phys_buddy_seed_locked(struct phys *ph, pfn_t start, pfn_t end)
{
	struct mmk_zone *z = &ph->zones[phys_zone_of(start)];

	while (start < end) {
		unsigned o = largest_fit(start, end - start);
		uint64_t len = phys_order_frames(o);

		for (uint64_t i = 1; i < len; i++)
			phys_make_tail(phys_fr(ph, start + i));
		phys_make_free_head(ph, z, start, o, MMK_OWNER_NONE);
		z->managed += len;
		z->free += len;
		start += len;
	}
}

/* ---- allocation ---- */

/*
 * A free block of zone z of order >= order whose head is aligned to
 * 2^align.  Every head on a list of order >= align qualifies, so the
 * common case looks at list heads only; smaller blocks that happen to be
 * aligned enough are searched for last, by walking their lists (linear in
 * their length, a cost only over-aligned requests pay).
 */
static bool find_free(struct phys *ph, struct mmk_zone *z, unsigned order, unsigned align, unsigned owner,
		      pfn_t *head, unsigned *got)
{
	unsigned lo = order > align ? order : align;
	const uint32_t *heads = owner == MMK_OWNER_KERNEL ? z->kfree_head : z->free_head;

	for (unsigned j = lo; j <= MMK_MAX_ORDER; j++) {
		if (heads[j] != MMK_FRAME_NIL) {
			*head = phys_idx_pfn(ph, heads[j]);
			*got = j;
			return true;
		}
	}
	for (unsigned j = order; j < lo && j <= MMK_MAX_ORDER; j++) {
		for (uint32_t i = heads[j]; i != MMK_FRAME_NIL; i = ph->frames[i].next) {
			if (phys_pfn_aligned(phys_idx_pfn(ph, i), align)) {
				*head = phys_idx_pfn(ph, i);
				*got = j;
				return true;
			}
		}
	}
	return false;
}

/* Unlist the free block (pfn, got), give back its upper halves until it is
 * of `order`, and mark it allocated.  Knuth's algorithm R, steps R2-R4. */
static void take(struct phys *ph, struct mmk_zone *z, pfn_t pfn, unsigned got, unsigned order, unsigned flags)
{
	struct mmk_frame *f = phys_fr(ph, pfn);
	unsigned from = f->owner; /* whose free lists the block was on */

	phys_list_remove(ph, z, got, pfn);
	while (got > order) {
		got--;
		phys_make_free_head(ph, z, pfn + phys_order_frames(got), got, from);
	}
	f->state = MMK_FRAME_ALLOCATED;
	f->order = (uint8_t)order;
	f->owner = (flags & PHYS_USER) ? MMK_OWNER_USER : MMK_OWNER_KERNEL;
	f->refcount = 0;
	f->private_data = 0;
	*phys_zone_free(z, from) -= phys_order_frames(order);
}

/* First fit over the zonelist, from the free lists of owner. */
static bool alloc_from(struct phys *ph, unsigned order, unsigned align, unsigned flags, unsigned owner,
		       pfn_t *out)
{
	unsigned zl[MMK_NR_ZONES];
	unsigned nz = phys_zonelist(flags, zl);

	for (unsigned i = 0; i < nz; i++) {
		struct mmk_zone *z = &ph->zones[zl[i]];
		pfn_t head;
		unsigned got;

		if (find_free(ph, z, order, align, owner, &head, &got)) {
			take(ph, z, head, got, order, flags);
			*out = head;
			return true;
		}
	}
	return false;
}

/* User blocks come from user space's free frames; kernel blocks from the
 * kernel's, then (unless ownership is strict) from user space's. */
static int alloc_locked(struct phys *ph, unsigned order, unsigned align, unsigned flags, pfn_t *out)
{
	if (mmk_failpoint_hit(ph->failpoint))
		return -MMK_ENOMEM;
	if (!out || order > MMK_MAX_ORDER || align > PHYS_ALIGN_ORDER_MAX || (flags & ~PHYS_FLAGS_ALL))
		return -MMK_EINVAL;
	if (!(flags & PHYS_USER) && alloc_from(ph, order, align, flags, MMK_OWNER_KERNEL, out))
		return 0;
	if (((flags & PHYS_USER) || !ph->strict_ownership) && alloc_from(ph, order, align, flags, MMK_OWNER_NONE, out))
		return 0;
	return -MMK_ENOMEM;
}

/* Page by page so the length never overflows a 32-bit size_t. */
static void zero_block(struct phys *ph, pfn_t pfn, unsigned order)
{
	uint8_t *p = hal_phys_map(ph->machine, mmk_pfn_to_paddr(pfn));

	for (uint64_t i = 0; i < phys_order_frames(order); i++)
		mmk_memset(p + i * MMK_PAGE_SIZE, 0, MMK_PAGE_SIZE);
}

int phys_alloc_aligned(struct phys *ph, unsigned order, unsigned align_order, unsigned flags, pfn_t *out)
{
	int err;

	if (!ph)
		return -MMK_EINVAL;
	hal_spin_lock(&ph->lock);
	err = alloc_locked(ph, order, align_order, flags, out);
	hal_spin_unlock(&ph->lock);
	if (!err && (flags & PHYS_ZERO))
		zero_block(ph, *out, order);
	return err;
}

int phys_alloc(struct phys *ph, unsigned order, unsigned flags, pfn_t *out)
{
	return phys_alloc_aligned(ph, order, 0, flags, out);
}

/* ---- freeing ---- */

/*
 * 0 when (pfn, order) is exactly an allocated block; -MMK_EALREADY when
 * those frames already lie inside one free block (a double free, perhaps
 * merged since); -MMK_EINVAL for anything else.
 */
static int free_verdict(struct phys *ph, pfn_t pfn, unsigned order)
{
	pfn_t head;
	unsigned o;

	if (order > MMK_MAX_ORDER || !phys_db_block_of(ph, pfn, &head, &o))
		return -MMK_EINVAL;
	if (phys_fr(ph, head)->state == MMK_FRAME_ALLOCATED)
		return head == pfn && o == order ? 0 : -MMK_EINVAL;
	if (phys_pfn_aligned(pfn, order) && pfn + phys_order_frames(order) <= head + phys_order_frames(o))
		return -MMK_EALREADY;
	return -MMK_EINVAL;
}

/* The buddy at b can merge with a free block of `order` in zone: free,
 * and on the same side (the kernel's free frames never merge with user
 * space's). */
static bool mergeable(struct phys *ph, pfn_t b, unsigned order, unsigned zone, unsigned owner)
{
	struct mmk_frame *f;

	if (!phys_in_db(ph, b))
		return false;
	f = phys_fr(ph, b);
	return f->state == MMK_FRAME_FREE && f->order == order && f->zone == zone && f->owner == owner;
}

/* Knuth's algorithm S: merge upwards while the buddy is free, then list
 * on owner's lists. */
void phys_release_locked(struct phys *ph, pfn_t pfn, unsigned order, unsigned owner)
{
	struct mmk_frame *f = phys_fr(ph, pfn);
	unsigned zone = f->zone;
	struct mmk_zone *z = &ph->zones[zone];

	f->refcount = 0;
	f->private_data = 0;
	*phys_zone_free(z, owner) += phys_order_frames(order);
	while (order < MMK_MAX_ORDER) {
		pfn_t b = pfn ^ phys_order_frames(order);

		if (!mergeable(ph, b, order, zone, owner))
			break;
		phys_list_remove(ph, z, order, b);
		phys_make_tail(phys_fr(ph, b > pfn ? b : pfn));
		pfn = b < pfn ? b : pfn;
		order++;
	}
	phys_make_free_head(ph, z, pfn, order, owner);
}

void phys_carve_locked(struct phys *ph, pfn_t pfn)
{
	pfn_t head;
	unsigned order;
	bool found = phys_db_block_of(ph, pfn, &head, &order);
	struct mmk_frame *f = phys_fr(ph, head);
	unsigned owner = f->owner;
	struct mmk_zone *z = &ph->zones[f->zone];

	(void)found; /* the caller saw pfn inside a free block */
	phys_list_remove(ph, z, order, head);
	/* Halve towards pfn, giving the other half back each time (as take()). */
	while (order > 0) {
		order--;
		pfn_t upper = head + phys_order_frames(order);
		if (pfn >= upper) {
			phys_make_free_head(ph, z, head, order, owner);
			head = upper;
		} else {
			phys_make_free_head(ph, z, upper, order, owner);
		}
	}
	f = phys_fr(ph, pfn);
	f->state = MMK_FRAME_ALLOCATED; /* in nobody's hands until listed again */
	f->order = 0;
	f->owner = (uint8_t)owner;
	*phys_zone_free(z, owner) -= 1;
}

int phys_free(struct phys *ph, pfn_t pfn, unsigned order)
{
	int err;

	if (!ph)
		return -MMK_EINVAL;
	hal_spin_lock(&ph->lock);
	err = free_verdict(ph, pfn, order);
	if (!err) {
		/* Under strict ownership the kernel keeps what it frees (seed 002). */
		bool kernel = phys_fr(ph, pfn)->owner == MMK_OWNER_KERNEL && ph->strict_ownership;
		phys_release_locked(ph, pfn, order, kernel ? MMK_OWNER_KERNEL : MMK_OWNER_NONE);
	}
	hal_spin_unlock(&ph->lock);
	return err;
}
