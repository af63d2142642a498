/*
 * phys/check.c - phys_check: re-derive every invariant of buddy.c's theory
 * comment (I1-I7) from the frame database alone and compare it with the
 * lists and counters, in the manner of FreeBSD's vm_map checks and Zircon's
 * PMM checker.  It trusts nothing it did not recount, bounds every list walk
 * by the counter it checks, and reports the first broken invariant.
 * O(frames + free blocks); tests call it after every operation.
 */
#include <hal/hal.h>

#include "phys_internal.h"

struct recount {
	uint64_t reserved;
	uint64_t managed[MMK_NR_ZONES];
	uint64_t free[MMK_NR_ZONES];
	uint64_t kernel_free[MMK_NR_ZONES];
	uint64_t nr_free[MMK_NR_ZONES][MMK_MAX_ORDER + 1];
	uint64_t knr_free[MMK_NR_ZONES][MMK_MAX_ORDER + 1];
};

static int broken(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -MMK_EINVAL;
}

static int check_header(struct phys *ph, const char **why)
{
	if (!ph->frames || ph->base_pfn >= ph->end_pfn)
		return broken(why, "database missing or empty");
	if (ph->end_pfn - ph->base_pfn > UINT32_MAX)
		return broken(why, "database spans more frames than 32-bit links reach");
	if (ph->db_bytes != (ph->end_pfn - ph->base_pfn) * sizeof(struct mmk_frame))
		return broken(why, "db_bytes differs from the database's size");
	if (!mmk_page_aligned(ph->db_paddr) || ph->frames != hal_phys_map(ph->machine, ph->db_paddr))
		return broken(why, "frames is not the direct map of db_paddr");
	for (unsigned z = 0; z < MMK_NR_ZONES; z++) {
		pfn_t s, e;

		phys_zone_span(ph, z, &s, &e);
		if (ph->zones[z].start_pfn != s || ph->zones[z].end_pfn != e)
			return broken(why, "zone span differs from its boundaries (I1)");
	}
	return 0;
}

/* I4 for a reserved frame. */
static int check_reserved(const struct mmk_frame *f, struct recount *rc, const char **why)
{
	if (f->owner != MMK_OWNER_BOOT && f->owner != MMK_OWNER_KERNEL)
		return broken(why, "reserved frame not owned by boot or kernel (I4)");
	rc->reserved++;
	return 0;
}

/* I3, and I1, I2 and I4 for the tails, of the block headed at pfn in the
 * zone whose span ends at zend. */
static int check_block_shape(struct phys *ph, pfn_t pfn, pfn_t zend, const char **why)
{
	const struct mmk_frame *f = phys_fr(ph, pfn);
	uint64_t len;

	if (f->order > MMK_MAX_ORDER)
		return broken(why, "block order above MMK_MAX_ORDER (I3)");
	len = phys_order_frames(f->order);
	if (!phys_pfn_aligned(pfn, f->order))
		return broken(why, "block head not aligned to its size (I3)");
	if (len > zend - pfn)
		return broken(why, "block runs past its zone or the database (I3)");
	for (uint64_t i = 1; i < len; i++) {
		const struct mmk_frame *t = f + i;

		if (t->state != MMK_FRAME_TAIL)
			return broken(why, "frame inside a block is not TAIL (I2)");
		if (t->owner != MMK_OWNER_NONE)
			return broken(why, "tail frame has an owner (I4)");
		if (t->zone != f->zone)
			return broken(why, "descriptor zone differs from its frame's zone (I1)");
	}
	return 0;
}

static int check_block(struct phys *ph, pfn_t pfn, pfn_t zend, struct recount *rc, const char **why)
{
	const struct mmk_frame *f = phys_fr(ph, pfn);
	uint64_t len = phys_order_frames(f->order);
	int err = check_block_shape(ph, pfn, zend, why);

	if (err)
		return err;
	rc->managed[f->zone] += len;
	if (f->state == MMK_FRAME_ALLOCATED) {
		if (f->owner != MMK_OWNER_KERNEL && f->owner != MMK_OWNER_USER)
			return broken(why, "allocated block owned by neither kernel nor user (I4)");
		return 0;
	}
	if ((f->owner != MMK_OWNER_NONE && f->owner != MMK_OWNER_KERNEL) || f->refcount != 0)
		return broken(why, "free block with an owner other than the kernel, or with references (I4)");
	if (f->order < MMK_MAX_ORDER) {
		pfn_t b = pfn ^ len;

		if (phys_in_db(ph, b) && phys_fr(ph, b)->state == MMK_FRAME_FREE && phys_fr(ph, b)->order == f->order &&
		    phys_fr(ph, b)->zone == f->zone && phys_fr(ph, b)->owner == f->owner)
			return broken(why, "free block and its free buddy were not merged (I5)");
	}
	if (f->owner == MMK_OWNER_KERNEL) {
		rc->kernel_free[f->zone] += len;
		rc->knr_free[f->zone][f->order]++;
	} else {
		rc->free[f->zone] += len;
		rc->nr_free[f->zone][f->order]++;
	}
	return 0;
}

/* I1-I5 over one zone's span.  The spans tile the database (checked in
 * check_header), so walking each zone walks every frame once; holes take
 * the short path because a sparse map is mostly holes. */
