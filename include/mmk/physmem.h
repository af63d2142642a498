/*
 * mmk/physmem.h - seed 001's physical memory server: containers of frames,
 * shared between tasks, with weak capabilities, release, pinning and
 * migration.
 *
 * A container is a name space of byte offsets, created from an account (a
 * memory control capability, mmk/acct.h).  Its contents are not directly
 * accessible: a task allocates frames at offsets, maps ranges into its
 * address space (src/vm), copies ranges between containers (shared or
 * copy-on-write), and deallocates them.  Frames are allocated as the fewest
 * aligned power-of-two blocks of the buddy allocator and charged to the
 * container's account (one frame per page of the container, whether the
 * frame is shared or not: a copy-on-write break never needs a new charge).
 *
 * Capabilities.  Every call takes a struct container_ref: the container and
 * the rights the caller holds on it (PM_*; a later src/sys layer maps
 * handles to refs).  The creator's ref has every right.  A weak ref (seed
 * 001: "a weaker capability ... which allows a server limited access")
 * lacks ALLOC, DEALLOC and TAKE, so a server can read, write and map the
 * client's frames but never allocate, free or take them; it comes with a
 * share object the client keeps and may cancel: afterwards every call
 * through the weak ref fails with -MMK_EIDRM and the server's maps are gone.
 *
 *   call                  needs
 *   container_allocate    ALLOC
 *   container_deallocate  DEALLOC
 *   container_read        READ                  container_write  WRITE
 *   container_map         MAP, plus READ/WRITE for the protection asked
 *   container_copy        source: READ (COW), READ|WRITE|TAKE (shared);
 *                         destination: ALLOC
 *   container_release     ALLOC (it allocates private frames)
 *   container_pin/unpin   MAP (a pin is for DMA, which needs the frames)
 *   container_share       SHARE, and the rights it passes on
 *
 * Errors (seed 001's interface): -MMK_EEXIST (the range overlaps
 * allocated pages), -MMK_ENOENT (nothing allocated there), -MMK_EINVAL
 * (misaligned or empty range, unknown flags), -MMK_ENOMEM (over the
 * account's guarantee, or no frames), -MMK_EPERM (the ref lacks a right),
 * -MMK_EACCES (a map protection beyond the rights), -MMK_EIDRM (the
 * container is dead or the share cancelled), -MMK_EBUSY (pinned frames),
 * -MMK_EAGAIN (an address space mapping the container was busy on another
 * CPU; retry).  On error nothing changed.
 *
 * Units: offsets and lengths in bytes, page-aligned; counts in pages.
 *
 * Time: the core has no clock.  Pins last until a tick the caller names,
 * and physmem_set_time tells physmem what tick it is; an expired pin
 * lapses by itself (nothing to undo).
 *
 * Locking: struct physmem has one spin lock over all containers, frames
 * and shares; it ranks below vm_space.lock (faults on a container mapping
 * take it under the faulting space's lock) and above the kmem and phys
 * locks.  Calls that must remove translations take other spaces' locks
 * with trylock only (vm_object_zap), hence -MMK_EAGAIN.
 */
#ifndef MMK_PHYSMEM_H
#define MMK_PHYSMEM_H

#include <hal/lock.h>
#include <mmk/acct.h>
#include <mmk/btree.h>
#include <mmk/kmem.h>
#include <mmk/list.h>
#include <mmk/phys.h>
#include <mmk/types.h>
#include <mmk/vm.h>

/* ---- rights ---- */
#define PM_READ 0x01u    /* read contents, map readable */
#define PM_WRITE 0x02u   /* write contents, map writable */
#define PM_MAP 0x04u     /* map into an address space; pin */
#define PM_ALLOC 0x08u   /* allocate frames (charged to the account) */
#define PM_DEALLOC 0x10u /* deallocate frames */
#define PM_TAKE 0x20u    /* let the frames themselves go elsewhere (shared copy out) */
#define PM_SHARE 0x40u   /* make weak shares */
#define PM_RIGHTS_ALL 0x7fu
#define PM_RIGHTS_WEAK (PM_READ | PM_WRITE | PM_MAP) /* the most a weak ref carries */

