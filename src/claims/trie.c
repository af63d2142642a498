/*
 * claims/trie.c - the three-level trie that indexes claim nodes by their
 * first page (theory: claims.c, section 2).
 *
 * Level 2 (the root, made at init) is indexed by page bits 18..26, level 1
 * by bits 9..17, the leaves (level 0) by bits 0..8, as an x86-64 page
 * table's PDPT, PD and PT are.  A leaf entry points at the node whose first
 * page it is; entries of the other levels point at lower tables.  Every
 * table keeps a bitmap of its used entries, so the node holding an
 * arbitrary page (the greatest first page <= it) is found by scanning at
 * most 8 words per level: no per-page entries and no address-ordered list
 * are needed.  Tables below the root exist only while some node starts
 * inside them.
 */
#include "claims/claims_internal.h"

#define WORDS (CLAIMS_TABLE_SLOTS / 64u)

/* ---- tables and spares ---- */

struct claims_table *table_alloc(struct claims *c)
{
	struct claims_table *t = kmem_cache_alloc(&c->table_cache);
	if (t) {
		mmk_memset(t, 0, sizeof(*t));
		c->tables++;
	}
	return t;
}

void table_free(struct claims *c, struct claims_table *t)
{
	(void)kmem_cache_free(&c->table_cache, t);
	c->tables--;
}

int spares_reserve(struct claims *c, struct claims_spares *sp, unsigned nnodes, unsigned ntables)
{
	sp->nnodes = sp->ntables = 0;
	while (sp->nnodes < nnodes) {
		struct claim_node *n = kmem_cache_alloc(&c->node_cache);
		if (!n)
			goto fail;
		sp->node[sp->nnodes++] = n;
	}
	while (sp->ntables < ntables) {
		struct claims_table *t = table_alloc(c);
		if (!t)
			goto fail;
		sp->table[sp->ntables++] = t;
	}
	return 0;
fail:
	spares_release(c, sp);
	return -MMK_ENOMEM;
}

void spares_release(struct claims *c, struct claims_spares *sp)
{
	while (sp->nnodes)
		(void)kmem_cache_free(&c->node_cache, sp->node[--sp->nnodes]);
	while (sp->ntables)
		table_free(c, sp->table[--sp->ntables]);
}

struct claim_node *spares_take_node(struct claims_spares *sp)
{
	/* Callers reserve what their worst case needs; running dry is a bug. */
	return sp->nnodes ? sp->node[--sp->nnodes] : NULL;
}

static struct claims_table *spares_take_table(struct claims_spares *sp)
{
	return sp->ntables ? sp->table[--sp->ntables] : NULL;
}

/* ---- bitmaps ---- */

static bool bit_test(const struct claims_table *t, unsigned i) { return (t->bitmap[i / 64] >> (i % 64)) & 1; }

static void entry_set(struct claims_table *t, unsigned i, void *p)
{
	t->slot[i] = p;
	t->bitmap[i / 64] |= (uint64_t)1 << (i % 64);
	t->count++;
}

static void entry_clear(struct claims_table *t, unsigned i)
{
	t->slot[i] = NULL;
	t->bitmap[i / 64] &= ~((uint64_t)1 << (i % 64));
	t->count--;
}

/* Highest used entry <= i, or -1. */
static int highest_at_or_below(const struct claims_table *t, unsigned i)
{
	unsigned w = i / 64;
	uint64_t m = t->bitmap[w] & (~(uint64_t)0 >> (63 - i % 64));
	for (;;) {
		if (m)
			return (int)(w * 64 + 63 - (unsigned)__builtin_clzll(m));
		if (w == 0)
			return -1;
		m = t->bitmap[--w];
	}
}

/* ---- lookups ---- */

struct claim_node *trie_node_at(const struct claims *c, uint64_t page)
{
	if (page >= c->npages)
		return NULL;
	const struct claims_table *t = c->root;
	for (unsigned lvl = CLAIMS_LEVELS - 1; lvl > 0 && t; lvl--)
		t = t->slot[trie_index(page, lvl)];
	return t ? t->slot[trie_index(page, 0)] : NULL;
}

/* The last node in the subtree of table t at level lvl (t not empty). */
static struct claim_node *last_below(const struct claims_table *t, unsigned lvl)
{
	for (;;) {
		void *p = t->slot[highest_at_or_below(t, CLAIMS_TABLE_SLOTS - 1)];
		if (lvl == 0)
			return p;
		t = p;
		lvl--;
	}
}

