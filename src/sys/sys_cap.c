/*
 * sys/sys_cap.c - the handle-management family: inspect, derive, grant,
 * close and revoke handles of any type (the rules are cap.h's; dispatch
 * has already checked each handle argument's existence, type and fixed
 * right, in the order sys.h documents).
 */
#include "sys/sys_internal.h"

static cap_rights_t rights_arg(uint64_t a, int *rc)
{
	*rc = a > UINT32_MAX ? -MMK_EINVAL : 0;
	return (cap_rights_t)a;
}

static int cap_info(struct sys_call *call)
{
	call->rep->results[0] = call->h[0]->obj->ops->type;
	call->rep->results[1] = call->h[0]->rights;
	return 0;
}

static int cap_derive_op(struct sys_call *call)
{
	int rc;
	cap_rights_t rights = rights_arg(call->req->args[0], &rc);
	return rc ? rc : cap_derive(&call->caller->table, call->req->handles[0], rights, &call->rep->handles[0]);
}

static int cap_grant_op(struct sys_call *call)
{
	int rc;
	cap_rights_t rights = rights_arg(call->req->args[0], &rc);
	if (rc)
		return rc;
	struct sys_task *target = sys_task_of(call->h[1]);
	if (target->dead)
		return -MMK_EPERM; /* not reachable while destroy revokes every task handle; kept as a guard */
	cap_handle_t out;
	rc = cap_grant(&call->caller->table, call->req->handles[0], &target->table, rights, &out);
	if (!rc)
		call->rep->results[0] = (uint64_t)out;
	return rc;
}

static int cap_close_op(struct sys_call *call)
{
	return cap_close(&call->caller->table, call->req->handles[0]);
}

static int cap_revoke_op(struct sys_call *call)
{
	uint64_t n = 0;
	int rc = cap_revoke(&call->caller->table, call->req->handles[0], &n);
	call->rep->results[0] = n;
	return rc;
}

#define ANY(rights) { CAP_TYPE_NONE, false, (rights) }

static const struct sys_op cap_ops[] = {
	[SYS_OP_INDEX(SYS_CAP_INFO)] = { "cap_info", cap_info, 0, 1, { ANY(0) } },
	[SYS_OP_INDEX(SYS_CAP_DERIVE)] = { "cap_derive", cap_derive_op, 1, 1, { ANY(CAP_RIGHT_DERIVE) } },
	[SYS_OP_INDEX(SYS_CAP_GRANT)] = { "cap_grant", cap_grant_op, 1, 2,
					  { ANY(CAP_RIGHT_GRANT), { CAP_TYPE_TASK, false, CAP_RIGHT_WRITE } } },
	[SYS_OP_INDEX(SYS_CAP_CLOSE)] = { "cap_close", cap_close_op, 0, 1, { ANY(0) } },
	[SYS_OP_INDEX(SYS_CAP_REVOKE)] = { "cap_revoke", cap_revoke_op, 0, 1, { ANY(0) } },
};

const struct sys_op_family sys_cap_family = { cap_ops, sizeof(cap_ops) / sizeof(cap_ops[0]), NULL };