/* ---- flags ---- */
#define PM_ALLOC_PARTIAL 0x1u  /* allocate a prefix when frames or guarantee run out */
#define PM_ALLOC_DMA 0x2u      /* frames below 16 MiB (the DMA zone); migrates to make room */
#define PM_ALLOC_FLAGS_ALL 0x3u

#define PM_COPY_COW 0x0u       /* copy-on-write: the destination is a snapshot */
#define PM_COPY_SHARED 0x1u    /* both ranges name the same frames: writes are seen by both */
#define PM_COPY_PARTIAL 0x2u   /* copy a prefix when memory runs out */
#define PM_COPY_FLAGS_ALL 0x3u

/* Longest pin, in ticks: pins are for a bounded time (seed 001). */
#define PM_PIN_MAX_TICKS 1000000u

struct container;
struct container_share;

/* A capability on a container: the container and the rights held.  For a
 * weak ref, share is the share it came through (the share decides whether
 * it still works); for the owner's ref, share is NULL. */
struct container_ref {
	struct container *c;
	unsigned rights;
	struct container_share *share;
};

/* A frame entry (seed 001: per-mapping state): pages [start, start +
 * npages) of one container name pages [frame_off, frame_off + npages) of
 * one frame.  In its container's B-tree, or on its parked list. */
struct pm_entry {
	uint64_t start, npages;       /* container pages */
	struct pm_frame *frame;
	uint64_t frame_off;           /* pages into the frame */
	struct container *c;
	struct mmk_list frame_link;   /* on frame->entries */
	struct mmk_list link;         /* on c->parked, or a list of detached entries */
	bool parked;                  /* deallocated, still mapped read-only (deferred unmap) */
};

/* A frame (seed 001: per-frame state, reference counted): one aligned
 * power-of-two block of the buddy allocator, named by refs entries.  When
 * part of it loses its last entry, that part goes back to the allocator
 * (the block is split); the frame is then "holey" and never migrated. */
struct pm_frame {
	pfn_t pfn;                    /* first frame of the block */
	uint8_t order;
	bool whole;                   /* every page still held (not split by a partial free) */
	bool cow;                     /* its entries share it copy-on-write */
	bool indexed;                 /* in physmem.frames (whole frames only) */
	uint32_t refs;                /* entries naming it */
	struct mmk_list entries;      /* struct pm_entry.frame_link */
	uint64_t pin_until;           /* pinned while physmem.now < pin_until */
	uint64_t mark;                /* checker scratch */
};

/* How a container is reached by maps: one external vm_object per owner or
 * share (so a cancelled share's maps can be taken alone). */
struct pm_view {
	struct container *c;          /* NULL once cut off */
	struct container_share *share; /* NULL for the owner's view */
	struct vm_object *obj;        /* created at the first map; NULL before */
};

struct container {
	struct physmem *pm;
	struct acct_holder holder;    /* on the account it charges */
	struct btree entries;         /* struct pm_entry by container page range */
	struct mmk_list parked;       /* deallocated entries still mapped read-only */
	struct mmk_list shares;       /* struct container_share.link, live ones */
	struct mmk_list link;         /* on physmem.containers */
	struct pm_view view;          /* the owner's maps */
	uint64_t pages;               /* pages allocated (== frames charged) */
	uint64_t parked_pages;
	uint32_t refs;                /* owner refs (container_ref_dup); freed at 0 once dead */
	uint32_t id;
	bool dead;                    /* destroyed, or its account was */
};

struct container_share {
	struct physmem *pm;
	struct container *c;          /* NULL once the container is gone */
	unsigned rights;              /* what the weak ref carries */
	bool cancelled;
	uint32_t refs;                /* the client's share handle + the server's ref */
	struct mmk_list link;         /* on c->shares while live */
	struct pm_view view;          /* the server's maps */
};

