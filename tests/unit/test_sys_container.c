/*
 * test_sys_container.c - the container family (src/sys/sys_container.c):
 * seed 001's physmem through handles.  The filesystem scenario of seed
 * 001 end to end (a client creates a container, allocates, derives a weak
 * handle and grants it to a server; the server maps and writes through
 * it, is refused every frame-changing call, and loses everything when the
 * client cancels; the client reads what the server wrote); each refusal
 * with its exact error and proof that nothing changed (sfx_refused's
 * snapshot includes every container's pages and frames); the rights;
 * destroy, account death and the last handle; the family off without a
 * physmem; and the allocation-failure sweep over every handler.  The fuzz
 * test of test_sys.c drives these opcodes too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys_fixture.h"

#define PG MMK_PAGE_SIZE
#define RW (VM_PROT_READ | VM_PROT_WRITE)

static struct sys_request rq(uint32_t op, cap_handle_t h0, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct sys_request q = sfx_req(op);
	q.handles[0] = h0;
	q.args[0] = a0;
	q.args[1] = a1;
	q.args[2] = a2;
	return q;
}

static struct sys_reply ok(struct sfx *fx, struct sys_task *t, uint32_t op, cap_handle_t h0, uint64_t a0,
			   uint64_t a1, uint64_t a2)
{
	struct sys_request q = rq(op, h0, a0, a1, a2);
	struct sys_reply r;
	sfx_call(fx, t, &q, &r, 0);
	return r;
}

static void refused(struct sfx *fx, struct sys_task *t, uint32_t op, cap_handle_t h0, uint64_t a0, uint64_t a1,
		    uint64_t a2, int want)
{
	struct sys_request q = rq(op, h0, a0, a1, a2);
	sfx_refused(fx, t, &q, want);
}

static struct sys_request map_rq(cap_handle_t c, cap_handle_t space, uint64_t off, uint64_t len, unsigned prot)
{
	struct sys_request q = rq(SYS_CONTAINER_MAP, c, 0, off, len);
	q.handles[1] = space;
	q.args[3] = prot;
	return q;
}

static cap_handle_t create(struct sfx *fx, struct sys_task *t, cap_handle_t acct)
{
	return ok(fx, t, SYS_CONTAINER_CREATE, acct, 0, 0, 0).handles[0];
}

static uint64_t rd(struct sfx *fx, struct sys_task *t, cap_handle_t c, uint64_t off, uint64_t len)
{
	return ok(fx, t, SYS_CONTAINER_READ, c, off, len, 0).results[0];
}

static cap_handle_t task_handle(struct sfx *fx, struct sys_task *holder, struct sys_task *target)
{
	cap_handle_t h;
	assert_int_equal(sys_task_install(holder, &target->k.cap, CAP_RIGHT_WRITE, &h), 0);
	sfx_check(fx);
	return h;
}

/* Seed 001's filesystem scenario through handles. */
static void test_filesystem_scenario(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *client = sfx_task(fx), *server = sfx_task(fx);
	cap_handle_t acct = sfx_root_account(fx, client);
	cap_handle_t c = create(fx, client, acct);
	assert_int_equal(sfx_rights(fx, client, c), CAP_RIGHTS_CONTAINER);
	assert_int_equal(fx->sys.containers, 1);
	/* the client allocates 4 pages: charged to its account */
	assert_int_equal(ok(fx, client, SYS_CONTAINER_ALLOCATE, c, 0, 4, 0).results[0], 4);
	assert_int_equal(ok(fx, client, SYS_ACCOUNT_USAGE, acct, 0, 0, 0).results[1], 4);
	/* a weak handle, granted to the server without DESTROY (the client
	 * keeps the cancel) */
	cap_handle_t weak = ok(fx, client, SYS_CONTAINER_SHARE, c, CAP_RIGHTS_CONTAINER_WEAK, 0, 0).handles[0];
	assert_int_equal(sfx_rights(fx, client, weak), CAP_RIGHTS_CONTAINER_WEAK);
	cap_handle_t to_server = task_handle(fx, client, server);
	cap_handle_t sw = sfx_grant(fx, client, weak, to_server, CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_MAP);
	/* the server maps the 4 pages into its space and writes through the map */
	struct sys_request q = map_rq(sw, 0, 0, 4 * PG, RW);
	struct sys_reply r;
	sfx_call(fx, server, &q, &r, 0);
	vaddr_t at = r.results[0];
	struct vm_space *sas = sfx_space(server, 0);
	vm_space_activate(sas, 0);
	assert_int_equal(vmfx_write8(&fx->vm, 0, at + 2 * PG + 5, 0xa5), 0);
	/* and through the kernel copy */
	ok(fx, server, SYS_CONTAINER_WRITE, sw, 3 * PG - 2, 4, 0x44332211);
	/* everything that changes which frames the container holds is refused */
	refused(fx, server, SYS_CONTAINER_DEALLOCATE, sw, 0, PG, 0, -MMK_EPERM);
	refused(fx, server, SYS_CONTAINER_ALLOCATE, sw, 8 * PG, 1, 0, -MMK_EPERM);
	refused(fx, server, SYS_CONTAINER_SHARE, sw, CAP_RIGHT_READ, 0, 0, -MMK_EPERM); /* no DERIVE granted */
	refused(fx, server, SYS_CONTAINER_CANCEL, sw, 0, 0, 0, -MMK_EPERM);            /* no DESTROY granted */
	refused(fx, server, SYS_CAP_DERIVE, sw, CAP_RIGHT_READ, 0, 0, -MMK_EPERM);
	/* the client reads what the server wrote */
	assert_int_equal(rd(fx, client, c, 2 * PG + 5, 1), 0xa5);
	assert_int_equal(rd(fx, client, c, 3 * PG - 2, 4), 0x44332211);
	assert_int_equal(rd(fx, client, c, 3 * PG - 2, 8), 0x44332211); /* zero-filled after */
	assert_int_equal(rd(fx, client, c, 0, 8), 0);
	/* the client writes; the server sees it through the map */
	ok(fx, client, SYS_CONTAINER_WRITE, c, PG, 1, 0x3c);
	uint8_t v = 0;
	assert_int_equal(vmfx_read8(&fx->vm, 0, at + PG, &v), 0);
	assert_int_equal(v, 0x3c);
	/* the client cancels: the server's handle and its translations go */
	ok(fx, client, SYS_CONTAINER_CANCEL, weak, 0, 0, 0);
	refused(fx, server, SYS_CONTAINER_READ, sw, 0, 1, 0, -MMK_EBADF);
	refused(fx, client, SYS_CONTAINER_READ, weak, 0, 1, 0, -MMK_EBADF);
	assert_int_not_equal(vmfx_read8(&fx->vm, 0, at + PG, &v), 0);
	assert_int_equal(fx->sys.containers, 1);
	/* the client still has its data */
	assert_int_equal(rd(fx, client, c, 2 * PG + 5, 1), 0xa5);
	/* destroy: frames back, charge back, handle gone */
	ok(fx, client, SYS_CONTAINER_DESTROY, c, 0, 0, 0);
	assert_int_equal(ok(fx, client, SYS_ACCOUNT_USAGE, acct, 0, 0, 0).results[1], 0);
	assert_int_equal(fx->pm.frame_pages, 0);
	assert_int_equal(fx->sys.containers, 0);
	refused(fx, client, SYS_CONTAINER_READ, c, 0, 1, 0, -MMK_EBADF);
	vmfx_deactivate(&fx->vm, sas);
	sfx_task_done(fx, server);
	sfx_task_done(fx, client);
	sfx_delete(fx);
}

