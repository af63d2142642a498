/*
 * physmem/frame.c - frames: seed 001's per-frame state.
 *
 * A frame is one aligned power-of-two block from the buddy allocator; the
 * entries that name it (per-mapping state) each cover some of its pages.
 * Its reference count is the number of entries.  When an entry goes, the
 * pages no remaining entry covers return to the allocator at once ("partial
 * deallocation of a shared frame frees only what no other entry uses"):
 *
 *   The physical blocks a frame holds are always the canonical cover of U,
 *   the union of its entries' page ranges: starting from the whole block,
 *   a block U covers fully is held whole, a block U misses is free, and a
 *   block U covers in part is split (phys_split) into its two buddies,
 *   which are treated the same way.  U only ever shrinks (a new entry names
 *   pages some entry already names), so dropping an entry frees exactly
 *   the blocks of the old cover that the new cover lacks, splitting blocks
 *   that became partly covered.  A split frame is "holey": it leaves the
 *   frame index and is never migrated (its pages are no longer one block).
 */
#include "physmem_internal.h"

enum { COVER_NONE, COVER_PART, COVER_FULL };

struct pm_frame *frame_alloc(struct physmem *pm)
{
	struct pm_frame *f = kmem_cache_alloc(&pm->frame_cache);
	if (!f)
		return NULL;
	mmk_memset(f, 0, sizeof(*f));
	mmk_list_init(&f->entries);
	pm->nframes++;
	return f;
}

void frame_free_struct(struct physmem *pm, struct pm_frame *f)
{
	pm->nframes--;
	kmem_cache_free(&pm->frame_cache, f);
}

int frame_get_block(struct physmem *pm, struct pm_frame *f, unsigned order, unsigned zone_flags, bool zero)
{
	pfn_t pfn;
	int rc = phys_alloc(pm->phys, order, PHYS_USER | zone_flags | (zero ? PHYS_ZERO : 0), &pfn);
	if (rc)
		return rc;
	f->pfn = pfn;
	f->order = (uint8_t)order;
	f->whole = true;
	pm->frame_pages += pm_order_pages(order);
	return 0;
}

void frame_index(struct physmem *pm, struct pm_frame *f)
{
	/* Cannot fail: the caller preloaded pm->frames and the block is ours. */
	if (btree_insert(&pm->frames, f->pfn, pm_order_pages(f->order), f) == 0)
		f->indexed = true;
}

void frame_unindex(struct physmem *pm, struct pm_frame *f)
{
	if (f->indexed)
		btree_remove(&pm->frames, f->pfn);
	f->indexed = false;
}

void frame_attach(struct pm_frame *f, struct pm_entry *e)
{
	e->frame = f;
	mmk_list_push_back(&f->entries, &e->frame_link);
	f->refs++;
}

/* How the entries of f other than skip cover frame pages [base, base + len). */
static int coverage(const struct pm_frame *f, uint64_t base, uint64_t len, const struct pm_entry *skip)
{
	const struct mmk_list *l;
	bool any = false;
	uint64_t end = base + len;
	mmk_list_for_each(l, &f->entries) {
		const struct pm_entry *e = mmk_list_entry(l, struct pm_entry, frame_link);
		if (e != skip && e->frame_off < end && base < e->frame_off + e->npages)
			any = true;
	}
	if (!any)
		return COVER_NONE;
	for (uint64_t pos = base; pos < end;) {
		uint64_t reach = pos;
		mmk_list_for_each(l, &f->entries) {
			const struct pm_entry *e = mmk_list_entry(l, struct pm_entry, frame_link);
			if (e != skip && e->frame_off <= pos && pos < e->frame_off + e->npages &&
			    e->frame_off + e->npages > reach)
				reach = e->frame_off + e->npages;
		}
		if (reach == pos)
			return COVER_PART;
		pos = reach;
	}
	return COVER_FULL;
}

/* Free the blocks of the current cover inside [base, base + 2^order). */
static void free_held(struct physmem *pm, struct pm_frame *f, uint64_t base, unsigned order)
{
	int cov = coverage(f, base, pm_order_pages(order), NULL);
	if (cov == COVER_NONE)
		return;
	if (cov == COVER_FULL) {
		phys_free(pm->phys, f->pfn + base, order);
		pm->frame_pages -= pm_order_pages(order);
		return;
	}
	free_held(pm, f, base, order - 1);
	free_held(pm, f, base + pm_order_pages(order - 1), order - 1);
}

/* Bring the blocks of [base, base + 2^order) from the cover with skip to
 * the cover without it. */
static void trim(struct physmem *pm, struct pm_frame *f, uint64_t base, unsigned order, const struct pm_entry *skip)
{
	uint64_t len = pm_order_pages(order);
	int old = coverage(f, base, len, NULL);
	if (old == COVER_NONE)
		return;
	int now = coverage(f, base, len, skip);
	if (now == COVER_FULL)
		return;
	if (now == COVER_NONE) {
		free_held(pm, f, base, order);
		return;
	}
	if (old == COVER_FULL) {
		phys_split(pm->phys, f->pfn + base, order);
		if (f->whole) {
			frame_unindex(pm, f);
			f->whole = false;
		}
	}
	trim(pm, f, base, order - 1, skip);
	trim(pm, f, base + pm_order_pages(order - 1), order - 1, skip);
}

void frame_detach(struct physmem *pm, struct pm_entry *e)
{
	struct pm_frame *f = e->frame;
	trim(pm, f, 0, f->order, e);
	mmk_list_remove(&e->frame_link);
	e->frame = NULL;
	if (--f->refs)
		return;
	frame_unindex(pm, f);
	frame_free_struct(pm, f);
}

bool frame_range_shared(const struct pm_frame *f, uint64_t fpage, uint64_t n, const struct pm_entry *skip)
{
	const struct mmk_list *l;
	mmk_list_for_each(l, &f->entries) {
		const struct pm_entry *e = mmk_list_entry(l, struct pm_entry, frame_link);
		if (e != skip && e->frame_off < fpage + n && fpage < e->frame_off + e->npages)
			return true;
	}
	return false;
}

bool frame_page_shared(const struct pm_frame *f, uint64_t fpage, const struct pm_entry *skip)
{
	return frame_range_shared(f, fpage, 1, skip);
}

bool entry_page_cow(const struct pm_entry *e, uint64_t pg)
{
	return e->frame->cow && frame_page_shared(e->frame, e->frame_off + (pg - e->start), e);
}

pfn_t entry_pfn(const struct pm_entry *e, uint64_t pg) { return e->frame->pfn + e->frame_off + (pg - e->start); }

void *entry_page_ptr(struct physmem *pm, const struct pm_entry *e, uint64_t pg)
{
	return phys_frame_ptr(pm->phys, entry_pfn(e, pg));
}

bool frame_pinned(const struct physmem *pm, const struct pm_frame *f) { return f->pin_until > pm->now; }
