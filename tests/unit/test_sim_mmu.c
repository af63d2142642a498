/*
 * test_sim_mmu.c - hal/sim as a CPU: sim_access through TLB and page walk,
 * accessed/dirty bits, TLB caching and shootdown, fault error codes and the
 * fault handler, sim_read/sim_write moving real bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mmk/errno.h>
#include <string.h>

#include "sim_fixture.h"

#define PG MMK_PAGE_SIZE
#define URW (PMAP_PROT_READ | PMAP_PROT_WRITE | PMAP_PROT_USER)
#define URO (PMAP_PROT_READ | PMAP_PROT_USER)
#define URX (PMAP_PROT_READ | PMAP_PROT_EXEC | PMAP_PROT_USER)
#define R PMAP_ACCESS_READ
#define W PMAP_ACCESS_WRITE
#define X PMAP_ACCESS_EXEC

#define CHECK(pm)                                                   \
	do {                                                            \
		const char *why_ = NULL;                                    \
		if (pmap_check((pm), &why_) != 0)                           \
			fail_msg("pmap_check: %s", why_ ? why_ : "(no reason)"); \
	} while (0)

/* What the fault handler saw, and what it does. */
struct fault_log {
	unsigned calls;
	void *owner;
	vaddr_t va;
	unsigned access, ec;
	unsigned cpu;         /* hal_cpu_id inside the handler */
	int result;           /* returned when no mapping is asked for */
	bool map;             /* pmap_enter the page first */
	paddr_t map_pa;
	unsigned map_prot;
};

static struct fault_log flog;

static int record_fault(void *owner, vaddr_t va, unsigned access, unsigned ec)
{
	struct sim_fixture *fx = owner;
	flog.calls++;
	flog.owner = owner;
	flog.va = va;
	flog.access = access;
	flog.ec = ec;
	flog.cpu = hal_cpu_id(fx->m);
	if (flog.map)
		return pmap_enter(&fx->pm, mmk_page_round_down(va), flog.map_pa, flog.map_prot);
	return flog.result;
}

static int setup(void **state)
{
	static struct sim_fixture fx;
	if (sim_fixture_setup(&fx, 3) != 0)
		return -1;
	memset(&flog, 0, sizeof(flog));
	flog.result = -MMK_EFAULT;
	sim_set_fault_handler(fx.m, record_fault);
	pmap_activate(&fx.pm, 0);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct sim_fixture *fx = *state;
	for (unsigned cpu = 0; cpu < hal_cpu_count(fx->m); cpu++)
		pmap_deactivate(&fx->pm, cpu);
	pmap_remove(&fx->pm, 0, PMAP_USER_END, NULL, NULL);
	const char *why = NULL;
	int bad = pmap_check(&fx->pm, &why);
	int rc = pmap_destroy(&fx->pm);
	size_t in_use = fx->pool.in_use, bad_frees = fx->pool.bad_frees;
	sim_pt_pool_fini(&fx->pool);
	sim_machine_destroy(fx->m);
	return (bad == 0 && rc == 0 && in_use == 0 && bad_frees == 0) ? 0 : -1;
}

static void enter_ok(struct pmap *pm, vaddr_t va, paddr_t pa, unsigned prot)
{
	assert_int_equal(pmap_enter(pm, va, pa, prot), 0);
	CHECK(pm);
}

static unsigned bits_of(const struct pmap *pm, vaddr_t va)
{
	paddr_t pa;
	unsigned bits = 0;
	assert_int_equal(pmap_extract(pm, va, &pa, &bits), 0);
	return bits;
}

static paddr_t access_ok(struct sim_fixture *fx, unsigned cpu, vaddr_t va, unsigned access)
{
	paddr_t pa = ~(paddr_t)0;
	assert_int_equal(sim_access(fx->m, cpu, va, access, true, &pa), 0);
	return pa;
}

