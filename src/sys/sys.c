/*
 * sys/sys.c - the system-call surface: one dispatch function over a table
 * of operations, and the reference counting of the objects it makes.
 *
 * 1. What: sys_dispatch(caller, request, reply) runs one operation for a
 *    task, naming objects through handles in the task's table (the shape of
 *    seed 000's memory-manager messages and seed 001's physmem RPCs, so a
 *    kernel trap or a hosted server can drive it the same way).
 * 2. Structures: the opcode is (family << 8) | index; sys_families[] holds
 *    one struct sys_op_family per family file, each an array of struct
 *    sys_op.  An entry declares the arguments and handles the operation
 *    reads and the type and fixed rights of each handle, and dispatch
 *    enforces that declaration for every request (mmk/sys.h gives the
 *    order of checks), so a handler starts from valid handles and writes
 *    only its own checks.  Adding a family is one file and one line here.
 * 3. Invariants (sys_check): every object made here is on sys->kobjs with
 *    refs = handles naming it + holds; a space's holds are the tasks
 *    running in it; live counts per type agree.
 * 4. Locking: caps.lock for a whole request (handlers call vm_*, acct_*
 *    and mop_* under it: cap_system.lock before vm_space.lock,
 *    acct_system.lock and claims.lock).
 * 5. Failure policy: validate, reserve, commit: handlers take the handle
 *    slot and object structs they need (cap_reserve) before the operation
 *    that changes anything; a failure after that undoes only its own
 *    reservations.  The reply is zeroed first and filled only on success.
 * 6. Sources: seL4's decode/invoke split (validate everything, then act);
 *    Zircon's syscall handle checks (handle, then type, then rights).
 */
#include <mmk/sys.h>

#include "lib/mem.h"
#include "sys/sys_internal.h"
#include "sys/sys_list.h"

static const struct sys_op_family *const sys_families[SYS_FAMILY_COUNT] = {
	[SYS_FAMILY_CAP] = &sys_cap_family,
	[SYS_FAMILY_TASK] = &sys_task_family,
	[SYS_FAMILY_VM] = &sys_vm_family,
	[SYS_FAMILY_ACCOUNT] = &sys_account_family,
	[SYS_FAMILY_MOP] = &sys_mop_family,
	[SYS_FAMILY_CONTAINER] = &sys_container_family,
	[SYS_FAMILY_FRAME] = &sys_frame_family,
};

int sys_init(struct sys *s, struct vm_system *vm, struct kmalloc_heap *heap, uint32_t max_handles)
{
	if (max_handles == 0 || max_handles > CAP_TABLE_LIMIT)
		return -MMK_EINVAL;
	mmk_memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->heap = heap;
	s->max_handles = max_handles;
	s->next_mop_id = 1;
	return cap_system_init(&s->caps, vm->phys, heap);
}

int sys_attach_accounts(struct sys *s, struct acct_system *acct, struct claims *claims)
{
	if (!acct != !claims)
		return -MMK_EINVAL;
	cap_lock(&s->caps);
	int rc = s->accounts || s->mops ? -MMK_EBUSY : 0;
	if (!rc) {
		s->acct = acct;
		s->claims = claims;
	}
	cap_unlock(&s->caps);
	return rc;
}

bool sys_has_accounts(const struct sys *s) { return s->acct && s->claims; }

int sys_fini(struct sys *s)
{
	if (s->kobjs)
		return -MMK_EBUSY;
	return cap_system_fini(&s->caps);
}

/* ---- references ---- */

void sys_kobj_init(struct sys *s, struct sys_kobj *k, const struct cap_ops *ops, void (*release)(struct sys_kobj *k))
{
	cap_object_init(&k->cap, ops);
	k->sys = s;
	k->refs = k->holds = 0;
	k->release = release;
	SYS_LIST_PUSH(s->kobjs, k);
}

void sys_kobj_get(struct cap_object *co) { sys_kobj_of(co)->refs++; }

