/*
 * test_sys.c - the system-call surface (src/sys): sys_dispatch's order of
 * checks, each refusal with its exact error and proof that nothing changed
 * (sfx_refused compares a snapshot of every table, object and layout), the
 * rights of space, memory-object and task handles, destroy and revocation
 * through requests, an allocation-failure sweep over every handler, and a
 * fuzz test: thousands of random requests, each answered with a known code,
 * the checkers passing after each, refusals changing nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmem_fixture.h" /* kfx_rand */
#include "sys_fixture.h"

#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)

/* Handle 0 of a kernel-made task names its space with every right. */
#define OWN_SPACE 0

static struct sys_request req1(uint32_t op, cap_handle_t h0)
{
	struct sys_request q = sfx_req(op);
	q.handles[0] = h0;
	return q;
}

/* ---- dispatch ---- */

static void test_dispatch_shape(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	const uint32_t unknown[] = { 0, SYS_OP(0, 1), SYS_OP(SYS_FAMILY_ACCOUNT, 3), SYS_OP(SYS_FAMILY_MOP, 6),
				     SYS_OP(SYS_FAMILY_CONTAINER, 9), SYS_OP(SYS_FAMILY_FRAME, 2), SYS_OP(SYS_FAMILY_CAP, 5),
				     SYS_OP(SYS_FAMILY_VM, 10), SYS_OP(SYS_FAMILY_VM, 255), SYS_OP(200, 0),
				     0xffffffffu, SYS_OP(SYS_FAMILY_COUNT, 0) };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		struct sys_request q = req1(unknown[i], OWN_SPACE);
		sfx_refused(fx, t, &q, -MMK_ENOSYS);
		assert_null(sys_op_name(unknown[i]));
	}
	assert_string_equal(sys_op_name(SYS_VM_MAP), "vm_map");
	/* flags must be 0 */
	struct sys_request q = req1(SYS_CAP_INFO, OWN_SPACE);
	q.flags = 1;
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	/* args the operation does not read must be 0 (cap_info reads none) */
	for (int i = 0; i < SYS_NARGS; i++) {
		q = req1(SYS_CAP_INFO, OWN_SPACE);
		q.args[i] = 1;
		sfx_refused(fx, t, &q, -MMK_EINVAL);
	}
	q = req1(SYS_VM_UNMAP, OWN_SPACE); /* reads a0, a1 */
	q.args[2] = 1ull << 63;
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	/* handles it does not take must be NONE, even a valid one */
	for (int i = 1; i < SYS_NHANDLES; i++) {
		q = req1(SYS_CAP_INFO, OWN_SPACE);
		q.handles[i] = OWN_SPACE;
		sfx_refused(fx, t, &q, -MMK_EINVAL);
	}
	/* shape errors come before handle errors */
	q = req1(SYS_CAP_INFO, 77);
	q.args[3] = 9;
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	struct sys_reply r;
	q = req1(SYS_CAP_INFO, OWN_SPACE);
	sfx_call(fx, t, &q, &r, 0);
	assert_int_equal(r.results[0], CAP_TYPE_SPACE);
	assert_int_equal(r.results[1], CAP_RIGHTS_SPACE);
	assert_int_equal(fx->sys.requests - fx->sys.refused, 1);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

static void test_handle_rule(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	struct sys_request q;
	/* EBADF: NONE where required, negative, beyond, a free slot */
	const cap_handle_t bad[] = { CAP_HANDLE_NONE, -2, INT32_MIN, 1, 5, SFX_MAX_HANDLES, INT32_MAX };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q = req1(SYS_VM_UNMAP, bad[i]);
		q.args[0] = 0x10000;
		q.args[1] = PG;
		sfx_refused(fx, t, &q, -MMK_EBADF);
	}
	/* EINVAL: a handle of another type (a memory object as a space) */
	struct sys_reply r;
	q = sfx_req(SYS_VM_OBJECT_CREATE);
	q.args[0] = 4 * PG;
	sfx_call(fx, t, &q, &r, 0);
	cap_handle_t obj = r.handles[0];
	q = req1(SYS_VM_UNMAP, obj);
	q.args[0] = 0x10000;
	q.args[1] = PG;
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	/* a space given where the memory object goes */
	q = req1(SYS_VM_MAP, OWN_SPACE);
	q.handles[1] = OWN_SPACE;
	q.args[1] = PG;
	q.args[2] = VM_PROT_READ;
	q.args[3] = VM_MAP_SHARED;
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	/* EPERM: missing the fixed right; wrong type is found first */
	cap_handle_t ro = sfx_derive(fx, t, OWN_SPACE, CAP_RIGHT_READ);
	q = req1(SYS_VM_UNMAP, ro);
	q.args[0] = 0x10000;
	q.args[1] = PG;
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q = req1(SYS_TASK_DESTROY, ro);
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	/* the first bad handle decides: h0 bad number before h1 wrong type */
	q = req1(SYS_CAP_GRANT, 40);
	q.handles[1] = obj;
	sfx_refused(fx, t, &q, -MMK_EBADF);
	q = req1(SYS_CAP_GRANT, ro); /* no GRANT on h0: EPERM before h1 is looked at */
	q.handles[1] = 41;
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q = req1(SYS_CAP_GRANT, OWN_SPACE);
	q.handles[1] = obj; /* not a task */
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

/* ---- address spaces ---- */

static struct sys_request vmreq(uint32_t op, cap_handle_t h, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
				uint64_t a4)
{
	struct sys_request q = req1(op, h);
	q.args[0] = a0;
	q.args[1] = a1;
	q.args[2] = a2;
	q.args[3] = a3;
	q.args[4] = a4;
	return q;
}

