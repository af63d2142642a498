/*
 * vm/object.c - memory objects (Mach, seed 003): a named, reference-counted
 * set of pages by offset, shared by every mapping of it.
 *
 * 1. What: a shared mapping reads and writes the object's pages, so sharers
 *    see each other's writes; a private mapping reads them and copies on its
 *    first write.  A page comes from the file pager when the object has one
 *    (else it starts zero), and goes back to it under reclaim: a file page
 *    is written back if dirty and dropped; a page of shared anonymous memory
 *    (or of a file without a pager to write to) goes to the swap pager, its
 *    entry keeping the slot, and a later fault brings the bytes back.
 * 2. Structures: pages is a radix tree of entries (vm.h:
 *    vm_object_entry_frame): a resident frame with a dirty flag, or a swap
 *    slot.  mappings lists every VMA of every space that maps the object
 *    (Linux's i_mmap): reclaim and msync find each translation of a page
 *    through it, without a reverse map in the 24-byte frame descriptor.
 *    Every object is on vm_system.objects (attribution, page-cache clock).
 * 3. Invariants: the object owns its resident frames (user_frames counts
 *    them) and its swap slots; translations of its frames are counted in
 *    mmk_frame.refcount; a frame no translation maps is page cache.  A VMA
 *    is on obj->mappings exactly while it is in a space's tree (vm_check).
 *    The object is freed with its last reference, after every mapping.
 * 4. Locking: an object is used under the lock of the space whose call
 *    reaches it; several spaces sharing one object rely on the single-CPU
 *    VM of issue 3 (docs/locking.md, known gaps).
 * 5. Failure: a page-in that fails frees its frame and leaves the entry as
 *    it was; eviction is split into a step that may fail (the write) and
 *    one that cannot (vm_object_evicted).
 */
#include "vm/vm_internal.h"

#define ENTRY_FRAME 1u
#define ENTRY_DIRTY 2u

static void *frame_entry(pfn_t pfn, bool dirty)
{
	return (void *)(uintptr_t)((pfn << 2) | (dirty ? ENTRY_DIRTY : 0) | ENTRY_FRAME);
}
static void *swap_entry(uint64_t slot) { return (void *)(uintptr_t)((slot << 2) | 2u); }
static bool is_frame(const void *e) { return (uintptr_t)e & ENTRY_FRAME; }
static pfn_t entry_pfn(const void *e) { return (pfn_t)((uintptr_t)e >> 2); }
static uint64_t entry_slot(const void *e) { return (uint64_t)((uintptr_t)e >> 2); }

int vm_object_create(struct vm_system *sys, uint32_t type, const char *name, struct vm_object **out)
{
	if (type < VM_OBJECT_ANON || type > VM_OBJECT_PHYS)
		return -MMK_EINVAL;
	struct vm_object *o = kmem_cache_alloc(&sys->object_cache);
	if (!o)
		return -MMK_ENOMEM;
	mmk_memset(o, 0, sizeof(*o));
	o->refcount = 1;
	o->type = type;
	o->name = name;
	radix_init(&o->pages, &sys->radix_cache);
	o->sys_next = sys->objects;
	if (sys->objects)
		sys->objects->sys_prev = o;
	sys->objects = o;
	radix_init(&o->charges, &sys->radix_cache); /* who pays for each page (charge.c) */
	*out = o;
	return 0;
}

void vm_object_ref(struct vm_object *obj) { obj->refcount++; }

void vm_object_set_pager(struct vm_object *obj, const struct vm_file_pager *pager) { obj->pager = *pager; }

static void unlist(struct vm_system *sys, struct vm_object *obj)
{
	if (sys->cache_hand == obj) {
		sys->cache_hand = obj->sys_next;
		sys->cache_hand_pgoff = 0;
	}
	if (obj->sys_prev)
		obj->sys_prev->sys_next = obj->sys_next;
	else
		sys->objects = obj->sys_next;
	if (obj->sys_next)
		obj->sys_next->sys_prev = obj->sys_prev;
}

void vm_object_release(struct vm_system *sys, struct vm_object *obj)
{
	if (--obj->refcount)
		return;
	uint64_t key;
	void *e;
	while ((e = radix_next(&obj->pages, 0, &key))) {
		radix_remove(&obj->pages, key);
		if (!is_frame(e)) {
			sys->swap.release(sys->swap.ctx, entry_slot(e));
			continue;
		}
		/* A page left dirty by a failed write-back gets a last try. */
		if (((uintptr_t)e & ENTRY_DIRTY) && obj->pager.write &&
		    obj->pager.write(obj->pager.ctx, key, phys_frame_ptr(sys->phys, entry_pfn(e))) == 0)
			obj->writebacks++;
		phys_free(sys->phys, entry_pfn(e), 0);
		vm_object_uncharge_page(obj, key);
		sys->user_frames--;
	}
	radix_destroy(&obj->pages);
	radix_destroy(&obj->charges);
	unlist(sys, obj);
	kmem_cache_free(&sys->object_cache, obj);
}

bool vm_object_lookup(const struct vm_object *obj, uint64_t pgoff, pfn_t *pfn)
{
	if (obj->type == VM_OBJECT_PHYS) {
		*pfn = obj->phys_base + pgoff;
		return pgoff < (obj->size >> MMK_PAGE_SHIFT);
	}
	void *e = radix_lookup(&obj->pages, pgoff);
	if (!e || !is_frame(e))
		return false;
	*pfn = entry_pfn(e);
	return true;
}

