/*
 * acct/acct_check.c - the account tree's checker, usage snapshots and the
 * printed tree.  Theory in account.c.
 */
#include <mmk/errno.h>

#include "../lib/fmt.h"
#include "acct_internal.h"

struct mmk_account *acct_next_preorder(struct mmk_account *top, struct mmk_account *a)
{
	if (!mmk_list_empty(&a->children))
		return mmk_list_entry(a->children.next, struct mmk_account, sibling);
	while (a != top) {
		struct mmk_account *up = a->parent;
		if (a->sibling.next != &up->children)
			return mmk_list_entry(a->sibling.next, struct mmk_account, sibling);
		a = up;
	}
	return NULL;
}

static uint64_t load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static void usage_locked(struct mmk_account *a, struct acct_usage *u)
{
	struct mmk_list *l;
	uint64_t used = acct_used_count(a);
	u->limit = a->limit;
	u->donated = a->donated;
	u->charged = used > a->donated ? used - a->donated : 0;
	u->available = a->limit > used ? a->limit - used : 0;
	u->kobj_bytes = load(&a->kobj_bytes);
	u->peak_charged = load(&a->peak_charged);
	u->failcnt = load(&a->failcnt);
	u->children = u->holders = 0;
	mmk_list_for_each(l, &a->children)
		u->children++;
	mmk_list_for_each(l, &a->holders)
		u->holders++;
	u->refs = a->refs;
	u->id = a->id;
	u->dead = a->dead;
}

void acct_get_usage(struct mmk_account *a, struct acct_usage *u)
{
	hal_spin_lock(&a->sys->lock);
	usage_locked(a, u);
	hal_spin_unlock(&a->sys->lock);
}

static unsigned depth_of(const struct mmk_account *a)
{
	unsigned d = 0;
	for (; a->parent; a = a->parent)
		d++;
	return d;
}

static void format_one(struct mmk_fmt *f, struct mmk_account *a)
{
	struct acct_usage u;
	usage_locked(a, &u);
	for (unsigned d = depth_of(a); d; d--)
		mmk_fmt_str(f, "  ");
	mmk_fmt_dec(f, u.id);
	mmk_fmt_str(f, " ");
	mmk_fmt_str(f, a->name[0] ? a->name : "-");
	const char *label[] = { " limit=", " charged=", " donated=", " available=", " peak=", " failcnt=" };
	uint64_t value[] = { u.limit, u.charged, u.donated, u.available, u.peak_charged, u.failcnt };
	for (unsigned i = 0; i < 6; i++) {
		mmk_fmt_str(f, label[i]);
		mmk_fmt_dec(f, value[i]);
	}
	mmk_fmt_str(f, "\n");
}

size_t acct_format(struct acct_system *s, char *buf, size_t len)
{
	struct mmk_fmt f = { buf, len, 0 };
	hal_spin_lock(&s->lock);
	for (struct mmk_account *a = s->root; a; a = acct_next_preorder(s->root, a))
		format_one(&f, a);
	hal_spin_unlock(&s->lock);
	mmk_fmt_end(&f);
	return f.pos;
}

static const char *check_one(struct acct_system *s, struct mmk_account *a)
{
	struct mmk_list *l;
	uint64_t children_limits = 0;
	if (a->sys != s)
		return "account of another system";
	if (a->dead)
		return "dead account still in the tree";
	if (a->refs == 0)
		return "account in the tree without the tree's reference";
	mmk_list_for_each(l, &a->children) {
		struct mmk_account *c = mmk_list_entry(l, struct mmk_account, sibling);
		if (c->parent != a)
			return "child does not name its parent";
		children_limits += c->limit;
	}
	if (children_limits != a->donated)
		return "donated is not the sum of the children's limits";
	uint64_t used = acct_used_count(a);
	if (used < a->donated)
		return "used below donated: more uncharged than charged";
	if (used > a->limit)
		return "used above the limit";
	mmk_list_for_each(l, &a->holders) {
		struct acct_holder *h = mmk_list_entry(l, struct acct_holder, link);
		if (h->acct != a || h->releasing)
			return "holder does not name its account";
	}
	return NULL;
}

int acct_check(struct acct_system *s, const char **why)
{
	const char *bad = NULL;
	uint32_t count = 0;
	hal_spin_lock(&s->lock);
	if (!s->root || s->root->parent)
		bad = "no root, or a root with a parent";
	for (struct mmk_account *a = s->root; a && !bad; a = acct_next_preorder(s->root, a)) {
		bad = check_one(s, a);
		if (++count > s->live)
			bad = "more accounts in the tree than allocated (a cycle?)";
		if (!bad && a->id >= s->next_id)
			bad = "id not yet issued";
	}
	hal_spin_unlock(&s->lock);
	if (bad && why)
		*why = bad;
	return bad ? -MMK_EINVAL : 0;
}
