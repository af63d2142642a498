/*
 * machine.c - the simulated machine: RAM, CPUs, and the hal.h functions.
 *
 * RAM is one private anonymous mapping with MAP_NORESERVE: the host hands
 * out zero pages on first touch, so a large simulated RAM that a test barely
 * uses costs almost nothing.  The direct map is simply ram + pa.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim_impl.h"

/* The host thread's CPU binding (sim_cpu_bind); with the pinning state
 * below, the only global state, and per-thread, so two machines never see
 * each other. */
static _Thread_local struct hal_machine *bound_machine;
static _Thread_local unsigned bound_cpu;

/*
 * CPU pinning (hal_cpu_pin).  Each simulated CPU is driven by one host
 * thread at a time, so a pin only names the CPU.  Debug builds check that
 * promise: the machine's allocation carries, after its cpu[] array, one
 * owner word per CPU naming the thread pinned to it (the address of that
 * thread's pin_self), and a second thread pinning the same CPU, an unpin
 * without a pin or a change of CPU while pinned is a panic.  The hand-over
 * of the owner word (acquire on pin, release on unpin) is what a context
 * switch gives a real CPU: whatever one thread did on the CPU happens
 * before what the next one does there.
 */
struct sim_pin {
	_Atomic(const void *) owner; /* debug builds: the pinned thread, or NULL */
};
_Static_assert(sizeof(struct hal_machine) % _Alignof(struct sim_pin) == 0 &&
		       sizeof(struct sim_cpu) % _Alignof(struct sim_pin) == 0,
	       "the pin table after cpu[] is aligned");

#ifndef NDEBUG
static _Thread_local char pin_self; /* its address names the thread */
static _Thread_local struct hal_machine *pin_machine;
static _Thread_local unsigned pin_cpu, pin_depth;

static struct sim_pin *pin_table(struct hal_machine *m) { return (struct sim_pin *)(void *)&m->cpu[m->ncpus]; }
#endif

static bool ram_size_ok(uint64_t ram_bytes)
{
	return ram_bytes != 0 && mmk_page_aligned(ram_bytes) && ram_bytes < ((uint64_t)1 << 52) &&
	       ram_bytes <= (uint64_t)SIZE_MAX;
}

static void cpu_init(struct sim_cpu *c)
{
	memset(c, 0, sizeof(*c));
	hal_spin_init(&c->lock);
}

struct hal_machine *sim_machine_create(uint64_t ram_bytes, unsigned ncpus)
{
	if (!ram_size_ok(ram_bytes) || ncpus == 0 || ncpus > SIM_MAX_CPUS)
		return NULL;
	struct hal_machine *m = calloc(1, sizeof(*m) + ncpus * (sizeof(struct sim_cpu) + sizeof(struct sim_pin)));
	if (!m)
		return NULL;
	void *ram = mmap(NULL, (size_t)ram_bytes, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED) {
		free(m);
		return NULL;
	}
	m->ram = ram;
	m->ram_bytes = ram_bytes;
	m->ncpus = ncpus;
	atomic_init(&m->current_cpu, 0u);
	atomic_init(&m->fault, (sim_fault_fn)NULL);
	for (unsigned i = 0; i < ncpus; i++)
		cpu_init(&m->cpu[i]);
#ifndef NDEBUG
	for (unsigned i = 0; i < ncpus; i++)
		atomic_init(&pin_table(m)[i].owner, NULL);
#endif
	return m;
}

void sim_machine_destroy(struct hal_machine *m)
{
	if (!m)
		return;
	if (bound_machine == m)
		bound_machine = NULL;
	munmap(m->ram, (size_t)m->ram_bytes);
	free(m);
}

uint64_t sim_ram_bytes(struct hal_machine *m) { return m->ram_bytes; }

void sim_set_current_cpu(struct hal_machine *m, unsigned cpu)
{
	if (cpu >= m->ncpus)
		hal_panic(m, "sim_set_current_cpu: no such cpu");
	atomic_store(&m->current_cpu, cpu);
}

void sim_cpu_bind(struct hal_machine *m, unsigned cpu)
{
	if (cpu >= m->ncpus)
		hal_panic(m, "sim_cpu_bind: no such cpu");
#ifndef NDEBUG
	if (pin_depth)
		hal_panic(m, "sim_cpu_bind: the thread is pinned to a CPU");
#endif
	bound_machine = m;
	bound_cpu = cpu;
}

void sim_cpu_unbind(void)
{
#ifndef NDEBUG
	if (pin_depth)
		hal_panic(pin_machine, "sim_cpu_unbind: the thread is pinned to a CPU");
#endif
	bound_machine = NULL;
}

struct sim_binding sim_cpu_bind_swap(struct hal_machine *m, unsigned cpu)
{
	struct sim_binding old = { bound_machine, bound_cpu };
	bound_machine = m;
	bound_cpu = cpu;
	return old;
}

