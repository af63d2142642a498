/*
 * swap.h - mmk-sim's swap area: the swap pager (struct vm_pager) backed by
 * host memory, so a replay can run in less simulated RAM than it touches.
 * Slots are indexes into a growable table of 4 KiB copies, reused LIFO.
 */
#ifndef MMK_SIM_SWAP_H
#define MMK_SIM_SWAP_H

#include <mmk/vm.h>

struct host_swap {
	unsigned char **page; /* slot -> copy, NULL when free */
	uint64_t *free_slots, nfree;
	uint64_t cap, used, peak;
};

/* Install a host swap area on sys with a low watermark of 1/64 of RAM. */
void host_swap_attach(struct host_swap *s, struct sim_system *sys);
/* Release the table; every slot must have been released by then. */
void host_swap_free(struct host_swap *s);

#endif
