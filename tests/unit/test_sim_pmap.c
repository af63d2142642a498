/*
 * test_sim_pmap.c - hal/sim's pmap: page-table structure, counts, boundaries
 * and bad input.  pmap_check runs after every operation; every test ends
 * with a leak check (all page-table pages back in the pool).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mmk/errno.h>
#include <string.h>

#include "sim_fixture.h"

#define GIB ((vaddr_t)1 << 30)
#define MIB ((vaddr_t)1 << 20)
#define PG MMK_PAGE_SIZE

#define CHECK(pm)                                                   \
	do {                                                            \
		const char *why_ = NULL;                                    \
		if (pmap_check((pm), &why_) != 0)                           \
			fail_msg("pmap_check: %s", why_ ? why_ : "(no reason)"); \
	} while (0)

static int setup(void **state)
{
	static struct sim_fixture fx;
	if (sim_fixture_setup(&fx, 2) != 0)
		return -1;
	*state = &fx;
	return 0;
}

/* Leak baseline: everything removable goes, the pmap is destroyed, and the
 * pool has every page-table page back. */
static int teardown(void **state)
{
	struct sim_fixture *fx = *state;
	for (unsigned cpu = 0; cpu < hal_cpu_count(fx->m); cpu++)
		pmap_deactivate(&fx->pm, cpu);
	pmap_remove(&fx->pm, 0, PMAP_USER_END, NULL, NULL);
	CHECK(&fx->pm);
	int rc = pmap_destroy(&fx->pm);
	size_t in_use = fx->pool.in_use, bad = fx->pool.bad_frees;
	sim_pt_pool_fini(&fx->pool);
	sim_machine_destroy(fx->m);
	return (rc == 0 && in_use == 0 && bad == 0) ? 0 : -1;
}

static void enter_ok(struct pmap *pm, vaddr_t va, paddr_t pa, unsigned prot)
{
	assert_int_equal(pmap_enter(pm, va, pa, prot), 0);
	CHECK(pm);
}

static void expect_mapping(const struct pmap *pm, vaddr_t va, paddr_t want_pa, unsigned want_bits)
{
	paddr_t pa = 0;
	unsigned bits = 0;
	assert_int_equal(pmap_extract(pm, va, &pa, &bits), 0);
	assert_int_equal(pa, want_pa);
	assert_int_equal(bits, want_bits);
}

static void expect_none(const struct pmap *pm, vaddr_t va)
{
	paddr_t pa;
	unsigned bits;
	assert_int_equal(pmap_extract(pm, va, &pa, &bits), -MMK_ENOENT);
}

#define URW (PMAP_PROT_READ | PMAP_PROT_WRITE | PMAP_PROT_USER)
#define URO (PMAP_PROT_READ | PMAP_PROT_USER)

/* Tables a set of pages needs: the root plus one per distinct prefix at
 * each lower level (a re-derivation independent of the pmap's own). */
static size_t tables_for(const vaddr_t *va, size_t n)
{
	size_t total = 1;
	for (unsigned shift = 39; shift >= 21; shift -= 9) {
		for (size_t i = 0; i < n; i++) {
			bool seen = false;
			for (size_t j = 0; j < i; j++)
				seen |= (va[j] >> shift) == (va[i] >> shift);
			total += !seen;
		}
	}
	return total;
}

static void test_create_empty(void **state)
{
	struct sim_fixture *fx = *state;
	CHECK(&fx->pm);
	assert_int_equal(fx->pm.pt_pages, 1);
	assert_int_equal(fx->pm.resident, 0);
	assert_int_equal(fx->pool.in_use, 1);
	assert_int_equal(fx->pm.active_cpus, 0);
	expect_none(&fx->pm, 0);
}

