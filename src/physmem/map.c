/*
 * physmem/map.c - maps of containers (seed 001: "a task must first map the
 * contents of a container into its virtual address space").
 *
 * A view is one external vm_object (src/vm/external.c) for the container's
 * owner, and one per weak share, so a cancelled share's maps can be taken
 * alone.  Its page source looks the faulting page up in the container's
 * B-tree under pm->lock (held inside the faulting space's lock): a page
 * with no entry faults with -MMK_EFAULT (SIGBUS); a write to a
 * copy-on-write page copies it first (copy.c); a read of one maps it
 * read-only.  Maps are not persistent: physmem removes translations
 * whenever it changes or moves a frame (pm_zap), and clients re-fault.
 */
#include "physmem_internal.h"

/* The container a view reaches now, or NULL (cut off, share cancelled). */
static struct container *view_container(const struct pm_view *v)
{
	if (!v->c || v->c->dead || (v->share && v->share->cancelled))
		return NULL;
	return v->c;
}

static int view_page(void *ctx, struct vm_space *as, uint64_t pgoff, unsigned access, pfn_t *pfn, bool *writable)
{
	struct pm_view *v = ctx;
	struct physmem *pm = v->c ? v->c->pm : NULL;
	if (!pm)
		return -MMK_EFAULT;
	hal_spin_lock(&pm->lock);
	struct container *c = view_container(v);
	struct pm_entry *e = c ? entry_of_item(btree_lookup(&c->entries, pgoff)) : NULL;
	int rc = e ? 0 : -MMK_EFAULT;
	if (!rc && (access & PMAP_ACCESS_WRITE) && entry_page_cow(e, pgoff)) {
		rc = pm_replace_locked(c, pgoff, 1, true, as); /* copy-on-write break */
		e = rc ? NULL : entry_of_item(btree_lookup(&c->entries, pgoff));
		if (!rc)
			pm->cow_breaks++;
	}
	if (!rc) {
		*pfn = entry_pfn(e, pgoff);
		*writable = !entry_page_cow(e, pgoff);
	}
	hal_spin_unlock(&pm->lock);
	return rc;
}

static const char *view_check(void *ctx, uint64_t pgoff, pfn_t pfn, unsigned bits)
{
	struct pm_view *v = ctx;
	struct physmem *pm = v->c ? v->c->pm : NULL;
	if (!pm)
		return "physmem: translation through a view that was cut off";
	const char *why = NULL;
	hal_spin_lock(&pm->lock);
	struct container *c = view_container(v);
	struct pm_entry *e = c ? entry_of_item(btree_lookup(&c->entries, pgoff)) : NULL;
	if (!c)
		why = "physmem: translation of a dead container or cancelled share";
	else if (e && entry_pfn(e, pgoff) == pfn)
		why = (bits & PMAP_PROT_WRITE) && entry_page_cow(e, pgoff)
			      ? "physmem: writable translation of a copy-on-write page"
			      : NULL;
	else {
		why = "physmem: translation of a container page that is not its frame";
		struct mmk_list *l;
		mmk_list_for_each(l, &c->parked) {
			const struct pm_entry *p = mmk_list_entry(l, struct pm_entry, link);
			if (p->start <= pgoff && pgoff < entry_end(p) && entry_pfn(p, pgoff) == pfn)
				why = (bits & PMAP_PROT_WRITE) ? "physmem: writable translation of a deallocated page" : NULL;
		}
	}
	hal_spin_unlock(&pm->lock);
	return why;
}

void view_init(struct pm_view *v, struct container *c, struct container_share *s)
{
	v->c = c;
	v->share = s;
	v->obj = NULL;
}

void view_cut(struct physmem *pm, struct pm_view *v)
{
	if (v->obj) {
		vm_object_detach_source(v->obj);
		vm_object_release(pm->vm, v->obj);
		v->obj = NULL;
	}
	v->c = NULL;
}

int view_zap(struct physmem *pm, struct pm_view *v, uint64_t first, uint64_t n,
		    bool (*filter)(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits), void *ctx,
		    struct vm_space *held)
{
	if (!v->obj || !pm->vm)
		return 0;
	return vm_object_zap(pm->vm, v->obj, first, n, filter, ctx, held);
}

int pm_zap(struct container *c, uint64_t first, uint64_t n,
	   bool (*filter)(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits), void *ctx, struct vm_space *held)
{
	int rc = view_zap(c->pm, &c->view, first, n, filter, ctx, held);
	struct mmk_list *l;
	mmk_list_for_each(l, &c->shares) {
		int r = view_zap(c->pm, &mmk_list_entry(l, struct container_share, link)->view, first, n, filter, ctx,
				 held);
		rc = rc ? rc : r;
	}
	return rc;
}

int pm_zap_frame(struct physmem *pm, struct pm_frame *f, struct vm_space *held)
{
	struct mmk_list *l;
	int rc = 0;
	(void)pm;
	mmk_list_for_each(l, &f->entries) {
		struct pm_entry *e = mmk_list_entry(l, struct pm_entry, frame_link);
		int r = pm_zap(e->c, e->start, e->npages, NULL, NULL, held);
		rc = rc ? rc : r;
	}
	return rc;
}

/* The view a ref maps through (the share's for a weak ref). */
static struct pm_view *ref_view(struct container_ref r, struct container *c)
{
	return r.share ? &r.share->view : &c->view;
}

int container_map(struct container_ref r, struct vm_space *as, vaddr_t hint, uint64_t offset, uint64_t len,
		  unsigned prot, unsigned flags, vaddr_t *out)
{
	struct physmem *pm = pm_of_ref(r);
	uint64_t first, n;
	if (!pm || !as || !out || pm_pages(offset, len, &first, &n) || (prot & ~VM_PROT_ALL))
		return -MMK_EINVAL;
	if (!pm->vm || pm->vm->nommu)
		return -MMK_ENOSYS;
	hal_spin_lock(&pm->lock);
	struct container *c;
	int rc = pm_resolve(r, PM_MAP, &c);
	unsigned rights = r.share ? r.rights & r.share->rights : r.rights;
	unsigned max_prot = ((rights & PM_READ) ? VM_PROT_READ | VM_PROT_EXEC : 0) |
			    ((rights & PM_WRITE) ? VM_PROT_WRITE | VM_PROT_READ : 0);
	if (!rc && (prot & ~max_prot))
		rc = -MMK_EACCES;
	struct pm_view *v = rc ? NULL : ref_view(r, c);
	if (v && !v->obj) {
		struct vm_page_source src = { view_page, view_check, v };
		rc = vm_object_create_external(pm->vm, "[container]", PM_PAGE_LIMIT, &src, &v->obj);
	}
	struct vm_object *obj = rc ? NULL : v->obj;
	if (obj)
		vm_object_ref(obj); /* keeps it while the lock is dropped for vm_map */
	hal_spin_unlock(&pm->lock);
	if (rc)
		return rc;
	/* vm_map takes the space lock, which ranks above pm->lock. */
	rc = vm_map(as, hint, len, prot, VM_MAP_SHARED | (flags & ~VM_MAP_TYPE), obj, offset, max_prot, out);
	hal_spin_lock(&pm->lock);
	vm_object_release(pm->vm, obj);
	hal_spin_unlock(&pm->lock);
	return rc;
}
