/*
 * test_sys_frame.c - the frame family (src/sys/sys_frame.c): seed 002's
 * give-to-kernel and take-from-kernel through a frame-manager handle.
 * Each success moves exactly the listed frames (their owner, the free
 * counts of both sides); each refusal has its exact error and changes
 * nothing (the owner of every frame involved, both free counts, and the
 * whole sys snapshot); the argument shape (count 1..5, unused args 0);
 * the rights (GIVE, TAKE, the type, no handle); the kernel's install; and
 * the allocation-failure sweep (nothing to fail: the calls allocate
 * nothing, seed 002).  The fuzz test of test_sys.c drives these opcodes too.
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

#define NF 6 /* frames each test works with */

struct frame_snap {
	unsigned owner[NF];
	uint64_t user_free, kernel_free;
};

static struct phys *ph_of(struct sfx *fx) { return &fx->vm.s.phys; }

static struct frame_snap snap(struct sfx *fx, const pfn_t *f)
{
	struct frame_snap s;
	memset(&s, 0, sizeof(s));
	struct phys_stats st;
	phys_get_stats(ph_of(fx), &st);
	for (int i = 0; i < NF; i++)
		s.owner[i] = phys_owner_of(ph_of(fx), f[i]);
	s.user_free = st.free_frames;
	s.kernel_free = st.kernel_free_frames;
	return s;
}

static void same_snap(const struct frame_snap *a, const struct frame_snap *b)
{
	for (int i = 0; i < NF; i++)
		assert_int_equal(a->owner[i], b->owner[i]);
	assert_int_equal(a->user_free, b->user_free);
	assert_int_equal(a->kernel_free, b->kernel_free);
}

/* NF free user frames from the DMA zone (below 16 MiB), every other one:
 * the allocator serves the other zones first and the fixture boots far
 * more RAM than a test uses, so the kernel's own allocations, which may
 * take any free frame, never reach these while the test runs (moved()
 * checks where each frame starts, and after every call where it ends). */
static void free_user_frames(struct sfx *fx, pfn_t *f)
{
	struct phys *ph = ph_of(fx);
	int n = 0;
	for (pfn_t p = ph->base_pfn + 1024; n < NF && p < ph->end_pfn; p += 2)
		if (phys_owner_of(ph, p) == MMK_OWNER_NONE)
			f[n++] = p;
	assert_int_equal(n, NF);
}

static struct sys_request frame_req(uint32_t op, cap_handle_t h, size_t n, const pfn_t *pfns)
{
	struct sys_request q = sfx_req(op);
	q.handles[0] = h;
	q.args[0] = n;
	for (size_t i = 0; i < n && i < SYS_FRAME_BATCH; i++)
		q.args[1 + i] = pfns[i];
	return q;
}

/* A refused request: its error, and neither the frames watched nor
 * anything else changed. */
static void refused_q(struct sfx *fx, struct sys_task *t, const struct sys_request *q, const pfn_t *watch, int want)
{
	struct frame_snap before = snap(fx, watch);
	sfx_refused(fx, t, q, want);
	struct frame_snap after = snap(fx, watch);
	same_snap(&before, &after);
}

static void refused(struct sfx *fx, struct sys_task *t, uint32_t op, cap_handle_t h, size_t n, const pfn_t *pfns,
		    const pfn_t *watch, int want)
{
	struct sys_request q = frame_req(op, h, n, pfns);
	refused_q(fx, t, &q, watch, want);
}

