/*
 * kernel_va.c - 4 KiB translations of the kernel virtual space
 * [X86_KVA_BASE, X86_KVA_BASE + X86_KVA_SIZE): the pages a vmem arena of
 * kernel addresses hands out get their frames here.
 *
 * The region is one PML4 entry whose PDPT is made before the first user
 * pmap, so every address space shares it (pmap.c, 2).  Below it, PDs and
 * PTs are allocated on demand from the kernel's frame source and kept for
 * the kernel's lifetime (as Linux's kernel page tables: a freed table would
 * need a shootdown in every address space).  Leaves are global (G): a CR3
 * load keeps them; unmapping invalidates with invlpg, which drops global
 * entries too (SDM 4.10.4.1).
 *
 * Locking: the caller serialises calls (the kernel's kva layer holds its
 * arena's allocation for the range it maps; one CPU, no interrupts).
 */
#include <mmk/errno.h>

#include "cpu.h"
#include "pte.h"
#include "x86_64.h"

#define KVA_SLOT 384u /* PML4 index of X86_KVA_BASE */
_Static_assert(((X86_KVA_BASE >> 39) & 511u) == KVA_SLOT, "X86_KVA_BASE is PML4 entry 384");

static uint64_t *table_of(struct hal_machine *m, paddr_t pa) { return hal_phys_map(m, pa); }

static int kernel_table_alloc(struct hal_machine *m, paddr_t *out)
{
	int rc = m->kpt.alloc(m->kpt.ctx, out);
	if (rc != 0)
		return rc < 0 ? rc : -MMK_ENOMEM;
	uint64_t *t = table_of(m, *out);
	for (unsigned i = 0; i < 512; i++)
		t[i] = 0;
	m->stats.kernel_tables++;
	return 0;
}

int x86_kernel_va_init(struct hal_machine *m, const struct pmap_pt_source *src)
{
	m->kpt = *src;
	paddr_t pdpt;
	int rc = kernel_table_alloc(m, &pdpt);
	if (rc)
		return rc;
	m->kva_pdpt = pdpt;
	uint64_t *root = table_of(m, m->kernel_root);
	root[KVA_SLOT] = pdpt | X86_PTE_P | X86_PTE_RW;
	return 0;
}

static bool kva_ok(vaddr_t va)
{
	return mmk_page_aligned(va) && va >= X86_KVA_BASE && va - X86_KVA_BASE < X86_KVA_SIZE;
}

/* The leaf slot of va; with reserve, missing tables are made (both or
 * neither of the two that may be missing). */
static int kernel_slot(struct hal_machine *m, vaddr_t va, bool reserve, uint64_t **out)
{
	paddr_t table = m->kva_pdpt, fresh[2];
	unsigned missing = 0;
	for (unsigned lvl = 2; lvl > 0; lvl--) { /* count before changing anything */
		uint64_t e = table ? table_of(m, table)[x86_pt_index(va, lvl)] : 0;
		missing += !(e & X86_PTE_P);
		table = (e & X86_PTE_P) ? x86_pte_frame(e) : 0;
	}
	if (missing && !reserve)
		return -MMK_ENOENT;
	for (unsigned i = 0; i < missing; i++) {
		int rc = kernel_table_alloc(m, &fresh[i]);
		if (rc) {
			while (i-- > 0) {
				m->kpt.free(m->kpt.ctx, fresh[i]);
				m->stats.kernel_tables--;
			}
			return rc;
		}
	}
	table = m->kva_pdpt;
	for (unsigned lvl = 2, used = 0; lvl > 0; lvl--) {
		uint64_t *slot = &table_of(m, table)[x86_pt_index(va, lvl)];
		if (!(*slot & X86_PTE_P))
			*slot = fresh[used++] | X86_PTE_P | X86_PTE_RW;
		table = x86_pte_frame(*slot);
	}
	*out = &table_of(m, table)[x86_pt_index(va, 0)];
	return 0;
}

int x86_kernel_enter(struct hal_machine *m, vaddr_t va, paddr_t pa, unsigned prot)
{
	if (!kva_ok(va) || !mmk_page_aligned(pa) || (pa & ~X86_PTE_FRAME) || (prot & ~PMAP_PROT_ALL) ||
	    (prot & PMAP_PROT_USER))
		return -MMK_EINVAL;
	uint64_t *slot;
	int rc = kernel_slot(m, va, true, &slot);
	if (rc)
		return rc;
	uint64_t old = *slot;
	*slot = x86_pte_make(pa, prot, true);
	if (old & X86_PTE_P) {
		x86_invlpg(va);
		m->stats.invlpg++;
	}
	return 0;
}

int x86_kernel_remove(struct hal_machine *m, vaddr_t va, paddr_t *pa)
{
	uint64_t *slot;
	if (!kva_ok(va) || kernel_slot(m, va, false, &slot) != 0 || !x86_pte_mapped(*slot))
		return -MMK_ENOENT;
	uint64_t old = __atomic_exchange_n(slot, 0, __ATOMIC_SEQ_CST);
	if (old & X86_PTE_P) {
		x86_invlpg(va);
		m->stats.invlpg++;
	}
	if (pa)
		*pa = x86_pte_frame(old);
	return 0;
}

int x86_kernel_extract(struct hal_machine *m, vaddr_t va, paddr_t *pa, unsigned *bits)
{
	uint64_t *slot;
	if (!kva_ok(va) || kernel_slot(m, va, false, &slot) != 0 || !x86_pte_mapped(*slot))
		return -MMK_ENOENT;
	if (pa)
		*pa = x86_pte_frame(*slot);
	if (bits)
		*bits = x86_pte_bits(*slot);
	return 0;
}
