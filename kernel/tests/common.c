/*
 * common.c - helpers shared by the in-kernel suites.
 */
#include "../kernel.h"
#include "tests.h"

uint64_t tests_free_frames(void) { return phys_free_frames(&kernel.phys); }
