/*
 * sys/sys_container.c - container objects and the container family: seed
 * 001's physmem through handles (create from an account, allocate,
 * deallocate, map, read, write, share, cancel, destroy; mmk/sys.h lists
 * the requests, mmk/physmem.h the rules).
 *
 * Objects.  An owner object holds the owner's container_ref (every PM
 * right); its handles carry CAP_RIGHTS_CONTAINER.  A weak object holds the
 * client's hold on a share and the weak ref physmem gave with it; its
 * handles carry at most CAP_RIGHTS_CONTAINER_WEAK, so no derivation or
 * grant can give a server ALLOC, DEALLOC or TAKE (seed 001: "a weaker
 * capability ... which allows a server limited access").
 *
 * Rights.  Each call builds the ref physmem sees from the object's ref
 * with its rights cut to the handle's (READ -> PM_READ, WRITE -> PM_WRITE,
 * MAP -> PM_MAP, ALLOC -> PM_ALLOC, DEALLOC -> PM_DEALLOC, TAKE -> PM_TAKE,
 * DERIVE -> PM_SHARE): dispatch checked the right each call always needs,
 * and physmem then bounds what depends on the arguments (a map's
 * protection: -MMK_EACCES).
 *
 * Lifetime.  The last reference of an owner object destroys the container
 * (container_destroy, as physmem's owner dropping its last ref); that of a
 * weak object cancels its share if still live and puts the weak ref.
 * Those physmem calls answer -MMK_EAGAIN only while another CPU holds a
 * space lock of a space mapping the container; a release cannot fail, so
 * it retries: the lock order (cap_system.lock before vm_space.lock) means
 * that CPU never waits for us, and lets go.
 *
 * Locking: caps.lock for the request, then vm_space.lock and physmem.lock
 * inside physmem calls.
 */
#include "lib/mem.h"
#include "sys/sys_internal.h"

_Static_assert(sizeof(size_t) == sizeof(uint64_t), "byte offsets pass to container_* without narrowing");

#define SYS_CONTAINER_MAX_BYTES 8u /* read/write: at most one u64 of bytes */

static void container_object_release(struct sys_kobj *k)
{
	struct sys_container *o = (struct sys_container *)k;
	struct sys *s = k->sys;
	if (o->share)
		while (container_share_cancel(o->share) == -MMK_EAGAIN)
			;
	if (o->weak)
		container_ref_put(&o->ref);
	else if (o->ref.c)
		while (container_destroy(&o->ref) == -MMK_EAGAIN)
			;
	s->containers--;
	kfree(s->heap, o);
}

const struct cap_ops sys_container_ops = SYS_KOBJ_OPS(CAP_TYPE_CONTAINER, "container", CAP_RIGHTS_CONTAINER);

bool sys_has_physmem(const struct sys *s) { return s->physmem && sys_has_accounts(s); }

int sys_attach_physmem(struct sys *s, struct physmem *pm)
{
	if (pm && pm->vm != s->vm)
		return -MMK_EINVAL;
	cap_lock(&s->caps);
	int rc = s->containers ? -MMK_EBUSY : 0;
	if (!rc)
		s->physmem = pm;
	cap_unlock(&s->caps);
	return rc;
}

/* Physmem's rights for a handle's rights. */
static unsigned pm_rights_of(cap_rights_t r)
{
	static const struct {
		cap_rights_t cap;
		unsigned pm;
	} map[] = {
		{ CAP_RIGHT_READ, PM_READ },	   { CAP_RIGHT_WRITE, PM_WRITE }, { CAP_RIGHT_MAP, PM_MAP },
		{ CAP_RIGHT_ALLOC, PM_ALLOC },	   { CAP_RIGHT_DEALLOC, PM_DEALLOC }, { CAP_RIGHT_TAKE, PM_TAKE },
		{ CAP_RIGHT_DERIVE, PM_SHARE },
	};
	unsigned pm = 0;
	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (r & map[i].cap)
			pm |= map[i].pm;
	return pm;
}

