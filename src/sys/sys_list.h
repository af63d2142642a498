/*
 * sys/sys_list.h - the intrusive doubly linked lists of src/sys (tables
 * and objects on a cap_system, objects on a sys): any struct with next and
 * prev pointers to its own type, headed by a pointer.  O(1) push and unlink.
 */
#ifndef MMK_SYS_LIST_H
#define MMK_SYS_LIST_H

/* Put n first on the list headed by head. */
#define SYS_LIST_PUSH(head, n)                                                                          \
	do {                                                                                                \
		(n)->prev = NULL;                                                                           \
		(n)->next = (head);                                                                         \
		if (head)                                                                                   \
			(head)->prev = (n);                                                                 \
		(head) = (n);                                                                               \
	} while (0)

/* Take n off the list headed by head. */
#define SYS_LIST_UNLINK(head, n)                                                                        \
	do {                                                                                                \
		if ((n)->prev)                                                                              \
			(n)->prev->next = (n)->next;                                                        \
		else                                                                                        \
			(head) = (n)->next;                                                                 \
		if ((n)->next)                                                                              \
			(n)->next->prev = (n)->prev;                                                        \
		(n)->next = (n)->prev = NULL;                                                               \
	} while (0)

#endif
