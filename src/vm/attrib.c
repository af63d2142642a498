/*
 * vm/attrib.c - memory attribution of an address space, as Linux's smaps
 * (Rss, Pss, USS) and Zircon's RFC 0254 (shared memory charged fractionally):
 * a resident page counts fully in RSS, 1/n in PSS when n translations (in
 * all spaces) map its frame, and in USS only when this is the only one.
 * PSS uses 12 fractional bits, as Linux's PSS_SHIFT.
 */
#include "vm/vm_internal.h"

#define PSS_SHIFT 12

struct attrib_walk {
	struct phys *phys;
	struct vm_attribution *out;
	uint64_t pss_scaled;
};

static void count_page(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct attrib_walk *w = ctx;
	(void)va;
	if (!(bits & PMAP_PROT_ALL))
		return; /* an inaccessible translation is not resident use */
	const struct mmk_frame *f = phys_frame(w->phys, mmk_paddr_to_pfn(pa));
	uint32_t n = f ? f->refcount : 1; /* device memory: counted as private */
	w->out->rss_bytes += MMK_PAGE_SIZE;
	w->pss_scaled += (MMK_PAGE_SIZE << PSS_SHIFT) / (n ? n : 1);
	if (n <= 1)
		w->out->uss_bytes += MMK_PAGE_SIZE;
}

void vm_space_attribution(struct vm_space *as, struct vm_attribution *out)
{
	mmk_memset(out, 0, sizeof(*out));
	if (as->sys->nommu)
		return;
	struct attrib_walk w = { as->sys->phys, out, 0 };
	hal_spin_lock(&as->lock);
	pmap_walk(&as->pmap, 0, PMAP_USER_END, count_page, &w);
	hal_spin_unlock(&as->lock);
	out->pss_bytes = w.pss_scaled >> PSS_SHIFT;
}
