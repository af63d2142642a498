/*
 * test_kmem_mt.c - the slab allocator with host threads as CPUs (each bound
 * with sim_cpu_bind), meant to run under ThreadSanitizer as well:
 *
 *  - cross-CPU free: producers on two CPUs allocate and stamp objects that
 *    consumers on two other CPUs check and free, so full magazines flow
 *    from the consumers through the depot to the producers;
 *  - destroy while other CPUs hold magazines: the contract is that destroy
 *    drains every CPU's magazines and the depot, and requires that no other
 *    CPU is inside a call on the cache (the threads wait at a barrier);
 *    with an object still held it is -MMK_EBUSY;
 *  - reclaim racing with allocation: workers allocate and free while one
 *    CPU keeps reaping, updating (forcing magazine resizes, which the
 *    workers apply to their own magazines lazily) and reading statistics;
 *    every few rounds it parks the workers (drain's contract: no other CPU
 *    inside a call on the cache) and drains and checks the cache while
 *    they hold objects and magazines;
 *  - contention: bursts that go to the depot on every CPU, with updates, so
 *    the magazine size may grow; the checker and the leak baseline hold;
 *  - lazy resize: a magazine resize on one CPU leaves the other CPUs'
 *    magazines alone, and each CPU retires its old ones in its own slow
 *    path (white-box: looks at the per-CPU caches);
 *  - the pinning contract (hal_cpu_pin): it names the thread's CPU, nests,
 *    and in debug builds two threads pinned to one CPU is a panic.
 * After each: kmem_cache_check, destroy, free frames back to the boot count.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sim.h>

#include "kmem/slab_internal.h" /* the lazy-resize test looks at the CPU caches */
#include "kmem_fixture.h"

#define NCPUS 4

static int setup(void **state)
{
	struct kfx *fx = calloc(1, sizeof(*fx));
	kfx_boot(fx, NCPUS);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct kfx *fx = *state;
	kfx_shutdown(fx);
	free(fx);
	return 0;
}

/* A stamp in the first and last words of an object. */
struct stamped {
	uint64_t head;
	char body[48];
	uint64_t tail;
};

static void stamp(struct stamped *o, uint64_t v)
{
	o->head = v;
	memset(o->body, (int)(v & 0xff), sizeof(o->body));
	o->tail = ~v;
}

/* Threads other than the test's own must not call cmocka's asserts. */
static bool intact(const struct stamped *o, uint64_t v)
{
	return o->head == v && (unsigned char)o->body[17] == (unsigned char)(v & 0xff) && o->tail == ~v;
}

/* ---- cross-CPU free ---- */

#define QCAP 256
struct queue {
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	void *item[QCAP];
	uint64_t val[QCAP];
	unsigned head, n;
	unsigned producers_left;
};

static void q_put(struct queue *q, void *p, uint64_t v)
{
	pthread_mutex_lock(&q->mu);
	while (q->n == QCAP)
		pthread_cond_wait(&q->nonfull, &q->mu);
	q->item[(q->head + q->n) % QCAP] = p;
	q->val[(q->head + q->n) % QCAP] = v;
	q->n++;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->mu);
}

