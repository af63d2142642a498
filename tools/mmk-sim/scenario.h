/*
 * scenario.h - mmk-sim's scenario mode: a small script of account, MOP,
 * claim and container calls run through sys_dispatch by a process-manager
 * task holding the root account (issue 5, item 7; issue 6, item 6).
 *
 * Script: one call per line; '#' starts a comment; blank lines are
 * skipped.  NAME is up to 8 printable characters (it becomes the account's
 * name in the printed tree); numbers are C literals (0x... hex), START and
 * LEN are bytes.
 *
 *   account NAME FRAMES          split account NAME off the root account
 *   split PARENT NAME FRAMES     split account NAME off account PARENT
 *   mop NAME ACCOUNT LIMIT       a MOP under account ACCOUNT (LIMIT pages)
 *   child NAME MOP LIMIT         a child MOP of MOP
 *   claim MOP START LEN          claim [START, START + LEN)
 *   release MOP START LEN        release one claim of it
 *   destroy NAME                 destroy the account or MOP (and all below)
 *   close NAME                   close the handle (a MOP's last: destroyed)
 *   usage NAME                   print limit, charged, donated, available
 *   revoke                       run one revocation batch
 *   print                        print the claims trie, the account tree
 *                                and the revocation queue
 *
 * Containers (seed 001's physmem; scenario_physmem.c), OFFSET and LEN in
 * bytes:
 *   container NAME ACCOUNT       an empty container charging ACCOUNT
 *   allocate C OFFSET PAGES      allocate PAGES pages at OFFSET
 *   deallocate C OFFSET LEN      deallocate [OFFSET, OFFSET + LEN)
 *   interleave A B PAGES         pages 0..PAGES-1 one at a time to A and B
 *                                in turn (their frames alternate), each
 *                                holding its index; stops at a refusal
 *   verify C                     the pages interleave gave C still hold
 *                                their index (a difference fails the run)
 *   frag                         free blocks per order, the largest one
 *   compact ORDER                a compaction pass for blocks of ORDER
 *   destroy C                    destroy the container, freeing its frames
 *
 * Each call prints its line number, the line and its result (OK or the
 * error's name); at the end everything is printed once more, every
 * object is torn down, and the free frames must be back at their count
 * before the scenario.
 */
#ifndef MMK_SIM_SCENARIO_H
#define MMK_SIM_SCENARIO_H

#include <stdio.h>

#include <sim_boot.h>

/* Run the script at path on s, printing to out.  0 ran to the end (calls
 * may have failed: that is output); 1 something leaked or a checker
 * failed; 2 unreadable or malformed script (the line is named on stderr). */
int scenario_run(struct sim_system *s, const char *path, FILE *out);

#endif
