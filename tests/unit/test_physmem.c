/*
 * test_physmem: every call and flag of mmk/physmem.h (seed 001's physmem)
 * on a booted PC: allocation as the fewest aligned power-of-two frames,
 * charges, partial and all-or-nothing, deallocation whole and in part
 * (freeing only what no other entry uses), shared and copy-on-write copies
 * (eager where they must be), release, read/write, maps with COW breaks,
 * deferred unmap, weak shares and their cancellation, pins, account
 * destruction.  Every refusal is checked for its exact error and for
 * nothing changed (contents, info, charges, free frames), and every step
 * runs physmem_check, acct_check and the VM checkers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pm_fixture.h"

#define RAM (64 * VMFX_MIB)

struct snap {
	struct container_info info;
	uint64_t charged, free;
	uint64_t words[64];
};

static uint64_t rd(struct pmfx *fx, struct container_ref r, uint64_t pg)
{
	uint64_t v = 0;
	PMFX_RC(fx, container_read(r, pg * PG + 8, &v, sizeof(v)), 0);
	return v;
}

static void wr(struct pmfx *fx, struct container_ref r, uint64_t pg, uint64_t v)
{
	PMFX_RC(fx, container_write(r, pg * PG + 8, &v, sizeof(v)), 0);
	pmfx_check(fx);
}

static struct snap take(struct pmfx *fx, struct container_ref r)
{
	struct snap s;
	memset(&s, 0, sizeof(s));
	PMFX_RC(fx, container_get_info(r, &s.info), 0);
	s.charged = pmfx_charged(fx->task);
	s.free = pmfx_free_frames(fx);
	for (uint64_t pg = 0; pg < 64; pg++)
		if (container_read(r, pg * PG + 8, &s.words[pg], 8))
			s.words[pg] = 0xab5e47ull;
	return s;
}

static void same(struct pmfx *fx, const struct snap *a, const struct snap *b)
{
	pmfx_check(fx);
	PMFX_EQ(fx, a->info.pages, b->info.pages);
	PMFX_EQ(fx, a->info.entries, b->info.entries);
	PMFX_EQ(fx, a->info.parked_pages, b->info.parked_pages);
	PMFX_EQ(fx, a->charged, b->charged);
	PMFX_EQ(fx, a->free, b->free);
	PMFX_TRUE(fx, memcmp(a->words, b->words, sizeof(a->words)) == 0);
}

static struct container_ref mk(struct pmfx *fx)
{
	struct container_ref r;
	PMFX_RC(fx, container_create(&fx->pm, fx->task, &r), 0);
	return r;
}

static uint64_t entries(struct pmfx *fx, struct container_ref r)
{
	struct container_info i;
	PMFX_RC(fx, container_get_info(r, &i), 0);
	return i.entries;
}

static void test_allocate(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct container_ref a = mk(&fx);
	uint64_t done = 0;
	/* 7 pages at page 0: frames of 4, 2 and 1 pages, aligned. */
	PMFX_RC(&fx, container_allocate(a, 0, 7, 0, &done), 0);
	PMFX_EQ(&fx, done, 7);
	PMFX_EQ(&fx, entries(&fx, a), 3);
	pfn_t pfn;
	PMFX_RC(&fx, container_frame_of(a, 0, &pfn), 0);
	PMFX_EQ(&fx, pfn & 3, 0);
	PMFX_EQ(&fx, pmfx_charged(fx.task), 7);
	pmfx_check(&fx);
	/* 6 pages at page 9: 1 + 2 + 2 + 1 by alignment. */
	PMFX_RC(&fx, container_allocate(a, 9 * PG, 6, 0, NULL), 0);
	PMFX_EQ(&fx, entries(&fx, a), 7);
	for (uint64_t pg = 0; pg < 15; pg++)
		if (pg < 7 || pg >= 9)
			PMFX_EQ(&fx, rd(&fx, a, pg), 0); /* zero-filled */
	/* Refusals, nothing changed. */
	struct snap s0 = take(&fx, a), s1;
	PMFX_RC(&fx, container_allocate(a, 6 * PG, 2, 0, NULL), -MMK_EEXIST);
	PMFX_RC(&fx, container_allocate(a, 100, 1, 0, NULL), -MMK_EINVAL);
	PMFX_RC(&fx, container_allocate(a, 20 * PG, 0, 0, NULL), -MMK_EINVAL);
	PMFX_RC(&fx, container_allocate(a, 20 * PG, 1, 0x80, NULL), -MMK_EINVAL);
	PMFX_RC(&fx, container_allocate(a, UINT64_MAX & ~MMK_PAGE_MASK, 2, 0, NULL), -MMK_EINVAL);
	PMFX_RC(&fx, container_allocate(a, 20 * PG, 5000, 0, NULL), -MMK_ENOMEM); /* over the guarantee */
	struct container_ref ro = a;
	ro.rights &= ~PM_ALLOC;
	PMFX_RC(&fx, container_allocate(ro, 20 * PG, 1, 0, NULL), -MMK_EPERM);
	s1 = take(&fx, a);
	same(&fx, &s0, &s1);
	/* Partial: as much of the guarantee as is left. */
	uint64_t left = 4096 - 13;
	PMFX_RC(&fx, container_allocate(a, 64 * PG, left + 100, PM_ALLOC_PARTIAL, &done), 0);
	PMFX_EQ(&fx, done, left);
	PMFX_EQ(&fx, pmfx_charged(fx.task), 4096);
	PMFX_RC(&fx, container_allocate(a, 10000 * PG, 1, PM_ALLOC_PARTIAL, &done), -MMK_ENOMEM);
	pmfx_check(&fx);
	/* DMA frames. */
	PMFX_RC(&fx, container_deallocate(a, 64 * PG, left * PG), 0);
	PMFX_RC(&fx, container_allocate(a, 32 * PG, 4, PM_ALLOC_DMA, NULL), 0);
	PMFX_RC(&fx, container_frame_of(a, 33 * PG, &pfn), 0);
	PMFX_TRUE(&fx, mmk_pfn_to_paddr(pfn) < MMK_ZONE_DMA_END);
	PMFX_RC(&fx, container_destroy(&a), 0);
	PMFX_EQ(&fx, pmfx_charged(fx.task), 0);
	pmfx_shutdown(&fx);
}