/* false when the producers are done and the queue is empty */
static bool q_get(struct queue *q, void **p, uint64_t *v)
{
	pthread_mutex_lock(&q->mu);
	while (q->n == 0 && q->producers_left)
		pthread_cond_wait(&q->nonempty, &q->mu);
	if (q->n == 0) {
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	*p = q->item[q->head];
	*v = q->val[q->head];
	q->head = (q->head + 1) % QCAP;
	q->n--;
	pthread_cond_signal(&q->nonfull);
	pthread_mutex_unlock(&q->mu);
	return true;
}

struct xcpu {
	struct kfx *fx;
	struct kmem_cache *c;
	struct queue *q;
	unsigned cpu;
	unsigned count; /* producer: objects to make */
	unsigned done;  /* consumer: objects freed */
	int failures;
};

static void *producer(void *arg)
{
	struct xcpu *x = arg;
	sim_cpu_bind(x->fx->s.machine, x->cpu);
	for (unsigned i = 0; i < x->count; i++) {
		struct stamped *o = kmem_cache_alloc(x->c);
		if (!o) {
			x->failures++;
			continue;
		}
		uint64_t v = ((uint64_t)x->cpu << 32) | i;
		stamp(o, v);
		q_put(x->q, o, v);
	}
	pthread_mutex_lock(&x->q->mu);
	x->q->producers_left--;
	pthread_cond_broadcast(&x->q->nonempty);
	pthread_mutex_unlock(&x->q->mu);
	sim_cpu_unbind();
	return NULL;
}

static void *consumer(void *arg)
{
	struct xcpu *x = arg;
	void *p;
	uint64_t v;
	sim_cpu_bind(x->fx->s.machine, x->cpu);
	while (q_get(x->q, &p, &v)) {
		struct stamped *o = p;
		if (!intact(o, v))
			x->failures++;
		if (kmem_cache_free(x->c, o) != 0)
			x->failures++;
		x->done++;
	}
	sim_cpu_unbind();
	return NULL;
}

static void cross_cpu_case(struct kfx *fx, unsigned flags, unsigned per_producer)
{
	struct kmem_cache c;
	struct queue q;
	struct kmem_stats st;
	memset(&q, 0, sizeof(q));
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.nonempty, NULL);
	pthread_cond_init(&q.nonfull, NULL);
	q.producers_left = 2;
	kfx_create(fx, &c, "xcpu", sizeof(struct stamped), 8, NULL, NULL, NULL, flags);
	struct xcpu x[4] = {
		{ fx, &c, &q, 1, per_producer, 0, 0 },
		{ fx, &c, &q, 2, per_producer, 0, 0 },
		{ fx, &c, &q, 3, 0, 0, 0 },
		{ fx, &c, &q, 0, 0, 0, 0 },
	};
	pthread_t t[4];
	pthread_create(&t[0], NULL, producer, &x[0]);
	pthread_create(&t[1], NULL, producer, &x[1]);
	pthread_create(&t[2], NULL, consumer, &x[2]);
	pthread_create(&t[3], NULL, consumer, &x[3]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(x[i].failures, 0);
	assert_int_equal(x[2].done + x[3].done, 2 * per_producer);
	kfx_check(&c);
	kmem_cache_stats(&c, &st);
	assert_int_equal(st.live, 0);
	if (flags & KMEM_STATS) { /* only these caches count every call */
		assert_int_equal(st.allocs, 2 * per_producer);
		assert_int_equal(st.frees, 2 * per_producer);
		/* The magazines carried the traffic: most calls never left their CPU. */
		assert_true(st.cpu_alloc_hits > st.allocs / 2);
		assert_true(st.cpu_free_hits > st.frees / 2);
	} else {
		assert_int_equal(st.cpu_alloc_hits + st.cpu_free_hits, 0);
		/* ...and most never reached the slab layer either. */
		assert_true(st.allocs < per_producer);
	}
	char line[512];
	kmem_stats_format(&st, line, sizeof(line));
	printf("%s\n", line);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(fx->nreports, 0);
	pthread_mutex_destroy(&q.mu);
	pthread_cond_destroy(&q.nonempty);
	pthread_cond_destroy(&q.nonfull);
}

static void test_mt_cross_cpu_free(void **state)
{
	cross_cpu_case(*state, 0, 50000);
	cross_cpu_case(*state, KMEM_STATS, 20000);
	cross_cpu_case(*state, KMEM_DEBUG_ALL, 10000);
}

/* ---- destroy while other CPUs hold magazines ---- */

struct holder {
	struct kfx *fx;
	struct kmem_cache *c;
	pthread_barrier_t *bar;
	unsigned cpu;
	bool keep_one;
	void *kept;
	int failures;
};

static void *holder_thread(void *arg)
{
	struct holder *h = arg;
	void *v[100];
	sim_cpu_bind(h->fx->s.machine, h->cpu);
	for (int i = 0; i < 100; i++)
		if (!(v[i] = kmem_cache_alloc(h->c)))
			h->failures++;
	for (int i = h->keep_one ? 1 : 0; i < 100; i++)
		if (kmem_cache_free(h->c, v[i]) != 0)
			h->failures++;
	h->kept = h->keep_one ? v[0] : NULL;
	pthread_barrier_wait(h->bar); /* 1: done, magazines loaded */
	pthread_barrier_wait(h->bar); /* 2: main tried destroy */
	if (h->kept && kmem_cache_free(h->c, h->kept) != 0)
		h->failures++;
	pthread_barrier_wait(h->bar); /* 3: nothing held any more */
	pthread_barrier_wait(h->bar); /* 4: main destroyed the cache */
	sim_cpu_unbind();
	return NULL;
}

static void test_mt_destroy_drains_other_cpus(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	struct kmem_stats before, after;
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, NCPUS);
	kfx_create(fx, &c, "destroy-mt", 256, 8, NULL, NULL, NULL, 0);
	struct holder h[NCPUS - 1];
	pthread_t t[NCPUS - 1];
	for (unsigned i = 0; i < NCPUS - 1; i++) {
		h[i] = (struct holder){ fx, &c, &bar, i + 1, i == 1, NULL, 0 };
		pthread_create(&t[i], NULL, holder_thread, &h[i]);
	}
	pthread_barrier_wait(&bar); /* 1 */
	/* The other CPUs are alive and hold loaded magazines, but none is
	 * inside a call on c: destroy's precondition holds. */
	kfx_check(&c);
	kfx_stats(&c, &before);
	assert_int_equal(before.live, 1);
	assert_true(before.in_magazines > 14); /* frees stayed in magazines */
	assert_int_equal(before.objs_out, before.live + before.in_magazines);
	assert_int_equal(kmem_cache_destroy(&c), -MMK_EBUSY); /* CPU 2 still holds one */
	kfx_stats(&c, &after);
	kfx_assert_stats_eq(&before, &after);
	pthread_barrier_wait(&bar); /* 2 */
	pthread_barrier_wait(&bar); /* 3 */
	kfx_check(&c);
	kfx_stats(&c, &before);
	assert_int_equal(before.live, 0);
	assert_true(before.in_magazines > 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(kfx_free_frames(fx), fx->s.boot_free_frames);
	pthread_barrier_wait(&bar); /* 4 */
	for (unsigned i = 0; i < NCPUS - 1; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].failures, 0);
	}
	pthread_barrier_destroy(&bar);
	assert_int_equal(fx->nreports, 0);
}

