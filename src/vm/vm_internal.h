/*
 * vm/vm_internal.h - what the files of src/vm share and nobody else sees.
 * Functions ending in _locked expect the caller to hold as->lock.
 */
#ifndef MMK_VM_INTERNAL_H
#define MMK_VM_INTERNAL_H

#include <mmk/errno.h>
#include <mmk/vm.h>

#include "lib/mem.h"

static inline struct vm_area *vma_of(const struct rb_node *n)
{
	return n ? rb_entry(n, struct vm_area, node) : NULL;
}

static inline uint64_t vma_pages(const struct vm_area *v) { return (v->end - v->start) >> MMK_PAGE_SHIFT; }
static inline struct vm_area *vma_next(const struct vm_area *v) { return vma_of(rb_next(&v->node)); }
static inline struct vm_area *vma_prev(const struct vm_area *v) { return vma_of(rb_prev(&v->node)); }

/* ---- vma.c: the tree ---- */
bool vma_augment(struct rb_node *n);
struct vm_area *vma_find(struct vm_space *as, vaddr_t addr);        /* containing addr */
struct vm_area *vma_lower_bound(struct vm_space *as, vaddr_t addr); /* first with end > addr */
void vma_link(struct vm_space *as, struct vm_area *v);
void vma_unlink(struct vm_space *as, struct vm_area *v);
/* After v->start or v->end changed in place: fix v's and its successor's gaps. */
void vma_bounds_changed(struct vm_space *as, struct vm_area *v);
/* Split v at addr (strictly inside) into v = [start, addr) and spare = [addr, end). */
void vma_split(struct vm_space *as, struct vm_area *v, vaddr_t addr, struct vm_area *spare);
/* Merge v with equal neighbours; returns the surviving VMA. */
struct vm_area *vma_merge_neighbours(struct vm_space *as, struct vm_area *v);
/* Lowest address a new mapping below v may end at (v's start less the
 * stack guard gap of a growsdown VMA), and v's gap_below given its prev. */
vaddr_t vma_start_gap(const struct vm_space *as, const struct vm_area *v);
vaddr_t vma_gap_below(const struct vm_space *as, const struct vm_area *v, const struct vm_area *prev);
/* True when a new mapping may be placed at [start, end): free, and clear of
 * the guard gap below a stack (Linux's hint check). */
bool vma_range_placeable(struct vm_space *as, vaddr_t start, vaddr_t end);
/* True when [start, end) meets no VMA. */
bool vma_range_free(struct vm_space *as, vaddr_t start, vaddr_t end);
/* True when [start, end) is covered by VMAs without holes. */
bool vma_range_covered(struct vm_space *as, vaddr_t start, vaddr_t end);
/* Highest free range of len bytes inside [low, high); 0 and *out, or -MMK_ENOMEM. */
int vma_find_gap_topdown(struct vm_space *as, uint64_t len, vaddr_t low, vaddr_t high, vaddr_t *out);
/* Free a VMA struct: drops its object reference. */
void vma_free(struct vm_space *as, struct vm_area *v);

/* ---- spares: validate, reserve, then commit ---- */
#define VM_MAX_SPARES 6
struct vm_spares {
	struct vm_area *v[VM_MAX_SPARES];
	unsigned n;
};
int vm_spares_reserve(struct vm_space *as, struct vm_spares *sp, unsigned n);
struct vm_area *vm_spares_take(struct vm_spares *sp);
void vm_spares_release(struct vm_space *as, struct vm_spares *sp);
/* Spares vm_clip_range(start, end) will take now: 0, 1 or 2. */
unsigned vm_clip_needs(struct vm_space *as, vaddr_t start, vaddr_t end);
/* Split so that start and end fall on VMA boundaries (takes up to 2 spares). */
void vm_clip_range(struct vm_space *as, vaddr_t start, vaddr_t end, struct vm_spares *sp);

/* ---- frames ---- */
/* One translation more (delta 1) or less (-1) on the frame at pa.  Frames
 * outside the frame database (device memory of a PHYS object) keep no
 * count. */
