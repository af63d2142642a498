/*
 * mmk/phys.h - physical memory: RAM initialisation, the frame database,
 * zones and the binary buddy allocator (seeds 002, 003, 004).
 *
 * Units: pfn_t frame numbers, order = log2 of a block's frame count,
 * paddr_t bytes.  A block of order n is 2^n frames aligned to 2^n frames.
 *
 * Locking: struct phys has one spin lock (lock) that guards the free lists,
 * every frame descriptor's state/order/owner fields and the counters; every
 * function here takes it itself unless its name ends in _locked.
 * refcount is changed with atomic-free plain arithmetic under the caller's
 * address-space lock (issue 2 has one CPU touching a frame at a time).
 */
#ifndef MMK_PHYS_H
#define MMK_PHYS_H

#include <hal/hal.h>
#include <hal/lock.h>
#include <mmk/failpoint.h>
#include <mmk/types.h>

/* ---- the boot memory map (like e820 or a device tree's memory nodes) ---- */

enum mmk_mem_type {
	MMK_MEM_USABLE = 1,   /* free RAM */
	MMK_MEM_RESERVED = 2, /* firmware, MMIO holes, ACPI: never managed */
	MMK_MEM_BOOT = 3,     /* kernel/boot image: RAM owned by boot, never freed,
	                         mappable read-only by users (seed 002) */
};

struct mmk_mem_range {
	paddr_t base; /* bytes */
	uint64_t len; /* bytes */
	uint32_t type; /* enum mmk_mem_type */
};

/* ---- zones ---- */

enum mmk_zone_id {
	MMK_ZONE_DMA = 0,   /* frames below 16 MiB */
	MMK_ZONE_DMA32 = 1, /* frames below 4 GiB */
	MMK_ZONE_NORMAL = 2,
	MMK_NR_ZONES = 3,
};

#define MMK_ZONE_DMA_END ((paddr_t)16 << 20)
#define MMK_ZONE_DMA32_END ((paddr_t)4 << 30)

/* ---- the frame database ---- */

enum mmk_frame_state {
	MMK_FRAME_ABSENT = 0,   /* a hole in the map: no RAM */
	MMK_FRAME_RESERVED = 1, /* RAM never given to the allocator (boot image, frame db) */
	MMK_FRAME_FREE = 2,     /* head of a free buddy block of `order`: owner
	                           NONE (user space's) or KERNEL (the kernel's) */
	MMK_FRAME_ALLOCATED = 3, /* head of an allocated block of `order` */
	MMK_FRAME_TAIL = 4,     /* inside a block, not its head (order and owner
	                           live at the head only; owner stays NONE) */
};

enum mmk_frame_owner {
	MMK_OWNER_NONE = 0,
	MMK_OWNER_KERNEL = 1,
	MMK_OWNER_USER = 2,
	MMK_OWNER_BOOT = 3,
};

#define MMK_FRAME_NIL UINT32_MAX

/*
 * One descriptor per frame: 24 bytes (Linux's struct page is 64).  Links are
 * 32-bit indices into the database, which bounds one struct phys to 2^32
 * frames (16 TiB).
 */
struct mmk_frame {
	uint32_t next, prev;  /* free-list links (indices), MMK_FRAME_NIL at the ends */
	uint32_t refcount;    /* user mappings of the frame (seed 002) */
	uint8_t state;        /* enum mmk_frame_state */
	uint8_t order;        /* block order when state is FREE or ALLOCATED */
	uint8_t zone;         /* enum mmk_zone_id */
	uint8_t owner;        /* enum mmk_frame_owner */
	uint64_t private_data; /* for the layer that allocated the frame */
};

struct mmk_zone {
	pfn_t start_pfn, end_pfn;  /* [start, end) of the zone's span */
	uint64_t managed;          /* frames given to the allocator */
	uint64_t free;             /* frames free */
	uint32_t free_head[MMK_MAX_ORDER + 1]; /* per-order lists of free block heads */
	uint64_t nr_free[MMK_MAX_ORDER + 1];   /* blocks on each list */
	/* The kernel's free frames (seed 002: owned by the kernel, not in
	 * use): free heads with owner KERNEL, on lists of their own so that
	 * they never merge with user space's free blocks.  Empty until
	 * phys_give_to_kernel puts frames there (src/phys/ownership.c). */
	uint64_t kernel_free;                  /* frames on the kernel lists */
	uint32_t kfree_head[MMK_MAX_ORDER + 1];
	uint64_t knr_free[MMK_MAX_ORDER + 1];
};