static int walk_zone(struct phys *ph, unsigned z, struct recount *rc, const char **why)
{
	pfn_t p = ph->zones[z].start_pfn, end = ph->zones[z].end_pfn;

	while (p < end) {
		const struct mmk_frame *f = phys_fr(ph, p);
		int err = 0;

		if (f->zone != z)
			return broken(why, "descriptor zone differs from its frame's zone (I1)");
		switch (f->state) {
		case MMK_FRAME_ABSENT:
			/* A tight loop over the hole: sparse maps are mostly holes. */
			while (p < end && f->state == MMK_FRAME_ABSENT && f->owner == MMK_OWNER_NONE && f->zone == z) {
				p++;
				f++;
			}
			if (p < end && f->state == MMK_FRAME_ABSENT)
				err = broken(why, "absent frame has an owner or the wrong zone (I1, I4)");
			break;
		case MMK_FRAME_RESERVED:
			err = check_reserved(f, rc, why);
			p++;
			break;
		case MMK_FRAME_FREE:
		case MMK_FRAME_ALLOCATED:
			err = check_block(ph, p, end, rc, why);
			p += phys_order_frames(f->order);
			break;
		case MMK_FRAME_TAIL:
			return broken(why, "TAIL frame outside any block (I2)");
		default:
			return broken(why, "unknown frame state (I2)");
		}
		if (err)
			return err;
	}
	return 0;
}

static int walk_db(struct phys *ph, struct recount *rc, const char **why)
{
	for (unsigned z = 0; z < MMK_NR_ZONES; z++) {
		int err = walk_zone(ph, z, rc, why);

		if (err)
			return err;
	}
	return 0;
}

/* I4 for the database's own frames. */
static int check_db_frames(struct phys *ph, const char **why)
{
	pfn_t first = mmk_paddr_to_pfn(ph->db_paddr);
	uint64_t pages = (ph->db_bytes + MMK_PAGE_MASK) >> MMK_PAGE_SHIFT;

	for (uint64_t i = 0; i < pages; i++) {
		pfn_t p = first + i;

		if (!phys_in_db(ph, p) || phys_fr(ph, p)->state != MMK_FRAME_RESERVED ||
		    phys_fr(ph, p)->owner != MMK_OWNER_KERNEL)
			return broken(why, "database frame not reserved for the kernel (I4)");
	}
	return 0;
}

/* I6 for one list: at most nr_free steps, each a FREE head of (zone, order)
 * whose prev link names the step before; then the end of the list. */
static int check_list(struct phys *ph, unsigned zone, unsigned order, unsigned owner, const char **why)
{
	const struct mmk_zone *z = &ph->zones[zone];
	uint64_t nframes = ph->end_pfn - ph->base_pfn;
	bool k = owner == MMK_OWNER_KERNEL;
	uint32_t prev = MMK_FRAME_NIL, i = k ? z->kfree_head[order] : z->free_head[order];
	uint64_t n = k ? z->knr_free[order] : z->nr_free[order];

	for (uint64_t step = 0; step < n; step++) {
		const struct mmk_frame *f;

		if (i == MMK_FRAME_NIL)
			return broken(why, "free list shorter than nr_free (I6)");
		if (i >= nframes)
			return broken(why, "free list link outside the database (I6)");
		f = &ph->frames[i];
		if (f->state != MMK_FRAME_FREE || f->order != order || f->zone != zone || f->owner != owner)
			return broken(why, "free list holds a frame that is not a free head of its zone, order and owner (I6)");
		if (f->prev != prev)
			return broken(why, "free list prev link does not mirror next (I6)");
		prev = i;
		i = f->next;
	}
	return i == MMK_FRAME_NIL ? 0 : broken(why, "free list longer than nr_free (I6)");
}

/* I7, and I6 through the recount: each list holds exactly its heads. */
static int check_counts(struct phys *ph, const struct recount *rc, const char **why)
{
	uint64_t managed = 0;

	for (unsigned z = 0; z < MMK_NR_ZONES; z++) {
		const struct mmk_zone *zone = &ph->zones[z];

		if (zone->managed != rc->managed[z] || zone->free != rc->free[z] ||
		    zone->kernel_free != rc->kernel_free[z])
			return broken(why, "zone managed/free/kernel_free counter differs from recount (I7)");
		for (unsigned o = 0; o <= MMK_MAX_ORDER; o++) {
			int err;

			if (zone->nr_free[o] != rc->nr_free[z][o] || zone->knr_free[o] != rc->knr_free[z][o])
				return broken(why, "nr_free differs from the free heads counted (I7)");
			err = check_list(ph, z, o, MMK_OWNER_NONE, why);
			if (!err)
				err = check_list(ph, z, o, MMK_OWNER_KERNEL, why);
			if (err)
				return err;
		}
		managed += rc->managed[z];
	}
	if (ph->reserved_frames != rc->reserved)
		return broken(why, "reserved_frames differs from recount (I7)");
	if (ph->ram_frames != rc->reserved + managed)
		return broken(why, "ram_frames is not reserved + managed (I7)");
	return 0;
}

static int check_locked(struct phys *ph, const char **why)
{
	struct recount rc = { 0 };
	int err;

	err = check_header(ph, why);
	if (!err)
		err = walk_db(ph, &rc, why);
	if (!err)
		err = check_db_frames(ph, why);
	if (!err)
		err = check_counts(ph, &rc, why);
	return err;
}

int phys_check(struct phys *ph, const char **why)
{
	int err;

	if (!ph)
		return broken(why, "no struct phys");
	hal_spin_lock(&ph->lock);
	err = check_locked(ph, why);
	hal_spin_unlock(&ph->lock);
	if (!err && why)
		*why = NULL;
	return err;
}
