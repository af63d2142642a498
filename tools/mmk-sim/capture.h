/*
 * capture.h - one capture directory loaded for replay: the strace events,
 * the maps snapshots and the page faults (formats: ../shared/traces/README.md).
 * The parsers (strace_parse, maps_parse, faults_parse) read the files; this
 * is the replay's view of their results.
 *
 * Ownership: capture_load fills a capture that capture_free releases.
 */
#ifndef MMK_SIM_CAPTURE_H
#define MMK_SIM_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "strace_parse.h"

struct cap_entry {
	uint64_t start, end;   /* bytes */
	unsigned prot;         /* SIM_PROT_* */
	bool shared;
	uint64_t offset;       /* bytes */
	unsigned major, minor;
	uint64_t inode;
	const char *path;      /* "" when none */
};

struct cap_snapshot {
	bool is_exit;          /* exit_group snapshot, else exec */
	int tgid, tid;
	int64_t ts_us;
	const char *ts_text;   /* as printed in the file */
	const char *exe;
	struct cap_entry *e;
	size_t n;
	int event;             /* exec: index of the execve event it belongs to, -1 if none */
};

struct cap_fault {
	int64_t ts_us;
	int tid;
	char kind;             /* 'u' user mode, 'k' kernel mode */
	uint64_t addr;
	unsigned error_code;   /* x86 page-fault error code */
	uint32_t line;         /* in faults.tsv */
	long anchor;           /* index of the event after which it applies; -1 = before all */
	bool segv_expected;    /* Linux delivered SIGSEGV for this access */
};

struct capture {
	char *dir;
	const char *name;      /* last component of dir */
	strace_trace trace;
	struct cap_snapshot *snaps;
	size_t nsnaps;
	struct cap_fault *faults;
	size_t nfaults;
	sim_problems problems; /* lines of maps.txt / faults.tsv not understood */
	void *priv;            /* parser state kept alive for the strings */
};

/* Load dir's strace.txt(.zst), maps.txt(.zst) and faults.tsv(.zst).  A
 * missing maps or faults file is allowed (reported through has_maps and
 * nfaults == 0); a missing or unreadable strace file is an error: returns -1
 * with a message naming the file in err. */
int capture_load(const char *dir, struct capture *c, char *err, size_t errlen);
void capture_free(struct capture *c);

#endif