struct phys {
	struct hal_machine *machine;
	struct hal_spinlock lock;
	struct mmk_failpoint *failpoint; /* may be NULL */
	struct mmk_frame *frames;  /* the database: frames[pfn - base_pfn] */
	pfn_t base_pfn, end_pfn;   /* database covers [base_pfn, end_pfn) */
	paddr_t db_paddr;          /* where the database lives in RAM */
	uint64_t db_bytes;         /* its size in bytes */
	uint64_t ram_frames;       /* usable + boot frames */
	uint64_t reserved_frames;  /* RAM frames never managed (boot, db) */
	struct mmk_zone zones[MMK_NR_ZONES];
	/* Frame ownership (seed 002, src/phys/ownership.c). */
	bool strict_ownership;     /* kernel allocations only from the kernel's free frames */
	pfn_t kernel_start_pfn, kernel_end_pfn; /* frames the kernel may own: [start, end) */
};

/*
 * Initialise ph from a memory map of n ranges (any order; overlaps allowed,
 * reserved/boot win over usable).  Usable ranges are trimmed inward to page
 * boundaries.  The frame database is placed in the highest usable range
 * below 4 GiB that holds it (else any), and reserved.
 * Reserved and boot ranges are rounded outward.  The database covers the
 * span of usable and boot frames (reserved-only ranges beyond it get none).
 * Returns 0; -MMK_EINVAL for an empty map, a zero-length or wrapping range
 * (one ending at 2^64 counts as wrapping), an unknown type, or no usable
 * range holding a whole page; -MMK_ENOMEM when no usable range can hold the
 * database clear of reserved and boot ranges; -MMK_ERANGE when the span has
 * 2^32 frames or more (UINT32_MAX is the list terminator).
 */
int phys_init(struct phys *ph, struct hal_machine *m, const struct mmk_mem_range *map, size_t n,
	      struct mmk_failpoint *fp);

/* Flags of phys_alloc.  Without PHYS_USER the block is the kernel's: it
 * comes from the kernel's free frames first (seed 002) and, unless strict
 * ownership is on, from the common free lists after them; with strict
 * ownership, only from the kernel's (-MMK_ENOMEM when it has none).  A
 * freed kernel block goes back to the kernel's free frames under strict
 * ownership, to the common lists otherwise (today's behaviour). */
#define PHYS_ZONE_DMA 0x1u    /* only below 16 MiB */
#define PHYS_ZONE_DMA32 0x2u  /* only below 4 GiB */
#define PHYS_ZERO 0x4u        /* zero the block */
#define PHYS_USER 0x8u        /* owner user (default: kernel) */
#define PHYS_FLAGS_ALL 0xfu

/*
 * Allocate a block of 2^order frames, aligned to 2^max(order, align_order)
 * frames, from the highest allowed zone that can satisfy it, falling back to
 * lower zones (NORMAL -> DMA32 -> DMA, as Linux's zonelists).
 * 0 and *out = the first frame; -MMK_EINVAL for an order above MMK_MAX_ORDER,
 * an align_order above 63, unknown flags or a NULL ph/out; -MMK_ENOMEM when
 * nothing fits (or the failpoint fires: consulted once per call, first).
 * Only the head descriptor gets order and owner; the block's other frames
 * are TAIL.  refcount and private_data of the head start at 0.
 */
int phys_alloc(struct phys *ph, unsigned order, unsigned flags, pfn_t *out);
int phys_alloc_aligned(struct phys *ph, unsigned order, unsigned align_order, unsigned flags, pfn_t *out);

/*
 * Free the block at pfn of `order`, coalescing with free buddies.
 * -MMK_EINVAL for a frame that is not the head of an allocated block of that
 * order (foreign, reserved, a hole, interior, wrong order); -MMK_EALREADY for
 * a double free (the aligned block lies inside one free block, also after it
 * merged with its buddy).  Nothing changes on error.
 */
int phys_free(struct phys *ph, pfn_t pfn, unsigned order);

/* ---- frame ownership between the kernel and user space (seed 002) ----
 *
 * Every managed frame is the kernel's or user space's, and in use or free:
 * a free frame on the common lists is user space's (its memory manager
 * hands those out with PHYS_USER); a free frame on a zone's kernel lists
 * is the kernel's; an allocated block is its owner's and in use (mapped,
 * held by an anon, object or container, or by a kernel object); RESERVED
 * frames (boot image, frame database) are the kernel's, in use for good.
 * The two calls below move free frames between the two sides.  Both take
 * a list of n frame numbers, allocate nothing (they cannot fail for lack
 * of memory), are all-or-nothing (on error nothing moved), and zero each
 * frame as it changes owner.  Errors, first per frame, for the first bad
 * frame of the list:
 *   -MMK_EINVAL  NULL list, n == 0, a frame outside RAM (hole, outside the
 *                database);
 *   -MMK_EEXIST  the receiver already owns the frame (also a frame listed
 *                twice: the second time it is already the receiver's);
 *   -MMK_EBUSY   the frame is in use (allocated, mapped, reserved);
 *   -MMK_EPERM   phys_give_to_kernel only: the architecture forbids the
 *                kernel this frame (outside [kernel_start_pfn,
 *                kernel_end_pfn), e.g. beyond what its direct map covers).
 * Locking: ph->lock, held for the whole list.  Source: seed 002 (Jinue).
 */
