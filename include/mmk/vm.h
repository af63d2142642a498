/*
 * mmk/vm.h - virtual memory: address spaces of VMAs over a pmap, demand
 * paging, and the memory calls of a POSIX kernel (seed 004's mspace API,
 * seed 003's memory maps; every call behaves as Linux's of the same name,
 * with Linux's errors, except where noted "differs").
 *
 * Units: addresses are vaddr_t bytes; lengths are size_t bytes (rounded up to
 * whole pages where Linux rounds); offsets into objects are bytes.  Ranges
 * are half-open [start, end).
 *
 * Ownership: a vm_system owns the caches that VMAs and objects come from and
 * outlives every space made from it.  A vm_space owns its VMAs, its pmap and
 * one reference on each object its VMAs map.
 *
 * Locking: each vm_space has a spin lock (lock) guarding its VMA tree, brk
 * and counters and its pmap; every vm_* call on a space takes it.  Lock
 * order: vm_space.lock, then kmem cache locks, then phys.lock
 * (docs/locking.md).
 */
#ifndef MMK_VM_H
#define MMK_VM_H

#include <hal/pmap.h>
#include <mmk/acct.h>
#include <mmk/kmem.h>
#include <mmk/phys.h>
#include <mmk/types.h>
#include <mmk/radix.h>
#include <mmk/rbtree.h>

/* ---- protections and flags: Linux's values, so a syscall layer passes them through ---- */

#define VM_PROT_NONE 0x0u
#define VM_PROT_READ 0x1u
#define VM_PROT_WRITE 0x2u
#define VM_PROT_EXEC 0x4u
#define VM_PROT_ALL 0x7u

#define VM_MAP_SHARED 0x01u
#define VM_MAP_PRIVATE 0x02u
#define VM_MAP_SHARED_VALIDATE 0x03u
#define VM_MAP_TYPE 0x0fu
#define VM_MAP_FIXED 0x10u
#define VM_MAP_ANONYMOUS 0x20u
#define VM_MAP_GROWSDOWN 0x100u
#define VM_MAP_DENYWRITE 0x800u
#define VM_MAP_EXECUTABLE 0x1000u
#define VM_MAP_LOCKED 0x2000u
#define VM_MAP_NORESERVE 0x4000u
#define VM_MAP_POPULATE 0x8000u
#define VM_MAP_NONBLOCK 0x10000u
#define VM_MAP_STACK 0x20000u
#define VM_MAP_HUGETLB 0x40000u
#define VM_MAP_SYNC 0x80000u
#define VM_MAP_FIXED_NOREPLACE 0x100000u

#define VM_MREMAP_MAYMOVE 1u
#define VM_MREMAP_FIXED 2u
#define VM_MREMAP_DONTUNMAP 4u

#define VM_MADV_NORMAL 0
#define VM_MADV_RANDOM 1
#define VM_MADV_SEQUENTIAL 2
#define VM_MADV_WILLNEED 3
#define VM_MADV_DONTNEED 4
#define VM_MADV_FREE 8
#define VM_MADV_REMOVE 9
#define VM_MADV_DONTFORK 10
#define VM_MADV_DOFORK 11
#define VM_MADV_MERGEABLE 12
#define VM_MADV_UNMERGEABLE 13
#define VM_MADV_HUGEPAGE 14
#define VM_MADV_NOHUGEPAGE 15
#define VM_MADV_DONTDUMP 16
#define VM_MADV_DODUMP 17
#define VM_MADV_WIPEONFORK 18
#define VM_MADV_KEEPONFORK 19
#define VM_MADV_COLD 20
#define VM_MADV_PAGEOUT 21

#define VM_MS_ASYNC 1u
#define VM_MS_INVALIDATE 2u
#define VM_MS_SYNC 4u

/* ---- VMA flags (vm_area.flags) ---- */
#define VMA_SHARED 0x0001u     /* MAP_SHARED: writes reach the object */
#define VMA_GROWSDOWN 0x0002u  /* a stack: faults just below extend it */
#define VMA_DONTFORK 0x0004u   /* MADV_DONTFORK: not copied by fork */
#define VMA_WIPEONFORK 0x0008u /* MADV_WIPEONFORK: child sees zeroes */
#define VMA_LOCKED 0x0010u     /* mlock: populated and kept resident */
#define VMA_NORESERVE 0x0020u  /* MAP_NORESERVE */
#define VMA_DEAD 0x0040u       /* marked dead: awaits scavenge and sweep (seed 004) */
#define VMA_SPECIAL 0x0080u    /* kernel-made ([vdso], [vvar], ...): never merged */
#define VMA_HUGEPAGE 0x0100u   /* MADV_HUGEPAGE advice recorded */
#define VMA_DONTDUMP 0x0200u

/* ---- memory objects (the foundation's: identity and name; pages come with issue 3) ---- */

enum vm_object_type {
	VM_OBJECT_ANON = 1,   /* shared anonymous memory, SysV/POSIX shm, memfd */
	VM_OBJECT_FILE = 2,   /* a file's pages */
	VM_OBJECT_PHYS = 3,   /* fixed frames (device memory) */
	VM_OBJECT_EXTERNAL = 4, /* frames lent by another layer through a page source (physmem containers) */
};

