/*
 * pte.h - x86-64 page-table entry encoding for hal/x86_64 (Intel SDM vol.
 * 3A 4.5, table 4-19 and 4-20): the pure functions between the HAL's
 * PMAP_PROT_* / PMAP_ACCESSED / PMAP_DIRTY bits and 64-bit entries.
 *
 * Header-only and free of inline asm, so a hosted cmocka test
 * (tests/unit/test_x86_pte.c) checks the very code the kernel runs.
 *
 * Leaf entries of user pmaps: P, RW, US, A, D, NX and the frame (bits
 * 12..51).  A PMAP_PROT_NONE translation keeps its frame with P clear and
 * the software bit X86_PTE_PROTNONE (bit 9, ignored by the CPU) set, as
 * Linux's _PAGE_PROTNONE.  Kernel mappings add G (global: kept across CR3
 * loads).  Table (non-leaf) entries are P|RW|US: the leaf decides rights.
 */
#ifndef HAL_X86_64_PTE_H
#define HAL_X86_64_PTE_H

#include <hal/pmap.h>
#include <mmk/types.h>

#define X86_PTE_P ((uint64_t)1 << 0)
#define X86_PTE_RW ((uint64_t)1 << 1)
#define X86_PTE_US ((uint64_t)1 << 2)
#define X86_PTE_A ((uint64_t)1 << 5)
#define X86_PTE_D ((uint64_t)1 << 6)
#define X86_PTE_PS ((uint64_t)1 << 7) /* large page, in PD and PDPT entries */
#define X86_PTE_G ((uint64_t)1 << 8)
#define X86_PTE_PROTNONE ((uint64_t)1 << 9)
#define X86_PTE_NX ((uint64_t)1 << 63)
#define X86_PTE_FRAME ((uint64_t)0x000ffffffffff000ull)

#define X86_PTE_TABLE (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define X86_PTE_STATUS (X86_PTE_A | X86_PTE_D)

/* x86 page-fault error code bits (SDM 4.7). */
#define X86_PF_P 0x1u  /* 1: protection violation; 0: not present */
#define X86_PF_W 0x2u  /* write */
#define X86_PF_U 0x4u  /* user mode */
#define X86_PF_RSVD 0x8u
#define X86_PF_I 0x10u /* instruction fetch */

/* Index of va's entry in the table of level lvl (3 = PML4 ... 0 = PT). */
static inline unsigned x86_pt_index(vaddr_t va, unsigned lvl)
{
	return (unsigned)((va >> (MMK_PAGE_SHIFT + 9u * lvl)) & 511u);
}

/* Bytes of virtual space one entry at level lvl covers. */
static inline uint64_t x86_level_span(unsigned lvl) { return MMK_PAGE_SIZE << (9u * lvl); }

/* A leaf that maps a frame: present, or kept inaccessible (PROT_NONE). */
static inline bool x86_pte_mapped(uint64_t pte) { return (pte & (X86_PTE_P | X86_PTE_PROTNONE)) != 0; }

/* The rights part of a leaf for prot (PMAP_PROT_* bits, no frame).  x86
 * cannot deny reads of a present page: any accessible prot is readable. */
static inline uint64_t x86_pte_rights(unsigned prot)
{
	uint64_t us = (prot & PMAP_PROT_USER) ? X86_PTE_US : 0;
	if (!(prot & (PMAP_PROT_READ | PMAP_PROT_WRITE | PMAP_PROT_EXEC)))
		return X86_PTE_PROTNONE | us;
	uint64_t v = X86_PTE_P | us;
	if (prot & PMAP_PROT_WRITE)
		v |= X86_PTE_RW;
	if (!(prot & PMAP_PROT_EXEC))
		v |= X86_PTE_NX;
	return v;
}

/* A whole leaf: frame pa (page-aligned, below 2^52), rights of prot, and
 * the global bit for kernel mappings. */
static inline uint64_t x86_pte_make(paddr_t pa, unsigned prot, bool global)
{
	uint64_t v = (pa & X86_PTE_FRAME) | x86_pte_rights(prot);
	if (global && (v & X86_PTE_P))
		v |= X86_PTE_G;
	return v;
}

static inline paddr_t x86_pte_frame(uint64_t pte) { return pte & X86_PTE_FRAME; }

/* PMAP_PROT_* | PMAP_ACCESSED | PMAP_DIRTY of a mapped leaf. */
static inline unsigned x86_pte_bits(uint64_t pte)
{
	unsigned bits = (pte & X86_PTE_US) ? PMAP_PROT_USER : 0;
	if (pte & X86_PTE_P) {
		bits |= PMAP_PROT_READ;
		if (pte & X86_PTE_RW)
			bits |= PMAP_PROT_WRITE;
		if (!(pte & X86_PTE_NX))
			bits |= PMAP_PROT_EXEC;
	}
	if (pte & X86_PTE_A)
		bits |= PMAP_ACCESSED;
	if (pte & X86_PTE_D)
		bits |= PMAP_DIRTY;
	return bits;
}

/* Whether replacing old by new can leave a TLB entry more permissive than
 * the table (so the page must be invalidated): only a present entry is
 * ever cached. */
static inline bool x86_pte_weakened(uint64_t old, uint64_t new)
{
	if (!(old & X86_PTE_P))
		return false;
	if (!(new & X86_PTE_P) || (old & X86_PTE_FRAME) != (new & X86_PTE_FRAME))
		return true;
	if ((old & X86_PTE_RW) && !(new & X86_PTE_RW))
		return true;
	if ((old & X86_PTE_US) && !(new & X86_PTE_US))
		return true;
	return !(old & X86_PTE_NX) && (new & X86_PTE_NX);
}

/* NULL when a leaf of a user pmap is well formed (invariant 3c of
 * pmap.c), else the reason. */
static inline const char *x86_pte_leaf_problem(uint64_t e)
{
	uint64_t ok = (e & X86_PTE_P) ? X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_STATUS | X86_PTE_NX
	                              : X86_PTE_PROTNONE | X86_PTE_US | X86_PTE_STATUS;
	if (!x86_pte_mapped(e))
		return "leaf entry neither present nor PROT_NONE but not zero";
	if (e & ~(ok | X86_PTE_FRAME))
		return "leaf entry has reserved or unexpected bits";
	return NULL;
}

/* NULL when a table entry of a user pmap is well formed, else the reason. */
static inline const char *x86_pte_table_problem(uint64_t e)
{
	if ((e & X86_PTE_TABLE) != X86_PTE_TABLE)
		return "table entry lacks P|RW|US";
	if (e & ~(X86_PTE_TABLE | X86_PTE_A | X86_PTE_FRAME))
		return "table entry has reserved or unexpected bits";
	return NULL;
}

#endif