static void test_refusals(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	cap_handle_t small = ok(fx, t, SYS_ACCOUNT_SPLIT, root, 4, 0, 0).handles[0];
	/* create: SPLIT on an account */
	refused(fx, t, SYS_CONTAINER_CREATE, sfx_derive(fx, t, small, CAP_RIGHT_READ), 0, 0, 0, -MMK_EPERM);
	refused(fx, t, SYS_CONTAINER_CREATE, 0 /* a space */, 0, 0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_CONTAINER_CREATE, small, 1, 0, 0, -MMK_EINVAL); /* an unused arg */
	cap_handle_t c = create(fx, t, small);
	/* allocate */
	refused(fx, t, SYS_CONTAINER_ALLOCATE, c, 0, 0, 0, -MMK_EINVAL);      /* no pages */
	refused(fx, t, SYS_CONTAINER_ALLOCATE, c, 1, 1, 0, -MMK_EINVAL);      /* misaligned */
	refused(fx, t, SYS_CONTAINER_ALLOCATE, c, 0, 1, 4, -MMK_EINVAL);      /* unknown flag */
	refused(fx, t, SYS_CONTAINER_ALLOCATE, c, 0, 1, 1ull << 40, -MMK_EINVAL);
	refused(fx, t, SYS_CONTAINER_ALLOCATE, c, UINT64_MAX & ~(PG - 1), 2, 0, -MMK_EINVAL); /* wraps */
	refused(fx, t, SYS_CONTAINER_ALLOCATE, c, 0, 5, 0, -MMK_ENOMEM);      /* over the account's 4 */
	assert_int_equal(ok(fx, t, SYS_CONTAINER_ALLOCATE, c, 0, 5, PM_ALLOC_PARTIAL).results[0], 4);
	refused(fx, t, SYS_CONTAINER_ALLOCATE, c, 2 * PG, 1, 0, -MMK_EEXIST);
	/* deallocate */
	refused(fx, t, SYS_CONTAINER_DEALLOCATE, c, 4 * PG, PG, 0, -MMK_ENOENT);
	refused(fx, t, SYS_CONTAINER_DEALLOCATE, c, 0, 0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_CONTAINER_DEALLOCATE, c, 0, PG, 1, -MMK_EINVAL); /* an unused arg */
	ok(fx, t, SYS_CONTAINER_DEALLOCATE, c, 3 * PG, PG, 0);
	/* read and write: 1..8 bytes of allocated pages */
	refused(fx, t, SYS_CONTAINER_READ, c, 0, 0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_CONTAINER_READ, c, 0, 9, 0, -MMK_EINVAL);
	refused(fx, t, SYS_CONTAINER_READ, c, 3 * PG, 1, 0, -MMK_ENOENT);
	refused(fx, t, SYS_CONTAINER_READ, c, 3 * PG - 4, 8, 0, -MMK_ENOENT); /* straddles into page 3 */
	refused(fx, t, SYS_CONTAINER_WRITE, c, 0, 1, 0x100, -MMK_EINVAL);     /* a byte beyond len */
	refused(fx, t, SYS_CONTAINER_WRITE, c, 0, 0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_CONTAINER_WRITE, c, 3 * PG, 2, 1, -MMK_ENOENT);
	ok(fx, t, SYS_CONTAINER_WRITE, c, 8, 8, UINT64_MAX);
	assert_int_equal(rd(fx, t, c, 8, 8), UINT64_MAX);
	/* map: MAP on both, the space's rights bound prot, the container's too */
	cap_handle_t ro_space = sfx_derive(fx, t, 0, CAP_RIGHT_READ | CAP_RIGHT_MAP);
	struct sys_request q = map_rq(c, ro_space, 0, PG, RW);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q = map_rq(c, 0, 0, PG, 0x10);
	sfx_refused(fx, t, &q, -MMK_EINVAL); /* not a protection */
	cap_handle_t ro = sfx_derive(fx, t, c, CAP_RIGHT_READ | CAP_RIGHT_MAP);
	q = map_rq(ro, 0, 0, PG, RW);
	sfx_refused(fx, t, &q, -MMK_EACCES);
	cap_handle_t nomap = sfx_derive(fx, t, c, CAP_RIGHT_READ);
	q = map_rq(nomap, 0, 0, PG, VM_PROT_READ);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q = map_rq(c, CAP_HANDLE_NONE, 0, PG, VM_PROT_READ);
	sfx_refused(fx, t, &q, -MMK_EBADF); /* the space is required */
	q = map_rq(c, 0, 1, PG, VM_PROT_READ);
	sfx_refused(fx, t, &q, -MMK_EINVAL); /* misaligned offset */
	q = map_rq(c, 0, 0, PG, VM_PROT_READ);
	q.args[4] = 1ull << 40;
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	q = map_rq(ro, 0, 0, 3 * PG, VM_PROT_READ);
	struct sys_reply r;
	sfx_call(fx, t, &q, &r, 0);
	assert_true(r.results[0] != 0);
	/* rights each call always needs */
	refused(fx, t, SYS_CONTAINER_ALLOCATE, ro, 5 * PG, 1, 0, -MMK_EPERM);
	refused(fx, t, SYS_CONTAINER_DEALLOCATE, ro, 0, PG, 0, -MMK_EPERM);
	refused(fx, t, SYS_CONTAINER_WRITE, ro, 0, 1, 1, -MMK_EPERM);
	refused(fx, t, SYS_CONTAINER_READ, sfx_derive(fx, t, c, CAP_RIGHT_MAP), 0, 1, 0, -MMK_EPERM);
	refused(fx, t, SYS_CONTAINER_DESTROY, ro, 0, 0, 0, -MMK_EPERM);
	refused(fx, t, SYS_CONTAINER_READ, small, 0, 1, 0, -MMK_EINVAL); /* an account */
	/* share: rights within the weak set and h0's, reaching memory */
	refused(fx, t, SYS_CONTAINER_SHARE, c, CAP_RIGHT_READ | CAP_RIGHT_ALLOC, 0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_CONTAINER_SHARE, c, CAP_RIGHT_GRANT, 0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_CONTAINER_SHARE, c, 0, 0, 0, -MMK_EINVAL);
	cap_handle_t der = sfx_derive(fx, t, c, CAP_RIGHT_DERIVE | CAP_RIGHT_READ | CAP_RIGHT_DESTROY);
	refused(fx, t, SYS_CONTAINER_SHARE, der, CAP_RIGHT_WRITE, 0, 0, -MMK_EPERM);
	refused(fx, t, SYS_CONTAINER_SHARE, ro, CAP_RIGHT_READ, 0, 0, -MMK_EPERM); /* no DERIVE */
	cap_handle_t w = ok(fx, t, SYS_CONTAINER_SHARE, der, CAP_RIGHT_READ | CAP_RIGHT_DESTROY | CAP_RIGHT_DERIVE, 0, 0)
				 .handles[0];
	assert_int_equal(rd(fx, t, w, 8, 8), UINT64_MAX);
	refused(fx, t, SYS_CONTAINER_WRITE, w, 0, 1, 1, -MMK_EPERM);
	refused(fx, t, SYS_CONTAINER_SHARE, w, CAP_RIGHT_READ, 0, 0, -MMK_EINVAL); /* a share of a share */
	refused(fx, t, SYS_CONTAINER_DESTROY, w, 0, 0, 0, -MMK_EINVAL);             /* weak: cancel, not destroy */
	refused(fx, t, SYS_CONTAINER_CANCEL, c, 0, 0, 0, -MMK_EINVAL);              /* owner: destroy, not cancel */
	/* destroying the container: weak handles stay and answer EIDRM */
	ok(fx, t, SYS_CONTAINER_DESTROY, c, 0, 0, 0);
	refused(fx, t, SYS_CONTAINER_READ, ro, 0, 1, 0, -MMK_EBADF);
	refused(fx, t, SYS_CONTAINER_READ, w, 8, 1, 0, -MMK_EIDRM);
	ok(fx, t, SYS_CONTAINER_CANCEL, w, 0, 0, 0);
	assert_int_equal(fx->sys.containers, 0);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

/* A container whose account dies answers EIDRM; the last handle of a
 * container, or of a weak one, releases it. */
static void test_lifetimes(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	cap_handle_t a = ok(fx, t, SYS_ACCOUNT_SPLIT, root, 64, 0, 0).handles[0];
	cap_handle_t b = ok(fx, t, SYS_ACCOUNT_SPLIT, a, 16, 0, 0).handles[0];
	cap_handle_t c = create(fx, t, b);
	ok(fx, t, SYS_CONTAINER_ALLOCATE, c, 0, 8, 0);
	cap_handle_t w = ok(fx, t, SYS_CONTAINER_SHARE, c, CAP_RIGHT_READ, 0, 0).handles[0];
	ok(fx, t, SYS_ACCOUNT_DESTROY, a, 0, 0, 0);
	refused(fx, t, SYS_CONTAINER_READ, c, 0, 1, 0, -MMK_EIDRM);
	refused(fx, t, SYS_CONTAINER_ALLOCATE, c, 8 * PG, 1, 0, -MMK_EIDRM);
	refused(fx, t, SYS_CONTAINER_READ, w, 0, 1, 0, -MMK_EIDRM);
	refused(fx, t, SYS_CONTAINER_CREATE, b, 0, 0, 0, -MMK_EIDRM); /* a dead account */
	assert_int_equal(fx->pm.frame_pages, 0);
	/* closing the last handles frees both objects */
	struct sys_request q = rq(SYS_CAP_CLOSE, c, 0, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->sys.containers, 1);
	q.handles[0] = w;
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->sys.containers, 0);
	/* a live container with a live share, released by closing: the
	 * share is cancelled, the container destroyed, its frames freed */
	c = create(fx, t, root);
	ok(fx, t, SYS_CONTAINER_ALLOCATE, c, 0, 3, 0);
	w = ok(fx, t, SYS_CONTAINER_SHARE, c, CAP_RIGHT_READ | CAP_RIGHT_MAP, 0, 0).handles[0];
	q = map_rq(w, 0, 0, 3 * PG, VM_PROT_READ);
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->pm.frame_pages, 3);
	q = rq(SYS_CAP_CLOSE, w, 0, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->pm.frame_pages, 3);
	q.handles[0] = c;
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->pm.frame_pages, 0);
	assert_int_equal(fx->sys.containers, 0);
	/* destroying the task closes its handles: the same release */
	c = create(fx, t, root);
	ok(fx, t, SYS_CONTAINER_ALLOCATE, c, 0, 2, 0);
	sfx_task_done(fx, t);
	assert_int_equal(fx->sys.containers, 0);
	assert_int_equal(fx->pm.frame_pages, 0);
	sfx_delete(fx);
}

