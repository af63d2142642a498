/*
 * test_elf: the ELF64 executable parser (mmk/elf.h) and execve through a
 * memory-pager object (vm_object_create_memory + vm_exec_layout).
 *
 * Images are built here from a description (file header, program headers,
 * file length; the bytes between are a non-zero pattern, as code and
 * symbol tables are) into a heap buffer of exactly the file's length, so
 * AddressSanitizer catches any read past the end.  Checked: a valid image's
 * segments, entry and heap start; every refusal with its exact error and
 * the output untouched; the limits on both sides; every truncation; random
 * byte flips and random field values (never a crash, only 0, ENOEXEC or
 * EINVAL, and every accepted result passes elf_exec_check); then the whole
 * load in the simulated MMU: the file's bytes in text, rodata and data,
 * zeroes in the bss (the head of the last file page too), writes to text
 * and rodata refused, one frame for the text of two spaces, write-back
 * refused with EROFS, overlaps refused with EEXIST, and an allocation-
 * failure sweep over the load with a leak baseline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmk/elf.h>
#include <mmk/errno.h>

#include "vm_fixture.h"

#define MAX_PH 80
#define PT_NOTE 4u
#define PT_GNU_STACK 0x6474e551u
#define RX (ELF_PF_R | ELF_PF_X)
#define RW (ELF_PF_R | ELF_PF_W)

/* ---- building images ---- */

struct desc {
	struct elf64_ehdr h;
	struct elf64_phdr ph[MAX_PH]; /* written at h.phoff, nph of them (h.phnum may say otherwise) */
	unsigned nph;
	uint64_t len; /* file bytes */
};

static struct elf64_phdr load(uint32_t flags, uint64_t offset, uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	return (struct elf64_phdr){ ELF_PT_LOAD, flags, offset, vaddr, vaddr, filesz, memsz, 0x1000 };
}

/* Text (with the headers) R+X, rodata R, data R+W with a bss running past
 * its file page, a PT_GNU_STACK and an empty PT_LOAD; 0x1e0 bytes of
 * "symbol table" after the data. */
static struct desc valid_desc(void)
{
	struct desc d;
	memset(&d, 0, sizeof(d));
	memcpy(d.h.ident, "\177ELF", 4);
	d.h.ident[4] = ELF_CLASS64;
	d.h.ident[5] = ELF_DATA_LSB;
	d.h.ident[6] = ELF_VERSION_CURRENT;
	d.h.type = ELF_TYPE_EXEC;
	d.h.machine = ELF_MACHINE_X86_64;
	d.h.version = ELF_VERSION_CURRENT;
	d.h.entry = 0x400100;
	d.h.phoff = ELF_EHDR_BYTES;
	d.h.ehsize = ELF_EHDR_BYTES;
	d.h.phentsize = ELF_PHDR_BYTES;
	d.ph[0] = load(RX, 0, 0x400000, 0x1234, 0x1234);
	d.ph[1] = load(ELF_PF_R, 0x2000, 0x402000, 0x300, 0x300);
	d.ph[2] = load(RW, 0x2300, 0x403300, 0x120, 0x2000);
	d.ph[3] = (struct elf64_phdr){ .type = PT_GNU_STACK, .flags = RW, .align = 16 };
	d.ph[4] = load(ELF_PF_R, 0, 0x500000, 0, 0);
	d.nph = 5;
	d.h.phnum = 5;
	d.len = 0x2600;
	return d;
}

/* v's n low bytes, little-endian, at b[off]; what falls past len is cut. */
static void put(uint8_t *b, uint64_t len, uint64_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		if (off + i < len)
			b[off + i] = (uint8_t)v;
}

static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 7 + 3) | 1; }

