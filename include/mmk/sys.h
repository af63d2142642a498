/*
 * mmk/sys.h - the system-call surface: requests in, replies out, handles
 * in the caller's table (the IPC shape of seeds 000 and 001: CheriOS's
 * memory manager and the Hurd's physmem are servers answering messages).
 *
 * A kernel trap handler or a hosted server fills a struct sys_request from
 * untrusted input and calls sys_dispatch; every field is validated before
 * anything changes, and the reply says 0 or a negative MMK_E* code.
 *
 * Request layout: op selects the operation (SYS_OP(family, n)); args are
 * u64 arguments; handles are handle numbers in the caller's table.  Each
 * operation declares how many args and handles it takes: unused args must
 * be 0 and unused handles CAP_HANDLE_NONE (room for later versions), and
 * flags must be 0.  The reply's results and handles are the operation's
 * outputs (handles are numbers in the caller's table); on error they are
 * all 0 / CAP_HANDLE_NONE.
 *
 * The order of checks, hence which error a request with several faults
 * gets:
 *   1. -MMK_ENOSYS  unknown family or opcode;
 *   2. -MMK_EINVAL  flags not 0, an unused arg not 0, an unused handle not
 *                   CAP_HANDLE_NONE;
 *      -MMK_EPERM   the calling task was destroyed;
 *   3. each declared handle in order (cap.h's rule): -MMK_EBADF (no such
 *      handle; CAP_HANDLE_NONE where the handle is required), -MMK_EINVAL
 *      (wrong type), -MMK_EPERM (a right the operation always needs);
 *   4. the operation's own checks: malformed arguments (-MMK_EINVAL,
 *      -MMK_EOVERFLOW), then rights that depend on the arguments
 *      (-MMK_EPERM: PROT_WRITE needs WRITE, ...), then its work (the
 *      errors of the vm_* call it makes, -MMK_ENOMEM, -MMK_EMFILE).
 * On error nothing changed.
 *
 * Families and their operations (argument names in the opcode comments;
 * "-> r0" results, "-> H0" reply handles; [RIGHTS] on a handle):
 * see the enums below.  A family is one file in src/sys, one line in
 * the family table (src/sys/sys.c) and its enum here.
 *
 * Ownership: struct sys is embedded by the kernel; tasks, spaces and
 * memory objects made through it are kernel objects counted by references:
 * each handle holds one, each task holds its space, and the kernel holds
 * what sys_task_create returned until sys_task_release.
 *
 * Locking: sys_dispatch and every sys_* call take sys->caps.lock for their
 * whole duration (then vm_space locks inside vm calls, the account system's
 * and the claims manager's locks inside account and MOP calls, physmem's
 * and the spaces' inside container calls, phys's inside frame calls).
 * Lock order: cap_system.lock before vm_space.lock, physmem.lock,
 * acct_system.lock, claims.lock and phys.lock.
 */
#ifndef MMK_SYS_H
#define MMK_SYS_H

#include <mmk/acct.h>
#include <mmk/cap.h>
#include <mmk/mop.h>
#include <mmk/physmem.h>
#include <mmk/vm.h>

#define SYS_NARGS 6
#define SYS_NRESULTS 4
#define SYS_NHANDLES 4

struct sys_request {
	uint32_t op;      /* SYS_OP(family, n) */
	uint32_t flags;   /* must be 0 */
	uint64_t args[SYS_NARGS];
	cap_handle_t handles[SYS_NHANDLES];
};

struct sys_reply {
	int32_t status;   /* 0 or -MMK_E* */
	uint32_t reserved; /* 0 */
	uint64_t results[SYS_NRESULTS];
	cap_handle_t handles[SYS_NHANDLES];
};

/* ---- opcodes ---- */

#define SYS_OP(family, n) (((uint32_t)(family) << 8) | (uint32_t)(n))
#define SYS_OP_FAMILY(op) ((op) >> 8)
#define SYS_OP_INDEX(op) ((op)&0xffu)