/* 1 root; +3 for the first page; +0 for its neighbour; back to 1. */
static void test_first_page_counts(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x400000, sim_fx_frame(1), URW);
	assert_int_equal(fx->pm.pt_pages, 4);
	assert_int_equal(fx->pm.resident, 1);
	assert_int_equal(fx->pool.in_use, 4);
	enter_ok(&fx->pm, 0x401000, sim_fx_frame(2), URO);
	assert_int_equal(fx->pm.pt_pages, 4);
	assert_int_equal(fx->pm.resident, 2);
	expect_mapping(&fx->pm, 0x400000, sim_fx_frame(1), URW);
	expect_mapping(&fx->pm, 0x401000, sim_fx_frame(2), URO);
	expect_mapping(&fx->pm, 0x401abc, sim_fx_frame(2), URO); /* any byte of the page */
	assert_int_equal(pmap_remove(&fx->pm, 0x400000, 0x402000, NULL, NULL), 2);
	CHECK(&fx->pm);
	assert_int_equal(fx->pm.pt_pages, 1);
	assert_int_equal(fx->pm.resident, 0);
	assert_int_equal(fx->pool.in_use, 1);
	expect_none(&fx->pm, 0x400000);
}

static const vaddr_t boundary_vas[] = {
	0,                         /* page 0 */
	2 * MIB - PG, 2 * MIB,     /* PT boundary */
	GIB - PG, GIB,             /* PD boundary */
	512 * GIB - PG, 512 * GIB, /* PDPT (PML4 entry) boundary */
	PMAP_USER_END - PG,        /* last user page */
};
#define NB (sizeof(boundary_vas) / sizeof(boundary_vas[0]))

static void enter_boundaries(struct sim_fixture *fx)
{
	for (size_t i = 0; i < NB; i++) {
		enter_ok(&fx->pm, boundary_vas[i], sim_fx_frame(i), URW);
		assert_int_equal(fx->pm.pt_pages, tables_for(boundary_vas, i + 1));
		assert_int_equal(fx->pm.resident, i + 1);
	}
	/* root + 3 PDPT + 5 PD + 7 PT, worked out by hand. */
	assert_int_equal(fx->pm.pt_pages, 16);
	for (size_t i = 0; i < NB; i++)
		expect_mapping(&fx->pm, boundary_vas[i], sim_fx_frame(i), URW);
	expect_none(&fx->pm, PG);
	expect_none(&fx->pm, 2 * MIB + PG);
	expect_none(&fx->pm, PMAP_USER_END - 2 * PG);
}

static void test_boundaries_enter_remove(void **state)
{
	struct sim_fixture *fx = *state;
	enter_boundaries(fx);
	/* Remove one page on each side of each boundary, one range at a time. */
	assert_int_equal(pmap_remove(&fx->pm, 2 * MIB - PG, 2 * MIB + PG, NULL, NULL), 2);
	CHECK(&fx->pm);
	expect_none(&fx->pm, 2 * MIB - PG);
	expect_none(&fx->pm, 2 * MIB);
	expect_mapping(&fx->pm, 0, sim_fx_frame(0), URW);
	assert_int_equal(pmap_remove(&fx->pm, GIB - PG, GIB + PG, NULL, NULL), 2);
	CHECK(&fx->pm);
	assert_int_equal(pmap_remove(&fx->pm, 512 * GIB - PG, 512 * GIB + PG, NULL, NULL), 2);
	CHECK(&fx->pm);
	assert_int_equal(fx->pm.resident, 2);
	const vaddr_t left[] = { 0, PMAP_USER_END - PG };
	assert_int_equal(fx->pm.pt_pages, tables_for(left, 2));
	assert_int_equal(pmap_remove(&fx->pm, PMAP_USER_END - PG, PMAP_USER_END, NULL, NULL), 1);
	CHECK(&fx->pm);
	assert_int_equal(pmap_remove(&fx->pm, 0, PG, NULL, NULL), 1);
	CHECK(&fx->pm);
	assert_int_equal(fx->pm.pt_pages, 1);
	assert_int_equal(fx->pool.in_use, 1);
}

