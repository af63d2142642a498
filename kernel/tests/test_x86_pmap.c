/*
 * test_x86_pmap.c - what only a real MMU can show about hal/x86_64's pmap
 * (the contract itself is checked by tests/unit/test_sim_pmap.c, compiled
 * into the kernel): the CPU's page walker sets accessed and dirty bits
 * that the pmap reports and clears (and, cleared, sets again: the clear
 * invalidated the TLB entry); replacing a translation is seen at once; a
 * read-only, PROT_NONE or removed page faults with the right error code;
 * each CR3 holds its own user half and the kernel half of all; freeing
 * page tables of the active pmap leaves nothing stale; deferred removals
 * are completed by one flush.
 */
#include <mmk/errno.h>

#include "../../hal/x86_64/pte.h"
#include "../kernel.h"
#include "../probe.h"
#include "tests.h"

#define VA ((vaddr_t)0x40000000)
#define URW (PMAP_PROT_READ | PMAP_PROT_WRITE | PMAP_PROT_USER)
#define URO (PMAP_PROT_READ | PMAP_PROT_USER)

struct fx {
	struct pmap pm, pm2;
	pfn_t frame[3];
	uint64_t free_before;
};

static int pt_alloc(void *ctx, paddr_t *out)
{
	pfn_t pfn;
	int rc = phys_alloc(ctx, 0, 0, &pfn);
	if (rc == 0)
		*out = mmk_pfn_to_paddr(pfn);
	return rc;
}

static void pt_free(void *ctx, paddr_t pa) { phys_free(ctx, mmk_paddr_to_pfn(pa), 0); }

static int setup(void **state)
{
	static struct fx fx;
	fx.free_before = tests_free_frames();
	struct pmap_pt_source src = { pt_alloc, pt_free, &kernel.phys };
	if (pmap_create(&fx.pm, kernel.machine, &src, NULL) || pmap_create(&fx.pm2, kernel.machine, &src, NULL))
		return -1;
	for (unsigned i = 0; i < 3; i++) {
		if (phys_alloc(&kernel.phys, 0, PHYS_ZERO, &fx.frame[i]))
			return -1;
		*(uint64_t *)phys_frame_ptr(&kernel.phys, fx.frame[i]) = 0x1110 + i;
	}
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	const char *why = NULL;
	pmap_deactivate(&fx->pm, 0);
	pmap_deactivate(&fx->pm2, 0);
	pmap_remove(&fx->pm, 0, PMAP_USER_END, NULL, NULL);
	pmap_remove(&fx->pm2, 0, PMAP_USER_END, NULL, NULL);
	int bad = pmap_check(&fx->pm, &why) || pmap_check(&fx->pm2, &why);
	bad |= pmap_destroy(&fx->pm) || pmap_destroy(&fx->pm2);
	for (unsigned i = 0; i < 3; i++)
		bad |= phys_free(&kernel.phys, fx->frame[i], 0);
	return bad || tests_free_frames() != fx->free_before ? -1 : 0;
}

static paddr_t frame_pa(const struct fx *fx, unsigned i) { return mmk_pfn_to_paddr(fx->frame[i]); }
static volatile uint64_t *at(vaddr_t va) { return (volatile uint64_t *)(uintptr_t)va; }

static unsigned bits_at(struct pmap *pm, vaddr_t va)
{
	unsigned bits = 0;
	KT_EQ(pmap_extract(pm, va, NULL, &bits), 0);
	return bits;
}

