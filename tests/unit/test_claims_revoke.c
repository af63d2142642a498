/*
 * test_claims_revoke: batched revocation through the VM (src/vm/revoke.c)
 * and the claims queue driving it (src/claims/batch.c), on a booted PC with
 * several CPUs and address spaces.
 *
 * vm_revoke on its own: clipping, frames freed, bad arguments refused with
 * nothing changed, dirty shared-file pages written back, copy-on-write
 * sharing; the shootdown count: exactly one per space per batch on each CPU
 * where the space is active (sim's per-CPU shootdown and invalidation
 * counters), where munmap of the same pages pays one per page; the
 * allocation-failure sweep over a revocation batch (nothing changed in any
 * space or in the queue); and a random mix of claim, map, touch, release,
 * release-all and revocation batches over four spaces, after each batch
 * the revocation checker (vm_revoke_check) on the revoked ranges and a walk
 * of every pmap showing that nothing unclaimed is mapped, ending with the
 * free frames back at their baseline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/claims.h>

#include "vm_fixture.h"

#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)
#define FIXED (ANON | VM_MAP_FIXED)
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define A ((vaddr_t)0x10000000ull)
#define RES_PAGES 1024u /* the claims reservation at A */
#define NSPACES 4u

static int setup(void **state)
{
	struct vmfx *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	vmfx_boot(fx, 64 * VMFX_MIB, 6);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct vmfx *fx = *state;
	mmk_failpoint_arm(&fx->s.failpoint, 0, false);
	vmfx_shutdown(fx);
	free(fx);
	return 0;
}

static void touch_pages(struct vmfx *fx, unsigned cpu, vaddr_t a, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		VMFX_RC(fx, vmfx_write8(fx, cpu, a + i * PG, (uint8_t)(i + 1)), 0);
}

static void revoke_ok(struct vmfx *fx, const struct vm_range *r, size_t n, struct vm_revoke_stats *st)
{
	VMFX_RC(fx, vm_revoke(&fx->s.vm, r, n, st), 0);
	const char *why = NULL;
	if (vm_revoke_check(&fx->s.vm, r, n, &why))
		vmfx_fail(fx, "vm_revoke_check: %s", why);
	vmfx_check(fx);
}

/* ---- vm_revoke alone ---- */

static void test_revoke_clips_and_frees(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	vmfx_map(fx, as, A, 8 * PG, RW, FIXED);
	touch_pages(fx, 0, A, 8);
	uint64_t free_before = vmfx_free_frames(fx);
	struct vm_range r = { A + 2 * PG, A + 5 * PG };
	struct vm_revoke_stats st;
	revoke_ok(fx, &r, 1, &st);
	VMFX_EQ(fx, st.spaces, 1);
	VMFX_EQ(fx, st.pages_unmapped, 3);
	VMFX_EQ(fx, st.vmas_removed, 1);
	VMFX_EQ(fx, st.shootdowns, 1);
	VMFX_EQ(fx, vmfx_vmas(as), 2);
	VMFX_EQ(fx, vmfx_resident(as), 5);
	VMFX_EQ(fx, vmfx_free_frames(fx), free_before + 3);
	VMFX_TRUE(fx, vm_search(as, A + 3 * PG) == NULL);
	uint8_t v;
	VMFX_RC(fx, vmfx_read8(fx, 0, A + 6 * PG, &v), 0);
	VMFX_EQ(fx, v, 7); /* the pages around keep their bytes */
	VMFX_RC(fx, vmfx_read8(fx, 0, A + 3 * PG, &v), -MMK_EFAULT);
	/* Again: nothing left there, nothing to do, no shootdown. */
	revoke_ok(fx, &r, 1, &st);
	VMFX_EQ(fx, st.spaces, 0);
	VMFX_EQ(fx, st.shootdowns, 0);
}

static void test_revoke_refusals(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = vmfx_space(fx);
	vmfx_map(fx, as, A, 4 * PG, RW, FIXED);
	touch_pages(fx, 0, A, 0);
	char *before = vmfx_state(fx, as);
	static const struct vm_range bad[] = {
		{ A + 1, A + PG },          { A, A + PG + 1 }, { A + PG, A + PG },
		{ A + 2 * PG, A + PG },     { PMAP_USER_END - PG, PMAP_USER_END + PG },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vm_range two[2] = { { A, A + PG }, bad[i] };
		VMFX_RC(fx, vm_revoke(&fx->s.vm, two, 2, NULL), -MMK_EINVAL);
		vmfx_same_state(fx, as, before, "a refused revocation");
	}
	VMFX_RC(fx, vm_revoke(&fx->s.vm, NULL, 0, NULL), 0);
	vmfx_same_state(fx, as, before, "an empty revocation");
	free(before);
	vmfx_check(fx);
}

