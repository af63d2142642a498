/*
 * test_sys_mop.c - the account and MOP families of the request surface
 * (src/sys/sys_acct.c, sys_mop.c): each rule through sys_dispatch, each
 * refusal with its exact error and proof that nothing changed (sfx_refused
 * compares every table, object, the account tree and the claims trie), the
 * rights (SPLIT, DESTROY, READ on accounts; CLAIM, SPLIT, DESTROY on MOPs,
 * and no way from a MOP handle to memory), destroy cascades seen through
 * handles, the MOP destroyed with its last reference, the families off
 * without an account system, and the allocation-failure sweep over every
 * handler.  The fuzz test of test_sys.c drives these opcodes too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "own_text.h"
#include "sys_fixture.h"

#define A0 SFX_CLAIMS_BASE

static struct sys_request rq(uint32_t op, cap_handle_t h0, uint64_t a0, uint64_t a1)
{
	struct sys_request q = sfx_req(op);
	q.handles[0] = h0;
	q.args[0] = a0;
	q.args[1] = a1;
	return q;
}

/* A call that must succeed; returns the reply. */
static struct sys_reply ok(struct sfx *fx, struct sys_task *t, uint32_t op, cap_handle_t h0, uint64_t a0,
			   uint64_t a1)
{
	struct sys_request q = rq(op, h0, a0, a1);
	struct sys_reply r;
	sfx_call(fx, t, &q, &r, 0);
	return r;
}

static void refused(struct sfx *fx, struct sys_task *t, uint32_t op, cap_handle_t h0, uint64_t a0, uint64_t a1,
		    int want)
{
	struct sys_request q = rq(op, h0, a0, a1);
	sfx_refused(fx, t, &q, want);
}

static cap_handle_t split(struct sfx *fx, struct sys_task *t, cap_handle_t acct, uint64_t frames)
{
	return ok(fx, t, SYS_ACCOUNT_SPLIT, acct, frames, 0).handles[0];
}

static cap_handle_t new_mop(struct sfx *fx, struct sys_task *t, cap_handle_t acct, uint64_t limit)
{
	return ok(fx, t, SYS_MOP_CREATE, acct, limit, 0).handles[0];
}

/* results[] of a usage call: limit, charged, donated, available. */
static void expect_usage(struct sfx *fx, struct sys_task *t, uint32_t op, cap_handle_t h, uint64_t limit,
			 uint64_t charged, uint64_t donated)
{
	struct sys_reply r = ok(fx, t, op, h, 0, 0);
	assert_int_equal(r.results[0], limit);
	assert_int_equal(r.results[1], charged);
	assert_int_equal(r.results[2], donated);
	assert_int_equal(r.results[3], limit - charged - donated);
}

/* ---- availability ---- */

static void test_families_need_accounts(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	/* attaching while account objects live is refused */
	assert_int_equal(sys_attach_accounts(&fx->sys, NULL, NULL), -MMK_EBUSY);
	assert_int_equal(sys_attach_accounts(&fx->sys, &fx->acct, NULL), -MMK_EINVAL);
	struct sys_request q = rq(SYS_CAP_CLOSE, root, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(sys_attach_accounts(&fx->sys, NULL, NULL), 0);
	const uint32_t ops[] = { SYS_ACCOUNT_SPLIT, SYS_ACCOUNT_DESTROY, SYS_ACCOUNT_USAGE, SYS_MOP_CREATE,
				 SYS_MOP_CHILD,     SYS_MOP_CLAIM,	 SYS_MOP_RELEASE,   SYS_MOP_DESTROY,
				 SYS_MOP_USAGE };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		refused(fx, t, ops[i], 0, 0, 0, -MMK_ENOSYS);
		assert_non_null(sys_op_name(ops[i]));
	}
	cap_handle_t h;
	assert_int_equal(sys_task_install_account(t, acct_root(&fx->acct), CAP_RIGHTS_ACCOUNT, &h), -MMK_ENOSYS);
	assert_int_equal(sys_attach_accounts(&fx->sys, &fx->acct, &fx->claims), 0);
	assert_string_equal(sys_op_name(SYS_MOP_CLAIM), "mop_claim");
	/* the kernel's install: rights within the type's, a live account */
	assert_int_equal(sys_task_install_account(t, acct_root(&fx->acct), CAP_RIGHT_CLAIM, &h), -MMK_EINVAL);
	assert_int_equal(sys_task_install_account(t, NULL, CAP_RIGHT_READ, &h), -MMK_EINVAL);
	root = sfx_root_account(fx, t);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, root, SFX_ROOT_FRAMES, 0, 0);
	sys_task_destroy(t);
	assert_int_equal(sys_task_install_account(t, acct_root(&fx->acct), CAP_RIGHT_READ, &h), -MMK_EPERM);
	sys_task_release(t);
	sfx_check(fx);
	sfx_delete(fx);
}