static inline void vm_frame_mapcount(struct vm_system *sys, paddr_t pa, int delta)
{
	struct mmk_frame *f = phys_frame(sys->phys, mmk_paddr_to_pfn(pa));
	if (f)
		f->refcount = (uint32_t)((int64_t)f->refcount + delta);
	if (f && !f->refcount)
		sys->cache_unmapped_hint++; /* maybe page cache now: wakes reclaim's page-cache clock */
}
unsigned vm_pte_prot(unsigned vm_prot);
/* The translation protection of vm_prot without write (copy-on-write,
 * file pages in private mappings): still readable when vm_prot allows any
 * access, as x86 reads whatever it may write. */
static inline unsigned vm_pte_prot_ro(unsigned vm_prot) { return vm_pte_prot(vm_prot) & ~PMAP_PROT_WRITE; }
void vm_unmap_frame(void *ctx, vaddr_t va, paddr_t pa, unsigned bits); /* pmap visitor: drop a mapping's frame ref */
void vm_zap_range(struct vm_space *as, vaddr_t start, vaddr_t end);    /* remove translations, free frames */
int vm_fault_locked(struct vm_space *as, vaddr_t va, unsigned access);
/* Fill the missing pages of [start, end); with undo, a failure takes back
 * the pages this call filled (nothing changed), else it keeps them (Linux's
 * MAP_POPULATE, whose failure mmap ignores). */
int vm_populate_locked(struct vm_space *as, vaddr_t start, vaddr_t end, bool write, bool undo);

/* ---- operations shared between calls ---- */
int vm_unmap_locked(struct vm_space *as, vaddr_t start, vaddr_t end);
/* munmap's second half: remove the VMAs inside [start, end) (clipped, their
 * translations already gone), dropping their anons; returns how many. */
size_t vm_unmap_vmas_locked(struct vm_space *as, vaddr_t start, vaddr_t end);
/* Checks of the arguments common to mmap-like calls. */
bool vm_range_ok(const struct vm_space *as, vaddr_t start, uint64_t len);

/* ---- nommu.c: non-MMU mode (callers validated the arguments; len, old_len
 * and new_len are page-rounded) ---- */
int nommu_map(struct vm_space *as, size_t len, unsigned prot, unsigned flags, struct vm_object *obj,
	      uint64_t offset, vaddr_t *out);
int nommu_unmap(struct vm_space *as, vaddr_t addr, uint64_t len);
/* The range must be covered by the caller's VMAs (else rc_hole); with
 * set_prot, whole mappings in it get prot. */
int nommu_range(struct vm_space *as, vaddr_t start, vaddr_t end, int rc_hole, unsigned prot, bool set_prot);
int nommu_shrink(struct vm_space *as, vaddr_t addr, uint64_t old_len, uint64_t new_len, vaddr_t *out);
void nommu_destroy(struct vm_space *as);
int nommu_check(struct vm_space *as, const char **why);

/* ---- anon.c: anonymous memory (UVM anons and amaps) ---- */
int vm_anon_new(struct vm_system *sys, bool zero, struct vm_anon **out);
void vm_anon_release(struct vm_system *sys, struct vm_anon *a);
/* Bring a swapped anon's bytes back into a new frame: 0, -MMK_ENOMEM, or
 * the pager's error (the bytes stay in the pager). */
int vm_anon_swap_in(struct vm_system *sys, struct vm_anon *a);
/* Page-out in two steps, so a refusal changes nothing: copy a resident
 * anon's bytes to the swap pager (0 and the slot, or the pager's error),
 * then, once no translation maps the frame, free it and mark the anon
 * swapped at slot. */