static void test_access_translates(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x40000, sim_fx_frame(3), URW);
	assert_int_equal(access_ok(fx, 0, 0x40123, R), sim_fx_frame(3) + 0x123);
	assert_int_equal(access_ok(fx, 0, 0x40fff, W), sim_fx_frame(3) + 0xfff);
	/* Supervisor access to a user page is allowed (no SMAP). */
	paddr_t pa;
	assert_int_equal(sim_access(fx->m, 0, 0x40000, R, false, &pa), 0);
	assert_int_equal(flog.calls, 0);
	/* Bad arguments. */
	assert_int_equal(sim_access(fx->m, 3, 0x40000, R, true, &pa), -MMK_EINVAL);
	assert_int_equal(sim_access(fx->m, 0, 0x40000, 0, true, &pa), -MMK_EINVAL);
	assert_int_equal(sim_access(fx->m, 0, 0x40000, R | W, true, &pa), -MMK_EINVAL);
	assert_int_equal(sim_access(fx->m, 0, PMAP_USER_END, R, true, &pa), -MMK_EFAULT);
	assert_int_equal(flog.calls, 0);
}

static void test_accessed_dirty(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x1000, sim_fx_frame(1), URW);
	assert_int_equal(bits_of(&fx->pm, 0x1000), URW);
	access_ok(fx, 0, 0x1000, R);
	assert_int_equal(bits_of(&fx->pm, 0x1000), URW | PMAP_ACCESSED);
	/* The read cached an entry without D: a write must walk to set D. */
	struct sim_stats before, after;
	sim_get_stats(fx->m, &before);
	access_ok(fx, 0, 0x1008, W);
	sim_get_stats(fx->m, &after);
	assert_int_equal(after.walks, before.walks + 1);
	assert_int_equal(bits_of(&fx->pm, 0x1000), URW | PMAP_ACCESSED | PMAP_DIRTY);
	/* Now D is cached: a second write needs no walk. */
	access_ok(fx, 0, 0x1010, W);
	sim_get_stats(fx->m, &before);
	assert_int_equal(before.walks, after.walks);
	assert_int_equal(before.tlb_hits, after.tlb_hits + 1);
	/* Intermediate entries got A too, as on hardware. */
	uint64_t *root = hal_phys_map(fx->m, fx->pm.root);
	assert_true(root[0] & SIM_PTE_A);
	CHECK(&fx->pm);

	assert_true(pmap_clear_dirty(&fx->pm, 0x1000));
	assert_false(pmap_clear_dirty(&fx->pm, 0x1000));
	assert_int_equal(bits_of(&fx->pm, 0x1000), URW | PMAP_ACCESSED);
	assert_false(sim_tlb_probe(fx->m, 0, 0x1000, NULL)); /* shot down */
	access_ok(fx, 0, 0x1000, W);
	assert_int_equal(bits_of(&fx->pm, 0x1000), URW | PMAP_ACCESSED | PMAP_DIRTY);
	assert_true(pmap_clear_accessed(&fx->pm, 0x1000));
	assert_false(pmap_clear_accessed(&fx->pm, 0x1000));
	assert_int_equal(bits_of(&fx->pm, 0x1000), URW | PMAP_DIRTY);
	access_ok(fx, 0, 0x1000, R);
	assert_int_equal(bits_of(&fx->pm, 0x1000), URW | PMAP_ACCESSED | PMAP_DIRTY);
	CHECK(&fx->pm);
	/* Nothing mapped: false. */
	assert_false(pmap_clear_accessed(&fx->pm, 0x2000));
	assert_false(pmap_clear_dirty(&fx->pm, 0x200000000));
}

/* The TLB is not coherent: a forged frame change is invisible until the
 * page is invalidated. */
static void test_tlb_really_caches(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x9000, sim_fx_frame(1), URW);
	assert_int_equal(access_ok(fx, 0, 0x9000, W), sim_fx_frame(1));
	paddr_t cached;
	assert_true(sim_tlb_probe(fx->m, 0, 0x9000, &cached));
	assert_int_equal(cached, sim_fx_frame(1));

	uint64_t *pte = sim_pte_ptr(&fx->pm, 0x9000);
	*pte = (*pte & ~SIM_PTE_FRAME) | sim_fx_frame(2); /* no invalidation */
	struct sim_stats before, after;
	sim_get_stats(fx->m, &before);
	assert_int_equal(access_ok(fx, 0, 0x9000, R), sim_fx_frame(1));
	assert_int_equal(access_ok(fx, 0, 0x9000, W), sim_fx_frame(1));
	sim_get_stats(fx->m, &after);
	assert_int_equal(after.tlb_hits, before.tlb_hits + 2);
	assert_int_equal(after.walks, before.walks);

	pmap_tlb_invalidate(&fx->pm, 0x9abc);
	assert_int_equal(access_ok(fx, 0, 0x9000, R), sim_fx_frame(2));
	sim_get_stats(fx->m, &before);
	assert_int_equal(before.invalidations, after.invalidations + 1);
	assert_int_equal(before.walks, after.walks + 1);
	CHECK(&fx->pm);

	/* Activation reloads CR3: a full flush. */
	pmap_activate(&fx->pm, 0);
	assert_int_equal(sim_tlb_count(fx->m, 0), 0);
	sim_get_stats(fx->m, &after);
	assert_int_equal(after.flushes, before.flushes + 1);
}

