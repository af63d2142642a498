/*
 * mmk/cap.h - capabilities: per-task handle tables, rights, and a
 * derivation tree that makes revocation reach every copy
 * (seed 000: MOP capabilities; seed 001: memory control capabilities and
 * weak capabilities; the derivation tree after seL4's CDT, the handle
 * table and per-object handle count after Zircon's handles and
 * dispatchers; docs/design.md, "Capabilities").
 *
 * Words.  A kernel object that handles may name embeds a struct cap_object
 * (its type's ops table and the count of handles naming it).  A handle is a
 * small integer, like a file descriptor, indexing one task's cap_table; the
 * slot holds a struct cap_handle: the object, the rights, and the links of
 * the derivation tree.  Every handle of an object descends from one of the
 * object's roots (handles made by cap_install); cap_derive and cap_grant make
 * children; revoking a handle removes its descendants in every table.
 *
 * The error rule, in the order the checks run (sys_dispatch adds its own
 * opcode and argument checks before these):
 *   -MMK_EBADF   the number names no handle of the caller's table (negative,
 *                beyond the table, or a free slot);
 *   -MMK_EINVAL  the handle names an object of another type than the
 *                operation takes;
 *   -MMK_EPERM   the handle lacks a right the operation needs (DERIVE for
 *                cap_derive, GRANT for cap_grant);
 *   -MMK_EINVAL  a rights argument has bits no type defines
 *                (CAP_RIGHTS_KNOWN);
 *   -MMK_EPERM   a derived or granted copy asks for rights its source does
 *                not hold (rights only shrink along a derivation);
 *   -MMK_EMFILE  the destination table is full (its max_handles);
 *   -MMK_ENOMEM  a handle or a bigger slot array could not be allocated.
 * On error nothing changed (a table may keep slot capacity it grew to: that
 * is not observable through any handle).
 *
 * Units: handle numbers are cap_handle_t; counts are handles.
 *
 * Ownership and lifetime: a cap_system owns the handle cache; a table is
 * embedded by its owner (a task) and lives from cap_table_init to
 * cap_table_fini.  Each handle holds one reference on its object, taken
 * through ops->get when the handle is made and dropped through ops->put
 * after it is removed; puts are deferred to the end of the cap call that
 * removed the handle, so a put that frees an object which itself holds a
 * table (a task) never runs inside a tree walk, and cascades run as a loop,
 * not a recursion.
 *
 * Locking: one lock per cap_system (cs->lock) guards every table, every
 * handle and every cap_object's handle fields.  Every cap_* call below is
 * made with it held (sys_dispatch takes it for a whole request); ops->get
 * and ops->put run under it.  Lock order: cap_system.lock before any
 * vm_space.lock (docs/locking.md).
 */
#ifndef MMK_CAP_H
#define MMK_CAP_H

#include <hal/lock.h>
#include <mmk/kmalloc.h>
#include <mmk/kmem.h>
#include <mmk/types.h>

typedef int32_t cap_handle_t;  /* a handle number: index in one task's table */
typedef uint32_t cap_rights_t; /* CAP_RIGHT_* bits */

#define CAP_HANDLE_NONE ((cap_handle_t)-1) /* "no handle" in requests and replies */

/*
 * Object types.  Others extend this enum (before CAP_TYPE_COUNT) and give
 * their type a struct cap_ops; the tables never look inside an object.
 */
enum cap_type {
	CAP_TYPE_NONE = 0,
	CAP_TYPE_TASK = 1,      /* a handle table and its address space (src/sys) */
	CAP_TYPE_SPACE = 2,     /* an address space (vm_space) */
	CAP_TYPE_VMOBJECT = 3,  /* a memory object (vm_object) */
	CAP_TYPE_ACCOUNT = 4,   /* a memory account (src/acct), seed 001's memory control capability */
	CAP_TYPE_MOP = 5,       /* a memory ownership principal (seed 000) */
	CAP_TYPE_CONTAINER = 6, /* a physmem container (seed 001) */
	CAP_TYPE_FRAMES = 7,    /* the frame manager: moves free frames between user space and the kernel (seed 002) */
	CAP_TYPE_COUNT
};