struct vm_space;

/*
 * Where a VM_OBJECT_EXTERNAL object's pages come from (seed 001: a map of a
 * physmem container).  The frames stay the source's: the object never
 * allocates or frees them, and the source removes their translations
 * (vm_object_zap) before it frees, moves or replaces a frame.
 * page: the frame of page pgoff for an access (PMAP_ACCESS_*) by `as`,
 *   whose lock the caller holds: 0 with *pfn, and *writable false when the
 *   translation must stay read-only for now (a copy-on-write page read);
 *   -MMK_EFAULT when nothing is there (SIGBUS), -MMK_ENOMEM, or -MMK_EAGAIN
 *   (the source is busy: retry the access).
 * check: for vm_check: NULL when a translation of pgoff to pfn with bits is
 *   legitimate, else why not.
 * A detached source (page NULL) makes every fault -MMK_EFAULT.
 */
struct vm_page_source {
	int (*page)(void *ctx, struct vm_space *as, uint64_t pgoff, unsigned access, pfn_t *pfn, bool *writable);
	const char *(*check)(void *ctx, uint64_t pgoff, pfn_t pfn, unsigned bits);
	void *ctx;
};

/*
 * A file pager (seed 003's memory-object pager): reads a page of the file
 * into a frame on first use and writes dirty pages back (msync, munmap,
 * exit).  read fills 4096 bytes (zeroes past the end of the file); both
 * return 0 or a negative error (-MMK_EFAULT past a size limit, an I/O
 * error), which a fault reports to the access (SIGBUS-like) and msync
 * returns.  Called with a space lock held.
 */
struct vm_file_pager {
	int (*read)(void *ctx, uint64_t pgoff, void *page);
	int (*write)(void *ctx, uint64_t pgoff, const void *page);
	void *ctx;
};

/*
 * A read-only file in memory (an executable handed over by the boot
 * loader, an image built by a test): bytes[0, len), owned by the caller,
 * unchanged and alive as long as any object reading through it.  As a
 * file pager (vm_object_create_memory) page pgoff reads bytes
 * [pgoff * 4096, + 4096), zeroes past len; a write-back is refused with
 * -MMK_EROFS, so its pages are private-mapped (execve's segments: copied
 * on write), and a clean page under reclaim is dropped and read again.
 */
struct vm_memory_pager {
	const void *bytes;
	uint64_t len;
};

struct vm_object {
	uint32_t refcount;  /* references: VMAs plus creator handles */
	uint32_t type;      /* enum vm_object_type */
	const char *name;   /* shown by vm_display; owned by the creator, lives as long as the object */
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	uint64_t size;      /* bytes; informational until pagers come */
	struct radix_tree pages; /* page index -> entry: a resident frame (and its dirty flag) or a swap slot */
	pfn_t phys_base;    /* VM_OBJECT_PHYS: its fixed frames are [phys_base, phys_base + size pages) */
	struct radix_tree charges; /* page index -> struct mmk_account * that pays for it (src/vm/charge.c) */
	struct vm_file_pager pager; /* read NULL: pages start zero */
	uint64_t writebacks;        /* pages written back through the pager */
	/* Every VMA mapping the object, in any space (Linux's i_mmap): with a
	 * VMA's space, start and offset it names each (space, address) that
	 * may map a page, so reclaim and msync reach every translation of a
	 * page without a reverse map per frame.  Kept by vma_link/vma_unlink. */
	struct vm_area *mappings;
	uint64_t nmappings;
	struct vm_object *sys_next, *sys_prev; /* on vm_system.objects */
	struct vm_page_source source; /* VM_OBJECT_EXTERNAL only */
};

/*
 * An entry of vm_object.pages (object.c owns the encoding; checkers read
 * it): bit 0 set, a resident frame, pfn = entry >> 2, bit 1 = the page is
 * dirty (written through a mapping and not yet written back; the dirty
 * bits of translations still mapping it are not folded in); bit 0 clear, a
 * page in the swap pager at slot entry >> 2 (objects without a file pager
 * to write to: shared anonymous memory, pagerless files).  Returns true
 * and *pfn for a resident page.
 */
static inline bool vm_object_entry_frame(const void *entry, pfn_t *pfn)
{
	uintptr_t e = (uintptr_t)entry;
	if (!(e & 1))
		return false;
	*pfn = (pfn_t)(e >> 2);
	return true;
}

/*
 * Anonymous memory (UVM's anons and amaps, Cranor 1998; docs/design.md says
 * why not shadow objects): an anon is one page of private memory, shared
 * copy-on-write by every amap slot that refers to it; an amap maps the page
 * slots of private VMAs to anons.  A private VMA refers to its amap from a
 * slot offset (amap_slot), so split pieces share one amap.
 */
struct vm_anon {
	uint32_t refcount;  /* amap slots referring to it */
	bool swapped;       /* its bytes are in the swap pager at swap_slot, not in a frame */
	pfn_t pfn;          /* the frame holding its bytes (owned by the anon), unless swapped */
	struct mmk_account *acct; /* pays for the frame (the first toucher), NULL: nobody (src/vm/charge.c) */
	uint64_t swap_slot; /* the swap pager's slot, when swapped */
};

