/*
 * vm/kframes.c - user mappings of kernel frames (seed 002).
 *
 * Seed 002 (Jinue): the kernel "will restrict how user space is allowed to
 * map page frames it owns.  In general this is disallowed completely.  As
 * special cases, some parts of the memory owned by the microkernel such
 * the boot image are allowed to be mapped read only by user space."  User
 * space reaches physical frames only through physical (device) objects,
 * so the rule is checked where such an object is mapped (vm_map,
 * vm_map_special) and again where one of its pages is faulted in (a frame
 * may have been given to the kernel after the mapping was made, or a
 * mapping grown by mremap).
 *
 * Errors (the seed names none): -MMK_EPERM for a kernel frame, whatever
 * the protection (the mapping is not permitted at all; as Linux's
 * /dev/mem under CONFIG_STRICT_DEVMEM), and -MMK_EACCES for a writable
 * mapping of the boot image (the protection is beyond what the frames
 * allow; as mmap of a read-only file with PROT_WRITE and MAP_SHARED).
 * A fault on such a page is -MMK_EFAULT (SIGBUS, as a device object's
 * page past its end).
 */
#include "vm/vm_internal.h"

int vm_kframes_check(struct vm_system *sys, const struct vm_object *obj, uint64_t offset, uint64_t len,
		     unsigned prot, bool *boot)
{
	*boot = false;
	if (!obj || obj->type != VM_OBJECT_PHYS)
		return 0;
	uint64_t first = offset >> MMK_PAGE_SHIFT, npages = obj->size >> MMK_PAGE_SHIFT;
	uint64_t last = first + (len >> MMK_PAGE_SHIFT); /* pages past the object fault with SIGBUS */
	if (last > npages)
		last = npages;
	int rc = 0;
	for (uint64_t i = first; i < last && rc != -MMK_EPERM; i++) {
		unsigned owner = phys_owner_of(sys->phys, obj->phys_base + i);
		if (owner == MMK_OWNER_KERNEL)
			rc = -MMK_EPERM;
		else if (owner == MMK_OWNER_BOOT) {
			*boot = true;
			if (prot & VM_PROT_WRITE)
				rc = -MMK_EACCES;
		}
	}
	return rc;
}

int vm_kframes_fault_check(struct vm_system *sys, const struct vm_area *v, vaddr_t page)
{
	if (!v->object || v->object->type != VM_OBJECT_PHYS)
		return 0;
	unsigned owner = phys_owner_of(sys->phys, v->object->phys_base + vma_pgoff(v, page));
	if (owner == MMK_OWNER_KERNEL || (owner == MMK_OWNER_BOOT && (v->prot & VM_PROT_WRITE)))
		return -MMK_EFAULT;
	return 0;
}