struct claim_node *trie_node_containing(const struct claims *c, uint64_t page)
{
	/* Descend along page's path, remembering at each level the nearest
	 * used entry strictly before it: if nothing at or below page is found
	 * deeper, the answer is the last node under the deepest such entry. */
	const struct claims_table *t = c->root, *fallback = NULL;
	unsigned fallback_lvl = 0;
	for (unsigned lvl = CLAIMS_LEVELS - 1;; lvl--) {
		unsigned i = trie_index(page, lvl);
		if (lvl == 0) {
			int j = highest_at_or_below(t, i);
			if (j >= 0)
				return t->slot[j];
			break;
		}
		int before = i ? highest_at_or_below(t, i - 1) : -1;
		if (before >= 0) {
			fallback = t->slot[before];
			fallback_lvl = lvl - 1;
		}
		if (!bit_test(t, i))
			break;
		t = t->slot[i];
	}
	/* Node 0 always exists, so some entry lies before any page. */
	return fallback ? last_below(fallback, fallback_lvl) : NULL;
}

unsigned trie_tables_missing(const struct claims *c, uint64_t page)
{
	const struct claims_table *t = c->root;
	unsigned missing = CLAIMS_LEVELS - 1;
	for (unsigned lvl = CLAIMS_LEVELS - 1; lvl > 0; lvl--) {
		t = t->slot[trie_index(page, lvl)];
		if (!t)
			return missing;
		missing--;
	}
	return 0;
}

/* ---- changes ---- */

void trie_insert(struct claims *c, struct claim_node *n, struct claims_spares *sp)
{
	struct claims_table *t = c->root;
	for (unsigned lvl = CLAIMS_LEVELS - 1; lvl > 0; lvl--) {
		unsigned i = trie_index(n->first, lvl);
		if (!t->slot[i])
			entry_set(t, i, spares_take_table(sp));
		t = t->slot[i];
	}
	entry_set(t, trie_index(n->first, 0), n);
	c->nodes++;
}

void trie_remove(struct claims *c, const struct claim_node *n)
{
	struct claims_table *path[CLAIMS_LEVELS];
	struct claims_table *t = c->root;
	for (unsigned lvl = CLAIMS_LEVELS - 1;; lvl--) {
		path[lvl] = t;
		if (lvl == 0)
			break;
		t = t->slot[trie_index(n->first, lvl)];
	}
	entry_clear(path[0], trie_index(n->first, 0));
	c->nodes--;
	/* Free tables left empty, bottom up; the root stays. */
	for (unsigned lvl = 0; lvl < CLAIMS_LEVELS - 1 && path[lvl]->count == 0; lvl++) {
		entry_clear(path[lvl + 1], trie_index(n->first, lvl + 1));
		table_free(c, path[lvl]);
	}
}

static void free_below(struct claims *c, struct claims_table *t, unsigned lvl)
{
	for (unsigned i = 0; lvl > 0 && i < CLAIMS_TABLE_SLOTS; i++) {
		if (bit_test(t, i)) {
			free_below(c, t->slot[i], lvl - 1);
			table_free(c, t->slot[i]);
			entry_clear(t, i);
		}
	}
}

void trie_free_tables(struct claims *c) { free_below(c, c->root, CLAIMS_LEVELS - 1); }

/* ---- checker ---- */

struct trie_walk {
	const struct claims *c;
	uint64_t tables, nodes;
	const char *why;
};

static bool check_table(struct trie_walk *w, const struct claims_table *t, unsigned lvl, uint64_t prefix)
{
	w->tables++;
	unsigned used = 0;
	for (unsigned i = 0; i < CLAIMS_TABLE_SLOTS; i++) {
		bool set = bit_test(t, i);
		if (set != (t->slot[i] != NULL)) {
			w->why = "claims: table bitmap differs from its used entries";
			return false;
		}
		if (!set)
			continue;
		used++;
		uint64_t page = prefix | ((uint64_t)i << (CLAIMS_TABLE_BITS * lvl));
		if (lvl > 0) {
			if (!check_table(w, t->slot[i], lvl - 1, page))
				return false;
			continue;
		}
		const struct claim_node *n = t->slot[i];
		w->nodes++;
		if (n->first != page) {
			w->why = "claims: a node is indexed at a page other than its first";
			return false;
		}
	}
	if (used != t->count) {
		w->why = "claims: table count differs from its used entries";
		return false;
	}
	if (used == 0 && t != w->c->root) {
		w->why = "claims: an empty table below the root";
		return false;
	}
	return true;
}

int trie_check(const struct claims *c, uint64_t *nodes, const char **why)
{
	struct trie_walk w = { c, 0, 0, NULL };
	if (!check_table(&w, c->root, CLAIMS_LEVELS - 1, 0)) {
		*why = w.why;
		return -MMK_EINVAL;
	}
	if (w.tables != c->tables) {
		*why = "claims: table total differs from the tables reachable";
		return -MMK_EINVAL;
	}
	if (w.nodes != c->nodes) {
		*why = "claims: node total differs from the nodes indexed";
		return -MMK_EINVAL;
	}
	*nodes = w.nodes;
	return 0;
}
