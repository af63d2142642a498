/*
 * vm/charge.c - charging a space's memory to its account (issue 5: the
 * accounts behind seed 000's MOPs and seed 001's memory control
 * capabilities, src/acct).
 *
 * 1. What is charged, and when.  On allocation: each frame a fault makes
 *    resident for the space (a demand-zero page, a copy-on-write copy, a
 *    page brought into an object, a swap-in), each page-table page, and
 *    the bytes of each VMA.  Uncharged exactly when freed: unmap, exit, a
 *    copy-on-write break that frees the old page, a page-out, a VMA freed.
 * 2. Who pays for a shared page.  The first toucher, as Linux memcg: the
 *    space whose fault made the page resident pays for it until the frame
 *    is freed, whoever frees it (an anon records its payer in anon->acct,
 *    an object page in obj->charges).  After fork, the parent keeps paying
 *    for the pages both share until one side's write copies them (the
 *    copy is the writer's) or the last holder frees them.  A page paged
 *    out is uncharged; the space that faults it back in pays from then on.
 *    A payer that is destroyed while its pages live on elsewhere stays
 *    charged for them (its struct is pinned until they go, acct_internal.h)
 *    - nobody else is billed for a page they did not bring in.
 * 3. The stock.  A charge is one CAS on the account (src/acct/charge.c);
 *    to keep that off the fault and slab fast paths, each space keeps a
 *    small stock of bytes charged in advance (Linux's memcg_stock idea, per
 *    space instead of per CPU because the space lock already serialises
 *    its users): a page or a VMA takes from the stock with plain
 *    arithmetic under the space lock, and only an empty stock costs a CAS,
 *    for VM_CHARGE_BATCH pages at once (or just what is needed, when the
 *    batch would pass the limit, so a stock never makes a task fail early
 *    by more than what other spaces of its account hold in their stocks).
 *    Freed page tables and VMAs go back to the stock; above twice the batch
 *    the excess returns to the account.  Anon and object pages are
 *    uncharged straight to their payer (one CAS), as their payer may be
 *    another space's account.
 * 4. Invariants (vm_charge_check, run by vm_check): for a charged space,
 *    kobj_bytes == VMAs * sizeof(struct vm_area); stock + kobj_bytes is a
 *    whole number of pages; pt_charged == the pmap's page-table pages
 *    (0 once killed).  Per account (tests re-derive it by walking):
 *    charged pages == sum over its spaces of (stock + kobj_bytes) / 4096 +
 *    pt_charged, plus the anons and object pages that name it as payer.
 * 5. Locking: every field is guarded by the space lock; acct calls are
 *    lock-free except the rare unpin (acct_internal.h), which takes the
 *    acct lock alone.  The holder's release runs with no acct lock held and
 *    takes the space lock.
 * 6. Failure policy: a refused charge changes nothing (the allocation it
 *    was for is not made, or is undone), and counts in charge_failures.
 */
#include "vm/vm_internal.h"

#define VM_CHARGE_BATCH 16u /* pages per refill of a stock */
#define PG MMK_PAGE_SIZE

static uint64_t pages_of(uint64_t bytes) { return (bytes + MMK_PAGE_MASK) >> MMK_PAGE_SHIFT; }

/* The stock is short of bytes: charge a batch, or just enough. */
static int refill(struct vm_space *as, uint64_t bytes)
{
	uint64_t need = pages_of(bytes - as->charge_stock), batch;
	int rc = acct_charge_upto(as->acct, need, need > VM_CHARGE_BATCH ? need : VM_CHARGE_BATCH, &batch);
	if (rc) {
		as->charge_failures++;
		return rc;
	}
	as->charge_stock += batch * PG - bytes;
	return 0;
}

int vm_charge_locked(struct vm_space *as, uint64_t bytes)
{
	if (!as->acct)
		return 0;
	if (as->charge_stock >= bytes) {
		as->charge_stock -= bytes;
		return 0;
	}
	return refill(as, bytes);
}

