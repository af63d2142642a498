/* lib/strerror.c - names of mmk's error codes, for reports. */
#include <mmk/errno.h>

const char *mmk_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "OK";
	case MMK_EPERM: return "EPERM";
	case MMK_ENOENT: return "ENOENT";
	case MMK_ESRCH: return "ESRCH";
	case MMK_EINTR: return "EINTR";
	case MMK_ENOEXEC: return "ENOEXEC";
	case MMK_EBADF: return "EBADF";
	case MMK_EAGAIN: return "EAGAIN";
	case MMK_ENOMEM: return "ENOMEM";
	case MMK_EACCES: return "EACCES";
	case MMK_EFAULT: return "EFAULT";
	case MMK_EBUSY: return "EBUSY";
	case MMK_EEXIST: return "EEXIST";
	case MMK_ENODEV: return "ENODEV";
	case MMK_EINVAL: return "EINVAL";
	case MMK_EMFILE: return "EMFILE";
	case MMK_ENOSPC: return "ENOSPC";
	case MMK_EROFS: return "EROFS";
	case MMK_EMLINK: return "EMLINK";
	case MMK_ERANGE: return "ERANGE";
	case MMK_ENOSYS: return "ENOSYS";
	case MMK_EIDRM: return "EIDRM";
	case MMK_EOVERFLOW: return "EOVERFLOW";
	case MMK_EUSERS: return "EUSERS";
	case MMK_EOPNOTSUPP: return "EOPNOTSUPP";
	case MMK_EALREADY: return "EALREADY";
	default: return "E?";
	}
}
