/*
 * vm/object.c - memory objects (Mach, seed 003): a named, reference-counted
 * set of pages by offset, shared by every mapping of it.  A shared mapping
 * reads and writes the object's pages, so sharers see each other's writes;
 * a private mapping reads them and copies on its first write.  Pages are
 * made zero when first needed (no pager yet: issue 3 brings file and swap
 * pagers).  The object owns its frames; translations of them are counted in
 * mmk_frame.refcount, and the object is destroyed (frames freed) with its
 * last reference, after every mapping of it is gone.
 */
#include "vm/vm_internal.h"

/* Frame numbers are stored as tagged non-NULL pointers in the radix tree. */
static void *encode(pfn_t pfn) { return (void *)(uintptr_t)((pfn << 1) | 1); }
static pfn_t decode(void *v) { return (pfn_t)((uintptr_t)v >> 1); }

int vm_object_create(struct vm_system *sys, uint32_t type, const char *name, struct vm_object **out)
{
	if (type < VM_OBJECT_ANON || type > VM_OBJECT_PHYS)
		return -MMK_EINVAL;
	struct vm_object *o = kmem_cache_alloc(&sys->object_cache);
	if (!o)
		return -MMK_ENOMEM;
	o->refcount = 1;
	o->type = type;
	o->name = name;
	radix_init(&o->pages, &sys->radix_cache);
	radix_init(&o->charges, &sys->radix_cache); /* who pays for each page (charge.c) */
	*out = o;
	return 0;
}

void vm_object_ref(struct vm_object *obj) { obj->refcount++; }

void vm_object_set_pager(struct vm_object *obj, const struct vm_file_pager *pager) { obj->pager = *pager; }

void vm_object_release(struct vm_system *sys, struct vm_object *obj)
{
	if (--obj->refcount)
		return;
	uint64_t key;
	void *v;
	while ((v = radix_next(&obj->pages, 0, &key))) {
		radix_remove(&obj->pages, key);
		phys_free(sys->phys, decode(v), 0);
		vm_object_uncharge_page(obj, key);
		sys->user_frames--;
	}
	radix_destroy(&obj->pages);
	radix_destroy(&obj->charges);
	kmem_cache_free(&sys->object_cache, obj);
}

bool vm_object_lookup(const struct vm_object *obj, uint64_t pgoff, pfn_t *pfn)
{
	if (obj->type == VM_OBJECT_PHYS) {
		*pfn = obj->phys_base + pgoff;
		return pgoff < (obj->size >> MMK_PAGE_SHIFT);
	}
	void *v = radix_lookup(&obj->pages, pgoff);
	if (v)
		*pfn = decode(v);
	return v != NULL;
}

int vm_object_create_phys(struct vm_system *sys, const char *name, pfn_t base, uint64_t npages,
			  struct vm_object **out)
{
	if (npages == 0 || base + npages < base)
		return -MMK_EINVAL;
	int rc = vm_object_create(sys, VM_OBJECT_PHYS, name, out);
	if (rc)
		return rc;
	(*out)->phys_base = base;
	(*out)->size = npages << MMK_PAGE_SHIFT;
	return 0;
}

int vm_object_page(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, pfn_t *out)
{
	if (obj->type == VM_OBJECT_PHYS) {
		/* Device memory: the frame is where it is; nothing to allocate. */
		if (pgoff >= (obj->size >> MMK_PAGE_SHIFT))
			return -MMK_EFAULT;
		*out = obj->phys_base + pgoff;
		return 0;
	}
	if (vm_object_lookup(obj, pgoff, out))
		return 0;
	pfn_t pfn;
	int rc = phys_alloc(sys->phys, 0, PHYS_USER | (obj->pager.read ? 0 : PHYS_ZERO), &pfn);
	if (rc)
		return rc;
	if (obj->pager.read) {
		rc = obj->pager.read(obj->pager.ctx, pgoff, phys_frame_ptr(sys->phys, pfn));
		if (rc) {
			phys_free(sys->phys, pfn, 0);
			return rc;
		}
	}
	rc = radix_insert(&obj->pages, pgoff, encode(pfn));
	if (rc) {
		phys_free(sys->phys, pfn, 0);
		return rc;
	}
	phys_frame(sys->phys, pfn)->private_data = 0;
	sys->user_frames++;
	sys->zero_fills++;
	*out = pfn;
	return 0;
}

void vm_object_forget(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff)
{
	void *v = radix_remove(&obj->pages, pgoff);
	if (!v)
		return;
	phys_free(sys->phys, decode(v), 0);
	vm_object_uncharge_page(obj, pgoff);
	sys->user_frames--;
}

uint64_t vm_object_resident(const struct vm_object *obj) { return radix_count(&obj->pages); }