int vm_anon_page_out(struct vm_system *sys, struct vm_anon *a, uint64_t *slot);
void vm_anon_swapped(struct vm_system *sys, struct vm_anon *a, uint64_t slot);
int vm_amap_new(struct vm_system *sys, struct vm_amap **out);
void vm_amap_release(struct vm_system *sys, struct vm_amap *m);
struct vm_anon *vm_amap_lookup(const struct vm_amap *m, uint64_t slot);
int vm_amap_reserve(struct vm_amap *m, uint64_t slot);
void vm_amap_unreserve(struct vm_amap *m, uint64_t slot);
struct vm_anon *vm_amap_set(struct vm_amap *m, uint64_t slot, struct vm_anon *a);
void vm_amap_drop_range(struct vm_system *sys, struct vm_amap *m, uint64_t slot, uint64_t nslots);
int vm_amap_copy(struct vm_system *sys, struct vm_amap *m, uint64_t slot, uint64_t nslots, struct vm_amap **out);

/* First amap slot of a new VMA: 2^32 pages of room below, so a stack can
 * grow down and a mapping placed just below (top-down placement) can merge
 * with it, taking the slots under its own. */
#define VM_SLOT_BASE ((uint64_t)1 << 32)

/* Slot of page va of v in its amap. */
static inline uint64_t vma_slot(const struct vm_area *v, vaddr_t va)
{
	return v->amap_slot + ((va - v->start) >> MMK_PAGE_SHIFT);
}
/* Page index of va in v's object. */
static inline uint64_t vma_pgoff(const struct vm_area *v, vaddr_t va)
{
	return (v->offset >> MMK_PAGE_SHIFT) + ((va - v->start) >> MMK_PAGE_SHIFT);
}
/* Drop the anons of v's pages in [start, end) (translations already gone). */
void vma_drop_anons(struct vm_space *as, struct vm_area *v, vaddr_t start, vaddr_t end);
/* Give v an amap of its own (a copy of its slots) when it shares one with
 * other VMAs, so it may grow; 0 or -MMK_ENOMEM. */
int vma_amap_make_private(struct vm_space *as, struct vm_area *v);

/* ---- writeback.c ---- */
/* Before the caller's translations in [start, end) go (munmap, exit,
 * DONTNEED): write the pages they dirtied in shared file mappings back
 * through their pagers; a page whose write fails keeps its dirty flag in
 * the object.  0 or the first pager error. */
int vm_writeback_locked(struct vm_space *as, vaddr_t start, vaddr_t end);
/* Write page va of v (a shared file mapping), held in the frame at pa and
 * dirty in its translation, through its object's pager: 0, or the pager's
 * error (the object page keeps its dirty flag for a later try). */
int vm_writeback_page(struct vm_space *as, const struct vm_area *v, vaddr_t va, paddr_t pa);
/* msync(MS_SYNC) of [start, end): every dirty page of the objects of the
 * shared file mappings there, dirtied through any mapping in any space
 * (their dirty bits are harvested through obj->mappings), is written back.
 * 0, -MMK_EAGAIN (another space mapping a page is busy; pages written so
 * far are clean, nothing else changed), or the first pager error (those
 * pages stay dirty). */
int vm_sync_locked(struct vm_space *as, vaddr_t start, vaddr_t end);

/* ---- charge.c: charging the space's account (issue 5) ---- */
/* Charge bytes to as's account from its stock (0 without an account);
 * 0, -MMK_ENOMEM (limit) or -MMK_EIDRM (account destroyed). */
int vm_charge_locked(struct vm_space *as, uint64_t bytes);
void vm_uncharge_locked(struct vm_space *as, uint64_t bytes);
/* A VMA struct, charged to as (NULL: no memory or over the limit), and
 * its free.  Every VMA of a space comes and goes through these. */
struct vm_area *vm_vma_alloc(struct vm_space *as);
void vm_vma_free_struct(struct vm_space *as, struct vm_area *v);
/* vm_anon_new / vm_anon_swap_in / vm_object_page with the new frame
 * charged to as (its payer from then on); errors theirs or the charge's. */
