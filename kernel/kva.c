/*
 * kva.c - kernel virtual memory: ranges of the kernel virtual space from a
 * vmem arena (Bonwick and Adams 2001: "vmem ... the kernel's heap arena"),
 * backed page by page with kernel-owned frames from phys and mapped global
 * and no-execute through hal/x86_64's kernel tables.
 *
 * What it is for: memory that must be virtually but not physically
 * contiguous (Linux's vmalloc), and the proof that kernel virtual space is
 * a vmem arena whose pages really translate.  Small objects use kmalloc.
 *
 * Failure policy: validate, reserve, commit: the range and every frame are
 * taken before the first mapping; on any failure everything taken so far
 * is given back and NULL returned.
 * Locking: the arena locks itself; the page tables are changed by one
 * caller at a time (one CPU, no interrupts).
 */
#include <mmk/errno.h>

#include "kernel.h"

static int kpt_alloc(void *ctx, paddr_t *out)
{
	pfn_t pfn;
	int rc = phys_alloc(ctx, 0, PHYS_ZERO, &pfn);
	if (rc == 0)
		*out = mmk_pfn_to_paddr(pfn);
	return rc;
}

static void kpt_free(void *ctx, paddr_t pa) { phys_free(ctx, mmk_paddr_to_pfn(pa), 0); }

int kva_init(void)
{
	struct pmap_pt_source src = { kpt_alloc, kpt_free, &kernel.phys };
	int rc = x86_kernel_va_init(kernel.machine, &src);
	if (rc == 0)
		rc = vmem_create(&kernel.kva, &kernel.phys, "kernel_va", X86_KVA_BASE, X86_KVA_SIZE, MMK_PAGE_SIZE,
				 NULL, NULL, NULL, 4);
	return rc;
}

/* Unmap and free the first n pages of a range at va. */
static void unmap_pages(vaddr_t va, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		paddr_t pa;
		if (x86_kernel_remove(kernel.machine, va + i * MMK_PAGE_SIZE, &pa) == 0)
			phys_free(&kernel.phys, mmk_paddr_to_pfn(pa), 0);
	}
}

void *kva_alloc(size_t npages)
{
	uint64_t va;
	if (npages == 0 || vmem_alloc(&kernel.kva, npages * MMK_PAGE_SIZE, VM_INSTANTFIT, &va) != 0)
		return NULL;
	for (size_t i = 0; i < npages; i++) {
		pfn_t pfn;
		int rc = phys_alloc(&kernel.phys, 0, PHYS_ZERO, &pfn);
		if (rc == 0) {
			rc = x86_kernel_enter(kernel.machine, va + i * MMK_PAGE_SIZE, mmk_pfn_to_paddr(pfn),
					      PMAP_PROT_READ | PMAP_PROT_WRITE);
			if (rc)
				phys_free(&kernel.phys, pfn, 0);
		}
		if (rc) {
			unmap_pages(va, i);
			vmem_free(&kernel.kva, va, npages * MMK_PAGE_SIZE);
			return NULL;
		}
	}
	return (void *)(uintptr_t)va;
}

int kva_free(void *p, size_t npages)
{
	vaddr_t va = (vaddr_t)(uintptr_t)p;
	paddr_t pa;
	if (npages == 0 || x86_kernel_extract(kernel.machine, va, &pa, NULL) != 0)
		return -MMK_EINVAL;
	unmap_pages(va, npages);
	return vmem_free(&kernel.kva, va, npages * MMK_PAGE_SIZE);
}