enum sys_family {
	SYS_FAMILY_CAP = 1,       /* handle management (sys_cap.c) */
	SYS_FAMILY_TASK = 2,      /* tasks (sys_task.c) */
	SYS_FAMILY_VM = 3,        /* address spaces and memory objects (sys_vm.c) */
	SYS_FAMILY_ACCOUNT = 4,   /* accounts (sys_acct.c over src/acct) */
	SYS_FAMILY_MOP = 5,       /* MOPs and their claims (sys_mop.c over src/claims/mop.c) */
	SYS_FAMILY_CONTAINER = 6, /* physmem containers (sys_container.c over src/physmem) */
	SYS_FAMILY_FRAME = 7,     /* frame ownership, user space <-> kernel (sys_frame.c over src/phys) */
	SYS_FAMILY_COUNT
};

enum sys_cap_op {
	SYS_CAP_INFO = SYS_OP(SYS_FAMILY_CAP, 0),   /* h0 (any) -> r0 type, r1 rights */
	SYS_CAP_DERIVE = SYS_OP(SYS_FAMILY_CAP, 1), /* h0 [DERIVE], a0 rights -> H0 child of h0 */
	SYS_CAP_GRANT = SYS_OP(SYS_FAMILY_CAP, 2),  /* h0 [GRANT], h1 task [WRITE], a0 rights
	                                               -> r0 the child's number in h1's table */
	SYS_CAP_CLOSE = SYS_OP(SYS_FAMILY_CAP, 3),  /* h0 (any); its children move to its parent */
	SYS_CAP_REVOKE = SYS_OP(SYS_FAMILY_CAP, 4), /* h0 (any) -> r0 handles removed (h0 stays) */
};

enum sys_task_op {
	/* h0 space [GRANT] or NONE -> H0 the task [all task rights], r0 the
	 * space's handle number in the new task's table (a child of h0 with
	 * h0's rights; with NONE a new space, a root with all space rights). */
	SYS_TASK_CREATE = SYS_OP(SYS_FAMILY_TASK, 0),
	/* h0 task [DESTROY]: every handle naming the task goes, its table is
	 * emptied (handles it held are closed), it releases its space. */
	SYS_TASK_DESTROY = SYS_OP(SYS_FAMILY_TASK, 1),
};

enum sys_vm_op {
	SYS_VM_CREATE = SYS_OP(SYS_FAMILY_VM, 0), /* -> H0 a new empty space [all space rights] */
	/* mmap(2): h0 space [MAP], h1 memory object [MAP] or NONE (anonymous);
	 * a0 hint, a1 len, a2 prot, a3 flags (VM_MAP_*), a4 offset -> r0 start.
	 * prot's READ/WRITE/EXEC each need that right on h0, and on h1 (WRITE
	 * only for shared mappings); h1's READ/WRITE/EXEC are the mapping's
	 * max protection, as a file's open mode (later mprotect: -MMK_EACCES). */
	SYS_VM_MAP = SYS_OP(SYS_FAMILY_VM, 1),
	SYS_VM_UNMAP = SYS_OP(SYS_FAMILY_VM, 2),   /* munmap(2): h0 [MAP], a0 addr, a1 len */
	SYS_VM_PROTECT = SYS_OP(SYS_FAMILY_VM, 3), /* mprotect(2): h0 [MAP + prot's], a0 addr, a1 len, a2 prot */
	/* mremap(2): h0 [MAP], a0 old addr, a1 old len, a2 new len, a3 flags
	 * (VM_MREMAP_*), a4 new addr -> r0 new start */
	SYS_VM_REMAP = SYS_OP(SYS_FAMILY_VM, 4),
	SYS_VM_ADVISE = SYS_OP(SYS_FAMILY_VM, 5), /* madvise(2): h0 [MAP], a0 addr, a1 len, a2 advice */
	/* fork of a space: h0 [READ] -> H0 the copy-on-write copy [all space rights] */
	SYS_VM_FORK = SYS_OP(SYS_FAMILY_VM, 6),
	/* h0 [DESTROY]: every handle naming the space goes; its mappings go now
	 * if a task still runs in it, else with the space. */
	SYS_VM_DESTROY = SYS_OP(SYS_FAMILY_VM, 7),
	/* h0 [READ], a0 addr -> r0 start, r1 end, r2 prot, r3 VMA_* flags of
	 * the VMA holding addr; -MMK_ENOENT when none does */
	SYS_VM_QUERY = SYS_OP(SYS_FAMILY_VM, 8),
	/* a0 size (bytes, page multiple, > 0) -> H0 a new shared anonymous
	 * memory object [all memory-object rights] */
	SYS_VM_OBJECT_CREATE = SYS_OP(SYS_FAMILY_VM, 9),
};

