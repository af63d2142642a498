/*
 * replay.h - replay a capture's memory system calls and page faults against
 * mmk (issue 2, item 6): each process starts from its exec snapshot or as a
 * copy of its parent, its calls apply in order, its faults are replayed as
 * accesses through the software MMU, and its layout at exit_group is
 * compared page by page with Linux's.
 */
#ifndef MMK_SIM_REPLAY_H
#define MMK_SIM_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "world.h"

struct replay_options {
	FILE *maps_out;        /* --maps: exit layouts in maps.txt format, or NULL */
	FILE *log;             /* mismatch and problem messages (stderr) */
	unsigned max_messages; /* per capture, after which messages are only counted */
	bool progress;         /* show progress on a terminal */
	uint64_t limit_bytes;  /* --limit: each process under its own account of this many bytes; 0: none */
};

/* Where an account's limit refused an allocation (--limit). */
struct replay_limit_hit {
	int tgid;
	char exe[64];
	char what[24];  /* the call's name, or "fault" */
	uint64_t addr;  /* the call's first argument, or the faulting address */
	uint32_t line;  /* of strace.txt, or of faults.tsv */
};

struct replay_proc_report {
	int tgid;
	char exe[160];
	uint64_t vmas, mapped_bytes, resident_bytes, faults, calls, calls_matched;
	uint64_t rss_bytes, pss_bytes, uss_bytes; /* at exit (or the end), smaps-style */
	uint64_t layout_mismatched_pages;
	bool layout_compared;
	uint64_t charged_bytes, peak_charged_bytes, limit_hits; /* --limit: its account at exit */
};

struct replay_report {
	char capture[256];
	uint64_t events;
	uint64_t calls, calls_matched, calls_unmodelled;
	uint64_t unexplained_lines;
	uint64_t faults, faults_ok, faults_refused, faults_segv_expected, faults_segv_missed, faults_unmodelled;
	uint64_t layouts_compared, layouts_missing, layout_mismatched_pages;
	uint64_t ns_in_calls, timed_calls;
	uint64_t peak_resident_bytes;  /* user frames in use at the peak, bytes */
	uint64_t cow_copies, zero_fills, page_outs, page_ins; /* during this replay */
	uint64_t file_page_outs; /* file pages reclaim wrote back or dropped */
	uint64_t pt_pages_at_peak;     /* page-table pages then */
	struct phys_stats phys_at_peak; /* frames and buddy lists then */
	struct kmem_stats slab_at_peak[3]; /* the VM's caches then: vm_area, vm_object, vm_space */
	uint64_t frames_leaked;  /* free frames after teardown vs before the replay */
	/* Attribution (vm_system_attribution) checked after every process exit
	 * and at the end: sum of every space's PSS + page cache must equal the
	 * user frames.  attrib is the checkpoint (a process just before its
	 * exit, or the end) with the most user frames. */
	uint64_t attrib_checks, attrib_mismatches;
	struct vm_system_attribution attrib;
	struct replay_proc_report *procs;
	size_t nprocs;
	uint64_t limit_bytes;              /* --limit, 0: none */
	uint64_t limit_hits;               /* allocations the limits refused */
	struct replay_limit_hit *hits;     /* the first REPLAY_MAX_HITS of them */
	size_t nhits;
};

#define REPLAY_MAX_HITS 64

/* Replay c on the booted system s.  Returns 0 when everything matched, 1
 * when something mismatched or went unexplained (details in rep and on
 * opt->log), 2 on an internal failure. */
int replay_capture(struct sim_system *s, struct capture *c, const struct replay_options *opt,
		   struct replay_report *rep);
void replay_report_free(struct replay_report *rep);

#endif