/* ---- accounts ---- */

static void test_account_requests(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	/* split: a0 frames, a1 a name */
	struct sys_reply r = ok(fx, t, SYS_ACCOUNT_SPLIT, root, 100, 0x41 /* "A" */);
	cap_handle_t a = r.handles[0];
	assert_int_equal(sfx_rights(fx, t, a), CAP_RIGHTS_ACCOUNT);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, root, SFX_ROOT_FRAMES, 0, 100);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, a, 100, 0, 0);
	char *tree = own_accounts_text(&fx->acct);
	assert_non_null(strstr(tree, " A limit=100"));
	free(tree);
	/* malformed arguments */
	refused(fx, t, SYS_ACCOUNT_SPLIT, a, 0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_ACCOUNT_SPLIT, a, 1, 0x20, -MMK_EINVAL);           /* a space */
	refused(fx, t, SYS_ACCOUNT_SPLIT, a, 1, 0x4100, -MMK_EINVAL);         /* a byte after the end */
	refused(fx, t, SYS_ACCOUNT_SPLIT, a, 1, 0x7f, -MMK_EINVAL);           /* DEL */
	/* the limit */
	refused(fx, t, SYS_ACCOUNT_SPLIT, a, 101, 0, -MMK_ENOMEM);
	refused(fx, t, SYS_ACCOUNT_SPLIT, a, UINT64_MAX, 0, -MMK_ENOMEM);
	cap_handle_t b = ok(fx, t, SYS_ACCOUNT_SPLIT, a, 60, 0x0042424242424242ull).handles[0]; /* "BBBBBBB" */
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, a, 100, 0, 60);
	/* rights: SPLIT, READ, DESTROY each */
	cap_handle_t look = sfx_derive(fx, t, a, CAP_RIGHT_READ);
	cap_handle_t nosee = sfx_derive(fx, t, a, CAP_RIGHT_SPLIT | CAP_RIGHT_DESTROY);
	refused(fx, t, SYS_ACCOUNT_SPLIT, look, 1, 0, -MMK_EPERM);
	refused(fx, t, SYS_MOP_CREATE, look, 1, 0, -MMK_EPERM);
	refused(fx, t, SYS_ACCOUNT_DESTROY, look, 0, 0, -MMK_EPERM);
	refused(fx, t, SYS_ACCOUNT_USAGE, nosee, 0, 0, -MMK_EPERM);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, look, 100, 0, 60);
	/* wrong types both ways */
	refused(fx, t, SYS_ACCOUNT_USAGE, 0 /* the space */, 0, 0, -MMK_EINVAL);
	struct sys_request q = rq(SYS_VM_UNMAP, a, A0, PG);
	sfx_refused(fx, t, &q, -MMK_EINVAL);
	/* the root is the kernel's */
	refused(fx, t, SYS_ACCOUNT_DESTROY, root, 0, 0, -MMK_EPERM);
	/* destroy: the subtree dies, handles to a go, handles below answer EIDRM */
	cap_handle_t c = split(fx, t, b, 10);
	uint64_t accounts = fx->sys.accounts;
	ok(fx, t, SYS_ACCOUNT_DESTROY, nosee, 0, 0);
	assert_int_equal(fx->sys.accounts, accounts - 1); /* a, look, nosee named one object */
	assert_int_equal(sfx_rights(fx, t, a), -1);
	assert_int_equal(sfx_rights(fx, t, look), -1);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, root, SFX_ROOT_FRAMES, 0, 0);
	refused(fx, t, SYS_ACCOUNT_USAGE, b, 0, 0, -MMK_EIDRM);
	refused(fx, t, SYS_ACCOUNT_SPLIT, c, 1, 0, -MMK_EIDRM);
	refused(fx, t, SYS_ACCOUNT_DESTROY, c, 0, 0, -MMK_EIDRM);
	refused(fx, t, SYS_MOP_CREATE, c, 1, 0, -MMK_EIDRM);
	/* a closed account lives on in the tree (its guarantee may back MOPs) */
	cap_handle_t d = split(fx, t, root, 7);
	q = rq(SYS_CAP_CLOSE, d, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, root, SFX_ROOT_FRAMES, 0, 7);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