static void test_needs_physmem(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	cap_handle_t c = create(fx, t, root);
	assert_int_equal(sys_attach_physmem(&fx->sys, NULL), -MMK_EBUSY);
	struct physmem other;
	assert_int_equal(physmem_init(&other, &fx->vm.s.phys, NULL), 0);
	assert_int_equal(sys_attach_physmem(&fx->sys, &other), -MMK_EINVAL); /* maps into no vm_system */
	assert_int_equal(physmem_fini(&other), 0);
	ok(fx, t, SYS_CONTAINER_DESTROY, c, 0, 0, 0);
	assert_int_equal(sys_attach_physmem(&fx->sys, NULL), 0);
	const uint32_t ops[] = { SYS_CONTAINER_CREATE, SYS_CONTAINER_ALLOCATE, SYS_CONTAINER_DEALLOCATE,
				 SYS_CONTAINER_MAP,    SYS_CONTAINER_READ,     SYS_CONTAINER_WRITE,
				 SYS_CONTAINER_SHARE,  SYS_CONTAINER_CANCEL,   SYS_CONTAINER_DESTROY };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		refused(fx, t, ops[i], root, 0, 0, 0, -MMK_ENOSYS);
		assert_non_null(sys_op_name(ops[i]));
	}
	assert_int_equal(sys_attach_physmem(&fx->sys, &fx->pm), 0);
	c = create(fx, t, root);
	ok(fx, t, SYS_CONTAINER_DESTROY, c, 0, 0, 0);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

