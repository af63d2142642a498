/*
 * hal/lock.h - the hardware contract, part 2: spin locks.
 *
 * A test-and-test-and-set spin lock on C11 atomics (a freestanding header of
 * the compiler), which every backend shares; ThreadSanitizer understands it.
 * Locks are not recursive.  The lock order is written in docs/locking.md.
 */
#ifndef HAL_LOCK_H
#define HAL_LOCK_H

#include <stdatomic.h>
#include <stdbool.h>

struct hal_spinlock {
	atomic_bool held;
};

#define HAL_SPINLOCK_INIT { false }

static inline void hal_spin_init(struct hal_spinlock *l) { atomic_init(&l->held, false); }

static inline void hal_spin_lock(struct hal_spinlock *l)
{
	for (;;) {
		if (!atomic_exchange_explicit(&l->held, true, memory_order_acquire))
			return;
		while (atomic_load_explicit(&l->held, memory_order_relaxed))
			;
	}
}

static inline bool hal_spin_trylock(struct hal_spinlock *l)
{
	return !atomic_exchange_explicit(&l->held, true, memory_order_acquire);
}

static inline void hal_spin_unlock(struct hal_spinlock *l)
{
	atomic_store_explicit(&l->held, false, memory_order_release);
}

static inline bool hal_spin_is_held(struct hal_spinlock *l)
{
	return atomic_load_explicit(&l->held, memory_order_relaxed);
}

#endif
