/* pm_fixture.c - see pm_fixture.h.  Hosted code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pm_fixture.h"

struct find_pfn {
	pfn_t pfn;
	bool found;
};

static bool entry_has(void *ctx, const struct btree_item *it)
{
	struct find_pfn *f = ctx;
	const struct pm_entry *e = it->val;
	pfn_t first = e->frame->pfn + e->frame_off;
	if (f->pfn >= first && f->pfn < first + e->npages)
		f->found = true;
	return !f->found;
}

/* A pfn lent by physmem: inside a whole frame, or named by some entry. */
static bool pm_external(void *ctx, pfn_t pfn)
{
	struct physmem *pm = ctx;
	if (btree_lookup(&pm->frames, pfn))
		return true;
	struct find_pfn f = { pfn, false };
	struct mmk_list *l;
	mmk_list_for_each(l, &pm->containers) {
		struct container *c = mmk_list_entry(l, struct container, link);
		btree_walk(&c->entries, entry_has, &f);
		struct mmk_list *p;
		mmk_list_for_each(p, &c->parked) {
			const struct pm_entry *e = mmk_list_entry(p, struct pm_entry, link);
			if (pfn >= e->frame->pfn + e->frame_off && pfn < e->frame->pfn + e->frame_off + e->npages)
				f.found = true;
		}
	}
	return f.found;
}

uint64_t pmfx_free_frames(struct pmfx *fx)
{
	physmem_reap(&fx->pm);
	kmem_cache_reap(&fx->acct.cache);
	return vmfx_free_frames(&fx->vm);
}

void pmfx_boot(struct pmfx *fx, uint64_t ram_bytes, uint64_t task_frames)
{
	memset(fx, 0, sizeof(*fx));
	vmfx_boot(&fx->vm, ram_bytes, 1);
	assert_int_equal(acct_system_init(&fx->acct, &fx->vm.s.phys, sim_system_free_frames(&fx->vm.s)), 0);
	assert_int_equal(acct_split(acct_root(&fx->acct), task_frames, "task", &fx->task), 0);
	assert_int_equal(physmem_init(&fx->pm, &fx->vm.s.phys, &fx->vm.s.vm), 0);
	fx->vm.external = pm_external;
	fx->vm.external_ctx = &fx->pm;
	fx->free0 = pmfx_free_frames(fx);
	pmfx_check(fx);
}

void pmfx_check(struct pmfx *fx)
{
	const char *why = NULL;
	if (physmem_check(&fx->pm, &why))
		vmfx_fail(&fx->vm, "physmem_check: %s", why);
	why = NULL;
	if (acct_check(&fx->acct, &why))
		vmfx_fail(&fx->vm, "acct_check: %s", why);
	vmfx_check(&fx->vm);
}

uint64_t pmfx_charged(struct mmk_account *a)
{
	struct acct_usage u;
	acct_get_usage(a, &u);
	return u.charged;
}

void pmfx_shutdown(struct pmfx *fx)
{
	if (fx->vm.failed) {
		vmfx_abandon(&fx->vm);
		return;
	}
	for (int i = 0; i < VMFX_MAX_SPACES; i++) /* their page tables count too */
		if (fx->vm.spaces[i])
			vmfx_destroy(&fx->vm, fx->vm.spaces[i]);
	pmfx_check(fx);
	PMFX_EQ(fx, fx->pm.frame_pages, 0);
	PMFX_EQ(fx, pmfx_free_frames(fx), fx->free0); /* leak baseline */
	PMFX_RC(fx, physmem_fini(&fx->pm), 0);
	PMFX_RC(fx, acct_system_fini(&fx->acct), 0);
	fx->vm.external = NULL;
	vmfx_shutdown(&fx->vm);
}