/* The file bytes of d, in a heap buffer of exactly d->len bytes. */
static uint8_t *encode(const struct desc *d)
{
	uint8_t *b = malloc(d->len ? d->len : 1);
	assert_non_null(b);
	for (uint64_t i = 0; i < d->len; i++)
		b[i] = pattern(i);
	const struct elf64_ehdr *h = &d->h;
	for (unsigned i = 0; i < 16; i++)
		put(b, d->len, i, h->ident[i], 1);
	/* The fields after e_ident, at their offsets, with their widths. */
	const uint64_t ehdr[] = { h->type, h->machine, h->version, h->entry, h->phoff, h->shoff, h->flags,
				  h->ehsize, h->phentsize, h->phnum, h->shentsize, h->shnum, h->shstrndx };
	const unsigned ehdr_bytes[] = { 2, 2, 4, 8, 8, 8, 4, 2, 2, 2, 2, 2, 2 };
	for (unsigned f = 0, at = 16; f < 13; at += ehdr_bytes[f++])
		put(b, d->len, at, ehdr[f], ehdr_bytes[f]);
	for (unsigned k = 0; k < d->nph; k++) {
		const struct elf64_phdr *p = &d->ph[k];
		const uint64_t phdr[] = { p->type, p->flags, p->offset, p->vaddr, p->paddr, p->filesz, p->memsz, p->align };
		if (h->phoff > d->len || (uint64_t)k * ELF_PHDR_BYTES > d->len - h->phoff)
			break; /* starts past the end of the file (so no sum below wraps) */
		uint64_t at = h->phoff + (uint64_t)k * ELF_PHDR_BYTES;
		for (unsigned f = 0; f < 8; at += f < 2 ? 4 : 8, f++)
			put(b, d->len, at, phdr[f], f < 2 ? 4 : 8);
	}
	return b;
}

static int parse(const struct desc *d, struct elf_exec *out)
{
	uint8_t *b = encode(d);
	int rc = elf_parse_exec(b, d->len, out);
	free(b);
	return rc;
}

/* d must be refused with exactly `expected`, and the output untouched. */
static void expect_refusal(const struct desc *d, int expected, const char *what)
{
	struct elf_exec out, untouched;
	memset(&out, 0xa5, sizeof(out));
	memcpy(&untouched, &out, sizeof(out));
	int rc = parse(d, &out);
	if (rc != expected)
		fail_msg("%s: returned %d (%s), expected %d (%s)", what, rc, mmk_strerror(rc), expected,
			 mmk_strerror(expected));
	if (memcmp(&out, &untouched, sizeof(out)) != 0)
		fail_msg("%s: refused but wrote the output", what);
}

static void expect_accepted(const struct desc *d, struct elf_exec *out, const char *what)
{
	int rc = parse(d, out);
	if (rc != 0)
		fail_msg("%s: refused with %d (%s)", what, rc, mmk_strerror(rc));
	const char *why = NULL;
	if (elf_exec_check(out, &why) != 0)
		fail_msg("%s: elf_exec_check: %s", what, why);
}

