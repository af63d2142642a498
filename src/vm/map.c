/*
 * vm/map.c - mmap and munmap (Linux mm/mmap.c semantics and errors).
 */
#include "vm/vm_internal.h"

#define KNOWN_MAP_FLAGS                                                                                     \
	(VM_MAP_TYPE | VM_MAP_FIXED | VM_MAP_ANONYMOUS | VM_MAP_GROWSDOWN | VM_MAP_DENYWRITE |              \
	 VM_MAP_EXECUTABLE | VM_MAP_LOCKED | VM_MAP_NORESERVE | VM_MAP_POPULATE | VM_MAP_NONBLOCK |          \
	 VM_MAP_STACK | VM_MAP_HUGETLB | VM_MAP_SYNC | VM_MAP_FIXED_NOREPLACE)

/* Choose the range for a new mapping of len bytes; 0 and *out, or an error. */
static int place(struct vm_space *as, vaddr_t hint, uint64_t len, unsigned flags, vaddr_t *out)
{
	if (len > as->max_addr)
		return -MMK_ENOMEM;
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) {
		/* Linux __get_unmapped_area's order: range, alignment, then
		 * security_mmap_addr. */
		if (!vm_range_ok(as, hint, len))
			return -MMK_ENOMEM;
		if (!mmk_page_aligned(hint))
			return -MMK_EINVAL;
		if (hint < as->min_addr)
			return -MMK_EPERM;
		if ((flags & VM_MAP_FIXED_NOREPLACE) &&
		    !vma_range_free(as, hint, hint + len))
			return -MMK_EEXIST;
		*out = hint;
		return 0;
	}
	hint = mmk_page_round_down(hint);
	if (hint && hint >= as->min_addr && vm_range_ok(as, hint, len) && vma_range_placeable(as, hint, hint + len)) {
		*out = hint;
		return 0;
	}
	return vma_find_gap_topdown(as, len, as->min_addr, as->mmap_base, out);
}

/*
 * The checks of Linux's mmap path, in its order: the syscall's offset and
 * length checks, then placement (place(), under the lock), then the
 * mapping type and file permissions (do_mmap's switch on MAP_TYPE).
 */
static int validate_args(size_t len, unsigned prot, unsigned flags, uint64_t offset, uint64_t *plen)
{
	if (!mmk_page_aligned(offset) || len == 0)
		return -MMK_EINVAL;
	if (!mmk_page_round_up(len, plen))
		return -MMK_ENOMEM;
	if (offset + *plen < offset)
		return -MMK_EOVERFLOW;
	if ((prot & ~VM_PROT_ALL) || (flags & ~KNOWN_MAP_FLAGS))
		return -MMK_EINVAL;
	return 0;
}

static int validate_type(unsigned prot, unsigned flags, struct vm_object *obj, unsigned max_prot)
{
	unsigned type = flags & VM_MAP_TYPE;
	if (type != VM_MAP_SHARED && type != VM_MAP_PRIVATE && type != VM_MAP_SHARED_VALIDATE)
		return -MMK_EINVAL;
	if (type != VM_MAP_PRIVATE && !obj)
		return -MMK_EINVAL; /* shared memory needs an object to share */
	if (type == VM_MAP_PRIVATE && obj && obj->type == VM_OBJECT_EXTERNAL)
		return -MMK_EINVAL; /* lent frames are only ever mapped shared */
	if (type == VM_MAP_PRIVATE && obj && obj->type == VM_OBJECT_PHYS && (prot & VM_PROT_WRITE))
		return -MMK_EACCES; /* device memory is never copied */
	if (prot & ~max_prot)
		return -MMK_EACCES;
	return 0;
}

static void fill_vma(struct vm_area *v, vaddr_t start, uint64_t len, unsigned prot, unsigned max_prot,
		     unsigned vma_flags, struct vm_object *obj, uint64_t offset, const char *name)
{
	mmk_memset(v, 0, sizeof(*v));
	v->start = start;
	v->end = start + len;
	v->prot = prot;
	v->max_prot = max_prot;
	v->flags = vma_flags;
	v->object = obj;
	v->offset = obj ? offset : 0;
	v->name = name;
	v->amap_slot = VM_SLOT_BASE;
	if (obj)
		vm_object_ref(obj);
}

static unsigned vma_flags_of(unsigned flags)
{
	unsigned f = 0;
	if ((flags & VM_MAP_TYPE) != VM_MAP_PRIVATE)
		f |= VMA_SHARED;
	if (flags & VM_MAP_GROWSDOWN)
		f |= VMA_GROWSDOWN;
	if (flags & VM_MAP_NORESERVE)
		f |= VMA_NORESERVE;
	if (flags & VM_MAP_LOCKED)
		f |= VMA_LOCKED;
	return f;
}