/* ---- rights ---- */

/* Generic rights: bits 0..15. */
#define CAP_RIGHT_READ (1u << 0)    /* read or inspect; on a space: may make readable mappings, fork */
#define CAP_RIGHT_WRITE (1u << 1)   /* write; on a space: may make writable mappings;
                                       on a task: may receive handles (grant target) */
#define CAP_RIGHT_EXEC (1u << 2)    /* may make executable mappings */
#define CAP_RIGHT_MAP (1u << 3)     /* may change a space's layout / map an object */
#define CAP_RIGHT_GRANT (1u << 4)   /* may be copied into another task's table */
#define CAP_RIGHT_DERIVE (1u << 5)  /* may make a weaker copy in the same table */
#define CAP_RIGHT_DESTROY (1u << 6) /* may destroy the object (every handle to it goes) */
/* Type-specific rights: bits 16..31. */
#define CAP_RIGHT_SPLIT (1u << 16)   /* account: split a child account off (seed 001);
                                        MOP: make a child MOP (its account split off) */
#define CAP_RIGHT_CLAIM (1u << 17)   /* MOP: claim and release virtual ranges (seed 000) */
#define CAP_RIGHT_ALLOC (1u << 18)   /* container: allocate frames into it (seed 001) */
#define CAP_RIGHT_DEALLOC (1u << 19) /* container: deallocate its frames */
#define CAP_RIGHT_TAKE (1u << 20)    /* container: take frames out of it;
                                        frame manager: take free frames back from the kernel (seed 002) */
#define CAP_RIGHT_GIVE (1u << 21)    /* frame manager: give free user frames to the kernel (seed 002) */

#define CAP_RIGHTS_KNOWN                                                                                \
	(CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_EXEC | CAP_RIGHT_MAP | CAP_RIGHT_GRANT |          \
	 CAP_RIGHT_DERIVE | CAP_RIGHT_DESTROY | CAP_RIGHT_SPLIT | CAP_RIGHT_CLAIM | CAP_RIGHT_ALLOC |   \
	 CAP_RIGHT_DEALLOC | CAP_RIGHT_TAKE | CAP_RIGHT_GIVE)

/* The rights each type's handles may carry (its cap_ops.rights). */
#define CAP_RIGHTS_XFER (CAP_RIGHT_GRANT | CAP_RIGHT_DERIVE)
#define CAP_RIGHTS_TASK (CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_DESTROY | CAP_RIGHTS_XFER)
#define CAP_RIGHTS_SPACE                                                                                \
	(CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_EXEC | CAP_RIGHT_MAP | CAP_RIGHT_DESTROY | CAP_RIGHTS_XFER)
#define CAP_RIGHTS_VMOBJECT (CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_EXEC | CAP_RIGHT_MAP | CAP_RIGHTS_XFER)
#define CAP_RIGHTS_ACCOUNT (CAP_RIGHT_READ | CAP_RIGHT_SPLIT | CAP_RIGHT_DESTROY | CAP_RIGHTS_XFER)
/* A MOP handle claims and releases ranges, donates limit to child MOPs
 * and nothing else: no READ, WRITE or MAP exists for it, so no derivation
 * can ever reach memory (seed 000). */
#define CAP_RIGHTS_MOP (CAP_RIGHT_CLAIM | CAP_RIGHT_SPLIT | CAP_RIGHT_DESTROY | CAP_RIGHTS_XFER)
#define CAP_RIGHTS_CONTAINER                                                                            \
	(CAP_RIGHT_READ | CAP_RIGHT_WRITE | CAP_RIGHT_MAP | CAP_RIGHT_ALLOC | CAP_RIGHT_DEALLOC |       \
	 CAP_RIGHT_TAKE | CAP_RIGHT_DESTROY | CAP_RIGHTS_XFER)
/* Seed 001's weak capability: a container handle a server may use to fill
 * or read the container, without the rights to change which frames it holds. */
#define CAP_RIGHTS_CONTAINER_WEAK (CAP_RIGHTS_CONTAINER & ~(CAP_RIGHT_ALLOC | CAP_RIGHT_DEALLOC | CAP_RIGHT_TAKE))