/* Every handler that allocates, failing the k-th allocation for each k. */
static void test_failure_sweep(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	struct sys_reply r;
	struct sys_request q = rq(SYS_CONTAINER_CREATE, root, 0, 0, 0);
	sfx_sweep(fx, t, &q, &r);
	cap_handle_t c = r.handles[0];
	q = rq(SYS_CONTAINER_ALLOCATE, c, 0, 8, 0);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_CONTAINER_SHARE, c, CAP_RIGHTS_CONTAINER_WEAK, 0, 0);
	sfx_sweep(fx, t, &q, &r);
	cap_handle_t w = r.handles[0];
	q = map_rq(w, 0, 0, 8 * PG, RW);
	sfx_sweep(fx, t, &q, &r);
	q = map_rq(c, 0, 0, 8 * PG, VM_PROT_READ);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_CONTAINER_WRITE, w, 3 * PG + 1, 2, 0xbeef);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_CONTAINER_READ, c, 3 * PG + 1, 2, 0);
	sfx_sweep(fx, t, &q, &r);
	assert_int_equal(r.results[0], 0xbeef);
	q = rq(SYS_CONTAINER_CANCEL, w, 0, 0, 0);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_CONTAINER_DEALLOCATE, c, 0, 4 * PG, 0);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_CONTAINER_DESTROY, c, 0, 0, 0);
	sfx_sweep(fx, t, &q, &r);
	assert_int_equal(fx->pm.frame_pages, 0);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filesystem_scenario), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_lifetimes),	    cmocka_unit_test(test_needs_physmem),
		cmocka_unit_test(test_failure_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