/*
 * Accounts and MOPs answer -MMK_ENOSYS until sys_attach_accounts gave the
 * sys an account system and a claims manager.  Names (a1 of the calls that
 * make an account or a MOP) are up to 8 bytes packed into a u64, first
 * byte lowest, each a printable ASCII character other than space (0x21 ..
 * 0x7e), the rest 0: 0 is no name; anything else is -MMK_EINVAL.  A dead
 * account or MOP (destroyed itself or under a destroyed ancestor) answers
 * -MMK_EIDRM and changes nothing.
 */
enum sys_account_op {
	/* seed 001's split: h0 account [SPLIT], a0 frames (> 0), a1 name -> H0 the
	 * new child account [all account rights]; -MMK_ENOMEM when h0's account
	 * has fewer than a0 frames available */
	SYS_ACCOUNT_SPLIT = SYS_OP(SYS_FAMILY_ACCOUNT, 0),
	/* h0 [DESTROY]: the account and everything under it are destroyed
	 * (accounts, MOPs: their claims are released), its limit returns to its
	 * parent, and every handle naming h0's object goes; handles to objects
	 * below stay and answer -MMK_EIDRM.  The root account is the kernel's:
	 * -MMK_EPERM. */
	SYS_ACCOUNT_DESTROY = SYS_OP(SYS_FAMILY_ACCOUNT, 1),
	/* h0 [READ] -> r0 limit, r1 charged, r2 donated, r3 available (frames) */
	SYS_ACCOUNT_USAGE = SYS_OP(SYS_FAMILY_ACCOUNT, 2),
};

enum sys_mop_op {
	/* h0 account [SPLIT], a0 limit (pages, > 0), a1 name -> H0 a new MOP
	 * [all MOP rights], r0 its id (printed as #id with its claims); the
	 * MOP's account is split off h0's (mmk/mop.h) */
	SYS_MOP_CREATE = SYS_OP(SYS_FAMILY_MOP, 0),
	/* h0 MOP [SPLIT], a0 limit, a1 name -> H0 a child MOP, r0 its id: its
	 * account is split off h0's MOP's.  SPLIT, the account right, is the
	 * MOP's right to donate limit to a child: the same operation on the
	 * MOP's account, so no new right is needed (seed 000: "another is
	 * needed to act as a parent and temporarily donate"). */
	SYS_MOP_CHILD = SYS_OP(SYS_FAMILY_MOP, 1),
	/* h0 [CLAIM], a0 start, a1 len (bytes): mop_claim; the MOP's account is
	 * charged the pages it did not claim before */
	SYS_MOP_CLAIM = SYS_OP(SYS_FAMILY_MOP, 2),
	/* h0 [CLAIM], a0 start, a1 len: mop_release */
	SYS_MOP_RELEASE = SYS_OP(SYS_FAMILY_MOP, 3),
	/* h0 [DESTROY]: mop_destroy (its children die with it), then every
	 * handle naming it goes */
	SYS_MOP_DESTROY = SYS_OP(SYS_FAMILY_MOP, 4),
	/* h0 [CLAIM] -> r0 limit, r1 claimed pages (its charge), r2 donated to
	 * children, r3 available (pages) */
	SYS_MOP_USAGE = SYS_OP(SYS_FAMILY_MOP, 5),
};

/*
 * Containers (seed 001's physmem through handles) answer -MMK_ENOSYS until
 * sys_attach_physmem gave the sys a physmem (and accounts are attached:
 * a container is made from an account).  Handle rights map onto physmem's
 * rights: READ -> PM_READ, WRITE -> PM_WRITE, MAP -> PM_MAP, ALLOC ->
 * PM_ALLOC, DEALLOC -> PM_DEALLOC, TAKE -> PM_TAKE, DERIVE -> PM_SHARE.
 * Two kinds of container object: the owner's (from CREATE, the owner ref
 * with every PM right) and a weak one (from SHARE, seed 001's weak
 * capability: a share and its weak ref; rights within
 * CAP_RIGHTS_CONTAINER_WEAK, so no ALLOC, DEALLOC or TAKE ever).  Errors
 * beyond dispatch's are physmem's (mmk/physmem.h), passed through.
 */
