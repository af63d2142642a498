/*
 * mmk/elf.h - reading a static ELF64 executable for execve: the checks of
 * Linux's load_elf_binary (fs/binfmt_elf.c) on the file header and the
 * program headers, and the PT_LOAD segments as vm_exec_layout takes them.
 *
 * The parser only reads the bytes it is given (the whole file, any
 * alignment, little-endian fields decoded byte by byte) and writes its
 * result only on success; it allocates nothing and holds no lock, so it
 * can run on untrusted bytes anywhere (hosted fuzzing, the bare-metal
 * kernel's boot modules).  Formats: System V ABI, ELF-64 Object File
 * Format 1.5 (header and program-header layouts below).
 */
#ifndef MMK_ELF_H
#define MMK_ELF_H

#include <mmk/types.h>
#include <mmk/vm.h>

/* ---- the file format (ELF-64; every field little-endian in the file) ---- */

#define ELF_EHDR_BYTES 64u  /* sizeof(Elf64_Ehdr) */
#define ELF_PHDR_BYTES 56u  /* sizeof(Elf64_Phdr): the only e_phentsize accepted */

#define ELF_CLASS64 2u      /* e_ident[EI_CLASS] */
#define ELF_DATA_LSB 1u     /* e_ident[EI_DATA]: little-endian */
#define ELF_VERSION_CURRENT 1u
#define ELF_TYPE_EXEC 2u    /* e_type ET_EXEC */
#define ELF_TYPE_DYN 3u     /* e_type ET_DYN (refused: no position-independent executables) */
#define ELF_MACHINE_X86_64 62u

#define ELF_PT_LOAD 1u
#define ELF_PT_INTERP 3u
#define ELF_PF_X 1u
#define ELF_PF_W 2u
#define ELF_PF_R 4u

/* Elf64_Ehdr, field for field. */
struct elf64_ehdr {
	uint8_t ident[16]; /* 0x7f 'E' 'L' 'F', class, data, version, OS ABI, ... */
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

/* Elf64_Phdr, field for field. */
struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* ---- the parsed executable ---- */

#define ELF_MAX_LOAD 8u          /* PT_LOAD segments (with memory) one executable may have */
#define ELF_MAX_PHDR_BYTES 4096u /* program-header table: at most one page (Linux's ELF_MIN_ALIGN) */
#define ELF_USER_END VM_DEFAULT_MAX_ADDR /* segments end at or below this (Linux's TASK_SIZE) */

/*
 * What execve needs from the file: the segments to map (in address order,
 * their pages disjoint; PT_LOAD headers with p_memsz 0 are left out, as
 * Linux maps nothing for them), the entry point, the heap's start (the
 * page above the highest segment end: Linux's start_brk before
 * randomisation) and the file size the offsets were checked against.
 */
struct elf_exec {
	vaddr_t entry;
	vaddr_t brk_start;
	uint64_t file_bytes;
	size_t nsegs;
	struct vm_exec_segment segs[ELF_MAX_LOAD];
};

/*
 * Parse the ELF64 executable image[0, len) (bytes, any alignment) into
 * *out (written only on success).  The first failing check decides:
 *  -MMK_ENOEXEC (not an executable we run; Linux's code where Linux checks):
 *    image NULL or len below the header; magic; class not 64-bit; data
 *    not little-endian; EI_VERSION or e_version not 1, e_ehsize not 64
 *    (stricter than Linux, which ignores them); e_type not ET_EXEC
 *    (differs: Linux also runs ET_DYN); e_machine not x86-64;
 *    e_phentsize not 56; e_phnum 0 or the table over one page; the table
 *    not inside the file (Linux: a short read); a PT_INTERP header
 *    (differs: Linux loads the interpreter; there is none here).
 *  Then each PT_LOAD header in table order, first Linux's load_elf_binary
 *  checks, which every PT_LOAD gets:
 *  -MMK_EINVAL: p_filesz > p_memsz, or p_vaddr + p_memsz past
 *    ELF_USER_END or wrapping around;
 *  and for a header with memory (p_memsz > 0; an empty one maps nothing
 *  and is left out, as Linux maps nothing for it):
 *  -MMK_EINVAL: p_offset not congruent with p_vaddr modulo the page size
 *    (Linux: mmap's EINVAL);
 *  -MMK_ENOEXEC: p_align neither 0 nor a power of two; the file bytes
 *    [p_offset, p_offset + p_filesz) not inside the file (differs: Linux
 *    maps past the end and the access gets SIGBUS); more than
 *    ELF_MAX_LOAD segments; its pages overlapping the previous segment's
 *    or below them (differs: Linux lets a later segment replace an
 *    earlier one).
 *  Last, -MMK_ENOEXEC: no segment with memory, or e_entry not in the file
 *  bytes of an executable segment (stricter: Linux starts the process and
 *  lets it fault).
 * O(e_phnum); reads nothing outside image[0, len).
 */
int elf_parse_exec(const void *image, uint64_t len, struct elf_exec *out);

/*
 * The checker: 0 when e satisfies everything elf_parse_exec promises
 * (1..ELF_MAX_LOAD segments, each with memory, p_filesz <= p_memsz,
 * congruent, inside ELF_USER_END and its file bytes inside file_bytes,
 * protections within VM_PROT_ALL, pages disjoint and in order; entry in
 * an executable segment's file bytes; brk_start the page above the last
 * segment), else -MMK_EINVAL with *why (why may be NULL).
 */
int elf_exec_check(const struct elf_exec *e, const char **why);

#endif
