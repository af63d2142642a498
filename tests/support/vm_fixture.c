/*
 * vm_fixture.c - the booted PC and the checkers of the VM tests; see
 * vm_fixture.h.  Hosted code: uses libc and cmocka freely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_fixture.h"

void vmfx_boot(struct vmfx *fx, uint64_t ram_bytes, unsigned ncpus)
{
	memset(fx, 0, sizeof(*fx));
	fx->ncpus = ncpus;
	fx->snapshots = true;
	int rc = sim_system_boot(&fx->s, ram_bytes, ncpus);
	if (rc)
		fail_msg("sim_system_boot(%llu bytes, %u cpus): %s", (unsigned long long)ram_bytes, ncpus,
			 mmk_strerror(rc));
	fx->booted = true;
	fx->nframes = fx->s.phys.end_pfn;
	fx->frame_refs = calloc(fx->nframes, sizeof(*fx->frame_refs));
	assert_non_null(fx->frame_refs);
	vmfx_op(fx, "boot");
	vmfx_check(fx);
}

static int slot_of(struct vmfx *fx, const struct vm_space *as)
{
	for (int i = 0; i < VMFX_MAX_SPACES; i++)
		if (fx->spaces[i] == as)
			return i;
	return -1;
}

void vmfx_adopt(struct vmfx *fx, struct vm_space *as)
{
	int i = slot_of(fx, NULL);
	if (i < 0)
		fail_msg("vm_fixture: more than %d spaces", VMFX_MAX_SPACES);
	fx->spaces[i] = as;
	fx->before[i] = NULL;
}

struct vm_space *vmfx_space(struct vmfx *fx)
{
	struct vm_space *as = NULL;
	int rc = vm_space_create(&fx->s.vm, &as);
	if (rc)
		fail_msg("vm_space_create: %s", mmk_strerror(rc));
	vmfx_adopt(fx, as);
	return as;
}

void vmfx_deactivate(struct vmfx *fx, struct vm_space *as)
{
	for (unsigned cpu = 0; cpu < fx->ncpus; cpu++)
		pmap_deactivate(&as->pmap, cpu);
}

void vmfx_destroy(struct vmfx *fx, struct vm_space *as)
{
	int i = slot_of(fx, as);
	vmfx_deactivate(fx, as);
	vm_space_destroy(as);
	if (i >= 0) {
		fx->spaces[i] = NULL;
		free(fx->before[i]);
		fx->before[i] = NULL;
	}
}

static void destroy_all(struct vmfx *fx)
{
	for (int i = 0; i < VMFX_MAX_SPACES; i++)
		if (fx->spaces[i])
			vmfx_destroy(fx, fx->spaces[i]);
}

void vmfx_reap(struct vmfx *fx)
{
	vm_system_reap(&fx->s.vm);
}

uint64_t vmfx_free_frames(struct vmfx *fx)
{
	vmfx_reap(fx);
	return sim_system_free_frames(&fx->s);
}

void vmfx_shutdown(struct vmfx *fx)
{
	if (!fx->booted)
		return;
	if (fx->failed) {
		vmfx_abandon(fx);
		return;
	}
	vmfx_op(fx, "shutdown");
	destroy_all(fx);
	vmfx_check(fx);
	VMFX_EQ(fx, fx->s.vm.spaces, 0);
	VMFX_EQ(fx, fx->s.vm.user_frames, 0);
	VMFX_EQ(fx, fx->s.vm.pt_pages, 0);
	VMFX_EQ(fx, kmem_cache_live(&fx->s.vm.vma_cache), 0);
	VMFX_EQ(fx, kmem_cache_live(&fx->s.vm.object_cache), 0);
	VMFX_EQ(fx, vmfx_free_frames(fx), fx->s.boot_free_frames);
	VMFX_RC(fx, sim_system_shutdown(&fx->s), 0);
	free(fx->frame_refs);
	fx->frame_refs = NULL;
	fx->booted = false;
}

void vmfx_abandon(struct vmfx *fx)
{
	if (!fx->booted)
		return;
	destroy_all(fx);
	/* Objects a failed test still holds keep the system busy: drop the
	 * machine anyway, the process is about to move on. */
	if (sim_system_shutdown(&fx->s) != 0)
		sim_machine_destroy(fx->s.machine);
	free(fx->frame_refs);
	fx->frame_refs = NULL;
	fx->booted = false;
}

const char *vmfx_op(struct vmfx *fx, const char *fmt, ...)
{
	static char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fx->op = buf;
	return buf;
}