static void test_boundaries_protect(void **state)
{
	struct sim_fixture *fx = *state;
	enter_boundaries(fx);
	size_t pages_before = fx->pm.pt_pages;
	assert_int_equal(pmap_protect(&fx->pm, 2 * MIB - PG, 2 * MIB + PG, URO), 2);
	CHECK(&fx->pm);
	expect_mapping(&fx->pm, 2 * MIB - PG, sim_fx_frame(1), URO);
	expect_mapping(&fx->pm, 2 * MIB, sim_fx_frame(2), URO);
	expect_mapping(&fx->pm, 0, sim_fx_frame(0), URW);
	/* Same protection again changes nothing. */
	assert_int_equal(pmap_protect(&fx->pm, 2 * MIB - PG, 2 * MIB + PG, URO), 0);
	/* Across the 1 GiB and 512 GiB boundaries at once. */
	assert_int_equal(pmap_protect(&fx->pm, GIB - PG, 512 * GIB + PG, PMAP_PROT_READ | PMAP_PROT_EXEC), 4);
	CHECK(&fx->pm);
	expect_mapping(&fx->pm, GIB, sim_fx_frame(4), PMAP_PROT_READ | PMAP_PROT_EXEC);
	expect_mapping(&fx->pm, 512 * GIB, sim_fx_frame(6), PMAP_PROT_READ | PMAP_PROT_EXEC);
	/* The whole user half, including the last page. */
	assert_int_equal(pmap_protect(&fx->pm, 0, PMAP_USER_END, URW), NB - 2); /* 0 and the last were URW */
	CHECK(&fx->pm);
	expect_mapping(&fx->pm, PMAP_USER_END - PG, sim_fx_frame(NB - 1), URW);
	assert_int_equal(fx->pm.pt_pages, pages_before);
	assert_int_equal(fx->pm.resident, NB);
}

/* PROT_NONE keeps the frame: extract still finds it, resident keeps it. */
static void test_prot_none(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x10000, sim_fx_frame(7), URW);
	assert_int_equal(pmap_protect(&fx->pm, 0x10000, 0x11000, PMAP_PROT_NONE), 1);
	CHECK(&fx->pm);
	expect_mapping(&fx->pm, 0x10000, sim_fx_frame(7), 0);
	assert_int_equal(fx->pm.resident, 1);
	uint64_t pte = *sim_pte_ptr(&fx->pm, 0x10000);
	assert_false(pte & SIM_PTE_P);
	assert_true(pte & SIM_PTE_PROTNONE);
	assert_int_equal(pte & SIM_PTE_FRAME, sim_fx_frame(7));
	/* PROT_NONE with the user bit kept, then back to accessible. */
	assert_int_equal(pmap_protect(&fx->pm, 0x10000, 0x11000, PMAP_PROT_USER), 1);
	expect_mapping(&fx->pm, 0x10000, sim_fx_frame(7), PMAP_PROT_USER);
	assert_int_equal(pmap_protect(&fx->pm, 0x10000, 0x11000, URW), 1);
	CHECK(&fx->pm);
	expect_mapping(&fx->pm, 0x10000, sim_fx_frame(7), URW);
	/* Entering PROT_NONE directly works too, and remove takes it away. */
	enter_ok(&fx->pm, 0x20000, sim_fx_frame(8), PMAP_PROT_NONE);
	expect_mapping(&fx->pm, 0x20000, sim_fx_frame(8), 0);
	assert_int_equal(pmap_remove(&fx->pm, 0x20000, 0x21000, NULL, NULL), 1);
	CHECK(&fx->pm);
}

/* x86 cannot deny reads of a present page: extract reports READ for any
 * accessible protection. */
static void test_prot_encoding(void **state)
{
	struct sim_fixture *fx = *state;
	for (unsigned prot = 0; prot <= PMAP_PROT_ALL; prot++) {
		vaddr_t va = (vaddr_t)(prot + 1) * PG;
		enter_ok(&fx->pm, va, sim_fx_frame(prot), prot);
		unsigned want = prot;
		if (prot & (PMAP_PROT_WRITE | PMAP_PROT_EXEC))
			want |= PMAP_PROT_READ;
		expect_mapping(&fx->pm, va, sim_fx_frame(prot), want);
	}
	assert_int_equal(fx->pm.resident, PMAP_PROT_ALL + 1);
}