/* ---- reclaim racing with allocation ---- */

/*
 * Parking: the reclaimer asks (want), each worker that is still running
 * parks between two calls on the cache, and the reclaimer waits until every
 * running worker is parked.  The mutex makes everything a worker did before
 * it parked happen before what the reclaimer does next, and that before
 * what the worker does after, as the drain contract requires.
 */
struct park {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_bool want;  /* written under mu */
	unsigned parked;   /* workers parked (under mu) */
	unsigned active;   /* workers not finished (under mu) */
	unsigned sessions; /* park_all calls (reclaimer only) */
};

static void park_point(struct park *pk)
{
	if (!atomic_load_explicit(&pk->want, memory_order_relaxed))
		return;
	pthread_mutex_lock(&pk->mu);
	pk->parked++;
	pthread_cond_broadcast(&pk->cv);
	while (atomic_load_explicit(&pk->want, memory_order_relaxed))
		pthread_cond_wait(&pk->cv, &pk->mu);
	pk->parked--;
	pthread_mutex_unlock(&pk->mu);
}

static void park_leave(struct park *pk)
{
	pthread_mutex_lock(&pk->mu);
	pk->active--;
	pthread_cond_broadcast(&pk->cv);
	pthread_mutex_unlock(&pk->mu);
}

static void park_all(struct park *pk)
{
	pthread_mutex_lock(&pk->mu);
	atomic_store_explicit(&pk->want, true, memory_order_relaxed);
	while (pk->parked < pk->active)
		pthread_cond_wait(&pk->cv, &pk->mu);
	pk->sessions++;
	pthread_mutex_unlock(&pk->mu);
}

static void unpark_all(struct park *pk)
{
	pthread_mutex_lock(&pk->mu);
	atomic_store_explicit(&pk->want, false, memory_order_relaxed);
	pthread_cond_broadcast(&pk->cv);
	pthread_mutex_unlock(&pk->mu);
}