static void test_hardware_accessed_dirty(void **state)
{
	struct fx *fx = *state;
	KT_EQ(pmap_enter(&fx->pm, VA, frame_pa(fx, 0), URW), 0);
	pmap_activate(&fx->pm, 0);
	KT_EQ(bits_at(&fx->pm, VA) & (PMAP_ACCESSED | PMAP_DIRTY), 0);
	KT_EQ(*at(VA), 0x1110);
	KT_EQ(bits_at(&fx->pm, VA) & (PMAP_ACCESSED | PMAP_DIRTY), PMAP_ACCESSED);
	*at(VA) = 5;
	KT_EQ(bits_at(&fx->pm, VA) & (PMAP_ACCESSED | PMAP_DIRTY), PMAP_ACCESSED | PMAP_DIRTY);
	/* Harvest: cleared, then set again by the next access. */
	KT_ASSERT(pmap_clear_dirty(&fx->pm, VA));
	KT_ASSERT(!pmap_clear_dirty(&fx->pm, VA));
	KT_ASSERT(pmap_clear_accessed(&fx->pm, VA));
	KT_EQ(bits_at(&fx->pm, VA) & (PMAP_ACCESSED | PMAP_DIRTY), 0);
	KT_EQ(*at(VA), 5);
	KT_EQ(bits_at(&fx->pm, VA) & (PMAP_ACCESSED | PMAP_DIRTY), PMAP_ACCESSED);
	*at(VA) = 6;
	KT_EQ(bits_at(&fx->pm, VA) & PMAP_DIRTY, PMAP_DIRTY);
	KT_EQ(*(uint64_t *)phys_frame_ptr(&kernel.phys, fx->frame[0]), 6);
}

static void test_replace_seen_at_once(void **state)
{
	struct fx *fx = *state;
	KT_EQ(pmap_enter(&fx->pm, VA, frame_pa(fx, 0), URW), 0);
	pmap_activate(&fx->pm, 0);
	KT_EQ(*at(VA), 0x1110); /* now cached in the TLB */
	uint64_t inv = kernel.machine->stats.invlpg;
	KT_EQ(pmap_enter(&fx->pm, VA, frame_pa(fx, 1), URW), 0);
	KT_ASSERT(kernel.machine->stats.invlpg > inv);
	KT_EQ(*at(VA), 0x1111);
}

static void test_protection_faults(void **state)
{
	struct fx *fx = *state;
	uint64_t v;
	KT_EQ(pmap_enter(&fx->pm, VA, frame_pa(fx, 0), URW), 0);
	pmap_activate(&fx->pm, 0);
	KT_EQ(probe_store(at(VA), 77), 0);
	KT_EQ(pmap_protect(&fx->pm, VA, VA + MMK_PAGE_SIZE, URO), 1);
	KT_EQ(probe_store(at(VA), 78), PROBE_FAULTED | X86_PF_P | X86_PF_W);
	KT_EQ(probe_load(at(VA), &v), 0);
	KT_EQ(v, 77);
	/* PROT_NONE: the CPU sees "not present", the pmap keeps the frame. */
	KT_EQ(pmap_protect(&fx->pm, VA, VA + MMK_PAGE_SIZE, PMAP_PROT_NONE), 1);
	KT_EQ(probe_load(at(VA), &v), PROBE_FAULTED);
	paddr_t pa;
	KT_EQ(pmap_extract(&fx->pm, VA, &pa, NULL), 0);
	KT_EQ(pa, frame_pa(fx, 0));
	/* Strengthening needs no invalidation (a stale entry may fault once,
	 * SDM 4.10.4.3; QEMU re-walks): writable again. */
	KT_EQ(pmap_protect(&fx->pm, VA, VA + MMK_PAGE_SIZE, URW), 1);
	int rc = probe_store(at(VA), 79);
	if (rc)
		rc = probe_store(at(VA), 79);
	KT_EQ(rc, 0);
	KT_EQ(*(uint64_t *)phys_frame_ptr(&kernel.phys, fx->frame[0]), 79);
}

struct removed {
	paddr_t pa;
	unsigned bits, n;
};

static void note_removed(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	(void)va;
	struct removed *r = ctx;
	r->pa = pa;
	r->bits = bits;
	r->n++;
}

static void test_remove_frees_tables(void **state)
{
	struct fx *fx = *state;
	uint64_t v;
	KT_EQ(pmap_enter(&fx->pm, VA, frame_pa(fx, 0), URW), 0);
	pmap_activate(&fx->pm, 0);
	*at(VA) = 9;
	struct removed r = { 0 };
	KT_EQ(pmap_remove(&fx->pm, VA, VA + MMK_PAGE_SIZE, note_removed, &r), 1);
	KT_EQ(r.n, 1);
	KT_EQ(r.pa, frame_pa(fx, 0));
	KT_EQ(r.bits, PMAP_ACCESSED | PMAP_DIRTY);
	KT_EQ(fx->pm.pt_pages, 1); /* PDPT, PD and PT freed */
	KT_EQ(probe_load(at(VA), &v), PROBE_FAULTED);
	/* New tables (likely the same frames, reused) map another frame. */
	KT_EQ(pmap_enter(&fx->pm, VA, frame_pa(fx, 2), URW), 0);
	KT_EQ(probe_load(at(VA), &v), 0);
	KT_EQ(v, 0x1112);
}

