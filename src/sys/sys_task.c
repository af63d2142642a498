/*
 * sys/sys_task.c - task objects and the task family of operations.
 *
 * A task is a handle table and the address space it runs in (it holds the
 * space).  Tasks are named by handles like any object: WRITE on a task
 * handle lets the holder put handles into its table (SYS_CAP_GRANT), and
 * DESTROY lets it destroy the task.  A task's table may hold a handle to
 * the task itself, which would keep it alive for ever through its own
 * reference: destroying the task breaks such cycles, because it empties the
 * table.  A task nobody names nor holds any more is torn down the same way.
 */
#include "lib/mem.h"
#include "sys/sys_internal.h"

/* Empty t's table and leave its space.  t stays allocated. */
static void task_teardown(struct sys_task *t)
{
	t->dead = true;
	cap_table_fini(&t->table);
	struct sys_space *sp = t->space;
	t->space = NULL;
	sp->tasks--;
	sys_kobj_unhold(&sp->k);
}

static void task_release(struct sys_kobj *k)
{
	struct sys_task *t = (struct sys_task *)k;
	struct sys *s = k->sys;
	if (!t->dead)
		task_teardown(t);
	s->tasks--;
	kfree(s->heap, t);
}

const struct cap_ops sys_task_ops = SYS_KOBJ_OPS(CAP_TYPE_TASK, "task", CAP_RIGHTS_TASK);

struct sys_task *sys_task_new(struct sys *s, struct sys_space *sp)
{
	struct sys_task *t = kzalloc(s->heap, sizeof(*t));
	if (!t)
		return NULL;
	sys_kobj_init(s, &t->k, &sys_task_ops, task_release);
	cap_table_init(&s->caps, &t->table, s->max_handles); /* max_handles checked by sys_init */
	t->space = sp;
	sp->tasks++;
	sys_kobj_hold(&sp->k);
	s->tasks++;
	return t;
}

void sys_task_abandon(struct sys_task *t)
{
	struct sys *s = t->k.sys;
	sys_kobj_unlink(&t->k);
	s->tasks--;
	task_teardown(t);
	kfree(s->heap, t);
}

void sys_task_destroy_locked(struct sys_task *t)
{
	if (t->dead)
		return;
	sys_kobj_hold(&t->k); /* keep t through the cascade below */
	cap_object_revoke_all(&t->k.sys->caps, &t->k.cap);
	task_teardown(t);
	sys_kobj_unhold(&t->k);
}

/* ---- the kernel's calls ---- */

/* A new space object with a fresh vm_space; NULL on ENOMEM (nothing left). */
static struct sys_space *fresh_space(struct sys *s)
{
	struct vm_space *as;
	if (vm_space_create(s->vm, &as))
		return NULL;
	struct sys_space *sp = sys_space_new(s, as);
	if (!sp)
		vm_space_destroy(as);
	return sp;
}

/* Undo a task being made: t (when made) drops its space with it; a space
 * made for it (fresh) goes too; a space found through a handle stays. */
static void task_undo(struct sys_task *t, struct sys_space *sp, bool fresh)
{
	if (t) {
		sys_task_abandon(t);
	} else if (sp && fresh) {
		vm_space_destroy(sp->as);
		sys_space_abandon(sp);
	}
}

/* The handle of from naming the space a new task will run in, checked as
 * sys.h documents for sys_task_create_in; *src NULL for a new space. */
static int find_task_space(struct sys_task *from, cap_handle_t space, cap_rights_t rights, struct cap_handle **src)
{
	*src = NULL;
	int rc;
	if (!from)
		rc = space == CAP_HANDLE_NONE ? 0 : -MMK_EINVAL;
	else
		rc = from->dead ? -MMK_EPERM : cap_lookup(&from->table, space, CAP_TYPE_SPACE, 0, src);
	if (rc)
		return rc;
	if (rights & ~CAP_RIGHTS_SPACE)
		return -MMK_EINVAL;
	return *src && (rights & ~(*src)->rights) ? -MMK_EPERM : 0;
}

