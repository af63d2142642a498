/*
 * pmap.c - hal/sim's pmap: x86-64 4-level page tables in simulated RAM.
 *
 * Theory of operation.
 *
 * 1. What.  A pmap is the hardware-dependent map of one user address space
 *    [0, PMAP_USER_END) (hal/pmap.h).  This one builds exactly the tables an
 *    x86-64 CPU with 4-level paging would walk, inside the simulated physical
 *    memory of the machine, so that sim_access (mmu.c) can play the CPU and
 *    the core's pmap calls are exercised against real table layouts.
 *
 * 2. Structures.  Four levels: PML4 (lvl 3, the root, "CR3"), PDPT (2),
 *    PD (1), PT (0).  Each table is one 4 KiB frame of 512 little-endian
 *    64-bit entries, taken from pm->pt.alloc and zeroed through the direct
 *    map.  One entry at level l covers 4 KiB << (9 * l) bytes of virtual
 *    space.  Entry bits (x86 positions): 0 P, 1 RW, 2 US, 5 A, 6 D, 63 NX,
 *    frame in 12..51.  Table entries are always P|RW|US (the leaf alone
 *    decides the rights).  A PMAP_PROT_NONE leaf has P clear and the software
 *    bit SIM_PTE_PROTNONE (bit 9) set and keeps its frame, US, A and D, as
 *    Linux's _PAGE_PROTNONE: the hardware sees "not present", pmap_extract
 *    still finds the translation.  No large pages.
 *
 * 3. Invariants (pmap_check re-derives them).
 *    a. pt_pages == number of table pages reachable from root, root included;
 *       each is page-aligned, inside RAM, and distinct from every other.
 *    b. resident == number of leaf entries that map a frame (P set, or
 *       PROTNONE set); PROT_NONE translations count, as they hold a frame.
 *    c. A table entry is 0 or P|RW|US (+A) with a frame; a leaf is 0, or
 *       P with only RW, US, A, D, NX and a frame, or PROTNONE with only US,
 *       A, D and a frame.  Every other bit is zero.
 *    d. No table but the root is empty: pmap_remove frees a table the moment
 *       its last entry goes, and pmap_enter allocates all it needs up front.
 *    e. The PML4 entries of the kernel half (256..511) are zero.
 *
 * 4. Locking.  The caller holds the lock of the owning address space, so
 *    the pmap's fields and the table structure have one writer.  The
 *    simulated CPUs are concurrent readers (and A/D writers) of the entries,
 *    so every entry is loaded and stored atomically, and status bits are
 *    cleared with an atomic AND so that a racing hardware update is never
 *    lost.  active_cpus changes atomically (activation may run on any CPU).
 *    Each CPU's TLB is guarded by that CPU's lock (tlb.c).
 *
 * 5. TLB policy.  The TLBs are not coherent with the tables.  Adding or
 *    strengthening a translation invalidates nothing: a stale entry can only
 *    be weaker, and a fault on it invalidates it (as on x86).  Removing,
 *    replacing, weakening a translation, or clearing its A or D bit
 *    invalidates that page on every CPU in active_cpus before the call
 *    returns, and before pmap_remove's callback sees the frame (so the
 *    caller may free it there).  Activation loads CR3: a full flush of that
 *    CPU.  Only leaf translations are cached (no paging-structure caches),
 *    so freeing an empty table needs no shootdown of its own.
 *
 * 6. Failure policy.  Validate, reserve, commit: pmap_enter checks its
 *    arguments, then allocates every table it lacks, and only then links
 *    them in; on -MMK_ENOMEM it returns what it took and nothing changed.
 *    Range functions given a bad range do nothing and return 0.
 *
 * 7. Sources.  Intel SDM vol. 3A ch. 4 (4-level paging, 4.5; A/D bits,
 *    4.8; TLB and invalidation, 4.10); BSD pmap(9) for the interface;
 *    Linux's PROT_NONE PTE for invariant 3c.
 */
#define _DEFAULT_SOURCE

#include <mmk/errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_impl.h"

#define LVL_ROOT 3u
#define TABLE_FLAGS (SIM_PTE_P | SIM_PTE_RW | SIM_PTE_US)
#define LEAF_STATUS (SIM_PTE_A | SIM_PTE_D)

/* ---- entry encoding ---- */

static bool leaf_mapped(uint64_t pte) { return (pte & (SIM_PTE_P | SIM_PTE_PROTNONE)) != 0; }

static bool prot_accessible(unsigned prot)
{
	return (prot & (PMAP_PROT_READ | PMAP_PROT_WRITE | PMAP_PROT_EXEC)) != 0;
}