static void test_replace(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x5000, sim_fx_frame(1), URW);
	/* Mark it accessed and dirty by hand, as a CPU would. */
	*sim_pte_ptr(&fx->pm, 0x5000) |= SIM_PTE_A | SIM_PTE_D;
	expect_mapping(&fx->pm, 0x5000, sim_fx_frame(1), URW | PMAP_ACCESSED | PMAP_DIRTY);
	/* Same frame, new rights: the page keeps its history. */
	enter_ok(&fx->pm, 0x5000, sim_fx_frame(1), URO);
	expect_mapping(&fx->pm, 0x5000, sim_fx_frame(1), URO | PMAP_ACCESSED | PMAP_DIRTY);
	/* Another frame: a new page, clean. */
	enter_ok(&fx->pm, 0x5000, sim_fx_frame(2), URW);
	expect_mapping(&fx->pm, 0x5000, sim_fx_frame(2), URW);
	assert_int_equal(fx->pm.resident, 1);
	assert_int_equal(fx->pm.pt_pages, 4);
}

struct snapshot {
	size_t pt_pages, resident, in_use;
};

static struct snapshot snap(const struct sim_fixture *fx)
{
	return (struct snapshot){ fx->pm.pt_pages, fx->pm.resident, fx->pool.in_use };
}

static void expect_unchanged(const struct sim_fixture *fx, struct snapshot s)
{
	CHECK(&fx->pm);
	assert_int_equal(fx->pm.pt_pages, s.pt_pages);
	assert_int_equal(fx->pm.resident, s.resident);
	assert_int_equal(fx->pool.in_use, s.in_use);
}

static void test_bad_input(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x7000, sim_fx_frame(3), URW);
	struct snapshot s = snap(fx);
	struct {
		vaddr_t va;
		paddr_t pa;
		unsigned prot;
	} bad[] = {
		{ 0x7001, sim_fx_frame(1), URW },             /* unaligned va */
		{ 0x8000, sim_fx_frame(1) + 8, URW },         /* unaligned pa */
		{ PMAP_USER_END, sim_fx_frame(1), URW },      /* first kernel-half page */
		{ ~(vaddr_t)0 & ~MMK_PAGE_MASK, 0, URW },    /* top of the address space */
		{ 0x8000, (paddr_t)1 << 52, URW },            /* frame not encodable */
		{ 0x8000, sim_fx_frame(1), PMAP_PROT_ALL + 1 }, /* unknown prot bit */
		{ 0x7000, sim_fx_frame(1), 0x100 },           /* bad prot on a mapped page */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pmap_enter(&fx->pm, bad[i].va, bad[i].pa, bad[i].prot), -MMK_EINVAL);
		expect_unchanged(fx, s);
	}
	expect_mapping(&fx->pm, 0x7000, sim_fx_frame(3), URW);
	/* Bad ranges: unaligned, empty, reversed, past the user half. */
	const vaddr_t ranges[][2] = {
		{ 0x7001, 0x8000 }, { 0x7000, 0x7fff }, { 0x7000, 0x7000 },
		{ 0x8000, 0x7000 }, { 0x7000, PMAP_USER_END + PG }, { 0, ~(vaddr_t)0 & ~MMK_PAGE_MASK },
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		assert_int_equal(pmap_remove(&fx->pm, ranges[i][0], ranges[i][1], NULL, NULL), 0);
		expect_unchanged(fx, s);
		assert_int_equal(pmap_protect(&fx->pm, ranges[i][0], ranges[i][1], URO), 0);
		expect_unchanged(fx, s);
	}
	assert_int_equal(pmap_protect(&fx->pm, 0x7000, 0x8000, 0x40), 0);
	expect_mapping(&fx->pm, 0x7000, sim_fx_frame(3), URW);
	expect_none(&fx->pm, PMAP_USER_END);
	expect_none(&fx->pm, ~(vaddr_t)0);
	assert_false(pmap_clear_accessed(&fx->pm, PMAP_USER_END));
	assert_false(pmap_clear_dirty(&fx->pm, 0x9000));
	expect_unchanged(fx, s);
}

