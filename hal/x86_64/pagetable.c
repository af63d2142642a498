/*
 * pagetable.c - x86-64 4-level page tables for hal/pmap.h, shared by the
 * real MMU (hal/x86_64) and the software one (hal/sim).
 *
 * Theory of operation.
 *
 * 1. What.  A pmap is the hardware-dependent map of one user address space
 *    [0, PMAP_USER_END) (hal/pmap.h).  This file builds exactly the tables
 *    an x86-64 CPU with 4-level paging walks: the real one for hal/x86_64,
 *    sim_access for hal/sim.  What differs between them (how a TLB entry
 *    is invalidated, whether upper levels are cached, where RAM ends,
 *    whether a kernel half is shared) is asked of the backend through the
 *    hooks of pagetable.h.
 *
 * 2. Structures.  PML4 (level 3, the root, CR3), PDPT (2), PD (1), PT (0):
 *    one 4 KiB frame each from pm->pt, zeroed through the direct map.  An
 *    entry at level l covers 4 KiB << (9 * l).  Entry encoding in pte.h:
 *    table entries are P|RW|US (the leaf alone decides rights); a
 *    PMAP_PROT_NONE leaf has P clear and the software bit PROTNONE set and
 *    keeps its frame, US, A and D (Linux's _PAGE_PROTNONE).  No large pages.
 *    Root entries 256..511 are the kernel half: a copy of the backend's
 *    kernel root (x86_pt_kernel_root), or zero when it has none.
 *
 * 3. Invariants (x86_pt_check re-derives them).
 *    a. pt_pages == table pages reachable through root entries 0..255,
 *       root included; each page-aligned, below RAM's end, distinct.
 *    b. resident == leaves that map a frame (P or PROTNONE).
 *    c. Table entries and leaves are well formed (pte.h).
 *    d. No table but the root is empty: remove frees a table the moment
 *       its last entry goes; enter allocates all it needs up front.
 *    e. Root entries 256..511 equal the kernel root's (zero without one).
 *
 * 4. Locking.  The caller holds the owning space's lock, so pmap fields
 *    and the table structure have one writer.  Page walkers read entries
 *    and set A and D concurrently, so entries are loaded and stored
 *    atomically and changed with exchange, AND or compare-and-swap: a
 *    status bit a walker sets meanwhile is never lost.
 *
 * 5. TLB policy.  Adding or strengthening a translation invalidates
 *    nothing (a stale weaker entry faults and the fault handler finds the
 *    new one, as on x86).  Replacing a mapped translation, weakening one,
 *    removing one or clearing its A or D bit invalidates that page on
 *    every CPU where the pmap is active (x86_pt_shootdown) before the call
 *    returns and before pmap_remove's callback sees the frame.  Unlinking
 *    a table calls x86_pt_table_unlinked before the page is freed.
 *    pmap_remove_deferred only marks the pmap tlb_pending; pmap_tlb_sync
 *    then sends one full shootdown (x86_pt_shootdown_all) for the batch.
 *
 * 6. Failure policy.  Validate, reserve, commit: pmap_enter checks its
 *    arguments, allocates every table it lacks, and only then links them;
 *    on -MMK_ENOMEM it gives back what it took and nothing changed.  Range
 *    functions given a bad range do nothing and return 0.
 *
 * 7. Sources.  Intel SDM vol. 3A ch. 4 (4.5 4-level paging, 4.8 A/D bits,
 *    4.10 TLBs and paging-structure caches); BSD pmap(9); Linux's
 *    PROT_NONE entries.
 */
#include "pagetable.h"

#include <mmk/errno.h>

#include "pte.h"

#define LVL_ROOT 3u
#define USER_SLOTS 256u /* root entries of the user half */

/* ---- atomic entry access ---- */