/* 64 entries, round robin: 65 pages evict the first one. */
static void test_tlb_capacity(void **state)
{
	struct sim_fixture *fx = *state;
	for (unsigned i = 0; i <= SIM_TLB_ENTRIES; i++)
		enter_ok(&fx->pm, (vaddr_t)(i + 1) * PG, sim_fx_frame(i), URO);
	for (unsigned i = 0; i < SIM_TLB_ENTRIES; i++)
		access_ok(fx, 0, (vaddr_t)(i + 1) * PG, R);
	assert_int_equal(sim_tlb_count(fx->m, 0), SIM_TLB_ENTRIES);
	assert_true(sim_tlb_probe(fx->m, 0, PG, NULL));
	access_ok(fx, 0, (vaddr_t)(SIM_TLB_ENTRIES + 1) * PG, R);
	assert_int_equal(sim_tlb_count(fx->m, 0), SIM_TLB_ENTRIES);
	assert_false(sim_tlb_probe(fx->m, 0, PG, NULL));
	assert_true(sim_tlb_probe(fx->m, 0, 2 * PG, NULL));
	struct sim_stats s;
	sim_get_cpu_stats(fx->m, 0, &s);
	assert_int_equal(s.tlb_misses, SIM_TLB_ENTRIES + 1);
	assert_int_equal(s.tlb_hits, 0);
}

/* Remove and weaken on one CPU invalidate on every CPU where the pmap is
 * active, and only there. */
static void test_shootdown_two_cpus(void **state)
{
	struct sim_fixture *fx = *state;
	pmap_activate(&fx->pm, 1);
	assert_int_equal(fx->pm.active_cpus, 3);
	enter_ok(&fx->pm, 0x5000, sim_fx_frame(1), URW);
	enter_ok(&fx->pm, 0x6000, sim_fx_frame(2), URW);
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		access_ok(fx, cpu, 0x5000, W);
		access_ok(fx, cpu, 0x6000, W);
		assert_true(sim_tlb_probe(fx->m, cpu, 0x5000, NULL));
	}
	/* CPU 2 runs another address space. */
	struct pmap other;
	struct pmap_pt_source src = sim_pt_pool_source(&fx->pool);
	assert_int_equal(pmap_create(&other, fx->m, &src, NULL), 0);
	pmap_activate(&other, 2);
	struct sim_stats s2_before, s2_after;
	sim_get_cpu_stats(fx->m, 2, &s2_before);

	assert_int_equal(pmap_protect(&fx->pm, 0x5000, 0x6000, URO), 1);
	CHECK(&fx->pm);
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		assert_false(sim_tlb_probe(fx->m, cpu, 0x5000, NULL));
		assert_true(sim_tlb_probe(fx->m, cpu, 0x6000, NULL));
		assert_int_equal(sim_access(fx->m, cpu, 0x5000, W, true, NULL), -MMK_EFAULT);
		assert_int_equal(flog.ec, 0x7);
	}
	assert_int_equal(pmap_remove(&fx->pm, 0x6000, 0x7000, NULL, NULL), 1);
	CHECK(&fx->pm);
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		assert_false(sim_tlb_probe(fx->m, cpu, 0x6000, NULL));
		assert_int_equal(sim_access(fx->m, cpu, 0x6000, R, true, NULL), -MMK_EFAULT);
		assert_int_equal(flog.ec, 0x4);
	}
	sim_get_cpu_stats(fx->m, 2, &s2_after);
	assert_int_equal(s2_after.invalidations, s2_before.invalidations);

	/* Activating another pmap on CPU 1 takes CPU 1 out of the mask. */
	pmap_activate(&other, 1);
	assert_int_equal(fx->pm.active_cpus, 1);
	assert_int_equal(other.active_cpus, 6);
	assert_ptr_equal(sim_current_pmap(fx->m, 1), &other);
	pmap_deactivate(&other, 1);
	pmap_deactivate(&other, 2);
	assert_int_equal(other.active_cpus, 0);
	assert_null(sim_current_pmap(fx->m, 2));
	assert_int_equal(pmap_destroy(&other), 0);
	/* No active pmap: no translation, no handler. */
	unsigned calls = flog.calls;
	assert_int_equal(sim_access(fx->m, 2, 0x5000, R, true, NULL), -MMK_EFAULT);
	assert_int_equal(flog.calls, calls);
}