/* The sim's counters per CPU. */
static void cpu_stats(struct vmfx *fx, struct sim_stats *out)
{
	for (unsigned c = 0; c < fx->ncpus; c++)
		sim_get_cpu_stats(fx->s.machine, c, &out[c]);
}

static void test_one_shootdown_per_space_per_batch(void **state)
{
	struct vmfx *fx = *state;
	/* Space 0 on CPU 0, space 1 on CPUs 1 and 2, space 2 on CPU 3, space
	 * 3 (mapping nothing in the ranges) on CPU 4; CPU 5 idle. */
	struct vm_space *as[4];
	static const unsigned cpus_of[4][2] = { { 0, 0 }, { 1, 2 }, { 3, 3 }, { 4, 4 } };
	for (unsigned i = 0; i < 4; i++) {
		as[i] = vmfx_space(fx);
		vm_space_activate(as[i], cpus_of[i][0]);
		vm_space_activate(as[i], cpus_of[i][1]);
		vmfx_map(fx, as[i], i == 3 ? A + 1024 * PG : A, 64 * PG, RW, FIXED);
		touch_pages(fx, cpus_of[i][0], i == 3 ? A + 1024 * PG : A, 64);
		touch_pages(fx, cpus_of[i][1], i == 3 ? A + 1024 * PG : A, 32); /* both CPUs cache entries */
	}
	vmfx_check(fx);
	struct sim_stats s0[6], s1[6];
	cpu_stats(fx, s0);
	struct vm_range r[3] = { { A, A + 16 * PG }, { A + 20 * PG, A + 40 * PG }, { A + 50 * PG, A + 64 * PG } };
	struct vm_revoke_stats st;
	revoke_ok(fx, r, 3, &st);
	cpu_stats(fx, s1);
	VMFX_EQ(fx, st.spaces, 3);
	VMFX_EQ(fx, st.shootdowns, 3);
	VMFX_EQ(fx, st.pages_unmapped, 3 * 50);
	for (unsigned c = 0; c < 6; c++) {
		VMFX_EQ(fx, s1[c].shootdowns - s0[c].shootdowns, c < 4 ? 1 : 0);
		VMFX_EQ(fx, s1[c].invalidations - s0[c].invalidations, 0);
		VMFX_EQ(fx, s1[c].flushes - s0[c].flushes, c < 4 ? 1 : 0);
	}
	/* No TLB still holds a revoked page. */
	for (unsigned c = 0; c < 4; c++)
		for (unsigned p = 0; p < 64; p++)
			if (p < 16 || (p >= 20 && p < 40) || p >= 50)
				VMFX_TRUE(fx, !sim_tlb_probe(fx->s.machine, c, A + p * PG, NULL));
	/* munmap of the 14 pages left in space 1 pays one shootdown per page
	 * per CPU: what the batch saves. */
	touch_pages(fx, 1, A + 16 * PG, 4);
	cpu_stats(fx, s0);
	VMFX_RC(fx, vm_unmap(as[1], A + 16 * PG, 4 * PG), 0);
	cpu_stats(fx, s1);
	VMFX_EQ(fx, s1[1].shootdowns - s0[1].shootdowns, 4);
	VMFX_EQ(fx, s1[2].shootdowns - s0[2].shootdowns, 4);
	vmfx_check(fx);
}

/* ---- dirty shared-file pages, copy-on-write sharing ---- */

struct mem_pager {
	unsigned writes;
	uint64_t last_pgoff;
	uint8_t last_byte;
};

static int mem_read(void *ctx, uint64_t pgoff, void *page)
{
	(void)ctx;
	(void)pgoff;
	memset(page, 0, PG);
	return 0;
}

static int mem_write(void *ctx, uint64_t pgoff, const void *page)
{
	struct mem_pager *p = ctx;
	p->writes++;
	p->last_pgoff = pgoff;
	p->last_byte = ((const uint8_t *)page)[0];
	return 0;
}

