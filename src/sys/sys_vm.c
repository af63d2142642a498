/*
 * sys/sys_vm.c - address-space and memory-object objects, and the VM
 * family of operations (mmap, munmap, mprotect, mremap, madvise, fork,
 * destroy, query) over them.
 *
 * Rights on a space handle: MAP changes the layout (every call that maps,
 * unmaps, moves, protects or advises); READ, WRITE and EXEC bound the
 * protections the holder may establish (PROT_READ needs READ, ...), so a
 * handle derived without WRITE can never make a page of the space
 * writable; READ also lets the holder inspect (query) and copy (fork) the
 * space; DESTROY destroys it.  Rights on a memory-object handle: MAP to map
 * it; READ/WRITE/EXEC act as a file's open mode (they bound the mapping's
 * prot and max_prot; private mappings may still be written, copy-on-write,
 * as Linux's MAP_PRIVATE of a read-only file).
 *
 * Every u64 argument is checked against the width the vm call takes before
 * it is narrowed; the vm calls then check alignment, ranges and overflow
 * with Linux's errors.
 */
#include "lib/mem.h"
#include "sys/sys_internal.h"

_Static_assert(sizeof(size_t) == sizeof(uint64_t), "byte lengths pass to vm_* without narrowing");

/* ---- space objects ---- */

static void space_release(struct sys_kobj *k)
{
	struct sys_space *sp = (struct sys_space *)k;
	struct sys *s = k->sys;
	vm_space_destroy(sp->as);
	s->spaces--;
	kfree(s->heap, sp);
}

const struct cap_ops sys_space_ops = SYS_KOBJ_OPS(CAP_TYPE_SPACE, "space", CAP_RIGHTS_SPACE);

struct sys_space *sys_space_new(struct sys *s, struct vm_space *as)
{
	struct sys_space *sp = kzalloc(s->heap, sizeof(*sp));
	if (!sp)
		return NULL;
	sys_kobj_init(s, &sp->k, &sys_space_ops, space_release);
	sp->as = as;
	s->spaces++;
	return sp;
}

void sys_space_abandon(struct sys_space *sp)
{
	struct sys *s = sp->k.sys;
	sys_kobj_unlink(&sp->k);
	s->spaces--;
	kfree(s->heap, sp);
}

/* ---- memory-object objects ---- */

static void vmobject_release(struct sys_kobj *k)
{
	struct sys_vmobject *o = (struct sys_vmobject *)k;
	struct sys *s = k->sys;
	vm_object_release(s->vm, o->obj);
	s->vmobjects--;
	kfree(s->heap, o);
}

const struct cap_ops sys_vmobject_ops = SYS_KOBJ_OPS(CAP_TYPE_VMOBJECT, "vm_object", CAP_RIGHTS_VMOBJECT);

/* ---- helpers ---- */

/* The rights a protection needs: PROT_READ -> READ, and so on. */
static cap_rights_t rights_for_prot(uint64_t prot)
{
	return ((prot & VM_PROT_READ) ? CAP_RIGHT_READ : 0) | ((prot & VM_PROT_WRITE) ? CAP_RIGHT_WRITE : 0) |
	       ((prot & VM_PROT_EXEC) ? CAP_RIGHT_EXEC : 0);
}

static unsigned prot_for_rights(cap_rights_t r)
{
	return ((r & CAP_RIGHT_READ) ? VM_PROT_READ : 0) | ((r & CAP_RIGHT_WRITE) ? VM_PROT_WRITE : 0) |
	       ((r & CAP_RIGHT_EXEC) ? VM_PROT_EXEC : 0);
}

int sys_check_prot(struct cap_handle *h, uint64_t prot)
{
	if (prot & ~(uint64_t)VM_PROT_ALL)
		return -MMK_EINVAL;
	return rights_for_prot(prot) & ~h->rights ? -MMK_EPERM : 0;
}

static const uint64_t *args_of(struct sys_call *call) { return call->req->args; }

