/*
 * kmem_fixture.h - a booted sim system for the slab allocator's tests, a
 * report sink that records what the caches said, and assertions that run
 * kmem_cache_check and compare statistics ("nothing changed").
 * Hosted code; thread-safe where noted (the multi-CPU tests share it).
 */
#ifndef MMK_TESTS_KMEM_FIXTURE_H
#define MMK_TESTS_KMEM_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sim_boot.h>
#include <mmk/errno.h>
#include <mmk/kmem.h>

#define KFX_RAM ((uint64_t)64 << 20)
#define KFX_MAX_KINDS 8

struct kfx {
	struct sim_system s;
	unsigned ncpus;
	pthread_mutex_t mu;          /* guards the report record */
	unsigned nreports;
	unsigned kinds[KFX_MAX_KINDS]; /* reports per enum kmem_error */
	struct kmem_report last;     /* pointers below point into the copies */
	char last_line[256], last_cache[64], last_other[64];
};

/* Boot a 64 MiB machine with ncpus CPUs (asserts success). */
void kfx_boot(struct kfx *fx, unsigned ncpus);
/* Assert the free frames equal the boot baseline, then shut down. */
void kfx_shutdown(struct kfx *fx);
uint64_t kfx_free_frames(struct kfx *fx);

/* A report sink (arg = the fixture); thread-safe. */
void kfx_report(void *arg, const struct kmem_report *r);
void kfx_reset_reports(struct kfx *fx);

/* kmem_cache_create with fx's phys, report sink installed; asserts 0. */
void kfx_create(struct kfx *fx, struct kmem_cache *c, const char *name, size_t size, size_t align,
		kmem_ctor_fn ctor, kmem_dtor_fn dtor, void *arg, unsigned flags);

/* Assert kmem_cache_check(c) == 0 (printing the reason otherwise). */
#define kfx_check(c) kfx_check_((c), __FILE__, __LINE__)
void kfx_check_(struct kmem_cache *c, const char *file, int line);

/* Statistics without the error counter, for "nothing changed". */
void kfx_stats(struct kmem_cache *c, struct kmem_stats *st);
#define kfx_assert_stats_eq(a, b) kfx_assert_stats_eq_((a), (b), __FILE__, __LINE__)
void kfx_assert_stats_eq_(const struct kmem_stats *a, const struct kmem_stats *b, const char *file, int line);

/* The address of the slab holding obj (slabs are aligned to their size). */
const void *kfx_slab_of(const struct kmem_cache *c, const void *obj);

/* A tiny deterministic PRNG (xorshift64*). */
static inline uint64_t kfx_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

#endif