static uint64_t pte_load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void pte_store(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static uint64_t pte_xchg(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static bool pte_cas(uint64_t *p, uint64_t *expect, uint64_t v)
{
	return __atomic_compare_exchange_n(p, expect, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static uint64_t *table_of(struct hal_machine *m, paddr_t pa) { return (uint64_t *)hal_phys_map(m, pa); }

static bool range_ok(vaddr_t start, vaddr_t end)
{
	return mmk_page_aligned(start) && mmk_page_aligned(end) && start < end && end <= PMAP_USER_END;
}

/* ---- table pages ---- */

static int table_alloc(struct pmap *pm, paddr_t *out)
{
	paddr_t pa;
	int rc = pm->pt.alloc(pm->pt.ctx, &pa);
	if (rc != 0)
		return rc < 0 ? rc : -MMK_ENOMEM;
	if (!mmk_page_aligned(pa) || pa >= x86_pt_ram_end(pm->machine))
		hal_panic(pm->machine, "pmap: page-table source gave a frame outside RAM");
	uint64_t *t = table_of(pm->machine, pa);
	for (unsigned i = 0; i < 512; i++)
		t[i] = 0;
	*out = pa;
	return 0;
}

static void table_free(struct pmap *pm, paddr_t pa) { pm->pt.free(pm->pt.ctx, pa); }

static bool table_empty(const uint64_t *t)
{
	for (unsigned i = 0; i < 512; i++)
		if (pte_load(&t[i]) != 0)
			return false;
	return true;
}

uint64_t *x86_pt_leaf_slot(const struct pmap *pm, vaddr_t va)
{
	paddr_t table = pm->root;
	for (unsigned lvl = LVL_ROOT; lvl > 0; lvl--) {
		uint64_t e = pte_load(&table_of(pm->machine, table)[x86_pt_index(va, lvl)]);
		if (!(e & X86_PTE_P))
			return NULL;
		table = x86_pte_frame(e);
	}
	return &table_of(pm->machine, table)[x86_pt_index(va, 0)];
}

/* ---- create / destroy ---- */

int pmap_create(struct pmap *pm, struct hal_machine *m, const struct pmap_pt_source *src, void *owner)
{
	if (!pm || !m || !src || !src->alloc || !src->free)
		return -MMK_EINVAL;
	struct pmap p = { .machine = m, .pt = *src, .owner = owner };
	int rc = table_alloc(&p, &p.root);
	if (rc != 0)
		return rc;
	const uint64_t *kernel = x86_pt_kernel_root(m);
	uint64_t *root = table_of(m, p.root);
	for (unsigned i = USER_SLOTS; kernel && i < 512; i++)
		root[i] = kernel[i];
	p.pt_pages = 1;
	*pm = p;
	return 0;
}

/* Free every table below the table at pa (level lvl), then pa itself; the
 * root's kernel half is shared and never followed. */
static void free_tree(struct pmap *pm, paddr_t pa, unsigned lvl)
{
	uint64_t *t = table_of(pm->machine, pa);
	unsigned slots = lvl == LVL_ROOT ? USER_SLOTS : 512u;
	for (unsigned i = 0; lvl > 0 && i < slots; i++) {
		uint64_t e = pte_load(&t[i]);
		if (e & X86_PTE_P)
			free_tree(pm, x86_pte_frame(e), lvl - 1);
	}
	table_free(pm, pa);
	pm->pt_pages--;
}

int pmap_destroy(struct pmap *pm)
{
	if (pm->resident != 0 || __atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST) != 0)
		return -MMK_EBUSY;
	free_tree(pm, pm->root, LVL_ROOT);
	pm->root = 0;
	return 0;
}

/* ---- enter ---- */

/* How many tables va's path lacks (0..3): once one is missing, so is every
 * table below it. */
static unsigned missing_tables(const struct pmap *pm, vaddr_t va)
{
	paddr_t table = pm->root;
	for (unsigned lvl = LVL_ROOT; lvl > 0; lvl--) {
		uint64_t e = pte_load(&table_of(pm->machine, table)[x86_pt_index(va, lvl)]);
		if (!(e & X86_PTE_P))
			return lvl;
		table = x86_pte_frame(e);
	}
	return 0;
}

/* Reserve: n zeroed tables into pages[], or none and the error. */
static int reserve_tables(struct pmap *pm, paddr_t *pages, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = table_alloc(pm, &pages[i]);
		if (rc != 0) {
			while (i-- > 0)
				table_free(pm, pages[i]);
			return rc;
		}
	}
	return 0;
}

/* Commit: link the reserved tables in along va's path; the leaf slot. */
static uint64_t *link_path(struct pmap *pm, vaddr_t va, const paddr_t *pages)
{
	paddr_t table = pm->root;
	unsigned used = 0;
	for (unsigned lvl = LVL_ROOT; lvl > 0; lvl--) {
		uint64_t *slot = &table_of(pm->machine, table)[x86_pt_index(va, lvl)];
		uint64_t e = pte_load(slot);
		if (!(e & X86_PTE_P)) {
			e = pages[used++] | X86_PTE_TABLE;
			pte_store(slot, e);
			pm->pt_pages++;
		}
		table = x86_pte_frame(e);
	}
	return &table_of(pm->machine, table)[x86_pt_index(va, 0)];
}

int pmap_enter(struct pmap *pm, vaddr_t va, paddr_t pa, unsigned prot)
{
	if (!mmk_page_aligned(va) || !mmk_page_aligned(pa) || va >= PMAP_USER_END || (pa & ~X86_PTE_FRAME) ||
	    (prot & ~PMAP_PROT_ALL))
		return -MMK_EINVAL;
	paddr_t pages[LVL_ROOT];
	int rc = reserve_tables(pm, pages, missing_tables(pm, va));
	if (rc != 0)
		return rc;
	uint64_t *slot = link_path(pm, va, pages);
	uint64_t rights = x86_pte_make(pa, prot, false), new;
	uint64_t old = pte_load(slot);
	do { /* same frame: a change of rights, so the page keeps its history */
		bool same = x86_pte_mapped(old) && x86_pte_frame(old) == pa;
		new = rights | (same ? old & X86_PTE_STATUS : 0);
	} while (!pte_cas(slot, &old, new));
	if (x86_pte_mapped(old))
		x86_pt_shootdown(pm, va);
	else
		pm->resident++;
	return 0;
}

/* ---- range walks (remove, walk, protect) ---- */

/* What to do to each mapped leaf in a range: returns 1 if it counts. */
typedef size_t (*leaf_op)(struct pmap *pm, uint64_t *slot, vaddr_t va, void *arg);

/*
 * Apply op to each mapped leaf in [start, end) under the table t at level
 * lvl.  Entries that are not present are skipped whole, so the cost is
 * bounded by the tables that exist, not by the range's size.  A table that
 * op left empty is unlinked and freed.
 */
static size_t walk_range(struct pmap *pm, uint64_t *t, unsigned lvl, vaddr_t start, vaddr_t end, leaf_op op,
                         void *arg)
{
	size_t n = 0;
	uint64_t span = x86_level_span(lvl);
	for (vaddr_t va = start; va < end;) {
		vaddr_t next = (va & ~(span - 1)) + span;
		vaddr_t stop = next < end ? next : end;
		uint64_t *slot = &t[x86_pt_index(va, lvl)];
		uint64_t e = pte_load(slot);
		if (lvl == 0) {
			if (x86_pte_mapped(e))
				n += op(pm, slot, va, arg);
		} else if (e & X86_PTE_P) {
			uint64_t *child = table_of(pm->machine, x86_pte_frame(e));
			size_t k = walk_range(pm, child, lvl - 1, va, stop, op, arg);
			if (k != 0 && table_empty(child)) {
				pte_store(slot, 0);
				x86_pt_table_unlinked(pm, va);
				table_free(pm, x86_pte_frame(e));
				pm->pt_pages--;
			}
			n += k;
		}
		va = next;
	}
	return n;
}

static size_t walk_root(struct pmap *pm, vaddr_t start, vaddr_t end, leaf_op op, void *arg)
{
	return walk_range(pm, table_of(pm->machine, pm->root), LVL_ROOT, start, end, op, arg);
}

struct visit_arg {
	pmap_visit_fn fn;
	void *ctx;
	bool defer; /* pmap_remove_deferred: leave the shootdown to pmap_tlb_sync */
};

static size_t remove_leaf(struct pmap *pm, uint64_t *slot, vaddr_t va, void *arg)
{
	const struct visit_arg *ra = arg;
	/* Exchange, so an A or D bit a walker sets meanwhile is reported. */
	uint64_t old = pte_xchg(slot, 0);
	pm->resident--;
	if ((old & X86_PTE_P) && ra->defer) /* a PROT_NONE entry is never cached */
		pm->tlb_pending = true;
	else if (old & X86_PTE_P)
		x86_pt_shootdown(pm, va);
	if (ra->fn)
		ra->fn(ra->ctx, va, x86_pte_frame(old), x86_pte_bits(old) & (PMAP_ACCESSED | PMAP_DIRTY));
	return 1;
}

size_t pmap_remove(struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx)
{
	if (!range_ok(start, end))
		return 0;
	struct visit_arg ra = { fn, ctx, false };
	return walk_root(pm, start, end, remove_leaf, &ra);
}

size_t pmap_remove_deferred(struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx)
{
	if (!range_ok(start, end))
		return 0;
	struct visit_arg ra = { fn, ctx, true };
	return walk_root(pm, start, end, remove_leaf, &ra);
}

bool pmap_tlb_sync(struct pmap *pm)
{
	if (!pm->tlb_pending)
		return false;
	x86_pt_shootdown_all(pm);
	pm->tlb_pending = false;
	return true;
}

static size_t visit_leaf(struct pmap *pm, uint64_t *slot, vaddr_t va, void *arg)
{
	const struct visit_arg *wa = arg;
	(void)pm;
	uint64_t e = pte_load(slot);
	if (wa->fn)
		wa->fn(wa->ctx, va, x86_pte_frame(e), x86_pte_bits(e));
	return 1;
}

size_t pmap_walk(const struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx)
{
	if (!range_ok(start, end))
		return 0;
	struct visit_arg wa = { fn, ctx, false };
	/* visit_leaf changes no entry, so walk_range never empties (and never
	 * frees) a table: the pmap is only read, as the const promises. */
	return walk_root((struct pmap *)pm, start, end, visit_leaf, &wa);
}

static size_t protect_leaf(struct pmap *pm, uint64_t *slot, vaddr_t va, void *arg)
{
	uint64_t rights = *(const uint64_t *)arg;
	uint64_t old = pte_load(slot);
	uint64_t new;
	do { /* retry if a walker sets A or D meanwhile */
		new = (old & (X86_PTE_FRAME | X86_PTE_STATUS)) | rights;
		if (new == old)
			return 0;
	} while (!pte_cas(slot, &old, new));
	if (x86_pte_weakened(old, new))
		x86_pt_shootdown(pm, va);
	return 1;
}

size_t pmap_protect(struct pmap *pm, vaddr_t start, vaddr_t end, unsigned prot)
{
	if (!range_ok(start, end) || (prot & ~PMAP_PROT_ALL))
		return 0;
	uint64_t rights = x86_pte_rights(prot);
	return walk_root(pm, start, end, protect_leaf, &rights);
}

/* ---- single translations ---- */

int pmap_extract(const struct pmap *pm, vaddr_t va, paddr_t *pa, unsigned *bits)
{
	if (va >= PMAP_USER_END)
		return -MMK_ENOENT;
	uint64_t *slot = x86_pt_leaf_slot(pm, va);
	uint64_t e = slot ? pte_load(slot) : 0;
	if (!x86_pte_mapped(e))
		return -MMK_ENOENT;
	if (pa)
		*pa = x86_pte_frame(e);
	if (bits)
		*bits = x86_pte_bits(e);
	return 0;
}

/* Clear status bit b at va; a cached entry would skip setting it again (a
 * walker writes A and D only when it walks), so it is shot down. */
static bool clear_status(struct pmap *pm, vaddr_t va, uint64_t b)
{
	uint64_t *slot = va < PMAP_USER_END ? x86_pt_leaf_slot(pm, va) : NULL;
	if (!slot || !x86_pte_mapped(pte_load(slot)))
		return false;
	uint64_t old = __atomic_fetch_and(slot, ~b, __ATOMIC_SEQ_CST);
	if (!(old & b))
		return false;
	if (old & X86_PTE_P)
		x86_pt_shootdown(pm, mmk_page_round_down(va));
	return true;
}

bool pmap_clear_accessed(struct pmap *pm, vaddr_t va) { return clear_status(pm, va, X86_PTE_A); }
bool pmap_clear_dirty(struct pmap *pm, vaddr_t va) { return clear_status(pm, va, X86_PTE_D); }

/* ---- checker ---- */

struct check {
	const struct pmap *pm;
	paddr_t *seen;
	size_t cap, tables, leaves;
	const char *why;
};

static bool check_table(struct check *ck, paddr_t pa, unsigned lvl);

static bool check_entry(struct check *ck, uint64_t e, unsigned lvl)
{
	if (lvl == 0) {
		ck->why = x86_pte_leaf_problem(e);
		ck->leaves++;
		return ck->why == NULL;
	}
	ck->why = x86_pte_table_problem(e);
	return ck->why == NULL && check_table(ck, x86_pte_frame(e), lvl - 1);
}

static bool check_kernel_half(struct check *ck, const uint64_t *root)
{
	const uint64_t *kernel = x86_pt_kernel_root(ck->pm->machine);
	for (unsigned i = USER_SLOTS; i < 512; i++)
		if (pte_load(&root[i]) != (kernel ? kernel[i] : 0)) {
			ck->why = kernel ? "kernel-half PML4 entry differs from the kernel's"
			                 : "kernel-half PML4 entry in a user pmap";
			return false;
		}
	return true;
}

static bool check_table(struct check *ck, paddr_t pa, unsigned lvl)
{
	if (!mmk_page_aligned(pa) || pa >= x86_pt_ram_end(ck->pm->machine)) {
		ck->why = "table page outside RAM";
		return false;
	}
	if (ck->tables < ck->cap)
		ck->seen[ck->tables] = pa;
	ck->tables++;
	const uint64_t *t = table_of(ck->pm->machine, pa);
	if (lvl == LVL_ROOT && !check_kernel_half(ck, t))
		return false;
	unsigned used = 0, slots = lvl == LVL_ROOT ? USER_SLOTS : 512u;
	for (unsigned i = 0; i < slots; i++) {
		uint64_t e = pte_load(&t[i]);
		if (e == 0)
			continue;
		used++;
		if (!check_entry(ck, e, lvl))
			return false;
	}
	if (used == 0 && lvl != LVL_ROOT) {
		ck->why = "empty page-table page kept";
		return false;
	}
	return true;
}

/* Shell sort (no libc in the kernel), then look for neighbours. */
static bool has_duplicate(paddr_t *a, size_t n)
{
	for (size_t gap = n / 2; gap > 0; gap /= 2)
		for (size_t i = gap; i < n; i++)
			for (size_t j = i; j >= gap && a[j - gap] > a[j]; j -= gap) {
				paddr_t t = a[j];
				a[j] = a[j - gap];
				a[j - gap] = t;
			}
	for (size_t i = 1; i < n; i++)
		if (a[i] == a[i - 1])
			return true;
	return false;
}

int x86_pt_check(const struct pmap *pm, paddr_t *seen, size_t cap, size_t *tables, const char **why)
{
	struct check ck = { .pm = pm, .seen = seen, .cap = cap };
	*tables = 0;
	if (!pm->machine || (pm->root == 0 && pm->pt_pages == 0))
		ck.why = "pmap not created or already destroyed";
	else if (check_table(&ck, pm->root, LVL_ROOT)) {
		*tables = ck.tables;
		if (ck.tables > cap)
			return -MMK_ENOSPC;
		if (has_duplicate(seen, ck.tables))
			ck.why = "a table page is linked twice";
		else if (ck.tables != pm->pt_pages)
			ck.why = "pt_pages does not match the tables";
		else if (ck.leaves != pm->resident)
			ck.why = "resident does not match the translations";
	}
	if (why)
		*why = ck.why;
	return ck.why ? -MMK_EINVAL : 0;
}