char *vmfx_layout(struct vm_space *as)
{
	size_t n = vm_display(as, NULL, 0);
	char *buf = malloc(n + 1);
	assert_non_null(buf);
	size_t m = vm_display(as, buf, n + 1);
	if (m != n)
		fail_msg("vm_display: length %zu, then %zu", n, m);
	return buf;
}

void vmfx_print_layout(FILE *f, const char *title, struct vm_space *as)
{
	char *t = vmfx_layout(as);
	fprintf(f, "---- %s (space %p) ----\n%s", title, (void *)as, t);
	free(t);
}

static void draw_layouts(struct vmfx *fx)
{
	for (int i = 0; i < VMFX_MAX_SPACES; i++) {
		struct vm_space *as = fx->spaces[i];
		if (!as)
			continue;
		fprintf(stderr, "---- space %d (%p) before ----\n%s", i, (void *)as,
			fx->before[i] ? fx->before[i] : "(no snapshot)\n");
		vmfx_print_layout(stderr, "after", as);
	}
}

void vmfx_fail(struct vmfx *fx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fx->failed = true;
	fprintf(stderr, "FAILED during: %s\n%s\n", fx->op ? fx->op : "?", msg);
	draw_layouts(fx);
	fail_msg("%s (during: %s)", msg, fx->op ? fx->op : "?");
	abort(); /* not reached: fail_msg longjmps */
}

/* ---- frame accounting, re-derived over all spaces ---- */

struct ref_walk {
	struct vmfx *fx;
	struct vm_space *as;
	const char *why;
	vaddr_t bad_va;
	uint64_t translations;
	pfn_t *seen; /* distinct pfns, in first-seen order */
	uint64_t nseen, cap;
};

static void count_ref(void *ctx, vaddr_t va, paddr_t pa, unsigned bits)
{
	struct ref_walk *w = ctx;
	pfn_t pfn = mmk_paddr_to_pfn(pa);
	w->translations++;
	if (w->fx->visit)
		w->fx->visit(w->fx->visit_ctx, w->as, va, pa, bits);
	if (pfn >= w->fx->nframes) {
		if (!w->why) {
			w->why = "translation to a frame beyond the database";
			w->bad_va = va;
		}
		return;
	}
	if (w->fx->frame_refs[pfn]++ == 0) {
		if (w->nseen == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 1024;
			w->seen = realloc(w->seen, w->cap * sizeof(*w->seen));
			assert_non_null(w->seen);
		}
		w->seen[w->nseen++] = pfn;
	}
}

static int cmp_pfn(const void *a, const void *b)
{
	pfn_t x = *(const pfn_t *)a, y = *(const pfn_t *)b;
	return (x > y) - (x < y);
}

static void add_pfn(pfn_t **v, uint64_t *n, uint64_t *cap, pfn_t pfn)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*v = realloc(*v, *cap * sizeof(**v));
		assert_non_null(*v);
	}
	(*v)[(*n)++] = pfn;
}

/* Frames owned by the anons in the tracked spaces' amaps and by the pages
 * of the objects their VMAs map, each counted once (user_frames' recount;
 * objects named only by the caller, not mapped, are not seen unless the
 * test lists them in fx->held). */
