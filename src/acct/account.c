/*
 * acct/account.c - the account tree: split, destroy, references, holders.
 *
 * Theory.  An account is a guarantee of frames (seed 001's memory control
 * capability; seed 000's MOP draws on one too).  Its `used` counts what of
 * its limit is spoken for: the limits donated to children plus the frames
 * charged to it.  A split moves `frames` of the parent's limit into a new
 * child (parent.used += frames, child.limit = frames); a destroy reverses it
 * after the subtree's holders have freed everything they charged.  Because
 * a child never draws on its parent's remainder, a charge touches one
 * account: no walk up the tree, no lock (charge.c).
 *
 * Invariants (acct_check): every live account but the root is on its
 * parent's children list; donated == sum of the live children's limits;
 * donated <= used <= limit; dead accounts are not in the tree; every holder
 * on a list names that list's account.
 *
 * A destroyed account whose frames are still charged (pages it paid for
 * that live on in other accounts' tasks: first-toucher charging) keeps its
 * struct, pinned by those charges, until the last one is uncharged
 * (acct_internal.h, ACCT_USED_PINNED); acct_system_fini reports -EBUSY
 * while any is left.
 *
 * Locking: s->lock guards shape, donated, holders, dead and refs.  `used`
 * changes by CAS only, so split adds to it with the same CAS discipline as
 * a charge.  Holder release functions run without the lock: they free
 * frames and take vm locks, which rank below it (mmk/acct.h).
 *
 * Source: seed 001 (Hurd physmem: split, guarantees, destroy returns the
 * guarantee), seed 000 (CheriOS: MOPs under a process manager that can
 * destroy them), DESIGN.md's `src/acct/` layer.
 */
#include <mmk/acct.h>
#include <mmk/errno.h>

#include "../lib/mem.h"
#include "acct_internal.h"

static void set_name(struct mmk_account *a, const char *name)
{
	size_t i = 0;
	if (name)
		for (; name[i] && i < ACCT_NAME_LEN - 1; i++)
			a->name[i] = name[i];
	a->name[i] = '\0';
}

static struct mmk_account *account_new(struct acct_system *s, uint64_t limit, const char *name)
{
	struct mmk_account *a = kmem_cache_alloc(&s->cache);
	if (!a)
		return NULL;
	mmk_memset(a, 0, sizeof(*a));
	a->sys = s;
	mmk_list_init(&a->children);
	mmk_list_init(&a->sibling);
	mmk_list_init(&a->holders);
	a->limit = limit;
	a->refs = 1; /* the tree's */
	a->id = s->next_id++;
	set_name(a, name);
	s->live++;
	return a;
}

/* Free a's struct; called with s->lock held once refs reached 0. */
static void account_free(struct acct_system *s, struct mmk_account *a)
{
	s->live--;
	kmem_cache_free(&s->cache, a);
}

int acct_system_init(struct acct_system *s, struct phys *ph, uint64_t root_frames)
{
	if (!s || !ph)
		return -MMK_EINVAL;
	mmk_memset(s, 0, sizeof(*s));
	hal_spin_init(&s->lock);
	int err = kmem_cache_init(&s->cache, ph, "account", sizeof(struct mmk_account), 8);
	if (err)
		return err;
	s->next_id = 1;
	s->root = account_new(s, root_frames, "root");
	if (!s->root) {
		kmem_cache_destroy(&s->cache);
		return -MMK_ENOMEM;
	}
	return 0;
}

struct mmk_account *acct_root(struct acct_system *s) { return s->root; }

int acct_split(struct mmk_account *parent, uint64_t frames, const char *name, struct mmk_account **out)
{
	if (!parent || !out || frames == 0)
		return -MMK_EINVAL;
	struct acct_system *s = parent->sys;
	struct mmk_account *child = NULL;
	hal_spin_lock(&s->lock);
	int err = parent->dead ? -MMK_EIDRM : acct_used_add(parent, frames);
	if (!err) {
		child = account_new(s, frames, name);
		if (!child) {
			acct_used_sub(parent, frames);
			err = -MMK_ENOMEM;
		}
	}
	if (!err) {
		child->parent = parent;
		__atomic_fetch_add(&parent->donated, frames, __ATOMIC_RELAXED); /* charge() reads it */
		mmk_list_push_back(&parent->children, &child->sibling);
		*out = child;
	}
	hal_spin_unlock(&s->lock);
	return err;
}

void acct_get(struct mmk_account *a)
{
	hal_spin_lock(&a->sys->lock);
	a->refs++;
	hal_spin_unlock(&a->sys->lock);
}

/* Drop one reference with s->lock held; frees a dead account's struct. */
void acct_put_locked(struct acct_system *s, struct mmk_account *a)
{
	if (--a->refs == 0)
		account_free(s, a);
}