/* The frame manager (seed 002: "user space (i.e. a user space memory
 * management service) is responsible for ensuring the microkernel has
 * sufficient memory"): GIVE and TAKE move free frames across, and the
 * kernel installs it only in that service's table. */
#define CAP_RIGHTS_FRAMES (CAP_RIGHT_GIVE | CAP_RIGHT_TAKE | CAP_RIGHTS_XFER)

/* ---- objects ---- */

struct cap_object;

/*
 * What the tables know about a type.  get takes one reference on the
 * object for a new handle; put drops one (the last may free the object,
 * and with it the embedded cap_object).  refs, optional, reports the
 * object's reference count for the checker (which requires it to be at
 * least the handles naming the object).  All run under cs->lock.
 */
struct cap_ops {
	enum cap_type type;
	const char *name;    /* "space", for reports */
	cap_rights_t rights; /* rights a handle of this type may carry */
	void (*get)(struct cap_object *co);
	void (*put)(struct cap_object *co);
	uint32_t (*refs)(const struct cap_object *co);
};

struct cap_handle;

/* Embedded in every object handles may name (Zircon's dispatcher base). */
struct cap_object {
	const struct cap_ops *ops;
	uint32_t handles;                /* handles naming it, in every table */
	struct cap_handle *roots;        /* its derivation forest: handles without a parent */
	struct cap_object *next, *prev;  /* on cap_system.objects while handles > 0 */
	uint32_t check_count;            /* checker scratch */
};

/* One handle (private to src/sys except for reading obj and rights). */
struct cap_handle {
	struct cap_object *obj;
	struct cap_table *table;
	cap_handle_t index;              /* its number in table */
	cap_rights_t rights;
	struct cap_handle *parent;       /* what it was derived from; NULL for a root */
	struct cap_handle *first_child;  /* derived handles */
	struct cap_handle *next_sibling, *prev_sibling; /* among parent's children (or the object's roots) */
	uint32_t check_epoch;            /* checker scratch */
};

/* ---- tables and the system ---- */

#define CAP_TABLE_LIMIT 65536u /* largest max_handles a table may have */

struct cap_system;

struct cap_table {
	struct cap_system *cs;
	struct cap_handle **slots;  /* capacity entries from kmalloc; NULL = free */
	uint32_t capacity;          /* slots allocated (grows by doubling, never shrinks) */
	uint32_t count;             /* handles held */
	uint32_t max_handles;       /* handle numbers are [0, max_handles) */
	uint32_t first_free;        /* no free slot below this */
	struct cap_table *next, *prev; /* on cs->tables */
};

struct cap_system {
	struct hal_spinlock lock;
	struct kmalloc_heap *heap;     /* slot arrays */
	struct kmem_cache handle_cache;
	struct cap_table *tables;
	struct cap_object *objects;    /* objects with handles > 0 */
	struct cap_handle *dying;      /* removed handles whose put is pending */
	bool draining;                 /* the pending puts are being run */
	uint64_t handles;              /* live handles, every table */
	uint64_t revoked;              /* handles removed by revocation (statistics) */
	uint64_t revoke_visits;        /* handles the revocation walks stepped on: at most
	                                  2 * revoked + 1 per call (tests hold it to that) */
	uint32_t check_epoch;
};

/* 0, or -MMK_ENOMEM (handle cache).  heap must outlive cs. */
int cap_system_init(struct cap_system *cs, struct phys *ph, struct kmalloc_heap *heap);
/* -MMK_EBUSY (nothing changed) while tables or handles remain; else 0. */
int cap_system_fini(struct cap_system *cs);
static inline void cap_lock(struct cap_system *cs) { hal_spin_lock(&cs->lock); }
static inline void cap_unlock(struct cap_system *cs) { hal_spin_unlock(&cs->lock); }

/* Prepare an object's header: no handles yet. */
void cap_object_init(struct cap_object *co, const struct cap_ops *ops);

/* An empty table for handle numbers [0, max_handles); no memory is taken
 * until the first handle.  -MMK_EINVAL for max_handles 0 or above
 * CAP_TABLE_LIMIT. */
