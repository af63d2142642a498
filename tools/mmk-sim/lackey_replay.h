/*
 * lackey_replay.h - replay a valgrind lackey page-reference capture
 * (lackey_* in the traces: pages.txt, debug.log) against mmk: the client's
 * startup segments become an address space, every access record becomes an
 * access through the software MMU (demand paging happens where it would),
 * and the client's mmap/munmap/mprotect/brk/mremap records apply in order.
 */
#ifndef MMK_SIM_LACKEY_REPLAY_H
#define MMK_SIM_LACKEY_REPLAY_H

#include <stdio.h>

#include "sim_boot.h"

/*
 * Replay the capture in dir on s.  Writes a text report to out (if not
 * NULL): accesses, faults, refused accesses, resident pages and faults over
 * time (a sample every 1/20 of the records); and JSON to json_path (if not
 * NULL) with keys accesses, faults, accesses_refused, syscalls,
 * syscalls_matched, unexplained_lines, resident_bytes_peak, timeline.
 * Returns 0 when every access landed on a page that allows it and every
 * system call's outcome matched; 1 otherwise; 2 for unreadable input.
 */
int lackey_replay(struct sim_system *s, const char *dir, FILE *out, const char *json_path);

#endif