static int task_create_in_locked(struct sys *s, struct sys_task *from, cap_handle_t space, cap_rights_t rights,
				 struct sys_task **out)
{
	struct cap_handle *src;
	int rc = find_task_space(from, space, rights, &src);
	if (rc)
		return rc;
	struct sys_space *sp = src ? sys_space_of(src) : fresh_space(s);
	struct sys_task *t = sp ? sys_task_new(s, sp) : NULL;
	struct cap_reservation r;
	rc = t ? cap_reserve(&t->table, &r) : -MMK_ENOMEM;
	if (rc) {
		task_undo(t, sp, !src);
		return rc;
	}
	if (src)
		cap_commit_child(&r, src, rights);
	else
		cap_commit(&r, &sp->k.cap, rights);
	sys_kobj_hold(&t->k);
	*out = t;
	return 0;
}

int sys_task_create_in(struct sys *s, struct sys_task *from, cap_handle_t space, cap_rights_t rights,
		       struct sys_task **out)
{
	cap_lock(&s->caps);
	int rc = task_create_in_locked(s, from, space, rights, out);
	cap_release_pending(&s->caps);
	cap_unlock(&s->caps);
	return rc;
}

int sys_task_create(struct sys *s, struct sys_task **out)
{
	return sys_task_create_in(s, NULL, CAP_HANDLE_NONE, CAP_RIGHTS_SPACE, out);
}

void sys_task_destroy(struct sys_task *t)
{
	struct sys *s = t->k.sys;
	cap_lock(&s->caps);
	sys_task_destroy_locked(t);
	cap_release_pending(&s->caps);
	cap_unlock(&s->caps);
}

void sys_task_release(struct sys_task *t)
{
	struct sys *s = t->k.sys;
	cap_lock(&s->caps);
	sys_kobj_unhold(&t->k);
	cap_release_pending(&s->caps);
	cap_unlock(&s->caps);
}

int sys_task_install(struct sys_task *t, struct cap_object *co, cap_rights_t rights, cap_handle_t *out)
{
	struct sys *s = t->k.sys;
	cap_lock(&s->caps);
	int rc = t->dead ? -MMK_EPERM : cap_install(&t->table, co, rights, out);
	cap_unlock(&s->caps);
	return rc;
}

/* ---- the task family ---- */

/*
 * SYS_TASK_CREATE: reserve the caller's slot, the space (h0's or a fresh
 * one), the task and the new table's slot, then commit both handles.
 */
static int task_create(struct sys_call *call)
{
	struct sys *s = call->sys;
	struct cap_handle *h0 = call->h[0];
	struct cap_reservation rc_slot, rt_slot;
	int rc = cap_reserve(&call->caller->table, &rc_slot);
	if (rc)
		return rc;
	struct sys_space *sp = h0 ? sys_space_of(h0) : fresh_space(s);
	struct sys_task *t = sp ? sys_task_new(s, sp) : NULL;
	rc = t ? cap_reserve(&t->table, &rt_slot) : -MMK_ENOMEM;
	if (rc) {
		task_undo(t, sp, !h0);
		cap_cancel(&rc_slot);
		return rc;
	}
	cap_handle_t in_task = h0 ? cap_commit_child(&rt_slot, h0, h0->rights)
				  : cap_commit(&rt_slot, &sp->k.cap, CAP_RIGHTS_SPACE);
	call->rep->handles[0] = cap_commit(&rc_slot, &t->k.cap, CAP_RIGHTS_TASK);
	call->rep->results[0] = (uint64_t)in_task;
	return 0;
}

static int task_destroy(struct sys_call *call)
{
	sys_task_destroy_locked(sys_task_of(call->h[0]));
	return 0;
}

static const struct sys_op task_ops[] = {
	[SYS_OP_INDEX(SYS_TASK_CREATE)] = { "task_create", task_create, 0, 1,
					    { { CAP_TYPE_SPACE, true, CAP_RIGHT_GRANT } } },
	[SYS_OP_INDEX(SYS_TASK_DESTROY)] = { "task_destroy", task_destroy, 0, 1,
					     { { CAP_TYPE_TASK, false, CAP_RIGHT_DESTROY } } },
};

const struct sys_op_family sys_task_family = { task_ops, sizeof(task_ops) / sizeof(task_ops[0]), NULL };
