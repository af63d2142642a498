/*
 * test_vm_file: file objects through a real file (hosted file pager):
 * mappings read the file's bytes; a shared mapping's writes reach the file
 * at msync, at munmap and at exit; a private mapping's writes never do;
 * a pager error on read reaches the access and one on write reaches msync,
 * and nothing already written is lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mmk/errno.h>

#include "file_pager.h"
#include "sim.h"
#include "vm_fixture.h"

#define BASE ((vaddr_t)0x50000000ull)
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define FILE_BYTES (3 * 4096 + 100)

struct fixture {
	struct vmfx fx;
	char path[64];
	struct sim_file_pager fp;
	struct vm_object *obj;
};

static uint8_t pat(uint64_t off) { return (uint8_t)(off * 7 + 3); }

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	vmfx_boot(&f->fx, 64 * VMFX_MIB, 1);
	snprintf(f->path, sizeof(f->path), "/tmp/mmk-file-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	for (uint64_t i = 0; i < FILE_BYTES; i++) {
		uint8_t b = pat(i);
		assert_int_equal(write(fd, &b, 1), 1);
	}
	close(fd);
	assert_int_equal(sim_file_pager_open(&f->fp, f->path, true), 0);
	assert_int_equal(vm_object_create(&f->fx.s.vm, VM_OBJECT_FILE, f->path, &f->obj), 0);
	struct vm_file_pager ops = sim_file_pager_ops(&f->fp);
	vm_object_set_pager(f->obj, &ops);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->obj)
		vm_object_release(&f->fx.s.vm, f->obj);
	vmfx_shutdown(&f->fx);
	sim_file_pager_close(&f->fp);
	unlink(f->path);
	free(f);
	return 0;
}

static uint8_t file_byte(struct fixture *f, uint64_t off)
{
	uint8_t b = 0;
	assert_int_equal(pread(f->fp.fd, &b, 1, (off_t)off), 1);
	return b;
}

static uint8_t rd(struct vmfx *fx, vaddr_t va)
{
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 0, va, &b), 0);
	return b;
}

static void test_read_write_msync_munmap(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	vaddr_t out;
	VMFX_RC(fx, vm_map(as, BASE, 4 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, f->obj, 0, VM_PROT_ALL, &out), 0);
	VMFX_RC(fx, vm_map(as, BASE + 16 * PG, 4 * PG, RW, VM_MAP_PRIVATE | VM_MAP_FIXED, f->obj, 0, VM_PROT_ALL, &out),
		0);
	vmfx_op(fx, "mappings read the file");
	for (uint64_t off = 0; off < 4 * PG; off += 997) {
		uint8_t want = off < FILE_BYTES ? pat(off) : 0;
		VMFX_EQ(fx, rd(fx, BASE + off), want);
		VMFX_EQ(fx, rd(fx, BASE + 16 * PG + off), want);
	}
	vmfx_check(fx);
	vmfx_op(fx, "a private write stays private");
	VMFX_RC(fx, vmfx_write8(fx, 0, BASE + 16 * PG + 10, 0xaa), 0);
	VMFX_RC(fx, vm_msync(as, BASE + 16 * PG, 4 * PG, VM_MS_SYNC), 0);
	VMFX_EQ(fx, file_byte(f, 10), pat(10));
	VMFX_EQ(fx, rd(fx, BASE + 10), pat(10));
	vmfx_op(fx, "a shared write reaches the file at msync");
	VMFX_RC(fx, vmfx_write8(fx, 0, BASE + PG + 20, 0xbb), 0);
	VMFX_EQ(fx, file_byte(f, PG + 20), pat(PG + 20));
	VMFX_RC(fx, vm_msync(as, BASE, 4 * PG, VM_MS_SYNC), 0);
	VMFX_EQ(fx, file_byte(f, PG + 20), 0xbb);
	VMFX_EQ(fx, f->obj->writebacks, 1); /* only the dirty page */
	VMFX_RC(fx, vm_msync(as, BASE, 4 * PG, VM_MS_SYNC), 0);
	VMFX_EQ(fx, f->obj->writebacks, 1); /* clean now */
	vmfx_op(fx, "and at munmap");
	VMFX_RC(fx, vmfx_write8(fx, 0, BASE + 2 * PG + 30, 0xcc), 0);
	VMFX_RC(fx, vm_unmap(as, BASE, 4 * PG), 0);
	VMFX_EQ(fx, file_byte(f, 2 * PG + 30), 0xcc);
	vmfx_check(fx);
	vmfx_op(fx, "and at exit");
	VMFX_RC(fx, vm_map(as, BASE, 4 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, f->obj, 0, VM_PROT_ALL, &out), 0);
	VMFX_RC(fx, vmfx_write8(fx, 0, BASE + 40, 0xdd), 0);
	vmfx_destroy(fx, as);
	VMFX_EQ(fx, file_byte(f, 40), 0xdd);
}

static void test_pager_errors(void **state)
{
	struct fixture *f = *state;
	struct vmfx *fx = &f->fx;
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	vaddr_t out;
	VMFX_RC(fx, vm_map(as, BASE, 4 * PG, RW, VM_MAP_SHARED | VM_MAP_FIXED, f->obj, 0, VM_PROT_ALL, &out), 0);
	vmfx_op(fx, "a failed page-in reaches the access");
	f->fp.fail_next_read = 1;
	uint8_t b;
	VMFX_TRUE(fx, vmfx_read8(fx, 0, BASE + 5, &b) != 0);
	vmfx_check(fx);
	VMFX_EQ(fx, rd(fx, BASE + 5), pat(5)); /* the retry reads the file */
	vmfx_op(fx, "a failed write-back reaches msync and keeps the page dirty");
	VMFX_RC(fx, vmfx_write8(fx, 0, BASE + 6, 0x11), 0);
	f->fp.fail_next_write = 1;
	VMFX_RC(fx, vm_msync(as, BASE, 4 * PG, VM_MS_SYNC), -5);
	VMFX_EQ(fx, file_byte(f, 6), pat(6));
	VMFX_RC(fx, vm_msync(as, BASE, 4 * PG, VM_MS_SYNC), 0);
	VMFX_EQ(fx, file_byte(f, 6), 0x11);
	vmfx_check(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_write_msync_munmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pager_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