struct physmem {
	struct phys *phys;
	struct vm_system *vm;         /* for maps; NULL: container_map is -MMK_ENOSYS */
	struct hal_spinlock lock;
	struct kmem_cache container_cache, entry_cache, frame_cache, share_cache, node_cache;
	struct btree frames;          /* whole frames by physical range [pfn, pfn + 2^order) */
	struct mmk_list containers;
	uint64_t now;                 /* the caller's clock (physmem_set_time) */
	uint32_t next_id;
	/* counters */
	uint64_t frame_pages;         /* pages held in frames (shared ones once) */
	uint64_t nframes;             /* struct pm_frame alive */
	uint64_t parked_pages;        /* deallocated pages kept mapped read-only */
	uint64_t cow_breaks, eager_copies, released_pages;
	uint64_t migrated_frames, migrated_pages, compaction_passes;
	uint64_t mark;                /* checker generation */
};

/* ---- the server ---- */

/* Initialise pm over ph (frames) and vm (maps; may be NULL).  Caches come
 * from ph.  0, -MMK_EINVAL (NULL ph), -MMK_ENOMEM. */
int physmem_init(struct physmem *pm, struct phys *ph, struct vm_system *vm);
/* Tear down: -MMK_EBUSY (nothing changed) while containers or shares
 * live. */
int physmem_fini(struct physmem *pm);

/* Memory pressure: free the B-trees' spare nodes and every cache slab that
 * holds no live object.  Returns frames given back. */
size_t physmem_reap(struct physmem *pm);

/* Tell physmem the caller's clock (monotonic; a smaller value is ignored).
 * Pins with pin_until <= now have lapsed. */
void physmem_set_time(struct physmem *pm, uint64_t now);

/* Unmap and free every parked (deferred-unmap) page; returns pages freed.
 * Called by physmem itself when it runs out of frames, and by a reclaimer. */
uint64_t physmem_flush_deferred(struct physmem *pm);

/* ---- containers ---- */

/*
 * A new empty container charging acct (seed 001: "physmem will allocate a
 * container given a memory control capability").  *out is the owner's ref
 * with every right.  The container lives until container_destroy; when the
 * account is destroyed first, its frames are freed and every call on it
 * fails with -MMK_EIDRM until the owner destroys the ref.
 * 0, -MMK_EINVAL, -MMK_EIDRM (dead account), -MMK_ENOMEM.
 */
int container_create(struct physmem *pm, struct mmk_account *acct, struct container_ref *out);

/* Another owner ref on the same container (for a second task); each is
 * destroyed on its own.  Keeps the rights of r.  -MMK_EPERM for weak refs. */
int container_ref_dup(struct container_ref r, struct container_ref *out);

/*
 * Drop an owner ref; with the last one, deallocate everything (unmapping
 * it), cancel every share and free the container.  Works on a dead
 * container.  0, -MMK_EINVAL (weak ref: use container_ref_put),
 * -MMK_EAGAIN (a mapping space was busy; nothing changed).
 */
int container_destroy(struct container_ref *r);

/*
 * Allocate npages pages at byte offset `offset` (page-aligned), as the
 * fewest aligned power-of-two frames (a block of 2^k pages at a container
 * page index that is a multiple of 2^k; smaller ones when the allocator has
 * no block that large), zero-filled, charged to the account.
 * PM_ALLOC_PARTIAL: when frames or guarantee run out, keep the prefix that
 * was had.  PM_ALLOC_DMA: frames from the DMA zone, migrating other frames
 * out of it when it is full.  *done (may be NULL) = pages allocated.
 * 0; -MMK_EINVAL (npages 0, misaligned, wraps, flags); -MMK_EEXIST (a page
 * is allocated already); -MMK_ENOMEM (nothing could be had; without PARTIAL,
 * not all of it); -MMK_EPERM; -MMK_EIDRM.
 */
int container_allocate(struct container_ref r, uint64_t offset, uint64_t npages, unsigned flags, uint64_t *done);