bool vm_object_has(const struct vm_object *obj, uint64_t pgoff)
{
	return obj->type == VM_OBJECT_PHYS || radix_lookup(&obj->pages, pgoff) != NULL;
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

/* Bring a swapped page back: 0, -MMK_ENOMEM, or the pager's error (the
 * bytes stay in the slot). */
static int swap_in(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, void *e, pfn_t *out)
{
	pfn_t pfn;
	int rc = phys_alloc(sys->phys, 0, PHYS_USER, &pfn);
	if (rc)
		return rc;
	rc = sys->swap.page_in(sys->swap.ctx, entry_slot(e), phys_frame_ptr(sys->phys, pfn));
	if (rc) {
		phys_free(sys->phys, pfn, 0);
		return rc;
	}
	sys->swap.release(sys->swap.ctx, entry_slot(e));
	radix_replace(&obj->pages, pgoff, frame_entry(pfn, false));
	phys_frame(sys->phys, pfn)->private_data = 0;
	sys->user_frames++;
	sys->page_ins++;
	*out = pfn;
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
	void *e = radix_lookup(&obj->pages, pgoff);
	if (e && is_frame(e)) {
		*out = entry_pfn(e);
		return 0;
	}
	if (e)
		return swap_in(sys, obj, pgoff, e, out);
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
	rc = radix_insert(&obj->pages, pgoff, frame_entry(pfn, false));
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
	void *e = radix_lookup(&obj->pages, pgoff);
	if (!e || !is_frame(e))
		return;
	radix_remove(&obj->pages, pgoff);
	phys_free(sys->phys, entry_pfn(e), 0);
	vm_object_uncharge_page(obj, pgoff);
	sys->user_frames--;
}

bool vm_object_dirty(const struct vm_object *obj, uint64_t pgoff)
{
	return ((uintptr_t)radix_lookup(&obj->pages, pgoff) & (ENTRY_FRAME | ENTRY_DIRTY)) ==
	       (ENTRY_FRAME | ENTRY_DIRTY);
}

void vm_object_set_dirty(struct vm_object *obj, uint64_t pgoff, bool dirty)
{
	void *e = radix_lookup(&obj->pages, pgoff);
	if (e && is_frame(e))
		radix_replace(&obj->pages, pgoff, frame_entry(entry_pfn(e), dirty));
}

bool vm_object_file_backed(const struct vm_object *obj)
{
	return obj->type == VM_OBJECT_FILE && obj->pager.read && obj->pager.write;
}

bool vm_object_evictable(const struct vm_system *sys, const struct vm_object *obj)
{
	if (obj->type == VM_OBJECT_PHYS)
		return false;
	return vm_object_file_backed(obj) || sys->swap.page_out;
}

int vm_object_page_out(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, pfn_t pfn, bool dirty,
		       uint64_t *slot)
{
	const void *bytes = phys_frame_ptr(sys->phys, pfn);
	if (!vm_object_file_backed(obj))
		return sys->swap.page_out(sys->swap.ctx, bytes, slot);
	if (!dirty)
		return 0; /* the file holds these bytes already */
	int rc = obj->pager.write(obj->pager.ctx, pgoff, bytes);
	if (!rc)
		obj->writebacks++;
	return rc;
}

void vm_object_evicted(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, uint64_t slot)
{
	void *e = radix_lookup(&obj->pages, pgoff);
	if (vm_object_file_backed(obj)) {
		radix_remove(&obj->pages, pgoff); /* the file pager reads it again */
		sys->file_page_outs++;
	} else {
		radix_replace(&obj->pages, pgoff, swap_entry(slot));
		sys->page_outs++;
	}
	phys_free(sys->phys, entry_pfn(e), 0);
	vm_object_uncharge_page(obj, pgoff); /* a swap-in charges the faulting space again */
	sys->user_frames--;
}

void vm_object_link_vma(struct vm_object *obj, struct vm_area *v)
{
	v->obj_prev = NULL;
	v->obj_next = obj->mappings;
	if (obj->mappings)
		obj->mappings->obj_prev = v;
	obj->mappings = v;
	obj->nmappings++;
}

void vm_object_unlink_vma(struct vm_object *obj, struct vm_area *v)
{
	if (v->obj_prev)
		v->obj_prev->obj_next = v->obj_next;
	else
		obj->mappings = v->obj_next;
	if (v->obj_next)
		v->obj_next->obj_prev = v->obj_prev;
	v->obj_next = v->obj_prev = NULL;
	obj->nmappings--;
}

bool vm_object_maps(const struct vm_object *obj, const struct vm_area *v)
{
	uint64_t n = 0;
	for (const struct vm_area *m = obj->mappings; m; m = m->obj_next, n++)
		if (m == v)
			return n < obj->nmappings;
	return false;
}

bool vma_object_va(const struct vm_area *v, uint64_t pgoff, vaddr_t *va)
{
	uint64_t first = v->offset >> MMK_PAGE_SHIFT;
	if (pgoff < first || pgoff - first >= vma_pages(v))
		return false;
	*va = v->start + ((pgoff - first) << MMK_PAGE_SHIFT);
	return true;
}
