/*
 * sys/sys_internal.h - the opcode table and what the handler files share.
 *
 * Each family file (sys_cap.c, sys_task.c, sys_vm.c, sys_acct.c, sys_mop.c,
 * sys_container.c, sys_frame.c)
 * defines a struct sys_op_family: an array of struct sys_op indexed by
 * SYS_OP_INDEX.  An entry declares its name, handler, how many args it
 * reads, and for each handle argument the type and the rights it always
 * needs; sys_dispatch checks all of that before the handler runs, so a
 * handler starts with live, typed handles that hold their fixed rights.
 */
#ifndef MMK_SYS_INTERNAL_H
#define MMK_SYS_INTERNAL_H

#include <mmk/errno.h>
#include <mmk/sys.h>

#include "sys/cap_internal.h"

/* One handle argument of an operation. */
struct sys_handle_arg {
	uint8_t type;         /* enum cap_type; CAP_TYPE_NONE = any type */
	bool optional;        /* CAP_HANDLE_NONE allowed (call->h[i] is then NULL) */
	cap_rights_t rights;  /* rights always needed */
};

struct sys_call {
	struct sys *sys;
	struct sys_task *caller;
	const struct sys_request *req;
	struct sys_reply *rep;
	struct cap_handle *h[SYS_NHANDLES]; /* the looked-up handle arguments */
};

struct sys_op {
	const char *name;     /* NULL: no such operation */
	int (*handler)(struct sys_call *call);
	uint8_t nargs;        /* args[nargs..] must be 0 */
	uint8_t nhandles;     /* handles[nhandles..] must be CAP_HANDLE_NONE */
	struct sys_handle_arg h[SYS_NHANDLES];
};

struct sys_op_family {
	const struct sys_op *ops;
	uint32_t nops;
	/* NULL, or false when s lacks what the family works on: its
	 * opcodes are then -MMK_ENOSYS (step 1 of the order) */
	bool (*available)(const struct sys *s);
};

extern const struct sys_op_family sys_cap_family;
extern const struct sys_op_family sys_task_family;
extern const struct sys_op_family sys_vm_family;
extern const struct sys_op_family sys_account_family;
extern const struct sys_op_family sys_mop_family;
extern const struct sys_op_family sys_container_family;
extern const struct sys_op_family sys_frame_family;

/* ---- objects (sys.c) ---- */

/* Start k as an object of s with ops, refs 0, on s->kobjs; release frees
 * it when its last reference goes (after it left s->kobjs). */
void sys_kobj_init(struct sys *s, struct sys_kobj *k, const struct cap_ops *ops, void (*release)(struct sys_kobj *k));
/* A kernel reference (a hold): refs and holds + 1; and its drop. */
void sys_kobj_hold(struct sys_kobj *k);
void sys_kobj_unhold(struct sys_kobj *k);
/* The cap_ops get/put/refs of every object made here. */
void sys_kobj_get(struct cap_object *co);
void sys_kobj_put(struct cap_object *co);
uint32_t sys_kobj_refs(const struct cap_object *co);
/* The cap_ops of an object type made here. */
#define SYS_KOBJ_OPS(type_, name_, rights_)                                                              \
	{ .type = (type_), .name = (name_), .rights = (rights_), .get = sys_kobj_get, .put = sys_kobj_put,   \
	  .refs = sys_kobj_refs }
/* Take k off s->kobjs (a new object's undo). */
void sys_kobj_unlink(struct sys_kobj *k);

static inline struct sys_kobj *sys_kobj_of(struct cap_object *co)
{
	return (struct sys_kobj *)((char *)co - offsetof(struct sys_kobj, cap));
}

/* ---- objects by family ---- */

extern const struct cap_ops sys_task_ops;
extern const struct cap_ops sys_space_ops;
extern const struct cap_ops sys_vmobject_ops;
extern const struct cap_ops sys_account_ops;
extern const struct cap_ops sys_mop_ops;
extern const struct cap_ops sys_container_ops;
extern const struct cap_ops sys_frames_ops;

/* Account and MOP families: s has an account system and a claims manager. */
bool sys_has_accounts(const struct sys *s);
/* Container family: s has a physmem and accounts. */
bool sys_has_physmem(const struct sys *s);
/* A name argument (mmk/sys.h: up to 8 printable bytes, first lowest) into
 * out (NUL-terminated): 0 or -MMK_EINVAL. */
int sys_name_arg(uint64_t a, char out[9]);
/* Reply r0 limit, r1 charged, r2 donated, r3 available of a: 0, or
 * -MMK_EIDRM (nothing replied) when a is dead. */
int sys_reply_usage(struct sys_call *call, struct mmk_account *a);

/* prot must be VM_PROT_* bits (-MMK_EINVAL) and the space handle h must
 * allow establishing it (PROT_READ needs READ, ...: -MMK_EPERM). */
int sys_check_prot(struct cap_handle *h, uint64_t prot);

/* A new space object around as (taken over), refs 0.  NULL: ENOMEM (as untouched). */
struct sys_space *sys_space_new(struct sys *s, struct vm_space *as);
/* Free a space object that never got a reference (reservation undone),
 * without destroying the vm_space. */
void sys_space_abandon(struct sys_space *sp);
/* A new task in sp (held by the task), table empty, refs 0.  NULL: ENOMEM. */
struct sys_task *sys_task_new(struct sys *s, struct sys_space *sp);
/* Free a task that never got a reference, releasing its hold on its space. */
void sys_task_abandon(struct sys_task *t);
/* Destroy t: revoke its handles, empty its table, drop its space. */
void sys_task_destroy_locked(struct sys_task *t);

static inline struct sys_space *sys_space_of(struct cap_handle *h)
{
	return (struct sys_space *)sys_kobj_of(h->obj);
}
static inline struct sys_task *sys_task_of(struct cap_handle *h)
{
	return (struct sys_task *)sys_kobj_of(h->obj);
}
static inline struct sys_vmobject *sys_vmobject_of(struct cap_handle *h)
{
	return (struct sys_vmobject *)sys_kobj_of(h->obj);
}
static inline struct sys_account *sys_account_of(struct cap_handle *h)
{
	return (struct sys_account *)sys_kobj_of(h->obj);
}
static inline struct sys_mop *sys_mop_of(struct cap_handle *h)
{
	return (struct sys_mop *)sys_kobj_of(h->obj);
}
static inline struct sys_container *sys_container_of(struct cap_handle *h)
{
	return (struct sys_container *)sys_kobj_of(h->obj);
}
static inline struct sys_frames *sys_frames_of(struct cap_handle *h)
{
	return (struct sys_frames *)sys_kobj_of(h->obj);
}

#endif