void acct_put(struct mmk_account *a)
{
	struct acct_system *s = a->sys;
	hal_spin_lock(&s->lock);
	acct_put_locked(s, a);
	hal_spin_unlock(&s->lock);
}

int acct_holder_attach(struct mmk_account *a, struct acct_holder *h, void (*release)(struct acct_holder *h))
{
	if (!a || !h || !release)
		return -MMK_EINVAL;
	struct acct_system *s = a->sys;
	int err = 0;
	hal_spin_lock(&s->lock);
	if (a->dead)
		err = -MMK_EIDRM;
	else if (h->acct)
		err = -MMK_EINVAL;
	if (!err) {
		h->acct = a;
		h->release = release;
		h->releasing = false;
		mmk_list_push_back(&a->holders, &h->link);
		a->refs++;
	}
	hal_spin_unlock(&s->lock);
	return err;
}

void acct_holder_detach(struct acct_holder *h)
{
	struct mmk_account *a = h->acct;
	if (!a)
		return;
	struct acct_system *s = a->sys;
	hal_spin_lock(&s->lock);
	mmk_list_remove(&h->link); /* a no-op when destroy already unlinked it */
	h->acct = NULL;
	acct_put_locked(s, a);
	hal_spin_unlock(&s->lock);
}

/*
 * Mark the subtree under top dead and move every holder of it onto `out`
 * (pre-order walk without recursion: the tree's depth is the users' to
 * choose).  With s->lock held.
 */
static void kill_subtree(struct mmk_account *top, struct mmk_list *out)
{
	for (struct mmk_account *a = top; a; a = acct_next_preorder(top, a)) {
		if (a != top || top->parent)
			__atomic_store_n(&a->dead, true, __ATOMIC_RELEASE); /* charge() reads it */
		while (!mmk_list_empty(&a->holders)) {
			struct mmk_list *l = a->holders.next;
			mmk_list_remove(l);
			mmk_list_entry(l, struct acct_holder, link)->releasing = true;
			mmk_list_push_back(out, l);
		}
	}
}

/* Run the collected holders' release functions, without the lock. */
static void release_holders(struct mmk_list *list)
{
	while (!mmk_list_empty(list)) {
		struct mmk_list *l = list->next;
		mmk_list_remove(l);
		struct acct_holder *h = mmk_list_entry(l, struct acct_holder, link);
		h->release(h); /* ends with acct_holder_detach(h); h may be gone now */
	}
}

/*
 * Take the dead subtree under top out of the tree, leaves first, dropping
 * the tree's reference of each (post-order without recursion).  Returns
 * top's limit to its parent.  With s->lock held.
 */
static void unlink_subtree(struct acct_system *s, struct mmk_account *top)
{
	struct mmk_account *parent = top->parent;
	struct mmk_account *a = top;
	for (;;) {
		while (!mmk_list_empty(&a->children))
			a = mmk_list_entry(a->children.next, struct mmk_account, sibling);
		struct mmk_account *up = a->parent;
		mmk_list_remove(&a->sibling);
		a->parent = NULL;
		if (up && a != top) {
			__atomic_fetch_sub(&up->donated, a->limit, __ATOMIC_RELAXED); /* keeps a referenced dead account readable */
			acct_used_sub(up, a->limit);
		}
		bool last = a == top;
		acct_drop_tree_ref_locked(s, a);
		if (last)
			break;
		a = up;
	}
	if (parent) {
		__atomic_fetch_sub(&parent->donated, top->limit, __ATOMIC_RELAXED);
		acct_used_sub(parent, top->limit);
	}
}

int acct_destroy(struct mmk_account *a)
{
	if (!a)
		return -MMK_EINVAL;
	struct acct_system *s = a->sys;
	struct mmk_list doomed;
	mmk_list_init(&doomed);
	hal_spin_lock(&s->lock);
	if (a->dead) {
		hal_spin_unlock(&s->lock);
		return -MMK_EIDRM;
	}
	kill_subtree(a, &doomed);
	hal_spin_unlock(&s->lock);

	release_holders(&doomed);

	hal_spin_lock(&s->lock);
	if (a->parent) {
		unlink_subtree(s, a);
	} else {
		/* The root stays: empty it child by child. */
		while (!mmk_list_empty(&a->children))
			unlink_subtree(s, mmk_list_entry(a->children.next, struct mmk_account, sibling));
	}
	hal_spin_unlock(&s->lock);
	return 0;
}

int acct_system_fini(struct acct_system *s)
{
	int err = acct_destroy(s->root);
	if (err)
		return err;
	hal_spin_lock(&s->lock);
	bool busy = s->live != 1 || s->root->refs != 1;
	hal_spin_unlock(&s->lock);
	if (busy)
		return -MMK_EBUSY;
	account_free(s, s->root);
	s->root = NULL;
	return kmem_cache_destroy(&s->cache);
}