enum sys_container_op {
	/* h0 account [SPLIT] -> H0 a new empty container charging h0's
	 * account [CAP_RIGHTS_CONTAINER]; -MMK_EIDRM for a dead account */
	SYS_CONTAINER_CREATE = SYS_OP(SYS_FAMILY_CONTAINER, 0),
	/* container_allocate: h0 [ALLOC], a0 offset (bytes, page-aligned), a1
	 * pages, a2 PM_ALLOC_* flags -> r0 pages allocated */
	SYS_CONTAINER_ALLOCATE = SYS_OP(SYS_FAMILY_CONTAINER, 1),
	/* container_deallocate: h0 [DEALLOC], a0 offset, a1 len (bytes) */
	SYS_CONTAINER_DEALLOCATE = SYS_OP(SYS_FAMILY_CONTAINER, 2),
	/* container_map: h0 [MAP], h1 space [MAP]; a0 hint, a1 offset, a2 len
	 * (bytes), a3 prot, a4 VM_MAP_* flags -> r0 start.  prot's READ/WRITE/
	 * EXEC each need that right on h1 (-MMK_EPERM, as SYS_VM_MAP); beyond
	 * h0's READ/WRITE: physmem's -MMK_EACCES. */
	SYS_CONTAINER_MAP = SYS_OP(SYS_FAMILY_CONTAINER, 3),
	/* container_read: h0 [READ], a0 offset (any alignment), a1 len (1..8
	 * bytes) -> r0 the bytes, first lowest */
	SYS_CONTAINER_READ = SYS_OP(SYS_FAMILY_CONTAINER, 4),
	/* container_write: h0 [WRITE], a0 offset, a1 len (1..8), a2 the bytes,
	 * first lowest (bits above len bytes must be 0) */
	SYS_CONTAINER_WRITE = SYS_OP(SYS_FAMILY_CONTAINER, 5),
	/* container_share: h0 an owner handle [DERIVE] (a weak one:
	 * -MMK_EINVAL), a0 rights (within
	 * CAP_RIGHTS_CONTAINER_WEAK: -MMK_EINVAL; within h0's: -MMK_EPERM;
	 * with READ, WRITE or MAP: else -MMK_EINVAL) -> H0 a weak handle with
	 * a0, to grant to a server (SYS_CAP_GRANT) */
	SYS_CONTAINER_SHARE = SYS_OP(SYS_FAMILY_CONTAINER, 6),
	/* container_share_cancel: h0 a weak handle [DESTROY] (an owner
	 * handle: -MMK_EINVAL): the server's maps through it go, and every
	 * handle naming the weak object (the server's too) goes */
	SYS_CONTAINER_CANCEL = SYS_OP(SYS_FAMILY_CONTAINER, 7),
	/* container_destroy: h0 an owner handle [DESTROY] (a weak one:
	 * -MMK_EINVAL): its frames are freed, its shares cancelled, and every
	 * handle naming it goes (weak handles stay and answer -MMK_EIDRM) */
	SYS_CONTAINER_DESTROY = SYS_OP(SYS_FAMILY_CONTAINER, 8),
};

/*
 * Frame ownership (seed 002): the user-space memory manager owns the user
 * frames and keeps the kernel supplied.  It holds the frame-manager handle
 * (CAP_TYPE_FRAMES) that only the kernel can install
 * (sys_task_install_frames).  a0 = count (1..SYS_FRAME_BATCH), a1..a<count>
 * the frame numbers, the args after them 0 (-MMK_EINVAL otherwise); then
 * phys's errors for the first bad frame (mmk/phys.h): -MMK_EINVAL (not
 * RAM), -MMK_EEXIST (the receiver owns it already, or listed twice),
 * -MMK_EBUSY (in use), -MMK_EPERM (GIVE only: the architecture forbids the
 * kernel that frame).  All or nothing; each frame is zeroed as it moves.
 */
#define SYS_FRAME_BATCH 5u
enum sys_frame_op {
	/* phys_give_to_kernel: h0 frame manager [GIVE], a0 count, a1.. pfns */
	SYS_FRAME_GIVE = SYS_OP(SYS_FAMILY_FRAME, 0),
	/* phys_take_from_kernel: h0 frame manager [TAKE], a0 count, a1.. pfns */
	SYS_FRAME_TAKE = SYS_OP(SYS_FAMILY_FRAME, 1),
};