static void test_deallocate(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct container_ref a = mk(&fx);
	uint64_t free0 = pmfx_free_frames(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 16, 0, NULL), 0);
	for (uint64_t pg = 0; pg < 16; pg++)
		wr(&fx, a, pg, 100 + pg);
	struct snap s0 = take(&fx, a), s1;
	PMFX_RC(&fx, container_deallocate(a, 15 * PG, 2 * PG), -MMK_ENOENT); /* runs past the end */
	PMFX_RC(&fx, container_deallocate(a, 3, PG), -MMK_EINVAL);
	PMFX_RC(&fx, container_deallocate(a, 0, 0), -MMK_EINVAL);
	struct container_ref nd = a;
	nd.rights &= ~PM_DEALLOC;
	PMFX_RC(&fx, container_deallocate(nd, 0, PG), -MMK_EPERM);
	s1 = take(&fx, a);
	same(&fx, &s0, &s1);
	/* The middle of the one 16-page frame: it splits, pages 5..8 are freed. */
	uint64_t f1 = pmfx_free_frames(&fx);
	PMFX_RC(&fx, container_deallocate(a, 5 * PG, 4 * PG), 0);
	pmfx_check(&fx);
	PMFX_EQ(&fx, pmfx_free_frames(&fx), f1 + 4);
	PMFX_EQ(&fx, entries(&fx, a), 2);
	PMFX_EQ(&fx, pmfx_charged(fx.task), 12);
	for (uint64_t pg = 0; pg < 16; pg++)
		if (pg < 5 || pg >= 9)
			PMFX_EQ(&fx, rd(&fx, a, pg), 100 + pg);
	uint64_t v;
	PMFX_RC(&fx, container_read(a, 6 * PG, &v, 8), -MMK_ENOENT);
	PMFX_RC(&fx, container_deallocate(a, 4 * PG, 2 * PG), -MMK_ENOENT); /* page 5 is a hole */
	PMFX_RC(&fx, container_deallocate(a, 0, 5 * PG), 0);
	PMFX_RC(&fx, container_deallocate(a, 9 * PG, 7 * PG), 0);
	pmfx_check(&fx);
	PMFX_EQ(&fx, pmfx_free_frames(&fx), free0);
	PMFX_EQ(&fx, pmfx_charged(fx.task), 0);
	PMFX_RC(&fx, container_destroy(&a), 0);
	pmfx_shutdown(&fx);
}

