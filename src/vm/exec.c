/*
 * vm/exec.c - the layout execve builds (Linux fs/binfmt_elf.c, in outline):
 * each PT_LOAD segment becomes a private file mapping of the image object
 * at its file offset; the part of its memory beyond the file (bss) becomes
 * anonymous memory, with the bytes between the end of the file data and the
 * end of that page zeroed (so they are the program's own copy); then the
 * stack (growsdown, with the argument page resident) and the heap's start.
 * The caller parses the ELF headers (a loader's job, not the VM's: see
 * vm/elf.c) and passes the segments.  Every mapping is made with
 * MAP_FIXED_NOREPLACE, so segments that share a page, or a segment in the
 * stack's place, are -MMK_EEXIST instead of one silently replacing the
 * other (Linux maps an ET_EXEC's first segment that way too).
 */
#include "vm/vm_internal.h"

static int map_segment(struct vm_space *as, struct vm_object *image, const struct vm_exec_segment *s)
{
	vaddr_t start = mmk_page_round_down(s->vaddr);
	uint64_t skew = s->vaddr - start;
	uint64_t file_end = s->vaddr + s->filesz, mem_end = s->vaddr + s->memsz;
	uint64_t file_map_end, mem_map_end;
	if (s->memsz == 0)
		return 0; /* nothing to map, as Linux */
	if (!mmk_page_round_up(file_end, &file_map_end) || !mmk_page_round_up(mem_end, &mem_map_end))
		return -MMK_EINVAL;
	vaddr_t out;
	int rc = 0;
	if (s->filesz)
		rc = vm_map(as, start, file_map_end - start, s->prot, VM_MAP_PRIVATE | VM_MAP_FIXED_NOREPLACE, image,
			    s->offset - skew, VM_PROT_ALL, &out);
	vaddr_t bss = s->filesz ? file_map_end : start; /* a pure-bss segment starts at its page */
	if (!rc && mem_map_end > bss)
		rc = vm_map(as, bss, mem_map_end - bss, s->prot,
			    VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED_NOREPLACE, NULL, 0, VM_PROT_ALL, &out);
	if (rc || !s->filesz || s->memsz <= s->filesz || mmk_page_aligned(file_end))
		return rc;
	/* Zero the bss head that shares the last file page: write-fault it
	 * (its own copy), then clear the tail. */
	hal_spin_lock(&as->lock);
	rc = vm_fault_locked(as, file_end, PMAP_ACCESS_WRITE);
	if (!rc) {
		struct vm_area *v = vma_find(as, file_end);
		struct vm_anon *a = vm_amap_lookup(v->amap, vma_slot(v, file_end));
		unsigned char *page = phys_frame_ptr(as->sys->phys, a->pfn);
		mmk_memset(page + (file_end & MMK_PAGE_MASK), 0, MMK_PAGE_SIZE - (file_end & MMK_PAGE_MASK));
	}
	hal_spin_unlock(&as->lock);
	return rc;
}

int vm_exec_layout(struct vm_space *as, struct vm_object *image, const struct vm_exec_segment *segs, size_t nsegs,
		   vaddr_t stack_top, uint64_t stack_bytes, vaddr_t brk_start)
{
	if (!as || !image || !nsegs || !mmk_page_aligned(stack_top) || !mmk_page_aligned(stack_bytes) ||
	    stack_bytes == 0 || stack_bytes > stack_top)
		return -MMK_EINVAL;
	for (size_t i = 0; i < nsegs; i++) {
		const struct vm_exec_segment *s = &segs[i];
		if (s->memsz < s->filesz || (s->vaddr & MMK_PAGE_MASK) != (s->offset & MMK_PAGE_MASK) ||
		    (s->prot & ~VM_PROT_ALL) || s->vaddr + s->memsz < s->vaddr)
			return -MMK_EINVAL;
	}
	if (as->vmas.count)
		return -MMK_EBUSY; /* execve builds a fresh space */
	for (size_t i = 0; i < nsegs; i++) {
		int rc = map_segment(as, image, &segs[i]);
		if (rc)
			return rc; /* the caller destroys the half-built space */
	}
	vaddr_t out;
	int rc = vm_map(as, stack_top - stack_bytes, stack_bytes, VM_PROT_READ | VM_PROT_WRITE,
			VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED_NOREPLACE | VM_MAP_GROWSDOWN, NULL, 0, VM_PROT_ALL,
			&out);
	if (rc)
		return rc;
	as->start_stack = stack_top - 8;
	rc = vm_fault(as, stack_top - 8, PMAP_ACCESS_WRITE); /* argv and envp live there */
	if (rc)
		return rc;
	vm_brk_init(as, brk_start);
	return 0;
}