#define REFUSE(mutation, expected)                          \
	do {                                                \
		struct desc d = valid_desc();               \
		mutation;                                   \
		expect_refusal(&d, (expected), #mutation); \
	} while (0)

#define ACCEPT(mutation, out)                           \
	do {                                            \
		struct desc d = valid_desc();           \
		mutation;                               \
		expect_accepted(&d, (out), #mutation); \
	} while (0)

/* ---- the parser ---- */

static void test_parse_valid(void **state)
{
	(void)state;
	struct elf_exec e;
	ACCEPT((void)0, &e);
	assert_int_equal(e.entry, 0x400100);
	assert_int_equal(e.file_bytes, 0x2600);
	assert_int_equal(e.nsegs, 3); /* the empty PT_LOAD and PT_GNU_STACK are left out */
	const struct vm_exec_segment want[] = {
		{ 0x400000, 0, 0x1234, 0x1234, VM_PROT_READ | VM_PROT_EXEC },
		{ 0x402000, 0x2000, 0x300, 0x300, VM_PROT_READ },
		{ 0x403300, 0x2300, 0x120, 0x2000, VM_PROT_READ | VM_PROT_WRITE },
	};
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(e.segs[i].vaddr, want[i].vaddr);
		assert_int_equal(e.segs[i].offset, want[i].offset);
		assert_int_equal(e.segs[i].filesz, want[i].filesz);
		assert_int_equal(e.segs[i].memsz, want[i].memsz);
		assert_int_equal(e.segs[i].prot, want[i].prot);
	}
	assert_int_equal(e.brk_start, 0x406000); /* page above 0x405300 */
	/* A NULL image is refused like an empty one. */
	assert_int_equal(elf_parse_exec(NULL, 0x2600, &e), -MMK_ENOEXEC);
}

static void test_header_refusals(void **state)
{
	(void)state;
	const int NOEXEC = -MMK_ENOEXEC;
	REFUSE(d.len = 0, NOEXEC);
	REFUSE(d.len = ELF_EHDR_BYTES - 1, NOEXEC);
	REFUSE(d.h.ident[0] = 0x7e, NOEXEC);
	REFUSE(d.h.ident[1] = 'e', NOEXEC);
	REFUSE(d.h.ident[3] = 'G', NOEXEC);
	REFUSE(d.h.ident[4] = 1 /* ELFCLASS32 */, NOEXEC);
	REFUSE(d.h.ident[4] = 0, NOEXEC);
	REFUSE(d.h.ident[5] = 2 /* big-endian */, NOEXEC);
	REFUSE(d.h.ident[6] = 0, NOEXEC);
	REFUSE(d.h.version = 2, NOEXEC);
	REFUSE(d.h.ehsize = 52, NOEXEC);
	REFUSE(d.h.type = ELF_TYPE_DYN, NOEXEC);
	REFUSE(d.h.type = 1 /* ET_REL */, NOEXEC);
	REFUSE(d.h.type = 4 /* ET_CORE */, NOEXEC);
	REFUSE(d.h.machine = 3 /* EM_386 */, NOEXEC);
	REFUSE(d.h.machine = 183 /* EM_AARCH64 */, NOEXEC);
	REFUSE(d.h.phentsize = 32, NOEXEC);
	REFUSE(d.h.phentsize = 64, NOEXEC);
	REFUSE(d.h.phnum = 0, NOEXEC);
	REFUSE(d.h.phnum = 74 /* 74 * 56 > 4096 */, NOEXEC);
	REFUSE(d.h.phnum = 0xffff /* PN_XNUM */, NOEXEC);
	REFUSE(d.h.phoff = d.len, NOEXEC);
	REFUSE(d.h.phoff = d.len - 5 * ELF_PHDR_BYTES + 1 /* the table one byte past the end */, NOEXEC);
	REFUSE(d.h.phoff = UINT64_MAX - 10 /* phoff + table wraps */, NOEXEC);
	REFUSE(d.h.phoff = UINT64_MAX, NOEXEC);
	REFUSE((d.h.phoff = 0x2500, d.h.phnum = 5) /* 0x2500 + 280 > 0x2600: the last header cut */, NOEXEC);
}

static void test_segment_refusals(void **state)
{
	(void)state;
	const int NOEXEC = -MMK_ENOEXEC, INVAL = -MMK_EINVAL;
	/* Linux's segment checks: EINVAL */
	REFUSE(d.ph[2].filesz = d.ph[2].memsz + 1, INVAL);
	REFUSE(d.ph[4].filesz = 1 /* an empty PT_LOAD is still checked */, INVAL);
	REFUSE((d.ph[2].vaddr = 0xffff800000003300ull, d.ph[2].paddr = d.ph[2].vaddr), INVAL);
	REFUSE(d.ph[2].vaddr = ELF_USER_END - 0x1000 + 0x300 /* memsz runs past the user half */, INVAL);
	REFUSE(d.ph[2].vaddr = ELF_USER_END + 0x300, INVAL);
	REFUSE(d.ph[2].memsz = UINT64_MAX, INVAL);
	REFUSE(d.ph[2].memsz = UINT64_MAX - 0x403300 + 2 /* vaddr + memsz wraps */, INVAL);
	REFUSE(d.ph[2].offset = 0x2304 /* not congruent with 0x403300 */, INVAL);
	REFUSE(d.ph[0].offset = 0x10, INVAL);
	/* ours and Linux's "not an executable": ENOEXEC */
	REFUSE(d.ph[3].type = ELF_PT_INTERP, NOEXEC);
	REFUSE((d.ph[3] = d.ph[2], d.ph[2].type = ELF_PT_INTERP) /* PT_INTERP is looked for first */, NOEXEC);
	REFUSE(d.ph[2].align = 3, NOEXEC);
	REFUSE(d.ph[2].align = 0x1800, NOEXEC);
	REFUSE(d.ph[2].filesz = d.len - 0x2300 + 1 /* past the end of the file */, NOEXEC);
	REFUSE((d.ph[2].offset = UINT64_MAX - 0xcff /* congruent, far past the end */), NOEXEC);
	REFUSE((d.ph[1].vaddr = 0x401000, d.ph[1].offset = 0x1000) /* shares the text's last page */, NOEXEC);
	REFUSE((d.ph[1].vaddr = 0x3ff000, d.ph[1].offset = 0x1000) /* below the text: out of order */, NOEXEC);
	REFUSE((d.ph[1] = d.ph[0], d.ph[0] = load(ELF_PF_R, 0x2000, 0x402000, 0x300, 0x300)), NOEXEC);
	REFUSE((d.ph[0].type = PT_NOTE, d.ph[1].type = PT_NOTE, d.ph[2].type = PT_NOTE) /* no PT_LOAD */, NOEXEC);
	REFUSE((d.ph[0].memsz = d.ph[0].filesz = 0, d.ph[1].memsz = d.ph[1].filesz = 0,
		d.ph[2].memsz = d.ph[2].filesz = 0) /* no memory at all */,
	       NOEXEC);
	REFUSE(d.h.entry = 0x402010 /* rodata: not executable */, NOEXEC);
	REFUSE(d.h.entry = 0x403300 /* data */, NOEXEC);
	REFUSE(d.h.entry = 0x400000 + 0x1234 /* one past the text's file bytes */, NOEXEC);
	REFUSE(d.h.entry = 0, NOEXEC);
	REFUSE(d.h.entry = UINT64_MAX, NOEXEC);
	/* More than ELF_MAX_LOAD segments with memory. */
	REFUSE(({
		for (unsigned i = 0; i <= ELF_MAX_LOAD; i++)
			d.ph[i] = load(i ? ELF_PF_R : RX, 0, 0x400000 + (uint64_t)i * 0x2000, 0x100, 0x100);
		d.nph = d.h.phnum = ELF_MAX_LOAD + 1;
	}),
	       NOEXEC);
}

static void test_limits_accepted(void **state)
{
	(void)state;
	struct elf_exec e;
	/* Exactly ELF_MAX_LOAD segments, on adjacent pages. */
	ACCEPT(({
		for (unsigned i = 0; i < ELF_MAX_LOAD; i++)
			d.ph[i] = load(i ? RW : RX, 0, 0x400000 + (uint64_t)i * 0x1000, 0x1000, 0x1000);
		d.nph = d.h.phnum = ELF_MAX_LOAD;
		d.len = 0x1000;
	}),
	       &e);
	assert_int_equal(e.nsegs, ELF_MAX_LOAD);
	assert_int_equal(e.brk_start, 0x400000 + ELF_MAX_LOAD * 0x1000);
	/* The largest table (73 headers: 4088 bytes), the rest PT_NULL. */
	ACCEPT((d.nph = d.h.phnum = 73, d.len = 0x2600), &e);
	assert_int_equal(e.nsegs, 3);
	/* A bss ending exactly at the end of the user half. */
	ACCEPT((d.ph[2].vaddr = ELF_USER_END - 0x2000 + 0x300, d.ph[2].memsz = 0x1d00), &e);
	assert_int_equal(e.brk_start, ELF_USER_END);
	/* The entry at the text's last file byte; 2 MiB and no alignment. */
	ACCEPT(d.h.entry = 0x400000 + 0x1233, &e);
	ACCEPT((d.ph[0].align = 0x200000, d.ph[2].align = 0), &e);
	/* A pure-bss segment (no file bytes), and one whose file bytes end the file. */
	ACCEPT((d.ph[2].filesz = 0, d.ph[2].offset = 0x300), &e);
	assert_int_equal(e.segs[2].filesz, 0);
	ACCEPT(d.ph[2].filesz = d.len - 0x2300, &e);
	/* An empty PT_LOAD maps nothing: its offset need not be congruent
	 * (GNU ld writes such a header for a segment no section went into). */
	ACCEPT((d.ph[4].offset = 0x7f4, d.ph[4].vaddr = 0), &e);
	assert_int_equal(e.nsegs, 3);
	/* The table may sit anywhere in the file, even unaligned. */
	ACCEPT(d.h.phoff = 0x2421, &e);
	assert_int_equal(e.nsegs, 3);
}

/* Every prefix of the file shorter than what the headers need is refused;
 * from there on (only the symbol table cut) it is accepted. */
static void test_truncation(void **state)
{
	(void)state;
	struct desc full = valid_desc();
	uint8_t *b = encode(&full);
	const uint64_t needed = 0x2300 + 0x120; /* the data's file bytes end last */
	for (uint64_t len = 0; len <= full.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, b, len);
		struct elf_exec e;
		int rc = elf_parse_exec(copy, len, &e);
		free(copy);
		if (rc != (len >= needed ? 0 : -MMK_ENOEXEC))
			fail_msg("truncated to %llu bytes: %d (%s)", (unsigned long long)len, rc, mmk_strerror(rc));
	}
	free(b);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct fuzz_counts {
	uint64_t accepted, noexec, inval;
};

/* Parse bytes[0, len) from an exact-size copy; only the three outcomes
 * exist, and whatever is accepted passes the checker and stays inside. */
static void fuzz_one(const uint8_t *bytes, uint64_t len, struct fuzz_counts *c)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, bytes, len);
	struct elf_exec e;
	int rc = elf_parse_exec(copy, len, &e);
	free(copy);
	if (rc == -MMK_ENOEXEC) {
		c->noexec++;
		return;
	}
	if (rc == -MMK_EINVAL) {
		c->inval++;
		return;
	}
	assert_int_equal(rc, 0);
	const char *why = NULL;
	if (elf_exec_check(&e, &why) != 0 || e.file_bytes != len)
		fail_msg("an accepted image breaks the checker: %s", why ? why : "file_bytes");
	c->accepted++;
}

