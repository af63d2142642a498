/*
 * test_vm_shared_reclaim: issue 3 items 4 to 6 across address spaces, with
 * real bytes.
 *   - Attribution: RSS, PSS, USS per space as smaps counts them, and the
 *     identity sum(PSS) + page cache == user frames after every step
 *     (private, copy-on-write, shared anonymous and file pages, PROT_NONE,
 *     munmap leaving page cache, exit).
 *   - Reclaim of shared pages: MAP_SHARED file pages (a real file through
 *     the hosted file pager) and shared anonymous pages (swap pager) mapped
 *     in two spaces are taken from both, written back or paged out, and
 *     fault back with their bytes in both; refused write-backs and
 *     page-outs leave everything resident, mapped and unchanged.
 *   - Page cache first: pages no translation maps go before any mapped one.
 *   - msync from one space writes pages dirtied through another space, and
 *     a page whose write-back failed at munmap stays dirty in the object.
 *   - A small machine: shared anonymous memory bigger than RAM, written in
 *     one space and read in the other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mmk/errno.h>

#include "file_pager.h"
#include "sim.h"
#include "swap_fixture.h"
#include "vm_fixture.h"

#define BASE ((vaddr_t)0x40000000ull)
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define FILE_PAGES 8u
#define HUGE_TARGET (1ull << 40)

struct fixture {
	struct vmfx fx;
	struct test_swap swap;
	char path[64];
	struct sim_file_pager fp;
	struct vm_object *file, *shm;
};

static uint8_t file_pat(uint64_t off) { return (uint8_t)(off * 13 + 5); }

static void boot(struct fixture *f, uint64_t ram, uint64_t watermark)
{
	vmfx_boot(&f->fx, ram, 1);
	test_swap_init(&f->swap, 1u << 15);
	struct vm_pager p = test_swap_pager(&f->swap);
	vm_system_set_swap(&f->fx.s.vm, &p, watermark);
	snprintf(f->path, sizeof(f->path), "/tmp/mmk-shrec-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	uint8_t buf[FILE_PAGES * 4096];
	for (uint64_t i = 0; i < sizeof(buf); i++)
		buf[i] = file_pat(i);
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	assert_int_equal(sim_file_pager_open(&f->fp, f->path, true), 0);
	assert_int_equal(vm_object_create(&f->fx.s.vm, VM_OBJECT_FILE, f->path, &f->file), 0);
	struct vm_file_pager ops = sim_file_pager_ops(&f->fp);
	vm_object_set_pager(f->file, &ops);
	assert_int_equal(vm_object_create(&f->fx.s.vm, VM_OBJECT_ANON, "/dev/shm/x", &f->shm), 0);
	f->fx.held[0] = f->file;
	f->fx.held[1] = f->shm;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	boot(f, 64 * VMFX_MIB, 0);
	*state = f;
	return 0;
}

static int setup_small(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	boot(f, 32 * VMFX_MIB, 256); /* about 6,000 frames for users */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	f->fx.held[0] = f->fx.held[1] = NULL;
	vm_object_release(&f->fx.s.vm, f->file);
	vm_object_release(&f->fx.s.vm, f->shm);
	vmfx_shutdown(&f->fx);
	assert_int_equal(f->swap.used, 0);
	test_swap_free(&f->swap);
	sim_file_pager_close(&f->fp);
	unlink(f->path);
	free(f);
	return 0;
}

/* sum(PSS) + page cache == user frames, the sum made here from each
 * space's figures; and vm_system_attribution's total is that sum. */