static void test_partial_free_of_shared_frame(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct container_ref a = mk(&fx), b = mk(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 8, 0, NULL), 0); /* one order-3 frame */
	for (uint64_t pg = 0; pg < 8; pg++)
		wr(&fx, a, pg, 7 * pg + 1);
	PMFX_RC(&fx, container_copy(a, 2 * PG, b, 0, 2 * PG, PM_COPY_SHARED, NULL), 0);
	pmfx_check(&fx);
	PMFX_EQ(&fx, pmfx_charged(fx.task), 10);
	/* A goes; the frame keeps only pages 2 and 3, which B names. */
	PMFX_EQ(&fx, fx.pm.frame_pages, 8);
	PMFX_RC(&fx, container_deallocate(a, 0, 8 * PG), 0);
	pmfx_check(&fx);
	PMFX_EQ(&fx, fx.pm.frame_pages, 2); /* pages 0, 1, 4..7 went back */
	PMFX_EQ(&fx, rd(&fx, b, 0), 15);
	PMFX_EQ(&fx, rd(&fx, b, 1), 22);
	PMFX_RC(&fx, container_deallocate(b, PG, PG), 0);
	pmfx_check(&fx);
	PMFX_EQ(&fx, fx.pm.frame_pages, 1);
	PMFX_RC(&fx, container_destroy(&b), 0);
	PMFX_RC(&fx, container_destroy(&a), 0);
	PMFX_EQ(&fx, fx.pm.frame_pages, 0);
	pmfx_shutdown(&fx);
}

static void test_copy(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct container_ref a = mk(&fx), b = mk(&fx), c = mk(&fx), d = mk(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 4, 0, NULL), 0);
	for (uint64_t pg = 0; pg < 4; pg++)
		wr(&fx, a, pg, 1000 + pg);
	/* COW: b is a snapshot. */
	uint64_t done = 0;
	PMFX_RC(&fx, container_copy(a, 0, b, 0, 4 * PG, PM_COPY_COW, &done), 0);
	PMFX_EQ(&fx, done, 4);
	pfn_t pa, pb;
	PMFX_RC(&fx, container_frame_of(a, 0, &pa), 0);
	PMFX_RC(&fx, container_frame_of(b, 0, &pb), 0);
	PMFX_EQ(&fx, pa, pb); /* lazy: one frame */
	uint64_t breaks = fx.pm.cow_breaks;
	wr(&fx, a, 1, 5);
	PMFX_EQ(&fx, fx.pm.cow_breaks, breaks + 1);
	PMFX_EQ(&fx, rd(&fx, b, 1), 1001);
	wr(&fx, b, 2, 6);
	PMFX_EQ(&fx, rd(&fx, a, 2), 1002);
	/* Shared: c names a's frames; writes go both ways. */
	PMFX_RC(&fx, container_copy(a, 0, c, 8 * PG, 4 * PG, PM_COPY_SHARED, NULL), 0);
	pmfx_check(&fx);
	wr(&fx, a, 3, 77);
	PMFX_EQ(&fx, rd(&fx, c, 11), 77);
	PMFX_EQ(&fx, rd(&fx, b, 3), 1003); /* the snapshot did not move */
	wr(&fx, c, 8, 88);
	PMFX_EQ(&fx, rd(&fx, a, 0), 88);
	/* COW of a shared-writable frame is eager: d is a snapshot at once. */
	uint64_t eager = fx.pm.eager_copies;
	PMFX_RC(&fx, container_copy(c, 8 * PG, d, 0, 4 * PG, PM_COPY_COW, NULL), 0);
	PMFX_TRUE(&fx, fx.pm.eager_copies > eager);
	wr(&fx, a, 0, 99);
	PMFX_EQ(&fx, rd(&fx, c, 8), 99);
	PMFX_EQ(&fx, rd(&fx, d, 0), 88);
	/* Refusals. */
	struct snap s0 = take(&fx, d), s1;
	PMFX_RC(&fx, container_copy(a, 0, d, 0, PG, 0, NULL), -MMK_EEXIST);
	PMFX_RC(&fx, container_copy(a, 40 * PG, d, 40 * PG, PG, 0, NULL), -MMK_ENOENT);
	PMFX_RC(&fx, container_copy(d, 0, d, 2 * PG, 4 * PG, 0, NULL), -MMK_EINVAL); /* overlapping self copy */
	PMFX_RC(&fx, container_copy(a, 0, d, 40 * PG, PG, 0x10, NULL), -MMK_EINVAL);
	PMFX_RC(&fx, container_copy(a, 1, d, 40 * PG, PG, 0, NULL), -MMK_EINVAL);
	struct container_ref nt = a;
	nt.rights &= ~PM_TAKE;
	PMFX_RC(&fx, container_copy(nt, 0, d, 40 * PG, PG, PM_COPY_SHARED, NULL), -MMK_EPERM);
	PMFX_RC(&fx, container_copy(nt, 0, d, 40 * PG, PG, PM_COPY_COW, NULL), 0); /* COW needs only READ */
	PMFX_RC(&fx, container_deallocate(d, 40 * PG, PG), 0);
	s1 = take(&fx, d);
	same(&fx, &s0, &s1);
	/* A shared copy of COW frames gives the source its own first. */
	struct container_ref e = mk(&fx);
	PMFX_RC(&fx, container_copy(b, 0, e, 0, 4 * PG, PM_COPY_SHARED, NULL), 0);
	pmfx_check(&fx);
	wr(&fx, b, 0, 4242);
	PMFX_EQ(&fx, rd(&fx, e, 0), 4242);
	PMFX_EQ(&fx, rd(&fx, a, 0), 99);
	/* Self copy, non-overlapping. */
	PMFX_RC(&fx, container_copy(e, 0, e, 16 * PG, 4 * PG, PM_COPY_COW, NULL), 0);
	PMFX_EQ(&fx, rd(&fx, e, 16), 4242);
	pmfx_check(&fx);
	struct container_ref all[] = { a, b, c, d, e };
	for (unsigned i = 0; i < 5; i++)
		PMFX_RC(&fx, container_destroy(&all[i]), 0);
	pmfx_shutdown(&fx);
}

