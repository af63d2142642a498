/*
 * test_physmem_model: long random sequences of allocate, deallocate, write
 * (kernel-side and through a map), copy (shared and COW), release and
 * compaction on three containers, against a reference model in which each
 * page names a cell (a shared copy names the same cell, a COW copy or a
 * release makes a new cell with the same value), compared page by page
 * (through container_read and through the MMU) with physmem_check and the
 * VM checkers after every step; then the allocation-failure sweep: every
 * call, failed at its k-th allocation for every k, returns -MMK_ENOMEM and
 * changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kmem_fixture.h"
#include "pm_fixture.h"

#define NC 3
#define NP 48
#define MAXCELLS 100000

struct model {
	int cell[NC][NP]; /* -1: not allocated */
	uint64_t val[MAXCELLS];
	int ncells;
};

struct world {
	struct pmfx fx;
	struct container_ref c[NC];
	struct vm_space *as;
	vaddr_t va; /* container 0 mapped read-write */
	struct model m;
	uint64_t rng;
};

static int new_cell(struct model *m, uint64_t v)
{
	assert_true(m->ncells < MAXCELLS);
	m->val[m->ncells] = v;
	return m->ncells++;
}

static bool all(const struct model *m, int c, int pg, int n, bool present)
{
	for (int i = pg; i < pg + n; i++)
		if ((m->cell[c][i] >= 0) != present)
			return false;
	return true;
}

static void verify(struct world *w)
{
	pmfx_check(&w->fx);
	for (int c = 0; c < NC; c++)
		for (int pg = 0; pg < NP; pg++) {
			uint64_t v = 0;
			int rc = container_read(w->c[c], (uint64_t)pg * PG + 8, &v, 8);
			if (w->m.cell[c][pg] < 0) {
				PMFX_RC(&w->fx, rc, -MMK_ENOENT);
				continue;
			}
			PMFX_RC(&w->fx, rc, 0);
			PMFX_EQ(&w->fx, v, w->m.val[w->m.cell[c][pg]]);
			if (c == 0) {
				PMFX_RC(&w->fx, sim_read(w->fx.vm.s.machine, 0, w->va + (uint64_t)pg * PG + 8, &v, 8, true), 0);
				PMFX_EQ(&w->fx, v, w->m.val[w->m.cell[c][pg]]);
			}
		}
	struct container_info info;
	for (int c = 0; c < NC; c++) {
		uint64_t n = 0;
		for (int pg = 0; pg < NP; pg++)
			n += w->m.cell[c][pg] >= 0;
		PMFX_RC(&w->fx, container_get_info(w->c[c], &info), 0);
		PMFX_EQ(&w->fx, info.pages, n);
	}
}

static void setup(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	pmfx_boot(&w->fx, 64 * VMFX_MIB, 8192);
	for (int c = 0; c < NC; c++)
		PMFX_RC(&w->fx, container_create(&w->fx.pm, w->fx.task, &w->c[c]), 0);
	memset(w->m.cell, 0xff, sizeof(w->m.cell));
	w->as = vmfx_space(&w->fx.vm);
	vm_space_activate(w->as, 0);
	PMFX_RC(&w->fx, container_map(w->c[0], w->as, 0, 0, NP * PG, VM_PROT_READ | VM_PROT_WRITE, 0, &w->va), 0);
	w->rng = seed;
}

static void teardown(struct world *w)
{
	for (int c = 0; c < NC; c++)
		PMFX_RC(&w->fx, container_destroy(&w->c[c]), 0);
	pmfx_shutdown(&w->fx);
}

struct op {
	int kind, c, c2, pg, pg2, n;
	uint64_t v;
	bool flag;
};

static struct op random_op(struct world *w)
{
	struct op o;
	o.kind = (int)(kfx_rand(&w->rng) % 9);
	o.c = (int)(kfx_rand(&w->rng) % NC);
	o.c2 = (int)(kfx_rand(&w->rng) % NC);
	o.n = 1 + (int)(kfx_rand(&w->rng) % 9);
	o.pg = (int)(kfx_rand(&w->rng) % (NP - o.n + 1));
	o.pg2 = (int)(kfx_rand(&w->rng) % (NP - o.n + 1));
	o.v = kfx_rand(&w->rng);
	o.flag = kfx_rand(&w->rng) & 1;
	if (o.kind == 5 || o.kind == 6) {
		/* Mostly copies that can succeed: a present source, a free target. */
		o.flag = o.kind == 6;
		o.n = 1 + (int)(kfx_rand(&w->rng) % 4);
		for (int tries = 0; tries < 32 && (kfx_rand(&w->rng) % 8); tries++) {
			o.pg = (int)(kfx_rand(&w->rng) % (NP - o.n + 1));
			o.pg2 = (int)(kfx_rand(&w->rng) % (NP - o.n + 1));
			if (all(&w->m, o.c, o.pg, o.n, true) && all(&w->m, o.c2, o.pg2, o.n, false) &&
			    !(o.c == o.c2 && o.pg < o.pg2 + o.n && o.pg2 < o.pg + o.n))
				break;
		}
	}
	return o;
}