void vm_uncharge_locked(struct vm_space *as, uint64_t bytes)
{
	if (!as->acct)
		return;
	as->charge_stock += bytes;
	if (as->charge_stock > 2 * VM_CHARGE_BATCH * PG) {
		uint64_t back = (as->charge_stock - VM_CHARGE_BATCH * PG) >> MMK_PAGE_SHIFT;
		as->charge_stock -= back * PG;
		acct_uncharge(as->acct, back);
	}
}

/* ---- VMAs ---- */

struct vm_area *vm_vma_alloc(struct vm_space *as)
{
	if (vm_charge_locked(as, sizeof(struct vm_area)))
		return NULL;
	struct vm_area *v = kmem_cache_alloc(&as->sys->vma_cache);
	if (!v) {
		vm_uncharge_locked(as, sizeof(struct vm_area));
		return NULL;
	}
	if (as->acct)
		as->kobj_bytes += sizeof(struct vm_area);
	return v;
}

void vm_vma_free_struct(struct vm_space *as, struct vm_area *v)
{
	kmem_cache_free(&as->sys->vma_cache, v);
	if (as->acct) {
		as->kobj_bytes -= sizeof(struct vm_area);
		vm_uncharge_locked(as, sizeof(struct vm_area));
	}
}

/* ---- user pages ---- */

int vm_anon_new_charged(struct vm_space *as, bool zero, struct vm_anon **out)
{
	int rc = vm_charge_locked(as, PG);
	if (rc)
		return rc;
	rc = vm_anon_new(as->sys, zero, out);
	if (rc) {
		vm_uncharge_locked(as, PG);
		return rc;
	}
	(*out)->acct = as->acct; /* the page's charge leaves the stock with it */
	return 0;
}

int vm_anon_swap_in_charged(struct vm_space *as, struct vm_anon *a)
{
	if (!a->swapped)
		return 0;
	int rc = vm_charge_locked(as, PG);
	if (rc)
		return rc;
	rc = vm_anon_swap_in(as->sys, a);
	if (rc) {
		vm_uncharge_locked(as, PG);
		return rc;
	}
	a->acct = as->acct; /* paged out it was nobody's: the toucher pays now */
	return 0;
}

void vm_anon_uncharge(struct vm_anon *a)
{
	if (a->acct)
		acct_uncharge(a->acct, 1);
	a->acct = NULL;
}

int vm_object_page_charged(struct vm_space *as, struct vm_object *obj, uint64_t pgoff, pfn_t *out)
{
	if (obj->type == VM_OBJECT_PHYS || !as->acct || vm_object_lookup(obj, pgoff, out))
		return vm_object_page(as->sys, obj, pgoff, out); /* nothing new to pay for */
	int rc = radix_reserve(&obj->charges, pgoff);
	if (rc)
		return rc;
	rc = vm_charge_locked(as, PG);
	if (!rc) {
		rc = vm_object_page(as->sys, obj, pgoff, out);
		if (rc)
			vm_uncharge_locked(as, PG);
		else
			radix_insert(&obj->charges, pgoff, as->acct); /* reserved: cannot fail */
	}
	radix_unreserve(&obj->charges, pgoff);
	return rc;
}

void vm_object_uncharge_page(struct vm_object *obj, uint64_t pgoff)
{
	struct mmk_account *a = radix_remove(&obj->charges, pgoff);
	if (a)
		acct_uncharge(a, 1);
}

/* ---- page tables (the pmap's source, ctx = the space) ---- */

int vm_pt_alloc(void *ctx, paddr_t *out)
{
	struct vm_space *as = ctx;
	int rc = vm_charge_locked(as, PG);
	if (rc)
		return rc;
	pfn_t pfn;
	rc = phys_alloc(as->sys->phys, 0, 0, &pfn);
	if (rc) {
		vm_uncharge_locked(as, PG);
		return rc;
	}
	if (as->acct)
		as->pt_charged++;
	as->sys->pt_pages++;
	*out = mmk_pfn_to_paddr(pfn);
	return 0;
}

