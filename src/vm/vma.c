/*
 * vm/vma.c - the VMA tree of an address space.
 *
 * A red-black tree keyed by start, augmented with the largest free gap of
 * each subtree: every VMA records gap_below = the free bytes between the
 * previous VMA's end (or 0) and its start, less the stack guard gap below a
 * growsdown VMA (Linux vm_start_gap: placement never eats a stack's room),
 * and max_gap is the largest gap_below under it.  That makes first-fit
 * placement O(log n): a search descends only into subtrees whose max_gap can
 * hold the request (the scheme of Linux's pre-maple-tree rb_subtree_gap).
 * The gap above the last VMA is not in the tree; the search treats it first.
 *
 * Invariants (vm_check tests them): VMAs are page-aligned, non-empty, sorted
 * and disjoint; gap_below and max_gap equal their recomputation.
 */
#include "vm/vm_internal.h"

static vaddr_t max3(vaddr_t a, vaddr_t b, vaddr_t c)
{
	vaddr_t m = a > b ? a : b;
	return m > c ? m : c;
}

static vaddr_t subtree_gap(const struct rb_node *n) { return n ? vma_of(n)->max_gap : 0; }

bool vma_augment(struct rb_node *n)
{
	struct vm_area *v = vma_of(n);
	vaddr_t m = max3(v->gap_below, subtree_gap(n->left), subtree_gap(n->right));
	if (m == v->max_gap)
		return false;
	v->max_gap = m;
	return true;
}

