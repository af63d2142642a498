/*
 * test_vm_exec: execve's layout from ELF-like segments: text and data as
 * private mappings of the image, the bss head in the last data page zeroed
 * in a private copy (the image object keeps its bytes), anonymous bss, a
 * growsdown stack with its top page resident, the heap's start; bad
 * segments refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/errno.h>

#include "sim.h"
#include "vm_fixture.h"

static int image_read(void *ctx, uint64_t pgoff, void *page)
{
	(void)ctx;
	uint8_t *p = page;
	for (int i = 0; i < 4096; i++)
		p[i] = (uint8_t)(pgoff * 4096 + (uint64_t)i) | 1; /* never zero */
	return 0;
}

static int setup(void **state)
{
	struct vmfx *fx = calloc(1, sizeof(*fx));
	vmfx_boot(fx, 64 * VMFX_MIB, 1);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct vmfx *fx = *state;
	vmfx_shutdown(fx);
	free(fx);
	return 0;
}

static uint8_t rd(struct vmfx *fx, vaddr_t va)
{
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 0, va, &b), 0);
	return b;
}

static void test_exec_layout(void **state)
{
	struct vmfx *fx = *state;
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	struct vm_object *img;
	VMFX_RC(fx, vm_object_create(&fx->s.vm, VM_OBJECT_FILE, "/usr/bin/true", &img), 0);
	struct vm_file_pager pager = { image_read, NULL, NULL };
	vm_object_set_pager(img, &pager);
	const struct vm_exec_segment segs[] = {
		{ 0x400000, 0x0, 0x1800, 0x1800, VM_PROT_READ | VM_PROT_EXEC },
		{ 0x402100, 0x2100, 0x300, 0x2000, VM_PROT_READ | VM_PROT_WRITE },
	};
	const vaddr_t top = 0x7ffffff00000ull;
	struct vm_exec_segment bad = segs[1];
	bad.offset = 0x2200; /* not congruent with vaddr */
	VMFX_RC(fx, vm_exec_layout(as, img, &bad, 1, top, 32 * PG, 0x600000), -MMK_EINVAL);
	VMFX_RC(fx, vm_exec_layout(as, img, segs, 2, top + 1, 32 * PG, 0x600000), -MMK_EINVAL);
	VMFX_EQ(fx, vmfx_vmas(as), 0);
	VMFX_RC(fx, vm_exec_layout(as, img, segs, 2, top, 32 * PG, 0x600000), 0);
	vm_object_release(&fx->s.vm, img);
	vmfx_check(fx);
	char maps[2048];
	vm_display(as, maps, sizeof(maps));
	/* text: the file's bytes, read-only */
	VMFX_EQ(fx, rd(fx, 0x400010), (uint8_t)(0x10 | 1));
	VMFX_TRUE(fx, vmfx_write8(fx, 0, 0x400010, 1) != 0);
	/* data: file bytes up to 0x402400, then zeroes (the bss head) */
	VMFX_EQ(fx, rd(fx, 0x4023ff), (uint8_t)(0x23ff | 1));
	VMFX_EQ(fx, rd(fx, 0x402400), 0);
	VMFX_EQ(fx, rd(fx, 0x402fff), 0);
	VMFX_EQ(fx, rd(fx, 0x403000), 0); /* anonymous bss */
	VMFX_EQ(fx, rd(fx, 0x404100), 0);
	VMFX_TRUE(fx, vmfx_read8(fx, 0, 0x405000, &(uint8_t){ 0 }) != 0); /* past the segment */
	/* stack: growsdown, top page resident, named [stack] */
	const struct vm_area *st = vm_search(as, top - 8);
	VMFX_TRUE(fx, st && (st->flags & VMA_GROWSDOWN) && st->end == top && st->start == top - 32 * PG);
	VMFX_TRUE(fx, strstr(maps, "[stack]") != NULL);
	VMFX_EQ(fx, as->start_brk, 0x600000);
	vmfx_check(fx);
	VMFX_RC(fx, vm_exec_layout(as, img, segs, 2, top, 32 * PG, 0x600000), -MMK_EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exec_layout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