static uint64_t owned_frames(struct vmfx *fx)
{
	pfn_t *v = NULL;
	uint64_t n = 0, cap = 0;
	for (int i = 0; i < VMFX_MAX_HELD; i++) {
		uint64_t key = 0;
		void *e;
		if (fx->held[i] && fx->held[i]->type != VM_OBJECT_PHYS)
			while ((e = radix_next(&fx->held[i]->pages, key, &key))) {
				pfn_t pfn;
				if (vm_object_entry_frame(e, &pfn))
					add_pfn(&v, &n, &cap, pfn);
				key++;
			}
	}
	for (int i = 0; i < VMFX_MAX_SPACES; i++) {
		if (!fx->spaces[i])
			continue;
		for (const struct vm_area *a = vm_first_from(fx->spaces[i], 0); a; a = vm_next(a)) {
			uint64_t key = 0;
			void *e;
			if (a->object)
				while ((e = radix_next(&a->object->pages, key, &key))) {
					pfn_t pfn;
					if (vm_object_entry_frame(e, &pfn))
						add_pfn(&v, &n, &cap, pfn);
					key++;
				}
			if (!a->amap)
				continue;
			key = a->amap_slot;
			uint64_t end = a->amap_slot + ((a->end - a->start) >> 12);
			const struct vm_anon *an;
			while ((an = radix_next(&a->amap->slots, key, &key)) && key < end) {
				if (!an->swapped)
					add_pfn(&v, &n, &cap, an->pfn);
				key++;
			}
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_pfn);
	uint64_t distinct = 0;
	for (uint64_t k = 0; k < n; k++)
		distinct += k == 0 || v[k] != v[k - 1];
	free(v);
	return distinct;
}

static void check_frames(struct vmfx *fx)
{
	struct ref_walk w = { fx, NULL, NULL, 0, 0, NULL, 0, 0 };
	uint64_t pt = 0;
	for (int i = 0; i < VMFX_MAX_SPACES; i++) {
		if (!fx->spaces[i])
			continue;
		w.as = fx->spaces[i];
		pmap_walk(&fx->spaces[i]->pmap, 0, PMAP_USER_END, count_ref, &w);
		pt += fx->spaces[i]->pmap.pt_pages;
	}
	const char *why = w.why;
	pfn_t bad = 0;
	uint32_t bad_refs = 0;
	uint64_t fixed = 0; /* boot-image and device frames: mapped in place, owned by no anon or object */
	uint64_t nexternal = 0; /* mapped frames lent by another layer */
	for (uint64_t k = 0; k < w.nseen; k++) {
		pfn_t pfn = w.seen[k];
		uint32_t n = fx->frame_refs[pfn];
		fx->frame_refs[pfn] = 0;
		struct mmk_frame *f = phys_frame(&fx->s.phys, pfn);
		bool ext = fx->external && fx->external(fx->external_ctx, pfn);
		nexternal += ext;
		if (!why && (!f || f->refcount != n))
			why = "frame refcount differs from the translations that map it";
		else if (!why && !ext && (f->owner == MMK_OWNER_BOOT || f->state == MMK_FRAME_ABSENT))
			fixed++; /* seed 002: the boot image read-only; device memory (PHYS objects) */
		else if (!why && !ext && f->owner != MMK_OWNER_USER)
			why = "mapped frame not owned by user";
		else
			continue;
		if (!why)
			continue;
		bad = pfn;
		bad_refs = n;
	}
	free(w.seen);
	if (w.why)
		vmfx_fail(fx, "frame accounting: %s at va %#llx", w.why, (unsigned long long)w.bad_va);
	if (why) {
		struct mmk_frame *f = phys_frame(&fx->s.phys, bad);
		vmfx_fail(fx, "frame accounting: %s (pfn %#llx: %u translations, refcount %u, owner %u)", why,
			  (unsigned long long)bad, bad_refs, f ? f->refcount : 0, f ? f->owner : 0);
	}
	/* Every tracked space is every live space: then the totals must match. */
	uint64_t tracked = 0;
	for (int i = 0; i < VMFX_MAX_SPACES; i++)
		tracked += fx->spaces[i] != NULL;
	if (tracked == fx->s.vm.spaces) {
		uint64_t owned = owned_frames(fx);
		if (owned != fx->s.vm.user_frames)
			vmfx_fail(fx, "frame accounting: anons and object pages own %llu frames, vm_system.user_frames %llu",
				  (unsigned long long)owned, (unsigned long long)fx->s.vm.user_frames);
		if (w.nseen - fixed - nexternal > owned)
			vmfx_fail(fx, "frame accounting: %llu distinct mapped frames, only %llu owned",
				  (unsigned long long)(w.nseen - fixed - nexternal), (unsigned long long)owned);
		if (pt != fx->s.vm.pt_pages)
			vmfx_fail(fx, "frame accounting: spaces hold %llu page-table pages, vm_system.pt_pages %llu",
				  (unsigned long long)pt, (unsigned long long)fx->s.vm.pt_pages);
	}
}

void vmfx_check(struct vmfx *fx)
{
	const char *why = NULL;
	fx->checks++;
	for (int i = 0; i < VMFX_MAX_SPACES; i++) {
		struct vm_space *as = fx->spaces[i];
		if (!as)
			continue;
		why = NULL;
		if (vm_check(as, &why) != 0)
			vmfx_fail(fx, "vm_check(space %d): %s", i, why ? why : "(no reason)");
	}
	why = NULL;
	if (phys_check(&fx->s.phys, &why) != 0)
		vmfx_fail(fx, "phys_check: %s", why ? why : "(no reason)");
	why = NULL;
	if (kmem_cache_check(&fx->s.vm.vma_cache, &why) != 0)
		vmfx_fail(fx, "kmem_cache_check(vma_cache): %s", why ? why : "(no reason)");
	why = NULL;
	if (kmem_cache_check(&fx->s.vm.object_cache, &why) != 0)
		vmfx_fail(fx, "kmem_cache_check(object_cache): %s", why ? why : "(no reason)");
	why = NULL;
	if (kmem_cache_check(&fx->s.vm.space_cache, &why) != 0)
		vmfx_fail(fx, "kmem_cache_check(space_cache): %s", why ? why : "(no reason)");
	check_frames(fx);
	for (int i = 0; i < VMFX_MAX_SPACES; i++) {
		free(fx->before[i]);
		fx->before[i] = NULL;
		if (fx->spaces[i] && fx->snapshots)
			fx->before[i] = vmfx_layout(fx->spaces[i]);
	}
}

char *vmfx_state(struct vmfx *fx, struct vm_space *as)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	char *layout = vmfx_layout(as);
	fputs(layout, f);
	free(layout);
	for (const struct vm_area *v = vm_first_from(as, 0); v; v = vm_next(v)) {
		uint64_t n = (v->end - v->start) / PG;
		fprintf(f, "%llx: flags %#x max %u obj %p off %#llx ", (unsigned long long)v->start, v->flags,
			v->max_prot, (void *)v->object, (unsigned long long)v->offset);
		uint8_t *vec = vmfx_mincore(fx, as, v->start, n);
		for (uint64_t i = 0; i < n; i++)
			fputc(vec[i] ? 'R' : '.', f);
		free(vec);
		fputc('\n', f);
	}
	struct vm_space_stats st;
	vm_space_get_stats(as, &st);
	fprintf(f, "brk %#llx..%#llx mapped %llu resident %llu vmas %llu dead %llu\n",
		(unsigned long long)as->start_brk, (unsigned long long)as->brk, (unsigned long long)as->mapped_pages,
		(unsigned long long)(st.resident_bytes / PG), (unsigned long long)st.vmas,
		(unsigned long long)as->dead_vmas);
	fclose(f);
	return text;
}

