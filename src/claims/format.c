/*
 * claims/format.c - claims_format: the trie and the revocation queue as
 * text, for mmk-sim's scenario mode and for tests that fail.
 *
 *   claims [0x100000000, 0x140000000) 262144 pages: free 262000 claimed 140 queued 4 revoking 0; nodes 5 tables 3
 *     [0x100000000, 0x100004000) 4 claimed #1:1 #2:3
 *     ...
 *   queue: [0x100010000, 0x100014000)
 */
#include "claims/claims_internal.h"
#include "lib/textout.h"

static const char *const state_names[CLAIM_NSTATES] = { "free", "claimed", "queued", "revoking" };

static void put_range(struct textout *o, const struct claims *c, const struct claim_node *n)
{
	textout_str(o, "[0x");
	textout_hex(o, page_va(c, n->first), 1);
	textout_str(o, ", 0x");
	textout_hex(o, page_va(c, node_end(n)), 1);
	textout_char(o, ')');
}

static void put_header(struct textout *o, const struct claims *c)
{
	textout_str(o, "claims [0x");
	textout_hex(o, c->base, 1);
	textout_str(o, ", 0x");
	textout_hex(o, page_va(c, c->npages), 1);
	textout_str(o, ") ");
	textout_dec(o, c->npages);
	textout_str(o, " pages:");
	for (unsigned s = 0; s < CLAIM_NSTATES; s++) {
		textout_char(o, ' ');
		textout_str(o, state_names[s]);
		textout_char(o, ' ');
		textout_dec(o, c->pages[s]);
	}
	textout_str(o, "; nodes ");
	textout_dec(o, c->nodes);
	textout_str(o, " tables ");
	textout_dec(o, c->tables);
	textout_char(o, '\n');
}

static void put_node(struct textout *o, const struct claims *c, const struct claim_node *n)
{
	textout_str(o, "  ");
	put_range(o, c, n);
	textout_char(o, ' ');
	textout_dec(o, n->npages);
	textout_char(o, ' ');
	textout_str(o, state_names[n->state]);
	for (unsigned i = 0; i < CLAIMS_MAX_CLAIMANTS; i++) {
		if (!n->slot[i].who)
			continue;
		textout_str(o, " #");
		textout_dec(o, n->slot[i].who->id);
		textout_char(o, ':');
		textout_dec(o, n->slot[i].count);
	}
	textout_char(o, '\n');
}

size_t claims_format(struct claims *c, char *buf, size_t cap)
{
	struct textout o = { buf, cap, 0 };
	hal_spin_lock(&c->lock);
	put_header(&o, c);
	for (const struct claim_node *n = trie_node_at(c, 0); n; n = node_next(c, n))
		put_node(&o, c, n);
	textout_str(&o, "queue:");
	for (const struct claim_node *n = c->qhead; n; n = n->qnext) {
		textout_char(&o, ' ');
		put_range(&o, c, n);
	}
	textout_char(&o, '\n');
	hal_spin_unlock(&c->lock);
	return textout_end(&o);
}
