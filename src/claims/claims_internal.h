/*
 * claims/claims_internal.h - what the files of src/claims share.
 * Every function here expects the caller to hold c->lock.
 */
#ifndef MMK_CLAIMS_INTERNAL_H
#define MMK_CLAIMS_INTERNAL_H

#include <mmk/claims.h>
#include <mmk/errno.h>

#include "lib/mem.h"

#define TABLE_MASK ((uint64_t)CLAIMS_TABLE_SLOTS - 1)

/* Index of page in the table of level lvl (2 = root, 0 = leaf). */
static inline unsigned trie_index(uint64_t page, unsigned lvl)
{
	return (unsigned)((page >> (CLAIMS_TABLE_BITS * lvl)) & TABLE_MASK);
}

static inline uint64_t node_end(const struct claim_node *n) { return n->first + n->npages; }
static inline vaddr_t page_va(const struct claims *c, uint64_t page) { return c->base + (page << MMK_PAGE_SHIFT); }

/* ---- trie.c: the three-level table ---- */

/*
 * Nodes and tables taken before an operation changes anything (validate,
 * reserve, commit): a range operation splits at most at its two ends, and
 * each new node start may need a level-1 and a leaf table.
 */
#define SPARE_NODES 2u
#define SPARE_TABLES 4u
struct claims_spares {
	struct claim_node *node[SPARE_NODES];
	struct claims_table *table[SPARE_TABLES];
	unsigned nnodes, ntables;
};

struct claims_table *table_alloc(struct claims *c);
void table_free(struct claims *c, struct claims_table *t);
/* Allocate nnodes nodes and ntables tables into sp (empty before): 0, or
 * -MMK_ENOMEM with nothing held. */
int spares_reserve(struct claims *c, struct claims_spares *sp, unsigned nnodes, unsigned ntables);
/* Give back what the commit did not use. */
void spares_release(struct claims *c, struct claims_spares *sp);
struct claim_node *spares_take_node(struct claims_spares *sp);

/* The node whose first page is page, or NULL: three loads. */
struct claim_node *trie_node_at(const struct claims *c, uint64_t page);
/* The node holding page (< npages): the greatest first page <= page, found
 * through the occupancy bitmaps (at most 3 levels of 8 words). */
struct claim_node *trie_node_containing(const struct claims *c, uint64_t page);
/* Tables a node starting at page would need that are missing (0..2). */
unsigned trie_tables_missing(const struct claims *c, uint64_t page);
/* Index n by n->first, taking missing tables from sp. */
void trie_insert(struct claims *c, struct claim_node *n, struct claims_spares *sp);
/* Unindex n; tables left empty (never the root) are freed. */
void trie_remove(struct claims *c, const struct claim_node *n);
/* Free every table below the root (nodes are the caller's). */
void trie_free_tables(struct claims *c);
/* Re-derive bitmaps, counts, table total; *nodes = nodes indexed. */
int trie_check(const struct claims *c, uint64_t *nodes, const char **why);

/* ---- node.c: nodes, slots, neighbours, split and merge ---- */

static inline struct claim_node *slot_node(const struct claim_slot *s)
{
	return (struct claim_node *)(void *)((char *)(s - s->index) - offsetof(struct claim_node, slot));
}

struct claim_node *node_next(const struct claims *c, const struct claim_node *n);
struct claim_node *node_prev(const struct claims *c, const struct claim_node *n);
/* Same state and the same claimants with the same counts. */
bool node_alike(const struct claim_node *a, const struct claim_node *b);
void node_set_state(struct claims *c, struct claim_node *n, enum claim_state s);
/* Make page a node boundary (page strictly inside the node holding it),
 * with a node and tables from sp. */
void node_split_at(struct claims *c, uint64_t page, struct claims_spares *sp);
/* Nodes and tables a split at page needs: 0 when page is a boundary. */
void node_split_needs(const struct claims *c, uint64_t page, unsigned *nnodes, unsigned *ntables);
/* Merge n with its neighbours when alike; returns the node now holding
 * n's pages. */
struct claim_node *node_merge_around(struct claims *c, struct claim_node *n);
/* Merge alike neighbours from the node holding page from to the node
 * starting at page to (inclusive). */
void node_merge_span(struct claims *c, uint64_t from, uint64_t to);

struct claim_slot *slot_find(struct claim_node *n, const struct claimant *cl);
/* Give cl a claim of count on n (no slot for cl yet, a free slot left). */
void slot_add(struct claim_node *n, struct claimant *cl, uint32_t count);
/* Take slot s's claimant off its node (count forgotten). */
void slot_drop(struct claim_slot *s);

void queue_append(struct claims *c, struct claim_node *n);
void queue_push_front(struct claims *c, struct claim_node *n);
void queue_unlink(struct claims *c, struct claim_node *n);

#endif
