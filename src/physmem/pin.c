/*
 * physmem/pin.c - pins (seed 001: "Frames, may, however, be pinned in place
 * for a limited amount of time").
 *
 * A pin is a deadline on the frame: pin_until, in the caller's ticks (the
 * core has no clock; physmem_set_time says what time it is).  While now <
 * pin_until the frame is neither migrated nor deallocated; afterwards the
 * pin has lapsed by itself, with nothing to undo.  Pins of several holders
 * on one frame keep the latest deadline.
 */
#include "physmem_internal.h"

static int pin_range(struct container_ref r, uint64_t offset, uint64_t len, bool pin, uint64_t until,
		     paddr_t *paddrs)
{
	struct physmem *pm;
	struct container *c;
	uint64_t first, n;
	int rc = pm_begin(r, offset, len, PM_MAP, 0, &pm, &c, &first, &n);
	if (!pm)
		return rc;
	if (!rc && pin && (until <= pm->now || until - pm->now > PM_PIN_MAX_TICKS))
		rc = -MMK_EINVAL;
	if (!rc && !range_allocated(c, first, n))
		rc = -MMK_ENOENT;
	for (uint64_t pg = first; !rc && pg < first + n;) {
		struct pm_entry *e = entry_of_item(btree_lookup(&c->entries, pg));
		struct pm_frame *f = e->frame;
		if (pin && f->pin_until < until)
			f->pin_until = until;
		else if (!pin && f->pin_until > pm->now)
			f->pin_until = pm->now;
		for (; pg < entry_end(e) && pg < first + n; pg++)
			if (paddrs)
				paddrs[pg - first] = mmk_pfn_to_paddr(entry_pfn(e, pg));
	}
	hal_spin_unlock(&pm->lock);
	return rc;
}

int container_pin(struct container_ref r, uint64_t offset, uint64_t len, uint64_t until, paddr_t *paddrs)
{
	return pin_range(r, offset, len, true, until, paddrs);
}

int container_unpin(struct container_ref r, uint64_t offset, uint64_t len)
{
	return pin_range(r, offset, len, false, 0, NULL);
}