void sim_cpu_bind_restore(struct sim_binding b)
{
	bound_machine = b.m;
	bound_cpu = b.cpu;
}

void sim_set_fault_handler(struct hal_machine *m, sim_fault_fn fn) { atomic_store(&m->fault, fn); }

/* ---- statistics ---- */

static void stats_add(struct sim_stats *acc, const struct sim_stats *s)
{
	acc->tlb_hits += s->tlb_hits;
	acc->tlb_misses += s->tlb_misses;
	acc->walks += s->walks;
	acc->faults += s->faults;
	acc->invalidations += s->invalidations;
	acc->flushes += s->flushes;
	acc->shootdowns += s->shootdowns;
}

void sim_get_cpu_stats(struct hal_machine *m, unsigned cpu, struct sim_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (cpu >= m->ncpus)
		return;
	struct sim_cpu *c = &m->cpu[cpu];
	hal_spin_lock(&c->lock);
	*out = c->stats;
	hal_spin_unlock(&c->lock);
}

void sim_get_stats(struct hal_machine *m, struct sim_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < m->ncpus; i++) {
		struct sim_stats s;
		sim_get_cpu_stats(m, i, &s);
		stats_add(out, &s);
	}
}

void sim_reset_stats(struct hal_machine *m)
{
	for (unsigned i = 0; i < m->ncpus; i++) {
		struct sim_cpu *c = &m->cpu[i];
		hal_spin_lock(&c->lock);
		memset(&c->stats, 0, sizeof(c->stats));
		hal_spin_unlock(&c->lock);
	}
}

struct pmap *sim_current_pmap(struct hal_machine *m, unsigned cpu)
{
	if (cpu >= m->ncpus)
		return NULL;
	struct sim_cpu *c = &m->cpu[cpu];
	hal_spin_lock(&c->lock);
	struct pmap *pm = c->cur;
	hal_spin_unlock(&c->lock);
	return pm;
}

/* ---- hal.h ---- */

void *hal_phys_map(struct hal_machine *m, paddr_t pa)
{
	/* pa == ram_bytes is allowed: the end pointer of the direct map. */
	if (pa > m->ram_bytes)
		hal_panic(m, "hal_phys_map: address outside RAM");
	return m->ram + pa;
}

paddr_t hal_phys_unmap(struct hal_machine *m, const void *p)
{
	const uint8_t *b = p;
	if (b < m->ram || b > m->ram + m->ram_bytes)
		hal_panic(m, "hal_phys_unmap: pointer outside the direct map");
	return (paddr_t)(b - m->ram);
}

unsigned hal_cpu_count(struct hal_machine *m) { return m->ncpus; }

unsigned hal_cpu_id(struct hal_machine *m)
{
	if (bound_machine == m)
		return bound_cpu;
	return atomic_load(&m->current_cpu);
}

unsigned hal_cpu_pin(struct hal_machine *m)
{
	unsigned id = hal_cpu_id(m);
#ifndef NDEBUG
	if (pin_depth == 0) {
		const void *none = NULL;
		if (!atomic_compare_exchange_strong_explicit(&pin_table(m)[id].owner, &none, (const void *)&pin_self,
							     memory_order_acquire, memory_order_relaxed))
			hal_panic(m, "hal_cpu_pin: two host threads act as one CPU at once");
		pin_machine = m;
		pin_cpu = id;
	} else if (pin_machine != m || pin_cpu != id) {
		hal_panic(m, "hal_cpu_pin: nested pin on another CPU");
	}
	pin_depth++;
#endif
	return id;
}

void hal_cpu_unpin(struct hal_machine *m)
{
#ifndef NDEBUG
	if (pin_depth == 0 || pin_machine != m)
		hal_panic(m, "hal_cpu_unpin: not pinned");
	if (hal_cpu_id(m) != pin_cpu)
		hal_panic(m, "hal_cpu_unpin: the CPU changed while pinned");
	if (--pin_depth == 0) {
		pin_machine = NULL;
		atomic_store_explicit(&pin_table(m)[pin_cpu].owner, NULL, memory_order_release);
	}
#else
	(void)m;
#endif
}

bool hal_cpu_unpin_needed(struct hal_machine *m)
{
	(void)m;
#ifndef NDEBUG
	return true; /* the checks above */
#else
	return false;
#endif
}

void hal_console_write(struct hal_machine *m, const char *s, size_t len)
{
	(void)m;
	fwrite(s, 1, len, stderr);
}

_Noreturn void hal_panic(struct hal_machine *m, const char *msg)
{
	(void)m;
	fprintf(stderr, "mmk panic: %s\n", msg);
	fflush(stderr);
	abort();
}