static void test_destroy_busy(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x3000, sim_fx_frame(1), URW);
	struct snapshot s = snap(fx);
	assert_int_equal(pmap_destroy(&fx->pm), -MMK_EBUSY);
	expect_unchanged(fx, s);
	assert_int_equal(pmap_remove(&fx->pm, 0x3000, 0x4000, NULL, NULL), 1);
	/* Empty but active somewhere: still busy.  The last CPU: on the sim
	 * another than the caller's, on one real CPU (the kernel runs this
	 * file too) the caller's own. */
	unsigned cpu = hal_cpu_count(fx->m) - 1;
	pmap_activate(&fx->pm, cpu);
	assert_int_equal(fx->pm.active_cpus, (uint64_t)1 << cpu);
	assert_int_equal(pmap_destroy(&fx->pm), -MMK_EBUSY);
	CHECK(&fx->pm);
	pmap_deactivate(&fx->pm, cpu);
	assert_int_equal(fx->pm.active_cpus, 0);
	/* A PROT_NONE translation holds a frame: busy too. */
	enter_ok(&fx->pm, 0x3000, sim_fx_frame(1), PMAP_PROT_NONE);
	assert_int_equal(pmap_destroy(&fx->pm), -MMK_EBUSY);
	CHECK(&fx->pm);
}

/* A second pmap made and destroyed: every table page comes back. */
static void test_create_destroy_second(void **state)
{
	struct sim_fixture *fx = *state;
	size_t base = fx->pool.in_use;
	struct pmap pm2;
	struct pmap_pt_source src = sim_pt_pool_source(&fx->pool);
	assert_int_equal(pmap_create(&pm2, fx->m, &src, NULL), 0);
	CHECK(&pm2);
	enter_ok(&pm2, 0x1000, sim_fx_frame(1), URW);
	enter_ok(&pm2, 3 * GIB, sim_fx_frame(2), URW);
	assert_int_equal(fx->pool.in_use, base + pm2.pt_pages);
	assert_int_equal(pmap_remove(&pm2, 0, PMAP_USER_END, NULL, NULL), 2);
	assert_int_equal(pmap_destroy(&pm2), 0);
	assert_int_equal(fx->pool.in_use, base);
	/* Bad source: no callbacks. */
	struct pmap_pt_source none = { 0 };
	assert_int_equal(pmap_create(&pm2, fx->m, &none, NULL), -MMK_EINVAL);
	/* The source is out of frames. */
	mmk_failpoint_arm(&fx->pool.fp, 1, false);
	assert_int_equal(pmap_create(&pm2, fx->m, &src, NULL), -MMK_ENOMEM);
	assert_int_equal(fx->pool.in_use, base);
}

struct visit_log {
	size_t n;
	vaddr_t va[8];
	paddr_t pa[8];
	unsigned bits[8];
};

static void log_visit(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct visit_log *log = ctx;
	if (log->n < 8) {
		log->va[log->n] = va;
		log->pa[log->n] = pa;
		log->bits[log->n] = bits;
	}
	log->n++;
}

/* 3 pages spread over 512 GiB: remove must skip the empty subtrees (it
 * would visit 2^27 leaf slots otherwise).  No timing assertion. */