/* The rights part of a leaf for prot; x86 cannot deny reads of a present
 * page, so any accessible prot is readable. */
static uint64_t prot_to_pte(unsigned prot)
{
	uint64_t us = (prot & PMAP_PROT_USER) ? SIM_PTE_US : 0;
	if (!prot_accessible(prot))
		return SIM_PTE_PROTNONE | us;
	uint64_t v = SIM_PTE_P | us;
	if (prot & PMAP_PROT_WRITE)
		v |= SIM_PTE_RW;
	if (!(prot & PMAP_PROT_EXEC))
		v |= SIM_PTE_NX;
	return v;
}

/* PMAP_PROT_* | PMAP_ACCESSED | PMAP_DIRTY of a mapped leaf. */
static unsigned pte_to_bits(uint64_t pte)
{
	unsigned bits = (pte & SIM_PTE_US) ? PMAP_PROT_USER : 0;
	if (pte & SIM_PTE_P) {
		bits |= PMAP_PROT_READ;
		if (pte & SIM_PTE_RW)
			bits |= PMAP_PROT_WRITE;
		if (!(pte & SIM_PTE_NX))
			bits |= PMAP_PROT_EXEC;
	}
	if (pte & SIM_PTE_A)
		bits |= PMAP_ACCESSED;
	if (pte & SIM_PTE_D)
		bits |= PMAP_DIRTY;
	return bits;
}

/* Whether going from old to new can leave a TLB entry too permissive. */
static bool pte_weakened(uint64_t old, uint64_t new)
{
	if (!(old & SIM_PTE_P))
		return false; /* never cached */
	if (!(new & SIM_PTE_P))
		return true;
	if ((old & SIM_PTE_RW) && !(new & SIM_PTE_RW))
		return true;
	if ((old & SIM_PTE_US) && !(new & SIM_PTE_US))
		return true;
	return !(old & SIM_PTE_NX) && (new & SIM_PTE_NX);
}

/* Bytes of virtual space one entry at level lvl covers. */
static uint64_t level_span(unsigned lvl) { return MMK_PAGE_SIZE << (9u * lvl); }

static bool range_ok(vaddr_t start, vaddr_t end)
{
	return mmk_page_aligned(start) && mmk_page_aligned(end) && start < end && end <= PMAP_USER_END;
}

static void shootdown(struct pmap *pm, vaddr_t va)
{
	sim_tlb_shootdown(pm->machine, __atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST), va);
}

/* ---- table pages ---- */

static int table_alloc(struct pmap *pm, paddr_t *out)
{
	paddr_t pa;
	int rc = pm->pt.alloc(pm->pt.ctx, &pa);
	if (rc != 0)
		return rc < 0 ? rc : -MMK_ENOMEM;
	if (!mmk_page_aligned(pa) || pa >= sim_ram_bytes(pm->machine))
		hal_panic(pm->machine, "pmap: page-table source gave a frame outside RAM");
	memset(hal_phys_map(pm->machine, pa), 0, MMK_PAGE_SIZE);
	*out = pa;
	return 0;
}

static void table_free(struct pmap *pm, paddr_t pa) { pm->pt.free(pm->pt.ctx, pa); }

static bool table_empty(const uint64_t *t)
{
	for (unsigned i = 0; i < 512; i++)
		if (sim_pte_load(&t[i]) != 0)
			return false;
	return true;
}

/* The leaf slot of va, or NULL when a table on the way is missing. */
static uint64_t *leaf_slot(const struct pmap *pm, vaddr_t va)
{
	paddr_t table = pm->root;
	for (unsigned lvl = LVL_ROOT; lvl > 0; lvl--) {
		uint64_t e = sim_pte_load(&sim_table(pm->machine, table)[sim_pt_index(va, lvl)]);
		if (!(e & SIM_PTE_P))
			return NULL;
		table = e & SIM_PTE_FRAME;
	}
	return &sim_table(pm->machine, table)[sim_pt_index(va, 0)];
}

uint64_t *sim_pte_ptr(const struct pmap *pm, vaddr_t va)
{
	if (va >= PMAP_USER_END)
		return NULL;
	return leaf_slot(pm, va);
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
	p.pt_pages = 1;
	*pm = p;
	return 0;
}