/* ---- kernel objects ---- */

struct sys;

/* The header of every object made here: its cap_object, its references
 * (handles + holds) and its place on sys->kobjs. */
struct sys_kobj {
	struct cap_object cap;
	struct sys *sys;
	uint32_t refs;   /* every reference: one per handle, plus holds */
	uint32_t holds;  /* references that are not handles (kernel, tasks) */
	void (*release)(struct sys_kobj *k); /* frees the object after its last reference */
	struct sys_kobj *next, *prev; /* on sys->kobjs */
};

struct sys_space {
	struct sys_kobj k;
	struct vm_space *as;  /* owned: destroyed with the last reference */
	uint32_t tasks;       /* tasks running in it (each holds it) */
};

struct sys_vmobject {
	struct sys_kobj k;
	struct vm_object *obj; /* one reference of obj, dropped with the last of k */
};

/* An account handles name: a reference on the account (several objects may
 * name one account: each kernel install makes one). */
struct sys_account {
	struct sys_kobj k;
	struct mmk_account *acct; /* acct_get'd; dropped with the last reference */
};

/* A MOP made through requests: destroyed when its last reference goes
 * (nobody could use it any more), with every MOP below it (mmk/mop.h). */
struct sys_mop {
	struct sys_kobj k;
	struct mop mop;
};

/* A container handles name: the owner's (share NULL: ref is an owner ref,
 * destroyed with the last reference) or a weak one (share: the client's
 * hold on the share, cancelled with the last reference unless it was;
 * ref: the weak ref, put with the last reference). */
struct sys_container {
	struct sys_kobj k;
	struct container_ref ref;
	struct container_share *share; /* weak objects until cancelled; else NULL */
	bool weak;
};

/* The frame manager: one per kernel install, naming the sys's phys. */
struct sys_frames {
	struct sys_kobj k;
	struct phys *phys;
};

struct sys_task {
	struct sys_kobj k;
	struct cap_table table;  /* valid until the task is destroyed */
	struct sys_space *space; /* held; NULL once destroyed */
	bool dead;               /* destroyed: its requests are refused with -MMK_EPERM */
};

struct sys {
	struct cap_system caps;
	struct vm_system *vm;
	struct kmalloc_heap *heap;  /* tasks, spaces, memory-object wrappers, slot arrays */
	uint32_t max_handles;       /* table size of new tasks */
	struct sys_kobj *kobjs;     /* every live object made here */
	struct acct_system *acct;   /* NULL: accounts and MOPs are -MMK_ENOSYS */
	struct claims *claims;      /* the manager MOPs claim from */
	uint32_t next_mop_id;       /* ids of MOPs made here, from 1 */
	uint64_t tasks, spaces, vmobjects; /* live objects by type */
	uint64_t accounts, mops;
	struct physmem *physmem;    /* NULL: containers are -MMK_ENOSYS */
	uint64_t containers, frame_managers;
	uint64_t requests, refused; /* statistics */
};

/*
 * Set up s over vm (which must outlive it); new tasks get tables of
 * max_handles (<= CAP_TABLE_LIMIT).  0, -MMK_EINVAL, -MMK_ENOMEM.
 */
int sys_init(struct sys *s, struct vm_system *vm, struct kmalloc_heap *heap, uint32_t max_handles);
/* -MMK_EBUSY (nothing changed) while objects made here live; else 0. */
int sys_fini(struct sys *s);

/*
 * Give s the account system and claims manager the account and MOP
 * families work on (both must outlive s, or be detached first); NULL, NULL
 * detaches (those families answer -MMK_ENOSYS again).  0; -MMK_EINVAL
 * when only one is NULL; -MMK_EBUSY (nothing changed) while account or MOP
 * objects made through s live.
 */
int sys_attach_accounts(struct sys *s, struct acct_system *acct, struct claims *claims);

/*
 * Give s the physmem the container family works on (it must outlive s or
 * be detached first, and map into s's vm_system: pm->vm == s->vm); NULL
 * detaches.  0; -MMK_EINVAL (pm->vm another vm_system); -MMK_EBUSY
 * (nothing changed) while container objects made through s live.
 */