static void test_remove_sparse_huge(void **state)
{
	struct sim_fixture *fx = *state;
	const vaddr_t vas[] = { 5 * PG, 200 * GIB + 7 * 2 * MIB, 511 * GIB + 511 * 2 * MIB + 511 * PG };
	for (size_t i = 0; i < 3; i++)
		enter_ok(&fx->pm, vas[i], sim_fx_frame(10 + i), URW);
	*sim_pte_ptr(&fx->pm, vas[1]) |= SIM_PTE_A;
	*sim_pte_ptr(&fx->pm, vas[2]) |= SIM_PTE_A | SIM_PTE_D;
	assert_int_equal(fx->pm.pt_pages, tables_for(vas, 3));
	struct visit_log log = { 0 };
	assert_int_equal(pmap_remove(&fx->pm, 0, 512 * GIB, log_visit, &log), 3);
	CHECK(&fx->pm);
	assert_int_equal(log.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(log.va[i], vas[i]); /* ascending order */
		assert_int_equal(log.pa[i], sim_fx_frame(10 + i));
	}
	assert_int_equal(log.bits[0], 0);
	assert_int_equal(log.bits[1], PMAP_ACCESSED);
	assert_int_equal(log.bits[2], PMAP_ACCESSED | PMAP_DIRTY);
	assert_int_equal(fx->pm.pt_pages, 1);
	/* The whole user half with a few pages, and with none. */
	enter_ok(&fx->pm, 100 * 512 * GIB, sim_fx_frame(1), URW);
	enter_ok(&fx->pm, PMAP_USER_END - PG, sim_fx_frame(2), URW);
	assert_int_equal(pmap_remove(&fx->pm, 0, PMAP_USER_END, NULL, NULL), 2);
	CHECK(&fx->pm);
	assert_int_equal(pmap_remove(&fx->pm, 0, PMAP_USER_END, NULL, NULL), 0);
	assert_int_equal(fx->pm.pt_pages, 1);
}

/* pmap_walk visits in address order, reports rights and status, and
 * changes nothing. */
static void test_walk(void **state)
{
	struct sim_fixture *fx = *state;
	const vaddr_t vas[] = { 0, 3 * GIB, 300 * GIB, PMAP_USER_END - PG };
	const unsigned prots[] = { URW, URO, PMAP_PROT_NONE, PMAP_PROT_READ | PMAP_PROT_EXEC };
	for (size_t i = 0; i < 4; i++)
		enter_ok(&fx->pm, vas[i], sim_fx_frame(i), prots[i]);
	*sim_pte_ptr(&fx->pm, vas[0]) |= SIM_PTE_A | SIM_PTE_D;
	struct snapshot s = snap(fx);
	struct visit_log log = { 0 };
	assert_int_equal(pmap_walk(&fx->pm, 0, PMAP_USER_END, log_visit, &log), 4);
	expect_unchanged(fx, s);
	assert_int_equal(log.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(log.va[i], vas[i]);
		assert_int_equal(log.pa[i], sim_fx_frame(i));
	}
	assert_int_equal(log.bits[0], URW | PMAP_ACCESSED | PMAP_DIRTY);
	assert_int_equal(log.bits[1], URO);
	assert_int_equal(log.bits[2], 0);
	assert_int_equal(log.bits[3], PMAP_PROT_READ | PMAP_PROT_EXEC);
	/* Sub-ranges, a NULL visitor, bad ranges. */
	assert_int_equal(pmap_walk(&fx->pm, PG, 300 * GIB, NULL, NULL), 1);
	assert_int_equal(pmap_walk(&fx->pm, 3 * GIB, 300 * GIB + PG, NULL, NULL), 2);
	assert_int_equal(pmap_walk(&fx->pm, 4 * GIB, 5 * GIB, NULL, NULL), 0);
	assert_int_equal(pmap_walk(&fx->pm, PG, 0, NULL, NULL), 0);
	assert_int_equal(pmap_walk(&fx->pm, 1, PG, NULL, NULL), 0);
	assert_int_equal(pmap_walk(&fx->pm, 0, PMAP_USER_END + PG, NULL, NULL), 0);
	expect_unchanged(fx, s);
}

/* Removing part of a table keeps the table; removing the rest frees it. */
static void test_remove_partial_tables(void **state)
{
	struct sim_fixture *fx = *state;
	for (vaddr_t va = 2 * MIB - 4 * PG; va < 2 * MIB + 4 * PG; va += PG)
		enter_ok(&fx->pm, va, sim_fx_frame(va / PG), URW);
	assert_int_equal(fx->pm.pt_pages, 5); /* root, PDPT, PD, 2 PTs */
	assert_int_equal(pmap_remove(&fx->pm, 2 * MIB - 2 * PG, 2 * MIB + 2 * PG, NULL, NULL), 4);
	CHECK(&fx->pm);
	assert_int_equal(fx->pm.pt_pages, 5);
	assert_int_equal(pmap_remove(&fx->pm, 2 * MIB, 4 * MIB, NULL, NULL), 2);
	CHECK(&fx->pm);
	assert_int_equal(fx->pm.pt_pages, 4);
	assert_int_equal(fx->pm.resident, 2);
	/* A range with no translations at all in an existing table. */
	assert_int_equal(pmap_remove(&fx->pm, 0, 2 * MIB - 4 * PG, NULL, NULL), 0);
	CHECK(&fx->pm);
	assert_int_equal(fx->pm.pt_pages, 4);
}

