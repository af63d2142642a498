/* file_pager.c - pread/pwrite file pager for hosted builds (file_pager.h). */
#define _GNU_SOURCE
#include "file_pager.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sim_file_pager_open(struct sim_file_pager *fp, const char *path, bool writable)
{
	memset(fp, 0, sizeof(*fp));
	fp->fd = open(path, writable ? O_RDWR : O_RDONLY);
	if (fp->fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fp->fd, &st) != 0) {
		int e = -errno;
		close(fp->fd);
		return e;
	}
	fp->size = (uint64_t)st.st_size;
	return 0;
}

void sim_file_pager_close(struct sim_file_pager *fp)
{
	if (fp->fd >= 0)
		close(fp->fd);
	fp->fd = -1;
}

static int read_page(void *ctx, uint64_t pgoff, void *page)
{
	struct sim_file_pager *fp = ctx;
	if (fp->fail_next_read > 0) {
		fp->fail_next_read--;
		return -5;
	}
	memset(page, 0, 4096);
	off_t off = (off_t)(pgoff * 4096);
	if ((uint64_t)off >= fp->size)
		return 0; /* past the end: zeroes */
	ssize_t n = pread(fp->fd, page, 4096, off);
	return n < 0 ? -errno : 0;
}

static int write_page(void *ctx, uint64_t pgoff, const void *page)
{
	struct sim_file_pager *fp = ctx;
	if (fp->fail_next_write > 0) {
		fp->fail_next_write--;
		return -5;
	}
	uint64_t off = pgoff * 4096;
	if (off >= fp->size)
		return 0; /* beyond the file: nothing to keep */
	size_t len = fp->size - off < 4096 ? (size_t)(fp->size - off) : 4096;
	ssize_t n = pwrite(fp->fd, page, len, (off_t)off);
	return n < 0 ? -errno : 0;
}

struct vm_file_pager sim_file_pager_ops(struct sim_file_pager *fp)
{
	return (struct vm_file_pager){ read_page, write_page, fp };
}