int sys_attach_physmem(struct sys *s, struct physmem *pm);

/*
 * Install a frame-manager handle with rights (within CAP_RIGHTS_FRAMES)
 * in t's table: how a kernel names its user-space memory manager (seed
 * 002).  0; -MMK_EPERM (t destroyed); -MMK_EINVAL (rights); cap_install's
 * -MMK_EMFILE; -MMK_ENOMEM.  Nothing changes on error.
 */
int sys_task_install_frames(struct sys_task *t, cap_rights_t rights, cap_handle_t *out);

/*
 * Install a root handle for account a with rights (within
 * CAP_RIGHTS_ACCOUNT) in t's table, in a new account object holding a
 * reference on a: how a kernel gives a process manager the root account.
 * 0; -MMK_ENOSYS (no account system attached); -MMK_EPERM (t destroyed);
 * -MMK_EIDRM (a dead); cap_install's -MMK_EINVAL, -MMK_EMFILE;
 * -MMK_ENOMEM.  Nothing changes on error.
 */
int sys_task_install_account(struct sys_task *t, struct mmk_account *a, cap_rights_t rights, cap_handle_t *out);

/*
 * A task made by the kernel (the first task, or a server's client): a new
 * empty space and a table whose handle 0 names it with all space rights.
 * *out is held for the caller until sys_task_release.  0 or -MMK_ENOMEM.
 */
int sys_task_create(struct sys *s, struct sys_task **out);
/*
 * A task made by the kernel with chosen rights on its space: a process of
 * a kernel, which must not hold more than a process may (no DESTROY, say).
 * With from NULL (space must be CAP_HANDLE_NONE) the task gets a new empty
 * space and its handle 0 is a root naming it with rights; otherwise it
 * runs in the space that handle `space` of from's table names (the H0 of a
 * SYS_VM_FORK reply, say) and its handle 0 is a child of that handle with
 * rights, so rights only shrink and revoking the source takes it away.
 * from, when given, belongs to s.  *out is held for the caller until
 * sys_task_release.  Errors, in this order: -MMK_EINVAL (from NULL and
 * space not NONE), -MMK_EPERM (from destroyed), cap.h's -MMK_EBADF /
 * -MMK_EINVAL for `space` (no such handle / not a space), -MMK_EINVAL
 * (rights beyond CAP_RIGHTS_SPACE), -MMK_EPERM (rights the source handle
 * lacks), -MMK_ENOMEM; nothing changed on error.  Takes s->caps.lock.
 * sys_task_create(s, out) is sys_task_create_in(s, NULL, CAP_HANDLE_NONE,
 * CAP_RIGHTS_SPACE, out).
 */
int sys_task_create_in(struct sys *s, struct sys_task *from, cap_handle_t space, cap_rights_t rights,
		       struct sys_task **out);
/* Destroy t as SYS_TASK_DESTROY does (no rights needed: the kernel's). */
void sys_task_destroy(struct sys_task *t);
/* Drop the caller's hold on t; t is freed with its last reference (a
 * task whose own table names it lives until it is destroyed). */
void sys_task_release(struct sys_task *t);
/* Install a root handle for a kernel object co (rights within its type's)
 * in t's table: how a kernel bootstraps a task's authority.  0, -MMK_EPERM
 * (t destroyed), or cap_install's -MMK_EINVAL, -MMK_EMFILE, -MMK_ENOMEM. */
int sys_task_install(struct sys_task *t, struct cap_object *co, cap_rights_t rights, cap_handle_t *out);

/* Run one request from caller; rep is always written.  Returns rep->status. */
int sys_dispatch(struct sys_task *caller, const struct sys_request *req, struct sys_reply *rep);

/* Name of an opcode ("vm_map"), or NULL for an unknown one. */
const char *sys_op_name(uint32_t op);

/*
 * Re-derive: cap_system_check, then every object made here: refs equals
 * its handles plus holds, a space's holds equal the live tasks running in
 * it, the live counts per type match, every MOP passes mop_check.  0 or -MMK_EINVAL with *why.
 * Takes s->caps.lock.
 */
int sys_check(struct sys *s, const char **why);

#endif
