/*
 * kmem/kmem_debug.c - the slab allocator's debugging aids (Bonwick 1994,
 * section 5; the buffer tag, red zone and "deadbeef" poisoning of illumos
 * kmem), and the reports that name the cache and the slab.
 *
 * Buffer layout of a debug cache (offsets from the object's start):
 *
 *   [0, size)                 the object
 *   [size, tag_off + 8)       red zone (KMEM_DEBUG_REDZONE): pattern bytes,
 *                             the alignment padding included
 *   [state_off, +8)           state word: ALLOC or FREE, each xor the
 *                             object's address, so a copied or stale word
 *                             does not pass for a valid one
 *   ... padding to align
 *
 * The state word changes with an atomic compare-and-swap, so two racing
 * frees of one object still make exactly one succeed.  A free object of a
 * KMEM_DEBUG_POISON cache holds KMEM_POISON_PATTERN in [0, size), checked
 * when it is handed out again: a write after free is found on reuse.
 */
#include "lib/mem.h"
#include "slab_internal.h"

#define KMEM_TAG_ALLOC 0xa110ca7eda110ca7ull
#define KMEM_TAG_FREE 0xf4eeb0ffe4f4eeb0ull

uint64_t kmem_tag_value(const void *obj, bool free)
{
	return (free ? KMEM_TAG_FREE : KMEM_TAG_ALLOC) ^ (uint64_t)(uintptr_t)obj;
}

static uint64_t *state_word(const struct kmem_cache *c, void *obj)
{
	return (uint64_t *)(void *)((char *)obj + c->state_off);
}

static unsigned char pattern_byte(uint64_t pattern, size_t off)
{
	return (unsigned char)(pattern >> (8 * (off & 7)));
}

/* Fill [from, to) of obj with pattern (by offset from obj, which is 8-aligned). */
static void fill(void *obj, size_t from, size_t to, uint64_t pattern)
{
	unsigned char *b = obj;
	size_t k = from;
	for (; k < to && (k & 7); k++)
		b[k] = pattern_byte(pattern, k);
	for (; k + 8 <= to; k += 8)
		*(uint64_t *)(void *)(b + k) = pattern;
	for (; k < to; k++)
		b[k] = pattern_byte(pattern, k);
}

/* First offset in [from, to) that differs from pattern, or to. */
static size_t verify(const void *obj, size_t from, size_t to, uint64_t pattern)
{
	const unsigned char *b = obj;
	size_t k = from;
	for (; k < to && (k & 7); k++)
		if (b[k] != pattern_byte(pattern, k))
			return k;
	for (; k + 8 <= to; k += 8)
		if (*(const uint64_t *)(const void *)(b + k) != pattern)
			break;
	for (; k < to; k++)
		if (b[k] != pattern_byte(pattern, k))
			return k;
	return to;
}

static size_t redzone_end(const struct kmem_cache *c) { return c->tag_off + 8; }

void kmem_debug_init_object(struct kmem_cache *c, void *obj)
{
	if (c->flags & KMEM_DEBUG_POISON)
		fill(obj, 0, c->size, KMEM_POISON_PATTERN);
	if (c->flags & KMEM_DEBUG_REDZONE)
		fill(obj, c->size, redzone_end(c), KMEM_REDZONE_PATTERN);
	*state_word(c, obj) = kmem_tag_value(obj, true);
}

static const struct kmem_slab *slab_of_trusted(const struct kmem_cache *c, const void *obj)
{
	struct kmem_slab *s;
	unsigned i;
	return kmem_slab_locate(c, obj, &s, &i) == 0 ? s : NULL;
}

static void check_redzone(struct kmem_cache *c, const struct kmem_slab *s, void *obj)
{
	if (!(c->flags & KMEM_DEBUG_REDZONE))
		return;
	size_t bad = verify(obj, c->size, redzone_end(c), KMEM_REDZONE_PATTERN);
	if (bad == redzone_end(c))
		return;
	kmem_report(c, KMEM_ERR_REDZONE, s, obj, bad, NULL);
	fill(obj, c->size, redzone_end(c), KMEM_REDZONE_PATTERN);
}