/* Expected result of o on the model, and the model change (when apply). */
static int expect(struct world *w, const struct op *o, bool apply)
{
	struct model *m = &w->m;
	switch (o->kind) {
	case 0:
	case 1: /* allocate */
		if (!all(m, o->c, o->pg, o->n, false))
			return -MMK_EEXIST;
		for (int i = 0; apply && i < o->n; i++)
			m->cell[o->c][o->pg + i] = new_cell(m, 0);
		return 0;
	case 2: /* deallocate */
		if (!all(m, o->c, o->pg, o->n, true))
			return -MMK_ENOENT;
		for (int i = 0; apply && i < o->n; i++)
			m->cell[o->c][o->pg + i] = -1;
		return 0;
	case 3: /* write */
	case 4: /* write through the map (container 0) */
		if (m->cell[o->c][o->pg] < 0)
			return -MMK_ENOENT;
		if (apply)
			m->val[m->cell[o->c][o->pg]] = o->v;
		return 0;
	case 5:
	case 6: /* copy */
		if (o->c == o->c2 && o->pg < o->pg2 + o->n && o->pg2 < o->pg + o->n)
			return -MMK_EINVAL;
		if (!all(m, o->c, o->pg, o->n, true))
			return -MMK_ENOENT;
		if (!all(m, o->c2, o->pg2, o->n, false))
			return -MMK_EEXIST;
		for (int i = 0; apply && i < o->n; i++) {
			int src = m->cell[o->c][o->pg + i];
			m->cell[o->c2][o->pg2 + i] = o->flag ? src : new_cell(m, m->val[src]);
		}
		return 0;
	case 7: /* release */
		if (!all(m, o->c, o->pg, o->n, true))
			return -MMK_ENOENT;
		for (int i = 0; apply && i < o->n; i++)
			m->cell[o->c][o->pg + i] = new_cell(m, m->val[m->cell[o->c][o->pg + i]]);
		return 0;
	default: /* compaction: contents unchanged */
		return 0;
	}
}

static int run(struct world *w, const struct op *o)
{
	uint64_t off = (uint64_t)o->pg * PG;
	switch (o->kind) {
	case 0:
	case 1:
		return container_allocate(w->c[o->c], off, (uint64_t)o->n, o->kind == 1 ? PM_ALLOC_PARTIAL : 0, NULL);
	case 2:
		return container_deallocate(w->c[o->c], off, (uint64_t)o->n * PG);
	case 3:
		return container_write(w->c[o->c], off + 8, &o->v, 8);
	case 4:
		if (o->c != 0)
			return container_write(w->c[o->c], off + 8, &o->v, 8);
		return sim_write(w->fx.vm.s.machine, 0, w->va + off + 8, &o->v, 8, true) ? -MMK_ENOENT : 0;
	case 5:
	case 6:
		return container_copy(w->c[o->c], off, w->c[o->c2], (uint64_t)o->pg2 * PG, (uint64_t)o->n * PG,
				      o->flag ? PM_COPY_SHARED : PM_COPY_COW, NULL);
	case 7:
		return container_release(w->c[o->c], off, (uint64_t)o->n * PG);
	default: {
		struct pm_compact_result res;
		return physmem_compact(&w->fx.pm, 1 + (unsigned)(o->v % 4), 0, &res);
	}
	}
}

static void test_model(void **state)
{
	(void)state;
	static struct world w;
	setup(&w, 0xc0ffee);
	unsigned ok[9] = { 0 };
	for (int step = 0; step < 2500; step++) {
		struct op o = random_op(&w);
		vmfx_op(&w.fx.vm, "step %d: kind %d c %d/%d pg %d/%d n %d flag %d", step, o.kind, o.c, o.c2, o.pg, o.pg2,
			o.n, o.flag);
		int want = expect(&w, &o, false);
		PMFX_RC(&w.fx, run(&w, &o), want);
		if (!want)
			expect(&w, &o, true);
		ok[o.kind] += !want;
		verify(&w);
	}
	/* The sequence exercised every call, not only its refusals. */
	fprintf(stderr, "model: ok alloc %u/%u dealloc %u write %u/%u copy %u/%u release %u compact %u, moved %llu\n",
		ok[0], ok[1], ok[2], ok[3], ok[4], ok[5], ok[6], ok[7], ok[8],
		(unsigned long long)w.fx.pm.migrated_frames);
	for (int k = 0; k < 9; k++)
		PMFX_TRUE(&w.fx, ok[k] > 10);
	teardown(&w);
}

/* Every call failed at its k-th allocation, for every k: -MMK_ENOMEM (or,
 * for the map write, a refused access) and nothing changed. */
static void test_failure_sweep(void **state)
{
	(void)state;
	static struct world w;
	setup(&w, 0xabad1dea);
	struct mmk_failpoint *fp = &w.fx.vm.s.failpoint;
	uint64_t failures = 0;
	for (int step = 0; step < 400; step++) {
		struct op o = random_op(&w);
		if (o.kind == 1 || o.kind == 8)
			o.kind = 0; /* partial allocations keep prefixes; compaction skips what it cannot move */
		int want = expect(&w, &o, false);
		vmfx_op(&w.fx.vm, "sweep step %d: kind %d", step, o.kind);
		for (uint64_t k = 1;; k++) {
			assert_true(k < 500);
			mmk_failpoint_arm(fp, k, false);
			int rc = run(&w, &o);
			bool fired = fp->countdown == 0;
			mmk_failpoint_arm(fp, 0, false);
			if (rc == want) {
				if (!want)
					expect(&w, &o, true);
				verify(&w);
				break;
			}
			PMFX_TRUE(&w.fx, fired);
			PMFX_TRUE(&w.fx, rc == -MMK_ENOMEM || (o.kind == 4 && rc != 0));
			failures++;
			verify(&w); /* nothing changed */
		}
	}
	PMFX_TRUE(&w.fx, failures > 100);
	teardown(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_failure_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
