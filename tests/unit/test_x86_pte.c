/*
 * test_x86_pte.c - hal/x86_64's page-table entry encoding (pte.h), hosted:
 * the very header the kernel compiles, checked against the bit positions
 * of Intel SDM vol. 3A table 4-19 and against hal/sim's encoding (the
 * reference: both must agree bit for bit, so the contract tests mean the
 * same on either backend).  Every protection combination round-trips,
 * status bits decode, weakening is detected exactly, and malformed leaves
 * and table entries are named.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../hal/x86_64/pte.h"
#include "sim.h"

static void test_bit_positions(void **state)
{
	(void)state;
	/* SDM table 4-19: P 0, R/W 1, U/S 2, A 5, D 6, G 8, XD 63. */
	assert_int_equal(X86_PTE_P, 0x1);
	assert_int_equal(X86_PTE_RW, 0x2);
	assert_int_equal(X86_PTE_US, 0x4);
	assert_int_equal(X86_PTE_A, 0x20);
	assert_int_equal(X86_PTE_D, 0x40);
	assert_int_equal(X86_PTE_G, 0x100);
	assert_true(X86_PTE_NX == (uint64_t)1 << 63);
	assert_true(X86_PTE_FRAME == 0x000ffffffffff000ull);
	/* The sim's format is the same. */
	assert_true(X86_PTE_P == SIM_PTE_P && X86_PTE_RW == SIM_PTE_RW && X86_PTE_US == SIM_PTE_US);
	assert_true(X86_PTE_A == SIM_PTE_A && X86_PTE_D == SIM_PTE_D && X86_PTE_NX == SIM_PTE_NX);
	assert_true(X86_PTE_PROTNONE == SIM_PTE_PROTNONE && X86_PTE_FRAME == SIM_PTE_FRAME);
	assert_true(X86_PF_P == SIM_PF_P && X86_PF_W == SIM_PF_W && X86_PF_U == SIM_PF_U && X86_PF_I == SIM_PF_I);
}

/* Every prot: encode, decode; x86 adds READ to any accessible prot. */
static void test_roundtrip_every_prot(void **state)
{
	(void)state;
	const paddr_t pa = 0x123456789000ull;
	for (unsigned prot = 0; prot <= PMAP_PROT_ALL; prot++) {
		for (int global = 0; global <= 1; global++) {
			uint64_t pte = x86_pte_make(pa, prot, global);
			bool accessible = (prot & (PMAP_PROT_READ | PMAP_PROT_WRITE | PMAP_PROT_EXEC)) != 0;
			assert_true(x86_pte_mapped(pte));
			assert_int_equal(x86_pte_frame(pte), pa);
			assert_int_equal(!!(pte & X86_PTE_P), accessible);
			assert_int_equal(!!(pte & X86_PTE_PROTNONE), !accessible);
			assert_int_equal(!!(pte & X86_PTE_G), global && accessible);
			assert_int_equal(!!(pte & X86_PTE_US), !!(prot & PMAP_PROT_USER));
			assert_int_equal(!!(pte & X86_PTE_RW), !!(prot & PMAP_PROT_WRITE));
			if (accessible)
				assert_int_equal(!!(pte & X86_PTE_NX), !(prot & PMAP_PROT_EXEC));
			unsigned want = accessible ? prot | PMAP_PROT_READ : prot & PMAP_PROT_USER;
			assert_int_equal(x86_pte_bits(pte), want);
			if (!global)
				assert_null(x86_pte_leaf_problem(pte));
		}
	}
	/* The frame field keeps only bits 12..51. */
	assert_int_equal(x86_pte_frame(x86_pte_make(~(paddr_t)0, PMAP_PROT_READ, false)), X86_PTE_FRAME);
}

