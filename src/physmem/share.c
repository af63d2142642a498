/*
 * physmem/share.c - weak container capabilities (seed 001: "the client must
 * not give the capability to [the server].  Hence, a weaker capability is
 * provided which allows a server limited access to a container").
 *
 * A share is a small object with two references: the client's handle
 * (container_share_cancel drops it) and the server's weak ref
 * (container_ref_put drops it).  The weak ref carries at most READ, WRITE
 * and MAP, so the server can fill and map the client's buffer but never
 * allocate, deallocate or take its frames.  Maps through the share use the
 * share's own view, so cancelling removes exactly the server's
 * translations; afterwards every call through the weak ref is -MMK_EIDRM.
 * The Hurd's physmem answered weak-capability requests with "not
 * supported".
 */
#include "physmem_internal.h"

int container_share(struct container_ref r, unsigned rights, struct container_share **share,
		    struct container_ref *weak)
{
	struct physmem *pm = pm_of_ref(r);
	if (!pm || !share || !weak || rights == 0 || (rights & ~PM_RIGHTS_WEAK))
		return -MMK_EINVAL;
	hal_spin_lock(&pm->lock);
	struct container *c;
	int rc = pm_resolve(r, PM_SHARE | rights, &c);
	struct container_share *s = rc ? NULL : kmem_cache_alloc(&pm->share_cache);
	if (!rc && !s)
		rc = -MMK_ENOMEM;
	if (!rc) {
		mmk_memset(s, 0, sizeof(*s));
		s->pm = pm;
		s->c = c;
		s->rights = rights;
		s->refs = 2; /* the client's handle and the server's ref */
		view_init(&s->view, c, s);
		mmk_list_push_back(&c->shares, &s->link);
		*share = s;
		weak->c = c;
		weak->rights = rights;
		weak->share = s;
	}
	hal_spin_unlock(&pm->lock);
	return rc;
}

void share_put_locked(struct container_share *s)
{
	if (--s->refs == 0)
		kmem_cache_free(&s->pm->share_cache, s);
}

int container_share_cancel(struct container_share *s)
{
	if (!s)
		return -MMK_EINVAL;
	struct physmem *pm = s->pm;
	hal_spin_lock(&pm->lock);
	if (!s->cancelled && s->c) {
		int rc = view_zap(pm, &s->view, 0, PM_PAGE_LIMIT, NULL, NULL, NULL);
		if (rc) {
			hal_spin_unlock(&pm->lock);
			return rc; /* a space mapping it is busy: still live, retry */
		}
		view_cut(pm, &s->view);
		mmk_list_remove(&s->link);
		mmk_list_init(&s->link);
		s->cancelled = true;
	}
	share_put_locked(s);
	hal_spin_unlock(&pm->lock);
	return 0;
}

void container_ref_put(struct container_ref *weak)
{
	if (!weak || !weak->share)
		return;
	struct physmem *pm = weak->share->pm;
	hal_spin_lock(&pm->lock);
	share_put_locked(weak->share);
	hal_spin_unlock(&pm->lock);
	weak->share = NULL;
	weak->c = NULL;
	weak->rights = 0;
}