void vmfx_same_state(struct vmfx *fx, struct vm_space *as, const char *before, const char *what)
{
	char *now = vmfx_state(fx, as);
	if (strcmp(now, before) != 0) {
		fprintf(stderr, "==== state before %s ====\n%s==== state after ====\n%s", what, before, now);
		free(now);
		vmfx_fail(fx, "%s changed the space", what);
	}
	free(now);
}

uint64_t vmfx_vmas(struct vm_space *as)
{
	struct vm_space_stats st;
	vm_space_get_stats(as, &st);
	return st.vmas;
}

uint64_t vmfx_resident(struct vm_space *as)
{
	struct vm_space_stats st;
	vm_space_get_stats(as, &st);
	return st.resident_bytes / PG;
}

uint8_t *vmfx_mincore(struct vmfx *fx, struct vm_space *as, vaddr_t addr, uint64_t npages)
{
	uint8_t *vec = malloc(npages ? npages : 1);
	assert_non_null(vec);
	memset(vec, 0xee, npages);
	VMFX_RC(fx, vm_mincore(as, addr, npages * PG, vec), 0);
	for (uint64_t i = 0; i < npages; i++)
		if (vec[i] > 1)
			vmfx_fail(fx, "vm_mincore left vec[%llu] = %u", (unsigned long long)i, vec[i]);
	return vec;
}

vaddr_t vmfx_map(struct vmfx *fx, struct vm_space *as, vaddr_t hint, size_t len, unsigned prot, unsigned flags)
{
	vaddr_t out = 0;
	int rc = vm_map(as, hint, len, prot, flags, NULL, 0, VM_PROT_ALL, &out);
	if (rc)
		vmfx_fail(fx, "vm_map(%#llx, %#zx, prot %u, flags %#x): %s", (unsigned long long)hint, len, prot, flags,
			  mmk_strerror(rc));
	return out;
}

int vmfx_touch(struct vmfx *fx, unsigned cpu, vaddr_t va, unsigned access)
{
	return sim_access(fx->s.machine, cpu, va, access, true, NULL);
}

int vmfx_write8(struct vmfx *fx, unsigned cpu, vaddr_t va, uint8_t val)
{
	return sim_write(fx->s.machine, cpu, va, &val, 1, true);
}

int vmfx_read8(struct vmfx *fx, unsigned cpu, vaddr_t va, uint8_t *val)
{
	return sim_read(fx->s.machine, cpu, va, val, 1, true);
}