static void check_identity(struct vmfx *fx)
{
	struct vm_system_attribution sa;
	vm_system_attribution(&fx->s.vm, &sa);
	uint64_t scaled = 0;
	for (int i = 0; i < VMFX_MAX_SPACES; i++) {
		if (!fx->spaces[i])
			continue;
		struct vm_attribution a;
		vm_space_attribution(fx->spaces[i], &a);
		VMFX_EQ(fx, a.pss_bytes, a.pss_scaled >> VM_PSS_SHIFT);
		VMFX_TRUE(fx, a.uss_bytes <= a.pss_bytes && a.pss_bytes <= a.rss_bytes);
		scaled += a.pss_scaled;
	}
	const uint64_t frame = (uint64_t)PG << VM_PSS_SHIFT;
	uint64_t pss = (scaled + frame / 2) / frame * PG;
	VMFX_EQ(fx, sa.user_frames_bytes, fx->s.vm.user_frames * PG);
	VMFX_EQ(fx, sa.pss_bytes_total, pss);
	VMFX_EQ(fx, pss + sa.page_cache_bytes + sa.anon_unmapped_bytes, sa.user_frames_bytes);
	vmfx_check(fx);
}

static void attrib_is(struct vmfx *fx, struct vm_space *as, uint64_t rss, uint64_t pss, uint64_t uss)
{
	struct vm_attribution a;
	vm_space_attribution(as, &a);
	VMFX_EQ(fx, a.rss_bytes, rss);
	VMFX_EQ(fx, a.pss_bytes, pss);
	VMFX_EQ(fx, a.uss_bytes, uss);
}

static struct vm_system_attribution sys_attrib(struct vmfx *fx)
{
	struct vm_system_attribution sa;
	vm_system_attribution(&fx->s.vm, &sa);
	return sa;
}

static void put(struct vmfx *fx, struct vm_space *as, vaddr_t va, uint8_t b)
{
	vm_space_activate(as, 0);
	VMFX_RC(fx, vmfx_write8(fx, 0, va, b), 0);
}

static uint8_t get(struct vmfx *fx, struct vm_space *as, vaddr_t va)
{
	uint8_t b = 0;
	vm_space_activate(as, 0);
	VMFX_RC(fx, vmfx_read8(fx, 0, va, &b), 0);
	return b;
}

static uint8_t file_byte(struct fixture *f, uint64_t off)
{
	uint8_t b = 0;
	assert_int_equal(pread(f->fp.fd, &b, 1, (off_t)off), 1);
	return b;
}

static void map_obj(struct vmfx *fx, struct vm_space *as, vaddr_t va, uint64_t npages, unsigned prot,
		    unsigned type, struct vm_object *obj, uint64_t pgoff)
{
	vaddr_t out;
	VMFX_RC(fx, vm_map(as, va, npages * PG, prot, type | VM_MAP_FIXED, obj, pgoff * PG, VM_PROT_ALL, &out), 0);
}