/*
 * A pager moves page contents between frames and backing store (Mach's
 * memory-object pager, seed 003).  The swap pager backs anonymous memory
 * under reclaim.  page_out stores 4096 bytes and names a slot; page_in
 * reads a slot back; release forgets one.  0 or a negative error (a full
 * store: -MMK_ENOSPC; an I/O error: anything), which reclaim skips and a
 * page-in returns to the faulting access (SIGBUS-like), losing nothing.
 * Called with the faulting or reclaiming space's lock held.
 */
struct vm_pager {
	int (*page_out)(void *ctx, const void *page, uint64_t *slot);
	int (*page_in)(void *ctx, uint64_t slot, void *page);
	void (*release)(void *ctx, uint64_t slot);
	void *ctx;
};

struct vm_amap {
	uint32_t refcount;  /* VMAs referring to it */
	struct radix_tree slots; /* slot -> struct vm_anon * */
};

/* ---- VMAs ---- */

struct vm_area {
	struct rb_node node;    /* in vm_space.vmas, keyed by start */
	vaddr_t start, end;     /* page-aligned, start < end */
	vaddr_t gap_below;      /* bytes free between the previous VMA (or floor) and start */
	vaddr_t max_gap;        /* largest gap_below in this subtree (augmented) */
	uint32_t prot;          /* VM_PROT_* */
	uint32_t max_prot;      /* VM_PROT_*: what mprotect may grant (EACCES beyond) */
	uint32_t flags;         /* VMA_* */
	struct vm_object *object; /* NULL for private anonymous memory */
	uint64_t offset;        /* byte offset in object of start */
	const char *name;       /* special name ("[vdso]") or NULL; static storage */
	uint32_t owner;         /* non-MMU mode: id of the space that made it; else 0 */
	uint32_t block_order;   /* non-MMU mode: buddy order of the frames behind it */
	struct vm_amap *amap;   /* private VMAs: anonymous pages, made at the first write; else NULL */
	uint64_t amap_slot;     /* slot of start in amap (pages) */
	struct vm_space *space; /* the space whose tree holds it (set by vma_link) */
	struct vm_area *obj_next, *obj_prev; /* on object->mappings while in a tree */
};

/* ---- the system and its spaces ---- */

struct vm_system {
	struct phys *phys;
	struct hal_machine *machine;
	struct kmem_cache vma_cache;
	struct kmem_cache object_cache;
	struct kmem_cache space_cache;
	struct kmem_cache anon_cache;
	struct kmem_cache amap_cache;
	struct kmem_cache radix_cache; /* nodes of amap and object page trees */
	uint64_t cow_copies;     /* private pages copied on a write */
	uint64_t zero_fills;     /* pages made zero on first touch */
	struct vm_pager swap;    /* swap pager (page_out NULL: none, nothing is reclaimed) */
	uint64_t low_watermark;  /* free frames below which faults reclaim first */
	uint64_t page_outs, page_ins; /* pages written to / read back from the swap pager */
	uint64_t file_page_outs;  /* file pages reclaim wrote back (dirty) or dropped (clean) */
	struct vm_object *objects;    /* every object, for attribution and the page-cache clock */
	struct vm_object *cache_hand; /* page-cache clock: the object and page index it resumes at */
	uint64_t cache_hand_pgoff;
	uint64_t cache_unmapped_hint; /* frames that lost their last translation (0: the page-cache clock rests) */
	uint64_t cache_turn_hint;     /* the hint when the clock's turn began */
	bool cache_turn_found;        /* the turn met an unmapped page */
	struct vm_space *space_list; /* every space, for reclaim's clock */
	struct vm_space *clock_space; /* where the clock hand is */
	vaddr_t clock_va;
	uint64_t pt_pages;       /* page-table pages in use, all spaces */
	uint64_t user_frames;    /* frames mapped into user spaces */
	uint64_t spaces;         /* live spaces */
	bool nommu;              /* seed 003's non-MMU mode: one map shared by all spaces */
	struct vm_space *shared_map; /* non-MMU mode: the map every space's VMAs live in */
	uint32_t next_space_id;
	uint64_t populate_serial; /* tags the frames of one populate call, for its undo */
};