/* ---- MOPs ---- */

static void test_mop_requests(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	cap_handle_t acct = split(fx, t, root, 1000);
	struct sys_reply r = ok(fx, t, SYS_MOP_CREATE, acct, 100, 0x314d /* "M1" */);
	cap_handle_t m1 = r.handles[0];
	uint64_t id1 = r.results[0];
	assert_true(id1 >= 1);
	assert_int_equal(sfx_rights(fx, t, m1), CAP_RIGHTS_MOP);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, acct, 1000, 0, 100);
	expect_usage(fx, t, SYS_MOP_USAGE, m1, 100, 0, 0);
	/* arguments */
	refused(fx, t, SYS_MOP_CREATE, acct, 0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_MOP_CREATE, acct, 1, 0xff, -MMK_EINVAL);
	refused(fx, t, SYS_MOP_CREATE, acct, 901, 0, -MMK_ENOMEM);
	refused(fx, t, SYS_MOP_CHILD, m1, 101, 0, -MMK_ENOMEM);
	refused(fx, t, SYS_MOP_CLAIM, m1, A0 + 1, PG, -MMK_EINVAL);
	refused(fx, t, SYS_MOP_CLAIM, m1, A0, 0, -MMK_EINVAL);
	refused(fx, t, SYS_MOP_CLAIM, m1, A0 - PG, 2 * PG, -MMK_EINVAL);
	refused(fx, t, SYS_MOP_CLAIM, m1, A0 + SFX_CLAIMS_SIZE - PG, 2 * PG, -MMK_EINVAL);
	refused(fx, t, SYS_MOP_CLAIM, m1, UINT64_MAX - PG + 1, PG, -MMK_EINVAL);
	/* claim charges the new pages, release uncharges what goes */
	ok(fx, t, SYS_MOP_CLAIM, m1, A0, 8 * PG);
	ok(fx, t, SYS_MOP_CLAIM, m1, A0 + 4 * PG, 8 * PG);
	expect_usage(fx, t, SYS_MOP_USAGE, m1, 100, 12, 0);
	ok(fx, t, SYS_MOP_RELEASE, m1, A0 + 4 * PG, 4 * PG); /* counts 2 -> 1 */
	expect_usage(fx, t, SYS_MOP_USAGE, m1, 100, 12, 0);
	ok(fx, t, SYS_MOP_RELEASE, m1, A0, 6 * PG);
	expect_usage(fx, t, SYS_MOP_USAGE, m1, 100, 6, 0);
	assert_int_equal(claims_state(&fx->claims, A0), CLAIM_QUEUED);
	refused(fx, t, SYS_MOP_RELEASE, m1, A0, PG, -MMK_ENOENT);
	refused(fx, t, SYS_MOP_CLAIM, m1, A0, PG, -MMK_EBUSY);
	refused(fx, t, SYS_MOP_CLAIM, m1, A0 + 100 * PG, 95 * PG, -MMK_ENOMEM); /* 6 + 95 > 100 */
	/* rights: CLAIM only claims; no SPLIT, no DESTROY; without CLAIM nothing */
	cap_handle_t claimer = sfx_derive(fx, t, m1, CAP_RIGHT_CLAIM);
	cap_handle_t keeper = sfx_derive(fx, t, m1, CAP_RIGHT_SPLIT | CAP_RIGHT_DESTROY | CAP_RIGHT_DERIVE);
	ok(fx, t, SYS_MOP_CLAIM, claimer, A0 + 20 * PG, PG);
	refused(fx, t, SYS_MOP_CHILD, claimer, 1, 0, -MMK_EPERM);
	refused(fx, t, SYS_MOP_DESTROY, claimer, 0, 0, -MMK_EPERM);
	refused(fx, t, SYS_MOP_CLAIM, keeper, A0 + 30 * PG, PG, -MMK_EPERM);
	refused(fx, t, SYS_MOP_RELEASE, keeper, A0 + 20 * PG, PG, -MMK_EPERM);
	refused(fx, t, SYS_MOP_USAGE, keeper, 0, 0, -MMK_EPERM);
	/* a MOP handle reaches no memory: no READ/WRITE/MAP to derive, not a
	 * space, not an object, not an account */
	{
		struct sys_request q = rq(SYS_CAP_DERIVE, m1, CAP_RIGHT_READ, 0);
		sfx_refused(fx, t, &q, -MMK_EPERM);
		q = rq(SYS_CAP_DERIVE, m1, CAP_RIGHT_MAP | CAP_RIGHT_CLAIM, 0);
		sfx_refused(fx, t, &q, -MMK_EPERM);
		q = rq(SYS_VM_MAP, m1, 0, PG);
		q.args[2] = VM_PROT_READ;
		q.args[3] = VM_MAP_PRIVATE | VM_MAP_ANONYMOUS;
		sfx_refused(fx, t, &q, -MMK_EINVAL);
		q = rq(SYS_VM_MAP, 0, 0, PG);
		q.args[2] = VM_PROT_READ;
		q.args[3] = VM_MAP_SHARED;
		q.handles[1] = m1;
		sfx_refused(fx, t, &q, -MMK_EINVAL);
		refused(fx, t, SYS_ACCOUNT_SPLIT, m1, 1, 0, -MMK_EINVAL);
		refused(fx, t, SYS_MOP_CLAIM, acct, A0, PG, -MMK_EINVAL);
	}
	/* children: limit out of the parent's; a fifth claimant */
	r = ok(fx, t, SYS_MOP_CHILD, keeper, 30, 0);
	cap_handle_t child = r.handles[0];
	assert_true(r.results[0] > id1);
	expect_usage(fx, t, SYS_MOP_USAGE, m1, 100, 7, 30);
	cap_handle_t grand = ok(fx, t, SYS_MOP_CHILD, child, 10, 0).handles[0];
	cap_handle_t others[3];
	for (int i = 0; i < 3; i++) {
		others[i] = new_mop(fx, t, acct, 5);
		ok(fx, t, SYS_MOP_CLAIM, others[i], A0 + 40 * PG, 2 * PG);
	}
	ok(fx, t, SYS_MOP_CLAIM, grand, A0 + 40 * PG, 4 * PG);
	refused(fx, t, SYS_MOP_CLAIM, child, A0 + 41 * PG, PG, -MMK_EUSERS);
	ok(fx, t, SYS_MOP_CLAIM, child, A0 + 42 * PG, 4 * PG);
	/* destroying m1 kills child and grandchild: their claims go, the
	 * handles to them answer EIDRM, m1's handles go */
	uint64_t queued = claims_queued_pages(&fx->claims);
	ok(fx, t, SYS_MOP_DESTROY, keeper, 0, 0);
	assert_int_equal(sfx_rights(fx, t, m1), -1);
	assert_int_equal(sfx_rights(fx, t, claimer), -1);
	refused(fx, t, SYS_MOP_CLAIM, child, A0 + 60 * PG, PG, -MMK_EIDRM);
	refused(fx, t, SYS_MOP_RELEASE, grand, A0 + 40 * PG, PG, -MMK_EIDRM);
	refused(fx, t, SYS_MOP_CHILD, grand, 1, 0, -MMK_EIDRM);
	refused(fx, t, SYS_MOP_DESTROY, child, 0, 0, -MMK_EIDRM);
	refused(fx, t, SYS_MOP_USAGE, child, 0, 0, -MMK_EIDRM);
	/* m1's 7 pages, and of [40, 46) the 4 pages nobody else claims */
	assert_int_equal(claims_queued_pages(&fx->claims), queued + 7 + 4);
	assert_int_equal(claims_state(&fx->claims, A0 + 40 * PG), CLAIM_CLAIMED);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, acct, 1000, 0, 15);
	/* destroying an account kills the MOPs under it */
	ok(fx, t, SYS_ACCOUNT_DESTROY, acct, 0, 0);
	for (int i = 0; i < 3; i++)
		refused(fx, t, SYS_MOP_CLAIM, others[i], A0, PG, -MMK_EIDRM);
	assert_int_equal(fx->claims.pages[CLAIM_CLAIMED], 0);
	assert_int_equal(fx->sys.mops, 5); /* dead, until their handles go */
	sfx_task_done(fx, t);
	assert_int_equal(fx->sys.mops, 0);
	sfx_delete(fx);
}