struct worker {
	struct kfx *fx;
	struct kmem_cache *c;
	unsigned cpu;
	unsigned ops;
	uint64_t seed;
	int failures;
	atomic_uint *running;
	struct park *park;
};

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	enum { HOLD = 64 };
	struct stamped *held[HOLD];
	uint64_t val[HOLD];
	unsigned n = 0;
	sim_cpu_bind(w->fx->s.machine, w->cpu);
	for (unsigned i = 0; i < w->ops; i++) {
		if (i % 64 == 0)
			park_point(w->park);
		uint64_t r = kfx_rand(&w->seed);
		/* Bursts: fill up to HOLD, then drain, so magazines go back
		 * and forth through the depot. */
		bool fill = (i / 200) % 2 == 0;
		if (n < HOLD && (n == 0 || (fill ? r % 4 != 0 : r % 4 == 0))) {
			struct stamped *o = kmem_cache_alloc(w->c);
			if (!o) {
				w->failures++;
				continue;
			}
			val[n] = ((uint64_t)w->cpu << 48) | i;
			stamp(o, val[n]);
			held[n++] = o;
		} else {
			unsigned k = (unsigned)(r >> 8) % n;
			if (!intact(held[k], val[k]))
				w->failures++;
			if (kmem_cache_free(w->c, held[k]) != 0)
				w->failures++;
			held[k] = held[--n];
			val[k] = val[n];
		}
	}
	while (n)
		if (kmem_cache_free(w->c, held[--n]) != 0)
			w->failures++;
	atomic_fetch_sub(w->running, 1);
	sim_cpu_unbind();
	park_leave(w->park);
	return NULL;
}

