/*
 * physmem/check.c - physmem_check: re-derive every invariant of physmem.c's
 * theory (point 3) from the containers, their entries and the frames.
 */
#include "physmem_internal.h"

struct pm_check {
	struct physmem *pm;
	struct container *c;
	const char *why;
	uint64_t pages, frames, frame_pages, parked;
};

/* Pages of f that its entries cover (== pages its blocks hold). */
static uint64_t covered_pages(const struct pm_frame *f)
{
	uint64_t n = 0, pos = 0, end = pm_order_pages(f->order);
	while (pos < end) {
		uint64_t reach = pos, next = end;
		const struct mmk_list *l;
		mmk_list_for_each(l, &f->entries) {
			const struct pm_entry *e = mmk_list_entry(l, struct pm_entry, frame_link);
			uint64_t s = e->frame_off, x = e->frame_off + e->npages;
			if (s <= pos && pos < x && x > reach)
				reach = x;
			if (s > pos && s < next)
				next = s;
		}
		n += reach - pos;
		pos = reach > pos ? reach : next;
	}
	return n;
}

/* The blocks of [base, base + 2^order) held are the canonical cover. */
static const char *check_blocks(struct physmem *pm, const struct pm_frame *f, uint64_t base, unsigned order)
{
	uint64_t len = pm_order_pages(order);
	bool any = frame_range_shared(f, base, len, NULL);
	if (!any)
		return NULL;
	uint64_t covered = 0;
	const struct mmk_list *l;
	/* Full cover: every page named (small frames: count page by page). */
	for (uint64_t p = base; p < base + len && covered == p - base; p++)
		covered += frame_page_shared(f, p, NULL);
	if (covered == len) {
		const struct mmk_frame *d = phys_frame(pm->phys, f->pfn + base);
		if (!d || d->state != MMK_FRAME_ALLOCATED || d->order != order || d->owner != MMK_OWNER_USER)
			return "physmem: a frame's covered block is not an allocated user block of its order";
		return NULL;
	}
	(void)l;
	if (order == 0)
		return "physmem: impossible cover";
	const char *why = check_blocks(pm, f, base, order - 1);
	return why ? why : check_blocks(pm, f, base + pm_order_pages(order - 1), order - 1);
}

/* Every entry f lists is real: in its container's tree, or parked there. */
static const char *check_frame(struct pm_check *s, struct pm_frame *f)
{
	uint32_t n = 0;
	const struct mmk_list *l;
	mmk_list_for_each(l, &f->entries) {
		const struct pm_entry *e = mmk_list_entry(l, struct pm_entry, frame_link);
		if (e->frame != f || !e->c)
			return "physmem: a frame lists an entry that does not name it";
		if (!e->parked && entry_of_item(btree_lookup(&e->c->entries, e->start)) != e)
			return "physmem: a frame lists an entry its container does not hold";
		n++;
	}
	if (n != f->refs || n == 0)
		return "physmem: frame refs differs from the entries naming it";
	uint64_t held = covered_pages(f);
	if (f->whole != (held == pm_order_pages(f->order)))
		return "physmem: frame whole flag differs from its cover";
	if (f->indexed != f->whole)
		return "physmem: a whole frame is not indexed (or a holey one is)";
	s->frames++;
	s->frame_pages += held;
	return check_blocks(s->pm, f, 0, f->order);
}

static const char *check_entry(struct pm_check *s, struct pm_entry *e)
{
	struct pm_frame *f = e->frame;
	if (e->c != s->c || !f || e->npages == 0 || e->frame_off + e->npages > pm_order_pages(f->order))
		return "physmem: entry outside its frame or in the wrong container";
	bool listed = false;
	const struct mmk_list *l;
	mmk_list_for_each(l, &f->entries)
		listed |= l == &e->frame_link;
	if (!listed)
		return "physmem: entry not on its frame's list";
	if (f->mark != s->pm->mark) {
		f->mark = s->pm->mark;
		return check_frame(s, f);
	}
	return NULL;
}

static bool visit_entry(void *ctx, const struct btree_item *it)
{
	struct pm_check *s = ctx;
	struct pm_entry *e = it->val;
	if (e->start != it->start || e->npages != it->size || e->parked)
		s->why = "physmem: entry key differs from its range, or a parked entry in the tree";
	if (!s->why)
		s->why = check_entry(s, e);
	s->pages += e->npages;
	return !s->why;
}

static const char *check_container(struct pm_check *s, struct container *c)
{
	const char *why = NULL;
	s->c = c;
	s->pages = 0;
	if (btree_check(&c->entries, &why))
		return why;
	btree_walk(&c->entries, visit_entry, s);
	if (s->why)
		return s->why;
	if (s->pages != c->pages)
		return "physmem: container pages differs from its entries";
	uint64_t parked = 0;
	const struct mmk_list *l;
	mmk_list_for_each(l, &c->parked) {
		struct pm_entry *e = mmk_list_entry(l, struct pm_entry, link);
		if (!e->parked || !range_free(c, e->start, e->npages))
			return "physmem: parked entry overlaps a live one";
		if (frame_range_shared(e->frame, e->frame_off, e->npages, e))
			return "physmem: parked page that another entry names (its contents could change)";
		if ((why = check_entry(s, e)))
			return why;
		parked += e->npages;
	}
	if (parked != c->parked_pages)
		return "physmem: container parked_pages differs from its parked entries";
	s->parked += parked;
	if (c->dead && (c->pages || c->parked_pages))
		return "physmem: a dead container holds pages";
	if (!c->dead && c->holder.acct) {
		struct acct_usage u;
		acct_get_usage(c->holder.acct, &u);
		if (u.charged < c->pages)
			return "physmem: account charged less than the container's pages";
	}
	return NULL;
}

static bool visit_index(void *ctx, const struct btree_item *it)
{
	struct pm_check *s = ctx;
	const struct pm_frame *f = it->val;
	if (f->mark != s->pm->mark || !f->indexed || it->start != f->pfn || it->size != pm_order_pages(f->order))
		s->why = "physmem: frame index names a frame no entry reaches, or at the wrong range";
	return !s->why;
}

int physmem_check(struct physmem *pm, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	struct pm_check s = { pm, NULL, NULL, 0, 0, 0, 0 };
	hal_spin_lock(&pm->lock);
	pm->mark++;
	if (btree_check(&pm->frames, &s.why) == 0) {
		const struct mmk_list *l;
		mmk_list_for_each(l, &pm->containers) {
			s.why = check_container(&s, mmk_list_entry(l, struct container, link));
			if (s.why)
				break;
		}
	}
	if (!s.why)
		btree_walk(&pm->frames, visit_index, &s);
	if (!s.why && s.frames != pm->nframes)
		s.why = "physmem: live frame structs differ from the frames entries reach";
	if (!s.why && s.frame_pages != pm->frame_pages)
		s.why = "physmem: frame_pages differs from the pages frames hold";
	if (!s.why && s.parked != pm->parked_pages)
		s.why = "physmem: parked_pages differs from the parked entries";
	hal_spin_unlock(&pm->lock);
	if (s.why) {
		*why = s.why;
		return -MMK_EINVAL;
	}
	return 0;
}