struct fault_case {
	vaddr_t va;
	unsigned access;
	bool user;
	unsigned ec;
};

static void expect_fault(struct sim_fixture *fx, const struct fault_case *c, int result)
{
	flog.calls = 0;
	flog.result = result;
	assert_int_equal(sim_access(fx->m, 0, c->va, c->access, c->user, NULL), result);
	assert_int_equal(flog.calls, 1);
	assert_ptr_equal(flog.owner, fx);
	assert_int_equal(flog.va, c->va);
	assert_int_equal(flog.access, c->access);
	assert_int_equal(flog.ec, c->ec);
}

static void test_fault_error_codes(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x10000, sim_fx_frame(1), URO);                       /* NX */
	enter_ok(&fx->pm, 0x11000, sim_fx_frame(2), PMAP_PROT_READ);            /* kernel only */
	enter_ok(&fx->pm, 0x12000, sim_fx_frame(3), PMAP_PROT_USER);            /* PROT_NONE */
	enter_ok(&fx->pm, 0x13000, sim_fx_frame(4), URX);
	const struct fault_case cases[] = {
		{ 0x20008, R, true, 0x4 },   /* user read, missing */
		{ 0x20008, W, true, 0x6 },   /* user write, missing */
		{ 0x10010, W, true, 0x7 },   /* user write to present read-only */
		{ 0x20000, X, true, 0x14 },  /* user exec, missing */
		{ 0x10000, X, true, 0x15 },  /* user exec on NX present */
		{ 0x20000, R, false, 0x0 },  /* kernel read, missing */
		{ 0x10000, W, false, 0x3 },  /* kernel write to read-only (CR0.WP) */
		{ 0x11000, R, true, 0x5 },   /* user read of a kernel page */
		{ 0x12000, R, true, 0x4 },   /* PROT_NONE looks not present */
		{ 0x13000, W, true, 0x7 },   /* write to read+exec */
		{ 0x7ffffffffff8, R, true, 0x4 }, /* last user bytes */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_fault(fx, &cases[i], -MMK_EFAULT);
	/* The handler's own error comes back as is. */
	expect_fault(fx, &cases[0], -MMK_EACCES);
	expect_fault(fx, &cases[2], -MMK_ENOMEM);
	/* Allowed accesses: no fault. */
	flog.calls = 0;
	access_ok(fx, 0, 0x13000, X);
	access_ok(fx, 0, 0x10000, R);
	assert_int_equal(flog.calls, 0);
	struct sim_stats s;
	sim_get_stats(fx->m, &s);
	assert_int_equal(s.faults, sizeof(cases) / sizeof(cases[0]) + 2);
}

/* Demand paging: the handler maps the page, the access retries and wins. */
static void test_fault_handler_maps(void **state)
{
	struct sim_fixture *fx = *state;
	flog.map = true;
	flog.map_pa = sim_fx_frame(9);
	flog.map_prot = URW;
	pmap_activate(&fx->pm, 2);
	paddr_t pa;
	assert_int_equal(sim_access(fx->m, 2, 0x300456, W, true, &pa), 0);
	assert_int_equal(pa, sim_fx_frame(9) + 0x456);
	assert_int_equal(flog.calls, 1);
	assert_int_equal(flog.ec, 0x6);
	assert_int_equal(flog.cpu, 2); /* the handler runs on the faulting CPU */
	assert_int_equal(bits_of(&fx->pm, 0x300000), URW | PMAP_ACCESSED | PMAP_DIRTY);
	CHECK(&fx->pm);
	/* A handler that maps read-only cannot satisfy a write: 3 tries, then
	 * EFAULT. */
	flog.calls = 0;
	flog.map_prot = URO;
	assert_int_equal(sim_access(fx->m, 2, 0x400000, W, true, &pa), -MMK_EFAULT);
	assert_int_equal(flog.calls, SIM_FAULT_RETRIES);
	CHECK(&fx->pm);
}

