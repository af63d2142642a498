/*
 * mmk/acct.h - hierarchical memory accounts: the limit behind seed 000's
 * memory ownership principals (MOPs) and seed 001's memory control
 * capabilities.
 *
 * An account has a limit in frames: the frames its parent guarantees it.  It
 * spends that limit two ways: charges (frames allocated for it: user pages,
 * page tables, kernel objects made for its tasks) and donations (the limits
 * of the children split off it).  Split is seed 001's: A holds 100 frames,
 * splits B with 10, and from then on A guarantees 90 and B 10; B draws only
 * on the 10 it was given, never on A's rest, so a charge looks at one
 * account and no more (O(1), one atomic).  Destroying an account destroys
 * its descendants, has every holder of the subtree free what it charged, and
 * gives the limit back to the parent.  Two tasks may share one account
 * (acct_get / acct_put).
 *
 * Units: frames (4 KiB pages) unless a name says bytes.
 *
 * Locking: struct acct_system's lock guards the tree's shape, every
 * account's donated/children/holders/dead fields and the reference counts.
 * Charges are lock-free (one compare-and-swap on the account's `used`), so
 * they may be taken under any other mmk lock.  Lock order: acct_system.lock
 * is taken before vm_space locks and never while one is held, except by
 * acct_holder_attach/detach/acct_get/acct_put and the uncharge that frees a
 * destroyed account's pinned struct (charge.c), which take it alone (with
 * nothing but a kmem cache lock under it).  acct_destroy calls holders'
 * release functions with no acct lock held.
 */
#ifndef MMK_ACCT_H
#define MMK_ACCT_H

#include <hal/lock.h>
#include <mmk/kmem.h>
#include <mmk/list.h>
#include <mmk/types.h>

#define ACCT_NAME_LEN 16 /* bytes of a name, with its terminating NUL */

struct mmk_account;

/*
 * Something that charges an account and can give everything back: an
 * address space, a container.  acct_destroy calls release(h) once, with no
 * acct lock held, after unlinking h (h->acct still names the account so
 * release can uncharge it); release must free and uncharge all that h
 * charged and end with acct_holder_detach(h) (usually by tearing its owner
 * down); acct_destroy does not touch h after release returns, so release
 * may free the memory h lives in.  The holder's owner embeds it.
 */
struct acct_holder {
	struct mmk_list link;          /* on the account's holders list */
	struct mmk_account *acct;      /* NULL when detached */
	void (*release)(struct acct_holder *h);
	bool releasing;                /* set by acct_destroy before release */
};

struct mmk_account {
	struct acct_system *sys;
	struct mmk_account *parent;    /* NULL for the root */
	struct mmk_list children;      /* child accounts, by their sibling link */
	struct mmk_list sibling;
	struct mmk_list holders;       /* struct acct_holder.link */
	uint64_t limit;                /* frames guaranteed by the parent */
	uint64_t donated;              /* frames of limit given to children */
	uint64_t used;                 /* donated + charged; atomic */
	uint64_t kobj_bytes;           /* bytes of kernel objects charged (in used by pages); atomic */
	uint64_t peak_charged;         /* high-water mark of charged frames; atomic */
	uint64_t failcnt;              /* charges refused for the limit; atomic */
	uint32_t refs;                 /* tasks and handles sharing it, + 1 while in the tree */
	uint32_t id;                   /* for printing; the root is 1 */
	bool dead;                     /* destroyed: charges fail with -MMK_EIDRM */
	char name[ACCT_NAME_LEN];
};

struct acct_system {
	struct hal_spinlock lock;
	struct kmem_cache cache;       /* struct mmk_account */
	struct mmk_account *root;
	uint32_t next_id;
	uint32_t live;                 /* accounts allocated, dead ones included */
};

/*
 * Make the account system with a root of root_frames frames (typically
 * every frame the allocator manages for users).  Account structs come from
 * a kmem cache on ph.  0, -MMK_EINVAL for NULL arguments, -MMK_ENOMEM.
 */
int acct_system_init(struct acct_system *s, struct phys *ph, uint64_t root_frames);

/*
 * Tear down: destroys every account (holders are released) and the cache.
 * 0, or -MMK_EBUSY when an account is still referenced after that
 * (acct_put was not called for a destroyed account, or the root is shared):
 * the tree is empty then but the system stays usable.
 */
int acct_system_fini(struct acct_system *s);

/* The root account (never freed before acct_system_fini). */
struct mmk_account *acct_root(struct acct_system *s);