uint32_t sys_kobj_refs(const struct cap_object *co)
{
	return ((const struct sys_kobj *)((const char *)co - offsetof(struct sys_kobj, cap)))->refs;
}

void sys_kobj_unlink(struct sys_kobj *k) { SYS_LIST_UNLINK(k->sys->kobjs, k); }

void sys_kobj_put(struct cap_object *co)
{
	struct sys_kobj *k = sys_kobj_of(co);
	if (--k->refs > 0)
		return;
	sys_kobj_unlink(k);
	k->release(k);
}

void sys_kobj_hold(struct sys_kobj *k)
{
	k->refs++;
	k->holds++;
}

void sys_kobj_unhold(struct sys_kobj *k)
{
	k->holds--;
	k->cap.ops->put(&k->cap);
}

/* ---- dispatch ---- */

static const struct sys_op *find_op(uint32_t opcode)
{
	uint32_t fam = SYS_OP_FAMILY(opcode), idx = SYS_OP_INDEX(opcode);
	if (fam >= SYS_FAMILY_COUNT || !sys_families[fam] || idx >= sys_families[fam]->nops)
		return NULL;
	const struct sys_op *op = &sys_families[fam]->ops[idx];
	return op->handler ? op : NULL;
}

/* find_op, and NULL too when the family is not available in s. */
static const struct sys_op *find_op_in(const struct sys *s, uint32_t opcode)
{
	const struct sys_op *op = find_op(opcode);
	const struct sys_op_family *fam = op ? sys_families[SYS_OP_FAMILY(opcode)] : NULL;
	return op && (!fam->available || fam->available(s)) ? op : NULL;
}

const char *sys_op_name(uint32_t opcode)
{
	const struct sys_op *op = find_op(opcode);
	return op ? op->name : NULL;
}

/* Step 2 of the order: the shape of the request. */
static int check_shape(const struct sys_op *op, const struct sys_request *req)
{
	if (req->flags)
		return -MMK_EINVAL;
	for (unsigned i = op->nargs; i < SYS_NARGS; i++)
		if (req->args[i])
			return -MMK_EINVAL;
	for (unsigned i = op->nhandles; i < SYS_NHANDLES; i++)
		if (req->handles[i] != CAP_HANDLE_NONE)
			return -MMK_EINVAL;
	return 0;
}

