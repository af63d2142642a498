/*
 * phys_fixture.h - a sim machine with a struct phys on it, for the tests of
 * src/phys.  Every wrapper runs phys_check after the operation and asserts
 * (with cmocka) what must hold whatever the outcome: on success the block's
 * shape, on error that nothing changed.
 */
#ifndef MMK_TESTS_PHYS_FIXTURE_H
#define MMK_TESTS_PHYS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mmk/errno.h>
#include <mmk/failpoint.h>
#include <mmk/phys.h>

#define PHYS_FX_MIB ((uint64_t)1 << 20)
#define PHYS_FX_GIB ((uint64_t)1 << 30)

struct phys_fx {
	struct hal_machine *m;
	struct phys ph;
	struct mmk_failpoint fp;
	struct phys_stats init; /* stats right after a successful phys_init */
};

/* Make a 1-CPU sim machine of ram_bytes and phys_init it with map (fp
 * disarmed).  Returns phys_init's result; on error the machine is kept so
 * phys_fx_fini still works.  Asserts that the machine could be made. */
int phys_fx_init(struct phys_fx *fx, uint64_t ram_bytes, const struct mmk_mem_range *map, size_t n);
void phys_fx_fini(struct phys_fx *fx);

/* Assert phys_check passes (printing the broken invariant otherwise). */
void phys_fx_check(struct phys_fx *fx);

void phys_fx_stats(struct phys_fx *fx, struct phys_stats *st);
void phys_fx_assert_stats_eq(const struct phys_stats *a, const struct phys_stats *b);

/* Whether a block of order at pfn lies in a zone that flags allow. */
bool phys_fx_zone_allowed(unsigned flags, pfn_t pfn, unsigned order);

/*
 * phys_alloc_aligned, then phys_check.  On success asserts: aligned to
 * 2^max(order, align), head ALLOCATED of that order with the right owner
 * and refcount 0, tails TAIL, allowed zone, free count down by 2^order.
 * On error asserts the stats did not change.
 */
int phys_fx_alloc(struct phys_fx *fx, unsigned order, unsigned align, unsigned flags, pfn_t *out);

/* phys_free, then phys_check; free count up by 2^order on success,
 * stats unchanged on error. */
int phys_fx_free(struct phys_fx *fx, pfn_t pfn, unsigned order);

/* Free frames of all zones. */
uint64_t phys_fx_free_frames(struct phys_fx *fx);

#endif