static void test_copy_partial(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 12);
	struct container_ref a = mk(&fx), b = mk(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 8, 0, NULL), 0);
	struct snap s0 = take(&fx, b), s1;
	PMFX_RC(&fx, container_copy(a, 0, b, 0, 8 * PG, PM_COPY_COW, NULL), -MMK_ENOMEM); /* 4 frames left */
	s1 = take(&fx, b);
	same(&fx, &s0, &s1);
	uint64_t done = 0;
	PMFX_RC(&fx, container_deallocate(a, 4 * PG, 4 * PG), 0);
	PMFX_RC(&fx, container_allocate(a, 4 * PG, 1, 0, NULL), 0);
	PMFX_RC(&fx, container_allocate(a, 5 * PG, 3, 0, NULL), 0);
	/* Pieces 4, 1, 3 pages; 4 frames of guarantee left: the first piece only. */
	PMFX_RC(&fx, container_copy(a, 0, b, 0, 8 * PG, PM_COPY_COW | PM_COPY_PARTIAL, &done), 0);
	PMFX_EQ(&fx, done, 4);
	PMFX_EQ(&fx, pmfx_charged(fx.task), 12);
	pmfx_check(&fx);
	PMFX_RC(&fx, container_destroy(&a), 0);
	PMFX_RC(&fx, container_destroy(&b), 0);
	pmfx_shutdown(&fx);
}

static void test_release(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct container_ref a = mk(&fx), b = mk(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 8, 0, NULL), 0);
	wr(&fx, a, 5, 55);
	PMFX_RC(&fx, container_copy(a, 0, b, 0, 8 * PG, PM_COPY_COW, NULL), 0);
	struct snap s0 = take(&fx, a), s1;
	PMFX_RC(&fx, container_release(a, 0, 16 * PG), -MMK_ENOENT);
	PMFX_RC(&fx, container_release(a, 1, PG), -MMK_EINVAL);
	struct container_ref na = a;
	na.rights &= ~PM_ALLOC;
	PMFX_RC(&fx, container_release(na, 0, PG), -MMK_EPERM);
	s1 = take(&fx, a);
	same(&fx, &s0, &s1);
	PMFX_RC(&fx, container_release(a, 0, 8 * PG), 0);
	pmfx_check(&fx);
	pfn_t pa, pb;
	PMFX_RC(&fx, container_frame_of(a, 5 * PG, &pa), 0);
	PMFX_RC(&fx, container_frame_of(b, 5 * PG, &pb), 0);
	PMFX_TRUE(&fx, pa != pb);
	PMFX_EQ(&fx, rd(&fx, a, 5), 55);
	uint64_t breaks = fx.pm.cow_breaks;
	wr(&fx, a, 5, 1); /* in place: no copy-on-write fault */
	PMFX_EQ(&fx, fx.pm.cow_breaks, breaks);
	PMFX_EQ(&fx, rd(&fx, b, 5), 55);
	/* Unshared pages are left as they are. */
	PMFX_RC(&fx, container_frame_of(a, 0, &pa), 0);
	PMFX_RC(&fx, container_release(a, 0, 8 * PG), 0);
	PMFX_RC(&fx, container_frame_of(a, 0, &pb), 0);
	PMFX_EQ(&fx, pa, pb);
	PMFX_RC(&fx, container_destroy(&a), 0);
	PMFX_RC(&fx, container_destroy(&b), 0);
	pmfx_shutdown(&fx);
}