int cap_table_init(struct cap_system *cs, struct cap_table *t, uint32_t max_handles);
/* Close every handle of t (their children are reparented, as cap_close),
 * free its slots and take it off cs.  Cannot fail. */
void cap_table_fini(struct cap_table *t);

/*
 * Make a root handle for co in t with rights (the object's creator does
 * this once; further handles are derived).  *out = its number, the lowest
 * free.  0; -MMK_EINVAL (rights beyond co->ops->rights), -MMK_EMFILE,
 * -MMK_ENOMEM.
 */
int cap_install(struct cap_table *t, struct cap_object *co, cap_rights_t rights, cap_handle_t *out);

/*
 * The handle h of t, when it names an object of type (CAP_TYPE_NONE: any)
 * and holds every right of need.  -MMK_EBADF, -MMK_EINVAL, -MMK_EPERM as
 * the rule above.  The pointer is valid while cs->lock is held and nothing
 * removes the handle.
 */
int cap_lookup(struct cap_table *t, cap_handle_t h, enum cap_type type, cap_rights_t need,
	       struct cap_handle **out);

/* A child of h in t with rights (a subset of h's; needs CAP_RIGHT_DERIVE).
 * Errors as the rule above. */
int cap_derive(struct cap_table *t, cap_handle_t h, cap_rights_t rights, cap_handle_t *out);

/* A child of h in another table dst with rights (a subset of h's; needs
 * CAP_RIGHT_GRANT): IPC's handle transfer.  dst may be t.  *out = the
 * number in dst.  Errors as the rule above. */
int cap_grant(struct cap_table *t, cap_handle_t h, struct cap_table *dst, cap_rights_t rights, cap_handle_t *out);

/* Remove h; its children take its place under its parent (seL4's delete:
 * what was derived from h stays revocable from h's ancestors).
 * 0 or -MMK_EBADF. */
int cap_close(struct cap_table *t, cap_handle_t h);

/* Remove every handle derived from h, transitively, in every table; h
 * stays.  O(handles removed), no allocation.  *nrevoked (may be NULL) =
 * how many.  0 or -MMK_EBADF. */
int cap_revoke(struct cap_table *t, cap_handle_t h, uint64_t *nrevoked);

/* Remove every handle naming co, in every table (the DESTROY of an
 * object).  O(handles removed).  Returns how many. */
uint64_t cap_object_revoke_all(struct cap_system *cs, struct cap_object *co);

/*
 * Validate-reserve-commit for handlers that make an object and a handle to
 * it: cap_reserve takes a handle struct and a free slot of t (growing it),
 * cap_commit installs it (cannot fail), cap_cancel gives it back.
 */
struct cap_reservation {
	struct cap_table *t;
	struct cap_handle *node;
	cap_handle_t index;
};
/* 0, -MMK_EMFILE or -MMK_ENOMEM.  At most one reservation per table at a time. */
int cap_reserve(struct cap_table *t, struct cap_reservation *r);
/* Install a root of co with rights (within co->ops->rights) in the reserved slot. */
cap_handle_t cap_commit(struct cap_reservation *r, struct cap_object *co, cap_rights_t rights);
/* Install a child of parent with rights (a subset of parent's: the caller checked). */
cap_handle_t cap_commit_child(struct cap_reservation *r, struct cap_handle *parent, cap_rights_t rights);
void cap_cancel(struct cap_reservation *r);

/*
 * Checkers (re-derive).  cap_table_check: every slot's handle says it is
 * that slot of t; count and first_free agree with the slots; rights within
 * the type's; a child's rights within its parent's and its object its
 * parent's.  cap_system_check: every table; every object's derivation
 * forest reaches exactly the handles naming it (each once, no cycle, sibling
 * and parent links agree), that number equals its handle count, its
 * reference count (ops->refs) is at least that, every handle sits in a
 * table slot of a table on cs, and cs->handles is the total.  0, or
 * -MMK_EINVAL with *why.  Caller holds cs->lock.
 */
int cap_table_check(struct cap_table *t, const char **why);
int cap_system_check(struct cap_system *cs, const char **why);

#endif