struct vm_space {
	struct vm_system *sys;
	struct vm_space *next_space, *prev_space; /* on sys->space_list */
	uint32_t id;             /* unique in the system; owner tag of VMAs in non-MMU mode */
	struct hal_spinlock lock;
	struct pmap pmap;
	struct rb_tree vmas;
	vaddr_t min_addr;        /* lowest mappable address (mmap_min_addr) */
	vaddr_t max_addr;        /* end of the user space (TASK_SIZE) */
	vaddr_t mmap_base;       /* top-down placement starts below this */
	vaddr_t start_brk, brk;  /* heap: [start_brk, brk) bytes; 0 when unset */
	vaddr_t start_stack;     /* an address inside the main stack, 0 if none */
	uint64_t stack_limit;    /* bytes a growsdown VMA may reach (RLIMIT_STACK) */
	uint64_t stack_guard;    /* bytes kept free below a stack (stack_guard_gap) */
	uint64_t mapped_pages;   /* sum of VMA sizes, pages */
	uint64_t faults;         /* faults resolved */
	uint64_t faults_refused; /* faults answered with a segmentation fault */
	uint64_t zero_fills;     /* demand-zero pages made */
	uint64_t dead_vmas;      /* VMAs marked dead, not yet swept */
	/* Charging (issue 5, src/vm/charge.c), guarded by lock: */
	struct acct_holder holder; /* on acct while attached: destroying acct releases this space's memory */
	struct mmk_account *acct;  /* pays for this space's memory (one reference held); NULL: nobody */
	uint64_t charge_stock;   /* bytes charged to acct in advance and not yet used (a whole number of pages with kobj_bytes) */
	uint64_t kobj_bytes;     /* bytes of kernel objects charged for this space (VMAs) */
	uint64_t pt_charged;     /* page-table pages charged to acct */
	uint64_t charge_failures; /* allocations refused because acct was at its limit or dead */
	bool killed;             /* acct was destroyed: the memory is gone, allocations fail with -MMK_EIDRM */
};

/* Linux x86-64 defaults. */
#define VM_DEFAULT_MIN_ADDR 0x1000ull               /* vm.mmap_min_addr of the traces */
#define VM_DEFAULT_MAX_ADDR 0x7ffffffff000ull       /* TASK_SIZE_MAX */
#define VM_DEFAULT_STACK_LIMIT (8ull << 20)         /* RLIMIT_STACK */
#define VM_DEFAULT_STACK_GUARD (256ull << 12)       /* stack_guard_gap */
#define VM_DEFAULT_MMAP_GAP (128ull << 20)          /* mmap_base = TASK_SIZE - this */

/* 0, or -MMK_EINVAL/-MMK_ENOMEM from the caches.  sys is embedded by the caller. */
int vm_system_init(struct vm_system *sys, struct phys *ph);
/*
 * Non-MMU mode (seed 003: "in non-MMU architectures, there is only one map
 * shared by all processes and the kernel").  Every space's VMAs live in one
 * shared map at the physical address of their frames (virtual == physical);
 * a mapping is backed by physically contiguous, zeroed frames at once (no
 * demand paging, no faults); each space sees and changes only its own VMAs.
 * Differences from MMU mode, as Linux's nommu: MAP_FIXED is -MMK_EINVAL;
 * munmap must name a whole mapping (-MMK_EINVAL otherwise); mprotect only
 * records the protection (nothing enforces it); fork is -MMK_ENOSYS; brk
 * never grows (the old break); mremap may only shrink in place.
 * 0, or errors as vm_system_init, or -MMK_ENOMEM for the shared map.
 */
int vm_system_init_nommu(struct vm_system *sys, struct phys *ph);

/* -MMK_EBUSY while spaces are alive. */
int vm_system_fini(struct vm_system *sys);

/* Give the frames of every VM cache that hold no live object back to the
 * frame allocator (memory pressure, leak baselines).  Returns frames freed. */
size_t vm_system_reap(struct vm_system *sys);

/*
 * Install the swap pager (copied) and the low watermark (free frames):
 * from then on, a fault that finds fewer free frames than the watermark, or
 * no frame at all, first runs vm_reclaim.
 */
void vm_system_set_swap(struct vm_system *sys, const struct vm_pager *swap, uint64_t low_watermark);

/*
 * Reclaim (src/vm/reclaim.c): first object pages no translation maps (the
 * page cache), then a clock over every space's translations using the
 * pmap's accessed bits (a page used since the last pass, through any
 * mapping, gets a second chance).  Private pages held by one anon and one
 * translation go to the swap pager; object pages (shared file and shared
 * anonymous memory, file pages private mappings read) are taken from every
 * space that maps them, through the object's mappings list: dirty file
 * pages are written back through the file pager, clean ones dropped, pages
 * of objects without a file pager go to the swap pager.  A later fault
 * brings the bytes back.  A pager error leaves the page resident and
 * mapped.  locked is the space whose lock the caller holds (or NULL);
 * other spaces are skipped while their lock is busy.  Returns frames freed
 * (<= target).
 */
uint64_t vm_reclaim(struct vm_system *sys, struct vm_space *locked, uint64_t target);

/* A new empty address space (Linux x86-64 bounds and defaults).  0, or
 * -MMK_ENOMEM. */
int vm_space_create(struct vm_system *sys, struct vm_space **out);

/* Unmap everything (frames freed when their last mapping goes), free the
 * page tables and the space.  The space must not be active on any CPU. */
void vm_space_destroy(struct vm_space *as);

/*
 * fork(2): a new space with a copy of every VMA of parent except DONTFORK
 * ones; private pages are shared copy-on-write (the first write of either
 * side copies the page), shared pages stay shared through their object,
 * WIPEONFORK VMAs start empty.  O(VMAs + resident private pages).
 * 0, or -MMK_ENOMEM with nothing left behind.
 */
int vm_space_fork(struct vm_space *parent, struct vm_space **out);

/*
 * Set the stack rules of a space: limit = bytes a growsdown VMA may span
 * (RLIMIT_STACK), guard = bytes kept free below it (Linux stack_guard_gap),
 * both page multiples.  Placement gaps are recomputed (O(n)).
 * -MMK_EINVAL for unaligned values.
 */