static void test_dirty_file_pages_written_back(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	struct vm_object *obj;
	VMFX_RC(fx, vm_object_create(&fx->s.vm, VM_OBJECT_FILE, "/f", &obj), 0);
	struct mem_pager mp = { 0 };
	struct vm_file_pager ops = { mem_read, mem_write, &mp };
	vm_object_set_pager(obj, &ops);
	vaddr_t out;
	VMFX_RC(fx, vm_map(as, A, 8 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, obj, 0, VM_PROT_ALL, &out), 0);
	VMFX_RC(fx, vmfx_write8(fx, 0, A + 5 * PG, 0x5a), 0); /* dirty */
	VMFX_RC(fx, vmfx_touch(fx, 0, A + 6 * PG, VMFX_R), 0); /* clean */
	struct sim_stats s0, s1;
	sim_get_cpu_stats(fx->s.machine, 0, &s0);
	struct vm_range r = { A + 4 * PG, A + 8 * PG };
	struct vm_revoke_stats st;
	revoke_ok(fx, &r, 1, &st);
	sim_get_cpu_stats(fx->s.machine, 0, &s1);
	VMFX_EQ(fx, mp.writes, 1);
	VMFX_EQ(fx, mp.last_pgoff, 5);
	VMFX_EQ(fx, mp.last_byte, 0x5a);
	VMFX_EQ(fx, obj->writebacks, 1);
	VMFX_EQ(fx, s1.shootdowns - s0.shootdowns, 1);
	VMFX_EQ(fx, st.pages_unmapped, 2);
	vmfx_destroy(fx, as);
	vm_object_release(&fx->s.vm, obj);
	vmfx_check(fx);
}

static void test_revoke_cow_shared_frames(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *parent = vmfx_space(fx);
	vm_space_activate(parent, 0);
	vmfx_map(fx, parent, A, 8 * PG, RW, FIXED);
	touch_pages(fx, 0, A, 8);
	uint64_t free_mapped = vmfx_free_frames(fx);
	struct vm_space *child;
	VMFX_RC(fx, vm_space_fork(parent, &child), 0);
	vmfx_adopt(fx, child);
	vm_space_activate(child, 1);
	VMFX_RC(fx, vmfx_write8(fx, 1, A, 0x77), 0); /* one private copy in the child */
	vmfx_check(fx);
	struct vm_range r = { A, A + 8 * PG };
	struct vm_revoke_stats st;
	revoke_ok(fx, &r, 1, &st);
	VMFX_EQ(fx, st.spaces, 2);
	VMFX_EQ(fx, st.shootdowns, 2);
	VMFX_EQ(fx, vmfx_resident(parent) + vmfx_resident(child), 0);
	/* Every anon frame freed: back to what the spaces' page tables need. */
	VMFX_TRUE(fx, vmfx_free_frames(fx) > free_mapped);
	vmfx_destroy(fx, child);
	vmfx_check(fx);
}

/* ---- claims driving the VM ---- */

struct world {
	struct vmfx *fx;
	struct claims c;
	struct claimant cl[NSPACES];
	struct vm_space *as[NSPACES];
};

static void world_init(struct world *w, struct vmfx *fx)
{
	memset(w, 0, sizeof(*w));
	w->fx = fx;
	VMFX_RC(fx, claims_init(&w->c, &fx->s.phys, A, RES_PAGES * PG, claims_vm_revoker, &fx->s.vm), 0);
	for (unsigned i = 0; i < NSPACES; i++) {
		claimant_init(&w->cl[i], i + 1);
		w->as[i] = vmfx_space(fx);
		vm_space_activate(w->as[i], i);
	}
}

static void world_check(struct world *w)
{
	const char *why = NULL;
	if (claims_check(&w->c, &why))
		vmfx_fail(w->fx, "claims_check: %s", why);
	vmfx_check(w->fx);
}

static void world_fini(struct world *w)
{
	for (unsigned i = 0; i < NSPACES; i++)
		claims_release_all(&w->c, &w->cl[i]);
	while (claims_queued_ranges(&w->c))
		VMFX_RC(w->fx, claims_revoke_batch(&w->c, CLAIMS_BATCH_MAX, NULL, NULL), 0);
	world_check(w);
	VMFX_RC(w->fx, claims_fini(&w->c), 0);
}

