/*
 * mmk/claims.h - claims on virtual ranges and their batched revocation
 * (seed 000: the CheriOS memory manager).
 *
 * A claims manager (struct claims) holds one virtual reservation
 * [base, base + size) and hands ranges of it to claimants: the first
 * claimant to claim a free range gets it; others may claim it too, at most
 * CLAIMS_MAX_CLAIMANTS per page; each claimant's claim on a page is counted
 * (a claimant may claim a range several times and must release it as many
 * times).  A claim is the authority to insist that a range stays mapped,
 * not access to memory (seed 000): nothing here maps anything.  When the
 * last claim on a range goes, the range joins the revocation queue; it is
 * not claimable again until a revocation batch (claims_revoke_batch) has
 * removed every mapping of it from every address space, through the
 * revoker given at init (vm_revoke for a vm_system).
 *
 * Structure (theory in src/claims/claims.c): a three-level trie shaped like
 * a page table, indexed by page number within the reservation, whose leaves
 * point at nodes by their first page; each node covers an arbitrary run of
 * pages with identical claims.  Nodes tile the whole reservation and are
 * kept maximal (no two neighbours alike), splitting and merging so that
 * every operation applies to the exact range given.  Each claimant threads
 * its claims through the nodes in an intrusive doubly linked list.
 *
 * Units: addresses are vaddr_t bytes, lengths size_t bytes; both must be
 * page-aligned (MMK_PAGE_SIZE).  Ranges are half-open [start, start + len).
 *
 * Errors: 0 or a negative MMK_E* code; on error nothing changed.
 *   -MMK_EINVAL  a range that is empty, unaligned, wraps or leaves the
 *                reservation; a claimant bound to another manager
 *   -MMK_EUSERS  a fifth claimant for a page that has CLAIMS_MAX_CLAIMANTS
 *                (Linux's "too many users", 87)
 *   -MMK_EBUSY   claiming a page that is queued for revocation or being
 *                revoked: it may still be mapped somewhere
 *   -MMK_ENOENT  releasing a page the claimant does not claim
 *   -MMK_EOVERFLOW a claim count would pass UINT32_MAX
 *   -MMK_ENOMEM  a trie node or table could not be had
 *
 * Locking: each manager has one spin lock (claims.lock), taken by every
 * call here; under it the node and table caches' locks (then phys.lock)
 * may be taken.  It is never held while the revoker runs, so the revoker
 * may take vm_space locks (docs/locking.md).  A claimant is guarded by the
 * lock of the manager it claims from.
 *
 * Memory: trie nodes and tables come from two kmem caches the manager
 * makes from phys at init; every operation reserves what it may need
 * before it changes anything.
 */
#ifndef MMK_CLAIMS_H
#define MMK_CLAIMS_H

#include <hal/lock.h>
#include <mmk/kmem.h>
#include <mmk/types.h>
#include <mmk/vm.h>

#define CLAIMS_MAX_CLAIMANTS 4u   /* per page (seed 000: "space for at most 4 claimants") */
#define CLAIMS_TABLE_BITS 9u      /* page-number bits per trie level, as x86-64 tables */
#define CLAIMS_TABLE_SLOTS (1u << CLAIMS_TABLE_BITS)
#define CLAIMS_LEVELS 3u
#define CLAIMS_MAX_PAGES ((uint64_t)1 << (CLAIMS_LEVELS * CLAIMS_TABLE_BITS)) /* 2^27 pages: 512 GiB */
#define CLAIMS_BATCH_MAX 32u      /* ranges one revocation batch takes at most */

/* States of a node (every page of a node shares one). */
enum claim_state {
	CLAIM_FREE = 0,     /* unclaimed and unmapped: the next claimant gets it */
	CLAIM_CLAIMED = 1,  /* 1..CLAIMS_MAX_CLAIMANTS claimants */
	CLAIM_QUEUED = 2,   /* last claim gone; on the revocation queue */
	CLAIM_REVOKING = 3, /* taken by a running revocation batch */
	CLAIM_NSTATES = 4,
};

struct claimant;

/*
 * One claimant's claim on one node: a link of that claimant's list.
 * Private to src/claims; public so that struct claim_node has a size.
 */
struct claim_slot {
	struct claimant *who;            /* NULL: the slot is unused */
	uint32_t count;                  /* times who claimed these pages, >= 1 when used */
	uint32_t index;                  /* position in its node's slot[] (finds the node) */
	struct claim_slot *prev, *next;  /* who's list of claims */
};