static void test_read_write(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct container_ref a = mk(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 3, 0, NULL), 0);
	char buf[3 * 4096], back[3 * 4096];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	PMFX_RC(&fx, container_write(a, 100, buf, sizeof(buf) - 200), 0);
	PMFX_RC(&fx, container_read(a, 100, back, sizeof(buf) - 200), 0);
	PMFX_TRUE(&fx, memcmp(buf, back, sizeof(buf) - 200) == 0);
	PMFX_RC(&fx, container_read(a, 2 * PG, back, PG + 1), -MMK_ENOENT);
	PMFX_RC(&fx, container_write(a, 0, buf, 0), -MMK_EINVAL);
	struct container_ref nr = a;
	nr.rights &= ~(PM_READ | PM_WRITE);
	PMFX_RC(&fx, container_read(nr, 0, back, 1), -MMK_EPERM);
	PMFX_RC(&fx, container_write(nr, 0, buf, 1), -MMK_EPERM);
	PMFX_RC(&fx, container_destroy(&a), 0);
	pmfx_shutdown(&fx);
}

static void test_map(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct vm_space *as = vmfx_space(&fx.vm);
	vm_space_activate(as, 0);
	struct container_ref a = mk(&fx), b = mk(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 4, 0, NULL), 0);
	vaddr_t va;
	PMFX_RC(&fx, container_map(a, as, 0, 0, 8 * PG, VM_PROT_READ | VM_PROT_WRITE, 0, &va), 0);
	pmfx_check(&fx);
	uint64_t v = 0xfeed;
	PMFX_RC(&fx, sim_write(fx.vm.s.machine, 0, va + PG + 8, &v, 8, true), 0);
	pmfx_check(&fx);
	PMFX_EQ(&fx, rd(&fx, a, 1), 0xfeed);
	wr(&fx, a, 2, 0xbeef);
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, va + 2 * PG + 8, &v, 8, true), 0);
	PMFX_EQ(&fx, v, 0xbeef);
	/* A page not allocated faults (SIGBUS). */
	PMFX_TRUE(&fx, vmfx_touch(&fx.vm, 0, va + 5 * PG, VMFX_R) != 0);
	/* Rights bound the protection. */
	struct container_ref ro = a;
	ro.rights &= ~PM_WRITE;
	vaddr_t va2;
	PMFX_RC(&fx, container_map(ro, as, 0, 0, PG, VM_PROT_READ | VM_PROT_WRITE, 0, &va2), -MMK_EACCES);
	PMFX_RC(&fx, container_map(ro, as, 0, 0, PG, VM_PROT_READ, 0, &va2), 0);
	PMFX_RC(&fx, vm_protect(as, va2, PG, VM_PROT_READ | VM_PROT_WRITE), -MMK_EACCES);
	struct container_ref nm = a;
	nm.rights &= ~PM_MAP;
	PMFX_RC(&fx, container_map(nm, as, 0, 0, PG, VM_PROT_READ, 0, &va2), -MMK_EPERM);
	PMFX_RC(&fx, container_map(a, as, 0, 1, PG, VM_PROT_READ, 0, &va2), -MMK_EINVAL);
	PMFX_RC(&fx, vm_map(as, 0, PG, VM_PROT_READ, VM_MAP_PRIVATE, fx.pm.containers.next == NULL ? NULL : a.c->view.obj,
			    0, VM_PROT_ALL, &va2),
		-MMK_EINVAL); /* lent frames are never mapped private */
	/* COW through maps: a read maps the shared page read-only, a write copies it. */
	PMFX_RC(&fx, container_copy(a, 0, b, 0, 4 * PG, PM_COPY_COW, NULL), 0);
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, va + 2 * PG + 8, &v, 8, true), 0);
	pmfx_check(&fx);
	paddr_t pa;
	unsigned bits;
	PMFX_RC(&fx, pmap_extract(&as->pmap, va + 2 * PG, &pa, &bits), 0);
	PMFX_TRUE(&fx, !(bits & PMAP_PROT_WRITE));
	v = 0x1234;
	PMFX_RC(&fx, sim_write(fx.vm.s.machine, 0, va + 2 * PG + 8, &v, 8, true), 0);
	pmfx_check(&fx);
	PMFX_EQ(&fx, rd(&fx, b, 2), 0xbeef);
	PMFX_EQ(&fx, rd(&fx, a, 2), 0x1234);
	/* Deallocating a writably mapped page unmaps it at once. */
	PMFX_RC(&fx, container_deallocate(a, 0, 4 * PG), 0);
	pmfx_check(&fx);
	PMFX_RC(&fx, pmap_extract(&as->pmap, va + PG, &pa, &bits), -MMK_ENOENT);
	PMFX_TRUE(&fx, vmfx_touch(&fx.vm, 0, va + PG, VMFX_R) != 0);
	PMFX_RC(&fx, container_destroy(&a), 0);
	PMFX_RC(&fx, container_destroy(&b), 0);
	pmfx_check(&fx);
	/* The VMAs outlive the container: faults on them are refused. */
	PMFX_TRUE(&fx, vmfx_touch(&fx.vm, 0, va, VMFX_R) != 0);
	pmfx_shutdown(&fx);
}

