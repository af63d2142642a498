/*
 * mmk/types.h - basic types shared by every layer of mmk.
 *
 * Units are in the type: vaddr_t and paddr_t are byte addresses, pfn_t is a
 * page frame number (paddr >> MMK_PAGE_SHIFT).  Only compiler-provided
 * freestanding headers are used, so this builds with -ffreestanding.
 */
#ifndef MMK_TYPES_H
#define MMK_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t vaddr_t; /* virtual byte address */
typedef uint64_t paddr_t; /* physical byte address */
typedef uint64_t pfn_t;   /* page frame number */

#define MMK_PAGE_SHIFT 12u
#define MMK_PAGE_SIZE ((uint64_t)1 << MMK_PAGE_SHIFT) /* bytes */
#define MMK_PAGE_MASK (MMK_PAGE_SIZE - 1)

/* Largest buddy order: blocks of 2^MMK_MAX_ORDER frames (4 GiB at 4 KiB pages). */
#define MMK_MAX_ORDER 20u

static inline paddr_t mmk_pfn_to_paddr(pfn_t pfn) { return (paddr_t)pfn << MMK_PAGE_SHIFT; }
static inline pfn_t mmk_paddr_to_pfn(paddr_t pa) { return (pfn_t)(pa >> MMK_PAGE_SHIFT); }
static inline bool mmk_page_aligned(uint64_t x) { return (x & MMK_PAGE_MASK) == 0; }
/* Round up to a page; returns false (and leaves *out alone) on overflow. */
static inline bool mmk_page_round_up(uint64_t x, uint64_t *out)
{
	if (x > UINT64_MAX - MMK_PAGE_MASK)
		return false;
	*out = (x + MMK_PAGE_MASK) & ~MMK_PAGE_MASK;
	return true;
}
static inline uint64_t mmk_page_round_down(uint64_t x) { return x & ~MMK_PAGE_MASK; }

#endif