static void test_status_bits(void **state)
{
	(void)state;
	uint64_t pte = x86_pte_make(0x5000, PMAP_PROT_READ | PMAP_PROT_WRITE, false);
	assert_int_equal(x86_pte_bits(pte) & (PMAP_ACCESSED | PMAP_DIRTY), 0);
	assert_int_equal(x86_pte_bits(pte | X86_PTE_A) & (PMAP_ACCESSED | PMAP_DIRTY), PMAP_ACCESSED);
	assert_int_equal(x86_pte_bits(pte | X86_PTE_A | X86_PTE_D) & (PMAP_ACCESSED | PMAP_DIRTY),
			 PMAP_ACCESSED | PMAP_DIRTY);
	/* A PROT_NONE leaf keeps its history too. */
	uint64_t none = x86_pte_make(0x5000, PMAP_PROT_NONE, false) | X86_PTE_D;
	assert_int_equal(x86_pte_bits(none), PMAP_DIRTY);
	assert_null(x86_pte_leaf_problem(none));
}

static void test_weakened(void **state)
{
	(void)state;
	const unsigned rwx = PMAP_PROT_READ | PMAP_PROT_WRITE | PMAP_PROT_EXEC | PMAP_PROT_USER;
	/* Exhaustive over pairs: weakened exactly when a right is lost or the
	 * frame changes, and only from a present entry. */
	for (unsigned a = 0; a <= PMAP_PROT_ALL; a++)
		for (unsigned b = 0; b <= PMAP_PROT_ALL; b++)
			for (int same = 0; same <= 1; same++) {
				uint64_t old = x86_pte_make(0x7000, a, false);
				uint64_t new = x86_pte_make(same ? 0x7000 : 0x8000, b, false);
				unsigned ra = x86_pte_bits(old) & rwx, rb = x86_pte_bits(new) & rwx;
				bool present = old & X86_PTE_P;
				bool want = present && (!same || (ra & ~rb) != 0);
				assert_int_equal(x86_pte_weakened(old, new), want);
			}
}

static void test_problems_named(void **state)
{
	(void)state;
	uint64_t leaf = x86_pte_make(0x9000, PMAP_PROT_READ, false);
	assert_non_null(x86_pte_leaf_problem(leaf | ((uint64_t)1 << 52)));
	assert_non_null(x86_pte_leaf_problem(X86_PTE_RW)); /* neither present nor PROT_NONE */
	assert_non_null(x86_pte_leaf_problem(leaf | X86_PTE_G)); /* user leaves are never global */
	assert_non_null(x86_pte_leaf_problem(x86_pte_make(0x9000, PMAP_PROT_NONE, false) | X86_PTE_RW));
	assert_null(x86_pte_table_problem(0xa000 | X86_PTE_TABLE));
	assert_null(x86_pte_table_problem(0xa000 | X86_PTE_TABLE | X86_PTE_A));
	assert_non_null(x86_pte_table_problem(0xa000 | X86_PTE_P | X86_PTE_RW));
	assert_non_null(x86_pte_table_problem(0xa000 | X86_PTE_TABLE | X86_PTE_PS));
}

static void test_indices(void **state)
{
	(void)state;
	const vaddr_t va = ((vaddr_t)5 << 39) | ((vaddr_t)6 << 30) | ((vaddr_t)7 << 21) | ((vaddr_t)8 << 12) | 0x123;
	assert_int_equal(x86_pt_index(va, 3), 5);
	assert_int_equal(x86_pt_index(va, 2), 6);
	assert_int_equal(x86_pt_index(va, 1), 7);
	assert_int_equal(x86_pt_index(va, 0), 8);
	assert_true(x86_level_span(0) == 4096 && x86_level_span(1) == 2u << 20 && x86_level_span(2) == 1u << 30);
	assert_true(x86_level_span(3) == (uint64_t)512 << 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bit_positions), cmocka_unit_test(test_roundtrip_every_prot),
		cmocka_unit_test(test_status_bits),   cmocka_unit_test(test_weakened),
		cmocka_unit_test(test_problems_named), cmocka_unit_test(test_indices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