/* When the last reference to a MOP goes, it is destroyed, and the MOPs
 * below it with it (whoever holds them). */
static void test_last_reference_destroys(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx), *u = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	cap_handle_t u_in_t;
	assert_int_equal(sys_task_install(t, &u->k.cap, CAP_RIGHT_WRITE, &u_in_t), 0);
	cap_handle_t m = new_mop(fx, t, root, 50);
	cap_handle_t kid = ok(fx, t, SYS_MOP_CHILD, m, 20, 0).handles[0];
	struct sys_request q = rq(SYS_CAP_GRANT, kid, CAP_RIGHT_CLAIM, 0);
	q.handles[1] = u_in_t;
	struct sys_reply r;
	sfx_call(fx, t, &q, &r, 0);
	cap_handle_t kid_in_u = (cap_handle_t)r.results[0];
	ok(fx, u, SYS_MOP_CLAIM, kid_in_u, A0 + 8 * PG, 2 * PG);
	ok(fx, t, SYS_MOP_CLAIM, m, A0, 4 * PG);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, root, SFX_ROOT_FRAMES, 0, 50);
	/* closing kid's handle in t leaves u's copy: kid lives */
	q = rq(SYS_CAP_CLOSE, kid, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->sys.mops, 2);
	/* closing m's only handle destroys m, and kid below it */
	q = rq(SYS_CAP_CLOSE, m, 0, 0);
	sfx_call(fx, t, &q, NULL, 0);
	assert_int_equal(fx->sys.mops, 1);
	expect_usage(fx, t, SYS_ACCOUNT_USAGE, root, SFX_ROOT_FRAMES, 0, 0);
	assert_int_equal(claims_queued_pages(&fx->claims), 6);
	refused(fx, u, SYS_MOP_CLAIM, kid_in_u, A0 + 20 * PG, PG, -MMK_EIDRM);
	sfx_task_done(fx, u);
	assert_int_equal(fx->sys.mops, 0);
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

