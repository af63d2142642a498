/*
 * sys/cap_internal.h - what cap.c shares with cap_check.c and the
 * handlers of src/sys.
 */
#ifndef MMK_SYS_CAP_INTERNAL_H
#define MMK_SYS_CAP_INTERNAL_H

#include <mmk/cap.h>

/* Run the puts of handles removed so far (cs->dying), unless an outer call
 * is already running them.  Every cap call that removes handles ends with
 * it; so must a caller that removes handles by other means. */
void cap_release_pending(struct cap_system *cs);

#endif