static void test_cr3_switch(void **state)
{
	struct fx *fx = *state;
	uint64_t v;
	KT_EQ(pmap_enter(&fx->pm, VA, frame_pa(fx, 0), URW), 0);
	KT_EQ(pmap_enter(&fx->pm2, VA, frame_pa(fx, 1), URW), 0);
	pmap_activate(&fx->pm, 0);
	KT_EQ(*at(VA), 0x1110);
	KT_EQ(fx->pm.active_cpus, 1);
	pmap_activate(&fx->pm2, 0);
	KT_EQ(fx->pm.active_cpus, 0);
	KT_EQ(fx->pm2.active_cpus, 1);
	KT_EQ(*at(VA), 0x1111);
	KT_EQ(kernel.vm.phys, &kernel.phys); /* kernel data still reachable */
	pmap_deactivate(&fx->pm2, 0);
	KT_EQ(probe_load(at(VA), &v), PROBE_FAULTED); /* the kernel root has no user half */
	/* An inactive pmap changes without invalidations. */
	uint64_t inv = kernel.machine->stats.invlpg;
	KT_EQ(pmap_protect(&fx->pm, VA, VA + MMK_PAGE_SIZE, URO), 1);
	KT_EQ(kernel.machine->stats.invlpg, inv);
}

/* Deferred removal: the translations go at once, the invalidation waits
 * for pmap_tlb_sync, which flushes with one CR3 load for the whole batch;
 * afterwards no removed page is reachable. */
static void test_deferred_remove_one_flush(void **state)
{
	struct fx *fx = *state;
	uint64_t v;
	for (unsigned i = 0; i < 3; i++)
		KT_EQ(pmap_enter(&fx->pm, VA + i * MMK_PAGE_SIZE, frame_pa(fx, i), URW), 0);
	pmap_activate(&fx->pm, 0);
	for (unsigned i = 0; i < 3; i++)
		KT_EQ(*at(VA + i * MMK_PAGE_SIZE), 0x1110 + i); /* cached */
	KT_ASSERT(!pmap_tlb_sync(&fx->pm));
	uint64_t inv = kernel.machine->stats.invlpg, loads = kernel.machine->stats.cr3_loads;
	KT_EQ(pmap_remove_deferred(&fx->pm, VA, VA + 2 * MMK_PAGE_SIZE, NULL, NULL), 2);
	KT_ASSERT(fx->pm.tlb_pending);
	KT_EQ(kernel.machine->stats.invlpg, inv); /* nothing invalidated yet */
	KT_ASSERT(pmap_tlb_sync(&fx->pm));
	KT_EQ(kernel.machine->stats.cr3_loads, loads + 1);
	KT_ASSERT(!fx->pm.tlb_pending);
	for (unsigned i = 0; i < 2; i++)
		KT_EQ(probe_load(at(VA + i * MMK_PAGE_SIZE), &v), PROBE_FAULTED);
	KT_EQ(*at(VA + 2 * MMK_PAGE_SIZE), 0x1112);
}

void test_x86_pmap_suite(void)
{
	static const struct ktest tests[] = {
		KT_TEST_ST(test_hardware_accessed_dirty, setup, teardown),
		KT_TEST_ST(test_replace_seen_at_once, setup, teardown),
		KT_TEST_ST(test_protection_faults, setup, teardown),
		KT_TEST_ST(test_remove_frees_tables, setup, teardown),
		KT_TEST_ST(test_cr3_switch, setup, teardown),
		KT_TEST_ST(test_deferred_remove_one_flush, setup, teardown),
	};
	ktest_run_suite("pmap on the real MMU", tests, KT_COUNT(tests));
}