static void test_fuzz_byte_flips(void **state)
{
	(void)state;
	struct desc d = valid_desc();
	uint8_t *base = encode(&d);
	uint8_t *work = malloc(d.len);
	struct fuzz_counts c = { 0, 0, 0 };
	const uint64_t headers = ELF_EHDR_BYTES + 5 * ELF_PHDR_BYTES;
	for (unsigned iter = 0; iter < 200000; iter++) {
		memcpy(work, base, d.len);
		unsigned flips = 1 + (unsigned)(rnd() % 4);
		for (unsigned k = 0; k < flips; k++) {
			uint64_t at = (rnd() % 4) ? rnd() % headers : rnd() % d.len;
			work[at] ^= (uint8_t)(1u << (rnd() % 8));
		}
		uint64_t len = (rnd() % 8) ? d.len : rnd() % (d.len + 1);
		fuzz_one(work, len, &c);
	}
	print_message("byte flips: %llu accepted, %llu ENOEXEC, %llu EINVAL\n", (unsigned long long)c.accepted,
		      (unsigned long long)c.noexec, (unsigned long long)c.inval);
	/* Not vacuous: each outcome happened. */
	assert_true(c.accepted > 1000 && c.noexec > 1000 && c.inval > 100);
	free(work);
	free(base);
}