/* A handler that claims success without fixing anything. */
static void test_fault_retries_exhausted(void **state)
{
	struct sim_fixture *fx = *state;
	flog.result = 0;
	assert_int_equal(sim_access(fx->m, 0, 0x8000, R, true, NULL), -MMK_EFAULT);
	assert_int_equal(flog.calls, SIM_FAULT_RETRIES);
	/* No handler at all. */
	sim_set_fault_handler(fx->m, NULL);
	assert_int_equal(sim_access(fx->m, 0, 0x8000, R, true, NULL), -MMK_EFAULT);
	assert_int_equal(flog.calls, SIM_FAULT_RETRIES);
}

/* Strengthening needs no shootdown: the stale read-only entry faults once
 * (spuriously, as on x86), the fault drops it and the retry succeeds. */
static void test_stale_entry_after_upgrade(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0xa000, sim_fx_frame(5), URO);
	access_ok(fx, 0, 0xa000, R);
	struct sim_stats before, after;
	sim_get_stats(fx->m, &before);
	assert_int_equal(pmap_protect(&fx->pm, 0xa000, 0xb000, URW), 1);
	sim_get_stats(fx->m, &after);
	assert_int_equal(after.invalidations, before.invalidations);
	assert_true(sim_tlb_probe(fx->m, 0, 0xa000, NULL));
	flog.result = 0; /* "already fixed" */
	access_ok(fx, 0, 0xa000, W);
	assert_int_equal(flog.calls, 1);
	assert_int_equal(flog.ec, 0x7);
	assert_int_equal(bits_of(&fx->pm, 0xa000), URW | PMAP_ACCESSED | PMAP_DIRTY);
}

/* Real bytes: two virtual aliases of the same two frames. */
static void test_read_write_aliases(void **state)
{
	struct sim_fixture *fx = *state;
	const vaddr_t a = 0x100000, b = 0x7f0000000000;
	enter_ok(&fx->pm, a, sim_fx_frame(20), URW);
	enter_ok(&fx->pm, a + PG, sim_fx_frame(21), URW);
	enter_ok(&fx->pm, b, sim_fx_frame(20), URO);
	enter_ok(&fx->pm, b + PG, sim_fx_frame(21), URO);
	char msg[200];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	/* Straddles the page boundary. */
	assert_int_equal(sim_write(fx->m, 0, a + PG - 100, msg, sizeof(msg), true), 0);
	char back[200] = { 0 };
	assert_int_equal(sim_read(fx->m, 0, b + PG - 100, back, sizeof(back), true), 0);
	assert_memory_equal(back, msg, sizeof(msg));
	const char *direct = hal_phys_map(fx->m, sim_fx_frame(21));
	assert_memory_equal(direct, msg + 100, 100);
	assert_int_equal(bits_of(&fx->pm, a + PG), URW | PMAP_ACCESSED | PMAP_DIRTY);
	assert_int_equal(bits_of(&fx->pm, b + PG), URO | PMAP_ACCESSED);
	/* The read-only alias refuses writes; a partial copy stops at the
	 * first page that faults. */
	assert_int_equal(sim_write(fx->m, 0, b, msg, 10, true), -MMK_EFAULT);
	assert_int_equal(flog.ec, 0x7);
	static char big[2 * PG];
	assert_int_equal(sim_read(fx->m, 0, a + PG, big, sizeof(big), true), -MMK_EFAULT);
	assert_int_equal(flog.ec, 0x4);
	assert_int_equal(sim_read(fx->m, 0, a, back, 0, true), 0);
	/* A translation beyond RAM (a device) cannot be copied. */
	enter_ok(&fx->pm, 0x200000, SIM_FX_RAM, URW);
	assert_int_equal(sim_read(fx->m, 0, 0x200000, back, 1, true), -MMK_EFAULT);
}

