/*
 * vm/attrib.c - memory attribution, as Linux's smaps (Rss, Pss, USS) and
 * Zircon's RFC 0254 (shared memory charged fractionally).
 *
 * 1. Per space: a translation of a user frame counts fully in RSS, 1/n in
 *    PSS when n translations (in all spaces: mmk_frame.refcount) map the
 *    frame, and in USS only when it is the only one.  PSS keeps
 *    VM_PSS_SHIFT fractional bits, as Linux's PSS_SHIFT.
 * 2. System-wide: every user frame (vm_system.user_frames) is an anon's or
 *    an object's.  A mapped frame's shares over all spaces sum to one
 *    frame; the frames no translation maps are object pages kept without a
 *    mapping (the page cache, Linux's Cached) or anons brought back from
 *    swap by one sharer of a copy-on-write page that the others do not map
 *    (Linux's swap cache).  So
 *        sum(PSS) + page cache + unmapped anons == user frames,
 *    which vm_system_attribution re-derives from the translations, the
 *    amaps and the objects' pages, independently of the user_frames
 *    counter: a frame counted twice or leaked breaks the identity.
 * 3. Locking: one space lock at a time; objects unlocked (single CPU in the
 *    VM, docs/locking.md).
 */
#include "vm/vm_internal.h"

struct attrib_walk {
	struct phys *phys;
	struct vm_attribution *out;
	uint64_t translations;
};

static void count_page(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct attrib_walk *w = ctx;
	(void)va;
	(void)bits;
	const struct mmk_frame *f = phys_frame(w->phys, mmk_paddr_to_pfn(pa));
	if (!f || f->owner != MMK_OWNER_USER || f->state != MMK_FRAME_ALLOCATED || !f->refcount)
		return; /* device memory (a PHYS object's frames): not user memory */
	uint32_t n = f->refcount;
	w->out->rss_bytes += MMK_PAGE_SIZE;
	w->out->pss_scaled += ((uint64_t)MMK_PAGE_SIZE << VM_PSS_SHIFT) / n;
	if (n == 1)
		w->out->uss_bytes += MMK_PAGE_SIZE;
	w->translations++;
}

/* The attribution of as; *translations = the user-frame translations seen. */
static void space_attribution(struct vm_space *as, struct vm_attribution *out, uint64_t *translations)
{
	mmk_memset(out, 0, sizeof(*out));
	*translations = 0;
	if (as->sys->nommu)
		return;
	struct attrib_walk w = { as->sys->phys, out, 0 };
	hal_spin_lock(&as->lock);
	pmap_walk(&as->pmap, 0, PMAP_USER_END, count_page, &w);
	hal_spin_unlock(&as->lock);
	out->pss_bytes = out->pss_scaled >> VM_PSS_SHIFT;
	*translations = w.translations;
}

void vm_space_attribution(struct vm_space *as, struct vm_attribution *out)
{
	uint64_t translations;
	space_attribution(as, out, &translations);
}

/* Resident anons in v's slots that no translation maps, each counted
 * 1/refcount (once per amap slot naming it), scaled: a page brought back
 * from swap by one sharer of a copy-on-write page is not mapped by the
 * others (Linux keeps such pages in its swap cache). */
static uint64_t unmapped_anons_scaled(struct vm_space *as, const struct vm_area *v)
{
	uint64_t n = 0, key = v->amap_slot, end = vma_slot(v, v->end);
	const struct vm_anon *a;
	while ((a = radix_next(&v->amap->slots, key, &key)) && key < end) {
		if (!a->swapped && phys_frame(as->sys->phys, a->pfn)->refcount == 0)
			n += ((uint64_t)MMK_PAGE_SIZE << VM_PSS_SHIFT) / a->refcount;
		key++;
	}
	return n;
}

static uint64_t space_unmapped_anons_scaled(struct vm_space *as)
{
	uint64_t n = 0;
	hal_spin_lock(&as->lock);
	for (const struct vm_area *v = vma_of(rb_first(&as->vmas)); v; v = vma_next(v))
		if (v->amap)
			n += unmapped_anons_scaled(as, v);
	hal_spin_unlock(&as->lock);
	return n;
}

/* Resident pages of obj that no translation maps. */
static uint64_t unmapped_pages(struct vm_system *sys, const struct vm_object *obj)
{
	if (obj->type == VM_OBJECT_PHYS || sys->nommu)
		return 0;
	uint64_t n = 0, key = 0;
	void *e;
	while ((e = radix_next(&obj->pages, key, &key))) {
		pfn_t pfn;
		if (vm_object_entry_frame(e, &pfn) && phys_frame(sys->phys, pfn)->refcount == 0)
			n++;
		if (++key == 0)
			break;
	}
	return n;
}

void vm_system_attribution(struct vm_system *sys, struct vm_system_attribution *out)
{
	mmk_memset(out, 0, sizeof(*out));
	out->user_frames_bytes = sys->user_frames << MMK_PAGE_SHIFT;
	uint64_t pss_scaled = 0, anon_scaled = 0;
	for (struct vm_space *as = sys->space_list; as && !sys->nommu; as = as->next_space) {
		struct vm_attribution a;
		uint64_t t;
		space_attribution(as, &a, &t);
		pss_scaled += a.pss_scaled;
		out->translations += t;
		anon_scaled += space_unmapped_anons_scaled(as);
	}
	/* Whole frames: the true sum is a whole number of frames; each share
	 * was rounded down by less than one unit. */
	const uint64_t frame_scaled = (uint64_t)MMK_PAGE_SIZE << VM_PSS_SHIFT;
	uint64_t mapped_frames = (pss_scaled + frame_scaled / 2) / frame_scaled;
	out->pss_bytes_total = mapped_frames << MMK_PAGE_SHIFT;
	out->shared_frames_saved = out->translations - mapped_frames;
	out->anon_unmapped_bytes = ((anon_scaled + frame_scaled / 2) / frame_scaled) << MMK_PAGE_SHIFT;
	for (const struct vm_object *o = sys->objects; o; o = o->sys_next)
		out->page_cache_bytes += unmapped_pages(sys, o) << MMK_PAGE_SHIFT;
}
