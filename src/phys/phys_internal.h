/*
 * phys/phys_internal.h - private helpers shared by the files of src/phys.
 *
 * Nothing here is part of the contract (include/mmk/phys.h).  The theory of
 * the layer is written at the top of buddy.c; this header only names the
 * pieces the other files need from each other:
 *   memmap.c   validates the boot map and plans the frame database,
 *   framedb.c  formats the database and answers "which block holds pfn",
 *   zone.c     zone spans, zonelists and statistics,
 *   freelist.c the per-zone, per-order lists of free block heads,
 *   buddy.c    split, coalesce, alloc and free,
 *   init.c     phys_init, which strings the others together,
 *   ownership.c the kernel/user frame ownership calls (seed 002),
 *   check.c    phys_check, which re-derives every invariant.
 */
#ifndef MMK_PHYS_INTERNAL_H
#define MMK_PHYS_INTERNAL_H

#include <mmk/errno.h>
#include <mmk/phys.h>

/*
 * A state that exists only while phys_init runs: usable RAM that has not yet
 * been handed to the buddy allocator.  It never survives phys_init, so
 * phys_check treats it as corruption.
 */
#define PHYS_FRAME_PENDING 0xffu

#define PHYS_DMA_END_PFN (MMK_ZONE_DMA_END >> MMK_PAGE_SHIFT)
#define PHYS_DMA32_END_PFN (MMK_ZONE_DMA32_END >> MMK_PAGE_SHIFT)

/* Frames in a block of `order` (order may be up to 63 for alignments). */
static inline uint64_t phys_order_frames(unsigned order) { return (uint64_t)1 << order; }

static inline bool phys_pfn_aligned(pfn_t pfn, unsigned order)
{
	return (pfn & (phys_order_frames(order) - 1)) == 0;
}

static inline bool phys_in_db(const struct phys *ph, pfn_t pfn)
{
	return pfn >= ph->base_pfn && pfn < ph->end_pfn;
}

/* Descriptor of pfn; precondition phys_in_db(ph, pfn). */
static inline struct mmk_frame *phys_fr(struct phys *ph, pfn_t pfn) { return &ph->frames[pfn - ph->base_pfn]; }

/* Database index of pfn (the free-list link value) and back. */
static inline uint32_t phys_idx(const struct phys *ph, pfn_t pfn) { return (uint32_t)(pfn - ph->base_pfn); }
static inline pfn_t phys_idx_pfn(const struct phys *ph, uint32_t idx) { return ph->base_pfn + idx; }

/* ---- memmap.c ---- */

/* What phys_init will commit, computed before anything is written. */
struct phys_plan {
	pfn_t base_pfn, end_pfn; /* span of the database */
	pfn_t db_pfn;            /* first frame of the database in RAM */
	uint64_t db_pages;       /* its length in frames */
};

/* Validate map and plan the database; 0 or the error phys_init returns. */
int phys_map_plan(const struct mmk_mem_range *map, size_t n, struct phys_plan *plan);

/* Stamp the map's ranges onto a formatted database: usable frames become
 * PHYS_FRAME_PENDING, boot frames RESERVED/BOOT, reserved ranges ABSENT. */
void phys_map_stamp(struct phys *ph, const struct mmk_mem_range *map, size_t n);

/* ---- framedb.c ---- */

/* Every descriptor ABSENT, owner NONE, unlinked, with its zone. */
void phys_db_format(struct phys *ph);

/* Mark [pfn, pfn + npages) RESERVED with owner (the database itself). */
void phys_db_reserve(struct phys *ph, pfn_t pfn, uint64_t npages, unsigned owner);

/* Head of the buddy block (free or allocated) that holds pfn, with its
 * order; false when pfn is in no block (absent, reserved, outside). */
bool phys_db_block_of(struct phys *ph, pfn_t pfn, pfn_t *head, unsigned *order);

/* ---- zone.c ---- */

/* Zone of a frame number, from the fixed 16 MiB and 4 GiB boundaries. */
unsigned phys_zone_of(pfn_t pfn);

/* Span of zone z: its boundaries clipped to the database. */
void phys_zone_span(const struct phys *ph, unsigned z, pfn_t *start, pfn_t *end);

/* Zone spans clipped to the database; empty counters and lists. */
void phys_zones_init(struct phys *ph);

/* Zones to try for flags, best first (Linux's zonelist); returns how many. */
unsigned phys_zonelist(unsigned flags, unsigned zl[MMK_NR_ZONES]);

/* ---- freelist.c ---- */

void phys_list_push(struct phys *ph, struct mmk_zone *z, unsigned order, pfn_t pfn);
void phys_list_remove(struct phys *ph, struct mmk_zone *z, unsigned order, pfn_t pfn);

/* ---- buddy.c ---- */

/* The free-frame counter of owner's lists in z (NONE: user space's). */
static inline uint64_t *phys_zone_free(struct mmk_zone *z, unsigned owner)
{
	return owner == MMK_OWNER_KERNEL ? &z->kernel_free : &z->free;
}

/* Free the allocated block (pfn, order) onto owner's free lists, merging
 * with free buddies of the same owner.  Caller holds ph->lock. */
void phys_release_locked(struct phys *ph, pfn_t pfn, unsigned order, unsigned owner);

/* Take the single frame pfn out of the free block that holds it (either
 * owner's), giving back the rest of the block; pfn is left ALLOCATED,
 * order 0, owner as the block's, on no list.  Precondition: pfn lies in a
 * free block.  O(order), allocates nothing.  Caller holds ph->lock. */
void phys_carve_locked(struct phys *ph, pfn_t pfn);

/* Give the run [start, end) of frames of one zone to the allocator as the
 * fewest, largest aligned free blocks.  Caller holds ph->lock (or owns ph
 * alone during phys_init). */
void phys_buddy_seed_locked(struct phys *ph, pfn_t start, pfn_t end);

/* Make f an interior frame of a block (TAIL, no order, no owner). */
void phys_make_tail(struct mmk_frame *f);
/* Turn pfn into the head of a free block of order owned by owner (NONE:
 * user space's lists, KERNEL: the kernel's) and list it on z. */
void phys_make_free_head(struct phys *ph, struct mmk_zone *z, pfn_t pfn, unsigned order, unsigned owner);

#endif