/* The ref physmem sees for handle h: its object's, cut to h's rights. */
static struct container_ref ref_of(struct cap_handle *h)
{
	struct container_ref r = sys_container_of(h)->ref;
	r.rights &= pm_rights_of(h->rights);
	return r;
}

/* Start o as a container object of s and install its root in slot r. */
static cap_handle_t container_commit(struct sys *s, struct sys_container *o, struct cap_reservation *r,
				     cap_rights_t rights)
{
	sys_kobj_init(s, &o->k, &sys_container_ops, container_object_release);
	s->containers++;
	return cap_commit(r, &o->k.cap, rights);
}

/* ---- the operations ---- */

static int container_create_op(struct sys_call *call)
{
	struct sys *s = call->sys;
	struct mmk_account *acct = sys_account_of(call->h[0])->acct;
	struct cap_reservation r;
	int rc = cap_reserve(&call->caller->table, &r);
	if (rc)
		return rc;
	struct sys_container *o = kzalloc(s->heap, sizeof(*o));
	rc = o ? container_create(s->physmem, acct, &o->ref) : -MMK_ENOMEM;
	if (rc) {
		kfree(s->heap, o);
		cap_cancel(&r);
		return rc;
	}
	call->rep->handles[0] = container_commit(s, o, &r, CAP_RIGHTS_CONTAINER);
	return 0;
}

static int container_allocate_op(struct sys_call *call)
{
	const uint64_t *a = call->req->args;
	uint64_t done = 0;
	if (a[2] > PM_ALLOC_FLAGS_ALL)
		return -MMK_EINVAL; /* before narrowing to unsigned */
	int rc = container_allocate(ref_of(call->h[0]), a[0], a[1], (unsigned)a[2], &done);
	if (!rc)
		call->rep->results[0] = done;
	return rc;
}

static int container_deallocate_op(struct sys_call *call)
{
	const uint64_t *a = call->req->args;
	return container_deallocate(ref_of(call->h[0]), a[0], a[1]);
}

static int container_map_op(struct sys_call *call)
{
	const uint64_t *a = call->req->args;
	if (a[4] > UINT32_MAX)
		return -MMK_EINVAL; /* flags beyond any VM_MAP_* bit */
	int rc = sys_check_prot(call->h[1], a[3]);
	if (rc)
		return rc;
	vaddr_t start = 0;
	rc = container_map(ref_of(call->h[0]), sys_space_of(call->h[1])->as, a[0], a[1], a[2], (unsigned)a[3],
			   (unsigned)a[4], &start);
	if (!rc)
		call->rep->results[0] = start;
	return rc;
}

static int container_read_op(struct sys_call *call)
{
	const uint64_t *a = call->req->args;
	uint8_t buf[SYS_CONTAINER_MAX_BYTES];
	if (a[1] == 0 || a[1] > SYS_CONTAINER_MAX_BYTES)
		return -MMK_EINVAL;
	int rc = container_read(ref_of(call->h[0]), a[0], buf, a[1]);
	if (rc)
		return rc;
	uint64_t v = 0;
	for (unsigned i = 0; i < a[1]; i++)
		v |= (uint64_t)buf[i] << (8 * i);
	call->rep->results[0] = v;
	return 0;
}

static int container_write_op(struct sys_call *call)
{
	const uint64_t *a = call->req->args;
	uint8_t buf[SYS_CONTAINER_MAX_BYTES];
	if (a[1] == 0 || a[1] > SYS_CONTAINER_MAX_BYTES || (a[1] < 8 && (a[2] >> (8 * a[1]))))
		return -MMK_EINVAL;
	for (unsigned i = 0; i < a[1]; i++)
		buf[i] = (uint8_t)(a[2] >> (8 * i));
	return container_write(ref_of(call->h[0]), a[0], buf, a[1]);
}

/* The weak rights a0 of a share: within the weak set, within h's, and
 * reaching memory (READ, WRITE or MAP: physmem has no empty share). */
static int share_rights(struct cap_handle *h, uint64_t a0)
{
	if (a0 & ~(uint64_t)CAP_RIGHTS_CONTAINER_WEAK)
		return -MMK_EINVAL;
	if (a0 & ~(uint64_t)h->rights)
		return -MMK_EPERM;
	return pm_rights_of((cap_rights_t)a0) & PM_RIGHTS_WEAK ? 0 : -MMK_EINVAL;
}