/* Remove reports the A/D bits the CPU set, after the shootdown. */
struct visit_log {
	struct sim_fixture *fx;
	unsigned n, bits[4];
	bool cached; /* any CPU still caching the page when the visitor ran */
};

static void log_visit(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct visit_log *log = ctx;
	(void)pa;
	if (log->n < 4)
		log->bits[log->n] = bits;
	log->n++;
	log->cached |= sim_tlb_probe(log->fx->m, 0, va, NULL);
}

static void test_remove_reports_bits(void **state)
{
	struct sim_fixture *fx = *state;
	enter_ok(&fx->pm, 0x1000, sim_fx_frame(1), URW);
	enter_ok(&fx->pm, 0x2000, sim_fx_frame(2), URW);
	enter_ok(&fx->pm, 0x3000, sim_fx_frame(3), URW);
	access_ok(fx, 0, 0x2000, R);
	access_ok(fx, 0, 0x3000, W);
	struct visit_log log = { .fx = fx };
	assert_int_equal(pmap_remove(&fx->pm, 0x1000, 0x4000, log_visit, &log), 3);
	CHECK(&fx->pm);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.bits[0], 0);
	assert_int_equal(log.bits[1], PMAP_ACCESSED);
	assert_int_equal(log.bits[2], PMAP_ACCESSED | PMAP_DIRTY);
	assert_false(log.cached);
	assert_int_equal(fx->pm.pt_pages, 1);
}

/* pmap_remove_deferred leaves TLB entries stale (a CPU may still use
 * them) until pmap_tlb_sync, which sends one shootdown per active CPU,
 * however many pages went; with nothing pending, sync sends nothing. */
static void test_deferred_remove_one_shootdown(void **state)
{
	struct sim_fixture *fx = *state;
	pmap_activate(&fx->pm, 1);
	for (unsigned i = 0; i < 8; i++)
		enter_ok(&fx->pm, 0x10000 + i * PG, sim_fx_frame(i), URW);
	for (unsigned cpu = 0; cpu < 2; cpu++)
		for (unsigned i = 0; i < 8; i++)
			access_ok(fx, cpu, 0x10000 + i * PG, W);
	struct sim_stats before[3], after[3];
	for (unsigned cpu = 0; cpu < 3; cpu++)
		sim_get_cpu_stats(fx->m, cpu, &before[cpu]);
	assert_false(pmap_tlb_sync(&fx->pm));
	assert_int_equal(pmap_remove_deferred(&fx->pm, 0x10000, 0x10000 + 8 * PG, NULL, NULL), 8);
	assert_true(fx->pm.tlb_pending);
	assert_int_equal(pmap_extract(&fx->pm, 0x10000, NULL, NULL), -MMK_ENOENT);
	/* Stale: the TLB still translates the removed page. */
	for (unsigned cpu = 0; cpu < 2; cpu++)
		assert_true(sim_tlb_probe(fx->m, cpu, 0x13000, NULL));
	assert_true(pmap_tlb_sync(&fx->pm));
	assert_false(fx->pm.tlb_pending);
	assert_false(pmap_tlb_sync(&fx->pm));
	for (unsigned cpu = 0; cpu < 3; cpu++) {
		sim_get_cpu_stats(fx->m, cpu, &after[cpu]);
		assert_int_equal(after[cpu].shootdowns - before[cpu].shootdowns, cpu < 2 ? 1 : 0);
		assert_int_equal(after[cpu].invalidations - before[cpu].invalidations, 0);
		for (unsigned i = 0; cpu < 2 && i < 8; i++)
			assert_false(sim_tlb_probe(fx->m, cpu, 0x10000 + i * PG, NULL));
	}
	CHECK(&fx->pm);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_access_translates),     T(test_accessed_dirty),    T(test_tlb_really_caches),
		T(test_tlb_capacity),          T(test_shootdown_two_cpus), T(test_fault_error_codes),
		T(test_fault_handler_maps),    T(test_fault_retries_exhausted),
		T(test_stale_entry_after_upgrade), T(test_read_write_aliases), T(test_remove_reports_bits), T(test_deferred_remove_one_shootdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