int vm_space_set_stack(struct vm_space *as, uint64_t limit, uint64_t guard);

/* One PT_LOAD segment of an executable, as the loader read it: virtual
 * address and file offset in bytes (equal modulo the page size), sizes in
 * bytes (memsz >= filesz), protection VM_PROT_*. */
struct vm_exec_segment {
	vaddr_t vaddr;
	uint64_t offset, filesz, memsz;
	unsigned prot;
};

/*
 * execve(2)'s layout in the fresh, empty space as (Linux binfmt_elf, in
 * outline): each segment a private mapping of image at its offset, its bss
 * anonymous (the bss head in the last file page zeroed in a private copy),
 * a growsdown stack of stack_bytes ending at stack_top with its top page
 * resident, and the heap starting at brk_start.  A segment with memsz 0
 * maps nothing.  0; -MMK_EINVAL (bad segment, unaligned stack),
 * -MMK_EBUSY (space not empty), -MMK_EEXIST (two segments share a page,
 * or one lies where the stack goes), -MMK_ENOMEM, or a pager error; on
 * error the caller destroys the space (execve has not replaced the old
 * image yet, so nothing visible changed).  elf_parse_exec (mmk/elf.h)
 * makes segments from an executable's program headers.
 */
int vm_exec_layout(struct vm_space *as, struct vm_object *image, const struct vm_exec_segment *segs, size_t nsegs,
		   vaddr_t stack_top, uint64_t stack_bytes, vaddr_t brk_start);

/* ---- charging (issue 5; src/vm/charge.c, docs/design.md "Frame ownership and charging") ---- */

/*
 * Charge as's memory to acct from now on: the frames its faults allocate
 * (demand-zero pages, copy-on-write copies, pages brought into objects,
 * swap-ins), its page tables and its VMAs.  A page shared by several
 * spaces is charged once, to the space that first made it resident (the
 * first toucher, as Linux memcg), and uncharged when it is freed, whoever
 * frees it.  as becomes a holder of acct: destroying acct tears as's
 * memory down (every mapping removed, its frames freed), after which every
 * call that needs memory fails with -MMK_EIDRM; the owner still destroys
 * the space.  Exceeding acct's limit makes the allocation fail with
 * -MMK_ENOMEM for this space alone: a fault returns it, an mmap or
 * mprotect that needs a VMA fails and changes nothing.  acct NULL is
 * refused; a space is charged to one account for its life.
 * 0; -MMK_EINVAL (NULL, non-MMU mode), -MMK_EBUSY (as already has an
 * account or has mappings), -MMK_EIDRM (acct is dead), -MMK_ENOMEM (its
 * page tables do not fit under the limit).  Nothing changes on error.
 * Takes acct's system lock, then as->lock.
 */
int vm_space_set_account(struct vm_space *as, struct mmk_account *acct);

/* vm_space_fork with the child charged to acct (NULL: to the parent's
 * account, or to nobody when the parent has none).  Errors as
 * vm_space_fork, plus vm_space_set_account's. */
int vm_space_fork_account(struct vm_space *parent, struct mmk_account *acct, struct vm_space **out);

struct vm_charge_stats {
	uint64_t stock_bytes;    /* charged in advance, unused */
	uint64_t kobj_bytes;     /* kernel objects charged */
	uint64_t pt_charged;     /* page-table pages charged */
	uint64_t charge_failures;
	bool killed;
};
void vm_space_get_charge(struct vm_space *as, struct vm_charge_stats *st);

/* Make the space current on cpu (pmap_activate). */
void vm_space_activate(struct vm_space *as, unsigned cpu);

/* ---- objects ---- */

/* A new object with refcount 1 (the caller's).  name must outlive it.
 * 0, or -MMK_ENOMEM, -MMK_EINVAL (unknown type). */
int vm_object_create(struct vm_system *sys, uint32_t type, const char *name, struct vm_object **out);
/*
 * A physical (device) object: npages fixed frames from base (MMIO, a frame
 * buffer), mapped in place, never given to or taken from the allocator,
 * never copied: a private mapping of it may not be writable (-MMK_EACCES
 * from vm_map, and its max_prot loses write).  Pages beyond npages fault
 * with -MMK_EFAULT (SIGBUS).  0, -MMK_EINVAL (npages 0), -MMK_ENOMEM.
 */
int vm_object_create_phys(struct vm_system *sys, const char *name, pfn_t base, uint64_t npages,
			  struct vm_object **out);
/*
 * An external object of npages pages whose frames come from src (copied;
 * see struct vm_page_source).  Only shared mappings of it are allowed
 * (vm_map: -MMK_EINVAL for private ones).  0, -MMK_EINVAL (npages 0, no
 * page function), -MMK_ENOMEM.
 */
int vm_object_create_external(struct vm_system *sys, const char *name, uint64_t npages,
			      const struct vm_page_source *src, struct vm_object **out);
/*
 * A file object (VM_OBJECT_FILE, size mp->len) whose pages come from the
 * memory mp names (see struct vm_memory_pager; mp must outlive the
 * object).  Every mapping of it shares its page frames until written
 * (execve's text of two processes: one frame per page).  Takes no lock
 * (the pager reads bytes that never change).  0, -MMK_ENOMEM.
 */