static int container_share_op(struct sys_call *call)
{
	struct sys *s = call->sys;
	struct cap_handle *h = call->h[0];
	cap_rights_t rights = (cap_rights_t)call->req->args[0];
	if (sys_container_of(h)->weak)
		return -MMK_EINVAL; /* a share of a share: physmem has none */
	int rc = share_rights(h, call->req->args[0]);
	if (rc)
		return rc;
	struct cap_reservation r;
	if ((rc = cap_reserve(&call->caller->table, &r)) != 0)
		return rc;
	struct sys_container *o = kzalloc(s->heap, sizeof(*o));
	rc = o ? container_share(ref_of(h), pm_rights_of(rights) & PM_RIGHTS_WEAK, &o->share, &o->ref) : -MMK_ENOMEM;
	if (rc) {
		kfree(s->heap, o);
		cap_cancel(&r);
		return rc;
	}
	o->weak = true;
	call->rep->handles[0] = container_commit(s, o, &r, rights);
	return 0;
}

static int container_cancel_op(struct sys_call *call)
{
	struct sys_container *o = sys_container_of(call->h[0]);
	if (!o->weak)
		return -MMK_EINVAL;
	int rc = container_share_cancel(o->share);
	if (rc)
		return rc;
	o->share = NULL;
	cap_object_revoke_all(&call->sys->caps, &o->k.cap);
	return 0;
}

static int container_destroy_op(struct sys_call *call)
{
	struct sys_container *o = sys_container_of(call->h[0]);
	if (o->weak)
		return -MMK_EINVAL;
	int rc = container_destroy(&o->ref);
	if (rc)
		return rc;
	cap_object_revoke_all(&call->sys->caps, &o->k.cap);
	return 0;
}

#define CONTAINER(rights) { CAP_TYPE_CONTAINER, false, (rights) }

static const struct sys_op container_ops[] = {
	[SYS_OP_INDEX(SYS_CONTAINER_CREATE)] = { "container_create", container_create_op, 0, 1,
						 { { CAP_TYPE_ACCOUNT, false, CAP_RIGHT_SPLIT } } },
	[SYS_OP_INDEX(SYS_CONTAINER_ALLOCATE)] = { "container_allocate", container_allocate_op, 3, 1,
						   { CONTAINER(CAP_RIGHT_ALLOC) } },
	[SYS_OP_INDEX(SYS_CONTAINER_DEALLOCATE)] = { "container_dealloc", container_deallocate_op, 2, 1,
						     { CONTAINER(CAP_RIGHT_DEALLOC) } },
	[SYS_OP_INDEX(SYS_CONTAINER_MAP)] = { "container_map", container_map_op, 5, 2,
					      { CONTAINER(CAP_RIGHT_MAP), { CAP_TYPE_SPACE, false, CAP_RIGHT_MAP } } },
	[SYS_OP_INDEX(SYS_CONTAINER_READ)] = { "container_read", container_read_op, 2, 1,
					       { CONTAINER(CAP_RIGHT_READ) } },
	[SYS_OP_INDEX(SYS_CONTAINER_WRITE)] = { "container_write", container_write_op, 3, 1,
						{ CONTAINER(CAP_RIGHT_WRITE) } },
	[SYS_OP_INDEX(SYS_CONTAINER_SHARE)] = { "container_share", container_share_op, 1, 1,
						{ CONTAINER(CAP_RIGHT_DERIVE) } },
	[SYS_OP_INDEX(SYS_CONTAINER_CANCEL)] = { "container_cancel", container_cancel_op, 0, 1,
						 { CONTAINER(CAP_RIGHT_DESTROY) } },
	[SYS_OP_INDEX(SYS_CONTAINER_DESTROY)] = { "container_destroy", container_destroy_op, 0, 1,
						  { CONTAINER(CAP_RIGHT_DESTROY) } },
};

const struct sys_op_family sys_container_family = { container_ops, sizeof(container_ops) / sizeof(container_ops[0]),
						    sys_has_physmem };
