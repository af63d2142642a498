/*
 * vm/protect.c - calls that change attributes of a range of VMAs:
 * mprotect, madvise, mlock/munlock, plus mincore and msync, which only read
 * them (Linux mm/mprotect.c, mm/madvise.c, mm/mlock.c, mm/mincore.c,
 * mm/msync.c semantics and errors).
 */
#include "vm/vm_internal.h"

/* Apply fn to every VMA inside [start, end) after clipping, then merge the
 * changed VMAs with their neighbours.  The caller validated the range and
 * reserved two spares. */
static void for_each_clipped(struct vm_space *as, vaddr_t start, vaddr_t end, struct vm_spares *sp,
			     void (*fn)(struct vm_space *, struct vm_area *, uintptr_t), uintptr_t arg)
{
	vm_clip_range(as, start, end, sp);
	for (struct vm_area *v = vma_lower_bound(as, start); v && v->start < end; v = vma_next(v))
		fn(as, v, arg);
	/* Merge from the end back so each merge leaves earlier VMAs in place. */
	struct vm_area *v = vma_find(as, end - 1);
	while (v && v->end > start) {
		struct vm_area *p = vma_prev(v);
		vma_merge_neighbours(as, v);
		v = p;
	}
}

static void set_prot(struct vm_space *as, struct vm_area *v, uintptr_t prot)
{
	v->prot = (uint32_t)prot;
	/* A private page may be shared copy-on-write: write access is given
	 * back page by page by the fault handler, which knows. */
	unsigned pte = (v->flags & VMA_SHARED) ? vm_pte_prot(v->prot) : vm_pte_prot_ro(v->prot);
	pmap_protect(&as->pmap, v->start, v->end, pte);
}

/* Walk [start, end) in address order as Linux's do_mprotect_pkey does: the
 * first problem met decides the error (a hole or a dead VMA: -MMK_ENOMEM; a
 * VMA whose max_prot refuses prot: -MMK_EACCES). */
static int check_protect_range(struct vm_space *as, vaddr_t start, vaddr_t end, unsigned prot)
{
	vaddr_t at = start;
	for (struct vm_area *v = vma_lower_bound(as, start); at < end; v = vma_next(v)) {
		if (!v || v->start > at || (v->flags & VMA_DEAD))
			return -MMK_ENOMEM;
		if (prot & ~v->max_prot)
			return -MMK_EACCES;
		at = v->end;
	}
	return 0;
}

#define VM_PROT_SEM 0x8u
#define VM_PROT_GROWSDOWN 0x01000000u
#define VM_PROT_GROWSUP 0x02000000u

int vm_protect(struct vm_space *as, vaddr_t addr, size_t len, unsigned prot)
{
	/* Linux's order: both grow flags, alignment, zero length, range, then
	 * the arch's prot check (x86 accepts PROT_SEM and ignores it). */
	uint64_t plen;
	if ((prot & VM_PROT_GROWSDOWN && prot & VM_PROT_GROWSUP) || !mmk_page_aligned(addr))
		return -MMK_EINVAL;
	if (len == 0)
		return 0;
	if (!mmk_page_round_up(len, &plen) || addr + plen <= addr)
		return -MMK_ENOMEM;
	if (prot & ~(VM_PROT_ALL | VM_PROT_SEM | VM_PROT_GROWSDOWN | VM_PROT_GROWSUP))
		return -MMK_EINVAL;
	if (!vm_range_ok(as, addr, plen))
		return -MMK_ENOMEM; /* no VMA lies beyond max_addr */
	prot &= ~VM_PROT_SEM;
	vaddr_t end = addr + plen;
	if (as->sys->nommu)
		return nommu_range(as, addr, end, -MMK_ENOMEM, prot & VM_PROT_ALL, true);
	hal_spin_lock(&as->lock);
	int rc = 0;
	if (prot & VM_PROT_GROWSDOWN) {
		/* Linux: the first VMA meeting the range must be a stack, and the
		 * range then starts at its start. */
		struct vm_area *v = vma_lower_bound(as, addr);
		if (!v || v->start >= end)
			rc = -MMK_ENOMEM;
		else if (!(v->flags & VMA_GROWSDOWN))
			rc = -MMK_EINVAL;
		else
			addr = v->start;
	} else if (prot & VM_PROT_GROWSUP) {
		rc = -MMK_EINVAL; /* no grows-up stacks on x86 */
	}
	prot &= VM_PROT_ALL;
	if (!rc)
		rc = check_protect_range(as, addr, end, prot);
	struct vm_spares sp;
	if (!rc)
		rc = vm_spares_reserve(as, &sp, 2);
	if (!rc) {
		for_each_clipped(as, addr, end, &sp, set_prot, prot);
		vm_spares_release(as, &sp);
	}
	hal_spin_unlock(&as->lock);
	return rc;
}