/* Whole fields set to values near the edges (0, 1, a page, the user end,
 * the file length, the top of the range), several at a time. */
static void test_fuzz_fields(void **state)
{
	(void)state;
	const uint64_t edges[] = { 0, 1, 0xfff, 0x1000, 0x1001, 0x2600, 0x25ff, 0x2601, 0x400000, 0x403300,
				   ELF_USER_END - 1, ELF_USER_END, ELF_USER_END + 1, 1ull << 63, UINT64_MAX - 0xfff,
				   UINT64_MAX - 1, UINT64_MAX };
	const unsigned nedges = sizeof(edges) / sizeof(edges[0]);
	struct fuzz_counts c = { 0, 0, 0 };
	for (unsigned iter = 0; iter < 100000; iter++) {
		struct desc d = valid_desc();
		unsigned changes = 1 + (unsigned)(rnd() % 3);
		for (unsigned k = 0; k < changes; k++) {
			uint64_t v = (rnd() % 2) ? edges[rnd() % nedges] : edges[rnd() % nedges] + (rnd() % 0x3000);
			struct elf64_phdr *p = &d.ph[rnd() % 5];
			switch (rnd() % 9) {
			case 0: d.h.entry = v; break;
			case 1: d.h.phoff = v; break;
			case 2: d.h.phnum = (uint16_t)v; break;
			case 3: p->offset = v; break;
			case 4: p->vaddr = v; break;
			case 5: p->filesz = v; break;
			case 6: p->memsz = v; break;
			case 7: p->align = v; break;
			default: p->type = (uint32_t)(v % 8); break;
			}
		}
		if (rnd() % 4 == 0)
			d.len = edges[rnd() % 8]; /* 0 .. 0x2601 bytes */
		uint8_t *b = encode(&d);
		fuzz_one(b, d.len, &c);
		free(b);
	}
	print_message("field values: %llu accepted, %llu ENOEXEC, %llu EINVAL\n", (unsigned long long)c.accepted,
		      (unsigned long long)c.noexec, (unsigned long long)c.inval);
	assert_true(c.accepted > 100 && c.noexec > 1000 && c.inval > 1000);
}

