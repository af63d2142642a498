/*
 * physmem/physmem_internal.h - what the files of src/physmem share.
 * Every function here expects pm->lock held unless it says otherwise.
 *
 *   physmem.c   theory, init/fini, time, deferred unmap flush, statistics
 *   frame.c     struct pm_frame: coverage, trimming (partial frees), index
 *   txn.c       validate-reserve-commit: spare entries, fresh frames, cut, plant
 *   container.c create/destroy, allocate, deallocate, account release
 *   copy.c      copy (shared, COW, eager), release, COW breaks, read/write
 *   map.c       views: external vm objects, page source, zap helpers, map
 *   share.c     weak shares
 *   pin.c       pins
 *   migrate.c   compaction and zone evacuation
 *   check.c     physmem_check
 */
#ifndef MMK_PHYSMEM_INTERNAL_H
#define MMK_PHYSMEM_INTERNAL_H

#include <mmk/errno.h>
#include <mmk/physmem.h>

#include "lib/mem.h"

#define PM_PAGE_LIMIT ((uint64_t)1 << 51) /* container pages: offsets below 2^63 bytes */

static inline uint64_t pm_order_pages(unsigned order) { return (uint64_t)1 << order; }
static inline uint64_t entry_end(const struct pm_entry *e) { return e->start + e->npages; }
static inline struct pm_entry *entry_of_item(const struct btree_item *it) { return it ? it->val : NULL; }

/* ---- physmem.c ---- */
/* The live container behind r with every right of need: 0, -MMK_EPERM,
 * -MMK_EIDRM, -MMK_EINVAL (no container). */
int pm_resolve(struct container_ref r, unsigned need, struct container **out);
/* pm of a ref (share or container), or NULL. */
struct physmem *pm_of_ref(struct container_ref r);
/* Byte range to page range: -MMK_EINVAL when misaligned, empty or wrapping. */
int pm_pages(uint64_t offset, uint64_t len, uint64_t *first, uint64_t *npages);
/*
 * The common head of the range calls: validate [offset, offset + len)
 * (page-aligned), take pm->lock, resolve r with need, and with
 * PM_NEED_ALLOCATED / PM_NEED_UNPINNED check the range (-MMK_ENOENT,
 * -MMK_EBUSY).  Returns with the lock held whenever *pm is set (also on a
 * refusal), so the caller unlocks.
 */
#define PM_NEED_ALLOCATED 0x1u
#define PM_NEED_UNPINNED 0x2u
int pm_begin(struct container_ref r, uint64_t offset, uint64_t len, unsigned need, unsigned checks,
	     struct physmem **pm, struct container **c, uint64_t *first, uint64_t *n);
/* Flush every parked entry of c that overlaps [first, first + n). */
int pm_flush_parked_range(struct container *c, uint64_t first, uint64_t n);
uint64_t pm_flush_all_locked(struct physmem *pm);

/* ---- frame.c ---- */
struct pm_frame *frame_alloc(struct physmem *pm);
void frame_free_struct(struct physmem *pm, struct pm_frame *f);
/* Take a block from phys for f (zeroed unless nozero); flags PHYS_ZONE_*. */
int frame_get_block(struct physmem *pm, struct pm_frame *f, unsigned order, unsigned zone_flags, bool zero);
/* Index a whole frame by its physical range (pm->frames preloaded). */
void frame_index(struct physmem *pm, struct pm_frame *f);
void frame_unindex(struct physmem *pm, struct pm_frame *f);
void frame_attach(struct pm_frame *f, struct pm_entry *e);
/* Detach e from its frame, returning to phys every part no other entry
 * names; frees the frame with its last entry.  Translations of the freed
 * pages must be gone. */
void frame_detach(struct physmem *pm, struct pm_entry *e);
/* Another entry than skip names frame page fpage. */
bool frame_page_shared(const struct pm_frame *f, uint64_t fpage, const struct pm_entry *skip);
/* Another entry than skip names some page of [fpage, fpage + n). */
bool frame_range_shared(const struct pm_frame *f, uint64_t fpage, uint64_t n, const struct pm_entry *skip);
/* Writes through e to its page at container page pg must copy first. */
bool entry_page_cow(const struct pm_entry *e, uint64_t pg);
/* Kernel pointer to container page pg of e. */
void *entry_page_ptr(struct physmem *pm, const struct pm_entry *e, uint64_t pg);
pfn_t entry_pfn(const struct pm_entry *e, uint64_t pg);
bool frame_pinned(const struct physmem *pm, const struct pm_frame *f);

