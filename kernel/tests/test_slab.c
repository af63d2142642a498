/*
 * test_slab.c - mmk's slab caches on the machine's frames: objects are
 * distinct, aligned and writable, the constructor runs once per object
 * while the destructor undoes it when slabs go, the debug cache catches a
 * double free and a red-zone overwrite (reported, nothing lost), an armed
 * failpoint makes an allocation fail cleanly, and destroying the cache
 * gives every frame back.
 */
#include <mmk/errno.h>
#include <mmk/kmem.h>

#include "../kernel.h"
#include "tests.h"

#define NOBJ 600

struct thing {
	uint64_t magic;
	uint64_t payload[11];
};

static unsigned ctors, dtors;

static int thing_ctor(void *obj, void *arg)
{
	(void)arg;
	((struct thing *)obj)->magic = 0xc0ffee;
	ctors++;
	return 0;
}

static void thing_dtor(void *obj, void *arg)
{
	(void)arg;
	(void)obj;
	dtors++;
}

static void test_objects(void **state)
{
	(void)state;
	static struct kmem_cache c;
	static struct thing *objs[NOBJ];
	uint64_t base = tests_free_frames();
	ctors = dtors = 0;
	KT_EQ(kmem_cache_create(&c, &kernel.phys, "ktest_thing", sizeof(struct thing), 32, thing_ctor, thing_dtor,
				NULL, 0),
	      0);
	for (unsigned i = 0; i < NOBJ; i++) {
		objs[i] = kmem_cache_alloc(&c);
		KT_ASSERT(objs[i] != NULL);
		KT_EQ((uintptr_t)objs[i] & 31u, 0);
		KT_EQ(objs[i]->magic, 0xc0ffee);
		objs[i]->payload[0] = i;
	}
	KT_INVARIANT(kmem_cache_check, &c);
	for (unsigned i = 0; i < NOBJ; i++)
		KT_EQ(objs[i]->payload[0], i); /* no two objects overlap */
	KT_EQ(ctors >= NOBJ, 1);
	for (unsigned i = 0; i < NOBJ; i++)
		KT_EQ(kmem_cache_free(&c, objs[NOBJ - 1 - i]), 0);
	KT_INVARIANT(kmem_cache_check, &c);
	struct kmem_stats st;
	kmem_cache_stats(&c, &st);
	KT_EQ(st.live, 0);
	KT_EQ(kmem_cache_destroy(&c), 0);
	KT_EQ(dtors, ctors); /* every constructed object destructed with its slab */
	KT_EQ(tests_free_frames(), base);
}

static unsigned reports, report_kind;

static void count_report(void *arg, const struct kmem_report *r)
{
	(void)arg;
	reports++;
	report_kind = r->kind;
}

static void test_debug_catches_misuse(void **state)
{
	(void)state;
	static struct kmem_cache c;
	uint64_t base = tests_free_frames();
	KT_EQ(kmem_cache_create(&c, &kernel.phys, "ktest_debug", 40, 8, NULL, NULL, NULL, KMEM_DEBUG_ALL), 0);
	kmem_cache_set_report(&c, count_report, NULL);
	reports = 0;
	uint8_t *a = kmem_cache_alloc(&c), *b = kmem_cache_alloc(&c);
	KT_ASSERT(a && b && a != b);
	KT_EQ(kmem_cache_free(&c, a), 0);
	KT_EQ(kmem_cache_free(&c, a), -MMK_EALREADY);
	KT_EQ(report_kind, KMEM_ERR_DOUBLE_FREE);
	KT_EQ(kmem_cache_free(&c, b + 8), -MMK_EINVAL); /* interior pointer */
	b[40] = 0xff;                                   /* one byte past the object */
	KT_EQ(kmem_cache_free(&c, b), 0);               /* the free succeeds, the zone is repaired */
	KT_EQ(report_kind, KMEM_ERR_REDZONE);
	KT_EQ(reports, 3);
	KT_INVARIANT(kmem_cache_check, &c);
	KT_EQ(kmem_cache_destroy(&c), 0);
	KT_EQ(tests_free_frames(), base);
}

static void test_failpoint_sweep(void **state)
{
	(void)state;
	static struct kmem_cache c;
	uint64_t base = tests_free_frames();
	KT_EQ(kmem_cache_init(&c, &kernel.phys, "ktest_sweep", 256, 0), 0);
	unsigned failures = 0;
	for (uint64_t k = 1;; k++) {
		mmk_failpoint_arm(&kernel.failpoint, k, false);
		void *p = kmem_cache_alloc(&c);
		mmk_failpoint_arm(&kernel.failpoint, 0, false);
		KT_INVARIANT(kmem_cache_check, &c);
		if (p) {
			KT_EQ(kmem_cache_free(&c, p), 0);
			break;
		}
		failures++;
		KT_ASSERT(failures < 8);
	}
	KT_ASSERT(failures >= 1); /* at least the cache's own check of the failpoint */
	KT_EQ(kmem_cache_destroy(&c), 0);
	KT_EQ(tests_free_frames(), base);
}

void test_slab_suite(void)
{
	static const struct ktest tests[] = {
		KT_TEST(test_objects),
		KT_TEST(test_debug_catches_misuse),
		KT_TEST(test_failpoint_sweep),
	};
	ktest_run_suite("slab caches", tests, KT_COUNT(tests));
}