/* Free every table below the table at pa (level lvl), then pa itself. */
static void free_tree(struct pmap *pm, paddr_t pa, unsigned lvl)
{
	uint64_t *t = sim_table(pm->machine, pa);
	for (unsigned i = 0; lvl > 0 && i < 512; i++) {
		uint64_t e = sim_pte_load(&t[i]);
		if (e & SIM_PTE_P)
			free_tree(pm, e & SIM_PTE_FRAME, lvl - 1);
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
		uint64_t e = sim_pte_load(&sim_table(pm->machine, table)[sim_pt_index(va, lvl)]);
		if (!(e & SIM_PTE_P))
			return lvl;
		table = e & SIM_PTE_FRAME;
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
		uint64_t *slot = &sim_table(pm->machine, table)[sim_pt_index(va, lvl)];
		uint64_t e = sim_pte_load(slot);
		if (!(e & SIM_PTE_P)) {
			e = pages[used++] | TABLE_FLAGS;
			sim_pte_store(slot, e);
			pm->pt_pages++;
		}
		table = e & SIM_PTE_FRAME;
	}
	return &sim_table(pm->machine, table)[sim_pt_index(va, 0)];
}

int pmap_enter(struct pmap *pm, vaddr_t va, paddr_t pa, unsigned prot)
{
	if (!mmk_page_aligned(va) || !mmk_page_aligned(pa) || va >= PMAP_USER_END || (pa & ~SIM_PTE_FRAME) ||
	    (prot & ~PMAP_PROT_ALL))
		return -MMK_EINVAL;
	paddr_t pages[LVL_ROOT];
	unsigned need = missing_tables(pm, va);
	int rc = reserve_tables(pm, pages, need);
	if (rc != 0)
		return rc;
	uint64_t *slot = link_path(pm, va, pages);
	uint64_t old = sim_pte_load(slot);
	uint64_t new = pa | prot_to_pte(prot);
	/* Same frame: a change of rights, so the page keeps its history. */
	if (leaf_mapped(old) && (old & SIM_PTE_FRAME) == pa)
		new |= old & LEAF_STATUS;
	old = sim_pte_xchg(slot, new);
	if (leaf_mapped(old))
		shootdown(pm, va);
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
	uint64_t span = level_span(lvl);
	for (vaddr_t va = start; va < end;) {
		vaddr_t next = (va & ~(span - 1)) + span;
		vaddr_t stop = next < end ? next : end;
		uint64_t *slot = &t[sim_pt_index(va, lvl)];
		uint64_t e = sim_pte_load(slot);
		if (lvl == 0) {
			if (leaf_mapped(e))
				n += op(pm, slot, va, arg);
		} else if (e & SIM_PTE_P) {
			uint64_t *child = sim_table(pm->machine, e & SIM_PTE_FRAME);
			size_t k = walk_range(pm, child, lvl - 1, va, stop, op, arg);
			if (k != 0 && table_empty(child)) {
				sim_pte_store(slot, 0);
				table_free(pm, e & SIM_PTE_FRAME);
				pm->pt_pages--;
			}
			n += k;
		}
		va = next;
	}
	return n;
}

struct remove_arg {
	pmap_visit_fn fn;
	void *ctx;
	bool defer; /* pmap_remove_deferred: leave the shootdown to pmap_tlb_sync */
};

static size_t remove_leaf(struct pmap *pm, uint64_t *slot, vaddr_t va, void *arg)
{
	const struct remove_arg *ra = arg;
	/* Exchange, so an A or D bit a CPU sets meanwhile is reported. */
	uint64_t old = sim_pte_xchg(slot, 0);
	pm->resident--;
	if ((old & SIM_PTE_P) && ra->defer) /* a PROT_NONE entry is never cached */
		pm->tlb_pending = true;
	else if (old & SIM_PTE_P)
		shootdown(pm, va);
	if (ra->fn)
		ra->fn(ra->ctx, va, old & SIM_PTE_FRAME, pte_to_bits(old) & (PMAP_ACCESSED | PMAP_DIRTY));
	return 1;
}

size_t pmap_remove(struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx)
{
	if (!range_ok(start, end))
		return 0;
	struct remove_arg ra = { fn, ctx, false };
	return walk_range(pm, sim_table(pm->machine, pm->root), LVL_ROOT, start, end, remove_leaf, &ra);
}

size_t pmap_remove_deferred(struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx)
{
	if (!range_ok(start, end))
		return 0;
	struct remove_arg ra = { fn, ctx, true };
	return walk_range(pm, sim_table(pm->machine, pm->root), LVL_ROOT, start, end, remove_leaf, &ra);
}

/* The sim's TLBs hold only the active pmap's entries (activation flushes),
 * so flushing a CPU's whole TLB drops exactly pm's stale entries there. */
bool pmap_tlb_sync(struct pmap *pm)
{
	if (!pm->tlb_pending)
		return false;
	sim_tlb_shootdown_flush(pm->machine, __atomic_load_n(&pm->active_cpus, __ATOMIC_SEQ_CST));
	pm->tlb_pending = false;
	return true;
}