/* ---- execve through a memory-pager object, in the simulated MMU ---- */

struct loaded {
	struct desc d;
	uint8_t *file;
	struct vm_memory_pager mp;
	struct elf_exec e;
	struct vm_object *obj;
};

#define STACK_TOP ((vaddr_t)0x7ffffff00000ull)

static int setup_vm(void **state)
{
	struct vmfx *fx = calloc(1, sizeof(*fx));
	vmfx_boot(fx, 64 * VMFX_MIB, 1);
	*state = fx;
	return 0;
}

static int teardown_vm(void **state)
{
	struct vmfx *fx = *state;
	vmfx_shutdown(fx);
	free(fx);
	return 0;
}

static void open_image(struct vmfx *fx, struct loaded *l)
{
	l->d = valid_desc();
	l->file = encode(&l->d);
	l->mp = (struct vm_memory_pager){ l->file, l->d.len };
	assert_int_equal(elf_parse_exec(l->file, l->d.len, &l->e), 0);
	VMFX_RC(fx, vm_object_create_memory(&fx->s.vm, "prog", &l->mp, &l->obj), 0);
	fx->held[0] = l->obj;
}

static void close_image(struct vmfx *fx, struct loaded *l)
{
	fx->held[0] = NULL;
	vm_object_release(&fx->s.vm, l->obj);
	free(l->file);
}

static int exec_into(struct loaded *l, struct vm_space *as)
{
	return vm_exec_layout(as, l->obj, l->e.segs, l->e.nsegs, STACK_TOP, 16 * PG, l->e.brk_start);
}

static uint8_t rd(struct vmfx *fx, vaddr_t va)
{
	uint8_t b = 0;
	VMFX_RC(fx, vmfx_read8(fx, 0, va, &b), 0);
	return b;
}

/* The object's entry for page pgoff (vm.h: vm_object_entry_frame; bit 1
 * of a resident entry is its dirty flag): resident or not, *pfn, *dirty. */
static bool object_page(const struct vm_object *obj, uint64_t pgoff, pfn_t *pfn, bool *dirty)
{
	const void *entry = radix_lookup(&obj->pages, pgoff);
	*dirty = ((uintptr_t)entry & 2u) != 0;
	return vm_object_entry_frame(entry, pfn);
}

static paddr_t frame_of(struct vmfx *fx, struct vm_space *as, vaddr_t va)
{
	paddr_t pa;
	unsigned bits;
	VMFX_RC(fx, pmap_extract(&as->pmap, va, &pa, &bits), 0);
	return pa;
}

