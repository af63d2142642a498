/*
 * test_kmalloc: kmalloc/kfree/ksize/kzalloc/kalloc and kmap over the kmem
 * caches and the buddy allocator: every class boundary, large blocks, bad
 * frees answered with errors and nothing changed, a random model against a
 * table of live blocks (contents checked), the allocation-failure sweep and
 * the leak baseline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>
#include <mmk/kmalloc.h>

#include "sim_boot.h"

struct fixture {
	struct sim_system s;
	struct kmalloc_heap h;
	uint64_t free0;
};

static void check(struct fixture *f)
{
	const char *why = NULL;
	if (kmalloc_check(&f->h, &why))
		fail_msg("kmalloc_check: %s", why);
	if (phys_check(&f->s.phys, &why))
		fail_msg("phys_check: %s", why);
}

static int setup_flags(void **state, unsigned flags)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_int_equal(sim_system_boot(&f->s, 128ull << 20, 1), 0);
	f->free0 = sim_system_free_frames(&f->s);
	assert_int_equal(kmalloc_init(&f->h, &f->s.phys, flags), 0);
	*state = f;
	return 0;
}

static int setup(void **state) { return setup_flags(state, 0); }
static int setup_debug(void **state) { return setup_flags(state, KMEM_DEBUG_ALL); }

static int teardown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(kmalloc_fini(&f->h), 0);
	assert_int_equal(sim_system_free_frames(&f->s), f->free0); /* leak baseline */
	assert_int_equal(sim_system_shutdown(&f->s), 0);
	free(f);
	return 0;
}

static void test_class_boundaries(void **state)
{
	struct fixture *f = *state;
	assert_null(kmalloc(&f->h, 0));
	for (unsigned i = 0; i < KMALLOC_NR_CLASSES; i++) {
		uint32_t sz = kmalloc_class_sizes[i];
		uint32_t below = i ? kmalloc_class_sizes[i - 1] : 0;
		/* One byte over the class below lands in this class; the class
		 * size itself too. */
		for (uint32_t want = below + 1; want <= sz; want += (sz - below > 1 ? sz - below - 1 : 1)) {
			unsigned char *p = kmalloc(&f->h, want);
			assert_non_null(p);
			assert_int_equal(ksize(&f->h, p), sz);
			size_t align = sz & (~sz + 1);
			if (align > 4096)
				align = 4096;
			assert_int_equal((uintptr_t)p % align, 0);
			memset(p, 0xa5, want);
			check(f);
			assert_int_equal(kfree(&f->h, p), 0);
			check(f);
		}
	}
}

static void test_large_blocks(void **state)
{
	struct fixture *f = *state;
	size_t sizes[] = { 8193, 12288, 16384, 16385, 1u << 20, (1u << 20) + 1 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = kzalloc(&f->h, sizes[i]);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p & 4095, 0);
		assert_true(ksize(&f->h, p) >= sizes[i]);
		assert_true(ksize(&f->h, p) < 2 * sizes[i] + 4096);
		for (size_t k = 0; k < sizes[i]; k += 997)
			assert_int_equal(p[k], 0);
		assert_int_equal(f->h.large_blocks, 1);
		check(f);
		assert_int_equal(kfree(&f->h, p + 4096), -MMK_EINVAL); /* interior */
		assert_int_equal(kfree(&f->h, p), 0);
		assert_int_equal(kfree(&f->h, p), -MMK_EALREADY);       /* double */
		assert_int_equal(f->h.large_blocks, 0);
		check(f);
	}
	/* Beyond the largest buddy block. */
	assert_null(kmalloc(&f->h, ((size_t)4096 << MMK_MAX_ORDER) + 1));
}

static void test_bad_frees(void **state)
{
	struct fixture *f = *state;
	int on_stack;
	assert_int_equal(kfree(&f->h, NULL), 0);
	assert_int_equal(kfree(&f->h, &on_stack), -MMK_EINVAL); /* not RAM */
	/* A frame the heap never handed out. */
	pfn_t pfn;
	assert_int_equal(phys_alloc(&f->s.phys, 0, 0, &pfn), 0);
	assert_int_equal(kfree(&f->h, phys_frame_ptr(&f->s.phys, pfn)), -MMK_EINVAL);
	assert_int_equal(phys_free(&f->s.phys, pfn, 0), 0);
	/* An object of another cache (the VM's) is not this heap's. */
	void *vma = kmem_cache_alloc(&f->s.vm.vma_cache);
	assert_non_null(vma);
	assert_int_equal(kfree(&f->h, vma), -MMK_EINVAL);
	assert_int_equal(kmem_cache_free(&f->s.vm.vma_cache, vma), 0);
	kmem_cache_reap(&f->s.vm.vma_cache);
	/* Interior of a small object. */
	char *p = kmalloc(&f->h, 64);
	assert_int_not_equal(kfree(&f->h, p + 8), 0);
	assert_int_equal(kfree(&f->h, p), 0);
	check(f);
}

