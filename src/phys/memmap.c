/*
 * phys/memmap.c - the boot memory map: validation, rounding, precedence and
 * the placement of the frame database.
 *
 * A firmware map (e820, a device tree) is a list of byte ranges in any order
 * that may overlap.  We read it twice: once to plan (validate, find the span
 * the database must cover, find room for the database), writing nothing, so
 * that a bad map leaves struct phys untouched; and once to stamp each frame's
 * state into the formatted database.
 *
 * Rounding is conservative both ways: usable RAM is trimmed inward (a
 * partial page is not ours to hand out), reserved and boot ranges grow
 * outward (a partial page of firmware or kernel image must not be handed
 * out).  Precedence on overlap is reserved > boot > usable, stamped in that
 * order of passes so the last writer wins.
 */
#include "phys_internal.h"

static bool type_known(uint32_t type)
{
	return type == MMK_MEM_USABLE || type == MMK_MEM_RESERVED || type == MMK_MEM_BOOT;
}

/* Frames fully inside r: [*s, *e), possibly empty. */
static void range_inward(const struct mmk_mem_range *r, pfn_t *s, pfn_t *e)
{
	*s = (r->base >> MMK_PAGE_SHIFT) + ((r->base & MMK_PAGE_MASK) != 0);
	*e = (r->base + r->len) >> MMK_PAGE_SHIFT;
}

/* Frames touched by r: [*s, *e), never empty for a valid range.  Written
 * without adding a page first so a range ending near 2^64 cannot wrap. */
static void range_outward(const struct mmk_mem_range *r, pfn_t *s, pfn_t *e)
{
	paddr_t end = r->base + r->len;

	*s = r->base >> MMK_PAGE_SHIFT;
	*e = (end >> MMK_PAGE_SHIFT) + ((end & MMK_PAGE_MASK) != 0);
}

/* The frames a range covers under its type's rounding rule. */
static void range_frames(const struct mmk_mem_range *r, pfn_t *s, pfn_t *e)
{
	if (r->type == MMK_MEM_USABLE)
		range_inward(r, s, e);
	else
		range_outward(r, s, e);
}

static int validate(const struct mmk_mem_range *map, size_t n)
{
	if (!map || n == 0)
		return -MMK_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (map[i].len == 0 || map[i].len > UINT64_MAX - map[i].base)
			return -MMK_EINVAL;
		if (!type_known(map[i].type))
			return -MMK_EINVAL;
	}
	return 0;
}

/* Span of RAM (usable after trimming, and boot): what the database covers.
 * -MMK_EINVAL when no usable range holds a whole page. */
static int ram_span(const struct mmk_mem_range *map, size_t n, pfn_t *lo, pfn_t *hi)
{
	bool usable = false;

	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < n; i++) {
		pfn_t s, e;

		if (map[i].type == MMK_MEM_RESERVED)
			continue;
		range_frames(&map[i], &s, &e);
		if (s >= e)
			continue;
		usable |= map[i].type == MMK_MEM_USABLE;
		*lo = s < *lo ? s : *lo;
		*hi = e > *hi ? e : *hi;
	}
	return usable ? 0 : -MMK_EINVAL;
}

/* Lower top below the first reserved/boot range that overlaps
 * [top - need, top); false when nothing overlaps. */
static bool blocked(const struct mmk_mem_range *map, size_t n, uint64_t need, pfn_t *top)
{
	for (size_t i = 0; i < n; i++) {
		pfn_t s, e;

		if (map[i].type == MMK_MEM_USABLE)
			continue;
		range_frames(&map[i], &s, &e);
		if (s < *top && e > *top - need) {
			*top = s;
			return true;
		}
	}
	return false;
}

/*
 * Highest start for `need` frames inside usable range u, ending at or below
 * limit, clear of every reserved and boot range.  Each blocker lowers the
 * top strictly below itself, so it is met at most once: O(n^2) per range.
 */
static bool slot_in(const struct mmk_mem_range *map, size_t n, const struct mmk_mem_range *u, uint64_t need,
		    pfn_t limit, pfn_t *slot)
{
	pfn_t s, top;

	range_inward(u, &s, &top);
	if (top > limit)
		top = limit;
	for (;;) {
		if (top < s || top - s < need)
			return false;
		if (!blocked(map, n, need, &top))
			break;
	}
	*slot = top - need;
	return true;
}

/* Highest slot over all usable ranges, ending at or below limit. */
static bool find_slot(const struct mmk_mem_range *map, size_t n, uint64_t need, pfn_t limit, pfn_t *slot)
{
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		pfn_t cand;

		if (map[i].type != MMK_MEM_USABLE || !slot_in(map, n, &map[i], need, limit, &cand))
			continue;
		if (!found || cand > *slot)
			*slot = cand;
		found = true;
	}
	return found;
}

int phys_map_plan(const struct mmk_mem_range *map, size_t n, struct phys_plan *plan)
{
	pfn_t lo, hi;
	uint64_t bytes;
	int err;

	err = validate(map, n);
	if (err)
		return err;
	err = ram_span(map, n, &lo, &hi);
	if (err)
		return err;
	/* Links are 32-bit indices and UINT32_MAX is the list terminator. */
	if (hi - lo > UINT32_MAX)
		return -MMK_ERANGE;
	bytes = (hi - lo) * sizeof(struct mmk_frame);
	plan->base_pfn = lo;
	plan->end_pfn = hi;
	plan->db_pages = (bytes + MMK_PAGE_MASK) >> MMK_PAGE_SHIFT;
	/* Below 4 GiB first: DMA32 devices and 32-bit boot code can reach it. */
	if (find_slot(map, n, plan->db_pages, PHYS_DMA32_END_PFN, &plan->db_pfn))
		return 0;
	if (find_slot(map, n, plan->db_pages, UINT64_MAX, &plan->db_pfn))
		return 0;
	return -MMK_ENOMEM;
}

/* Set state/owner of the frames of [s, e) that the database covers. */
static void stamp(struct phys *ph, pfn_t s, pfn_t e, unsigned state, unsigned owner)
{
	if (s < ph->base_pfn)
		s = ph->base_pfn;
	if (e > ph->end_pfn)
		e = ph->end_pfn;
	for (pfn_t p = s; p < e; p++) {
		struct mmk_frame *f = phys_fr(ph, p);

		f->state = (uint8_t)state;
		f->owner = (uint8_t)owner;
	}
}

/* One pass per type, lowest precedence first, so overlaps resolve to the
 * type that wins. */
void phys_map_stamp(struct phys *ph, const struct mmk_mem_range *map, size_t n)
{
	static const uint32_t order[3] = { MMK_MEM_USABLE, MMK_MEM_BOOT, MMK_MEM_RESERVED };
	static const uint8_t state[3] = { PHYS_FRAME_PENDING, MMK_FRAME_RESERVED, MMK_FRAME_ABSENT };
	static const uint8_t owner[3] = { MMK_OWNER_NONE, MMK_OWNER_BOOT, MMK_OWNER_NONE };

	for (unsigned pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < n; i++) {
			pfn_t s, e;

			if (map[i].type != order[pass])
				continue;
			range_frames(&map[i], &s, &e);
			stamp(ph, s, e, state[pass], owner[pass]);
		}
	}
}