/* physmem.c point 5: a read-only translation of a deallocated page whose
 * frame page nobody else names stays until the page is reused. */
static void test_deferred_unmap(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct vm_space *as = vmfx_space(&fx.vm);
	vm_space_activate(as, 0);
	struct container_ref a = mk(&fx), b = mk(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 2, 0, NULL), 0);
	PMFX_RC(&fx, container_allocate(a, 2 * PG, 2, 0, NULL), 0);
	wr(&fx, a, 0, 31);
	wr(&fx, a, 1, 32);
	vaddr_t ro, rw;
	PMFX_RC(&fx, container_map(a, as, 0, 0, 4 * PG, VM_PROT_READ, 0, &ro), 0);
	PMFX_RC(&fx, container_map(a, as, 0, 0, 4 * PG, VM_PROT_READ | VM_PROT_WRITE, 0, &rw), 0);
	uint64_t v;
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, ro + 8, &v, 8, true), 0);       /* page 0: read-only only */
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, ro + PG + 8, &v, 8, true), 0);  /* page 1: both */
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, rw + PG + 8, &v, 8, true), 0);
	/* Page 3 is also named by b: never parked. */
	PMFX_RC(&fx, container_copy(a, 2 * PG, b, 0, 2 * PG, PM_COPY_SHARED, NULL), 0);
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, ro + 3 * PG, &v, 8, true), 0);
	pmfx_check(&fx);
	PMFX_RC(&fx, container_deallocate(a, 0, 4 * PG), 0);
	pmfx_check(&fx);
	PMFX_EQ(&fx, pmfx_charged(fx.task), 2); /* b's two pages; a's charge is back */
	paddr_t pa;
	unsigned bits;
	/* Page 0: parked, still mapped read-only, still reading what it read. */
	PMFX_RC(&fx, pmap_extract(&as->pmap, ro, &pa, &bits), 0);
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, ro + 8, &v, 8, true), 0);
	PMFX_EQ(&fx, v, 31);
	/* Page 1 was writable elsewhere: gone everywhere it was writable. */
	PMFX_RC(&fx, pmap_extract(&as->pmap, rw + PG, &pa, &bits), -MMK_ENOENT);
	/* Page 3 is b's too: its translation went. */
	PMFX_RC(&fx, pmap_extract(&as->pmap, ro + 3 * PG, &pa, &bits), -MMK_ENOENT);
	struct container_info info;
	PMFX_RC(&fx, container_get_info(a, &info), 0);
	PMFX_TRUE(&fx, info.parked_pages >= 1);
	PMFX_EQ(&fx, info.pages, 0);
	/* A write through the writable map of a parked page is refused. */
	PMFX_TRUE(&fx, vmfx_touch(&fx.vm, 0, rw, VMFX_W) != 0);
	PMFX_RC(&fx, pmap_extract(&as->pmap, ro, &pa, &bits), 0);
	/* Reuse of the offset ends the deferral: the new page reads zero. */
	PMFX_RC(&fx, container_allocate(a, 0, 1, 0, NULL), 0);
	pmfx_check(&fx);
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, ro + 8, &v, 8, true), 0);
	PMFX_EQ(&fx, v, 0);
	PMFX_RC(&fx, container_deallocate(a, 0, PG), 0);
	/* physmem_flush_deferred frees what is still parked. */
	physmem_flush_deferred(&fx.pm);
	pmfx_check(&fx);
	PMFX_RC(&fx, container_get_info(a, &info), 0);
	PMFX_EQ(&fx, info.parked_pages, 0);
	PMFX_RC(&fx, container_destroy(&b), 0);
	PMFX_RC(&fx, container_destroy(&a), 0);
	pmfx_shutdown(&fx); /* leak baseline */
}