static void test_double_free_debug(void **state)
{
	struct fixture *f = *state;
	char *p = kmalloc(&f->h, 100);
	assert_int_equal(kfree(&f->h, p), 0);
	assert_int_equal(kfree(&f->h, p), -MMK_EALREADY);
	check(f);
}

static void test_kmap(void **state)
{
	struct fixture *f = *state;
	pfn_t pfn;
	assert_int_equal(phys_alloc(&f->s.phys, 0, PHYS_USER, &pfn), 0);
	unsigned char *a = kmap(&f->h, pfn);
	assert_non_null(a);
	a[0] = 42;
	unsigned char *b = kmap(&f->h, pfn);
	assert_int_equal(b[0], 42); /* the same frame's bytes */
	assert_int_equal(f->h.kmap_active, 2);
	assert_int_equal(kunmap(&f->h, a), 0);
	assert_int_equal(kunmap(&f->h, b), 0);
	assert_int_equal(kunmap(&f->h, b), -MMK_EINVAL);
	assert_null(kmap(&f->h, (pfn_t)1 << 40)); /* not RAM */
	assert_int_equal(phys_free(&f->s.phys, pfn, 0), 0);
}

/* Random sizes against a table of live blocks whose bytes are checked. */
static void test_model(void **state)
{
	struct fixture *f = *state;
	enum { SLOTS = 512, STEPS = 20000 };
	static unsigned char *ptr[SLOTS];
	static size_t len[SLOTS];
	srand(11);
	for (int step = 0; step < STEPS; step++) {
		int i = rand() % SLOTS;
		if (ptr[i]) {
			for (size_t k = 0; k < len[i]; k += 61)
				assert_int_equal(ptr[i][k], (unsigned char)(i + k));
			assert_int_equal(kfree(&f->h, ptr[i]), 0);
			ptr[i] = NULL;
		} else {
			len[i] = (rand() % 8 == 0) ? (size_t)(rand() % 40000) + 1 : (size_t)(rand() % 2000) + 1;
			ptr[i] = kmalloc(&f->h, len[i]);
			assert_non_null(ptr[i]);
			assert_true(ksize(&f->h, ptr[i]) >= len[i]);
			for (size_t k = 0; k < len[i]; k += 61)
				ptr[i][k] = (unsigned char)(i + k);
		}
		if (step % 500 == 0)
			check(f);
	}
	for (int i = 0; i < SLOTS; i++)
		if (ptr[i]) {
			assert_int_equal(kfree(&f->h, ptr[i]), 0);
			ptr[i] = NULL;
		}
	check(f);
}

/* Every allocation of a kmalloc can fail; nothing leaks when it does. */
static void test_failure_sweep(void **state)
{
	struct fixture *f = *state;
	size_t sizes[] = { 24, 700, 5000, 30000 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (uint64_t n = 1;; n++) {
			kmalloc_drain(&f->h);
			uint64_t before = sim_system_free_frames(&f->s);
			uint64_t failed = f->s.failpoint.failed;
			mmk_failpoint_arm(&f->s.failpoint, n, false);
			void *p = kmalloc(&f->h, sizes[s]);
			mmk_failpoint_arm(&f->s.failpoint, 0, false);
			check(f);
			if (p) {
				assert_int_equal(kfree(&f->h, p), 0);
				if (f->s.failpoint.failed == failed)
					break; /* succeeded without the failure firing */
				continue;
			}
			assert_int_equal(f->s.failpoint.failed, failed + 1);
			kmalloc_drain(&f->h);
			assert_int_equal(sim_system_free_frames(&f->s), before);
			assert_true(n < 50);
		}
	}
	kmalloc_drain(&f->h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_class_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_free_debug, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_kmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model, setup_debug, teardown),
		cmocka_unit_test_setup_teardown(test_failure_sweep, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
