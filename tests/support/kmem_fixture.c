/*
 * kmem_fixture.c - see kmem_fixture.h.  Hosted code: libc and cmocka.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <sim.h>

#include "kmem_fixture.h"

void kfx_boot(struct kfx *fx, unsigned ncpus)
{
	memset(fx, 0, sizeof(*fx));
	fx->ncpus = ncpus;
	pthread_mutex_init(&fx->mu, NULL);
	assert_int_equal(sim_system_boot(&fx->s, KFX_RAM, ncpus), 0);
}

uint64_t kfx_free_frames(struct kfx *fx) { return sim_system_free_frames(&fx->s); }

void kfx_shutdown(struct kfx *fx)
{
	assert_int_equal(kfx_free_frames(fx), fx->s.boot_free_frames);
	const char *why = NULL;
	if (phys_check(&fx->s.phys, &why) != 0)
		fail_msg("phys_check: %s", why);
	assert_int_equal(sim_system_shutdown(&fx->s), 0);
	pthread_mutex_destroy(&fx->mu);
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

void kfx_report(void *arg, const struct kmem_report *r)
{
	struct kfx *fx = arg;
	pthread_mutex_lock(&fx->mu);
	fx->nreports++;
	if ((unsigned)r->kind < KFX_MAX_KINDS)
		fx->kinds[r->kind]++;
	fx->last = *r;
	copy(fx->last_line, sizeof(fx->last_line), r->line);
	copy(fx->last_cache, sizeof(fx->last_cache), r->cache);
	copy(fx->last_other, sizeof(fx->last_other), r->other_cache);
	fx->last.line = fx->last_line;
	fx->last.cache = fx->last_cache;
	fx->last.other_cache = r->other_cache ? fx->last_other : NULL;
	pthread_mutex_unlock(&fx->mu);
}

void kfx_reset_reports(struct kfx *fx)
{
	pthread_mutex_lock(&fx->mu);
	fx->nreports = 0;
	memset(fx->kinds, 0, sizeof(fx->kinds));
	memset(&fx->last, 0, sizeof(fx->last));
	fx->last_line[0] = fx->last_cache[0] = fx->last_other[0] = '\0';
	pthread_mutex_unlock(&fx->mu);
}

void kfx_create(struct kfx *fx, struct kmem_cache *c, const char *name, size_t size, size_t align,
		kmem_ctor_fn ctor, kmem_dtor_fn dtor, void *arg, unsigned flags)
{
	assert_int_equal(kmem_cache_create(c, &fx->s.phys, name, size, align, ctor, dtor, arg, flags), 0);
	kmem_cache_set_report(c, kfx_report, fx);
	kfx_check(c);
}

void kfx_check_(struct kmem_cache *c, const char *file, int line)
{
	const char *why = NULL;
	int rc = kmem_cache_check(c, &why);
	if (rc != 0)
		fail_msg("%s:%d: kmem_cache_check(%s) = %d: %s", file, line, c->name, rc, why ? why : "(no reason)");
}

void kfx_stats(struct kmem_cache *c, struct kmem_stats *st)
{
	kmem_cache_stats(c, st);
	st->errors = 0;
}

void kfx_assert_stats_eq_(const struct kmem_stats *a, const struct kmem_stats *b, const char *file, int line)
{
	if (memcmp(a, b, sizeof(*a)) == 0)
		return;
	char la[512], lb[512];
	kmem_stats_format(a, la, sizeof(la));
	kmem_stats_format(b, lb, sizeof(lb));
	fail_msg("%s:%d: statistics changed:\n  before %s\n  after  %s", file, line, la, lb);
}

const void *kfx_slab_of(const struct kmem_cache *c, const void *obj)
{
	uintptr_t bytes = (uintptr_t)4096 << c->slab_order;
	return (const void *)((uintptr_t)obj & ~(bytes - 1));
}
