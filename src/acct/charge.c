/*
 * acct/charge.c - charging frames and kernel-object bytes to an account.
 *
 * A charge is one compare-and-swap on the account's `used` word: the limit
 * is checked and the charge made in the same step, so two CPUs can never
 * both squeeze under it, and no lock is taken (the frame and slab fast
 * paths charge; issue 5 caps what that may cost).  Kernel objects are
 * smaller than a frame, so bytes are summed and whole frames charged as the
 * sum crosses page boundaries.  Theory of the tree in account.c.
 */
#include <mmk/errno.h>

#include "acct_internal.h"

int acct_used_add(struct mmk_account *a, uint64_t n)
{
	uint64_t old = __atomic_load_n(&a->used, __ATOMIC_RELAXED);
	do {
		if (n > a->limit || old > a->limit - n)
			return -MMK_ENOMEM;
	} while (!__atomic_compare_exchange_n(&a->used, &old, old + n, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	return 0;
}

void acct_used_sub(struct mmk_account *a, uint64_t n)
{
	uint64_t old = __atomic_load_n(&a->used, __ATOMIC_RELAXED);
	uint64_t new;
	do {
		uint64_t count = old & ~ACCT_USED_PINNED;
		/* The last charge of a pinned account takes the pin with it. */
		new = count > n ? old - n : 0;
	} while (!__atomic_compare_exchange_n(&a->used, &old, new, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	if ((old & ACCT_USED_PINNED) && new == 0) {
		/* This CAS cleared the pin, so the struct is still ours to put:
		 * the pin held the tree's reference (account.c). */
		struct acct_system *s = a->sys;
		hal_spin_lock(&s->lock);
		acct_put_locked(s, a);
		hal_spin_unlock(&s->lock);
	}
}

void acct_drop_tree_ref_locked(struct acct_system *s, struct mmk_account *a)
{
	uint64_t old = __atomic_load_n(&a->used, __ATOMIC_RELAXED);
	while (old) {
		if (__atomic_compare_exchange_n(&a->used, &old, old | ACCT_USED_PINNED, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return; /* pinned: the last uncharge puts */
	}
	acct_put_locked(s, a);
}

/* Raise the high-water mark of charged frames to at least charged. */
static void note_peak(struct mmk_account *a, uint64_t charged)
{
	uint64_t peak = __atomic_load_n(&a->peak_charged, __ATOMIC_RELAXED);
	while (charged > peak &&
	       !__atomic_compare_exchange_n(&a->peak_charged, &peak, charged, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

int acct_charge(struct mmk_account *a, uint64_t frames)
{
	if (frames == 0)
		return 0;
	if (__atomic_load_n(&a->dead, __ATOMIC_ACQUIRE))
		return -MMK_EIDRM;
	if (acct_used_add(a, frames)) {
		__atomic_fetch_add(&a->failcnt, 1, __ATOMIC_RELAXED);
		return -MMK_ENOMEM;
	}
	/* donated is stable unless a split races; the peak is a statistic. */
	uint64_t used = __atomic_load_n(&a->used, __ATOMIC_RELAXED);
	uint64_t donated = __atomic_load_n(&a->donated, __ATOMIC_RELAXED);
	note_peak(a, used > donated ? used - donated : 0);
	return 0;
}

int acct_charge_upto(struct mmk_account *a, uint64_t min, uint64_t max, uint64_t *got)
{
	if (__atomic_load_n(&a->dead, __ATOMIC_ACQUIRE))
		return -MMK_EIDRM;
	uint64_t old = __atomic_load_n(&a->used, __ATOMIC_RELAXED), n;
	do {
		uint64_t room = old < a->limit ? a->limit - old : 0;
		if (room < min) {
			__atomic_fetch_add(&a->failcnt, 1, __ATOMIC_RELAXED);
			return -MMK_ENOMEM;
		}
		n = room < max ? room : max;
	} while (!__atomic_compare_exchange_n(&a->used, &old, old + n, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	uint64_t used = old + n, donated = __atomic_load_n(&a->donated, __ATOMIC_RELAXED);
	note_peak(a, used > donated ? used - donated : 0);
	*got = n;
	return 0;
}

void acct_uncharge(struct mmk_account *a, uint64_t frames)
{
	if (frames)
		acct_used_sub(a, frames);
}

static uint64_t frames_for(uint64_t bytes) { return (bytes + MMK_PAGE_MASK) >> MMK_PAGE_SHIFT; }

int acct_charge_bytes(struct mmk_account *a, uint64_t bytes)
{
	uint64_t old = __atomic_load_n(&a->kobj_bytes, __ATOMIC_RELAXED);
	for (;;) {
		if (bytes > UINT64_MAX - MMK_PAGE_SIZE - old)
			return -MMK_ENOMEM;
		uint64_t delta = frames_for(old + bytes) - frames_for(old);
		int err = acct_charge(a, delta);
		if (err)
			return err;
		if (__atomic_compare_exchange_n(&a->kobj_bytes, &old, old + bytes, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return 0;
		acct_uncharge(a, delta); /* another CPU moved the sum: redo the arithmetic */
	}
}

void acct_uncharge_bytes(struct mmk_account *a, uint64_t bytes)
{
	uint64_t old = __atomic_load_n(&a->kobj_bytes, __ATOMIC_RELAXED);
	uint64_t new;
	do
		new = old > bytes ? old - bytes : 0;
	while (!__atomic_compare_exchange_n(&a->kobj_bytes, &old, new, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	acct_uncharge(a, frames_for(old) - frames_for(new));
}
