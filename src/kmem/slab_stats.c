/*
 * kmem/slab_stats.c - per-cache statistics and the /proc/slabinfo-like line
 * (Linux's slabinfo version 2.1 columns first, then mmk's own).
 *
 * Mapping of the slabinfo 2.1 columns: active_objs = objects out of slabs
 * (users and magazines, as Linux counts per-CPU arrays), num_objs = slabs *
 * objs_per_slab, objsize = bytes per buffer; tunables limit and batchcount
 * = the magazine size (the unit of exchange with the depot), sharedfactor
 * 0; sharedavail = rounds in the depot.  Then ": mmk" and live objects,
 * objects in magazines, magazine size, resizes, depot full and empty
 * magazines, depot contention, allocs, frees, CPU-layer alloc and free
 * hits, errors reported.
 */
#include "slab_internal.h"

static uint64_t rounds_of(const struct kmem_magazine *m)
{
	uint64_t n = 0;
	for (; m; m = m->next)
		n += m->rounds;
	return n;
}

void kmem_cache_stats(struct kmem_cache *c, struct kmem_stats *st)
{
	uint64_t cpu_rounds = 0, depot_rounds = 0;
	*st = (struct kmem_stats){ 0 };
	st->name = c->name;
	st->size = c->size;
	st->obj_size = c->obj_size;
	st->align = c->align;
	st->objs_per_slab = c->objs_per_slab;
	st->pages_per_slab = 1u << c->slab_order;
	for (unsigned i = 0; i < c->ncpus; i++) {
		struct kmem_cpu_cache *cc = &c->cpu[i];
		hal_spin_lock(&cc->lock);
		st->cpu_alloc_hits += cc->alloc_hits;
		st->cpu_free_hits += cc->free_hits;
		cpu_rounds += (cc->loaded ? cc->loaded->rounds : 0) + (cc->prev ? cc->prev->rounds : 0);
		hal_spin_unlock(&cc->lock);
	}
	if (c->cpu) {
		struct kmem_depot *d = &c->depot;
		hal_spin_lock(&d->lock);
		st->depot_full = d->nfull;
		st->depot_empty = d->nempty;
		st->depot_contention = d->contention_total;
		st->mag_resizes = d->resizes;
		depot_rounds = rounds_of(d->full) + rounds_of(d->empty);
		st->depot_rounds = depot_rounds;
		hal_spin_unlock(&d->lock);
		st->mag_size = kmem_mag_rounds(atomic_load_explicit(&c->mag_class, memory_order_relaxed));
		st->mag_frames = kmem_mag_frames(c);
	}
	st->in_magazines = cpu_rounds + depot_rounds;
	hal_spin_lock(&c->lock);
	struct kmem_slab_list *lists[3] = { &c->partial, &c->full, &c->empty };
	for (unsigned l = 0; l < 3; l++)
		for (struct kmem_slab *s = lists[l]->head; s; s = s->next)
			st->objs_out += s->in_use;
	st->slabs_partial = c->partial.count;
	st->slabs_full = c->full.count;
	st->slabs_empty = c->empty.count;
	st->slabs = st->slabs_partial + st->slabs_full + st->slabs_empty;
	st->slabs_created = c->slabs_created;
	st->slabs_freed = c->slabs_freed;
	st->allocs = c->slab_allocs + st->cpu_alloc_hits;
	st->frees = c->slab_frees + st->cpu_free_hits;
	hal_spin_unlock(&c->lock);
	st->objs_total = st->slabs * c->objs_per_slab;
	st->slab_frames = st->slabs << c->slab_order;
	st->live = st->objs_out - st->in_magazines;
	st->errors = atomic_load(&c->errors);
}

int kmem_stats_format(const struct kmem_stats *st, char *buf, size_t len)
{
	struct mmk_fmt f = { buf, len, 0 };
	if (!st) {
		mmk_fmt_str(&f, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
				 " : tunables <limit> <batchcount> <sharedfactor>"
				 " : slabdata <active_slabs> <num_slabs> <sharedavail>"
				 " : mmk <live> <in_magazines> <magazine> <resizes> <depot_full> <depot_empty>"
				 " <contention> <allocs> <frees> <alloc_hits> <free_hits> <errors>");
		return mmk_fmt_end(&f);
	}
	mmk_fmt_col(&f, st->name, 17);
	mmk_fmt_rdec(&f, st->objs_out, 6);
	mmk_fmt_rdec(&f, st->objs_total, 6);
	mmk_fmt_rdec(&f, st->obj_size, 6);
	mmk_fmt_rdec(&f, st->objs_per_slab, 4);
	mmk_fmt_rdec(&f, st->pages_per_slab, 4);
	mmk_fmt_str(&f, " : tunables");
	mmk_fmt_rdec(&f, st->mag_size, 4);
	mmk_fmt_rdec(&f, st->mag_size, 4);
	mmk_fmt_rdec(&f, 0, 4);
	mmk_fmt_str(&f, " : slabdata");
	mmk_fmt_rdec(&f, st->slabs - st->slabs_empty, 6);
	mmk_fmt_rdec(&f, st->slabs, 6);
	mmk_fmt_rdec(&f, st->depot_rounds, 6);
	mmk_fmt_str(&f, " : mmk");
	const uint64_t tail[] = { st->live,       st->in_magazines, st->mag_size,       st->mag_resizes,
				  st->depot_full, st->depot_empty,  st->depot_contention, st->allocs,
				  st->frees,      st->cpu_alloc_hits, st->cpu_free_hits, st->errors };
	for (unsigned k = 0; k < sizeof(tail) / sizeof(tail[0]); k++)
		mmk_fmt_rdec(&f, tail[k], 0);
	return mmk_fmt_end(&f);
}

uint64_t kmem_cache_live(struct kmem_cache *c)
{
	struct kmem_stats st;
	kmem_cache_stats(c, &st);
	return st.live;
}