struct walk_arg {
	pmap_visit_fn fn;
	void *ctx;
};

static size_t visit_leaf(struct pmap *pm, uint64_t *slot, vaddr_t va, void *arg)
{
	const struct walk_arg *wa = arg;
	(void)pm;
	uint64_t e = sim_pte_load(slot);
	if (wa->fn)
		wa->fn(wa->ctx, va, e & SIM_PTE_FRAME, pte_to_bits(e));
	return 1;
}

size_t pmap_walk(const struct pmap *pm, vaddr_t start, vaddr_t end, pmap_visit_fn fn, void *ctx)
{
	if (!range_ok(start, end))
		return 0;
	struct walk_arg wa = { fn, ctx };
	/* visit_leaf changes no entry, so walk_range never empties (and never
	 * frees) a table: the pmap is only read, as the const promises. */
	struct pmap *rw = (struct pmap *)pm;
	return walk_range(rw, sim_table(pm->machine, pm->root), LVL_ROOT, start, end, visit_leaf, &wa);
}

static size_t protect_leaf(struct pmap *pm, uint64_t *slot, vaddr_t va, void *arg)
{
	uint64_t rights = *(const uint64_t *)arg;
	uint64_t old = sim_pte_load(slot);
	uint64_t new;
	do { /* retry if a CPU sets A or D meanwhile */
		new = (old & (SIM_PTE_FRAME | LEAF_STATUS)) | rights;
		if (new == old)
			return 0;
	} while (!sim_pte_cas(slot, &old, new));
	if (pte_weakened(old, new))
		shootdown(pm, va);
	return 1;
}

size_t pmap_protect(struct pmap *pm, vaddr_t start, vaddr_t end, unsigned prot)
{
	if (!range_ok(start, end) || (prot & ~PMAP_PROT_ALL))
		return 0;
	uint64_t rights = prot_to_pte(prot);
	return walk_range(pm, sim_table(pm->machine, pm->root), LVL_ROOT, start, end, protect_leaf, &rights);
}

/* ---- single translations ---- */

int pmap_extract(const struct pmap *pm, vaddr_t va, paddr_t *pa, unsigned *bits)
{
	if (va >= PMAP_USER_END)
		return -MMK_ENOENT;
	uint64_t *slot = leaf_slot(pm, va);
	uint64_t e = slot ? sim_pte_load(slot) : 0;
	if (!leaf_mapped(e))
		return -MMK_ENOENT;
	if (pa)
		*pa = e & SIM_PTE_FRAME;
	if (bits)
		*bits = pte_to_bits(e);
	return 0;
}

/* Clear status bit b at va; a cached entry would skip setting it again, so
 * it is shot down. */
static bool clear_status(struct pmap *pm, vaddr_t va, uint64_t b)
{
	uint64_t *slot = va < PMAP_USER_END ? leaf_slot(pm, va) : NULL;
	if (!slot || !leaf_mapped(sim_pte_load(slot)))
		return false;
	uint64_t old = sim_pte_fetch_and(slot, ~b);
	if (!(old & b))
		return false;
	if (old & SIM_PTE_P)
		shootdown(pm, mmk_page_round_down(va));
	return true;
}

bool pmap_clear_accessed(struct pmap *pm, vaddr_t va) { return clear_status(pm, va, SIM_PTE_A); }
bool pmap_clear_dirty(struct pmap *pm, vaddr_t va) { return clear_status(pm, va, SIM_PTE_D); }

/* ---- activation and invalidation ---- */

static struct sim_cpu *cpu_of(struct pmap *pm, unsigned cpu)
{
	if (cpu >= hal_cpu_count(pm->machine))
		hal_panic(pm->machine, "pmap: no such cpu");
	return &pm->machine->cpu[cpu];
}

void pmap_activate(struct pmap *pm, unsigned cpu)
{
	struct sim_cpu *c = cpu_of(pm, cpu);
	uint64_t bit = (uint64_t)1 << cpu;
	hal_spin_lock(&c->lock);
	if (c->cur && c->cur != pm)
		__atomic_fetch_and(&c->cur->active_cpus, ~bit, __ATOMIC_SEQ_CST);
	c->cur = pm;
	__atomic_fetch_or(&pm->active_cpus, bit, __ATOMIC_SEQ_CST);
	sim_tlb_flush_locked(c);
	hal_spin_unlock(&c->lock);
}

/* The CPU is left with no address space; its TLB is flushed, because
 * shootdowns of pm stop reaching it from now on. */
