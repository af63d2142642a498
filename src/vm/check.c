/*
 * vm/check.c - vm_check: re-derive every invariant of an address space
 * (FreeBSD's vm_map checks and OpenBSD's map sanity are the model).
 */
#include "vm/vm_internal.h"

static bool augment_ok(const struct rb_node *n)
{
	const struct vm_area *v = vma_of(n);
	vaddr_t m = v->gap_below;
	if (n->left && vma_of(n->left)->max_gap > m)
		m = vma_of(n->left)->max_gap;
	if (n->right && vma_of(n->right)->max_gap > m)
		m = vma_of(n->right)->max_gap;
	return m == v->max_gap;
}

static const char *check_vma(const struct vm_space *as, const struct vm_area *v, const struct vm_area *prev)
{
	if (!mmk_page_aligned(v->start) || !mmk_page_aligned(v->end))
		return "vm: VMA bounds not page-aligned";
	if (v->start >= v->end)
		return "vm: empty or inverted VMA";
	if (v->end > PMAP_USER_END)
		return "vm: VMA beyond the user address space";
	if (prev && prev->end > v->start)
		return "vm: VMAs overlap or are out of order";
	if (v->gap_below != vma_gap_below(as, v, prev))
		return "vm: stale gap_below";
	if ((v->prot & ~VM_PROT_ALL) || (v->max_prot & ~VM_PROT_ALL))
		return "vm: unknown protection bits";
	if (v->prot & ~v->max_prot)
		return "vm: protection beyond max_prot";
	if (v->object && v->object->refcount == 0)
		return "vm: VMA maps a freed object";
	if ((v->flags & VMA_SHARED) && !v->object)
		return "vm: shared VMA without an object";
	if (v->space != as)
		return "vm: VMA does not name the space holding it";
	if (v->object && !vm_object_maps(v->object, v))
		return "vm: VMA missing from its object's mappings";
	return NULL;
}

/* Whose page does the translation of va in v map?  A shared VMA maps its
 * object's page; a private one its anon's, else (read-only) its object's;
 * a writable private translation needs an anon no one else shares. */
static const char *check_page_owner(const struct vm_area *v, vaddr_t va, pfn_t pfn, unsigned bits)
{
	pfn_t op;
	bool obj_page = v->object && vm_object_lookup(v->object, vma_pgoff(v, va), &op) && op == pfn;
	if (v->flags & VMA_SHARED)
		return obj_page ? NULL : "vm: shared translation is not its object's page";
	const struct vm_anon *a = vm_amap_lookup(v->amap, vma_slot(v, va));
	if (a) {
		if (a->swapped)
			return "vm: translation of a swapped-out anon";
		if (a->pfn != pfn)
			return "vm: private translation is not its anon's page";
		if ((bits & PMAP_PROT_WRITE) && a->refcount != 1)
			return "vm: writable translation of a shared anon (copy-on-write broken)";
		return NULL;
	}
	if (!obj_page)
		return "vm: private translation maps neither an anon nor its object's page";
	return (bits & PMAP_PROT_WRITE) ? "vm: writable translation of a file page in a private mapping" : NULL;
}

/* Every anon in v's slots is alive and owns an allocated user frame. */
static const char *check_anons(struct vm_space *as, const struct vm_area *v)
{
	if (!v->amap)
		return NULL;
	if (v->amap->refcount == 0)
		return "vm: VMA refers to a freed amap";
	const char *why = NULL;
	if (radix_check(&v->amap->slots, &why))
		return why;
	uint64_t key = v->amap_slot, end = vma_slot(v, v->end);
	const struct vm_anon *a;
	while ((a = radix_next(&v->amap->slots, key, &key)) && key < end) {
		const struct mmk_frame *f = a->swapped ? NULL : phys_frame(as->sys->phys, a->pfn);
		if (a->swapped && a->refcount) {
			key++;
			continue; /* its bytes are in the swap pager */
		}
		if (a->refcount == 0 || !f || f->state != MMK_FRAME_ALLOCATED || f->owner != MMK_OWNER_USER)
			return "vm: amap slot names a dead anon or a frame that is not a user frame";
		key++;
	}
	return NULL;
}