struct vm_area *vma_lower_bound(struct vm_space *as, vaddr_t addr)
{
	struct rb_node *n = as->vmas.root;
	struct vm_area *best = NULL;
	while (n) {
		struct vm_area *v = vma_of(n);
		if (v->end > addr) {
			best = v;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct vm_area *vma_find(struct vm_space *as, vaddr_t addr)
{
	struct vm_area *v = vma_lower_bound(as, addr);
	return v && v->start <= addr ? v : NULL;
}

vaddr_t vma_start_gap(const struct vm_space *as, const struct vm_area *v)
{
	if (!(v->flags & VMA_GROWSDOWN))
		return v->start;
	return v->start > as->stack_guard ? v->start - as->stack_guard : 0;
}

vaddr_t vma_gap_below(const struct vm_space *as, const struct vm_area *v, const struct vm_area *prev)
{
	vaddr_t floor = prev ? prev->end : 0, top = vma_start_gap(as, v);
	return top > floor ? top - floor : 0;
}

static void set_gap(struct vm_space *as, struct vm_area *v)
{
	v->gap_below = vma_gap_below(as, v, vma_prev(v));
	rb_propagate(&as->vmas, &v->node);
}

void vma_bounds_changed(struct vm_space *as, struct vm_area *v)
{
	set_gap(as, v);
	struct vm_area *n = vma_next(v);
	if (n)
		set_gap(as, n);
}

void vma_link(struct vm_space *as, struct vm_area *v)
{
	struct rb_node **link = &as->vmas.root, *parent = NULL;
	while (*link) {
		parent = *link;
		link = v->start < vma_of(parent)->start ? &parent->left : &parent->right;
	}
	v->gap_below = 0;
	v->max_gap = 0;
	rb_insert(&as->vmas, &v->node, parent, link);
	vma_bounds_changed(as, v);
	as->mapped_pages += vma_pages(v);
	v->space = as;
	if (v->object)
		vm_object_link_vma(v->object, v);
}

void vma_unlink(struct vm_space *as, struct vm_area *v)
{
	struct vm_area *n = vma_next(v);
	rb_erase(&as->vmas, &v->node);
	if (v->object)
		vm_object_unlink_vma(v->object, v);
	if (n)
		set_gap(as, n);
	as->mapped_pages -= vma_pages(v);
	if (v->flags & VMA_DEAD)
		as->dead_vmas--;
}

void vma_free(struct vm_space *as, struct vm_area *v)
{
	if (v->amap)
		vm_amap_release(as->sys, v->amap);
	if (v->object)
		vm_object_release(as->sys, v->object);
	vm_vma_free_struct(as, v);
}

void vma_split(struct vm_space *as, struct vm_area *v, vaddr_t addr, struct vm_area *spare)
{
	*spare = *v;
	spare->start = addr;
	spare->amap_slot = vma_slot(v, addr);
	if (v->amap)
		v->amap->refcount++; /* both pieces use the one amap, at disjoint slots */
	if (v->object) {
		spare->offset = v->offset + (addr - v->start);
		vm_object_ref(v->object);
	}
	/* Shrink v first so the tree never holds overlapping VMAs. */
	as->mapped_pages -= vma_pages(spare);
	v->end = addr;
	vma_bounds_changed(as, v);
	vma_link(as, spare);
	if (spare->flags & VMA_DEAD)
		as->dead_vmas++;
}

/*
 * Can the anonymous pages of a and b (a just below b) live in one amap at
 * consecutive slots?  The same amap at consecutive slots; or one side has
 * no amap and takes the other's slots below or above.  That is safe even
 * when the amap serves other VMAs: the VMAs sharing an amap are pieces of
 * one mapping, and every piece keeps slot = base + address / page size
 * (split keeps it, stack growth moves both, anything that would break it
 * (a move, a growth in place) first gives the VMA an amap of its own), so
 * addresses no other piece holds map to slots no other piece uses.
 */
static bool amaps_mergeable(const struct vm_area *a, const struct vm_area *b)
{
	if (a->amap == b->amap)
		return !a->amap || vma_slot(a, a->end) == b->amap_slot;
	if (!b->amap)
		return true;
	if (!a->amap)
		return b->amap_slot >= vma_pages(a);
	return false;
}

/* Can b, which starts where a ends, be folded into a? */
static bool mergeable(const struct vm_area *a, const struct vm_area *b)
{
	if (a->end != b->start || a->prot != b->prot || a->max_prot != b->max_prot || a->flags != b->flags ||
	    a->object != b->object || a->name != b->name)
		return false;
	if (a->flags & (VMA_SPECIAL | VMA_DEAD))
		return false;
	if (!amaps_mergeable(a, b))
		return false;
	return !a->object || a->offset + (a->end - a->start) == b->offset;
}

/* Fold b into a (a precedes b). */
static void absorb(struct vm_space *as, struct vm_area *a, struct vm_area *b)
{
	if (!a->amap && b->amap) {
		/* a takes over b's amap, from the slot just below b's. */
		a->amap = b->amap;
		a->amap_slot = b->amap_slot - vma_pages(a);
		b->amap = NULL;
	} else if (a->amap == b->amap && b->amap) {
		b->amap->refcount--; /* b's reference goes with b; a keeps its own */
		b->amap = NULL;
	}
	vaddr_t end = b->end;
	vma_unlink(as, b);
	vma_free(as, b);
	as->mapped_pages -= vma_pages(a);
	a->end = end;
	as->mapped_pages += vma_pages(a);
	vma_bounds_changed(as, a);
}

struct vm_area *vma_merge_neighbours(struct vm_space *as, struct vm_area *v)
{
	struct vm_area *n = vma_next(v);
	if (n && mergeable(v, n))
		absorb(as, v, n);
	struct vm_area *p = vma_prev(v);
	if (p && mergeable(p, v)) {
		absorb(as, p, v);
		return p;
	}
	return v;
}

bool vma_range_free(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	struct vm_area *v = vma_lower_bound(as, start);
	return !v || v->start >= end;
}

bool vma_range_placeable(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	struct vm_area *v = vma_lower_bound(as, start);
	return !v || vma_start_gap(as, v) >= end;
}

bool vma_range_covered(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	vaddr_t at = start;
	for (struct vm_area *v = vma_lower_bound(as, start); v && at < end; v = vma_next(v)) {
		if (v->start > at)
			return false;
		at = v->end;
	}
	return at >= end;
}

/* Highest fitting address in the subtree at n, or 0 if none (0 is never a
 * valid result: low >= min_addr > 0). */
static vaddr_t gap_search(const struct vm_space *as, const struct rb_node *n, uint64_t len, vaddr_t low,
			  vaddr_t high)
{
	if (!n || vma_of(n)->max_gap < len)
		return 0;
	const struct vm_area *v = vma_of(n);
	vaddr_t gap_top = vma_start_gap(as, v);
	vaddr_t gap_start = gap_top - v->gap_below;
	if (gap_start < high) {
		/* Everything to the right starts above v; try it first. */
		vaddr_t r = gap_search(as, n->right, len, low, high);
		if (r)
			return r;
		vaddr_t top = gap_top < high ? gap_top : high;
		vaddr_t bottom = gap_start > low ? gap_start : low;
		if (top > bottom && top - bottom >= len)
			return top - len;
	}
	if (v->start <= low)
		return 0; /* everything to the left ends below low */
	return gap_search(as, n->left, len, low, high);
}

int vma_find_gap_topdown(struct vm_space *as, uint64_t len, vaddr_t low, vaddr_t high, vaddr_t *out)
{
	if (len == 0 || high <= low || high - low < len)
		return -MMK_ENOMEM;
	/* The gap above the last VMA first. */
	struct vm_area *last = vma_of(rb_last(&as->vmas));
	vaddr_t floor = last ? last->end : 0;
	if (floor < low)
		floor = low;
	if (floor < high && high - floor >= len) {
		*out = high - len;
		return 0;
	}
	vaddr_t a = gap_search(as, as->vmas.root, len, low, high);
	if (!a)
		return -MMK_ENOMEM;
	*out = a;
	return 0;
}

int vm_spares_reserve(struct vm_space *as, struct vm_spares *sp, unsigned n)
{
	sp->n = 0;
	while (sp->n < n) {
		struct vm_area *v = vm_vma_alloc(as); /* charged: over the limit is ENOMEM */
		if (!v) {
			vm_spares_release(as, sp);
			return -MMK_ENOMEM;
		}
		sp->v[sp->n++] = v;
	}
	return 0;
}

struct vm_area *vm_spares_take(struct vm_spares *sp)
{
	/* Callers reserve what their worst case needs; running dry is a bug. */
	return sp->n ? sp->v[--sp->n] : NULL;
}

void vm_spares_release(struct vm_space *as, struct vm_spares *sp)
{
	while (sp->n)
		vm_vma_free_struct(as, sp->v[--sp->n]);
}

unsigned vm_clip_needs(struct vm_space *as, vaddr_t start, vaddr_t end)
{
	struct vm_area *v = vma_find(as, start), *w = vma_find(as, end - 1);
	return (v && v->start < start) + (w && w->end > end);
}

void vm_clip_range(struct vm_space *as, vaddr_t start, vaddr_t end, struct vm_spares *sp)
{
	struct vm_area *v = vma_find(as, start);
	if (v && v->start < start)
		vma_split(as, v, start, vm_spares_take(sp));
	v = vma_find(as, end - 1);
	if (v && v->end > end)
		vma_split(as, v, end, vm_spares_take(sp));
}