/* ---- allocation failures ---- */

static void test_failure_sweep(void **state)
{
	(void)state;
	struct sfx *fx = sfx_new();
	struct sys_task *t = sfx_task(fx);
	cap_handle_t root = sfx_root_account(fx, t);
	struct sys_reply r;
	struct sys_request q = rq(SYS_ACCOUNT_SPLIT, root, 500, 0x41);
	sfx_sweep(fx, t, &q, &r);
	cap_handle_t a = r.handles[0];
	q = rq(SYS_ACCOUNT_USAGE, a, 0, 0);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_MOP_CREATE, a, 200, 0x4d);
	sfx_sweep(fx, t, &q, &r);
	cap_handle_t m = r.handles[0];
	q = rq(SYS_MOP_CHILD, m, 50, 0);
	sfx_sweep(fx, t, &q, &r);
	cap_handle_t kid = r.handles[0];
	q = rq(SYS_MOP_CLAIM, m, A0 + 100 * PG, 40 * PG);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_MOP_CLAIM, kid, A0 + 120 * PG, 40 * PG); /* shares half, splits nodes */
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_MOP_RELEASE, m, A0 + 110 * PG, 4 * PG);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_MOP_USAGE, m, 0, 0);
	sfx_sweep(fx, t, &q, &r);
	assert_int_equal(r.results[1], 36);
	/* fill the table so that making a MOP must grow it */
	while (t->table.count < t->table.capacity)
		sfx_derive(fx, t, root, CAP_RIGHT_READ);
	uint32_t capacity = t->table.capacity;
	q = rq(SYS_MOP_CREATE, a, 10, 0);
	sfx_sweep(fx, t, &q, &r);
	assert_int_equal(t->table.capacity, 2 * capacity);
	q = rq(SYS_MOP_DESTROY, m, 0, 0);
	sfx_sweep(fx, t, &q, &r);
	q = rq(SYS_ACCOUNT_DESTROY, a, 0, 0);
	sfx_sweep(fx, t, &q, &r);
	/* the kernel's install */
	for (uint64_t n = 1;; n++) {
		char *before = sfx_state(fx);
		cap_handle_t h;
		mmk_failpoint_arm(&fx->vm.s.failpoint, n, false);
		int rc = sys_task_install_account(t, acct_root(&fx->acct), CAP_RIGHT_READ, &h);
		mmk_failpoint_arm(&fx->vm.s.failpoint, 0, false);
		sfx_check(fx);
		if (rc == 0) {
			free(before);
			break;
		}
		assert_int_equal(rc, -MMK_ENOMEM);
		sfx_same_state(fx, before, "sys_task_install_account");
		free(before);
		assert_true(n < 50);
	}
	sfx_task_done(fx, t);
	sfx_delete(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families_need_accounts),
		cmocka_unit_test(test_account_requests),
		cmocka_unit_test(test_mop_requests),
		cmocka_unit_test(test_last_reference_destroys),
		cmocka_unit_test(test_failure_sweep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