/* Everything observable in the world, for "nothing changed". */
static char *world_state(struct world *w)
{
	size_t n = claims_format(&w->c, NULL, 0);
	char *t = malloc(n + 1);
	assert_non_null(t);
	claims_format(&w->c, t, n + 1);
	for (unsigned i = 0; i < NSPACES; i++) {
		char *s = vmfx_state(w->fx, w->as[i]);
		size_t m = strlen(t), k = strlen(s);
		t = realloc(t, m + k + 1);
		assert_non_null(t);
		memcpy(t + m, s, k + 1);
		free(s);
	}
	return t;
}

/* Every VMA straddles a range end, in two spaces, so the batch needs VMA
 * structs; the sweep fails each allocation in turn. */
static void test_batch_enomem_sweep(void **state)
{
	struct vmfx *fx = *state;
	struct world w;
	world_init(&w, fx);
	for (uint64_t n = 1;; n++) {
		VMFX_TRUE(fx, n < 50);
		for (unsigned i = 0; i < 2; i++) {
			VMFX_RC(fx, claims_claim(&w.c, &w.cl[i], A, 64 * PG), 0);
			vmfx_map(fx, w.as[i], A, 64 * PG, RW, FIXED);
			touch_pages(fx, i, A, 64);
		}
		for (unsigned i = 0; i < 2; i++) {
			VMFX_RC(fx, claims_release(&w.c, &w.cl[i], A + 8 * PG, 8 * PG), 0);
			VMFX_RC(fx, claims_release(&w.c, &w.cl[i], A + 30 * PG, 4 * PG), 0);
		}
		VMFX_EQ(fx, claims_queued_ranges(&w.c), 2);
		world_check(&w);
		char *before = world_state(&w);
		uint64_t failed = fx->s.failpoint.failed;
		mmk_failpoint_arm(&fx->s.failpoint, n, false);
		struct vm_range out[4];
		size_t nout;
		int rc = claims_revoke_batch(&w.c, 4, out, &nout);
		mmk_failpoint_arm(&fx->s.failpoint, 0, false);
		bool fired = fx->s.failpoint.failed != failed;
		world_check(&w);
		if (rc == 0) {
			free(before);
			VMFX_EQ(fx, nout, 2);
			const char *why = NULL;
			if (vm_revoke_check(&fx->s.vm, out, nout, &why))
				vmfx_fail(fx, "vm_revoke_check: %s", why);
			if (!fired) {
				VMFX_TRUE(fx, n > 8); /* 8 clips in 2 spaces, each one failed once */
				break;
			}
			vmfx_fail(fx, "the batch succeeded although allocation %llu failed", (unsigned long long)n);
		}
		VMFX_RC(fx, rc, -MMK_ENOMEM);
		VMFX_TRUE(fx, fired);
		char *after = world_state(&w);
		if (strcmp(before, after))
			vmfx_fail(fx, "a failed batch changed something:\n%s\n----\n%s", before, after);
		free(before);
		free(after);
		/* Clean up for the next attempt. */
		for (unsigned i = 0; i < 2; i++) {
			claims_release_all(&w.c, &w.cl[i]);
			VMFX_RC(fx, vm_unmap(w.as[i], A, 64 * PG), 0);
		}
		while (claims_queued_ranges(&w.c))
			VMFX_RC(fx, claims_revoke_batch(&w.c, CLAIMS_BATCH_MAX, NULL, NULL), 0);
	}
	world_fini(&w);
}

/* Every translation of every space lies on a claimed or queued page. */
struct mapped_walk {
	struct world *w;
	vaddr_t bad;
};

static void mapped_page(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct mapped_walk *m = ctx;
	(void)pa;
	(void)bits;
	enum claim_state s = claims_state(&m->w->c, va);
	if (s != CLAIM_CLAIMED && s != CLAIM_QUEUED && !m->bad)
		m->bad = va ? va : 1;
}