static void test_exec_from_memory(void **state)
{
	struct vmfx *fx = *state;
	struct loaded l;
	open_image(fx, &l);
	struct vm_space *a = vmfx_space(fx), *b = vmfx_space(fx);
	VMFX_RC(fx, exec_into(&l, a), 0);
	VMFX_RC(fx, exec_into(&l, b), 0);
	vmfx_check(fx);
	vm_space_activate(a, 0);
	/* text and rodata: the file's bytes, not writable */
	for (vaddr_t off = 0; off < 0x1234; off += 0x111)
		VMFX_EQ(fx, rd(fx, 0x400000 + off), l.file[off]);
	VMFX_EQ(fx, rd(fx, 0x4022ff), l.file[0x22ff]);
	VMFX_TRUE(fx, vmfx_write8(fx, 0, 0x400100, 0x90) == -MMK_EACCES);
	VMFX_TRUE(fx, vmfx_write8(fx, 0, 0x402010, 0) == -MMK_EACCES);
	VMFX_EQ(fx, vm_search(a, 0x400000)->prot, VM_PROT_READ | VM_PROT_EXEC);
	/* data: the file's bytes; bss zero, although the file page has
	 * symbol-table bytes after the data (the head is cleared) */
	for (vaddr_t off = 0; off < 0x120; off++)
		VMFX_EQ(fx, rd(fx, 0x403300 + off), l.file[0x2300 + off]);
	VMFX_TRUE(fx, l.file[0x2420] != 0);
	for (vaddr_t va = 0x403420; va < 0x406000; va += 0x40)
		VMFX_EQ(fx, rd(fx, va), 0);
	VMFX_TRUE(fx, vmfx_read8(fx, 0, 0x406000, &(uint8_t){ 0 }) != 0); /* the heap is not mapped yet */
	VMFX_EQ(fx, a->start_brk, 0x406000);
	/* a write to data is this space's own */
	VMFX_RC(fx, vmfx_write8(fx, 0, 0x403300, 0x5a), 0);
	/* the other space: the same text frame, its own data */
	vm_space_activate(b, 0);
	VMFX_EQ(fx, rd(fx, 0x400100), l.file[0x100]);
	VMFX_EQ(fx, rd(fx, 0x403300), l.file[0x2300]);
	pfn_t text_pfn;
	bool dirty;
	VMFX_TRUE(fx, object_page(l.obj, 0, &text_pfn, &dirty) && !dirty);
	VMFX_EQ(fx, frame_of(fx, a, 0x400000), mmk_pfn_to_paddr(text_pfn));
	VMFX_EQ(fx, frame_of(fx, b, 0x400000), mmk_pfn_to_paddr(text_pfn));
	VMFX_TRUE(fx, frame_of(fx, a, 0x403000) != frame_of(fx, b, 0x403000));
	vmfx_check(fx);
	vmfx_destroy(fx, a);
	vmfx_destroy(fx, b);
	vmfx_check(fx);
	close_image(fx, &l);
}

/* The memory pager: zeroes past the file's end; a shared writable mapping
 * cannot write back (EROFS) and keeps the page dirty and resident. */
static void test_memory_pager(void **state)
{
	struct vmfx *fx = *state;
	struct loaded l;
	open_image(fx, &l);
	VMFX_EQ(fx, l.obj->size, 0x2600);
	struct vm_space *as = vmfx_space(fx);
	vm_space_activate(as, 0);
	vaddr_t at;
	VMFX_RC(fx, vm_map(as, 0, 4 * PG, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_SHARED, l.obj, 0, VM_PROT_ALL, &at), 0);
	VMFX_EQ(fx, rd(fx, at + 0x25ff), l.file[0x25ff]);
	VMFX_EQ(fx, rd(fx, at + 0x2600), 0); /* past the end of the file, same page */
	VMFX_EQ(fx, rd(fx, at + 0x3000), 0); /* a page wholly past the end */
	uint8_t *original = malloc(l.d.len);
	memcpy(original, l.file, l.d.len);
	VMFX_RC(fx, vmfx_write8(fx, 0, at + 8, 0x77), 0);
	VMFX_EQ(fx, rd(fx, at + 8), 0x77);
	VMFX_RC(fx, vm_msync(as, at, PG, VM_MS_SYNC), -MMK_EROFS);
	VMFX_TRUE(fx, memcmp(original, l.file, l.d.len) == 0); /* the bytes never change */
	free(original);
	pfn_t pfn;
	bool dirty;
	VMFX_TRUE(fx, object_page(l.obj, 0, &pfn, &dirty) && dirty);
	VMFX_RC(fx, vm_unmap(as, at, 4 * PG), 0);
	VMFX_TRUE(fx, object_page(l.obj, 0, &pfn, &dirty) && dirty); /* kept: its write-back failed */
	vmfx_check(fx);
	vmfx_destroy(fx, as);
	close_image(fx, &l);
}

