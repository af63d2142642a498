/*
 * test_kmem_model.c - the slab allocator against a reference model, and the
 * allocation-failure sweep (SQLite's OOM sweeps) with leak baselines.
 *
 * Model: long random sequences of alloc, free, reap, update, drain and
 * stats on random CPUs (switched with sim_set_current_cpu, so the run is
 * deterministic) against a set of live objects.  After every step:
 * kmem_cache_check, live = |set|, allocs/frees = the model's counts; every
 * object is filled with its own tag and checked intact when freed (no two
 * live objects overlap).  Finally everything is freed, the cache destroyed
 * and the free frames compared with the boot baseline.
 *
 * Sweep: for N = 1, 2, ... the same workload runs with the failpoint armed
 * to fail the Nth allocation (kmem_cache_alloc's own consultation or a
 * phys_alloc for a slab or a magazine); a failing kmem_cache_alloc must
 * return NULL with the statistics unchanged, frees must all succeed, the
 * checker must pass after every call and, after teardown, the frames come
 * back to the boot count.  The sweep ends when a run meets no failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sim.h>

#include "kmem_fixture.h"

#define NCPUS 4

static int setup(void **state)
{
	struct kfx *fx = calloc(1, sizeof(*fx));
	kfx_boot(fx, NCPUS);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct kfx *fx = *state;
	sim_set_current_cpu(fx->s.machine, 0);
	kfx_shutdown(fx);
	free(fx);
	return 0;
}

struct model {
	void **obj;
	uint64_t *tag;
	size_t n, cap;
	uint64_t allocs, frees, next_tag;
};

static void fill_tag(void *p, size_t size, uint64_t tag)
{
	unsigned char *b = p;
	for (size_t i = 0; i < size; i++)
		b[i] = (unsigned char)(tag >> (8 * (i % 8)));
}

static void check_tag(const void *p, size_t size, uint64_t tag)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < size; i++)
		if (b[i] != (unsigned char)(tag >> (8 * (i % 8))))
			fail_msg("object %p byte %zu overwritten (tag %#llx)", p, i, (unsigned long long)tag);
}

static void model_run(struct kfx *fx, const char *name, size_t size, size_t align, unsigned flags, unsigned steps,
		      uint64_t seed)
{
	struct kmem_cache c;
	struct model m = { 0 };
	uint64_t free0 = kfx_free_frames(fx);
	m.cap = 600;
	m.obj = calloc(m.cap, sizeof(void *));
	m.tag = calloc(m.cap, sizeof(uint64_t));
	kfx_create(fx, &c, name, size, align, NULL, NULL, NULL, flags);
	for (unsigned step = 0; step < steps; step++) {
		sim_set_current_cpu(fx->s.machine, (unsigned)(kfx_rand(&seed) % NCPUS));
		unsigned r = (unsigned)(kfx_rand(&seed) % 100);
		/* Drift between filling up and draining down. */
		bool grow = (step / 1000) % 2 == 0;
		if (m.n < m.cap && (m.n == 0 || r < (grow ? 60u : 40u))) {
			void *p = kmem_cache_alloc(&c);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % (align ? align : 8), 0);
			for (size_t i = 0; i < m.n; i++)
				assert_ptr_not_equal(m.obj[i], p);
			if (flags & KMEM_ZERO)
				check_tag(p, size, 0);
			m.obj[m.n] = p;
			m.tag[m.n] = ++m.next_tag * 0x0101010101010101ull;
			fill_tag(p, size, m.tag[m.n]);
			m.n++;
			m.allocs++;
		} else if (r < 97) {
			size_t i = (size_t)(kfx_rand(&seed) % m.n);
			check_tag(m.obj[i], size, m.tag[i]);
			assert_int_equal(kmem_cache_free(&c, m.obj[i]), 0);
			m.n--;
			m.obj[i] = m.obj[m.n];
			m.tag[i] = m.tag[m.n];
			m.frees++;
		} else if (r == 97) {
			kmem_cache_reap(&c);
		} else if (r == 98) {
			kmem_cache_update(&c);
		} else if (kfx_rand(&seed) % 4 == 0) {
			kmem_cache_drain(&c);
		} else {
			struct kmem_stats st;
			char line[512];
			kmem_cache_stats(&c, &st);
			assert_true(kmem_stats_format(&st, line, sizeof(line)) > 0);
		}
		kfx_check(&c);
		struct kmem_stats st;
		kmem_cache_stats(&c, &st);
		assert_int_equal(kmem_cache_live(&c), m.n);
		assert_int_equal(st.live, m.n);
		if (flags & (KMEM_STATS | KMEM_NOMAGAZINE)) { /* every call counted */
			assert_int_equal(st.allocs, m.allocs);
			assert_int_equal(st.frees, m.frees);
		}
		assert_int_equal(st.objs_out, st.live + st.in_magazines);
	}
	for (size_t i = 0; i < m.n; i++) {
		check_tag(m.obj[i], size, m.tag[i]);
		assert_int_equal(kmem_cache_free(&c, m.obj[i]), 0);
	}
	kfx_check(&c);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(kfx_free_frames(fx), free0);
	assert_int_equal(fx->nreports, 0);
	free(m.obj);
	free(m.tag);
}

