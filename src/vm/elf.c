/*
 * vm/elf.c - the ELF64 executable parser of execve (mmk/elf.h).
 *
 * Theory.
 * 1. What: turn the bytes of a static executable into the segment list
 *    vm_exec_layout maps, refusing anything that is not one.  The order of
 *    the checks is Linux's load_elf_binary (file header, then the program
 *    header table, then PT_INTERP, then each PT_LOAD), so a file Linux
 *    refuses gets the same code here: ENOEXEC for "not an executable we
 *    run", EINVAL where Linux's segment checks and mmap say EINVAL.  The
 *    extra refusals (mmk/elf.h lists them) are for things Linux would map
 *    and let fail later: a segment past the end of the file, overlapping
 *    segments, an entry point outside the code.
 * 2. Untrusted input: every field is read with a bounds-checked byte
 *    decoder (no cast of the image to a struct, so neither alignment nor
 *    host byte order matters), every sum of two file-controlled numbers is
 *    checked for wrap-around before use, and no index is formed from a
 *    field before it was compared with the table size.
 * 3. Invariants of the result (elf_exec_check re-derives them): segments
 *    in address order with disjoint pages, each congruent, with memory,
 *    its file bytes inside the file and its end inside the user half; the
 *    entry inside an executable segment's file bytes; the heap starting at
 *    the page above the last segment.
 * 4. Failure: the result is built in a local and copied out only on
 *    success, so an error changes nothing.  No allocation, no lock.
 * Source: System V ABI, ELF-64 Object File Format; Linux fs/binfmt_elf.c
 * (load_elf_phdrs, load_elf_binary) for the order and the error codes.
 */
#include <mmk/elf.h>
#include <mmk/errno.h>

#include "lib/mem.h"

/* ---- little-endian field decoding, bounds already checked by the caller ---- */

static uint64_t le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = bytes; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

static void decode_ehdr(const uint8_t *p, struct elf64_ehdr *h)
{
	mmk_memcpy(h->ident, p, sizeof(h->ident));
	h->type = (uint16_t)le(p + 16, 2);
	h->machine = (uint16_t)le(p + 18, 2);
	h->version = (uint32_t)le(p + 20, 4);
	h->entry = le(p + 24, 8);
	h->phoff = le(p + 32, 8);
	h->shoff = le(p + 40, 8);
	h->flags = (uint32_t)le(p + 48, 4);
	h->ehsize = (uint16_t)le(p + 52, 2);
	h->phentsize = (uint16_t)le(p + 54, 2);
	h->phnum = (uint16_t)le(p + 56, 2);
	h->shentsize = (uint16_t)le(p + 58, 2);
	h->shnum = (uint16_t)le(p + 60, 2);
	h->shstrndx = (uint16_t)le(p + 62, 2);
}

static void decode_phdr(const uint8_t *p, struct elf64_phdr *ph)
{
	ph->type = (uint32_t)le(p, 4);
	ph->flags = (uint32_t)le(p + 4, 4);
	ph->offset = le(p + 8, 8);
	ph->vaddr = le(p + 16, 8);
	ph->paddr = le(p + 24, 8);
	ph->filesz = le(p + 32, 8);
	ph->memsz = le(p + 40, 8);
	ph->align = le(p + 48, 8);
}

/* ---- the checks ---- */

/* The file header alone (Linux: the e_ident, e_type and elf_check_arch
 * tests, then load_elf_phdrs' size tests and its read of the table). */
static int check_header(const struct elf64_ehdr *h, uint64_t len)
{
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
	if (mmk_memcmp(h->ident, magic, sizeof(magic)) != 0 || h->ident[4] != ELF_CLASS64 ||
	    h->ident[5] != ELF_DATA_LSB || h->ident[6] != ELF_VERSION_CURRENT || h->version != ELF_VERSION_CURRENT ||
	    h->ehsize != ELF_EHDR_BYTES)
		return -MMK_ENOEXEC;
	if (h->type != ELF_TYPE_EXEC || h->machine != ELF_MACHINE_X86_64)
		return -MMK_ENOEXEC;
	if (h->phentsize != ELF_PHDR_BYTES || h->phnum == 0 ||
	    (uint64_t)h->phnum * ELF_PHDR_BYTES > ELF_MAX_PHDR_BYTES)
		return -MMK_ENOEXEC;
	uint64_t table = (uint64_t)h->phnum * ELF_PHDR_BYTES;
	if (h->phoff > len || len - h->phoff < table)
		return -MMK_ENOEXEC; /* the table is not all inside the file */
	return 0;
}

/* The end of s's last page; s ends inside the user half (checked), so no
 * wrap-around. */
static uint64_t pages_end(const struct vm_exec_segment *s)
{
	return mmk_page_round_down(s->vaddr + s->memsz + MMK_PAGE_MASK);
}

static unsigned segment_prot(uint32_t flags)
{
	return ((flags & ELF_PF_R) ? VM_PROT_READ : 0) | ((flags & ELF_PF_W) ? VM_PROT_WRITE : 0) |
	       ((flags & ELF_PF_X) ? VM_PROT_EXEC : 0);
}

/* One PT_LOAD header on its own: Linux's checks first (EINVAL), then the
 * mapping's.  An empty header (p_memsz 0, as ld emits for a segment no
 * section went into) maps nothing, so only the first apply, as in Linux. */