static void reclaim_race_case(struct kfx *fx, unsigned flags, unsigned ops)
{
	struct kmem_cache c;
	atomic_uint running = NCPUS - 1;
	struct park pk;
	pthread_mutex_init(&pk.mu, NULL);
	pthread_cond_init(&pk.cv, NULL);
	atomic_init(&pk.want, false);
	pk.parked = pk.sessions = 0;
	pk.active = NCPUS - 1;
	kfx_create(fx, &c, "reap-race", sizeof(struct stamped), 8, NULL, NULL, NULL, flags);
	struct worker w[NCPUS - 1];
	pthread_t t[NCPUS - 1];
	for (unsigned i = 0; i < NCPUS - 1; i++) {
		w[i] = (struct worker){ fx, &c, i + 1, ops, 0x1234567ull * (i + 1), 0, &running, &pk };
		pthread_create(&t[i], NULL, worker_thread, &w[i]);
	}
	/* This thread is CPU 0: the reclaimer. */
	unsigned rounds = 0;
	size_t reaped = 0;
	while (atomic_load(&running)) {
		switch (rounds++ % 6) {
		case 0:
			reaped += kmem_cache_reap(&c);
			break;
		case 1:
			kmem_cache_update(&c);
			break;
		case 2: /* pretend contention: a resize drains every CPU */
			hal_spin_lock(&c.depot.lock);
			c.depot.contention += KMEM_DEPOT_CONTENTION + 1;
			hal_spin_unlock(&c.depot.lock);
			kmem_cache_update(&c);
			break;
		case 3: /* drain and check need the other CPUs out of c: park them */
			if (rounds % 24 == 4) {
				park_all(&pk);
				reaped += kmem_cache_drain(&c);
				kfx_check(&c);
				struct kmem_stats st;
				kmem_cache_stats(&c, &st);
				assert_int_equal(st.objs_out, st.live); /* no magazine holds a round */
				unpark_all(&pk);
			}
			break;
		default: {
			struct kmem_stats st;
			kmem_cache_stats(&c, &st);
			break;
		}
		}
		/* A free and an alloc of our own in between. */
		void *p = kmem_cache_alloc(&c);
		assert_non_null(p);
		assert_int_equal(kmem_cache_free(&c, p), 0);
	}
	for (unsigned i = 0; i < NCPUS - 1; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	kfx_check(&c);
	struct kmem_stats st;
	kmem_cache_stats(&c, &st);
	assert_int_equal(st.live, 0);
	assert_true((flags & KMEM_NOMAGAZINE) ? st.mag_resizes == 0 : st.mag_resizes >= 1);
	char line[512];
	kmem_stats_format(&st, line, sizeof(line));
	printf("%s\n(%u reclaimer rounds, %u with the workers parked, %zu frames reaped)\n", line, rounds,
	       pk.sessions, reaped);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(kfx_free_frames(fx), fx->s.boot_free_frames);
	assert_int_equal(fx->nreports, 0);
	pthread_mutex_destroy(&pk.mu);
	pthread_cond_destroy(&pk.cv);
}

static void test_mt_reclaim_races_allocation(void **state)
{
	reclaim_race_case(*state, 0, 60000);
	reclaim_race_case(*state, KMEM_DEBUG_ALL, 15000);
	reclaim_race_case(*state, KMEM_NOMAGAZINE, 15000);
}

/* ---- contention ---- */

struct burst {
	struct kfx *fx;
	struct kmem_cache *c;
	unsigned cpu, rounds;
	int failures;
	atomic_uint *running;
};

static void *burst_thread(void *arg)
{
	struct burst *b = arg;
	void *v[64];
	sim_cpu_bind(b->fx->s.machine, b->cpu);
	for (unsigned r = 0; r < b->rounds; r++) {
		for (int i = 0; i < 64; i++)
			if (!(v[i] = kmem_cache_alloc(b->c)))
				b->failures++;
		for (int i = 0; i < 64; i++)
			if (v[i] && kmem_cache_free(b->c, v[i]) != 0)
				b->failures++;
	}
	atomic_fetch_sub(b->running, 1);
	sim_cpu_unbind();
	return NULL;
}

static void test_mt_contention_and_updates(void **state)
{
	struct kfx *fx = *state;
	struct kmem_cache c;
	atomic_uint running = NCPUS - 1;
	kfx_create(fx, &c, "contended", 32, 8, NULL, NULL, NULL, 0);
	struct burst b[NCPUS - 1];
	pthread_t t[NCPUS - 1];
	for (unsigned i = 0; i < NCPUS - 1; i++) {
		b[i] = (struct burst){ fx, &c, i + 1, 3000, 0, &running };
		pthread_create(&t[i], NULL, burst_thread, &b[i]);
	}
	while (atomic_load(&running)) {
		kmem_cache_update(&c);
		sched_yield();
	}
	for (unsigned i = 0; i < NCPUS - 1; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(b[i].failures, 0);
	}
	kfx_check(&c);
	struct kmem_stats st;
	kmem_cache_stats(&c, &st);
	printf("depot contention %llu, magazine size %llu after %llu resizes\n",
	       (unsigned long long)st.depot_contention, (unsigned long long)st.mag_size,
	       (unsigned long long)st.mag_resizes);
	assert_int_equal(st.live, 0);
	assert_true(st.mag_size >= 14);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(fx->nreports, 0);
}

/* ---- lazy resize ---- */

static void churn(struct kmem_cache *c, unsigned n)
{
	void *v[300];
	assert_true(n <= 300);
	for (unsigned i = 0; i < n; i++)
		assert_non_null(v[i] = kmem_cache_alloc(c));
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(kmem_cache_free(c, v[i]), 0);
}

static void test_mt_resize_reaches_other_cpus_lazily(void **state)
{
	struct kfx *fx = *state;
	struct hal_machine *m = fx->s.machine;
	struct kmem_cache c;
	struct kmem_stats st;
	kfx_create(fx, &c, "lazy-resize", 64, 8, NULL, NULL, NULL, 0);
	unsigned cls0 = atomic_load(&c.mag_class);
	/* CPUs 1 and 2 load magazines and fill the depot. */
	for (unsigned cpu = 1; cpu <= 2; cpu++) {
		sim_set_current_cpu(m, cpu);
		churn(&c, 100);
		assert_non_null(c.cpu[cpu].loaded);
		assert_int_equal(c.cpu[cpu].loaded->cls, cls0);
	}
	struct kmem_magazine *old1 = c.cpu[1].loaded, *old1p = c.cpu[1].prev;
	uint32_t held1 = kmem_mag_count(old1) + (old1p ? kmem_mag_count(old1p) : 0);
	/* CPU 0 resizes: the depot is flushed, CPUs 1 and 2 are not touched. */
	sim_set_current_cpu(m, 0);
	c.depot.contention = KMEM_DEPOT_CONTENTION + 1;
	kmem_cache_update(&c);
	kfx_check(&c);
	kmem_cache_stats(&c, &st);
	assert_int_equal(atomic_load(&c.mag_class), cls0 + 1);
	assert_int_equal(st.depot_full + st.depot_empty, 0);
	assert_ptr_equal(c.cpu[1].loaded, old1);
	assert_ptr_equal(c.cpu[1].prev, old1p);
	assert_true(st.in_magazines >= held1);
	assert_true(held1 > 0);
	/* Pairs on CPU 1 stay on its old loaded magazine: nothing to retire. */
	sim_set_current_cpu(m, 1);
	for (int i = 0; i < 10; i++) {
		void *p = kmem_cache_alloc(&c);
		assert_non_null(p);
		assert_int_equal(kmem_cache_free(&c, p), 0);
	}
	assert_ptr_equal(c.cpu[1].loaded, old1);
	/* Bursts past a magazine send CPU 1 to the depot: its old magazines
	 * are retired as they leave it, the new size is loaded, and the depot
	 * only ever sees new ones (kfx_check). */
	churn(&c, 200);
	kfx_check(&c);
	assert_int_equal(c.cpu[1].loaded->cls, cls0 + 1);
	assert_true(c.cpu[1].prev == NULL || c.cpu[1].prev->cls == cls0 + 1);
	/* CPU 2 did nothing yet: still the old size. */
	assert_int_equal(c.cpu[2].loaded->cls, cls0);
	sim_set_current_cpu(m, 2);
	churn(&c, 200);
	kfx_check(&c);
	assert_int_equal(c.cpu[2].loaded->cls, cls0 + 1);
	kmem_cache_stats(&c, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.mag_size, kmem_mag_rounds(cls0 + 1));
	sim_set_current_cpu(m, 0);
	/* Drain empties every CPU (nobody else is inside a call on c). */
	kmem_cache_drain(&c);
	kmem_cache_stats(&c, &st);
	assert_int_equal(st.in_magazines, 0);
	assert_int_equal(st.slabs, 0);
	assert_int_equal(kmem_cache_destroy(&c), 0);
	assert_int_equal(fx->nreports, 0);
}

/* ---- the pinning contract ---- */

struct pinner {
	struct hal_machine *m;
	unsigned cpu;
	unsigned got[3];
};

static void *pinner_thread(void *arg)
{
	struct pinner *p = arg;
	sim_cpu_bind(p->m, p->cpu);
	p->got[0] = hal_cpu_pin(p->m);
	p->got[1] = hal_cpu_pin(p->m); /* nests */
	hal_cpu_unpin(p->m);
	p->got[2] = hal_cpu_id(p->m);
	hal_cpu_unpin(p->m);
	sim_cpu_unbind();
	return NULL;
}

#ifndef NDEBUG
/* The child of a death test: a thread pins CPU 1 and stays pinned; this
 * thread binds to CPU 1 too and pins: the sim must panic (abort). */
struct squatter {
	struct hal_machine *m;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool pinned;
};

static void *squatter_thread(void *arg)
{
	struct squatter *q = arg;
	sim_cpu_bind(q->m, 1);
	hal_cpu_pin(q->m);
	pthread_mutex_lock(&q->mu);
	q->pinned = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (;;)
		pause();
	return NULL;
}

static _Noreturn void two_threads_one_cpu(void)
{
	static struct squatter q;
	pthread_t t;
	q.m = sim_machine_create((uint64_t)1 << 20, 2);
	if (!q.m)
		_exit(2);
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.cv, NULL);
	if (pthread_create(&t, NULL, squatter_thread, &q) != 0)
		_exit(2);
	pthread_mutex_lock(&q.mu);
	while (!q.pinned)
		pthread_cond_wait(&q.cv, &q.mu);
	pthread_mutex_unlock(&q.mu);
	sim_cpu_bind(q.m, 1);
	hal_cpu_pin(q.m); /* must not return */
	_exit(0);
}
#endif

