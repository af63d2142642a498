/*
 * file_pager.h - a file pager for hosted builds: the pages of a vm_object
 * are read from and written back to a real file with pread/pwrite (issue 3:
 * "a pager that reads and writes a real file in hosted builds").  Reads past
 * the end of the file give zeroes; writes never extend the file (as a
 * shared mapping's writes stay within the file's size).
 */
#ifndef HAL_SIM_FILE_PAGER_H
#define HAL_SIM_FILE_PAGER_H

#include <mmk/vm.h>

struct sim_file_pager {
	int fd;
	uint64_t size;        /* bytes, at open */
	int fail_next_read;   /* tests: > 0 fails that many reads with -5 (EIO) */
	int fail_next_write;  /* tests: the same for writes */
};

/* Open path (read-only or read-write); 0 or -errno. */
int sim_file_pager_open(struct sim_file_pager *fp, const char *path, bool writable);
void sim_file_pager_close(struct sim_file_pager *fp);
/* The vm_file_pager to give vm_object_set_pager. */
struct vm_file_pager sim_file_pager_ops(struct sim_file_pager *fp);

#endif