static void test_weak_share(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct vm_space *client = vmfx_space(&fx.vm), *server = vmfx_space(&fx.vm);
	struct container_ref a = mk(&fx), weak;
	struct container_share *share;
	PMFX_RC(&fx, container_allocate(a, 0, 2, 0, NULL), 0);
	PMFX_RC(&fx, container_share(a, PM_ALLOC, &share, &weak), -MMK_EINVAL);
	PMFX_RC(&fx, container_share(a, 0, &share, &weak), -MMK_EINVAL);
	struct container_ref ns = a;
	ns.rights &= ~PM_SHARE;
	PMFX_RC(&fx, container_share(ns, PM_READ, &share, &weak), -MMK_EPERM);
	PMFX_RC(&fx, container_share(a, PM_RIGHTS_WEAK, &share, &weak), 0);
	/* The server reads, writes, maps; never allocates, frees or takes. */
	struct snap s0 = take(&fx, a), s1;
	PMFX_RC(&fx, container_allocate(weak, 8 * PG, 1, 0, NULL), -MMK_EPERM);
	PMFX_RC(&fx, container_deallocate(weak, 0, PG), -MMK_EPERM);
	PMFX_RC(&fx, container_release(weak, 0, PG), -MMK_EPERM);
	PMFX_RC(&fx, container_copy(weak, 0, a, 8 * PG, PG, PM_COPY_SHARED, NULL), -MMK_EPERM);
	struct container_share *s2;
	struct container_ref w2;
	PMFX_RC(&fx, container_share(weak, PM_READ, &s2, &w2), -MMK_EPERM);
	struct container_ref dup;
	PMFX_RC(&fx, container_ref_dup(weak, &dup), -MMK_EPERM);
	PMFX_RC(&fx, container_destroy(&weak), -MMK_EINVAL);
	struct container_ref forged = weak;
	forged.rights = PM_RIGHTS_ALL; /* rights beyond the share's are not honoured */
	PMFX_RC(&fx, container_deallocate(forged, 0, PG), -MMK_EPERM);
	s1 = take(&fx, a);
	same(&fx, &s0, &s1);
	vm_space_activate(server, 0);
	vaddr_t sva, cva;
	PMFX_RC(&fx, container_map(weak, server, 0, 0, 2 * PG, VM_PROT_READ | VM_PROT_WRITE, 0, &sva), 0);
	uint64_t v = 0x5e5e;
	PMFX_RC(&fx, sim_write(fx.vm.s.machine, 0, sva + 8, &v, 8, true), 0);
	wr(&fx, weak, 1, 0x6e6e);
	pmfx_check(&fx);
	vm_space_activate(client, 0);
	PMFX_RC(&fx, container_map(a, client, 0, 0, 2 * PG, VM_PROT_READ, 0, &cva), 0);
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, cva + 8, &v, 8, true), 0);
	PMFX_EQ(&fx, v, 0x5e5e);
	PMFX_RC(&fx, sim_read(fx.vm.s.machine, 0, cva + PG + 8, &v, 8, true), 0);
	PMFX_EQ(&fx, v, 0x6e6e);
	/* Cancel: the server's maps go, its calls fail; the client keeps its own. */
	PMFX_RC(&fx, container_share_cancel(share), 0);
	pmfx_check(&fx);
	paddr_t pa;
	unsigned bits;
	PMFX_RC(&fx, pmap_extract(&server->pmap, sva, &pa, &bits), -MMK_ENOENT);
	PMFX_RC(&fx, pmap_extract(&client->pmap, cva, &pa, &bits), 0);
	PMFX_RC(&fx, container_read(weak, 0, &v, 8), -MMK_EIDRM);
	PMFX_RC(&fx, container_map(weak, server, 0, 0, PG, VM_PROT_READ, 0, &sva), -MMK_EIDRM);
	vm_space_activate(server, 0);
	PMFX_TRUE(&fx, vmfx_touch(&fx.vm, 0, sva, VMFX_R) != 0);
	container_ref_put(&weak);
	PMFX_EQ(&fx, kmem_cache_live(&fx.pm.share_cache), 0);
	/* A share outlives its container's death: calls are -MMK_EIDRM. */
	PMFX_RC(&fx, container_share(a, PM_READ, &share, &weak), 0);
	PMFX_RC(&fx, container_destroy(&a), 0);
	PMFX_RC(&fx, container_read(weak, 0, &v, 8), -MMK_EIDRM);
	container_ref_put(&weak);
	PMFX_RC(&fx, container_share_cancel(share), 0);
	pmfx_shutdown(&fx);
}