/*
 * Deallocate [offset, offset + len): whole allocations or parts of them.
 * Their translations go (deferred unmap, seed 001: a page still mapped only
 * read-only, whose frame page no other entry uses, stays mapped until the
 * page is reused; see physmem.c) and each frame page no other entry names
 * returns to the allocator; the charge returns to the account.
 * 0; -MMK_EINVAL; -MMK_ENOENT (some page of the range is not allocated);
 * -MMK_EBUSY (a frame in it is pinned); -MMK_EPERM; -MMK_EIDRM; -MMK_EAGAIN.
 */
int container_deallocate(struct container_ref r, uint64_t offset, uint64_t len);

/*
 * Copy len bytes from src at src_off to dst at dst_off (both page-aligned;
 * may be the same container, ranges not overlapping).  PM_COPY_SHARED: the
 * destination names the very frames (writes through either are seen by
 * both); PM_COPY_COW: the destination is a snapshot, sharing frames until
 * one side writes.  A COW copy of frames shared (PM_COPY_SHARED) with a
 * third container is copied at once (a snapshot of shared-writable frames
 * cannot be lazy); a shared copy of COW frames first gives the source
 * private ones.  The source range must be allocated (-MMK_ENOENT), the
 * destination free (-MMK_EEXIST).  The destination's account is charged.
 * PM_COPY_PARTIAL: copy a prefix when memory runs out; *done = pages copied.
 * 0; -MMK_EINVAL; -MMK_ENOMEM; -MMK_EPERM; -MMK_EIDRM; -MMK_EAGAIN.
 */
int container_copy(struct container_ref src, uint64_t src_off, struct container_ref dst, uint64_t dst_off,
		   uint64_t len, unsigned flags, uint64_t *done);

/*
 * container_release (seed 001): give [offset, offset + len) frames of its
 * own, dissociating it from every frame it shares (copy-on-write or
 * shared), so it can be reused in place without copy-on-write faults.
 * Unshared pages are untouched.  0; -MMK_EINVAL; -MMK_ENOENT; -MMK_ENOMEM;
 * -MMK_EBUSY (pinned); -MMK_EPERM; -MMK_EIDRM; -MMK_EAGAIN.
 */
int container_release(struct container_ref r, uint64_t offset, uint64_t len);

/*
 * Read or write len bytes at byte offset `offset` (any alignment) of the
 * container: the kernel-side copy a server uses to fill a client's buffer
 * without mapping it.  A write to a copy-on-write page copies it first.
 * 0; -MMK_EINVAL; -MMK_ENOENT (a page not allocated); -MMK_ENOMEM (COW
 * copy); -MMK_EPERM; -MMK_EIDRM; -MMK_EAGAIN.
 */
int container_read(struct container_ref r, uint64_t offset, void *buf, uint64_t len);
int container_write(struct container_ref r, uint64_t offset, const void *buf, uint64_t len);

/*
 * Map [offset, offset + len) of the container shared into as (vm_map with
 * VM_MAP_SHARED and flags' other VM_MAP_* bits; hint as vm_map's) with
 * protection prot (VM_PROT_*); the mapping's max protection is what the
 * rights allow, so mprotect cannot go beyond them.  Pages fault in from the
 * container (a page not allocated faults with SIGBUS, -MMK_EFAULT); maps
 * are not persistent: physmem may remove translations at any time and the
 * next access re-faults.  *out = the start address.
 * 0; -MMK_EINVAL; -MMK_EACCES (prot beyond rights); -MMK_EPERM (no MAP);
 * -MMK_ENOSYS (no vm); -MMK_EIDRM; vm_map's errors.
 */
int container_map(struct container_ref r, struct vm_space *as, vaddr_t hint, uint64_t offset, uint64_t len,
		  unsigned prot, unsigned flags, vaddr_t *out);

/* ---- weak capabilities ---- */

/*
 * Make a weak share of the container carrying `rights` (a subset of
 * PM_RIGHTS_WEAK and of r's rights): *share is the client's handle on it,
 * *weak the ref to give the server.  0; -MMK_EINVAL (rights beyond
 * PM_RIGHTS_WEAK or empty); -MMK_EPERM (no SHARE, or rights r lacks);
 * -MMK_EIDRM; -MMK_ENOMEM.
 */
int container_share(struct container_ref r, unsigned rights, struct container_share **share,
		    struct container_ref *weak);

