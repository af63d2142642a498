/*
 * sys/cap_check.c - the capability checkers: re-derive every invariant of
 * cap.c section 3 from the tables and the forests (FreeBSD vm_map_check
 * style: recount, do not trust the counters).
 *
 * Marks: each run takes two new epoch values from cs->check_epoch: e marks
 * "found in a table slot", e + 1 "reached from its object's forest", so
 * the checker needs no memory of its own.
 */
#include <mmk/cap.h>
#include <mmk/errno.h>

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -MMK_EINVAL;
}

/* The checks of one handle that need only it and its parent. */
static const char *check_handle(const struct cap_table *t, const struct cap_handle *n, uint32_t i)
{
	if (n->table != t || n->index != (cap_handle_t)i)
		return "handle does not name the slot holding it";
	if (!n->obj || !n->obj->ops)
		return "handle without an object";
	if (n->rights & ~n->obj->ops->rights)
		return "handle rights beyond its type's";
	if (n->parent && n->parent->obj != n->obj)
		return "derived handle names another object than its parent";
	if (n->parent && (n->rights & ~n->parent->rights))
		return "derived handle holds rights its parent lacks";
	return NULL;
}

int cap_table_check(struct cap_table *t, const char **why)
{
	if (t->capacity > t->max_handles || t->max_handles > CAP_TABLE_LIMIT)
		return fail(why, "table capacity beyond its limit");
	if ((t->capacity == 0) != (t->slots == NULL))
		return fail(why, "table slot array and capacity disagree");
	uint32_t count = 0;
	for (uint32_t i = 0; i < t->capacity; i++) {
		const struct cap_handle *n = t->slots[i];
		if (!n) {
			if (i < t->first_free)
				return fail(why, "free slot below first_free");
			continue;
		}
		count++;
		const char *msg = check_handle(t, n, i);
		if (msg)
			return fail(why, msg);
	}
	if (count != t->count)
		return fail(why, "table count differs from its handles");
	return 0;
}

/* Every table: its own checks, mark its handles with e, sum them. */
static int check_tables(struct cap_system *cs, uint32_t e, const char **why)
{
	uint64_t total = 0;
	for (struct cap_table *t = cs->tables; t; t = t->next) {
		if (t->cs != cs || (t->next && t->next->prev != t) || (!t->prev && cs->tables != t))
			return fail(why, "table list links broken");
		int rc = cap_table_check(t, why);
		if (rc)
			return rc;
		for (uint32_t i = 0; i < t->capacity; i++)
			if (t->slots[i])
				t->slots[i]->check_epoch = e;
		total += t->count;
	}
	if (total != cs->handles)
		return fail(why, "tables hold another number of handles than cs->handles");
	return 0;
}

/* Visit n in co's forest: it must sit in a table and be seen once. */
static const char *visit(struct cap_handle *n, const struct cap_object *co, uint32_t e)
{
	if (n->check_epoch == e + 1)
		return "handle reached twice in its object's forest (cycle)";
	if (n->check_epoch != e)
		return "handle in a forest but in no table";
	if (n->obj != co)
		return "handle in the forest of another object";
	n->check_epoch = e + 1;
	return NULL;
}

/*
 * Walk co's forest in pre-order with the parent links (each checked on the
 * way down, so the climb follows real edges); count what is reached.
 */
static const char *walk_forest(struct cap_object *co, uint32_t e, uint64_t bound, uint32_t *reached)
{
	struct cap_handle *n = co->roots;
	if (n && (n->prev_sibling || n->parent))
		return "first root has a parent or a previous sibling";
	uint64_t seen = 0;
	while (n) {
		const char *msg = visit(n, co, e);
		if (msg)
			return msg;
		if (++seen > bound)
			return "forest larger than every handle";
		struct cap_handle *c = n->first_child;
		if (c) {
			if (c->parent != n || c->prev_sibling)
				return "first child's parent or previous link wrong";
			n = c;
			continue;
		}
		while (n && !n->next_sibling)
			n = n->parent;
		if (!n)
			break;
		struct cap_handle *s = n->next_sibling;
		if (s->prev_sibling != n || s->parent != n->parent)
			return "sibling links disagree";
		n = s;
	}
	*reached = (uint32_t)seen;
	return NULL;
}

int cap_system_check(struct cap_system *cs, const char **why)
{
	cs->check_epoch += 2;
	uint32_t e = cs->check_epoch;
	int rc = check_tables(cs, e, why);
	if (rc)
		return rc;
	uint64_t reached_total = 0;
	for (struct cap_object *co = cs->objects; co; co = co->next) {
		if ((co->next && co->next->prev != co) || (!co->prev && cs->objects != co))
			return fail(why, "object list links broken");
		if (co->handles == 0)
			return fail(why, "object without handles on the object list");
		uint32_t reached = 0;
		const char *msg = walk_forest(co, e, cs->handles, &reached);
		if (msg)
			return fail(why, msg);
		if (reached != co->handles)
			return fail(why, "object's handle count differs from the handles naming it");
		if (co->ops->refs && co->ops->refs(co) < co->handles)
			return fail(why, "object holds fewer references than handles name it");
		reached_total += reached;
	}
	if (reached_total != cs->handles)
		return fail(why, "a handle names an object missing from the object list");
	uint64_t dying = 0;
	for (const struct cap_handle *n = cs->dying; n; n = n->next_sibling)
		dying++;
	if (dying && !cs->draining)
		return fail(why, "removed handles wait for their put outside a call");
	return 0;
}