int vm_object_create_memory(struct vm_system *sys, const char *name, struct vm_memory_pager *mp,
			    struct vm_object **out);
/* Cut obj off its source: later faults on it are -MMK_EFAULT.  The caller
 * removed every translation first (vm_object_zap). */
void vm_object_detach_source(struct vm_object *obj);
/*
 * Remove translations of obj's pages [pgoff, pgoff + npages) from every
 * space of sys (the maps are not persistent: the next access re-faults).
 * filter (may be NULL: remove all) sees each translation (page index, frame
 * address, PMAP_PROT_* | PMAP_ACCESSED | PMAP_DIRTY bits) and says whether
 * to remove it.  held: a space whose lock the caller holds (walked without
 * locking), or NULL; every other space is taken with trylock, because the
 * caller may hold its own lock (physmem's, which ranks below vm_space.lock):
 * a space that is busy is skipped and the result is -MMK_EAGAIN (the caller
 * undoes nothing: a removed translation is simply re-faulted).  0 otherwise.
 * The space list itself is not locked (as vm_reclaim's clock).
 */
int vm_object_zap(struct vm_system *sys, struct vm_object *obj, uint64_t pgoff, uint64_t npages,
		  bool (*filter)(void *ctx, uint64_t pgoff, paddr_t pa, unsigned bits), void *ctx,
		  struct vm_space *held);
void vm_object_ref(struct vm_object *obj);
/* Give obj a file pager (copied); before any page of obj is resident. */
void vm_object_set_pager(struct vm_object *obj, const struct vm_file_pager *pager);
/* Drop one reference; the object is freed with the last. */
void vm_object_release(struct vm_system *sys, struct vm_object *obj);

/* ---- the calls ---- */

/*
 * mmap(2).  hint: an address (only a hint without VM_MAP_FIXED*); len bytes
 * (rounded up to pages); prot VM_PROT_*; flags VM_MAP_*; obj NULL for
 * anonymous memory (MAP_SHARED|MAP_ANONYMOUS needs an object: pass one of
 * type ANON); offset bytes into obj; max_prot: what later mprotect may grant
 * (the file's open mode; VM_PROT_ALL for anonymous memory).  *out = start.
 * Placement: MAP_FIXED replaces what was there; MAP_FIXED_NOREPLACE fails
 * with -MMK_EEXIST on overlap; a hint is used when the range is free;
 * otherwise first fit top-down below mmap_base, as Linux.
 * Errors: -MMK_EINVAL (len 0, unaligned offset or fixed address, no or bad
 * map type, unknown prot bits), -MMK_EACCES (prot beyond max_prot),
 * -MMK_ENOMEM (no room, out of range), -MMK_EPERM (fixed below min_addr),
 * -MMK_EOVERFLOW (offset + len wraps), -MMK_EEXIST; for a physical
 * object over frames the kernel owns (seed 002): -MMK_EPERM, and
 * -MMK_EACCES for a writable mapping of the boot image (MMK_MEM_BOOT
 * ranges may be mapped read-only, and such a mapping's max_prot loses
 * write; src/vm/kframes.c says why these errors).
 */
int vm_map(struct vm_space *as, vaddr_t hint, size_t len, unsigned prot, unsigned flags, struct vm_object *obj,
	   uint64_t offset, unsigned max_prot, vaddr_t *out);

/* Map a kernel-made special area ([vdso], [vvar], the exec-time image) at a
 * fixed, free range with explicit flags and name.  For loaders and replay.
 * Same errors as vm_map with MAP_FIXED_NOREPLACE. */
int vm_map_special(struct vm_space *as, vaddr_t start, size_t len, unsigned prot, unsigned max_prot,
		   unsigned vma_flags, struct vm_object *obj, uint64_t offset, const char *name);

/* munmap(2): -MMK_EINVAL for an unaligned address, len 0, or a range past
 * max_addr; holes are fine.  Frames whose last mapping goes are freed. */
int vm_unmap(struct vm_space *as, vaddr_t addr, size_t len);

/* mprotect(2): len 0 succeeds; -MMK_EINVAL (unaligned, unknown bits),
 * -MMK_ENOMEM (a hole in the range), -MMK_EACCES (beyond a VMA's max_prot).
 * Splits VMAs at the ends and merges equal neighbours afterwards. */
int vm_protect(struct vm_space *as, vaddr_t addr, size_t len, unsigned prot);

/* mremap(2): *out = the new start.  -MMK_EINVAL (bad flags, unaligned,
 * new_len 0, FIXED without MAYMOVE, overlapping FIXED target), -MMK_EFAULT
 * (old range not inside one VMA), -MMK_EPERM (FIXED below min_addr),
 * -MMK_ENOMEM (cannot grow in place and may not move, or no room).
 * One partial effect on error: with MREMAP_FIXED over existing mappings,
 * the destination's pages are dropped before the move, so if the move then
 * fails for want of a page-table page the destination VMAs stay but
 * re-fault as zero pages (Linux unmaps the destination first too). */