void vm_pt_free(void *ctx, paddr_t pa)
{
	struct vm_space *as = ctx;
	phys_free(as->sys->phys, mmk_paddr_to_pfn(pa), 0);
	as->sys->pt_pages--;
	if (as->pt_charged) {
		as->pt_charged--;
		vm_uncharge_locked(as, PG);
	}
}

/* ---- the account ---- */

/* Give back the stock and the page tables' charge (the space's memory is
 * gone or going).  With as->lock held, or as unreachable. */
static void drain(struct vm_space *as)
{
	as->charge_stock += as->pt_charged * PG;
	as->pt_charged = 0;
	acct_uncharge(as->acct, as->charge_stock >> MMK_PAGE_SHIFT);
	as->charge_stock &= MMK_PAGE_MASK; /* 0: kobj_bytes is 0 by now */
}

/* acct_destroy: tear the space's memory down.  The space struct stays for
 * its owner (the task) to destroy; it keeps its root page table, no longer
 * charged, and a reference on the dead account, so every later charge
 * fails with -MMK_EIDRM. */
static void space_release(struct acct_holder *h)
{
	struct vm_space *as = mmk_list_entry(h, struct vm_space, holder);
	hal_spin_lock(&as->lock);
	vm_unmap_locked(as, 0, PMAP_USER_END); /* every VMA: pages, page tables, VMA structs */
	as->killed = true;
	drain(as);
	hal_spin_unlock(&as->lock);
	acct_holder_detach(h);
}

int vm_space_set_account(struct vm_space *as, struct mmk_account *acct)
{
	if (!as || !acct || as->sys->nommu)
		return -MMK_EINVAL;
	hal_spin_lock(&as->lock);
	int rc = as->acct || as->vmas.count ? -MMK_EBUSY : 0;
	if (!rc)
		rc = acct_charge(acct, as->pmap.pt_pages); /* the root made at creation */
	if (!rc) {
		rc = acct_holder_attach(acct, &as->holder, space_release);
		if (rc)
			acct_uncharge(acct, as->pmap.pt_pages);
	}
	if (!rc) {
		acct_get(acct);
		as->acct = acct;
		as->pt_charged = as->pmap.pt_pages;
	}
	hal_spin_unlock(&as->lock);
	return rc;
}

void vm_charge_fini(struct vm_space *as)
{
	if (!as->acct)
		return;
	drain(as);
	acct_holder_detach(&as->holder); /* harmless when release detached it */
	acct_put(as->acct);
	as->acct = NULL;
}

void vm_space_get_charge(struct vm_space *as, struct vm_charge_stats *st)
{
	hal_spin_lock(&as->lock);
	st->stock_bytes = as->charge_stock;
	st->kobj_bytes = as->kobj_bytes;
	st->pt_charged = as->pt_charged;
	st->charge_failures = as->charge_failures;
	st->killed = as->killed;
	hal_spin_unlock(&as->lock);
}

const char *vm_charge_check_locked(struct vm_space *as)
{
	if (!as->acct)
		return as->kobj_bytes || as->charge_stock || as->pt_charged ? "vm: uncharged space holds charges" : NULL;
	if (as->kobj_bytes != as->vmas.count * sizeof(struct vm_area))
		return "vm: kobj_bytes differs from the VMAs counted";
	if ((as->charge_stock + as->kobj_bytes) & MMK_PAGE_MASK)
		return "vm: stock + kernel-object bytes is not a whole number of pages";
	if (as->pt_charged != (as->killed ? 0 : as->pmap.pt_pages))
		return "vm: pt_charged differs from the page-table pages held";
	return NULL;
}