/* A run of pages with one state and one set of claims.  Private. */
struct claim_node {
	uint64_t first, npages;          /* pages, relative to the reservation's base */
	struct claim_node *qprev, *qnext; /* revocation queue (state QUEUED) */
	uint8_t state;                   /* enum claim_state */
	uint8_t nslots;                  /* used slots */
	struct claim_slot slot[CLAIMS_MAX_CLAIMANTS];
};

/* One trie table: 512 entries and an occupancy bitmap.  Private. */
struct claims_table {
	uint64_t bitmap[CLAIMS_TABLE_SLOTS / 64];
	uint32_t count;                  /* set bits */
	void *slot[CLAIMS_TABLE_SLOTS];  /* lower table, or (leaf level) node starting here */
};

/*
 * A claimant (seed 000's MOP side of a claim).  Embedded by its owner (a
 * MOP embeds one beside its account); claimant_init before use,
 * claimant_fini when done.  Guarded by its manager's lock.
 */
struct claimant {
	struct claims *mgr;              /* manager it claims from; NULL while it holds nothing */
	struct claim_slot *head;         /* its claims, one per node, in no particular order */
	uint64_t nodes;                  /* nodes it claims (list length) */
	uint64_t pages;                  /* pages it claims (each once, whatever the count) */
	uint32_t id;                     /* for printing only (a MOP number) */
};

/*
 * The revoker: remove every mapping of ranges[0..n) (page-aligned, disjoint,
 * ascending) from every address space, shooting down TLBs, and free frames
 * no longer mapped; 0, or an error with nothing changed (the batch is then
 * retried later).  Called with no claims lock held.  vm_revoke has this
 * shape: pass claims_vm_revoker and the vm_system.
 */
typedef int (*claims_revoke_fn)(void *ctx, const struct vm_range *ranges, size_t n);

/* claims_vm_revoker(sys, ranges, n) = vm_revoke(sys, ranges, n, NULL). */
int claims_vm_revoker(void *vm_system, const struct vm_range *ranges, size_t n);

struct claims {
	struct hal_spinlock lock;
	vaddr_t base;                    /* bytes, page-aligned */
	uint64_t npages;                 /* 1..CLAIMS_MAX_PAGES */
	struct claims_table *root;       /* level 2; never NULL after init */
	struct kmem_cache node_cache, table_cache;
	struct claim_node *qhead, *qtail; /* revocation queue, oldest first */
	uint64_t nodes, tables;          /* held; tables include the root */
	uint64_t queued_ranges;          /* nodes on the queue */
	uint64_t pages[CLAIM_NSTATES];   /* pages per state */
	claims_revoke_fn revoke;         /* NULL: nothing is ever mapped; batches just free */
	void *revoke_ctx;
	uint64_t batches, batches_failed, ranges_revoked, pages_revoked;
};

/*
 * Make a manager of [base, base + size) (bytes; page-aligned, size > 0 and
 * at most CLAIMS_MAX_PAGES pages, no wrap), all of it free, whose batches
 * call revoke(revoke_ctx, ...).  Takes node and table frames from ph.
 * 0; -MMK_EINVAL (bad range); -MMK_ENOMEM (nothing left allocated).
 */
int claims_init(struct claims *c, struct phys *ph, vaddr_t base, uint64_t size, claims_revoke_fn revoke,
		void *revoke_ctx);

/*
 * Tear down: -MMK_EBUSY (nothing changed) while any page is claimed, queued
 * or being revoked; else frees every node, table and both caches.
 */
int claims_fini(struct claims *c);

/* A claimant holding nothing; id is only printed.  Cannot fail. */
void claimant_init(struct claimant *cl, uint32_t id);

/* 0, or -MMK_EBUSY while cl still claims something (release it first,
 * e.g. with claims_release_all). */
int claimant_fini(struct claimant *cl);

/*
 * Claim [start, start + len) for cl (seed 000: "give a fraction to the
 * first MOP to claim a virtual range; any MOP can make a subsequent
 * claim").  Every page's count for cl goes up by one.  All or nothing:
 * -MMK_EINVAL, -MMK_EBUSY (a page queued or being revoked), -MMK_EUSERS (a
 * page already has CLAIMS_MAX_CLAIMANTS others), -MMK_EOVERFLOW,
 * -MMK_ENOMEM.  O(nodes in the range), at most 2 nodes and 4 tables new.
 */
int claims_claim(struct claims *c, struct claimant *cl, vaddr_t start, size_t len);

/*
 * The admission of a claim (a MOP's charge, mmk/mop.h): called once the
 * claim is known to be possible and everything it needs is reserved, just
 * before anything changes, with the pages of the range the claimant does
 * not claim yet (exactly what the claim will add to claimant.pages).  It
 * returns 0 to let the claim happen or a negative MMK_E* code to refuse
 * it, which the claim returns with nothing changed.  It runs under the
 * manager's lock: it must not call into the manager or sleep (a lock-free
 * acct_charge is what it is for).
 */