/*
 * Reply with a root handle to a new space: a copy of parent (fork) or, with
 * parent NULL, an empty one.  The slot is reserved first, the space made,
 * then its object; each failure undoes what came before it.
 */
static int reply_new_space(struct sys_call *call, struct vm_space *parent)
{
	struct cap_reservation r;
	int rc = cap_reserve(&call->caller->table, &r);
	if (rc)
		return rc;
	struct vm_space *as;
	rc = parent ? vm_space_fork(parent, &as) : vm_space_create(call->sys->vm, &as);
	struct sys_space *sp = rc ? NULL : sys_space_new(call->sys, as);
	if (!sp) {
		if (!rc)
			vm_space_destroy(as);
		cap_cancel(&r);
		return rc ? rc : -MMK_ENOMEM;
	}
	call->rep->handles[0] = cap_commit(&r, &sp->k.cap, CAP_RIGHTS_SPACE);
	return 0;
}

/* ---- the operations ---- */

static int vm_create(struct sys_call *call) { return reply_new_space(call, NULL); }

static int vm_fork(struct sys_call *call) { return reply_new_space(call, sys_space_of(call->h[0])->as); }

/* The object handle's rights for a mapping of prot: READ/EXEC always, WRITE
 * only when writes reach the object (shared). */
static int check_object_map(struct cap_handle *oh, uint64_t prot, bool shared, unsigned *max_prot)
{
	uint64_t needs = shared ? prot : (prot & ~(uint64_t)VM_PROT_WRITE);
	if (rights_for_prot(needs) & ~oh->rights)
		return -MMK_EPERM;
	*max_prot = prot_for_rights(oh->rights) | (shared ? 0u : VM_PROT_WRITE);
	return 0;
}

static int vm_map_op(struct sys_call *call)
{
	const uint64_t *a = args_of(call);
	if (a[3] > UINT32_MAX)
		return -MMK_EINVAL;
	int rc = sys_check_prot(call->h[0], a[2]);
	if (rc)
		return rc;
	unsigned max_prot = VM_PROT_ALL;
	struct vm_object *obj = NULL;
	if (call->h[1]) {
		bool shared = (a[3] & VM_MAP_TYPE) != VM_MAP_PRIVATE;
		rc = check_object_map(call->h[1], a[2], shared, &max_prot);
		if (rc)
			return rc;
		obj = sys_vmobject_of(call->h[1])->obj;
	}
	vaddr_t start;
	rc = vm_map(sys_space_of(call->h[0])->as, a[0], a[1], (unsigned)a[2], (unsigned)a[3], obj, a[4], max_prot,
		    &start);
	if (!rc)
		call->rep->results[0] = start;
	return rc;
}

static int vm_unmap_op(struct sys_call *call)
{
	const uint64_t *a = args_of(call);
	return vm_unmap(sys_space_of(call->h[0])->as, a[0], a[1]);
}

static int vm_protect_op(struct sys_call *call)
{
	const uint64_t *a = args_of(call);
	int rc = sys_check_prot(call->h[0], a[2]);
	return rc ? rc : vm_protect(sys_space_of(call->h[0])->as, a[0], a[1], (unsigned)a[2]);
}

static int vm_remap_op(struct sys_call *call)
{
	const uint64_t *a = args_of(call);
	if (a[3] > UINT32_MAX)
		return -MMK_EINVAL;
	vaddr_t out;
	int rc = vm_remap(sys_space_of(call->h[0])->as, a[0], a[1], a[2], (unsigned)a[3], a[4], &out);
	if (!rc)
		call->rep->results[0] = out;
	return rc;
}

static int vm_advise_op(struct sys_call *call)
{
	const uint64_t *a = args_of(call);
	if (a[2] > INT32_MAX)
		return -MMK_EINVAL;
	return vm_madvise(sys_space_of(call->h[0])->as, a[0], a[1], (int)a[2]);
}

/*
 * Destroy: when a task still runs in the space, empty it first (the only
 * step that can fail, so a failure changes nothing); then every handle
 * naming it goes, and the space with its last reference.
 */