/*
 * Split a child with a guarantee of `frames` off parent (seed 001 split):
 * parent's available frames drop by `frames`.  name may be NULL; it is
 * truncated to ACCT_NAME_LEN - 1 bytes.  The child starts with one
 * reference (the tree's) and is returned without another: take one with
 * acct_get to keep it past a destroy.
 * 0; -MMK_EINVAL for NULL parent/out or frames == 0; -MMK_EIDRM for a dead
 * parent; -MMK_ENOMEM when parent has fewer than `frames` available or the
 * struct cannot be allocated.  Nothing changes on error.
 */
int acct_split(struct mmk_account *parent, uint64_t frames, const char *name, struct mmk_account **out);

/*
 * Destroy a and its descendants: each is marked dead (charges and splits
 * fail), each holder's release runs (freeing what it charged), and a's
 * limit returns to its parent.  Accounts leave the tree; their structs live
 * on while references remain, and while frames stay charged to them (pages
 * they paid for that live on in other accounts' tasks, issue 5: the last
 * uncharge frees the struct).  On the root, everything below it is
 * destroyed and its holders released, but the root itself stays alive.
 * 0; -MMK_EINVAL for NULL; -MMK_EIDRM when a is already dead.  A holder
 * that leaves frames charged after release is a bug acct_check reports.
 * Must not run concurrently with another destroy or with a holder's owner
 * tearing the holder down (the process manager serialises these).
 */
int acct_destroy(struct mmk_account *a);

/* References for tasks sharing an account.  acct_put frees the struct when
 * the last reference goes and the account is dead. */
void acct_get(struct mmk_account *a);
void acct_put(struct mmk_account *a);

/*
 * Charge `frames` to a: 0; -MMK_ENOMEM when charged + donated would pass
 * the limit (counted in failcnt; the task gets ENOMEM, nobody else is
 * affected); -MMK_EIDRM when a is dead.  frames == 0 always succeeds.
 * Lock-free: one CAS loop.
 */
int acct_charge(struct mmk_account *a, uint64_t frames);

/*
 * Charge as many frames as fit, between min and max (a stock's refill:
 * the batch when it fits, else just what is needed): 0 and *got in
 * [min, max]; -MMK_ENOMEM when not even min fits (counted once in
 * failcnt); -MMK_EIDRM when a is dead.  min <= max.  Lock-free.
 */
int acct_charge_upto(struct mmk_account *a, uint64_t min, uint64_t max, uint64_t *got);

/* Give back frames charged to a (dead or not).  Uncharging more than was
 * charged is a caller bug: the count stops at 0 and acct_check reports
 * used below donated. */
void acct_uncharge(struct mmk_account *a, uint64_t frames);

/*
 * Charge kernel-object bytes: a keeps a byte count and charges whole frames
 * as it crosses page boundaries (kobj frames = ceil(bytes / 4096)).
 * Errors as acct_charge.
 */
int acct_charge_bytes(struct mmk_account *a, uint64_t bytes);
void acct_uncharge_bytes(struct mmk_account *a, uint64_t bytes);

/*
 * Attach h to a (taking a reference on a) so that destroying a releases it.
 * 0; -MMK_EIDRM when a is dead (h stays detached); -MMK_EINVAL for NULL or
 * an h that is already attached.
 */
int acct_holder_attach(struct mmk_account *a, struct acct_holder *h, void (*release)(struct acct_holder *h));

/* Detach h from its account and drop the reference; harmless on a detached
 * holder.  The owner uncharges what h charged first. */
void acct_holder_detach(struct acct_holder *h);

struct acct_usage {
	uint64_t limit, donated, charged, available; /* frames; available = limit - donated - charged */
	uint64_t kobj_bytes, peak_charged, failcnt;
	uint32_t children, holders, refs, id;
	bool dead;
};

/* A consistent snapshot of a's figures (taken under the system lock). */
void acct_get_usage(struct mmk_account *a, struct acct_usage *u);

/*
 * Print the tree under the root into buf (NUL-terminated, truncated to
 * len): one line per account, indented by depth,
 * "id name limit=L charged=C donated=D available=A peak=P failcnt=F".
 * Returns the length the whole text needs (as snprintf).
 */
size_t acct_format(struct acct_system *s, char *buf, size_t len);

/*
 * Re-derive everything: parent/child links, donated == sum of the live
 * children's limits, used == donated + charged <= limit, holders point back,
 * no dead account in the tree, ids unique.  0 or -MMK_EINVAL with *why.
 */
int acct_check(struct acct_system *s, const char **why);

#endif