int vm_map(struct vm_space *as, vaddr_t hint, size_t len, unsigned prot, unsigned flags, struct vm_object *obj,
	   uint64_t offset, unsigned max_prot, vaddr_t *out)
{
	uint64_t plen;
	int rc = validate_args(len, prot, flags, offset, &plen);
	if (rc)
		return rc;
	if (as->sys->nommu) {
		rc = plen > as->max_addr ? -MMK_ENOMEM : validate_type(prot, flags, obj, max_prot);
		return rc ? rc : nommu_map(as, plen, prot, flags, obj, offset, out);
	}
	struct vm_spares sp;
	hal_spin_lock(&as->lock);
	vaddr_t start;
	rc = place(as, hint, plen, flags, &start);
	if (!rc)
		rc = validate_type(prot, flags, obj, max_prot);
	bool boot_frames = false; /* seed 002: kernel frames never, the boot image read-only */
	if (!rc)
		rc = vm_kframes_check(as->sys, obj, offset, plen, prot, &boot_frames);
	if (!rc)
		rc = vm_spares_reserve(as, &sp, 3); /* new VMA + two clips of a replaced range */
	if (rc) {
		hal_spin_unlock(&as->lock);
		return rc;
	}
	/* MAP_FIXED replaces: unmapping cannot fail once the spares are held. */
	if (!vma_range_free(as, start, start + plen)) {
		vm_clip_range(as, start, start + plen, &sp);
		vm_unmap_locked(as, start, start + plen);
	}
	struct vm_area *v = vm_spares_take(&sp);
	if (((flags & VM_MAP_TYPE) == VM_MAP_PRIVATE && obj && obj->type == VM_OBJECT_PHYS) || boot_frames)
		max_prot &= ~VM_PROT_WRITE; /* never copied, or the boot image: never writable */
	fill_vma(v, start, plen, prot, max_prot, vma_flags_of(flags), obj, offset, NULL);
	vma_link(as, v);
	unsigned vflags = v->flags;
	vma_merge_neighbours(as, v);
	if ((flags & VM_MAP_POPULATE) || (vflags & VMA_LOCKED))
		vm_populate_locked(as, start, start + plen, (prot & VM_PROT_WRITE) && !(vflags & VMA_SHARED), false);
	vm_spares_release(as, &sp);
	hal_spin_unlock(&as->lock);
	*out = start;
	return 0;
}

int vm_map_special(struct vm_space *as, vaddr_t start, size_t len, unsigned prot, unsigned max_prot,
		   unsigned vma_flags, struct vm_object *obj, uint64_t offset, const char *name)
{
	uint64_t plen;
	if (!mmk_page_round_up(len, &plen) || len == 0 || !mmk_page_aligned(start) || !mmk_page_aligned(offset) ||
	    (prot & ~max_prot) || (max_prot & ~VM_PROT_ALL) || ((vma_flags & VMA_SHARED) && !obj) ||
	    as->sys->nommu)
		return -MMK_EINVAL; /* non-MMU mode: nothing may choose its own address */
	if (start > PMAP_USER_END || plen > PMAP_USER_END - start)
		return -MMK_ENOMEM;
	bool boot_frames;
	int rc = vm_kframes_check(as->sys, obj, offset, plen, prot, &boot_frames);
	if (rc)
		return rc;
	if (boot_frames)
		max_prot &= ~VM_PROT_WRITE;
	hal_spin_lock(&as->lock);
	if (!vma_range_free(as, start, start + plen)) {
		hal_spin_unlock(&as->lock);
		return -MMK_EEXIST;
	}
	struct vm_area *v = vm_vma_alloc(as);
	if (!v) {
		hal_spin_unlock(&as->lock);
		return -MMK_ENOMEM;
	}
	fill_vma(v, start, plen, prot, max_prot, vma_flags, obj, offset, name);
	vma_link(as, v);
	vma_merge_neighbours(as, v);
	hal_spin_unlock(&as->lock);
	return 0;
}

/* Remove every VMA inside [start, end), which must already be clipped.
 * Dirty shared file pages are written back first (a pager error keeps the
 * bytes in the object, which stays their home). */
int vm_unmap_locked(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	vm_writeback_locked(as, start, end);
	vm_zap_range(as, start, end);
	vm_unmap_vmas_locked(as, start, end);
	return 0;
}

/* Split out of vm_unmap_locked so that vm_revoke (revoke.c) can remove the
 * translations of many ranges, send one TLB shootdown, and only then drop
 * the anons (which frees their frames). */
size_t vm_unmap_vmas_locked(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	size_t removed = 0;
	struct vm_area *v = vma_lower_bound(as, start);
	while (v && v->start < end) {
		struct vm_area *next = vma_next(v);
		vma_drop_anons(as, v, v->start, v->end);
		vma_unlink(as, v);
		vma_free(as, v);
		removed++;
		v = next;
	}
	return removed;
}

int vm_unmap(struct vm_space *as, vaddr_t addr, size_t len)
{
	uint64_t plen;
	if (!mmk_page_aligned(addr) || len == 0 || !mmk_page_round_up(len, &plen) || !vm_range_ok(as, addr, plen))
		return -MMK_EINVAL;
	if (as->sys->nommu)
		return nommu_unmap(as, addr, plen);
	struct vm_spares sp;
	hal_spin_lock(&as->lock);
	if (vma_range_free(as, addr, addr + plen)) {
		hal_spin_unlock(&as->lock);
		return 0;
	}
	/* Only the splits it needs: an account at its limit can still unmap
	 * whole mappings (issue 5). */
	int rc = vm_spares_reserve(as, &sp, vm_clip_needs(as, addr, addr + plen));
	if (!rc) {
		vm_clip_range(as, addr, addr + plen, &sp);
		vm_unmap_locked(as, addr, addr + plen);
		vm_spares_release(as, &sp);
	}
	hal_spin_unlock(&as->lock);
	return rc;
}