static void test_mt_pin_contract(void **state)
{
	struct kfx *fx = *state;
	struct hal_machine *m = fx->s.machine;
	/* Unbound: the machine's current CPU. */
	sim_set_current_cpu(m, 2);
	assert_int_equal(hal_cpu_pin(m), 2);
	hal_cpu_unpin(m);
	sim_set_current_cpu(m, 0);
	/* Bound threads: their own CPU, pins nest. */
	struct pinner p[NCPUS - 1];
	pthread_t t[NCPUS - 1];
	for (unsigned i = 0; i < NCPUS - 1; i++) {
		p[i] = (struct pinner){ m, i + 1, { 0, 0, 0 } };
		assert_int_equal(pthread_create(&t[i], NULL, pinner_thread, &p[i]), 0);
	}
	for (unsigned i = 0; i < NCPUS - 1; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		for (unsigned k = 0; k < 3; k++)
			assert_int_equal(p[i].got[k], i + 1);
	}
#ifndef NDEBUG
	/* Debug builds: a second thread pinning a pinned CPU panics. */
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The panic message is expected; keep the test log quiet. */
		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		two_threads_one_cpu();
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mt_cross_cpu_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mt_destroy_drains_other_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mt_reclaim_races_allocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mt_contention_and_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mt_resize_reaches_other_cpus_lazily, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mt_pin_contract, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