/* A request that must move the n frames listed to owner `to`. */
#define moved(fx, t, op, h, n, pfns, to) moved_((fx), (t), (op), (h), (n), (pfns), (to), __LINE__)
static void moved_(struct sfx *fx, struct sys_task *t, uint32_t op, cap_handle_t h, size_t n, const pfn_t *pfns,
		   unsigned to, int line)
{
	for (size_t i = 0; i < n; i++)
		if (phys_owner_of(ph_of(fx), pfns[i]) != (to == MMK_OWNER_KERNEL ? MMK_OWNER_NONE : MMK_OWNER_KERNEL))
			fail_msg("line %d: frame %llu does not start on the giving side", line,
				 (unsigned long long)pfns[i]);
	struct phys_stats b, a;
	phys_get_stats(ph_of(fx), &b);
	struct sys_request q = frame_req(op, h, n, pfns);
	sfx_call(fx, t, &q, NULL, 0);
	phys_get_stats(ph_of(fx), &a);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(phys_owner_of(ph_of(fx), pfns[i]), to);
	int64_t d = to == MMK_OWNER_KERNEL ? (int64_t)n : -(int64_t)n;
	assert_int_equal((int64_t)a.kernel_free_frames - (int64_t)b.kernel_free_frames, d);
	assert_int_equal((int64_t)b.free_frames - (int64_t)a.free_frames, d);
}

static cap_handle_t install(struct sfx *fx, struct sys_task *t, cap_rights_t rights)
{
	cap_handle_t h = CAP_HANDLE_NONE;
	assert_int_equal(sys_task_install_frames(t, rights, &h), 0);
	sfx_check(fx);
	return h;
}

/* Each test's start: a fixture, a task holding a frame manager with every
 * right, NF free user frames. */
struct ffx {
	struct sfx *fx;
	struct sys_task *t;
	pfn_t f[NF];
	cap_handle_t h;
};

static struct ffx ffx_start(void **state)
{
	(void)state;
	struct ffx x;
	x.fx = sfx_new();
	x.t = sfx_task(x.fx);
	free_user_frames(x.fx, x.f);
	x.h = install(x.fx, x.t, CAP_RIGHTS_FRAMES);
	return x;
}

