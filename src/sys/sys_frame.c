/*
 * sys/sys_frame.c - the frame family: seed 002's two system calls that move
 * free frames between user space and the kernel (phys_give_to_kernel,
 * phys_take_from_kernel in src/phys/ownership.c; mmk/sys.h lists the
 * requests).
 *
 * Who may call them.  Seed 002 makes "a user space memory management
 * service" responsible for keeping the kernel supplied with frames, so the
 * authority is a capability the kernel gives that service alone: a
 * frame-manager object (CAP_TYPE_FRAMES), installed only by
 * sys_task_install_frames, with GIVE (user -> kernel) and TAKE (kernel ->
 * user).  A dedicated type rather than a right on the root account: an
 * account bounds how many frames a holder may use, while these calls
 * change who owns particular frames, and every account handle split off
 * the root would otherwise carry a right meaningful on the root alone.
 *
 * Invariants: a frame-manager object names its sys's phys; it holds no
 * state, so its handles may be derived and granted freely (XFER rights).
 * Locking: caps.lock for the request, then ph->lock inside phys.
 * Failure: phys's calls are all-or-nothing and allocate nothing; the
 * arguments are checked before them.
 */
#include "lib/mem.h"
#include "sys/sys_internal.h"

_Static_assert(sizeof(pfn_t) == sizeof(uint64_t), "a frame number arg passes without narrowing");

static void frames_release(struct sys_kobj *k)
{
	struct sys *s = k->sys;
	s->frame_managers--;
	kfree(s->heap, k);
}

const struct cap_ops sys_frames_ops = SYS_KOBJ_OPS(CAP_TYPE_FRAMES, "frames", CAP_RIGHTS_FRAMES);

int sys_task_install_frames(struct sys_task *t, cap_rights_t rights, cap_handle_t *out)
{
	struct sys *s = t->k.sys;
	cap_lock(&s->caps);
	int rc = t->dead ? -MMK_EPERM : (rights & ~CAP_RIGHTS_FRAMES) ? -MMK_EINVAL : 0;
	struct cap_reservation r;
	if (!rc)
		rc = cap_reserve(&t->table, &r);
	if (!rc) {
		struct sys_frames *o = kzalloc(s->heap, sizeof(*o));
		if (o) {
			sys_kobj_init(s, &o->k, &sys_frames_ops, frames_release);
			o->phys = s->vm->phys;
			s->frame_managers++;
			*out = cap_commit(&r, &o->k.cap, rights);
		} else {
			cap_cancel(&r);
			rc = -MMK_ENOMEM;
		}
	}
	cap_unlock(&s->caps);
	return rc;
}

/* a0 = count in 1..SYS_FRAME_BATCH, the frames in a1..a<count>, the rest
 * 0 (dispatch checked nothing past a5).  0 or -MMK_EINVAL. */
static int frame_list(const uint64_t *a, pfn_t pfns[SYS_FRAME_BATCH], size_t *n)
{
	if (a[0] == 0 || a[0] > SYS_FRAME_BATCH)
		return -MMK_EINVAL;
	for (unsigned i = 0; i < SYS_FRAME_BATCH; i++) {
		if (i >= a[0] && a[1 + i])
			return -MMK_EINVAL;
		pfns[i] = (pfn_t)a[1 + i];
	}
	*n = (size_t)a[0];
	return 0;
}

/* Check the list, then let phys move it (all or nothing). */
static int frame_move(struct sys_call *call, int (*move)(struct phys *ph, const pfn_t *pfns, size_t n))
{
	pfn_t pfns[SYS_FRAME_BATCH];
	size_t n;
	int rc = frame_list(call->req->args, pfns, &n);
	return rc ? rc : move(sys_frames_of(call->h[0])->phys, pfns, n);
}

static int frame_give_op(struct sys_call *call) { return frame_move(call, phys_give_to_kernel); }
static int frame_take_op(struct sys_call *call) { return frame_move(call, phys_take_from_kernel); }

_Static_assert(SYS_FRAME_BATCH + 1 == SYS_NARGS, "a count and the frames fill the args");

#define FRAMES(rights) { CAP_TYPE_FRAMES, false, (rights) }

static const struct sys_op frame_ops[] = {
	[SYS_OP_INDEX(SYS_FRAME_GIVE)] = { "frame_give", frame_give_op, SYS_NARGS, 1, { FRAMES(CAP_RIGHT_GIVE) } },
	[SYS_OP_INDEX(SYS_FRAME_TAKE)] = { "frame_take", frame_take_op, SYS_NARGS, 1, { FRAMES(CAP_RIGHT_TAKE) } },
};

const struct sys_op_family sys_frame_family = { frame_ops, sizeof(frame_ops) / sizeof(frame_ops[0]), NULL };
