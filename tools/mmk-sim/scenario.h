/*
 * scenario.h - mmk-sim's scenario mode: a small script of account, MOP and
 * claim calls run through sys_dispatch by a process-manager task holding
 * the root account (issue 5, item 7).
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