void pmap_deactivate(struct pmap *pm, unsigned cpu)
{
	struct sim_cpu *c = cpu_of(pm, cpu);
	hal_spin_lock(&c->lock);
	if (c->cur == pm) {
		c->cur = NULL;
		sim_tlb_flush_locked(c);
	}
	__atomic_fetch_and(&pm->active_cpus, ~((uint64_t)1 << cpu), __ATOMIC_SEQ_CST);
	hal_spin_unlock(&c->lock);
}

void pmap_tlb_invalidate(struct pmap *pm, vaddr_t va) { shootdown(pm, mmk_page_round_down(va)); }

/* ---- checker ---- */

struct check {
	const struct pmap *pm;
	size_t tables, leaves;
	paddr_t *seen;
	size_t cap;
	const char *why;
};

static bool check_note_table(struct check *ck, paddr_t pa)
{
	if (ck->tables == ck->cap) {
		size_t cap = ck->cap ? ck->cap * 2 : 64;
		paddr_t *p = realloc(ck->seen, cap * sizeof(*p));
		if (!p) {
			ck->why = "host out of memory in pmap_check";
			return false;
		}
		ck->seen = p;
		ck->cap = cap;
	}
	ck->seen[ck->tables++] = pa;
	return true;
}

static const char *check_leaf(uint64_t e)
{
	uint64_t ok = (e & SIM_PTE_P) ? SIM_PTE_P | SIM_PTE_RW | SIM_PTE_US | LEAF_STATUS | SIM_PTE_NX
	                              : SIM_PTE_PROTNONE | SIM_PTE_US | LEAF_STATUS;
	if (!leaf_mapped(e))
		return "leaf entry neither present nor PROT_NONE but not zero";
	if (e & ~(ok | SIM_PTE_FRAME))
		return "leaf entry has reserved or unexpected bits";
	return NULL;
}

static const char *check_link(uint64_t e)
{
	if ((e & TABLE_FLAGS) != TABLE_FLAGS)
		return "table entry lacks P|RW|US";
	if (e & ~(TABLE_FLAGS | SIM_PTE_A | SIM_PTE_FRAME))
		return "table entry has reserved or unexpected bits";
	return NULL;
}

static bool check_table(struct check *ck, paddr_t pa, unsigned lvl);

static bool check_entry(struct check *ck, uint64_t e, unsigned lvl, unsigned i)
{
	if (lvl == LVL_ROOT && i >= 256) {
		ck->why = "kernel-half PML4 entry in a user pmap";
		return false;
	}
	if (lvl == 0) {
		ck->why = check_leaf(e);
		ck->leaves++;
		return ck->why == NULL;
	}
	ck->why = check_link(e);
	return ck->why == NULL && check_table(ck, e & SIM_PTE_FRAME, lvl - 1);
}

static bool check_table(struct check *ck, paddr_t pa, unsigned lvl)
{
	if (!mmk_page_aligned(pa) || pa >= sim_ram_bytes(ck->pm->machine)) {
		ck->why = "table page outside RAM";
		return false;
	}
	if (!check_note_table(ck, pa))
		return false;
	const uint64_t *t = sim_table(ck->pm->machine, pa);
	unsigned used = 0;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = sim_pte_load(&t[i]);
		if (e == 0)
			continue;
		used++;
		if (!check_entry(ck, e, lvl, i))
			return false;
	}
	if (used == 0 && lvl != LVL_ROOT) {
		ck->why = "empty page-table page kept";
		return false;
	}
	return true;
}

static int cmp_paddr(const void *a, const void *b)
{
	paddr_t x = *(const paddr_t *)a, y = *(const paddr_t *)b;
	return (x > y) - (x < y);
}

static const char *check_counts(struct check *ck)
{
	qsort(ck->seen, ck->tables, sizeof(*ck->seen), cmp_paddr);
	for (size_t i = 1; i < ck->tables; i++)
		if (ck->seen[i] == ck->seen[i - 1])
			return "a table page is linked twice";
	if (ck->tables != ck->pm->pt_pages)
		return "pt_pages does not match the tables";
	if (ck->leaves != ck->pm->resident)
		return "resident does not match the translations";
	return NULL;
}

int pmap_check(const struct pmap *pm, const char **why)
{
	struct check ck = { .pm = pm };
	if (!pm->machine || (pm->root == 0 && pm->pt_pages == 0))
		ck.why = "pmap not created or already destroyed";
	else if (check_table(&ck, pm->root, LVL_ROOT))
		ck.why = check_counts(&ck);
	free(ck.seen);
	if (why)
		*why = ck.why;
	return ck.why ? -MMK_EINVAL : 0;
}
