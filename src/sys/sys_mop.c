/*
 * sys/sys_mop.c - MOP objects and the MOP family of operations: create
 * (under an account), child (under a MOP), claim, release, destroy, usage
 * (seed 000; mmk/mop.h has the rules, mmk/sys.h the requests).
 *
 * Rights on a MOP handle: CLAIM to claim, release and read its usage;
 * SPLIT to make a child MOP (the same split of its account that SPLIT
 * allows on an account handle); DESTROY.  There is no READ, WRITE or MAP
 * for a MOP: its handle reaches no memory, only claims (seed 000).
 *
 * Lifetime: the object embeds the MOP.  When its last reference goes the
 * MOP is destroyed if it still lives (nobody could use it any more), and
 * with it every MOP below it, as any destroy of a MOP does.  A MOP killed
 * by a destroy above it keeps its object until its handles go; it answers
 * -MMK_EIDRM meanwhile.
 */
#include "lib/mem.h"
#include "sys/sys_internal.h"

_Static_assert(sizeof(size_t) == sizeof(uint64_t), "byte lengths pass to mop_* without narrowing");

static void mop_object_release(struct sys_kobj *k)
{
	struct sys_mop *o = (struct sys_mop *)k;
	struct sys *s = k->sys;
	if (!o->mop.dead)
		(void)mop_destroy(&o->mop); /* cannot fail on a live MOP */
	s->mops--;
	kfree(s->heap, o);
}

const struct cap_ops sys_mop_ops = SYS_KOBJ_OPS(CAP_TYPE_MOP, "mop", CAP_RIGHTS_MOP);

/*
 * Reply with a handle to a new MOP under an account (parent_mop NULL) or
 * under parent_mop: check the arguments, reserve the slot and the object,
 * make the MOP (the step that may still fail), commit.
 */
static int reply_new_mop(struct sys_call *call, struct mmk_account *acct, struct mop *parent_mop)
{
	const uint64_t *a = call->req->args;
	struct sys *s = call->sys;
	char name[9];
	if (a[0] == 0 || sys_name_arg(a[1], name))
		return -MMK_EINVAL;
	if (parent_mop ? parent_mop->dead : __atomic_load_n(&acct->dead, __ATOMIC_ACQUIRE))
		return -MMK_EIDRM;
	struct cap_reservation r;
	int rc = cap_reserve(&call->caller->table, &r);
	if (rc)
		return rc;
	struct sys_mop *o = kzalloc(s->heap, sizeof(*o));
	uint32_t id = s->next_mop_id;
	const char *nm = name[0] ? name : NULL;
	rc = !o ? -MMK_ENOMEM
		: parent_mop ? mop_create_child(&o->mop, parent_mop, a[0], id, nm)
			     : mop_create(&o->mop, s->claims, acct, a[0], id, nm);
	if (rc) {
		kfree(s->heap, o);
		cap_cancel(&r);
		return rc;
	}
	s->next_mop_id++;
	sys_kobj_init(s, &o->k, &sys_mop_ops, mop_object_release);
	s->mops++;
	call->rep->handles[0] = cap_commit(&r, &o->k.cap, CAP_RIGHTS_MOP);
	call->rep->results[0] = id;
	return 0;
}

static int mop_create_op(struct sys_call *call)
{
	return reply_new_mop(call, sys_account_of(call->h[0])->acct, NULL);
}

static int mop_child_op(struct sys_call *call) { return reply_new_mop(call, NULL, &sys_mop_of(call->h[0])->mop); }

static int mop_claim_op(struct sys_call *call)
{
	const uint64_t *a = call->req->args;
	return mop_claim(&sys_mop_of(call->h[0])->mop, a[0], a[1]);
}

static int mop_release_op(struct sys_call *call)
{
	const uint64_t *a = call->req->args;
	return mop_release(&sys_mop_of(call->h[0])->mop, a[0], a[1]);
}

static int mop_destroy_op(struct sys_call *call)
{
	struct sys_mop *o = sys_mop_of(call->h[0]);
	int rc = mop_destroy(&o->mop);
	if (rc)
		return rc;
	cap_object_revoke_all(&call->sys->caps, &o->k.cap);
	return 0;
}

static int mop_usage_op(struct sys_call *call)
{
	struct mop *m = &sys_mop_of(call->h[0])->mop;
	return m->dead ? -MMK_EIDRM : sys_reply_usage(call, m->acct);
}

#define MOP(rights) { CAP_TYPE_MOP, false, (rights) }

static const struct sys_op mop_ops[] = {
	[SYS_OP_INDEX(SYS_MOP_CREATE)] = { "mop_create", mop_create_op, 2, 1,
					   { { CAP_TYPE_ACCOUNT, false, CAP_RIGHT_SPLIT } } },
	[SYS_OP_INDEX(SYS_MOP_CHILD)] = { "mop_child", mop_child_op, 2, 1, { MOP(CAP_RIGHT_SPLIT) } },
	[SYS_OP_INDEX(SYS_MOP_CLAIM)] = { "mop_claim", mop_claim_op, 2, 1, { MOP(CAP_RIGHT_CLAIM) } },
	[SYS_OP_INDEX(SYS_MOP_RELEASE)] = { "mop_release", mop_release_op, 2, 1, { MOP(CAP_RIGHT_CLAIM) } },
	[SYS_OP_INDEX(SYS_MOP_DESTROY)] = { "mop_destroy", mop_destroy_op, 0, 1, { MOP(CAP_RIGHT_DESTROY) } },
	[SYS_OP_INDEX(SYS_MOP_USAGE)] = { "mop_usage", mop_usage_op, 0, 1, { MOP(CAP_RIGHT_CLAIM) } },
};

const struct sys_op_family sys_mop_family = { mop_ops, sizeof(mop_ops) / sizeof(mop_ops[0]), sys_has_accounts };