/* Fault-injection sweep: the nth table allocation fails; nothing changes
 * until the enter succeeds (3 tables needed: fails for n = 1, 2, 3). */
static void test_enter_enomem_sweep(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x1000, sim_fx_frame(1), URW);
	const vaddr_t va = 3 * 512 * GIB + 5 * GIB + 7 * 2 * MIB;
	unsigned failures = 0;
	for (uint64_t n = 1;; n++) {
		struct snapshot s = snap(fx);
		mmk_failpoint_arm(&fx->pool.fp, n, false);
		int rc = pmap_enter(&fx->pm, va, sim_fx_frame(2), URW);
		mmk_failpoint_arm(&fx->pool.fp, 0, false);
		if (rc == 0)
			break;
		assert_int_equal(rc, -MMK_ENOMEM);
		expect_unchanged(fx, s);
		expect_none(&fx->pm, va);
		failures++;
	}
	CHECK(&fx->pm);
	assert_int_equal(failures, 3);
	expect_mapping(&fx->pm, va, sim_fx_frame(2), URW);
	assert_int_equal(fx->pm.pt_pages, 7);
	/* Sticky failure: a page under existing tables needs none. */
	mmk_failpoint_arm(&fx->pool.fp, 1, true);
	enter_ok(&fx->pm, va + PG, sim_fx_frame(3), URW);
	assert_int_equal(pmap_enter(&fx->pm, va + GIB, sim_fx_frame(4), URW), -MMK_ENOMEM);
	mmk_failpoint_arm(&fx->pool.fp, 0, false);
	CHECK(&fx->pm);
}

/* The checker catches forged corruption, and names it. */
static void test_check_detects(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x1000, sim_fx_frame(1), URW);
	uint64_t *pte = sim_pte_ptr(&fx->pm, 0x1000);
	uint64_t saved = *pte;
	const char *why = NULL;

	*pte |= (uint64_t)1 << 52; /* reserved bit */
	assert_int_equal(pmap_check(&fx->pm, &why), -MMK_EINVAL);
	assert_non_null(why);
	*pte = saved;

	*pte = SIM_PTE_RW; /* neither present nor PROT_NONE */
	assert_int_equal(pmap_check(&fx->pm, &why), -MMK_EINVAL);
	*pte = saved;

	fx->pm.resident++;
	assert_int_equal(pmap_check(&fx->pm, &why), -MMK_EINVAL);
	assert_non_null(strstr(why, "resident"));
	fx->pm.resident--;

	fx->pm.pt_pages--;
	assert_int_equal(pmap_check(&fx->pm, &why), -MMK_EINVAL);
	assert_non_null(strstr(why, "pt_pages"));
	fx->pm.pt_pages++;

	/* A second PML4 entry pointing at the same PDPT. */
	uint64_t *root = hal_phys_map(fx->m, fx->pm.root);
	root[1] = root[0];
	assert_int_equal(pmap_check(&fx->pm, &why), -MMK_EINVAL);
	root[1] = 0;
	CHECK(&fx->pm);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_empty),          T(test_first_page_counts), T(test_boundaries_enter_remove),
		T(test_boundaries_protect),    T(test_prot_none),         T(test_prot_encoding),
		T(test_replace),               T(test_bad_input),         T(test_destroy_busy),
		T(test_create_destroy_second), T(test_remove_sparse_huge), T(test_remove_partial_tables),
		T(test_enter_enomem_sweep),    T(test_check_detects),        T(test_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