int kmem_debug_free(struct kmem_cache *c, struct kmem_slab *s, unsigned i, void *obj)
{
	(void)i;
	uint64_t expect = kmem_tag_value(obj, false);
	if (!__atomic_compare_exchange_n(state_word(c, obj), &expect, kmem_tag_value(obj, true), false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		bool twice = expect == kmem_tag_value(obj, true);
		kmem_report(c, twice ? KMEM_ERR_DOUBLE_FREE : KMEM_ERR_TAG, s, obj, c->state_off, NULL);
		return twice ? -MMK_EALREADY : -MMK_EINVAL;
	}
	check_redzone(c, s, obj);
	if (c->flags & KMEM_DEBUG_POISON) {
		if (c->dtor)
			c->dtor(obj, c->arg);
		fill(obj, 0, c->size, KMEM_POISON_PATTERN);
	}
	return 0;
}

int kmem_debug_alloc(struct kmem_cache *c, void *obj)
{
	const struct kmem_slab *s = NULL;
	uint64_t expect = kmem_tag_value(obj, true);
	if (!__atomic_compare_exchange_n(state_word(c, obj), &expect, kmem_tag_value(obj, false), false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		s = slab_of_trusted(c, obj);
		kmem_report(c, KMEM_ERR_TAG, s, obj, c->state_off, NULL);
		__atomic_store_n(state_word(c, obj), kmem_tag_value(obj, false), __ATOMIC_RELEASE);
	}
	if (c->flags & KMEM_DEBUG_POISON) {
		size_t bad = verify(obj, 0, c->size, KMEM_POISON_PATTERN);
		if (bad != c->size) {
			if (!s)
				s = slab_of_trusted(c, obj);
			kmem_report(c, KMEM_ERR_POISON, s, obj, bad, NULL);
		}
	}
	if ((c->flags & KMEM_DEBUG_REDZONE) && verify(obj, c->size, redzone_end(c), KMEM_REDZONE_PATTERN) != redzone_end(c))
		check_redzone(c, s ? s : slab_of_trusted(c, obj), obj);
	if (c->flags & KMEM_DEBUG_POISON) {
		if (c->ctor) {
			int rc = c->ctor(obj, c->arg);
			if (rc) {
				fill(obj, 0, c->size, KMEM_POISON_PATTERN);
				__atomic_store_n(state_word(c, obj), kmem_tag_value(obj, true), __ATOMIC_RELEASE);
				return rc;
			}
		} else if (!(c->flags & KMEM_ZERO)) {
			fill(obj, 0, c->size, KMEM_UNINIT_PATTERN);
		}
	}
	return 0;
}

const char *kmem_debug_verify(struct kmem_cache *c, void *obj, bool free)
{
	if (__atomic_load_n(state_word(c, obj), __ATOMIC_ACQUIRE) != kmem_tag_value(obj, free))
		return free ? "kmem: free object's tag does not say free" : "kmem: live object's tag does not say allocated";
	if ((c->flags & KMEM_DEBUG_REDZONE) && verify(obj, c->size, redzone_end(c), KMEM_REDZONE_PATTERN) != redzone_end(c))
		return "kmem: red zone overwritten";
	if (free && (c->flags & KMEM_DEBUG_POISON) && verify(obj, 0, c->size, KMEM_POISON_PATTERN) != c->size)
		return "kmem: free object written after free (poison broken)";
	return NULL;
}

/* ---- reports ---- */

void kmem_report(struct kmem_cache *c, enum kmem_error kind, const struct kmem_slab *s, const void *obj,
		 size_t offset, const char *other_cache)
{
	char line[256];
	struct mmk_fmt f = { line, sizeof(line), 0 };
	mmk_fmt_str(&f, "kmem: cache ");
	mmk_fmt_str(&f, c->name);
	mmk_fmt_str(&f, ": ");
	switch (kind) {
	case KMEM_ERR_FOREIGN:
		mmk_fmt_str(&f, "free of ");
		mmk_fmt_hex(&f, (uintptr_t)obj);
		mmk_fmt_str(&f, ", which lies in no slab");
		break;
	case KMEM_ERR_WRONG_CACHE:
		mmk_fmt_str(&f, "free of ");
		mmk_fmt_hex(&f, (uintptr_t)obj);
		mmk_fmt_str(&f, ", an object of cache ");
		mmk_fmt_str(&f, other_cache);
		break;
	case KMEM_ERR_INTERIOR:
		mmk_fmt_str(&f, "free of ");
		mmk_fmt_hex(&f, (uintptr_t)obj);
		mmk_fmt_str(&f, ", not the start of an object");
		break;
	case KMEM_ERR_DOUBLE_FREE:
		mmk_fmt_str(&f, "double free of ");
		mmk_fmt_hex(&f, (uintptr_t)obj);
		break;
	case KMEM_ERR_TAG:
		mmk_fmt_str(&f, "buffer tag of ");
		mmk_fmt_hex(&f, (uintptr_t)obj);
		mmk_fmt_str(&f, " corrupt");
		break;
	case KMEM_ERR_REDZONE:
		mmk_fmt_str(&f, "red zone of ");
		mmk_fmt_hex(&f, (uintptr_t)obj);
		mmk_fmt_str(&f, " overwritten at byte ");
		mmk_fmt_dec(&f, offset);
		break;
	case KMEM_ERR_POISON:
		mmk_fmt_str(&f, "free object ");
		mmk_fmt_hex(&f, (uintptr_t)obj);
		mmk_fmt_str(&f, " written after free at byte ");
		mmk_fmt_dec(&f, offset);
		break;
	}
	mmk_fmt_str(&f, " (slab ");
	if (s)
		mmk_fmt_hex(&f, (uintptr_t)s);
	else
		mmk_fmt_str(&f, "none");
	mmk_fmt_str(&f, ")");
	int n = mmk_fmt_end(&f);
	size_t len = n < 0 ? sizeof(line) - 1 : (size_t)n;

	atomic_fetch_add_explicit(&c->errors, 1, memory_order_relaxed);
	struct kmem_report r = { kind, c->name, other_cache, s, obj, offset, line };
	if (c->report) {
		c->report(c->report_arg, &r);
	} else {
		if (len > sizeof(line) - 2)
			len = sizeof(line) - 2;
		line[len] = '\n';
		hal_console_write(c->phys->machine, line, len + 1);
	}
}