struct pte_walk {
	struct vm_space *as;
	const char *why;
	uint64_t seen;
};

static void check_pte(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct pte_walk *w = ctx;
	w->seen++;
	if (w->why)
		return;
	const struct vm_area *v = vma_find(w->as, va);
	if (!v) {
		w->why = "vm: translation outside every VMA";
		return;
	}
	unsigned allowed = (v->flags & VMA_DEAD) ? PMAP_PROT_NONE : vm_pte_prot(v->prot);
	if ((bits & PMAP_PROT_ALL) & ~allowed)
		w->why = "vm: translation stronger than its VMA allows";
	struct mmk_frame *f = phys_frame(w->as->sys->phys, mmk_paddr_to_pfn(pa));
	if (v->object && v->object->type == VM_OBJECT_EXTERNAL) /* frames lent by a source: it knows */
		w->why = v->object->source.check ? v->object->source.check(v->object->source.ctx, vma_pgoff(v, va),
									     mmk_paddr_to_pfn(pa), bits)
						 : "vm: translation of a detached external object";
	else if (v->object && v->object->type == VM_OBJECT_PHYS)
		w->why = check_page_owner(v, va, mmk_paddr_to_pfn(pa), bits); /* device memory */
	else if (!f || f->state != MMK_FRAME_ALLOCATED || f->refcount == 0)
		w->why = "vm: translation to a frame that is not an allocated user frame";
	else
		w->why = check_page_owner(v, va, mmk_paddr_to_pfn(pa), bits);
}

int vm_check(struct vm_space *as, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (as->sys->nommu && as != as->sys->shared_map) {
		/* Non-MMU mode: a space's VMAs live in the shared map. */
		int rc = vm_check(as->sys->shared_map, why);
		return rc ? rc : nommu_check(as, why);
	}
	hal_spin_lock(&as->lock);
	int rc = rb_check(&as->vmas, augment_ok, why);
	uint64_t pages = 0, dead = 0;
	const struct vm_area *prev = NULL;
	for (struct vm_area *v = vma_of(rb_first(&as->vmas)); !rc && v; prev = v, v = vma_next(v)) {
		const char *bad = check_vma(as, v, prev);
		if (!bad)
			bad = check_anons(as, v);
		if (bad) {
			*why = bad;
			rc = -MMK_EINVAL;
		}
		pages += vma_pages(v);
		dead += (v->flags & VMA_DEAD) != 0;
	}
	if (!rc && pages != as->mapped_pages) {
		*why = "vm: mapped_pages differs from the sum of VMA sizes";
		rc = -MMK_EINVAL;
	}
	if (!rc && dead != as->dead_vmas) {
		*why = "vm: dead_vmas differs from recount";
		rc = -MMK_EINVAL;
	}
	if (!rc && !as->sys->nommu) {
		struct pte_walk w = { as, NULL, 0 };
		pmap_walk(&as->pmap, 0, PMAP_USER_END, check_pte, &w);
		if (w.why) {
			*why = w.why;
			rc = -MMK_EINVAL;
		} else if (w.seen != as->pmap.resident) {
			*why = "vm: pmap resident count differs from a walk";
			rc = -MMK_EINVAL;
		}
	}
	if (!rc && !as->sys->nommu)
		rc = pmap_check(&as->pmap, why);
	if (!rc && as->brk < as->start_brk) {
		*why = "vm: brk below start_brk";
		rc = -MMK_EINVAL;
	}
	const char *bad = rc ? NULL : vm_charge_check_locked(as); /* issue 5: charges (charge.c) */
	if (bad) {
		*why = bad;
		rc = -MMK_EINVAL;
	}
	hal_spin_unlock(&as->lock);
	return rc;
}