static void test_model_magazines(void **state)
{
	model_run(*state, "model-64", 64, 0, 0, 6000, 1);
	model_run(*state, "model-700", 700, 64, 0, 4000, 2);
	model_run(*state, "model-stats", 128, 0, KMEM_STATS, 4000, 6);
}

static void test_model_no_magazines(void **state)
{
	model_run(*state, "model-nomag", 24, 8, KMEM_NOMAGAZINE, 5000, 3);
}

static void test_model_debug(void **state)
{
	model_run(*state, "model-debug", 96, 16, KMEM_DEBUG_ALL, 4000, 4);
	model_run(*state, "model-zero", 40, 8, KMEM_ZERO | KMEM_DEBUG_REDZONE, 3000, 5);
}

/* ---- the allocation-failure sweep ---- */

struct sweep_result {
	unsigned attempts, failed_cleanly;
};

/* The workload: waves of allocations and frees across CPUs, with a reap
 * and a magazine resize in the middle.  Returns how many allocations
 * failed.  Checks each call as the sweep requires. */
static unsigned workload(struct kfx *fx, struct kmem_cache *c, void **hold, unsigned cap)
{
	unsigned n = 0, failures = 0;
	for (unsigned wave = 0; wave < 4; wave++) {
		for (unsigned k = 0; k < 40 && n < cap; k++) {
			sim_set_current_cpu(fx->s.machine, (wave + k) % NCPUS);
			struct kmem_stats before, after;
			kfx_stats(c, &before);
			void *p = kmem_cache_alloc(c);
			if (!p) {
				failures++;
				kfx_stats(c, &after);
				kfx_assert_stats_eq(&before, &after);
			} else {
				hold[n++] = p;
			}
			kfx_check(c);
		}
		for (unsigned k = 0; k < 25 && n; k++) {
			sim_set_current_cpu(fx->s.machine, (wave + 2 * k + 1) % NCPUS);
			assert_int_equal(kmem_cache_free(c, hold[--n]), 0);
			kfx_check(c);
		}
		if (wave == 1) {
			kmem_cache_update(c);
			c->depot.contention = KMEM_DEPOT_CONTENTION + 1;
			kmem_cache_update(c);
			kmem_cache_reap(c);
			kfx_check(c);
		}
	}
	while (n) {
		assert_int_equal(kmem_cache_free(c, hold[--n]), 0);
		kfx_check(c);
	}
	sim_set_current_cpu(fx->s.machine, 0);
	return failures;
}

static struct sweep_result sweep(struct kfx *fx, unsigned flags, bool sticky)
{
	struct sweep_result res = { 0, 0 };
	struct mmk_failpoint *fp = &fx->s.failpoint;
	void *hold[200];
	uint64_t free0 = kfx_free_frames(fx);
	for (uint64_t nth = 1; nth < 10000; nth++) {
		struct kmem_cache c;
		uint64_t failed0 = fp->failed;
		mmk_failpoint_arm(fp, nth, sticky);
		int rc = kmem_cache_create(&c, &fx->s.phys, "sweep", 200, 8, NULL, NULL, NULL, flags);
		if (rc) {
			mmk_failpoint_arm(fp, 0, false);
			assert_int_equal(rc, -MMK_ENOMEM);
			assert_int_equal(kfx_free_frames(fx), free0);
			res.attempts++;
			res.failed_cleanly++;
			continue;
		}
		kmem_cache_set_report(&c, kfx_report, fx);
		unsigned failures = workload(fx, &c, hold, 200);
		mmk_failpoint_arm(fp, 0, false);
		bool fired = fp->failed != failed0;
		res.attempts++;
		if (failures)
			res.failed_cleanly++;
		kfx_check(&c);
		assert_int_equal(kmem_cache_live(&c), 0);
		assert_int_equal(kmem_cache_destroy(&c), 0);
		assert_int_equal(kfx_free_frames(fx), free0);
		assert_int_equal(fx->nreports, 0);
		if (!fired)
			return res;
	}
	fail_msg("sweep did not end");
	return res;
}

static void test_failure_sweep(void **state)
{
	struct kfx *fx = *state;
	static const unsigned flags[] = { 0, KMEM_NOMAGAZINE, KMEM_DEBUG_ALL, KMEM_ZERO };
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		for (int sticky = 0; sticky < 2; sticky++) {
			struct sweep_result r = sweep(fx, flags[i], sticky);
			printf("flags %#x%s: %u attempts, %u with failed allocations\n", flags[i],
			       sticky ? " sticky" : "", r.attempts, r.failed_cleanly);
			assert_true(r.attempts > 10);
			assert_true(r.failed_cleanly > 0);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_magazines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_no_magazines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_debug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_sweep, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