static void check_nothing_unclaimed_mapped(struct world *w)
{
	for (unsigned i = 0; i < NSPACES; i++) {
		struct mapped_walk m = { w, 0 };
		pmap_walk(&w->as[i]->pmap, A, A + RES_PAGES * PG, mapped_page, &m);
		if (m.bad)
			vmfx_fail(w->fx, "space %u maps %#llx, which is neither claimed nor queued", i,
				  (unsigned long long)m.bad);
	}
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Map and touch, in space i, the pages of [a, b) that claimant i claims. */
static void map_claimed(struct world *w, unsigned i, uint64_t a, uint64_t b)
{
	for (uint64_t p = a; p < b;) {
		if (!claims_count(&w->c, &w->cl[i], A + p * PG)) {
			p++;
			continue;
		}
		uint64_t e = p + 1;
		while (e < b && claims_count(&w->c, &w->cl[i], A + e * PG))
			e++;
		vmfx_map(w->fx, w->as[i], A + p * PG, (e - p) * PG, RW, FIXED);
		touch_pages(w->fx, i, A + p * PG, e - p);
		p = e;
	}
}

static void mix_run(struct vmfx *fx, uint64_t seed, unsigned steps)
{
	struct world w;
	world_init(&w, fx);
	fx->snapshots = false;
	vmfx_reap(fx);
	kmem_cache_reap(&w.c.node_cache);
	kmem_cache_reap(&w.c.table_cache);
	uint64_t baseline = vmfx_free_frames(fx);
	uint64_t s = seed, batches = 0, revoked = 0, refused = 0;
	for (unsigned step = 0; step < steps; step++) {
		unsigned i = (unsigned)(rnd(&s) % NSPACES), what = (unsigned)(rnd(&s) % 100);
		uint64_t a = rnd(&s) % RES_PAGES, len = 1 + rnd(&s) % 48;
		if (a + len > RES_PAGES)
			len = RES_PAGES - a;
		vmfx_op(fx, "step %u: op %u space %u pages [%llu, +%llu)", step, what, i, (unsigned long long)a,
			(unsigned long long)len);
		if (what < 35) {
			int rc = claims_claim(&w.c, &w.cl[i], A + a * PG, len * PG);
			VMFX_TRUE(fx, rc == 0 || rc == -MMK_EBUSY || rc == -MMK_EUSERS);
			refused += rc != 0;
		} else if (what < 60) {
			map_claimed(&w, i, a, a + len);
		} else if (what < 80) {
			int rc = claims_release(&w.c, &w.cl[i], A + a * PG, len * PG);
			VMFX_TRUE(fx, rc == 0 || rc == -MMK_ENOENT);
		} else if (what < 83) {
			claims_release_all(&w.c, &w.cl[i]);
		} else if (what < 86) {
			VMFX_RC(fx, vm_unmap(w.as[i], A + a * PG, len * PG), 0);
		} else {
			struct vm_range out[CLAIMS_BATCH_MAX];
			size_t n;
			VMFX_RC(fx, claims_revoke_batch(&w.c, 1 + rnd(&s) % 8, out, &n), 0);
			const char *why = NULL;
			if (vm_revoke_check(&fx->s.vm, out, n, &why))
				vmfx_fail(fx, "vm_revoke_check: %s", why);
			batches++;
			revoked += n;
		}
		world_check(&w);
		check_nothing_unclaimed_mapped(&w);
	}
	VMFX_TRUE(fx, batches > 0 && revoked > 0 && refused > 0);
	/* Release and revoke everything: no mapping may be left, and the free
	 * frames return to the baseline. */
	for (unsigned i = 0; i < NSPACES; i++)
		claims_release_all(&w.c, &w.cl[i]);
	while (claims_queued_ranges(&w.c))
		VMFX_RC(fx, claims_revoke_batch(&w.c, CLAIMS_BATCH_MAX, NULL, NULL), 0);
	world_check(&w);
	for (unsigned i = 0; i < NSPACES; i++)
		VMFX_EQ(fx, vmfx_resident(w.as[i]), 0);
	kmem_cache_reap(&w.c.node_cache);
	kmem_cache_reap(&w.c.table_cache);
	VMFX_EQ(fx, vmfx_free_frames(fx), baseline);
	world_fini(&w);
	for (unsigned i = 0; i < NSPACES; i++)
		vmfx_destroy(fx, w.as[i]);
}

static void test_random_mix(void **state)
{
	struct vmfx *fx = *state;
	mix_run(fx, 1, 1500);
	mix_run(fx, 0xabcdef12345ull, 1500);
	mix_run(fx, 99, 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_revoke_clips_and_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_shootdown_per_space_per_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_file_pages_written_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_cow_shared_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_enomem_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_mix, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
