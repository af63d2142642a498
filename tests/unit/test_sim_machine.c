/*
 * test_sim_machine.c - hal/sim's machine: creation arguments, the direct
 * map over lazily backed RAM, CPU identity (per machine and per thread),
 * statistics, and host threads acting as CPUs while another CPU shoots
 * down their TLB entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mmk/errno.h>
#include <pthread.h>
#include <string.h>

#include "sim_fixture.h"

#define PG MMK_PAGE_SIZE

static void test_create_bad_args(void **state)
{
	(void)state;
	assert_null(sim_machine_create(0, 1));
	assert_null(sim_machine_create(PG + 1, 1));
	assert_null(sim_machine_create(PG, 0));
	assert_null(sim_machine_create(PG, SIM_MAX_CPUS + 1));
	assert_null(sim_machine_create((uint64_t)1 << 52, 1));
	struct hal_machine *m = sim_machine_create(PG, SIM_MAX_CPUS);
	assert_non_null(m);
	assert_int_equal(hal_cpu_count(m), SIM_MAX_CPUS);
	assert_int_equal(sim_ram_bytes(m), PG);
	sim_machine_destroy(m);
	sim_machine_destroy(NULL);
}

/* 8 GiB of simulated RAM: reserved, not committed; the far end works. */
static void test_direct_map(void **state)
{
	(void)state;
	const uint64_t ram = (uint64_t)8 << 30;
	struct hal_machine *m = sim_machine_create(ram, 2);
	assert_non_null(m);
	uint8_t *first = hal_phys_map(m, 0);
	uint8_t *last = hal_phys_map(m, ram - PG);
	assert_ptr_equal(last, first + (ram - PG));
	assert_int_equal((uintptr_t)first % PG, 0);
	assert_int_equal(last[PG - 1], 0); /* RAM reads as zeros */
	last[PG - 1] = 0x5a;
	assert_int_equal(*(uint8_t *)hal_phys_map(m, ram - 1), 0x5a);
	assert_int_equal(hal_phys_unmap(m, last + 17), ram - PG + 17);
	assert_int_equal(hal_phys_unmap(m, first), 0);
	hal_console_write(m, "sim console ok\n", 15);
	sim_machine_destroy(m);
}

struct bind_arg {
	struct hal_machine *m;
	unsigned cpu, seen;
};

static void *bound_thread(void *p)
{
	struct bind_arg *a = p;
	sim_cpu_bind(a->m, a->cpu);
	a->seen = hal_cpu_id(a->m);
	sim_cpu_unbind();
	return NULL;
}

static void test_cpu_identity(void **state)
{
	(void)state;
	struct hal_machine *m = sim_machine_create(16 * PG, 4);
	struct hal_machine *m2 = sim_machine_create(16 * PG, 4);
	assert_non_null(m);
	assert_non_null(m2);
	assert_int_equal(hal_cpu_id(m), 0);
	sim_set_current_cpu(m, 3);
	assert_int_equal(hal_cpu_id(m), 3);
	assert_int_equal(hal_cpu_id(m2), 0); /* machines are independent */
	/* A thread binding wins over the machine's current CPU, per thread. */
	struct bind_arg a = { m, 2, 99 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, bound_thread, &a), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(a.seen, 2);
	assert_int_equal(hal_cpu_id(m), 3);
	sim_cpu_bind(m, 1);
	assert_int_equal(hal_cpu_id(m), 1);
	assert_int_equal(hal_cpu_id(m2), 0);
	sim_cpu_unbind();
	assert_int_equal(hal_cpu_id(m), 3);
	sim_machine_destroy(m);
	sim_machine_destroy(m2);
}

static void test_stats_reset(void **state)
{
	(void)state;
	struct sim_fixture fx;
	assert_int_equal(sim_fixture_setup(&fx, 2), 0);
	pmap_activate(&fx.pm, 1);
	assert_int_equal(pmap_enter(&fx.pm, 0x1000, sim_fx_frame(1), PMAP_PROT_READ), 0);
	assert_int_equal(sim_access(fx.m, 1, 0x1000, PMAP_ACCESS_READ, false, NULL), 0);
	assert_int_equal(sim_access(fx.m, 1, 0x1000, PMAP_ACCESS_READ, false, NULL), 0);
	struct sim_stats s, c0, c1;
	sim_get_stats(fx.m, &s);
	sim_get_cpu_stats(fx.m, 0, &c0);
	sim_get_cpu_stats(fx.m, 1, &c1);
	assert_int_equal(s.tlb_hits, 1);
	assert_int_equal(s.tlb_misses, 1);
	assert_int_equal(s.walks, 1);
	assert_int_equal(s.flushes, 1);
	assert_int_equal(c0.walks, 0);
	assert_memory_equal(&s, &c1, sizeof(s));
	sim_reset_stats(fx.m);
	sim_get_stats(fx.m, &s);
	const struct sim_stats zero = { 0 };
	assert_memory_equal(&s, &zero, sizeof(s));
	sim_fixture_teardown(&fx);
}

/* Threads as CPUs: each writes and reads back its own pages while the main
 * thread (CPU 0) clears their A/D bits, shooting down their TLBs. */
struct worker {
	struct sim_fixture *fx;
	unsigned cpu;
	vaddr_t va;
	int failures;
};

static void *worker_run(void *p)
{
	struct worker *w = p;
	sim_cpu_bind(w->fx->m, w->cpu);
	for (unsigned i = 0; i < 2000; i++) {
		uint32_t v = (w->cpu << 24) | i, back = 0;
		vaddr_t va = w->va + (i % 4) * PG + 8 * (i % 7);
		if (sim_write(w->fx->m, w->cpu, va, &v, sizeof(v), true) != 0 ||
		    sim_read(w->fx->m, w->cpu, va, &back, sizeof(back), true) != 0 || back != v)
			w->failures++;
	}
	sim_cpu_unbind();
	return NULL;
}

static void test_threads_as_cpus(void **state)
{
	(void)state;
	struct sim_fixture fx;
	assert_int_equal(sim_fixture_setup(&fx, 3), 0);
	struct worker w[2];
	pthread_t t[2];
	for (unsigned i = 0; i < 2; i++) {
		w[i] = (struct worker){ &fx, i + 1, 0x100000 * (i + 1), 0 };
		for (unsigned p = 0; p < 4; p++)
			assert_int_equal(pmap_enter(&fx.pm, w[i].va + p * PG, sim_fx_frame(8 * i + p),
			                            PMAP_PROT_READ | PMAP_PROT_WRITE | PMAP_PROT_USER),
			                 0);
		pmap_activate(&fx.pm, i + 1);
	}
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	for (unsigned round = 0; round < 500; round++)
		for (unsigned i = 0; i < 2; i++) {
			pmap_clear_dirty(&fx.pm, w[i].va + (round % 4) * PG);
			pmap_clear_accessed(&fx.pm, w[i].va + (round % 4) * PG);
		}
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	const char *why = NULL;
	assert_int_equal(pmap_check(&fx.pm, &why), 0);
	sim_fixture_teardown(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bad_args), cmocka_unit_test(test_direct_map),
		cmocka_unit_test(test_cpu_identity),    cmocka_unit_test(test_stats_reset),
		cmocka_unit_test(test_threads_as_cpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