/* vm_exec_layout never lets one mapping replace another. */
static void test_layout_overlaps(void **state)
{
	struct vmfx *fx = *state;
	struct loaded l;
	open_image(fx, &l);
	struct vm_exec_segment segs[2] = { l.e.segs[0], l.e.segs[0] };
	segs[1].vaddr += 0x1000;
	segs[1].offset += 0x1000;
	struct vm_space *as = vmfx_space(fx);
	VMFX_RC(fx, vm_exec_layout(as, l.obj, segs, 2, STACK_TOP, 16 * PG, 0x600000), -MMK_EEXIST);
	vmfx_destroy(fx, as);
	as = vmfx_space(fx);
	segs[1] = (struct vm_exec_segment){ STACK_TOP - 0x3000, 0x2000, 0x100, 0x100, VM_PROT_READ };
	VMFX_RC(fx, vm_exec_layout(as, l.obj, segs, 2, STACK_TOP, 16 * PG, 0x600000), -MMK_EEXIST);
	vmfx_destroy(fx, as);
	/* An empty segment maps nothing. */
	as = vmfx_space(fx);
	segs[1] = (struct vm_exec_segment){ 0x500123, 0x123, 0, 0, VM_PROT_READ };
	VMFX_RC(fx, vm_exec_layout(as, l.obj, segs, 2, STACK_TOP, 16 * PG, 0x600000), 0);
	VMFX_TRUE(fx, vm_search(as, 0x500000) == NULL);
	vmfx_check(fx);
	vmfx_destroy(fx, as);
	close_image(fx, &l);
}

/* Fail the nth allocation of object creation plus load, for every n: each
 * failure is -MMK_ENOMEM, and once the space and the object are gone every
 * frame is back. */
static void test_exec_failure_sweep(void **state)
{
	struct vmfx *fx = *state;
	struct desc d = valid_desc();
	uint8_t *file = encode(&d);
	struct vm_memory_pager mp = { file, d.len };
	struct elf_exec e;
	assert_int_equal(elf_parse_exec(file, d.len, &e), 0);
	const uint64_t baseline = vmfx_free_frames(fx);
	struct mmk_failpoint *fp = &fx->s.failpoint;
	bool done = false;
	unsigned failures = 0;
	for (uint64_t n = 1; !done && n < 2000; n++) {
		struct vm_space *as = vmfx_space(fx);
		struct vm_object *obj = NULL;
		uint64_t fired = fp->failed;
		mmk_failpoint_arm(fp, n, false);
		int rc = vm_object_create_memory(&fx->s.vm, "prog", &mp, &obj);
		if (!rc)
			rc = vm_exec_layout(as, obj, e.segs, e.nsegs, STACK_TOP, 16 * PG, e.brk_start);
		mmk_failpoint_arm(fp, 0, false);
		if (rc) {
			VMFX_EQ(fx, rc, -MMK_ENOMEM);
			failures++;
		}
		done = rc == 0 && fp->failed == fired;
		fx->held[0] = obj;
		vmfx_check(fx);
		fx->held[0] = NULL;
		vmfx_destroy(fx, as);
		if (obj)
			vm_object_release(&fx->s.vm, obj);
		VMFX_EQ(fx, vmfx_free_frames(fx), baseline);
	}
	VMFX_TRUE(fx, done && failures > 5);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_segment_refusals),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_fuzz_byte_flips),
		cmocka_unit_test(test_fuzz_fields),
		cmocka_unit_test_setup_teardown(test_exec_from_memory, setup_vm, teardown_vm),
		cmocka_unit_test_setup_teardown(test_memory_pager, setup_vm, teardown_vm),
		cmocka_unit_test_setup_teardown(test_layout_overlaps, setup_vm, teardown_vm),
		cmocka_unit_test_setup_teardown(test_exec_failure_sweep, setup_vm, teardown_vm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