/* ---- madvise ---- */

static bool advice_known(int advice)
{
	switch (advice) {
	case VM_MADV_NORMAL: case VM_MADV_RANDOM: case VM_MADV_SEQUENTIAL: case VM_MADV_WILLNEED:
	case VM_MADV_DONTNEED: case VM_MADV_FREE: case VM_MADV_REMOVE: case VM_MADV_DONTFORK:
	case VM_MADV_DOFORK: case VM_MADV_MERGEABLE: case VM_MADV_UNMERGEABLE: case VM_MADV_HUGEPAGE:
	case VM_MADV_NOHUGEPAGE: case VM_MADV_DONTDUMP: case VM_MADV_DODUMP: case VM_MADV_WIPEONFORK:
	case VM_MADV_KEEPONFORK: case VM_MADV_COLD: case VM_MADV_PAGEOUT:
		return true;
	default:
		return false;
	}
}

/* The VMA flag an advice sets (set) or clears (!set); 0 for advice that
 * changes no flag. */
static unsigned advice_flag(int advice, bool *set)
{
	*set = true;
	switch (advice) {
	case VM_MADV_DONTFORK: return VMA_DONTFORK;
	case VM_MADV_DOFORK: *set = false; return VMA_DONTFORK;
	case VM_MADV_WIPEONFORK: return VMA_WIPEONFORK;
	case VM_MADV_KEEPONFORK: *set = false; return VMA_WIPEONFORK;
	case VM_MADV_HUGEPAGE: return VMA_HUGEPAGE;
	case VM_MADV_NOHUGEPAGE: *set = false; return VMA_HUGEPAGE;
	case VM_MADV_DONTDUMP: return VMA_DONTDUMP;
	case VM_MADV_DODUMP: *set = false; return VMA_DONTDUMP;
	default: return 0;
	}
}

/* Per-VMA refusals, as Linux's madvise_vma_behavior. */
static int advice_allowed(const struct vm_area *v, int advice)
{
	bool private_anon = !v->object && !(v->flags & VMA_SHARED);
	switch (advice) {
	case VM_MADV_DONTNEED:
		return (v->flags & VMA_LOCKED) ? -MMK_EINVAL : 0;
	case VM_MADV_FREE:
		return private_anon ? 0 : -MMK_EINVAL;
	case VM_MADV_WIPEONFORK:
		return private_anon ? 0 : -MMK_EINVAL;
	case VM_MADV_REMOVE:
		return (v->flags & VMA_SHARED) ? 0 : -MMK_EINVAL;
	default:
		return (v->flags & VMA_SPECIAL) && advice_flag(advice, &(bool){ true }) ? -MMK_EINVAL : 0;
	}
}

/* MADV_DONTNEED: translations go; private pages go too (re-faults see
 * zeroes or the file's page), shared pages stay in their object. */
static void drop_pages(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	vm_writeback_locked(as, start, end); /* the dirty bits go with the translations */
	vm_zap_range(as, start, end);
	for (struct vm_area *v = vma_lower_bound(as, start); v && v->start < end; v = vma_next(v)) {
		if (v->flags & VMA_SHARED)
			continue;
		vaddr_t s = v->start > start ? v->start : start, e = v->end < end ? v->end : end;
		vma_drop_anons(as, v, s, e);
	}
}

static void set_flag(struct vm_space *as, struct vm_area *v, uintptr_t arg)
{
	(void)as;
	unsigned flag = (unsigned)(arg >> 1);
	if (arg & 1)
		v->flags |= flag;
	else
		v->flags &= ~flag;
}

int vm_madvise(struct vm_space *as, vaddr_t addr, size_t len, int advice)
{
	uint64_t plen;
	if (!advice_known(advice) || !mmk_page_aligned(addr) || !mmk_page_round_up(len, &plen) ||
	    addr + plen < addr)
		return -MMK_EINVAL;
	if (plen == 0)
		return 0;
	vaddr_t end = addr + plen;
	if (as->sys->nommu) /* advice has nothing to act on: memory is always resident */
		return nommu_range(as, addr, end, -MMK_ENOMEM, 0, false);
	hal_spin_lock(&as->lock);
	int rc = 0;
	for (struct vm_area *v = vma_lower_bound(as, addr); !rc && v && v->start < end; v = vma_next(v))
		rc = advice_allowed(v, advice);
	if (!rc && !vma_range_covered(as, addr, end))
		rc = -MMK_ENOMEM;
	bool set;
	unsigned flag = advice_flag(advice, &set);
	struct vm_spares sp = { .n = 0 };
	if (!rc && flag)
		rc = vm_spares_reserve(as, &sp, 2);
	if (!rc) {
		if (flag)
			for_each_clipped(as, addr, end, &sp, set_flag, (uintptr_t)flag << 1 | set);
		else if (advice == VM_MADV_DONTNEED || advice == VM_MADV_FREE || advice == VM_MADV_REMOVE)
			drop_pages(as, addr, end);
		vm_spares_release(as, &sp);
	}
	hal_spin_unlock(&as->lock);
	return rc;
}

