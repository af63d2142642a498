/*
 * sys/sys_acct.c - account objects and the account family of operations:
 * split, destroy, usage (seed 001's memory control capabilities, over
 * src/acct; mmk/sys.h lists the requests).
 *
 * An account object holds one reference on its account (acct_get), so
 * the account's figures stay readable while a handle names it, even after
 * a destroy above it (the object then answers -MMK_EIDRM).  Closing the
 * last handle to an account does not destroy it: the account still
 * guarantees the MOPs and accounts split off it, which may be named
 * elsewhere; it goes when it or an ancestor is destroyed.
 *
 * Rights: SPLIT to split a child off (and, in sys_mop.c, to make a MOP
 * under it), DESTROY to destroy it, READ to read its usage.
 */
#include "lib/mem.h"
#include "sys/sys_internal.h"

int sys_name_arg(uint64_t a, char out[9])
{
	bool ended = false;
	for (unsigned i = 0; i < 8; i++) {
		char ch = (char)((a >> (8 * i)) & 0xff);
		if (ch == 0)
			ended = true;
		else if (ended || ch < 0x21 || ch > 0x7e)
			return -MMK_EINVAL; /* a byte after the end, or one acct_format could not print */
		out[i] = ended ? '\0' : ch;
	}
	out[8] = '\0';
	return 0;
}

static bool account_dead(const struct mmk_account *a) { return __atomic_load_n(&a->dead, __ATOMIC_ACQUIRE); }

/* ---- account objects ---- */

static void account_release(struct sys_kobj *k)
{
	struct sys_account *o = (struct sys_account *)k;
	struct sys *s = k->sys;
	acct_put(o->acct);
	s->accounts--;
	kfree(s->heap, o);
}

const struct cap_ops sys_account_ops = SYS_KOBJ_OPS(CAP_TYPE_ACCOUNT, "account", CAP_RIGHTS_ACCOUNT);

/*
 * Make an account object for a in the reserved slot r with rights (the
 * commit: cannot fail).  o was allocated by the caller.
 */
static cap_handle_t account_commit(struct sys *s, struct sys_account *o, struct mmk_account *a,
				   struct cap_reservation *r, cap_rights_t rights)
{
	sys_kobj_init(s, &o->k, &sys_account_ops, account_release);
	acct_get(a);
	o->acct = a;
	s->accounts++;
	return cap_commit(r, &o->k.cap, rights);
}

int sys_task_install_account(struct sys_task *t, struct mmk_account *a, cap_rights_t rights, cap_handle_t *out)
{
	struct sys *s = t->k.sys;
	cap_lock(&s->caps);
	int rc = !sys_has_accounts(s) ? -MMK_ENOSYS
		 : t->dead	       ? -MMK_EPERM
		 : !a || (rights & ~CAP_RIGHTS_ACCOUNT) ? -MMK_EINVAL
		 : account_dead(a)     ? -MMK_EIDRM
				       : 0;
	struct cap_reservation r;
	if (!rc)
		rc = cap_reserve(&t->table, &r);
	if (!rc) {
		struct sys_account *o = kzalloc(s->heap, sizeof(*o));
		if (o) {
			*out = account_commit(s, o, a, &r, rights);
		} else {
			cap_cancel(&r);
			rc = -MMK_ENOMEM;
		}
	}
	cap_unlock(&s->caps);
	return rc;
}

/* ---- the operations ---- */

/* SYS_ACCOUNT_SPLIT: check, reserve the slot and the object, split (the
 * step that may still fail), commit. */
static int account_split_op(struct sys_call *call)
{
	const uint64_t *a = call->req->args;
	struct sys *s = call->sys;
	char name[9];
	if (a[0] == 0 || sys_name_arg(a[1], name))
		return -MMK_EINVAL;
	struct mmk_account *parent = sys_account_of(call->h[0])->acct;
	if (account_dead(parent))
		return -MMK_EIDRM;
	struct cap_reservation r;
	int rc = cap_reserve(&call->caller->table, &r);
	if (rc)
		return rc;
	struct sys_account *o = kzalloc(s->heap, sizeof(*o));
	struct mmk_account *child = NULL;
	rc = o ? acct_split(parent, a[0], name[0] ? name : NULL, &child) : -MMK_ENOMEM;
	if (rc) {
		kfree(s->heap, o);
		cap_cancel(&r);
		return rc;
	}
	call->rep->handles[0] = account_commit(s, o, child, &r, CAP_RIGHTS_ACCOUNT);
	return 0;
}

static int account_destroy_op(struct sys_call *call)
{
	struct sys_account *o = sys_account_of(call->h[0]);
	struct sys *s = call->sys;
	if (o->acct == acct_root(s->acct))
		return -MMK_EPERM;
	int rc = acct_destroy(o->acct); /* MOPs below are released through their holders */
	if (rc)
		return rc;
	cap_object_revoke_all(&s->caps, &o->k.cap);
	return 0;
}

int sys_reply_usage(struct sys_call *call, struct mmk_account *a)
{
	struct acct_usage u;
	acct_get_usage(a, &u);
	if (u.dead)
		return -MMK_EIDRM;
	call->rep->results[0] = u.limit;
	call->rep->results[1] = u.charged;
	call->rep->results[2] = u.donated;
	call->rep->results[3] = u.available;
	return 0;
}

static int account_usage_op(struct sys_call *call) { return sys_reply_usage(call, sys_account_of(call->h[0])->acct); }

#define ACCOUNT(rights) { CAP_TYPE_ACCOUNT, false, (rights) }

static const struct sys_op account_ops[] = {
	[SYS_OP_INDEX(SYS_ACCOUNT_SPLIT)] = { "account_split", account_split_op, 2, 1, { ACCOUNT(CAP_RIGHT_SPLIT) } },
	[SYS_OP_INDEX(SYS_ACCOUNT_DESTROY)] = { "account_destroy", account_destroy_op, 0, 1,
						{ ACCOUNT(CAP_RIGHT_DESTROY) } },
	[SYS_OP_INDEX(SYS_ACCOUNT_USAGE)] = { "account_usage", account_usage_op, 0, 1, { ACCOUNT(CAP_RIGHT_READ) } },
};

const struct sys_op_family sys_account_family = { account_ops, sizeof(account_ops) / sizeof(account_ops[0]),
						  sys_has_accounts };