int vm_remap(struct vm_space *as, vaddr_t old_addr, size_t old_len, size_t new_len, unsigned flags,
	     vaddr_t new_addr, vaddr_t *out);

/* Set the heap's start (the first brk(NULL) of an image); brk = start. */
void vm_brk_init(struct vm_space *as, vaddr_t start);
/* brk(2): *out = the break after the call: the new one on success, the old
 * one when the request is refused (Linux never returns an error). */
void vm_brk(struct vm_space *as, vaddr_t new_brk, vaddr_t *out);

/* madvise(2) for the advice values above.  -MMK_EINVAL (unaligned, unknown
 * advice, DONTNEED on a locked VMA, WIPEONFORK on a non-private-anonymous
 * VMA), -MMK_ENOMEM (a hole; differs: Linux applies the advice to the mapped
 * parts before failing, mmk changes nothing). */
int vm_madvise(struct vm_space *as, vaddr_t addr, size_t len, int advice);

/* mlock(2)/munlock(2): mark VMAs locked and populate them.  -MMK_EINVAL,
 * -MMK_ENOMEM (a hole, or no frames to populate; differs: Linux keeps what
 * it populated and the lock flags, mmk changes nothing). */
int vm_mlock(struct vm_space *as, vaddr_t addr, size_t len, bool lock);

/* mincore(2): vec[i] = 1 if page i is resident.  -MMK_EINVAL, -MMK_ENOMEM. */
int vm_mincore(struct vm_space *as, vaddr_t addr, size_t len, uint8_t *vec);

/* msync(2): write every dirty page of the file objects that the range's
 * shared mappings show back through their pager (synchronously, for
 * MS_ASYNC too), as Linux: a page dirtied through any mapping of the file,
 * in any space, is written (the dirty bits of every mapping are harvested
 * through the object's mappings list).  -MMK_EINVAL, -MMK_ENOMEM (a hole),
 * -MMK_EBUSY (MS_INVALIDATE on locked), -MMK_EAGAIN (differs: another space
 * mapping a page is busy on another CPU; pages already written are clean,
 * retry), or the pager's error (the first one; those pages stay dirty). */
int vm_msync(struct vm_space *as, vaddr_t addr, size_t len, unsigned flags);

/* Fault in every page of [addr, addr+len) that its VMA allows to be touched
 * for read (MAP_POPULATE).  -MMK_ENOMEM when frames run out; the pages this
 * call made are then taken back, so nothing changed. */
int vm_populate(struct vm_space *as, vaddr_t addr, size_t len, bool write);

/* ---- faults ---- */

/*
 * Resolve a fault at va for access (PMAP_ACCESS_*): grow a stack VMA when va
 * is just below it, allocate a zeroed frame on first touch, upgrade a
 * present page's protection to the VMA's.  0 when the access may be retried;
 * -MMK_EFAULT when no VMA covers va (SEGV_MAPERR); -MMK_EACCES when the VMA
 * forbids the access (SEGV_ACCERR); -MMK_ENOMEM without frames.
 */
int vm_fault(struct vm_space *as, vaddr_t va, unsigned access);

/* ---- seed 004's deferred release ---- */

/* Mark the VMAs in [addr, addr+len) dead: they stop being accessible at
 * once, keep their addresses reserved, and give their frames back at the
 * next vm_scavenge.  -MMK_EINVAL, -MMK_ENOMEM (a hole). */
int vm_mark_dead(struct vm_space *as, vaddr_t addr, size_t len);
/* Free the frames of dead VMAs; returns the frames freed. */
size_t vm_scavenge(struct vm_space *as);
/* Scavenge, then remove dead VMAs; returns the VMAs removed. */
size_t vm_sweep(struct vm_space *as);

/* ---- batched revocation (seed 000; used by src/claims) ---- */

/* A half-open range of virtual bytes [start, end), page-aligned. */
struct vm_range {
	vaddr_t start, end;
};

/* What one vm_revoke did. */
struct vm_revoke_stats {
	uint64_t spaces;         /* spaces that mapped some page of the ranges */
	uint64_t vmas_removed;   /* VMAs (or their clipped parts) removed */
	uint64_t pages_unmapped; /* translations removed */
	uint64_t shootdowns;     /* TLB shootdowns sent: at most one per space */
};

/*
 * Revoke ranges[0..n) (seed 000's revocation batch): in every address
 * space of sys, remove every VMA (clipped at the ranges' ends) and every
 * translation inside the ranges, as munmap would (dirty pages of shared
 * file mappings are written back, frames whose last mapping goes are
 * freed), with one TLB shootdown per space for the whole batch
 * (pmap_remove_deferred, then pmap_tlb_sync before any frame is freed).
 * Ranges may be in any order and may touch; st may be NULL.
 * 0; -MMK_EINVAL (a range empty, unaligned or past PMAP_USER_END: nothing
 * done); -MMK_ENOSYS (non-MMU mode); -MMK_ENOMEM (VMA structs for the
 * clipping could not be had: nothing changed).  The VMA structs of every
 * space are reserved before any space changes.  Contract: nothing maps
 * into the ranges meanwhile (the claims layer hands them to nobody until
 * this returns); should a space need more clipping than was reserved
 * anyway and the allocation fail, the spaces already done stay revoked and
 * -MMK_ENOMEM tells the caller to run the batch again.
 * Locking: takes each space's lock in turn, never two at once; walks
 * sys->space_list, which must not change meanwhile (as vm_reclaim).
 */