static void test_attribution_identity(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct vm_space *a = vmfx_space(fx);
	vmfx_op(fx, "private pages: all unique");
	vmfx_map(fx, a, BASE, 4 * PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	for (unsigned i = 0; i < 4; i++)
		put(fx, a, BASE + i * PG, (uint8_t)i);
	attrib_is(fx, a, 4 * PG, 4 * PG, 4 * PG);
	check_identity(fx);
	vmfx_op(fx, "shared anonymous pages");
	map_obj(fx, a, BASE + 16 * PG, 2, RW, VM_MAP_SHARED, f->shm, 0);
	put(fx, a, BASE + 16 * PG, 1);
	put(fx, a, BASE + 17 * PG, 2);
	attrib_is(fx, a, 6 * PG, 6 * PG, 6 * PG);
	check_identity(fx);
	vmfx_op(fx, "fork: every page counted half in each space");
	struct vm_space *b;
	VMFX_RC(fx, vm_space_fork(a, &b), 0);
	vmfx_adopt(fx, b);
	attrib_is(fx, a, 6 * PG, 3 * PG, 0);
	attrib_is(fx, b, 6 * PG, 3 * PG, 0);
	VMFX_EQ(fx, sys_attrib(fx).shared_frames_saved, 6);
	check_identity(fx);
	vmfx_op(fx, "a copy-on-write copy");
	put(fx, b, BASE, 9);
	attrib_is(fx, a, 6 * PG, PG + 5 * PG / 2, PG);
	attrib_is(fx, b, 6 * PG, PG + 5 * PG / 2, PG);
	VMFX_EQ(fx, sys_attrib(fx).shared_frames_saved, 5);
	check_identity(fx);
	vmfx_op(fx, "a third mapping of a shared page: thirds");
	map_obj(fx, a, BASE + 24 * PG, 1, VM_PROT_READ, VM_MAP_SHARED, f->shm, 0);
	VMFX_EQ(fx, get(fx, a, BASE + 24 * PG), 1);
	check_identity(fx);
	VMFX_EQ(fx, sys_attrib(fx).shared_frames_saved, 6);
	vmfx_op(fx, "PROT_NONE pages still hold their frames (smaps counts them)");
	VMFX_RC(fx, vm_protect(a, BASE, 4 * PG, VM_PROT_NONE), 0);
	check_identity(fx);
	vmfx_op(fx, "munmap of a file mapping leaves page cache");
	map_obj(fx, a, BASE + 32 * PG, 3, VM_PROT_READ, VM_MAP_PRIVATE, f->file, 0);
	for (unsigned i = 0; i < 3; i++)
		VMFX_EQ(fx, get(fx, a, BASE + 32 * PG + i * PG + 7), file_pat(i * PG + 7));
	VMFX_EQ(fx, sys_attrib(fx).page_cache_bytes, 0);
	check_identity(fx);
	VMFX_RC(fx, vm_unmap(a, BASE + 32 * PG, 3 * PG), 0);
	VMFX_EQ(fx, sys_attrib(fx).page_cache_bytes, 3 * PG);
	check_identity(fx);
	vmfx_op(fx, "exit: shared anonymous pages stay as page cache of their object");
	vmfx_destroy(fx, b);
	vmfx_destroy(fx, a);
	VMFX_EQ(fx, sys_attrib(fx).pss_bytes_total, 0);
	VMFX_EQ(fx, sys_attrib(fx).page_cache_bytes, 5 * PG);
	check_identity(fx);
	vmfx_op(fx, "a copy-on-write page brought back from swap by the child only");
	struct vm_space *c = vmfx_space(fx), *d;
	vmfx_map(fx, c, BASE, PG, RW, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_FIXED);
	put(fx, c, BASE, 0x33);
	vm_reclaim(&fx->s.vm, NULL, HUGE_TARGET);
	VMFX_EQ(fx, fx->s.vm.user_frames, 0);
	VMFX_RC(fx, vm_space_fork(c, &d), 0);
	vmfx_adopt(fx, d);
	VMFX_EQ(fx, get(fx, d, BASE), 0x33);
	check_identity(fx);
	vmfx_destroy(fx, d);
	VMFX_EQ(fx, sys_attrib(fx).anon_unmapped_bytes, PG);
	VMFX_EQ(fx, sys_attrib(fx).pss_bytes_total, 0);
	check_identity(fx);
	VMFX_EQ(fx, get(fx, c, BASE), 0x33);
	VMFX_EQ(fx, sys_attrib(fx).anon_unmapped_bytes, 0);
	attrib_is(fx, c, PG, PG, PG);
	check_identity(fx);
}

/* A and B map the file (B one page further in) and the shm object, and
 * write a pattern through both. */
struct two {
	struct vm_space *a, *b;
};

static struct two two_spaces_writing(struct fixture *f)
{
	struct vmfx *fx = &f->fx;
	struct two t = { vmfx_space(fx), vmfx_space(fx) };
	map_obj(fx, t.a, BASE, 4, RW, VM_MAP_SHARED, f->file, 0);
	map_obj(fx, t.a, BASE + 16 * PG, 4, RW, VM_MAP_SHARED, f->shm, 0);
	map_obj(fx, t.b, BASE + 64 * PG, 3, RW, VM_MAP_SHARED, f->file, 1);
	map_obj(fx, t.b, BASE + 80 * PG, 4, RW, VM_MAP_SHARED, f->shm, 0);
	for (unsigned i = 0; i < 4; i++) {
		put(fx, t.a, BASE + i * PG + 100, (uint8_t)(0xa0 + i));
		put(fx, t.a, BASE + 16 * PG + i * PG + 200, (uint8_t)(0xc0 + i));
		put(fx, t.b, BASE + 80 * PG + i * PG + 300, (uint8_t)(0xd0 + i));
	}
	put(fx, t.b, BASE + 64 * PG + 2 * PG + 400, 0xee); /* file page 3 */
	for (unsigned i = 1; i < 4; i++)
		VMFX_EQ(fx, get(fx, t.b, BASE + 64 * PG + (i - 1) * PG + 100), 0xa0 + i);
	VMFX_EQ(fx, get(fx, t.a, BASE + 3 * PG + 400), 0xee);
	return t;
}

static void expect_pattern(struct fixture *f, struct two t)
{
	struct vmfx *fx = &f->fx;
	for (unsigned i = 0; i < 4; i++) {
		VMFX_EQ(fx, get(fx, t.a, BASE + i * PG + 100), 0xa0 + i);
		VMFX_EQ(fx, get(fx, t.a, BASE + 16 * PG + i * PG + 200), 0xc0 + i);
		VMFX_EQ(fx, get(fx, t.b, BASE + 80 * PG + i * PG + 200), 0xc0 + i);
		VMFX_EQ(fx, get(fx, t.a, BASE + 16 * PG + i * PG + 300), 0xd0 + i);
		VMFX_EQ(fx, get(fx, t.a, BASE + i * PG + 5), file_pat(i * PG + 5));
	}
	for (unsigned i = 1; i < 4; i++)
		VMFX_EQ(fx, get(fx, t.b, BASE + 64 * PG + (i - 1) * PG + 100), 0xa0 + i);
	VMFX_EQ(fx, get(fx, t.b, BASE + 64 * PG + 2 * PG + 400), 0xee);
	VMFX_EQ(fx, get(fx, t.a, BASE + 3 * PG + 400), 0xee);
}

static void test_shared_pages_reclaimed_from_both_spaces(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct two t = two_spaces_writing(f);
	check_identity(fx);
	uint64_t frames = fx->s.vm.user_frames, outs = fx->s.vm.page_outs, ins = fx->s.vm.page_ins;
	VMFX_EQ(fx, frames, 8);
	vmfx_op(fx, "an unbounded reclaim takes the 8 shared pages from both spaces");
	VMFX_EQ(fx, vm_reclaim(&fx->s.vm, NULL, HUGE_TARGET), 8);
	VMFX_EQ(fx, fx->s.vm.user_frames, 0);
	VMFX_EQ(fx, vmfx_resident(t.a), 0);
	VMFX_EQ(fx, vmfx_resident(t.b), 0);
	VMFX_EQ(fx, fx->s.vm.page_outs - outs, 4); /* the shm pages went to swap */
	VMFX_EQ(fx, f->swap.used, 4);
	VMFX_EQ(fx, f->fx.s.vm.file_page_outs, 4);
	for (unsigned i = 0; i < 4; i++) /* dirty file pages were written back first */
		VMFX_EQ(fx, file_byte(f, i * PG + 100), 0xa0 + i);
	VMFX_EQ(fx, file_byte(f, 3 * PG + 400), 0xee);
	check_identity(fx);
	vmfx_op(fx, "faults bring every page back, with its bytes, in both spaces");
	expect_pattern(f, t);
	VMFX_EQ(fx, fx->s.vm.page_ins - ins, 4);
	VMFX_EQ(fx, f->swap.used, 0);
	check_identity(fx);
}

static void test_refused_write_leaves_pages_mapped(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct two t = two_spaces_writing(f);
	/* Clear the accessed bits first, so the refused pass gets to the
	 * pagers (and the bits are not what keeps the pages). */
	f->fp.fail_next_write = 1000;
	f->swap.refuse_out = true;
	VMFX_EQ(fx, vm_reclaim(&fx->s.vm, NULL, HUGE_TARGET), 0);
	char *sa = vmfx_state(fx, t.a), *sb = vmfx_state(fx, t.b);
	uint64_t frames = fx->s.vm.user_frames, wb = f->file->writebacks;
	vmfx_op(fx, "write-backs and page-outs refused: nothing changes");
	VMFX_EQ(fx, vm_reclaim(&fx->s.vm, NULL, HUGE_TARGET), 0);
	vmfx_same_state(fx, t.a, sa, "reclaim refused by both pagers");
	vmfx_same_state(fx, t.b, sb, "reclaim refused by both pagers");
	free(sa);
	free(sb);
	VMFX_EQ(fx, fx->s.vm.user_frames, frames);
	VMFX_EQ(fx, f->file->writebacks, wb);
	VMFX_EQ(fx, f->swap.used, 0);
	VMFX_EQ(fx, file_byte(f, 100), file_pat(100));
	check_identity(fx);
	vmfx_op(fx, "the pages are still dirty: msync writes them once the file takes writes");
	f->fp.fail_next_write = 0;
	f->swap.refuse_out = false;
	VMFX_RC(fx, vm_msync(t.a, BASE, 4 * PG, VM_MS_SYNC), 0);
	for (unsigned i = 0; i < 4; i++)
		VMFX_EQ(fx, file_byte(f, i * PG + 100), 0xa0 + i);
	VMFX_EQ(fx, file_byte(f, 3 * PG + 400), 0xee);
	expect_pattern(f, t);
	check_identity(fx);
}

static void test_page_cache_goes_first(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct vm_space *a = vmfx_space(fx), *b = vmfx_space(fx);
	map_obj(fx, a, BASE, FILE_PAGES, VM_PROT_READ, VM_MAP_SHARED, f->file, 0);
	map_obj(fx, b, BASE, 4, VM_PROT_READ, VM_MAP_PRIVATE, f->file, 0);
	for (unsigned i = 0; i < FILE_PAGES; i++)
		VMFX_EQ(fx, get(fx, a, BASE + i * PG), file_pat(i * PG));
	for (unsigned i = 0; i < 4; i++)
		VMFX_EQ(fx, get(fx, b, BASE + i * PG + 1), file_pat(i * PG + 1));
	VMFX_RC(fx, vm_unmap(a, BASE, FILE_PAGES * PG), 0);
	VMFX_EQ(fx, sys_attrib(fx).page_cache_bytes, 4 * PG);
	check_identity(fx);
	vmfx_op(fx, "reclaim takes the 4 unmapped pages before any mapped one");
	VMFX_EQ(fx, vm_reclaim(&fx->s.vm, NULL, 4), 4);
	VMFX_EQ(fx, sys_attrib(fx).page_cache_bytes, 0);
	VMFX_EQ(fx, vmfx_resident(b), 4);
	VMFX_EQ(fx, fx->s.vm.user_frames, 4);
	check_identity(fx);
	vmfx_op(fx, "they read back from the file");
	map_obj(fx, a, BASE, FILE_PAGES, VM_PROT_READ, VM_MAP_SHARED, f->file, 0);
	for (unsigned i = 0; i < FILE_PAGES; i++)
		VMFX_EQ(fx, get(fx, a, BASE + i * PG + 3), file_pat(i * PG + 3));
	VMFX_EQ(fx, fx->s.vm.user_frames, FILE_PAGES);
	check_identity(fx);
}

static void test_msync_writes_pages_dirtied_elsewhere(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct vm_space *a = vmfx_space(fx), *b = vmfx_space(fx);
	map_obj(fx, a, BASE, 4, RW, VM_MAP_SHARED, f->file, 0);
	map_obj(fx, b, BASE + 8 * PG, 4, RW, VM_MAP_SHARED, f->file, 0);
	VMFX_EQ(fx, get(fx, a, BASE + PG), file_pat(PG));
	vmfx_op(fx, "B writes, A's msync writes it");
	put(fx, b, BASE + 8 * PG + PG + 9, 0x5c);
	VMFX_EQ(fx, file_byte(f, PG + 9), file_pat(PG + 9));
	VMFX_RC(fx, vm_msync(a, BASE, 4 * PG, VM_MS_SYNC), 0);
	VMFX_EQ(fx, file_byte(f, PG + 9), 0x5c);
	VMFX_EQ(fx, f->file->writebacks, 1);
	vmfx_op(fx, "clean in every mapping now");
	VMFX_RC(fx, vm_msync(b, BASE + 8 * PG, 4 * PG, VM_MS_SYNC), 0);
	VMFX_RC(fx, vm_msync(a, BASE, 4 * PG, VM_MS_ASYNC), 0);
	VMFX_EQ(fx, f->file->writebacks, 1);
	vmfx_op(fx, "a write-back failing at munmap keeps the page dirty in the object");
	put(fx, a, BASE + 2 * PG + 3, 0x6d);
	f->fp.fail_next_write = 1;
	VMFX_RC(fx, vm_unmap(a, BASE, 4 * PG), 0);
	VMFX_EQ(fx, file_byte(f, 2 * PG + 3), file_pat(2 * PG + 3));
	check_identity(fx);
	VMFX_RC(fx, vm_msync(b, BASE + 8 * PG, 4 * PG, VM_MS_SYNC), 0);
	VMFX_EQ(fx, file_byte(f, 2 * PG + 3), 0x6d);
	VMFX_EQ(fx, f->file->writebacks, 2);
	vmfx_op(fx, "a failing msync reports the error and the page stays dirty");
	put(fx, b, BASE + 8 * PG + 7, 0x7e);
	f->fp.fail_next_write = 1;
	VMFX_RC(fx, vm_msync(b, BASE + 8 * PG, 4 * PG, VM_MS_SYNC), -5);
	VMFX_EQ(fx, file_byte(f, 7), file_pat(7));
	VMFX_RC(fx, vm_msync(b, BASE + 8 * PG, 4 * PG, VM_MS_SYNC), 0);
	VMFX_EQ(fx, file_byte(f, 7), 0x7e);
	check_identity(fx);
}

static uint32_t word_of(uint64_t i) { return (uint32_t)(i * 2654435761u) ^ 0x3c3c3c3cu; }

static void test_shared_anon_bigger_than_ram(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	enum { PAGES = 9000 }; /* half again what RAM holds */
	struct vm_space *a = vmfx_space(fx), *b = vmfx_space(fx);
	fx->snapshots = false;
	map_obj(fx, a, BASE, PAGES, RW, VM_MAP_SHARED, f->shm, 0);
	map_obj(fx, b, BASE + 16 * PG, PAGES, VM_PROT_READ, VM_MAP_SHARED, f->shm, 0);
	vm_space_activate(a, 0);
	for (uint64_t i = 0; i < PAGES; i++) {
		uint32_t w = word_of(i);
		VMFX_RC(fx, sim_write(fx->s.machine, 0, BASE + i * PG + 4 * (i % 1000), &w, sizeof(w), true), 0);
	}
	VMFX_TRUE(fx, fx->s.vm.user_frames < PAGES); /* RAM could not hold them all */
	VMFX_TRUE(fx, fx->s.vm.page_outs > PAGES / 4);
	check_identity(fx);
	uint64_t ins = fx->s.vm.page_ins;
	vm_space_activate(b, 0);
	for (uint64_t i = 0; i < PAGES; i++) {
		uint32_t w = 0;
		VMFX_RC(fx, sim_read(fx->s.machine, 0, BASE + 16 * PG + i * PG + 4 * (i % 1000), &w, sizeof(w), true), 0);
		VMFX_EQ(fx, w, word_of(i));
	}
	VMFX_TRUE(fx, fx->s.vm.page_ins > ins);
	check_identity(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attribution_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_pages_reclaimed_from_both_spaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_write_leaves_pages_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_cache_goes_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msync_writes_pages_dirtied_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_anon_bigger_than_ram, setup_small, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