static void test_space_rights(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	const vaddr_t A = 0x10000000;
	vaddr_t at = sfx_map(fx, t, OWN_SPACE, A, 4 * PG, RW, ANON | VM_MAP_FIXED);
	assert_int_equal(at, A);
	/* a handle without WRITE maps read-only only, and cannot mprotect to write */
	cap_handle_t nowrite = sfx_derive(fx, t, OWN_SPACE, CAP_RIGHTS_SPACE & ~CAP_RIGHT_WRITE);
	struct sys_request q = vmreq(SYS_VM_MAP, nowrite, 0, PG, RW, ANON, 0);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q = vmreq(SYS_VM_PROTECT, nowrite, A, PG, RW, 0, 0);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	sfx_map(fx, t, nowrite, 0, PG, VM_PROT_READ, ANON);
	q = vmreq(SYS_VM_PROTECT, nowrite, A, PG, VM_PROT_READ, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	/* without EXEC no executable page; without READ no readable one */
	cap_handle_t noexec = sfx_derive(fx, t, OWN_SPACE, CAP_RIGHT_MAP | CAP_RIGHT_READ | CAP_RIGHT_WRITE);
	q = vmreq(SYS_VM_MAP, noexec, 0, PG, VM_PROT_READ | VM_PROT_EXEC, ANON, 0);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q = vmreq(SYS_VM_PROTECT, noexec, A, PG, VM_PROT_EXEC, 0, 0);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	cap_handle_t mapnone = sfx_derive(fx, t, OWN_SPACE, CAP_RIGHT_MAP);
	q = vmreq(SYS_VM_MAP, mapnone, 0, PG, VM_PROT_READ, ANON, 0);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	sfx_map(fx, t, mapnone, 0, PG, VM_PROT_NONE, ANON); /* a guard page needs no access right */
	/* without MAP nothing changes the layout */
	cap_handle_t look = sfx_derive(fx, t, OWN_SPACE, CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_EXEC);
	const struct sys_request nomap[] = {
		vmreq(SYS_VM_MAP, look, 0, PG, VM_PROT_READ, ANON, 0),
		vmreq(SYS_VM_UNMAP, look, A, PG, 0, 0, 0),
		vmreq(SYS_VM_PROTECT, look, A, PG, VM_PROT_READ, 0, 0),
		vmreq(SYS_VM_REMAP, look, A, PG, 2 * PG, VM_MREMAP_MAYMOVE, 0),
		vmreq(SYS_VM_ADVISE, look, A, PG, VM_MADV_DONTNEED, 0, 0),
		vmreq(SYS_VM_DESTROY, look, 0, 0, 0, 0, 0),
	};
	for (size_t i = 0; i < sizeof(nomap) / sizeof(nomap[0]); i++)
		sfx_refused(fx, t, &nomap[i], -MMK_EPERM);
	/* ... but it may look: query */
	struct sys_reply r;
	q = vmreq(SYS_VM_QUERY, look, A + PG, 0, 0, 0, 0); /* the mprotect above split [A, A + PG) off */
	sfx_call(fx, t, &q, &r, 0);
	assert_int_equal(r.results[0], A + PG);
	assert_int_equal(r.results[1], A + 4 * PG);
	assert_int_equal(r.results[2], VM_PROT_READ | VM_PROT_WRITE);
	q = vmreq(SYS_VM_QUERY, look, 0x7000, 0, 0, 0, 0);
	sfx_refused(fx, t, &q, -MMK_ENOENT);
	/* fork and query need READ */
	q = req1(SYS_VM_FORK, mapnone);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q = vmreq(SYS_VM_QUERY, mapnone, A, 0, 0, 0, 0);
	sfx_refused(fx, t, &q, -MMK_EPERM);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

/* Arguments are checked before they are narrowed; vm errors pass through. */
static void test_space_arguments(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	const vaddr_t A = 0x20000000;
	sfx_map(fx, t, OWN_SPACE, A, 8 * PG, RW, ANON | VM_MAP_FIXED | VM_MAP_POPULATE);
	const struct {
		struct sys_request q;
		int want;
	} cases[] = {
		{ vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, 8, ANON, 0), -MMK_EINVAL },            /* prot bit 3 */
		{ vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, 1ull << 32, ANON, 0), -MMK_EINVAL },   /* prot > 32 bits */
		{ vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, RW, ANON | (1ull << 32), 0), -MMK_EINVAL }, /* flags */
		{ vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, RW, ANON | 0x80000000u, 0), -MMK_EINVAL }, /* unknown flag */
		{ vmreq(SYS_VM_MAP, OWN_SPACE, 0, 0, RW, ANON, 0), -MMK_EINVAL },            /* len 0 */
		{ vmreq(SYS_VM_MAP, OWN_SPACE, 0, UINT64_MAX, RW, ANON, 0), -MMK_ENOMEM },   /* len wraps */
		{ vmreq(SYS_VM_MAP, OWN_SPACE, A + 1, PG, RW, ANON | VM_MAP_FIXED, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_MAP, OWN_SPACE, A, PG, RW, ANON | VM_MAP_FIXED_NOREPLACE, 0), -MMK_EEXIST },
		{ vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, RW, VM_MAP_ANONYMOUS, 0), -MMK_EINVAL }, /* no type */
		{ vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, RW, ANON, 1), -MMK_EINVAL },           /* offset */
		{ vmreq(SYS_VM_UNMAP, OWN_SPACE, A + 7, PG, 0, 0, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_UNMAP, OWN_SPACE, UINT64_MAX - PG + 1, PG, 0, 0, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_UNMAP, OWN_SPACE, A, 0, 0, 0, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_PROTECT, OWN_SPACE, A, PG, 0x10, 0, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_PROTECT, OWN_SPACE, A, 16 * PG, VM_PROT_READ, 0, 0), -MMK_ENOMEM }, /* hole */
		{ vmreq(SYS_VM_REMAP, OWN_SPACE, A, PG, 2 * PG, 1ull << 32, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_REMAP, OWN_SPACE, A, PG, 2 * PG, 0x40, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_REMAP, OWN_SPACE, A, PG, 0, VM_MREMAP_MAYMOVE, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_REMAP, OWN_SPACE, 0x30000000, PG, 2 * PG, VM_MREMAP_MAYMOVE, 0), -MMK_EFAULT },
		{ vmreq(SYS_VM_ADVISE, OWN_SPACE, A, PG, 1ull << 31, 0, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_ADVISE, OWN_SPACE, A, PG, UINT64_MAX, 0, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_ADVISE, OWN_SPACE, A, PG, 99, 0, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_ADVISE, OWN_SPACE, A, 64 * PG, VM_MADV_DONTNEED, 0, 0), -MMK_ENOMEM },
		{ vmreq(SYS_VM_OBJECT_CREATE, CAP_HANDLE_NONE, 0, 0, 0, 0, 0), -MMK_EINVAL },
		{ vmreq(SYS_VM_OBJECT_CREATE, CAP_HANDLE_NONE, PG + 1, 0, 0, 0, 0), -MMK_EINVAL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		sfx_refused(fx, t, &cases[i].q, cases[i].want);
	/* and the calls work: protect, advise, remap, unmap */
	struct sys_reply r;
	struct sys_request q = vmreq(SYS_VM_PROTECT, OWN_SPACE, A, PG, VM_PROT_READ, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	q = vmreq(SYS_VM_ADVISE, OWN_SPACE, A + PG, PG, VM_MADV_DONTNEED, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(vmfx_resident(sfx_space(t, OWN_SPACE)), 7);
	q = vmreq(SYS_VM_REMAP, OWN_SPACE, A + 6 * PG, 2 * PG, 4 * PG, VM_MREMAP_MAYMOVE, 0);
	sfx_call(fx, t, &q, &r, 0);
	assert_true(r.results[0] != 0);
	q = vmreq(SYS_VM_UNMAP, OWN_SPACE, A, 6 * PG, 0, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	q = vmreq(SYS_VM_QUERY, OWN_SPACE, A, 0, 0, 0, 0);
	sfx_refused(fx, t, &q, -MMK_ENOENT);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

/* ---- memory objects ---- */

static void test_memory_objects(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	struct sys_reply r;
	struct sys_request q = vmreq(SYS_VM_OBJECT_CREATE, CAP_HANDLE_NONE, 16 * PG, 0, 0, 0, 0);
	sfx_call(fx, t, &q, &r, 0);
	cap_handle_t obj = r.handles[0];
	assert_int_equal(sfx_rights(fx, t, obj), CAP_RIGHTS_VMOBJECT);
	/* shared mapping in two spaces: both map the same object */
	q = vmreq(SYS_VM_MAP, OWN_SPACE, 0, 4 * PG, RW, VM_MAP_SHARED | VM_MAP_POPULATE, 0);
	q.handles[1] = obj;
	sfx_call(fx, t, &q, &r, 0);
	vaddr_t a = r.results[0];
	cap_handle_t other = sfx_new_space(fx, t);
	q.handles[0] = other;
	sfx_call(fx, t, &q, &r, 0);
	struct vm_space *s1 = sfx_space(t, OWN_SPACE), *s2 = sfx_space(t, other);
	assert_ptr_equal(vm_search(s1, a)->object, vm_search(s2, r.results[0])->object);
	assert_int_equal(vmfx_resident(s2), 4); /* the object's pages, already resident */
	/* a read-only object handle: shared writable mapping refused, private allowed */
	cap_handle_t ro = sfx_derive(fx, t, obj, CAP_RIGHT_READ | CAP_RIGHT_MAP);
	q = vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, RW, VM_MAP_SHARED, 0);
	q.handles[1] = ro;
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q.args[3] = VM_MAP_PRIVATE;
	sfx_call(fx, t, &q, &r, 0);
	/* its max protection follows the handle, as a file's open mode */
	q = vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, VM_PROT_READ, VM_MAP_SHARED, 0);
	q.handles[1] = ro;
	sfx_call(fx, t, &q, &r, 0);
	q = vmreq(SYS_VM_PROTECT, OWN_SPACE, r.results[0], PG, RW, 0, 0);
	sfx_refused(fx, t, &q, -MMK_EACCES);
	/* no MAP on the object, no EXEC on it */
	cap_handle_t nomap = sfx_derive(fx, t, obj, CAP_RIGHT_READ | CAP_RIGHT_WRITE);
	q = vmreq(SYS_VM_MAP, OWN_SPACE, 0, PG, VM_PROT_READ, VM_MAP_SHARED, 0);
	q.handles[1] = nomap;
	sfx_refused(fx, t, &q, -MMK_EPERM);
	q.handles[1] = ro;
	q.args[2] = VM_PROT_READ | VM_PROT_EXEC;
	sfx_refused(fx, t, &q, -MMK_EPERM);
	/* closing every handle leaves the object to its mappings */
	const cap_handle_t handles[] = { ro, obj, nomap };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fx->sys.vmobjects, 1);
		q = req1(SYS_CAP_CLOSE, handles[i]);
		sfx_call(fx, t, &q, NULL, 0);
	}
	assert_int_equal(fx->sys.vmobjects, 0);
	assert_int_equal(vmfx_resident(s2), 4);
	assert_non_null(vm_search(s1, a)->object);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

/* ---- destroy, tasks, grant ---- */

/* A handle in a's table naming task b, with rights. */
static cap_handle_t task_handle(struct sfx *fx, struct sys_task *a, struct sys_task *b, cap_rights_t rights)
{
	cap_handle_t h;
	assert_int_equal(sys_task_install(a, &b->k.cap, rights, &h), 0);
	sfx_check(fx);
	return h;
}

/* Destroying a space revokes every handle naming it, in every table; the
 * space goes with its last reference, or is emptied at once when a task
 * still runs in it. */
static void test_space_destroy(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *a = sfx_task(fx), *b = sfx_task(fx);
	cap_handle_t b_in_a = task_handle(fx, a, b, CAP_RIGHTS_TASK);
	uint64_t frames0 = fx->vm.s.vm.user_frames;
	cap_handle_t sp = sfx_new_space(fx, a);
	sfx_map(fx, a, sp, 0, 4 * PG, RW, ANON | VM_MAP_POPULATE);
	cap_handle_t gb = sfx_grant(fx, a, sp, b_in_a, CAP_RIGHTS_SPACE);
	cap_handle_t d = sfx_derive(fx, b, gb, CAP_RIGHT_READ);
	cap_handle_t w = sfx_derive(fx, a, sp, CAP_RIGHT_READ | CAP_RIGHT_MAP);
	assert_int_equal(fx->vm.s.vm.user_frames, frames0 + 4);
	struct sys_request q = req1(SYS_VM_DESTROY, w);
	sfx_refused(fx, a, &q, -MMK_EPERM);
	uint64_t spaces = fx->sys.spaces;
	q = req1(SYS_VM_DESTROY, gb); /* b destroys through its granted handle */
	sfx_call(fx, b, &q, NULL, 0);
	assert_int_equal(fx->sys.spaces, spaces - 1);
	assert_int_equal(fx->vm.s.vm.user_frames, frames0);
	const cap_handle_t gone[][2] = { { 0, sp }, { 0, w }, { 1, gb }, { 1, d } };
	for (int i = 0; i < 4; i++)
		assert_int_equal(sfx_rights(fx, gone[i][0] ? b : a, gone[i][1]), -1);
	/* a space a task runs in: emptied now, freed with the task */
	cap_handle_t s2 = sfx_new_space(fx, a);
	sfx_map(fx, a, s2, 0, 4 * PG, RW, ANON | VM_MAP_POPULATE);
	struct sys_reply r;
	q = req1(SYS_TASK_CREATE, s2);
	sfx_call(fx, a, &q, &r, 0);
	cap_handle_t task = r.handles[0];
	struct vm_space *as = sfx_space(a, s2);
	q = req1(SYS_VM_DESTROY, s2);
	sfx_call(fx, a, &q, NULL, 0);
	assert_int_equal(fx->sys.spaces, spaces);
	assert_int_equal(vmfx_vmas(as), 0);
	assert_int_equal(fx->vm.s.vm.user_frames, frames0);
	q = req1(SYS_TASK_DESTROY, task);
	sfx_call(fx, a, &q, NULL, 0);
	assert_int_equal(fx->sys.spaces, spaces - 1);
	sfx_task_done(fx, a);
	sfx_task_done(fx, b);
	sfx_delete(fx);
}

static void test_tasks_and_grant(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *a = sfx_task(fx);
	struct sys_reply r;
	/* a new task in a new space */
	struct sys_request q = req1(SYS_TASK_CREATE, CAP_HANDLE_NONE);
	sfx_call(fx, a, &q, &r, 0);
	cap_handle_t t1 = r.handles[0];
	assert_int_equal(r.results[0], 0);
	assert_int_equal(sfx_rights(fx, a, t1), CAP_RIGHTS_TASK);
	assert_int_equal(fx->sys.tasks, 2);
	/* a task in a's space needs GRANT on the space handle */
	cap_handle_t nogrant = sfx_derive(fx, a, OWN_SPACE, CAP_RIGHTS_SPACE & ~CAP_RIGHT_GRANT);
	q = req1(SYS_TASK_CREATE, nogrant);
	sfx_refused(fx, a, &q, -MMK_EPERM);
	q = req1(SYS_TASK_CREATE, t1); /* not a space */
	sfx_refused(fx, a, &q, -MMK_EINVAL);
	cap_handle_t weak = sfx_derive(fx, a, OWN_SPACE, CAP_RIGHT_READ | CAP_RIGHT_MAP | CAP_RIGHT_GRANT);
	q = req1(SYS_TASK_CREATE, weak);
	sfx_call(fx, a, &q, &r, 0);
	cap_handle_t t2 = r.handles[0];
	struct sys_task *task2 = (struct sys_task *)a->table.slots[t2]->obj;
	assert_ptr_equal(task2->space, a->space);
	/* its handle to the space is a child of weak, with weak's rights */
	assert_ptr_equal(task2->table.slots[r.results[0]]->parent, a->table.slots[weak]);
	assert_int_equal(task2->table.slots[r.results[0]]->rights, CAP_RIGHT_READ | CAP_RIGHT_MAP | CAP_RIGHT_GRANT);
	/* granting into a task needs WRITE on its handle and GRANT on the source */
	cap_handle_t t2_nowrite = sfx_derive(fx, a, t2, CAP_RIGHT_READ);
	q = req1(SYS_CAP_GRANT, OWN_SPACE);
	q.handles[1] = t2_nowrite;
	sfx_refused(fx, a, &q, -MMK_EPERM);
	q.handles[1] = t2;
	q.args[0] = CAP_RIGHTS_SPACE | CAP_RIGHT_CLAIM; /* more than the source */
	sfx_refused(fx, a, &q, -MMK_EPERM);
	q.args[0] = 1ull << 32;
	sfx_refused(fx, a, &q, -MMK_EINVAL);
	q.args[0] = CAP_RIGHT_READ;
	sfx_call(fx, a, &q, &r, 0);
	assert_int_equal(task2->table.slots[r.results[0]]->rights, CAP_RIGHT_READ);
	/* revoking weak takes the task's space handle away, not its space */
	q = req1(SYS_CAP_REVOKE, weak);
	sfx_call(fx, a, &q, &r, 0);
	assert_int_equal(r.results[0], 1);
	assert_ptr_equal(task2->space, a->space);
	/* destroy needs DESTROY; it revokes every handle naming the task */
	cap_handle_t t2_copy = sfx_derive(fx, a, t2, CAP_RIGHTS_TASK);
	q = req1(SYS_TASK_DESTROY, t2_nowrite);
	sfx_refused(fx, a, &q, -MMK_EPERM);
	q = req1(SYS_TASK_DESTROY, t2_copy);
	sfx_call(fx, a, &q, NULL, 0);
	assert_int_equal(sfx_rights(fx, a, t2), -1);
	assert_int_equal(sfx_rights(fx, a, t2_nowrite), -1);
	assert_int_equal(fx->sys.tasks, 2);
	/* a destroyed task's requests are refused */
	struct sys_task *b = sfx_task(fx);
	sys_task_destroy(b);
	q = req1(SYS_CAP_INFO, OWN_SPACE);
	sfx_refused(fx, b, &q, -MMK_EPERM);
	q = sfx_req(SYS_VM_CREATE);
	sfx_refused(fx, b, &q, -MMK_EPERM);
	sys_task_release(b);
	sfx_task_done(fx, a);
	assert_int_equal(fx->sys.tasks, 0);
	sfx_delete(fx);
}

/* A task holding a handle to itself stays alive through it; destroying it
 * breaks the cycle; a task may close the last handle naming itself. */
static void test_task_self_reference(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t self = task_handle(fx, t, t, CAP_RIGHTS_TASK);
	assert_int_equal(t->k.refs, 2);
	sys_task_destroy(t);
	sfx_check(fx);
	assert_int_equal(t->k.refs, 1);
	sys_task_release(t);
	assert_int_equal(fx->sys.tasks, 0);

	t = sfx_task(fx);
	self = task_handle(fx, t, t, CAP_RIGHTS_TASK);
	sys_task_release(t); /* alive through its own handle only */
	sfx_check(fx);
	assert_int_equal(fx->sys.tasks, 1);
	struct sys_request q = req1(SYS_CAP_CLOSE, self);
	struct sys_reply r;
	assert_int_equal(sys_dispatch(t, &q, &r), 0);
	sfx_check(fx);
	assert_int_equal(fx->sys.tasks, 0);
	assert_int_equal(fx->sys.spaces, 0);
	sfx_delete(fx);
}

/* ---- the kernel's tasks with chosen rights ---- */

/* The rights a kernel gives its processes on their own space (kernel/proc.h). */
#define PROC_RIGHTS (CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_EXEC | CAP_RIGHT_MAP | CAP_RIGHT_DERIVE)

/* sys_task_create_in with the failpoint at every allocation in turn: each
 * failure is ENOMEM and changes nothing; returns the task made at last. */
static struct sys_task *create_in_sweep(struct sfx *fx, struct sys_task *from, cap_handle_t space)
{
	struct mmk_failpoint *fp = &fx->vm.s.failpoint;
	for (uint64_t n = 1;; n++) {
		char *before = sfx_state(fx);
		struct sys_task *t = NULL;
		mmk_failpoint_arm(fp, n, false);
		int rc = sys_task_create_in(&fx->sys, from, space, PROC_RIGHTS, &t);
		mmk_failpoint_arm(fp, 0, false);
		sfx_check(fx);
		if (rc == 0) {
			free(before);
			return t;
		}
		assert_int_equal(rc, -MMK_ENOMEM);
		assert_null(t);
		sfx_same_state(fx, before, "a failed sys_task_create_in");
		free(before);
		assert_true(n < 200);
	}
}

static void test_task_create_in(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	/* a new space: handle 0 a root with exactly the rights asked for */
	struct sys_task *a = create_in_sweep(fx, NULL, CAP_HANDLE_NONE);
	assert_int_equal(sfx_rights(fx, a, OWN_SPACE), PROC_RIGHTS);
	assert_null(a->table.slots[OWN_SPACE]->parent);
	struct sys_request q = req1(SYS_VM_DESTROY, OWN_SPACE);
	sfx_refused(fx, a, &q, -MMK_EPERM); /* no DESTROY: the kernel owns the space's life */
	const vaddr_t A = 0x10000000;
	sfx_map(fx, a, OWN_SPACE, A, 2 * PG, RW, ANON | VM_MAP_FIXED | VM_MAP_POPULATE);
	/* a task in a fork of a's space, as a kernel's fork(2) makes it */
	struct sys_reply r;
	q = req1(SYS_VM_FORK, OWN_SPACE);
	sfx_call(fx, a, &q, &r, 0);
	cap_handle_t forked = r.handles[0];
	cap_handle_t weak = sfx_derive(fx, a, OWN_SPACE, CAP_RIGHT_READ | CAP_RIGHT_MAP);
	q = vmreq(SYS_VM_OBJECT_CREATE, CAP_HANDLE_NONE, PG, 0, 0, 0, 0);
	sfx_call(fx, a, &q, &r, 0);
	cap_handle_t obj = r.handles[0];
	struct sys_task *dead = sfx_task(fx);
	sys_task_destroy(dead);
	const struct {
		struct sys_task *from;
		cap_handle_t space;
		cap_rights_t rights;
		int want;
	} bad[] = {
		{ NULL, forked, PROC_RIGHTS, -MMK_EINVAL },             /* no table to look in */
		{ NULL, CAP_HANDLE_NONE, CAP_RIGHT_CLAIM, -MMK_EINVAL }, /* not a space right */
		{ dead, OWN_SPACE, PROC_RIGHTS, -MMK_EPERM },
		{ a, CAP_HANDLE_NONE, PROC_RIGHTS, -MMK_EBADF },
		{ a, 33, PROC_RIGHTS, -MMK_EBADF },
		{ a, -4, PROC_RIGHTS, -MMK_EBADF },
		{ a, obj, PROC_RIGHTS, -MMK_EINVAL },                   /* not a space */
		{ a, forked, PROC_RIGHTS | CAP_RIGHT_CLAIM, -MMK_EINVAL },
		{ a, weak, PROC_RIGHTS, -MMK_EPERM },                   /* more than the source */
		{ a, OWN_SPACE, CAP_RIGHTS_SPACE, -MMK_EPERM },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *before = sfx_state(fx);
		struct sys_task *t = NULL;
		assert_int_equal(sys_task_create_in(&fx->sys, bad[i].from, bad[i].space, bad[i].rights, &t), bad[i].want);
		assert_null(t);
		sfx_check(fx);
		sfx_same_state(fx, before, "a refused sys_task_create_in");
		free(before);
	}
	sys_task_release(dead);
	uint64_t spaces = fx->sys.spaces;
	struct sys_task *b = create_in_sweep(fx, a, forked);
	assert_int_equal(fx->sys.spaces, spaces);
	assert_ptr_equal(b->space->as, sfx_space(a, forked));
	assert_ptr_equal(b->table.slots[OWN_SPACE]->parent, a->table.slots[forked]);
	assert_int_equal(sfx_rights(fx, b, OWN_SPACE), PROC_RIGHTS);
	/* the source handle closed: b's handle takes its place as a root, and
	 * the space lives on in b until b goes */
	q = req1(SYS_CAP_CLOSE, forked);
	sfx_call(fx, a, &q, NULL, 0);
	assert_null(b->table.slots[OWN_SPACE]->parent);
	assert_non_null(vm_search(b->space->as, A));
	q = vmreq(SYS_VM_UNMAP, OWN_SPACE, A, PG, 0, 0, 0);
	sfx_call(fx, b, &q, NULL, 0);
	assert_non_null(vm_search(a->space->as, A)); /* a's own layout untouched */
	sfx_task_done(fx, b);
	assert_int_equal(fx->sys.spaces, spaces - 1);
	sfx_task_done(fx, a);
	sfx_delete(fx);
}

/* ---- allocation-failure sweep over every handler ---- */

static void test_failure_sweep(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *a = sfx_task(fx), *b = sfx_task(fx);
	cap_handle_t b_in_a = task_handle(fx, a, b, CAP_RIGHTS_TASK);
	struct sys_reply r;
	struct sys_request q = sfx_req(SYS_VM_CREATE);
	sfx_sweep(fx, a, &q, &r);
	cap_handle_t s = r.handles[0];
	const vaddr_t A = 0x40000000;
	q = vmreq(SYS_VM_MAP, s, A, 16 * PG, RW, ANON | VM_MAP_FIXED | VM_MAP_POPULATE, 0);
	sfx_sweep(fx, a, &q, &r);
	q = vmreq(SYS_VM_OBJECT_CREATE, CAP_HANDLE_NONE, 8 * PG, 0, 0, 0, 0);
	sfx_sweep(fx, a, &q, &r);
	cap_handle_t o = r.handles[0];
	q = vmreq(SYS_VM_MAP, s, 0, 8 * PG, RW, VM_MAP_SHARED | VM_MAP_POPULATE, 0);
	q.handles[1] = o;
	sfx_sweep(fx, a, &q, &r);
	q = vmreq(SYS_VM_PROTECT, s, A + 4 * PG, 2 * PG, VM_PROT_READ, 0, 0);
	sfx_sweep(fx, a, &q, &r);
	q = vmreq(SYS_VM_REMAP, s, A + 12 * PG, 4 * PG, 32 * PG, VM_MREMAP_MAYMOVE, 0);
	sfx_sweep(fx, a, &q, &r);
	q = vmreq(SYS_VM_ADVISE, s, A, 2 * PG, VM_MADV_DONTNEED, 0, 0);
	sfx_sweep(fx, a, &q, &r);
	q = vmreq(SYS_VM_ADVISE, s, A + PG, PG, VM_MADV_DONTFORK, 0, 0);
	sfx_sweep(fx, a, &q, &r);
	q = req1(SYS_VM_FORK, s);
	sfx_sweep(fx, a, &q, &r);
	cap_handle_t f = r.handles[0];
	q = vmreq(SYS_VM_QUERY, f, A, 0, 0, 0, 0);
	sfx_sweep(fx, a, &q, &r);
	q = vmreq(SYS_CAP_DERIVE, s, CAP_RIGHT_READ | CAP_RIGHT_MAP | CAP_RIGHT_GRANT, 0, 0, 0, 0);
	sfx_sweep(fx, a, &q, &r);
	cap_handle_t weak = r.handles[0];
	q = vmreq(SYS_CAP_GRANT, s, CAP_RIGHT_READ, 0, 0, 0, 0);
	q.handles[1] = b_in_a;
	sfx_sweep(fx, a, &q, &r);
	q = req1(SYS_TASK_CREATE, CAP_HANDLE_NONE);
	sfx_sweep(fx, a, &q, &r);
	cap_handle_t t1 = r.handles[0];
	q = req1(SYS_TASK_CREATE, weak);
	sfx_sweep(fx, a, &q, &r);
	q = vmreq(SYS_CAP_INFO, t1, 0, 0, 0, 0, 0);
	sfx_sweep(fx, a, &q, &r);
	assert_int_equal(a->table.capacity, 8);
	q = vmreq(SYS_CAP_DERIVE, t1, CAP_RIGHT_READ, 0, 0, 0, 0); /* the 9th handle: the table grows */
	sfx_sweep(fx, a, &q, &r);
	assert_int_equal(a->table.capacity, 16);
	q = vmreq(SYS_VM_UNMAP, s, A + 8 * PG, PG, 0, 0, 0); /* splits a VMA */
	sfx_sweep(fx, a, &q, &r);
	q = req1(SYS_CAP_REVOKE, s);
	sfx_sweep(fx, a, &q, &r);
	assert_int_equal(r.results[0], 3); /* weak, b's copy, the second task's space handle */
	q = req1(SYS_TASK_DESTROY, t1);
	sfx_sweep(fx, a, &q, &r);
	q = req1(SYS_VM_DESTROY, f);
	sfx_sweep(fx, a, &q, &r);
	q = req1(SYS_CAP_CLOSE, o);
	sfx_sweep(fx, a, &q, &r);
	q = req1(SYS_VM_DESTROY, s);
	sfx_sweep(fx, a, &q, &r);
	sfx_task_done(fx, a);
	sfx_task_done(fx, b);
	sfx_delete(fx);
}

/* ---- fuzz ---- */

struct op_shape {
	uint32_t op;
	int nargs, nhandles;
};

static const struct op_shape shapes[] = {
	{ SYS_CAP_INFO, 0, 1 },    { SYS_CAP_DERIVE, 1, 1 },   { SYS_CAP_GRANT, 1, 2 },    { SYS_CAP_CLOSE, 0, 1 },
	{ SYS_CAP_REVOKE, 0, 1 },  { SYS_TASK_CREATE, 0, 1 },  { SYS_TASK_DESTROY, 0, 1 }, { SYS_VM_CREATE, 0, 0 },
	{ SYS_VM_MAP, 5, 2 },      { SYS_VM_MAP, 5, 2 },       { SYS_VM_UNMAP, 2, 1 },     { SYS_VM_PROTECT, 3, 1 },
	{ SYS_VM_REMAP, 5, 1 },    { SYS_VM_ADVISE, 3, 1 },    { SYS_VM_FORK, 0, 1 },      { SYS_VM_DESTROY, 0, 1 },
	{ SYS_VM_QUERY, 1, 1 },    { SYS_VM_OBJECT_CREATE, 1, 0 },
	{ SYS_ACCOUNT_SPLIT, 2, 1 },  { SYS_ACCOUNT_DESTROY, 0, 1 }, { SYS_ACCOUNT_USAGE, 0, 1 },
	{ SYS_MOP_CREATE, 2, 1 },     { SYS_MOP_CREATE, 2, 1 },      { SYS_MOP_CHILD, 2, 1 },
	{ SYS_MOP_CLAIM, 2, 1 },      { SYS_MOP_CLAIM, 2, 1 },       { SYS_MOP_RELEASE, 2, 1 },
	{ SYS_MOP_RELEASE, 2, 1 },    { SYS_MOP_DESTROY, 0, 1 },     { SYS_MOP_USAGE, 0, 1 },
	{ SYS_CONTAINER_CREATE, 0, 1 },     { SYS_CONTAINER_CREATE, 0, 1 }, { SYS_CONTAINER_ALLOCATE, 3, 1 },
	{ SYS_CONTAINER_ALLOCATE, 3, 1 },   { SYS_CONTAINER_DEALLOCATE, 2, 1 }, { SYS_CONTAINER_MAP, 5, 2 },
	{ SYS_CONTAINER_READ, 2, 1 },       { SYS_CONTAINER_WRITE, 3, 1 },  { SYS_CONTAINER_SHARE, 1, 1 },
	{ SYS_CONTAINER_CANCEL, 0, 1 },     { SYS_CONTAINER_DESTROY, 0, 1 },
	{ SYS_FRAME_GIVE, 6, 1 },           { SYS_FRAME_TAKE, 6, 1 },       { SYS_FRAME_TAKE, 6, 1 },
};

/* The frames the fuzz gives and takes: free user frames of the DMA zone
 * (which the other zones' allocations leave alone), so that some requests
 * succeed.  The kernel allocates its own free frames first, so a given
 * frame is often taken by a slab and refused back (EBUSY) until freed:
 * the pool is large enough to outlast that. */
#define FUZZ_FRAMES 64
static pfn_t fuzz_frames[FUZZ_FRAMES];

static void pick_fuzz_frames(struct sfx *fx)
{
	struct phys *ph = &fx->vm.s.phys;
	int n = 0;
	for (pfn_t p = ph->base_pfn + 1024; n < FUZZ_FRAMES && p < ph->end_pfn; p++)
		if (phys_owner_of(ph, p) == MMK_OWNER_NONE)
			fuzz_frames[n++] = p;
	assert_int_equal(n, FUZZ_FRAMES);
}

/* Take back what the fuzz left with the kernel, free on its lists (the
 * leak baseline counts user space's free frames). */
static void return_fuzz_frames(struct sfx *fx)
{
	for (int i = 0; i < FUZZ_FRAMES; i++)
		if (phys_owner_of(&fx->vm.s.phys, fuzz_frames[i]) == MMK_OWNER_KERNEL)
			(void)phys_take_from_kernel(&fx->vm.s.phys, &fuzz_frames[i], 1);
}

static uint64_t fuzz_arg(uint64_t *seed)
{
	uint64_t r = kfx_rand(seed);
	switch (r % 12) {
	case 0: return 0;
	case 1: return kfx_rand(seed) % 16;                               /* prot, advice, small */
	case 2: return (kfx_rand(seed) % 17) * PG;                        /* lengths */
	case 3: return 0x10000000 + (kfx_rand(seed) % 64) * PG;           /* addresses in use */
	case 4: return kfx_rand(seed);                                    /* anything */
	case 5: return UINT64_MAX - kfx_rand(seed) % 3 * PG;              /* overflow bait */
	case 6: return (uint64_t)1 << (kfx_rand(seed) % 64);
	case 7: return ANON | (kfx_rand(seed) % 2 ? VM_MAP_FIXED : 0);   /* map flags */
	case 8: return VM_MAP_SHARED | (kfx_rand(seed) % 4 ? 0 : VM_MAP_POPULATE);
	case 9: return (CAP_RIGHTS_SPACE | CAP_RIGHTS_ACCOUNT | CAP_RIGHTS_MOP) & (cap_rights_t)kfx_rand(seed); /* rights */
	case 10: return VM_MREMAP_MAYMOVE | (kfx_rand(seed) % 3 == 0 ? VM_MREMAP_FIXED : 0);
	default: return (kfx_rand(seed) % 8) * PG + (kfx_rand(seed) % 5 == 0);
	}
}

/* Arguments of the account and MOP calls: mostly well formed (small
 * limits, no name, ranges in the claims reservation), so that requests get
 * past the argument checks and reach the rules; sometimes anything. */
static uint64_t fuzz_container_arg(uint64_t *seed, uint32_t op, int i);

static uint64_t fuzz_own_arg(uint64_t *seed, uint32_t op, int i)
{
	if (kfx_rand(seed) % 4 == 0)
		return fuzz_arg(seed);
	if (SYS_OP_FAMILY(op) == SYS_FAMILY_CONTAINER)
		return fuzz_container_arg(seed, op, i);
	if (SYS_OP_FAMILY(op) == SYS_FAMILY_FRAME)
		return i == 0 ? 1 + kfx_rand(seed) % 2 * (kfx_rand(seed) % SYS_FRAME_BATCH)
			      : fuzz_frames[kfx_rand(seed) % FUZZ_FRAMES];
	if (op == SYS_MOP_CLAIM || op == SYS_MOP_RELEASE)
		return i == 0 ? SFX_CLAIMS_BASE + (kfx_rand(seed) % 48) * PG : (1 + kfx_rand(seed) % 8) * PG;
	if (i == 1)
		return kfx_rand(seed) % 4 ? 0 : 0x6d; /* "m" */
	return 1 + kfx_rand(seed) % 64;
}

/* Container arguments: offsets and lengths in the first 16 pages, a few
 * pages to allocate, 1..8 bytes to read or write, weak rights to share,
 * READ/WRITE protections to map. */
static uint64_t fuzz_container_arg(uint64_t *seed, uint32_t op, int i)
{
	uint64_t pages = kfx_rand(seed) % 16;
	switch (op) {
	case SYS_CONTAINER_ALLOCATE:
		return i == 0 ? pages * PG : i == 1 ? 1 + kfx_rand(seed) % 4 : kfx_rand(seed) % 4 == 0;
	case SYS_CONTAINER_DEALLOCATE: return i == 0 ? pages * PG : (1 + kfx_rand(seed) % 4) * PG;
	case SYS_CONTAINER_READ:
	case SYS_CONTAINER_WRITE:
		return i == 0 ? pages * PG + kfx_rand(seed) % 16 : i == 1 ? 1 + kfx_rand(seed) % 8 : kfx_rand(seed) % 256;
	case SYS_CONTAINER_SHARE: return CAP_RIGHTS_CONTAINER_WEAK & (cap_rights_t)kfx_rand(seed);
	case SYS_CONTAINER_MAP:
		return i == 1 ? pages * PG : i == 2 ? (1 + kfx_rand(seed) % 4) * PG : i == 3 ? 1 + kfx_rand(seed) % 3 : 0;
	default: return 0;
	}
}

/* The type of handle h of a request of op gets, mostly: the family's own. */
static enum cap_type fuzz_own_type(uint32_t op, int h)
{
	if (op == SYS_MOP_CREATE || op == SYS_CONTAINER_CREATE || SYS_OP_FAMILY(op) == SYS_FAMILY_ACCOUNT)
		return CAP_TYPE_ACCOUNT;
	if (SYS_OP_FAMILY(op) == SYS_FAMILY_CONTAINER)
		return h == 1 ? CAP_TYPE_SPACE : CAP_TYPE_CONTAINER;
	return SYS_OP_FAMILY(op) == SYS_FAMILY_FRAME ? CAP_TYPE_FRAMES : CAP_TYPE_MOP;
}

/* Half the time a handle of the caller's naming an object of type (the
 * account and MOP calls would rarely meet one by chance), else any. */
static cap_handle_t fuzz_typed_handle(uint64_t *seed, struct sys_task *t, enum cap_type type);

static cap_handle_t fuzz_handle(uint64_t *seed)
{
	uint64_t r = kfx_rand(seed) % 20;
	if (r < 12)
		return (cap_handle_t)(kfx_rand(seed) % 14);
	if (r < 17)
		return CAP_HANDLE_NONE;
	return (cap_handle_t)kfx_rand(seed);
}

static cap_handle_t fuzz_typed_handle(uint64_t *seed, struct sys_task *t, enum cap_type type)
{
	if (kfx_rand(seed) % 2 == 0 || t->dead)
		return fuzz_handle(seed);
	uint32_t n = 0, pick;
	for (uint32_t i = 0; i < t->table.capacity; i++)
		n += t->table.slots[i] && t->table.slots[i]->obj->ops->type == type;
	if (n == 0)
		return fuzz_handle(seed);
	pick = (uint32_t)(kfx_rand(seed) % n);
	for (uint32_t i = 0;; i++)
		if (t->table.slots[i] && t->table.slots[i]->obj->ops->type == type && pick-- == 0)
			return (cap_handle_t)i;
}

/* The kernel gives a live task that lost its frame-manager handles (a
 * random close or revoke) a new one, so frame requests keep reaching
 * phys. */
static void supply_frame_manager(struct sfx *fx, struct sys_task *t)
{
	if (t->dead)
		return;
	for (uint32_t i = 0; i < t->table.capacity; i++)
		if (t->table.slots[i] && t->table.slots[i]->obj->ops->type == CAP_TYPE_FRAMES)
			return;
	cap_handle_t h;
	int rc = sys_task_install_frames(t, CAP_RIGHTS_FRAMES, &h);
	assert_true(rc == 0 || rc == -MMK_EMFILE);
	sfx_check(fx);
}

static bool known_error(int rc)
{
	static const int known[] = { 0, -MMK_EPERM, -MMK_ENOENT, -MMK_EBADF, -MMK_ENOMEM, -MMK_EACCES,
				     -MMK_EFAULT, -MMK_EBUSY, -MMK_EEXIST, -MMK_EINVAL, -MMK_EMFILE, -MMK_ENOSYS,
				     -MMK_EOVERFLOW, -MMK_EIDRM, -MMK_EUSERS };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (rc == known[i])
			return true;
	return false;
}

static void destroy_every_task(struct sfx *fx)
{
	for (;;) {
		struct sys_task *live = NULL;
		for (struct sys_kobj *k = fx->sys.kobjs; k && !live; k = k->next)
			if (k->cap.ops->type == CAP_TYPE_TASK && !((struct sys_task *)k)->dead)
				live = (struct sys_task *)k;
		if (!live)
			return;
		sys_task_destroy(live);
		sfx_check(fx);
	}
}

static void test_fuzz(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	enum { NT = 3, STEPS = 6000 };
	struct sys_task *t[NT];
	for (int i = 0; i < NT; i++)
		t[i] = sfx_task(fx);
	for (int i = 0; i < NT; i++)
		for (int j = 0; j < NT; j++)
			task_handle(fx, t[i], t[(i + j + 1) % NT], j == NT - 1 ? CAP_RIGHTS_TASK : CAP_RIGHT_WRITE);
	for (int i = 0; i < NT; i++) {
		assert_int_equal(sfx_root_account(fx, t[i]), NT + 1); /* accounts and MOPs grow from here */
		cap_handle_t fm;
		assert_int_equal(sys_task_install_frames(t[i], CAP_RIGHTS_FRAMES, &fm), 0);
	}
	pick_fuzz_frames(fx);
	uint64_t seed = 0xf022ed5eeeull, ok = 0, by_rc[128] = { 0 }, ok_own = 0, ok_container = 0, ok_frame = 0;
	for (int step = 0; step < STEPS; step++) {
		if (step % 100 == 0)
			for (int i = 0; i < NT; i++)
				supply_frame_manager(fx, t[i]);
		struct sys_task *caller = t[kfx_rand(&seed) % NT];
		for (int k = 0; k < NT && caller->dead; k++)
			caller = t[(k + 1) % NT]; /* a destroyed task only hears EPERM: ask a live one */
		struct sys_request q;
		memset(&q, 0, sizeof(q));
		const struct op_shape *sh = &shapes[kfx_rand(&seed) % (sizeof(shapes) / sizeof(shapes[0]))];
		bool junk = kfx_rand(&seed) % 10 == 0;
		q.op = junk && kfx_rand(&seed) % 2 ? (uint32_t)kfx_rand(&seed) % 0x800 : sh->op;
		bool own = SYS_OP_FAMILY(q.op) >= SYS_FAMILY_ACCOUNT && SYS_OP_FAMILY(q.op) <= SYS_FAMILY_FRAME;
		for (int i = 0; i < SYS_NARGS; i++)
			q.args[i] = i < sh->nargs && own ? fuzz_own_arg(&seed, q.op, i)
				    : i < sh->nargs || (junk && kfx_rand(&seed) % 3 == 0) ? fuzz_arg(&seed)
											 : 0;
		for (int i = 0; i < SYS_NHANDLES; i++)
			q.handles[i] = i < sh->nhandles || (junk && kfx_rand(&seed) % 3 == 0) ? fuzz_handle(&seed)
											     : CAP_HANDLE_NONE;
		if (SYS_OP_FAMILY(q.op) == SYS_FAMILY_FRAME && q.args[0] <= SYS_FRAME_BATCH && kfx_rand(&seed) % 8)
			for (uint64_t i = q.args[0] + 1; i < SYS_NARGS; i++)
				q.args[i] = 0; /* mostly a well-formed list */
		for (int i = 0; own && i < sh->nhandles; i++)
			q.handles[i] = fuzz_typed_handle(&seed, caller, fuzz_own_type(q.op, i));
		q.flags = junk && kfx_rand(&seed) % 4 == 0 ? (uint32_t)kfx_rand(&seed) : 0;
		char *before = sfx_state(fx);
		struct sys_reply r;
		int rc = sys_dispatch(caller, &q, &r);
		if (!known_error(rc) || rc != r.status)
			fail_msg("step %d: %s (op %#x) returned %d", step, sys_op_name(q.op) ? sys_op_name(q.op) : "?",
				 q.op, rc);
		by_rc[-rc]++;
		sfx_check(fx);
		if (rc) {
			sfx_same_state(fx, before, "a refused fuzz request");
		} else {
			ok++;
			ok_own += SYS_OP_FAMILY(q.op) == SYS_FAMILY_ACCOUNT || SYS_OP_FAMILY(q.op) == SYS_FAMILY_MOP;
			ok_container += SYS_OP_FAMILY(q.op) == SYS_FAMILY_CONTAINER;
			ok_frame += SYS_OP_FAMILY(q.op) == SYS_FAMILY_FRAME;
		}
		free(before);
	}
	printf("fuzz: %d requests, %llu done; refused: EBADF %llu EINVAL %llu EPERM %llu ENOSYS %llu ENOMEM %llu "
	       "EMFILE %llu ENOENT %llu other %llu; %llu spaces, %llu tasks, %llu handles at the end\n",
	       STEPS, (unsigned long long)ok, (unsigned long long)by_rc[MMK_EBADF],
	       (unsigned long long)by_rc[MMK_EINVAL], (unsigned long long)by_rc[MMK_EPERM],
	       (unsigned long long)by_rc[MMK_ENOSYS], (unsigned long long)by_rc[MMK_ENOMEM],
	       (unsigned long long)by_rc[MMK_EMFILE], (unsigned long long)by_rc[MMK_ENOENT],
	       (unsigned long long)(STEPS - ok - by_rc[MMK_EBADF] - by_rc[MMK_EINVAL] - by_rc[MMK_EPERM] -
				    by_rc[MMK_ENOSYS] - by_rc[MMK_ENOMEM] - by_rc[MMK_EMFILE] - by_rc[MMK_ENOENT]),
	       (unsigned long long)fx->sys.spaces, (unsigned long long)fx->sys.tasks,
	       (unsigned long long)fx->sys.caps.handles);
	printf("fuzz: %llu account and MOP requests done; EIDRM %llu EUSERS %llu; %llu accounts, %llu MOPs, "
	       "%llu pages claimed at the end\n",
	       (unsigned long long)ok_own, (unsigned long long)by_rc[MMK_EIDRM], (unsigned long long)by_rc[MMK_EUSERS],
	       (unsigned long long)fx->sys.accounts, (unsigned long long)fx->sys.mops,
	       (unsigned long long)fx->claims.pages[CLAIM_CLAIMED]);
	assert_true(ok > STEPS / 10);
	printf("fuzz: %llu container and %llu frame requests done; %llu containers, %llu pages in them at the end\n",
	       (unsigned long long)ok_container, (unsigned long long)ok_frame, (unsigned long long)fx->sys.containers,
	       (unsigned long long)fx->pm.frame_pages);
	assert_true(ok_own > 20);
	assert_true(ok_container > 20);
	assert_true(ok_frame > 5);
	destroy_every_task(fx);
	return_fuzz_frames(fx);
	for (int i = 0; i < NT; i++)
		sys_task_release(t[i]);
	sfx_check(fx);
	sfx_delete(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_shape),
		cmocka_unit_test(test_handle_rule),
		cmocka_unit_test(test_space_rights),
		cmocka_unit_test(test_space_arguments),
		cmocka_unit_test(test_memory_objects),
		cmocka_unit_test(test_space_destroy),
		cmocka_unit_test(test_tasks_and_grant),
		cmocka_unit_test(test_task_self_reference),
		cmocka_unit_test(test_task_create_in),
		cmocka_unit_test(test_failure_sweep),
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