int vm_anon_new_charged(struct vm_space *as, bool zero, struct vm_anon **out);
int vm_anon_swap_in_charged(struct vm_space *as, struct vm_anon *a);
int vm_object_page_charged(struct vm_space *as, struct vm_object *obj, uint64_t pgoff, pfn_t *out);
/* The frame of a / page pgoff of obj is being freed: uncharge its payer. */
void vm_anon_uncharge(struct vm_anon *a);
void vm_object_uncharge_page(struct vm_object *obj, uint64_t pgoff);
/* The pmap's page-table source; ctx is the space. */
int vm_pt_alloc(void *ctx, paddr_t *out);
void vm_pt_free(void *ctx, paddr_t pa);
/* Give everything back and leave the account (space teardown). */
void vm_charge_fini(struct vm_space *as);
/* vm_check's part: NULL or what is broken. */
const char *vm_charge_check_locked(struct vm_space *as);

/* ---- kframes.c: user mappings of kernel frames (seed 002) ---- */
/* The frames of obj (a PHYS object) under [offset, offset + len): 0 when
 * a user may map them with prot (*boot set when the boot image is among
 * them: the mapping's max_prot loses write); -MMK_EPERM for a kernel
 * frame; -MMK_EACCES for the boot image with VM_PROT_WRITE.  0 for any
 * other object. */
int vm_kframes_check(struct vm_system *sys, const struct vm_object *obj, uint64_t offset, uint64_t len,
		     unsigned prot, bool *boot);
/* The same rule at fault time for page of v: 0 or -MMK_EFAULT. */
int vm_kframes_fault_check(struct vm_system *sys, const struct vm_area *v, vaddr_t page);

/* ---- object.c: object pages ---- */
/* The resident frame of page pgoff (false when absent or swapped out). */
bool vm_object_lookup(const struct vm_object *obj, uint64_t pgoff, pfn_t *pfn);
/* True when page pgoff has an entry, resident or swapped: a fault that
 * fails after vm_object_page must not forget it (its bytes are the
 * object's), only a page it made. */
bool vm_object_has(const struct vm_object *obj, uint64_t pgoff);
/* The frame of page pgoff: resident, brought back from swap, read through
 * the file pager, or made zero.  0, -MMK_ENOMEM, or a pager's error
 * (nothing changed). */
int vm_object_page(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, pfn_t *out);
/* Free resident page pgoff of obj (no translation may map it any more). */
void vm_object_forget(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff);
/* The page's own dirty flag (set when a translation's dirty bit was
 * harvested and the write-back has not succeeded yet). */
bool vm_object_dirty(const struct vm_object *obj, uint64_t pgoff);
void vm_object_set_dirty(struct vm_object *obj, uint64_t pgoff, bool dirty);
/* A file object whose pager reads and writes: its pages go back to the
 * file; other objects' pages go to the swap pager. */
bool vm_object_file_backed(const struct vm_object *obj);
/* Can reclaim take obj's pages at all (a file pager, or a swap pager)? */
bool vm_object_evictable(const struct vm_system *sys, const struct vm_object *obj);
/* Eviction in two steps, so a refusal changes nothing: save the bytes of
 * resident page pgoff (frame pfn) where they will come back from (the
 * file, when dirty; else the swap pager, *slot): 0 or the pager's error;
 * then, once no translation maps the frame, free it and leave the swap
 * slot (or nothing, for a file page) in the entry. */
int vm_object_page_out(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, pfn_t pfn, bool dirty,
		       uint64_t *slot);
void vm_object_evicted(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, uint64_t slot);
/* obj->mappings upkeep (vma_link, vma_unlink, fork) and its check. */
void vm_object_link_vma(struct vm_object *obj, struct vm_area *v);
void vm_object_unlink_vma(struct vm_object *obj, struct vm_area *v);
bool vm_object_maps(const struct vm_object *obj, const struct vm_area *v);
/* The address at which v shows page pgoff of its object, if it covers it. */
bool vma_object_va(const struct vm_area *v, uint64_t pgoff, vaddr_t *va);


#endif
