/*
 * mmk/list.h - intrusive circular doubly linked lists.
 *
 * A struct mmk_list is both a list head and a link embedded in an element;
 * an empty head (or an unlinked link) points at itself.  Nothing allocates:
 * the element owns its link, the list owns nothing.  No locking: the owner
 * of the list says which lock guards it.
 */
#ifndef MMK_LIST_H
#define MMK_LIST_H

#include <mmk/types.h>

struct mmk_list {
	struct mmk_list *next, *prev;
};

static inline void mmk_list_init(struct mmk_list *l) { l->next = l->prev = l; }
static inline bool mmk_list_empty(const struct mmk_list *l) { return l->next == l; }

/* Insert n after at (at the front when at is the head). */
static inline void mmk_list_insert_after(struct mmk_list *at, struct mmk_list *n)
{
	n->prev = at;
	n->next = at->next;
	at->next->prev = n;
	at->next = n;
}

/* Insert n at the back of head. */
static inline void mmk_list_push_back(struct mmk_list *head, struct mmk_list *n)
{
	mmk_list_insert_after(head->prev, n);
}

/* Unlink n and leave it self-linked (so unlinking twice is harmless). */
static inline void mmk_list_remove(struct mmk_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	mmk_list_init(n);
}

/* The element that embeds link as member. */
#define mmk_list_entry(link, type, member) ((type *)(void *)((char *)(link)-offsetof(type, member)))

#define mmk_list_for_each(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

#endif