int vm_revoke(struct vm_system *sys, const struct vm_range *ranges, size_t n, struct vm_revoke_stats *st);

/*
 * The revocation checker: walk every pmap of every space of sys and fail
 * if a translation, a VMA or a pending deferred invalidation remains in
 * any of ranges[0..n).  0, or -MMK_EINVAL with *why (why may be NULL).
 */
int vm_revoke_check(struct vm_system *sys, const struct vm_range *ranges, size_t n, const char **why);

/* ---- inspection ---- */

/* The VMA containing addr, or NULL (seed 004: mspace_search_vma).  The
 * pointer is valid until the next change to the space.  Non-MMU mode: a
 * space's own tree is empty; search sys->shared_map (VMAs carry owner). */
const struct vm_area *vm_search(struct vm_space *as, vaddr_t addr);

/* In-order walk: first VMA at or above addr, and its successor. */
const struct vm_area *vm_first_from(struct vm_space *as, vaddr_t addr);
const struct vm_area *vm_next(const struct vm_area *vma);

/*
 * /proc/PID/maps: write one line per VMA into buf (cap bytes, always
 * NUL-terminated when cap > 0).  Returns the length the whole text needs
 * (not counting the NUL), so a caller can size buf and call again.
 * [heap] and [stack] names are derived as Linux does.
 */
size_t vm_display(struct vm_space *as, char *buf, size_t cap);

/* Name Linux would show for vma ("[heap]", the object's name, ...), or "". */
const char *vm_area_name(const struct vm_space *as, const struct vm_area *vma);

/*
 * Memory attribution (smaps Rss/Pss, USS; Zircon RFC 0254), bytes.  Counts
 * every translation of the space to a user frame, inaccessible ones too
 * (Linux counts PROT_NONE pages in Rss); device memory (PHYS objects) is
 * not user memory and is left out, as smaps leaves out VM_PFNMAP pages.
 * A frame that n translations map (in all spaces) counts 1/n here, so
 * PSS over all spaces sums to the frames mapped; pss_scaled keeps the
 * fractions (bytes << VM_PSS_SHIFT, each share rounded down) for exact
 * sums.  O(resident pages); takes as->lock.
 */
#define VM_PSS_SHIFT 12
struct vm_attribution {
	uint64_t rss_bytes;  /* resident pages mapped here */
	uint64_t pss_bytes;  /* each shared with n mappings counted 1/n (pss_scaled >> VM_PSS_SHIFT) */
	uint64_t uss_bytes;  /* mapped only here */
	uint64_t pss_scaled; /* PSS in 1/2^VM_PSS_SHIFT bytes */
};
void vm_space_attribution(struct vm_space *as, struct vm_attribution *out);

/*
 * Attribution of all user memory: every user frame is either mapped (and
 * then its PSS shares over the spaces sum to one frame), or an object page
 * that no translation maps (the page cache: file pages kept after munmap or
 * exit, shared memory nobody maps now, as Linux's Cached), or an anon that
 * no translation maps (brought back from swap by one sharer of a
 * copy-on-write page, the others not mapping it: Linux's swap cache), so
 *     pss_bytes_total + page_cache_bytes + anon_unmapped_bytes == user_frames_bytes
 * holds exactly while no page is in flight (vm_check-clean spaces).
 * pss_bytes_total is the sum of every space's pss_scaled rounded to whole
 * frames (exact while the per-share rounding, under one 2^-VM_PSS_SHIFT
 * byte per translation, stays below half a frame: under 2^23 translations).
 * shared_frames_saved = sum over mapped frames of (translations - 1): the
 * frames a copy per mapping would need beyond those used.
 * Walks every space (taking each lock in turn, never two), its amaps and
 * every object's pages: O(translations + anons + object pages).  Single CPU in the VM
 * (docs/locking.md): objects are not locked.
 */
struct vm_system_attribution {
	uint64_t user_frames_bytes; /* vm_system.user_frames in bytes */
	uint64_t pss_bytes_total;   /* sum of all spaces' PSS */
	uint64_t page_cache_bytes;  /* object pages no translation maps */
	uint64_t anon_unmapped_bytes; /* resident anons no translation maps */
	uint64_t shared_frames_saved; /* frames */
	uint64_t translations;      /* translations of user frames, all spaces */
};
void vm_system_attribution(struct vm_system *sys, struct vm_system_attribution *out);

struct vm_space_stats {
	uint64_t vmas, mapped_bytes, resident_bytes, pt_pages, faults, faults_refused, zero_fills;
};
void vm_space_get_stats(struct vm_space *as, struct vm_space_stats *st);

/*
 * Re-derive: tree order and balance, gaps and subtree maxima, no overlap,
 * page alignment, flags and protections valid, mapped_pages equals the sum
 * of sizes, every present translation lies inside a live VMA with a
 * protection no stronger than the VMA's, resident equals the recount.
 * 0, or -MMK_EINVAL with *why.
 */
int vm_check(struct vm_space *as, const char **why);

#endif