/* ---- mlock ---- */

int vm_mlock(struct vm_space *as, vaddr_t addr, size_t len, bool lock)
{
	/* Linux rounds the start down and the length up (mlock needs no
	 * alignment). */
	uint64_t plen;
	vaddr_t start = mmk_page_round_down(addr);
	if (len > UINT64_MAX - (addr - start) || !mmk_page_round_up(len + (addr - start), &plen) ||
	    start + plen < start)
		return -MMK_EINVAL;
	if (plen == 0)
		return 0;
	vaddr_t end = start + plen;
	if (as->sys->nommu)
		return nommu_range(as, start, end, -MMK_ENOMEM, 0, false);
	hal_spin_lock(&as->lock);
	int rc = vma_range_covered(as, start, end) ? 0 : -MMK_ENOMEM;
	struct vm_spares sp;
	if (!rc)
		rc = vm_spares_reserve(as, &sp, 2);
	/* Populate before the flags change, so a failure can be undone whole. */
	if (!rc && lock && vm_populate_locked(as, start, end, false, true)) {
		vm_spares_release(as, &sp);
		rc = -MMK_ENOMEM;
	}
	if (!rc) {
		for_each_clipped(as, start, end, &sp, set_flag, (uintptr_t)VMA_LOCKED << 1 | lock);
		vm_spares_release(as, &sp);
	}
	hal_spin_unlock(&as->lock);
	return rc;
}

/* ---- mincore and msync ---- */

int vm_mincore(struct vm_space *as, vaddr_t addr, size_t len, uint8_t *vec)
{
	uint64_t plen;
	if (!mmk_page_aligned(addr))
		return -MMK_EINVAL;
	if (!mmk_page_round_up(len, &plen) || !vm_range_ok(as, addr, plen))
		return -MMK_ENOMEM;
	if (as->sys->nommu) {
		int rc = nommu_range(as, addr, addr + plen, -MMK_ENOMEM, 0, false);
		for (uint64_t i = 0; !rc && i < (plen >> MMK_PAGE_SHIFT); i++)
			vec[i] = 1; /* always resident */
		return rc;
	}
	hal_spin_lock(&as->lock);
	int rc = vma_range_covered(as, addr, addr + plen) ? 0 : -MMK_ENOMEM;
	for (uint64_t i = 0; !rc && i < (plen >> MMK_PAGE_SHIFT); i++) {
		paddr_t pa;
		unsigned bits;
		vec[i] = pmap_extract(&as->pmap, addr + (i << MMK_PAGE_SHIFT), &pa, &bits) == 0;
	}
	hal_spin_unlock(&as->lock);
	return rc;
}

int vm_msync(struct vm_space *as, vaddr_t addr, size_t len, unsigned flags)
{
	uint64_t plen;
	if ((flags & ~(VM_MS_ASYNC | VM_MS_INVALIDATE | VM_MS_SYNC)) || !mmk_page_aligned(addr) ||
	    ((flags & VM_MS_ASYNC) && (flags & VM_MS_SYNC)))
		return -MMK_EINVAL;
	if (!mmk_page_round_up(len, &plen) || addr + plen < addr)
		return -MMK_ENOMEM;
	if (plen == 0)
		return 0;
	if (as->sys->nommu)
		return nommu_range(as, addr, addr + plen, -MMK_ENOMEM, 0, false);
	hal_spin_lock(&as->lock);
	int rc = 0;
	for (struct vm_area *v = vma_lower_bound(as, addr); v && v->start < addr + plen; v = vma_next(v))
		if ((flags & VM_MS_INVALIDATE) && (v->flags & VMA_LOCKED))
			rc = -MMK_EBUSY;
	if (!rc && !vma_range_covered(as, addr, addr + plen))
		rc = -MMK_ENOMEM;
	if (!rc)
		rc = vm_sync_locked(as, addr, addr + plen);
	hal_spin_unlock(&as->lock);
	return rc;
}