/* Step 3: each declared handle, in order. */
static int lookup_handles(const struct sys_op *op, struct sys_call *call)
{
	for (unsigned i = 0; i < op->nhandles; i++) {
		cap_handle_t h = call->req->handles[i];
		call->h[i] = NULL;
		if (h == CAP_HANDLE_NONE && op->h[i].optional)
			continue;
		int rc = cap_lookup(&call->caller->table, h, (enum cap_type)op->h[i].type, op->h[i].rights,
				    &call->h[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static void clear_reply(struct sys_reply *rep)
{
	mmk_memset(rep, 0, sizeof(*rep));
	for (unsigned i = 0; i < SYS_NHANDLES; i++)
		rep->handles[i] = CAP_HANDLE_NONE;
}

static int dispatch_locked(struct sys_task *caller, const struct sys_request *req, struct sys_reply *rep)
{
	const struct sys_op *op = find_op_in(caller->k.sys, req->op);
	if (!op)
		return -MMK_ENOSYS;
	int rc = check_shape(op, req);
	if (rc)
		return rc;
	if (caller->dead)
		return -MMK_EPERM;
	struct sys_call call = { caller->k.sys, caller, req, rep, { NULL } };
	rc = lookup_handles(op, &call);
	return rc ? rc : op->handler(&call);
}

int sys_dispatch(struct sys_task *caller, const struct sys_request *req, struct sys_reply *rep)
{
	struct sys *s = caller->k.sys;
	clear_reply(rep);
	cap_lock(&s->caps);
	s->requests++;
	sys_kobj_hold(&caller->k); /* the caller may close the last handle naming itself */
	int rc = dispatch_locked(caller, req, rep);
	sys_kobj_unhold(&caller->k);
	if (rc) {
		s->refused++;
		clear_reply(rep);
	}
	rep->status = rc;
	cap_release_pending(&s->caps);
	cap_unlock(&s->caps);
	return rc;
}

/* ---- checker ---- */

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -MMK_EINVAL;
}

/* Space holds are the tasks running in the space: count them. */
static int check_space_holds(struct sys *s, const char **why)
{
	for (struct sys_kobj *k = s->kobjs; k; k = k->next)
		if (k->cap.ops == &sys_space_ops)
			k->cap.check_count = 0;
	for (struct sys_kobj *k = s->kobjs; k; k = k->next) {
		if (k->cap.ops != &sys_task_ops)
			continue;
		struct sys_task *t = (struct sys_task *)k;
		if (t->dead != (t->space == NULL))
			return fail(why, "task dead but still in a space, or alive without one");
		if (t->space)
			t->space->k.cap.check_count++;
	}
	for (struct sys_kobj *k = s->kobjs; k; k = k->next) {
		struct sys_space *sp = (struct sys_space *)k;
		if (k->cap.ops == &sys_space_ops && (sp->tasks != k->cap.check_count || k->holds < sp->tasks))
			return fail(why, "space's task count differs from the tasks running in it");
	}
	return 0;
}

/* A MOP, account or container object must name something live or dead,
 * never nothing; a weak container object's share is its weak ref's. */
static int check_ownership(struct sys_kobj *k, const char **why)
{
	if (k->cap.ops == &sys_mop_ops)
		return mop_check(&((struct sys_mop *)k)->mop, why);
	if (k->cap.ops == &sys_account_ops && !((struct sys_account *)k)->acct)
		return fail(why, "account object without an account");
	if (k->cap.ops == &sys_container_ops) {
		const struct sys_container *o = (const struct sys_container *)k;
		if (!o->ref.c && !o->weak)
			return fail(why, "owner container object without a container");
		if (!o->weak && o->share)
			return fail(why, "owner container object holding a share");
		if (o->weak && o->share && o->ref.share != o->share)
			return fail(why, "weak container object's share differs from its weak ref's");
	}
	return 0;
}

static int check_locked(struct sys *s, const char **why)
{
	int rc = cap_system_check(&s->caps, why);
	if (rc)
		return rc;
	uint64_t n[7] = { 0, 0, 0, 0, 0, 0, 0 };
	for (struct sys_kobj *k = s->kobjs; k; k = k->next) {
		if ((k->next && k->next->prev != k) || (!k->prev && s->kobjs != k))
			return fail(why, "object list links broken");
		if (k->sys != s)
			return fail(why, "object of another sys on the list");
		if (k->refs != k->cap.handles + k->holds)
			return fail(why, "object's references differ from its handles plus holds");
		if (k->refs == 0)
			return fail(why, "object without references still on the list");
		n[0] += k->cap.ops == &sys_task_ops;
		n[1] += k->cap.ops == &sys_space_ops;
		n[2] += k->cap.ops == &sys_vmobject_ops;
		n[3] += k->cap.ops == &sys_account_ops;
		n[4] += k->cap.ops == &sys_mop_ops;
		n[5] += k->cap.ops == &sys_container_ops;
		n[6] += k->cap.ops == &sys_frames_ops;
		if ((rc = check_ownership(k, why)) != 0)
			return rc;
	}
	if (n[0] != s->tasks || n[1] != s->spaces || n[2] != s->vmobjects || n[3] != s->accounts || n[4] != s->mops ||
	    n[5] != s->containers || n[6] != s->frame_managers)
		return fail(why, "live object counts differ from the objects");
	return check_space_holds(s, why);
}

int sys_check(struct sys *s, const char **why)
{
	cap_lock(&s->caps);
	int rc = check_locked(s, why);
	cap_unlock(&s->caps);
	return rc;
}