typedef int (*claims_admit_fn)(void *ctx, uint64_t new_pages);

/*
 * claims_claim, with admit(ctx, new_pages) deciding last (admit may be
 * NULL: as claims_claim).  Errors: claims_claim's, found first, then
 * -MMK_ENOMEM for the reservation, then admit's own code.
 */
int claims_claim_admit(struct claims *c, struct claimant *cl, vaddr_t start, size_t len, claims_admit_fn admit,
		       void *ctx);

/*
 * Release one claim of cl on every page of [start, start + len).  Pages
 * whose last claim goes join the revocation queue (merging with queued
 * neighbours).  All or nothing: -MMK_EINVAL, -MMK_ENOENT (cl does not claim
 * some page of the range), -MMK_ENOMEM (a split needs a node or table).
 */
int claims_release(struct claims *c, struct claimant *cl, vaddr_t start, size_t len);

/*
 * claims_release, and *unclaimed (may be NULL) = the pages of the range cl
 * claims no more afterwards (its count went from 1 to 0): what
 * claimant.pages dropped by.  0 on error.
 */
int claims_release_counted(struct claims *c, struct claimant *cl, vaddr_t start, size_t len, uint64_t *unclaimed);

/*
 * Release every claim of cl, whatever its counts (a MOP's destruction);
 * pages left unclaimed are queued as by claims_release.  Allocates
 * nothing, so it cannot fail; returns the pages cl claimed (0, and nothing
 * done, when cl claims nothing here).  O(nodes cl claims).
 */
uint64_t claims_release_all(struct claims *c, struct claimant *cl);

/* cl's claim count on the page holding va (0 when none or out of range). */
uint32_t claims_count(struct claims *c, const struct claimant *cl, vaddr_t va);

/* State of the page holding va (CLAIM_NSTATES when outside the reservation). */
enum claim_state claims_state(struct claims *c, vaddr_t va);

/*
 * One revocation batch: take up to max_ranges (capped at CLAIMS_BATCH_MAX)
 * ranges from the head of the queue, mark them revoking (unclaimable),
 * drop the lock, call the revoker once with all of them, retake the lock
 * and make them free (merging with free neighbours).  If out is not NULL,
 * the ranges (ascending) go to out[0..*nout) (room for max_ranges).
 * 0 (also when the queue is empty: *nout = 0); the revoker's error, with
 * the ranges put back at the head of the queue, as they were.
 * Allocates nothing itself.
 */
int claims_revoke_batch(struct claims *c, size_t max_ranges, struct vm_range *out, size_t *nout);

/* Ranges and pages waiting in the revocation queue. */
uint64_t claims_queued_ranges(struct claims *c);
uint64_t claims_queued_pages(struct claims *c);

/* What claims_walk shows of one node. */
struct claims_range_info {
	vaddr_t start;
	uint64_t len;                    /* bytes */
	enum claim_state state;
	unsigned nclaimants;
	const struct claimant *who[CLAIMS_MAX_CLAIMANTS]; /* in slot order */
	uint32_t count[CLAIMS_MAX_CLAIMANTS];
};

/* Call fn for every node in address order, under the lock (fn must not call
 * back into c).  Returns the number of nodes. */
uint64_t claims_walk(struct claims *c, void (*fn)(void *ctx, const struct claims_range_info *r), void *ctx);

/*
 * Print the trie for humans (mmk-sim's scenario mode): a header with the
 * reservation, pages per state, nodes and tables, one line per node
 * ("[start, end) pages state #id:count ..."), then the queue in order.
 * Writes into buf (cap bytes, NUL-terminated when cap > 0) and returns the
 * length the whole text needs, without the NUL, as snprintf.
 */
size_t claims_format(struct claims *c, char *buf, size_t cap);

/*
 * Re-derive everything: the trie's bitmaps, counts and table totals, no
 * empty table but the root; nodes found at their first page tile the
 * reservation exactly; states and slots consistent (claimed nodes have 1..4
 * distinct claimants with counts >= 1, others none); no two neighbouring
 * nodes alike (merged-ness); the queue holds exactly the queued nodes,
 * doubly linked; every claimant's list is consistent (links, head, node
 * and page totals) and every used slot is on its claimant's list; pages
 * per state recounted.  0, or -MMK_EINVAL with *why (why may be NULL).
 * O(nodes + tables * 512).
 */
int claims_check(struct claims *c, const char **why);

#endif