static void test_give_and_take(void **state)
{
	struct ffx ff = ffx_start(state);
	struct sfx *fx = ff.fx;
	struct sys_task *t = ff.t;
	pfn_t *f = ff.f;
	cap_handle_t h = ff.h;
	assert_int_equal(sfx_rights(fx, t, h), CAP_RIGHTS_FRAMES);
	assert_string_equal(sys_op_name(SYS_FRAME_GIVE), "frame_give");
	/* one frame, then a full batch of the other five; back in two lists */
	moved(fx, t, SYS_FRAME_GIVE, h, 1, f, MMK_OWNER_KERNEL);
	moved(fx, t, SYS_FRAME_GIVE, h, 5, f + 1, MMK_OWNER_KERNEL);
	moved(fx, t, SYS_FRAME_TAKE, h, 2, f + 4, MMK_OWNER_NONE);
	moved(fx, t, SYS_FRAME_TAKE, h, 4, f, MMK_OWNER_NONE);
	/* the frame manager may delegate: granted to another task, it works there */
	struct sys_task *u = sfx_task(fx);
	cap_handle_t uh;
	assert_int_equal(sys_task_install(t, &u->k.cap, CAP_RIGHT_WRITE, &uh), 0);
	cap_handle_t in_u = sfx_grant(fx, t, h, uh, CAP_RIGHT_GIVE);
	moved(fx, u, SYS_FRAME_GIVE, in_u, 2, f, MMK_OWNER_KERNEL);
	refused(fx, u, SYS_FRAME_TAKE, in_u, 2, f, f, -MMK_EPERM);
	moved(fx, t, SYS_FRAME_TAKE, h, 2, f, MMK_OWNER_NONE);
	sfx_task_done(fx, u);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

static void test_refusals(void **state)
{
	struct ffx ff = ffx_start(state);
	struct sfx *fx = ff.fx;
	struct sys_task *t = ff.t;
	pfn_t *f = ff.f;
	cap_handle_t h = ff.h;
	/* blocks in use, allocated before any frame is the kernel's (a kernel
	 * allocation takes the kernel's free frames first) */
	pfn_t busy_user, busy_kernel;
	assert_int_equal(phys_alloc(ph_of(fx), 0, PHYS_USER, &busy_user), 0);
	assert_int_equal(phys_alloc(ph_of(fx), 0, 0, &busy_kernel), 0);
	moved(fx, t, SYS_FRAME_GIVE, h, 2, f, MMK_OWNER_KERNEL); /* f0, f1 the kernel's; f2.. user space's */
	/* the shape: count 1..5, the args after the list 0 */
	refused(fx, t, SYS_FRAME_GIVE, h, 0, f, f, -MMK_EINVAL);
	struct sys_request q = frame_req(SYS_FRAME_GIVE, h, 2, f + 2);
	q.args[0] = 6;
	refused_q(fx, t, &q, f, -MMK_EINVAL);
	q.args[0] = UINT64_MAX;
	refused_q(fx, t, &q, f, -MMK_EINVAL);
	q = frame_req(SYS_FRAME_GIVE, h, 2, f + 2);
	q.args[3] = f[4]; /* a third frame past the count of 2 */
	refused_q(fx, t, &q, f, -MMK_EINVAL);
	q = frame_req(SYS_FRAME_TAKE, h, 1, f);
	q.args[5] = 1;
	refused_q(fx, t, &q, f, -MMK_EINVAL);
	/* phys's errors, for the first bad frame; the good ones before it do not move */
	pfn_t list[5] = { f[2], f[0] };
	refused(fx, t, SYS_FRAME_GIVE, h, 2, list, f, -MMK_EEXIST); /* f0 is the kernel's already */
	list[1] = f[2];
	refused(fx, t, SYS_FRAME_GIVE, h, 2, list, f, -MMK_EEXIST); /* listed twice */
	list[0] = f[0];
	list[1] = f[2];
	refused(fx, t, SYS_FRAME_TAKE, h, 2, list, f, -MMK_EEXIST); /* f2 is user space's already */
	list[1] = fx->vm.s.phys.end_pfn + 7;
	refused(fx, t, SYS_FRAME_TAKE, h, 2, list, f, -MMK_EINVAL); /* not RAM */
	list[1] = UINT64_MAX;
	refused(fx, t, SYS_FRAME_TAKE, h, 2, list, f, -MMK_EINVAL);
	/* in use: a user block allocated (give), a kernel block allocated (take) */
	list[0] = f[3];
	list[1] = busy_user;
	refused(fx, t, SYS_FRAME_GIVE, h, 2, list, f, -MMK_EBUSY);
	list[0] = f[1];
	list[1] = busy_kernel;
	refused(fx, t, SYS_FRAME_TAKE, h, 2, list, f, -MMK_EBUSY);
	assert_int_equal(phys_owner_of(ph_of(fx), busy_user), MMK_OWNER_USER);
	assert_int_equal(phys_owner_of(ph_of(fx), busy_kernel), MMK_OWNER_KERNEL);
	/* the architecture forbids the kernel the top frame (give only) */
	moved(fx, t, SYS_FRAME_TAKE, h, 2, f, MMK_OWNER_NONE);
	assert_int_equal(phys_free(ph_of(fx), busy_user, 0), 0);
	assert_int_equal(phys_free(ph_of(fx), busy_kernel, 0), 0);
	pfn_t top = f[0];
	for (int i = 1; i < NF; i++)
		top = f[i] > top ? f[i] : top;
	struct phys *ph = ph_of(fx);
	pfn_t kstart = ph->kernel_start_pfn, kend = ph->kernel_end_pfn;
	assert_int_equal(phys_set_kernel_frames(ph, kstart, top), 0);
	list[0] = top == f[0] ? f[1] : f[0];
	list[1] = top;
	refused(fx, t, SYS_FRAME_GIVE, h, 2, list, f, -MMK_EPERM);
	assert_int_equal(phys_set_kernel_frames(ph, kstart, kend), 0);
	moved(fx, t, SYS_FRAME_GIVE, h, 2, list, MMK_OWNER_KERNEL);
	moved(fx, t, SYS_FRAME_TAKE, h, 2, list, MMK_OWNER_NONE);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

static void test_rights(void **state)
{
	struct ffx ff = ffx_start(state);
	struct sfx *fx = ff.fx;
	struct sys_task *t = ff.t;
	pfn_t *f = ff.f;
	cap_handle_t h = ff.h;
	cap_handle_t give = sfx_derive(fx, t, h, CAP_RIGHT_GIVE);
	cap_handle_t take = sfx_derive(fx, t, h, CAP_RIGHT_TAKE);
	refused(fx, t, SYS_FRAME_GIVE, take, 1, f, f, -MMK_EPERM);
	moved(fx, t, SYS_FRAME_GIVE, give, 1, f, MMK_OWNER_KERNEL);
	refused(fx, t, SYS_FRAME_TAKE, give, 1, f, f, -MMK_EPERM);
	moved(fx, t, SYS_FRAME_TAKE, take, 1, f, MMK_OWNER_NONE);
	/* another type (the task's space), no handle, a closed one */
	refused(fx, t, SYS_FRAME_GIVE, 0, 1, f, f, -MMK_EINVAL);
	refused(fx, t, SYS_FRAME_GIVE, CAP_HANDLE_NONE, 1, f, f, -MMK_EBADF);
	refused(fx, t, SYS_FRAME_GIVE, 40, 1, f, f, -MMK_EBADF);
	/* a root account handle is not a frame manager */
	cap_handle_t root = sfx_root_account(fx, t);
	refused(fx, t, SYS_FRAME_GIVE, root, 1, f, f, -MMK_EINVAL);
	/* the order: shape (an unused handle not NONE) before the handle,
	 * the handle before the count */
	struct sys_request q = frame_req(SYS_FRAME_GIVE, 40, 1, f);
	q.handles[1] = h;
	refused_q(fx, t, &q, f, -MMK_EINVAL);
	refused(fx, t, SYS_FRAME_GIVE, 40, 0, f, f, -MMK_EBADF);
	/* the kernel's install: rights within the type's, a live task */
	cap_handle_t x;
	assert_int_equal(sys_task_install_frames(t, CAP_RIGHT_READ, &x), -MMK_EINVAL);
	assert_int_equal(sys_task_install_frames(t, CAP_RIGHTS_FRAMES | CAP_RIGHT_ALLOC, &x), -MMK_EINVAL);
	sfx_check(fx);
	/* closing every handle frees the object */
	q = sfx_req(SYS_CAP_CLOSE);
	q.handles[0] = h;
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->sys.frame_managers, 1); /* give and take still name it */
	q.handles[0] = give;
	sfx_call(fx, t, &q, NULL, 0);
	q.handles[0] = take;
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->sys.frame_managers, 0);
	sys_task_destroy(t);
	assert_int_equal(sys_task_install_frames(t, CAP_RIGHT_GIVE, &x), -MMK_EPERM);
	sys_task_release(t);
	sfx_check(fx);
	sfx_delete(fx);
}

/* Seed 002: neither call can fail for lack of memory.  The sweep's first
 * try, with the first allocation failing, succeeds; then with every
 * allocation failing (sticky), both still succeed. */
static void test_failure_sweep(void **state)
{
	struct ffx ff = ffx_start(state);
	struct sfx *fx = ff.fx;
	struct sys_task *t = ff.t;
	pfn_t *f = ff.f;
	cap_handle_t h = ff.h;
	struct sys_request q = frame_req(SYS_FRAME_GIVE, h, 5, f);
	struct sys_reply r;
	sfx_sweep(fx, t, &q, &r);
	q = frame_req(SYS_FRAME_TAKE, h, 5, f);
	sfx_sweep(fx, t, &q, &r);
	mmk_failpoint_arm(&fx->vm.s.failpoint, 1, true);
	moved(fx, t, SYS_FRAME_GIVE, h, 3, f, MMK_OWNER_KERNEL);
	moved(fx, t, SYS_FRAME_TAKE, h, 3, f, MMK_OWNER_NONE);
	mmk_failpoint_arm(&fx->vm.s.failpoint, 0, false);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_give_and_take),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_rights),
		cmocka_unit_test(test_failure_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
