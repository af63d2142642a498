/*
 * faults_parse: faults.tsv, the page faults recorded alongside a strace run.
 *
 * Format source: traces/README.md, "faults.tsv: page faults of the same
 * run".  Tab-separated rows
 *
 *   # ts	tid	kind	address	ip	error_code
 *   1795313689.494284	22653	k	0x5627b71bc424	elf_load	0x2
 *   1795313689.494342	22653	u	0x7f6861216b70	0x7f6861216b70	0x14
 *
 * kind `u` = raised in user mode (ip is the user instruction pointer), `k`
 * = raised in kernel mode on a user address (ip is the kernel function's
 * name).  error_code is the x86 page-fault error code: bit 0 present
 * (protection fault), bit 1 write, bit 2 user, bit 4 instruction fetch.
 * Lines starting with '#' are comments; a malformed row is reported with
 * its line number and left out.
 */
#ifndef MMK_SIM_FAULTS_PARSE_H
#define MMK_SIM_FAULTS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zread.h"

/* x86 page-fault error-code bits */
#define SIM_PF_PRESENT 0x1u
#define SIM_PF_WRITE 0x2u
#define SIM_PF_USER 0x4u
#define SIM_PF_INSTR 0x10u

typedef struct fault_rec {
    int64_t ts_us;           /* microseconds, the strace -ttt clock */
    int32_t tid;             /* faulting thread */
    char kind;               /* 'u' or 'k' */
    uint64_t addr;           /* faulting address (not page-aligned) */
    uint64_t ip;             /* 'u': user instruction pointer; 'k': 0 */
    const char *kfunc;       /* 'k': kernel function ("elf_load"), interned; 'u': NULL */
    uint32_t error_code;     /* SIM_PF_* bits */
    uint32_t line;           /* 1-based line in faults.tsv */
} fault_rec;

/* A parsed file; owns its records and strings.  Free with faults_file_free(). */
typedef struct faults_file {
    fault_rec *v;            /* n rows in file order */
    size_t n, cap;
    size_t lines;
    sim_problems problems;
    sim_arena arena;
    struct faults_intern *intern; /* private */
} faults_file;

int faults_parse(const char *text, size_t len, faults_file *out);
int faults_parse_file(const char *path, faults_file *out, char *err, size_t errlen);
void faults_file_free(faults_file *f);

/*
 * The class name stats.json uses for a fault: kind ('u'/'k'), then 'X' for
 * an instruction fetch, 'W' for a write, else 'R', then 'p' when the page
 * was present ("uWp" = user write to a present page, i.e. copy-on-write).
 * out must hold 4 bytes.
 */
void faults_class(const fault_rec *r, char out[4]);

#endif /* MMK_SIM_FAULTS_PARSE_H */