/*
 * Cancel a share (the client revokes it): the server's maps through it are
 * removed and every later call through its weak ref fails with -MMK_EIDRM.
 * Drops the client's handle (share is not to be used again).
 * 0, -MMK_EAGAIN (a mapping space was busy: the share is still live and
 * the handle still held; retry).
 */
int container_share_cancel(struct container_share *share);

/* The server drops its weak ref (the share struct goes with the last of
 * the two references).  Harmless on an owner ref with share NULL. */
void container_ref_put(struct container_ref *weak);

/* ---- pinning ---- */

/*
 * Pin the frames of [offset, offset + len) until tick `until` (> now, at
 * most PM_PIN_MAX_TICKS ahead): until then they are neither migrated nor
 * deallocated (-MMK_EBUSY).  The pin lapses by itself once now >= until.
 * paddrs (may be NULL) gets the physical address of each page (for DMA).
 * 0; -MMK_EINVAL (range, until out of bounds); -MMK_ENOENT; -MMK_EPERM;
 * -MMK_EIDRM.
 */
int container_pin(struct container_ref r, uint64_t offset, uint64_t len, uint64_t until, paddr_t *paddrs);

/* Lapse the pins on the frames of the range now.  Errors as container_pin. */
int container_unpin(struct container_ref r, uint64_t offset, uint64_t len);

/* ---- migration ---- */

struct pm_frag_stats {
	uint64_t free_frames;
	uint64_t nr_free[MMK_MAX_ORDER + 1]; /* free blocks per order, all zones */
	int largest_order;                   /* order of the largest free block, -1 when none */
};

/* Free blocks per order and the largest one (from phys_get_stats). */
void physmem_frag_stats(struct physmem *pm, struct pm_frag_stats *st);

struct pm_compact_result {
	uint64_t regions_tried, regions_freed;
	uint64_t frames_moved, pages_moved;
	uint64_t skipped_pinned, skipped_busy; /* frames left in place */
};

/*
 * A compaction pass: build free blocks of `order` by emptying aligned
 * regions of 2^order frames that hold only movable container frames
 * (whole, unpinned) and free frames, cheapest first, up to max_regions
 * regions (0: no limit).  Each moved frame: its translations go, its
 * contents are copied to a new block outside the regions, its entries are
 * repointed; clients re-fault.  Parked pages are flushed first.
 * 0 (with *res); -MMK_EINVAL (order 0 or above MMK_MAX_ORDER).
 */
int physmem_compact(struct physmem *pm, unsigned order, uint64_t max_regions, struct pm_compact_result *res);

/*
 * Move movable container frames out of zone (MMK_ZONE_DMA, ...) to higher
 * zones until the zone has `want` free frames or nothing more can move.
 * Returns frames of the zone now free.
 */
uint64_t physmem_evacuate_zone(struct physmem *pm, unsigned zone, uint64_t want, struct pm_compact_result *res);

/* ---- inspection ---- */

struct container_info {
	uint64_t pages, parked_pages, entries, frames_shared;
	uint32_t shares, id;
	bool dead;
};
/* Figures of the container behind r (any rights). -MMK_EIDRM (cancelled
 * share or freed), 0. */
int container_get_info(struct container_ref r, struct container_info *info);

/* The physical frame of the page at byte offset (any rights; for tests and
 * tools).  0, -MMK_ENOENT, -MMK_EIDRM. */
int container_frame_of(struct container_ref r, uint64_t offset, pfn_t *pfn);

/*
 * Re-derive: every container's B-tree (btree_check) and entries (inside
 * their frames, pages equals the sum of sizes, parked entries not
 * overlapping live ones); every frame's refs equals the entries naming it
 * and its list holds exactly them; a frame page named by two entries is
 * read-only in their maps unless the frame is shared; the frame index
 * holds exactly the whole frames, allocated user blocks of their order;
 * frame_pages and parked counts equal the recounts; each container's
 * charge covers its pages.  0 or -MMK_EINVAL with *why.
 */
int physmem_check(struct physmem *pm, const char **why);

#endif