static void test_pin(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct container_ref a = mk(&fx);
	PMFX_RC(&fx, container_allocate(a, 0, 4, 0, NULL), 0);
	physmem_set_time(&fx.pm, 100);
	paddr_t pas[2];
	PMFX_RC(&fx, container_pin(a, 0, 2 * PG, 100, pas), -MMK_EINVAL);                     /* not in the future */
	PMFX_RC(&fx, container_pin(a, 0, 2 * PG, 101 + PM_PIN_MAX_TICKS, pas), -MMK_EINVAL); /* too long */
	PMFX_RC(&fx, container_pin(a, 8 * PG, PG, 200, pas), -MMK_ENOENT);
	struct container_ref nm = a;
	nm.rights &= ~PM_MAP;
	PMFX_RC(&fx, container_pin(nm, 0, PG, 200, pas), -MMK_EPERM);
	PMFX_RC(&fx, container_pin(a, 0, 2 * PG, 200, pas), 0);
	pfn_t pfn;
	PMFX_RC(&fx, container_frame_of(a, PG, &pfn), 0);
	PMFX_EQ(&fx, pas[1], mmk_pfn_to_paddr(pfn));
	PMFX_RC(&fx, container_deallocate(a, 0, PG), -MMK_EBUSY);
	PMFX_RC(&fx, container_release(a, 0, PG), -MMK_EBUSY);
	physmem_set_time(&fx.pm, 150);
	physmem_set_time(&fx.pm, 120); /* time does not go back */
	PMFX_RC(&fx, container_deallocate(a, 0, PG), -MMK_EBUSY);
	physmem_set_time(&fx.pm, 200); /* lapsed by itself */
	PMFX_RC(&fx, container_deallocate(a, 0, PG), 0);
	PMFX_RC(&fx, container_pin(a, PG, PG, 300, NULL), 0);
	PMFX_RC(&fx, container_unpin(a, PG, PG), 0);
	PMFX_RC(&fx, container_deallocate(a, PG, PG), 0);
	pmfx_check(&fx);
	PMFX_RC(&fx, container_destroy(&a), 0);
	pmfx_shutdown(&fx);
}

static void test_account_destroy(void **state)
{
	(void)state;
	struct pmfx fx;
	pmfx_boot(&fx, RAM, 4096);
	struct mmk_account *child;
	PMFX_RC(&fx, acct_split(fx.task, 64, "child", &child), 0);
	struct vm_space *as = vmfx_space(&fx.vm);
	vm_space_activate(as, 0);
	struct container_ref a, dup;
	PMFX_RC(&fx, container_create(&fx.pm, child, &a), 0);
	PMFX_RC(&fx, container_ref_dup(a, &dup), 0);
	PMFX_RC(&fx, container_allocate(a, 0, 16, 0, NULL), 0);
	vaddr_t va;
	PMFX_RC(&fx, container_map(a, as, 0, 0, 16 * PG, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_POPULATE, &va), 0);
	pmfx_check(&fx);
	PMFX_RC(&fx, acct_destroy(child), 0); /* seed 001: frames implicitly deallocated */
	pmfx_check(&fx);
	PMFX_TRUE(&fx, vmfx_touch(&fx.vm, 0, va, VMFX_R) != 0);
	PMFX_RC(&fx, container_allocate(a, 0, 1, 0, NULL), -MMK_EIDRM);
	uint64_t v;
	PMFX_RC(&fx, container_read(dup, 0, &v, 8), -MMK_EIDRM);
	PMFX_RC(&fx, container_destroy(&dup), 0);
	PMFX_RC(&fx, container_destroy(&a), 0);
	PMFX_RC(&fx, container_create(&fx.pm, child, &a), -MMK_EIDRM);
	PMFX_EQ(&fx, fx.pm.frame_pages, 0);
	pmfx_shutdown(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocate),
		cmocka_unit_test(test_deallocate),
		cmocka_unit_test(test_partial_free_of_shared_frame),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_copy_partial),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_deferred_unmap),
		cmocka_unit_test(test_weak_share),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_account_destroy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