static int check_load(const struct elf64_phdr *ph, uint64_t len)
{
	if (ph->filesz > ph->memsz || ph->vaddr >= ELF_USER_END || ph->memsz > ELF_USER_END ||
	    ELF_USER_END - ph->memsz < ph->vaddr)
		return -MMK_EINVAL;
	if (ph->memsz == 0)
		return 0;
	if (((ph->vaddr - ph->offset) & MMK_PAGE_MASK) != 0)
		return -MMK_EINVAL; /* mmap of an unaligned file offset */
	if (ph->align & (ph->align - 1))
		return -MMK_ENOEXEC;
	if (ph->offset > len || len - ph->offset < ph->filesz)
		return -MMK_ENOEXEC;
	return 0;
}

/* Append ph to e after the segments already there: its pages must start
 * at or above the end of the previous segment's pages. */
static int add_load(struct elf_exec *e, const struct elf64_phdr *ph)
{
	if (ph->memsz == 0)
		return 0; /* nothing to map (Linux maps nothing either) */
	if (e->nsegs == ELF_MAX_LOAD)
		return -MMK_ENOEXEC;
	uint64_t first = mmk_page_round_down(ph->vaddr);
	if (e->nsegs && first < pages_end(&e->segs[e->nsegs - 1]))
		return -MMK_ENOEXEC;
	e->segs[e->nsegs++] = (struct vm_exec_segment){
		.vaddr = ph->vaddr, .offset = ph->offset, .filesz = ph->filesz, .memsz = ph->memsz,
		.prot = segment_prot(ph->flags),
	};
	return 0;
}

static int read_segments(const uint8_t *bytes, uint64_t len, const struct elf64_ehdr *h, struct elf_exec *e)
{
	struct elf64_phdr ph;
	for (unsigned i = 0; i < h->phnum; i++) { /* Linux looks for PT_INTERP before mapping anything */
		decode_phdr(bytes + h->phoff + (uint64_t)i * ELF_PHDR_BYTES, &ph);
		if (ph.type == ELF_PT_INTERP)
			return -MMK_ENOEXEC;
	}
	for (unsigned i = 0; i < h->phnum; i++) {
		decode_phdr(bytes + h->phoff + (uint64_t)i * ELF_PHDR_BYTES, &ph);
		if (ph.type != ELF_PT_LOAD)
			continue;
		int rc = check_load(&ph, len);
		if (!rc)
			rc = add_load(e, &ph);
		if (rc)
			return rc;
	}
	return 0;
}

static bool entry_in_code(const struct elf_exec *e)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct vm_exec_segment *s = &e->segs[i];
		if ((s->prot & VM_PROT_EXEC) && e->entry >= s->vaddr && e->entry - s->vaddr < s->filesz)
			return true;
	}
	return false;
}

int elf_parse_exec(const void *image, uint64_t len, struct elf_exec *out)
{
	if (!image || len < ELF_EHDR_BYTES)
		return -MMK_ENOEXEC;
	const uint8_t *bytes = image;
	struct elf64_ehdr h;
	decode_ehdr(bytes, &h);
	int rc = check_header(&h, len);
	if (rc)
		return rc;
	struct elf_exec e = { .entry = h.entry, .file_bytes = len };
	rc = read_segments(bytes, len, &h, &e);
	if (rc)
		return rc;
	if (e.nsegs == 0 || !entry_in_code(&e))
		return -MMK_ENOEXEC;
	e.brk_start = pages_end(&e.segs[e.nsegs - 1]);
	*out = e;
	return 0;
}

/* ---- the checker ---- */

static const char *check_segment(const struct elf_exec *e, size_t i)
{
	const struct vm_exec_segment *s = &e->segs[i];
	if (s->memsz == 0 || s->filesz > s->memsz)
		return "a segment without memory, or with more file bytes than memory";
	if (((s->vaddr - s->offset) & MMK_PAGE_MASK) != 0)
		return "a segment's offset is not congruent with its address";
	if (s->vaddr >= ELF_USER_END || ELF_USER_END - s->vaddr < s->memsz)
		return "a segment reaches past the user half";
	if (s->offset > e->file_bytes || e->file_bytes - s->offset < s->filesz)
		return "a segment's file bytes are not inside the file";
	if (s->prot & ~VM_PROT_ALL)
		return "a segment has unknown protection bits";
	if (i > 0 && mmk_page_round_down(s->vaddr) < pages_end(&e->segs[i - 1])) /* i - 1 passed already */
		return "segments overlap or are out of order";
	return NULL;
}

int elf_exec_check(const struct elf_exec *e, const char **why)
{
	const char *bad = NULL;
	if (e->nsegs == 0 || e->nsegs > ELF_MAX_LOAD)
		bad = "no segment, or more than ELF_MAX_LOAD";
	for (size_t i = 0; !bad && i < e->nsegs; i++)
		bad = check_segment(e, i);
	if (!bad && !entry_in_code(e))
		bad = "the entry point is not in an executable segment's file bytes";
	if (!bad && e->brk_start != pages_end(&e->segs[e->nsegs - 1]))
		bad = "the heap does not start at the page above the last segment";
	if (bad && why)
		*why = bad;
	return bad ? -MMK_EINVAL : 0;
}
