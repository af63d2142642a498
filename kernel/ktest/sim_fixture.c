/*
 * sim_fixture.c - tests/support/sim_fixture.h on the real machine, for the
 * shared pmap contract tests: the machine is the kernel's, the pool's
 * frames are one block of kernel frames from mmk's phys (its allocation
 * logic is tests/support/sim_pt_pool.c itself), and the pmap is a real
 * hal/x86_64 pmap.  Data frames (sim_fx_frame) are only ever entered into
 * pmaps that no access goes through while they hold them, so their
 * physical addresses may be anything page-aligned.
 *
 * Also the cmocka shim's group runner (shim/cmocka.h).
 */
#include <mmk/errno.h>

#include "../kernel.h"
#include "../klib.h"
#include "cmocka.h"
#include "sim_fixture.h"

/* The group runs as one suite named after the file (its basename). */
int ktest_cmocka_run(const char *group, const struct CMUnitTest *tests, size_t n)
{
	const char *name = group;
	for (const char *c = group; *c; c++)
		if (*c == '/')
			name = c + 1;
	struct ktest *list = kmalloc(&kernel.heap, n * sizeof(*list));
	if (!list) {
		ktest_record(name, "room for the test list", false);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		list[i] = (struct ktest){ tests[i].name, tests[i].test_func, tests[i].setup_func, tests[i].teardown_func };
	unsigned bad = ktest_run_suite(name, list, (unsigned)n);
	kfree(&kernel.heap, list);
	return (int)bad;
}

#define POOL_ORDER 11u /* SIM_FX_POOL_PAGES frames */
_Static_assert(SIM_FX_POOL_PAGES == 1u << POOL_ORDER, "the pool is one buddy block");

int sim_pt_pool_init(struct sim_pt_pool *p, struct hal_machine *m, paddr_t base, size_t npages)
{
	*p = (struct sim_pt_pool){ .m = m, .base = base, .npages = npages };
	p->used = kzalloc(&kernel.heap, npages ? npages : 1);
	return p->used ? 0 : -MMK_ENOMEM;
}

/* Also gives back the pool's block of frames (sim_fixture_setup took it). */
void sim_pt_pool_fini(struct sim_pt_pool *p)
{
	kfree(&kernel.heap, p->used);
	p->used = NULL;
	if (p->npages == SIM_FX_POOL_PAGES)
		phys_free(&kernel.phys, mmk_paddr_to_pfn(p->base), POOL_ORDER);
	p->npages = 0;
}

int sim_fixture_setup(struct sim_fixture *fx, unsigned ncpus)
{
	(void)ncpus; /* the real machine has the CPUs it has */
	memset(fx, 0, sizeof(*fx));
	fx->m = kernel.machine;
	pfn_t pfn;
	int rc = phys_alloc(&kernel.phys, POOL_ORDER, 0, &pfn);
	if (rc)
		return rc;
	rc = sim_pt_pool_init(&fx->pool, fx->m, mmk_pfn_to_paddr(pfn), SIM_FX_POOL_PAGES);
	if (rc) {
		phys_free(&kernel.phys, pfn, POOL_ORDER);
		return rc;
	}
	struct pmap_pt_source src = sim_pt_pool_source(&fx->pool);
	rc = pmap_create(&fx->pm, fx->m, &src, fx);
	if (rc)
		sim_pt_pool_fini(&fx->pool);
	return rc;
}

void sim_fixture_teardown(struct sim_fixture *fx)
{
	pmap_deactivate(&fx->pm, 0);
	pmap_remove(&fx->pm, 0, PMAP_USER_END, NULL, NULL);
	pmap_destroy(&fx->pm);
	sim_pt_pool_fini(&fx->pool);
}
