/*
 * phys/zone.c - zones: DMA below 16 MiB (ISA DMA), DMA32 below 4 GiB
 * (32-bit devices), Normal above, as Linux's ZONE_DMA/DMA32/NORMAL.
 *
 * A zone is a span of frame numbers with its own free lists, so a request
 * that needs low memory finds it without searching, and ordinary requests
 * leave low memory for the devices that need it: they try Normal first and
 * fall back downwards (Linux's zonelist).  Zone boundaries are multiples of
 * 2^12 frames and MMK_MAX_ORDER blocks are 2^20-frame aligned, so no block
 * can straddle a boundary once its head's zone is checked when merging.
 */
#include "phys_internal.h"

unsigned phys_zone_of(pfn_t pfn)
{
	if (pfn < PHYS_DMA_END_PFN)
		return MMK_ZONE_DMA;
	if (pfn < PHYS_DMA32_END_PFN)
		return MMK_ZONE_DMA32;
	return MMK_ZONE_NORMAL;
}

static pfn_t clamp(pfn_t x, pfn_t lo, pfn_t hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/* An empty zone gets an empty span [x, x) at the database edge. */
void phys_zone_span(const struct phys *ph, unsigned z, pfn_t *start, pfn_t *end)
{
	static const pfn_t lo[MMK_NR_ZONES] = { 0, PHYS_DMA_END_PFN, PHYS_DMA32_END_PFN };
	static const pfn_t hi[MMK_NR_ZONES] = { PHYS_DMA_END_PFN, PHYS_DMA32_END_PFN, UINT64_MAX };

	*start = clamp(lo[z], ph->base_pfn, ph->end_pfn);
	*end = clamp(hi[z], ph->base_pfn, ph->end_pfn);
}

void phys_zones_init(struct phys *ph)
{
	for (unsigned z = 0; z < MMK_NR_ZONES; z++) {
		struct mmk_zone *zone = &ph->zones[z];

		phys_zone_span(ph, z, &zone->start_pfn, &zone->end_pfn);
		zone->managed = 0;
		zone->free = 0;
		zone->kernel_free = 0;
		for (unsigned o = 0; o <= MMK_MAX_ORDER; o++) {
			zone->free_head[o] = MMK_FRAME_NIL;
			zone->nr_free[o] = 0;
			zone->kfree_head[o] = MMK_FRAME_NIL;
			zone->knr_free[o] = 0;
		}
	}
}

/* DMA wins over DMA32 when both are asked: the stricter limit holds. */
unsigned phys_zonelist(unsigned flags, unsigned zl[MMK_NR_ZONES])
{
	unsigned n = 0;

	if (!(flags & (PHYS_ZONE_DMA | PHYS_ZONE_DMA32)))
		zl[n++] = MMK_ZONE_NORMAL;
	if (!(flags & PHYS_ZONE_DMA))
		zl[n++] = MMK_ZONE_DMA32;
	zl[n++] = MMK_ZONE_DMA;
	return n;
}

const char *phys_zone_name(unsigned zone)
{
	static const char *const names[MMK_NR_ZONES] = { "DMA", "DMA32", "Normal" };

	return zone < MMK_NR_ZONES ? names[zone] : "?";
}

/* Free frames of one side (NONE: user space's, KERNEL: the kernel's). */
static uint64_t free_of(struct phys *ph, unsigned owner)
{
	uint64_t n = 0;
	hal_spin_lock(&ph->lock);
	for (unsigned z = 0; z < MMK_NR_ZONES; z++)
		n += *phys_zone_free(&ph->zones[z], owner);
	hal_spin_unlock(&ph->lock);
	return n;
}

uint64_t phys_free_frames(struct phys *ph) { return free_of(ph, MMK_OWNER_NONE); }

uint64_t phys_kernel_free_frames(struct phys *ph) { return free_of(ph, MMK_OWNER_KERNEL); }

void phys_get_stats(struct phys *ph, struct phys_stats *st)
{
	if (!ph || !st)
		return;
	hal_spin_lock(&ph->lock);
	st->ram_frames = ph->ram_frames;
	st->reserved_frames = ph->reserved_frames;
	st->db_bytes = ph->db_bytes;
	st->managed_frames = 0;
	st->free_frames = 0;
	st->kernel_free_frames = 0;
	for (unsigned z = 0; z < MMK_NR_ZONES; z++) {
		const struct mmk_zone *zone = &ph->zones[z];

		st->zone[z].managed = zone->managed;
		st->zone[z].free = zone->free;
		for (unsigned o = 0; o <= MMK_MAX_ORDER; o++)
			st->zone[z].nr_free[o] = zone->nr_free[o];
		st->managed_frames += zone->managed;
		st->free_frames += zone->free;
		st->kernel_free_frames += zone->kernel_free;
	}
	hal_spin_unlock(&ph->lock);
}