/* ---- txn.c: validate, reserve, commit ---- */
struct pm_txn {
	struct physmem *pm;
	struct container *c;     /* the container being changed */
	struct mmk_list spare;   /* spare entries */
	unsigned nspare;
	struct mmk_list fresh;   /* new entries on new frames, in container order, not planted */
	uint64_t fresh_pages, nfresh;
	struct mmk_list cut;     /* entries detached by txn_cut */
	uint64_t charged;        /* pages charged to c's account by this txn */
	bool flushed;            /* parked pages flushed once already (or must not be) */
	bool no_charge;          /* gathered frames replace pages already charged */
};
void txn_init(struct pm_txn *t, struct container *c);
int txn_reserve_entries(struct pm_txn *t, unsigned n);
struct pm_entry *txn_take_entry(struct pm_txn *t);
/* Charge n pages to the container's account (undone by txn_abort). */
int txn_charge(struct pm_txn *t, uint64_t n);
/*
 * New zero-filled frames for container pages [first, first + n) as the
 * fewest aligned power-of-two blocks, each with its own entry (start set,
 * not planted), appended to t->fresh.  zone_flags PHYS_ZONE_*.  partial:
 * stop at the first piece that cannot be had and report *got; else fail.
 * 0 or -MMK_ENOMEM.
 */
int txn_gather(struct pm_txn *t, uint64_t first, uint64_t n, unsigned zone_flags, bool partial, bool zero,
	       uint64_t *got);
/* Free the fresh entries appended after tail (a failed gather's part). */
void txn_drop_fresh_after(struct pm_txn *t, struct mmk_list *tail);
/* The next maximal run [*lo, *hi) of contiguous fresh entries from l on;
 * returns the list node after the run, or NULL when l is the end. */
struct mmk_list *txn_next_run(struct pm_txn *t, struct mmk_list *l, uint64_t *lo, uint64_t *hi);
/* Preload c's tree and the frame index for what commit will insert. */
int txn_preload(struct pm_txn *t, uint64_t inserts);
/* Undo everything reserved: fresh frames freed, charges returned, spares freed. */
void txn_abort(struct pm_txn *t);
/* Free what commit did not use (spare entries; trim tree pools). */
void txn_finish(struct pm_txn *t);
/* Entries of c meeting [first, first + n) cover it completely. */
bool range_allocated(struct container *c, uint64_t first, uint64_t n);
/* No entry of c meets [first, first + n). */
bool range_free(struct container *c, uint64_t first, uint64_t n);
/*
 * Detach the parts of c's entries inside [first, first + n) onto t->cut
 * (boundary entries are split: needs 2 spare entries and a preload of 1).
 * Cut pieces still hold their frames.
 */
void txn_cut(struct pm_txn *t, uint64_t first, uint64_t n);
/* Insert every fresh entry into c's tree and index its frame. */
void txn_plant(struct pm_txn *t);
/* Insert one prepared entry (frame attached) into c's tree (preloaded). */
void entry_plant(struct container *c, struct pm_entry *e);
/* Free an entry struct. */
void entry_free(struct physmem *pm, struct pm_entry *e);
/* Drop a detached entry: frame_detach, then free it. */
void entry_drop(struct physmem *pm, struct pm_entry *e);
/* Pinned frames among c's entries in [first, first + n). */
bool range_pinned(struct container *c, uint64_t first, uint64_t n);

/* ---- map.c ---- */
/* Remove translations of c's pages [first, first + n) from every view;
 * filter as vm_object_zap's.  0 or -MMK_EAGAIN. */
int pm_zap(struct container *c, uint64_t first, uint64_t n,
	   bool (*filter)(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits), void *ctx, struct vm_space *held);
/* Zap every translation of every page of frame f (all its entries). */
int pm_zap_frame(struct physmem *pm, struct pm_frame *f, struct vm_space *held);
/* Remove translations of pages [first, first + n) made through v only. */
int view_zap(struct physmem *pm, struct pm_view *v, uint64_t first, uint64_t n,
	     bool (*filter)(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits), void *ctx, struct vm_space *held);
void view_init(struct pm_view *v, struct container *c, struct container_share *s);
/* Cut v off: translations gone, source detached, object released. */
void view_cut(struct physmem *pm, struct pm_view *v);

/* ---- copy.c ---- */
/* Give c's pages [first, first + n) private copies where their frames are
 * shared (only_shared) or everywhere; held as pm_zap.  0 or an error,
 * nothing changed. */
int pm_replace_locked(struct container *c, uint64_t first, uint64_t n, bool only_shared, struct vm_space *held);

/* ---- container.c ---- */
/* Tear c's contents down (every translation, entry, parked entry, share);
 * 0 or -MMK_EAGAIN with nothing changed. */
int container_teardown_locked(struct container *c);
void container_free_locked(struct container *c);

/* ---- share.c ---- */
void share_put_locked(struct container_share *s);

/* ---- migrate.c ---- */
uint64_t pm_evacuate_locked(struct physmem *pm, unsigned zone, uint64_t want, struct pm_compact_result *res);

#endif