static int vm_destroy_op(struct sys_call *call)
{
	struct sys_space *sp = sys_space_of(call->h[0]);
	const struct vm_area *first = vm_first_from(sp->as, 0);
	if (sp->tasks && first) {
		int rc = vm_unmap(sp->as, first->start, sp->as->max_addr - first->start);
		if (rc)
			return rc;
	}
	cap_object_revoke_all(&call->sys->caps, &sp->k.cap);
	return 0;
}

static int vm_query_op(struct sys_call *call)
{
	const struct vm_area *v = vm_search(sys_space_of(call->h[0])->as, args_of(call)[0]);
	if (!v)
		return -MMK_ENOENT;
	call->rep->results[0] = v->start;
	call->rep->results[1] = v->end;
	call->rep->results[2] = v->prot;
	call->rep->results[3] = v->flags;
	return 0;
}

static int vm_object_create_op(struct sys_call *call)
{
	uint64_t size = args_of(call)[0];
	if (size == 0 || !mmk_page_aligned(size))
		return -MMK_EINVAL;
	struct sys *s = call->sys;
	struct cap_reservation r;
	int rc = cap_reserve(&call->caller->table, &r);
	if (rc)
		return rc;
	struct sys_vmobject *o = kzalloc(s->heap, sizeof(*o));
	rc = o ? vm_object_create(s->vm, VM_OBJECT_ANON, "sys-object", &o->obj) : -MMK_ENOMEM;
	if (rc) {
		kfree(s->heap, o);
		cap_cancel(&r);
		return rc;
	}
	o->obj->size = size;
	sys_kobj_init(s, &o->k, &sys_vmobject_ops, vmobject_release);
	s->vmobjects++;
	call->rep->handles[0] = cap_commit(&r, &o->k.cap, CAP_RIGHTS_VMOBJECT);
	return 0;
}

#define SPACE(rights) { CAP_TYPE_SPACE, false, (rights) }

static const struct sys_op vm_ops[] = {
	[SYS_OP_INDEX(SYS_VM_CREATE)] = { "vm_create", vm_create, 0, 0, { { 0 } } },
	[SYS_OP_INDEX(SYS_VM_MAP)] = { "vm_map", vm_map_op, 5, 2,
				       { SPACE(CAP_RIGHT_MAP), { CAP_TYPE_VMOBJECT, true, CAP_RIGHT_MAP } } },
	[SYS_OP_INDEX(SYS_VM_UNMAP)] = { "vm_unmap", vm_unmap_op, 2, 1, { SPACE(CAP_RIGHT_MAP) } },
	[SYS_OP_INDEX(SYS_VM_PROTECT)] = { "vm_protect", vm_protect_op, 3, 1, { SPACE(CAP_RIGHT_MAP) } },
	[SYS_OP_INDEX(SYS_VM_REMAP)] = { "vm_remap", vm_remap_op, 5, 1, { SPACE(CAP_RIGHT_MAP) } },
	[SYS_OP_INDEX(SYS_VM_ADVISE)] = { "vm_advise", vm_advise_op, 3, 1, { SPACE(CAP_RIGHT_MAP) } },
	[SYS_OP_INDEX(SYS_VM_FORK)] = { "vm_fork", vm_fork, 0, 1, { SPACE(CAP_RIGHT_READ) } },
	[SYS_OP_INDEX(SYS_VM_DESTROY)] = { "vm_destroy", vm_destroy_op, 0, 1, { SPACE(CAP_RIGHT_DESTROY) } },
	[SYS_OP_INDEX(SYS_VM_QUERY)] = { "vm_query", vm_query_op, 1, 1, { SPACE(CAP_RIGHT_READ) } },
	[SYS_OP_INDEX(SYS_VM_OBJECT_CREATE)] = { "vm_object_create", vm_object_create_op, 1, 0, { { 0 } } },
};

const struct sys_op_family sys_vm_family = { vm_ops, sizeof(vm_ops) / sizeof(vm_ops[0]), NULL };