int phys_give_to_kernel(struct phys *ph, const pfn_t *pfns, size_t n);
int phys_take_from_kernel(struct phys *ph, const pfn_t *pfns, size_t n);

/*
 * Who owns frame pfn: MMK_OWNER_KERNEL (allocated to the kernel, free in
 * its pool, or reserved for it), MMK_OWNER_BOOT (the boot image),
 * MMK_OWNER_USER (allocated for user space), MMK_OWNER_NONE (free on user
 * space's lists, or not RAM at all: device memory, a hole).  A snapshot
 * under ph->lock.
 */
unsigned phys_owner_of(struct phys *ph, pfn_t pfn);

/* Strict ownership on or off (default off): see phys_alloc's flags. */
void phys_set_strict_ownership(struct phys *ph, bool strict);

/*
 * The frames the architecture lets the kernel own: [start, end) (default:
 * the whole database).  A boot-time rule, e.g. the frames the kernel's
 * direct map covers; in the sim, a test sets it to prove the refusal.
 * -MMK_EINVAL when start > end; -MMK_EBUSY when a kernel-free frame lies
 * outside the new range (take it back first).
 */
int phys_set_kernel_frames(struct phys *ph, pfn_t start, pfn_t end);

/* The kernel's free frames over all zones. */
uint64_t phys_kernel_free_frames(struct phys *ph);

/*
 * Take the block [pfn, pfn + 2^order) out of the allocator when all of it
 * is free (it lies inside one free block, which is split around it), as an
 * allocated block of that order; flags: PHYS_USER or 0 (kernel); never
 * zeroed.  For migration: fencing a region off before emptying it.
 * 0; -MMK_EINVAL (unaligned, order too large, unknown flags); -MMK_EBUSY
 * when some frame of it is not free (or free in the kernel's pool); -MMK_ENOMEM when the failpoint fires.
 */
int phys_alloc_at(struct phys *ph, pfn_t pfn, unsigned order, unsigned flags);

/*
 * Cut the allocated block at pfn of order (>= 1) into its two buddies of
 * order - 1, both allocated with the same owner (each later freed on its
 * own).  Translation counts (refcount) stay with their pages.  0, or
 * -MMK_EINVAL when pfn is not the head of an allocated block of order.
 */
int phys_split(struct phys *ph, pfn_t pfn, unsigned order);

/* Descriptor of pfn, or NULL when pfn lies outside the database. */
struct mmk_frame *phys_frame(struct phys *ph, pfn_t pfn);

/* Kernel pointer to the bytes of frame pfn (through the HAL direct map), or
 * NULL when pfn is outside the database or a hole (ABSENT: not RAM). */
void *phys_frame_ptr(struct phys *ph, pfn_t pfn);

struct phys_zone_stats {
	uint64_t managed, free;
	uint64_t nr_free[MMK_MAX_ORDER + 1]; /* free blocks per order (/proc/buddyinfo) */
};

struct phys_stats {
	uint64_t ram_frames, reserved_frames, managed_frames, free_frames;
	uint64_t kernel_free_frames; /* on the kernel's lists, not in free_frames */
	uint64_t db_bytes;
	struct phys_zone_stats zone[MMK_NR_ZONES];
};

void phys_get_stats(struct phys *ph, struct phys_stats *st);

/* Free frames over all zones (O(zones), for watermark checks): user
 * space's, on the common lists; the kernel's are phys_kernel_free_frames. */
uint64_t phys_free_frames(struct phys *ph);

/* Name of a zone ("DMA", "DMA32", "Normal"). */
const char *phys_zone_name(unsigned zone);

/*
 * Re-derive everything: every managed frame is a block head or a tail of
 * exactly one block; free heads are on their zone's list of their order,
 * aligned, inside one zone, and not mergeable with a free buddy; list links
 * are consistent; counters equal recounts.  0, or -MMK_EINVAL with *why.
 */
int phys_check(struct phys *ph, const char **why);

#endif
