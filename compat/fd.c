// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fd calls that must know a kipc region fd: every call programs make
 * on what shm_open() returned.  They are interposed whatever the backend,
 * since any fd may be a region passed from elsewhere.
 *
 * shm_open() (shm.c) returns a region fd, and mmap(), lseek(), pread(),
 * pwrite() and close() work on it as on a tmpfs file.  The rest do not: a
 * region fd is an anon-inode fd, whose inode is not a regular file, so the
 * kernel fails ftruncate() with EINVAL, fallocate() with ENODEV (which
 * glibc's posix_fallocate() does not emulate: it does so on EOPNOTSUPP
 * only), fstat() reports the shared anon inode (no file type, size 0),
 * fstatfs() the anon-inode file system, and the seal commands of fcntl()
 * EINVAL.  Each of these takes the stock path first, and only a stock
 * failure with that error (or an inode without a file type, or the
 * anon-inode file system) costs one KIPC_IOC_STAT to tell a region from
 * other anon-inode fds; every other fd gets the stock result unchanged.
 * On a region:
 *  - ftruncate() is KIPC_IOC_REGION_RESIZE;
 *  - posix_fallocate(fd, off, len) and fallocate(fd, 0, off, len) grow the
 *    region to off + len if it is smaller (shmem allocates on first touch,
 *    as tmpfs does with its default huge=never); FALLOC_FL_KEEP_SIZE
 *    alone is accepted and does nothing; other modes (punching holes) are
 *    EOPNOTSUPP;
 *  - fstat() reports a regular file of the region's size, mode and owner
 *    (st_ino is the kipc id), fstatfs() TMPFS_MAGIC;
 *  - fcntl(F_GET_SEALS, F_ADD_SEALS) are the region's seals, whose bits
 *    are memfd's;
 *  - fchmod() and fchown() are KIPC_IOC_SET (see below).
 * The one difference left: a region cannot be resized while it is mapped
 * (EBUSY), where tmpfs allows it; resizing to the current size, and
 * "growing" to a size it has, are always accepted.
 * The *64 names are the same functions on 64-bit targets; syscall(2) and
 * fstatat(2) are not interposed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "compat.h"

/* Is @fd a kipc region?  Fills @st if so. */
static int region_stat(int fd, struct kipc_stat *st)
{
	return ioctl(fd, KIPC_IOC_STAT, st) == 0 && st->type == KIPC_TYPE_REGION;
}

/* ftruncate and fstat: region fds only */

int region_truncate(int fd, off_t length)
{
	struct kipc_stat st;
	int saved = errno;

	if (!region_stat(fd, &st)) {
		errno = saved;
		return -1;
	}
	if (length < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)length == st.region.size)
		return 0;
	if (kipc_region_resize(fd, length)) {
		/* Not open for writing: EINVAL, as ftruncate(2) on a file. */
		if (errno == EBADF)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

KIPC_EXPORT int ftruncate(int fd, off_t length)
{

	if (stock()->ftruncate(fd, length) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	return region_truncate(fd, length);
}

KIPC_EXPORT int ftruncate64(int fd, off64_t length)
{

	if (stock()->ftruncate64(fd, length) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	return region_truncate(fd, length);
}

#define REGION_FSTAT(buf, st) do {					\
	long page = sysconf(_SC_PAGESIZE);				\
									\
	(buf)->st_mode = S_IFREG | ((st).mode & 0777);			\
	(buf)->st_size = (st).region.size;				\
	(buf)->st_blocks = ((st).region.size + page - 1) / page *	\
			   (page / 512);				\
	(buf)->st_blksize = page;					\
	(buf)->st_uid = (st).uid;					\
	(buf)->st_gid = (st).gid;					\
	(buf)->st_ino = (st).id;					\
	(buf)->st_nlink = !!((st).flags & KIPC_STAT_NAMED);		\
} while (0)

/*
 * fstat and fstat64 (the same on 64-bit targets, not on 32-bit ones): the
 * stock call, then a region's own numbers for an anon inode that is one.
 * Regular files, pipes, sockets...: not an anon inode, no ioctl.
 */
#define DEFINE_FSTAT(name, statbuf)					\
KIPC_EXPORT int name(int fd, struct statbuf *buf)			\
{									\
	struct kipc_stat st;						\
	int saved;							\
									\
	if (stock()->name(fd, buf))					\
		return -1;						\
	if (buf->st_mode & S_IFMT)					\
		return 0;						\
	saved = errno;							\
	if (region_stat(fd, &st))					\
		REGION_FSTAT(buf, st);					\
	errno = saved;							\
	return 0;							\
}

DEFINE_FSTAT(fstat, stat)
DEFINE_FSTAT(fstat64, stat64)

/*
 * fchmod and fchown: region fds only.  These must not reach the kernel
 * first: on an anon-inode fd they would change the one inode that every
 * anon-inode fd of the system shares (root may), or fail (others may not).
 */
static int is_region(int fd, struct kipc_stat *st)
{
	struct stat sb;
	int saved = errno, ret;

	ret = !stock()->fstat(fd, &sb) && !(sb.st_mode & S_IFMT) && region_stat(fd, st);
	errno = saved;
	return ret;
}

KIPC_EXPORT int fchmod(int fd, mode_t mode)
{
	struct kipc_set set = { .valid = KIPC_SET_MODE, .mode = mode & 0777 };
	struct kipc_stat st;

	if (!is_region(fd, &st))
		return stock()->fchmod(fd, mode);
	return kipc_set(fd, &set);
}

KIPC_EXPORT int fchown(int fd, uid_t owner, gid_t group)
{
	struct kipc_set set = { 0 };
	struct kipc_stat st;

	if (!is_region(fd, &st))
		return stock()->fchown(fd, owner, group);
	if (owner == (uid_t)-1 && group == (gid_t)-1)
		return 0;
	if (owner != (uid_t)-1) {
		set.valid |= KIPC_SET_UID;
		set.uid = owner;
	}
	if (group != (gid_t)-1) {
		set.valid |= KIPC_SET_GID;
		set.gid = group;
	}
	return kipc_set(fd, &set);
}

/* posix_fallocate and fallocate: growing a region to @offset + @len. */
static int region_grow(int fd, const struct kipc_stat *st, off64_t offset,
		       off64_t len)
{
	if (offset < 0 || len <= 0)
		return EINVAL;
	if (offset > INT64_MAX - len)
		return EFBIG;
	if ((uint64_t)(offset + len) <= st->region.size)
		return 0;
	return kipc_region_resize(fd, offset + len) ? errno : 0;
}

/* posix_fallocate returns the error; errno is left alone. */
#define DEFINE_POSIX_FALLOCATE(name, off)				\
KIPC_EXPORT int name(int fd, off offset, off len)			\
{									\
	struct kipc_stat st;						\
	int saved = errno, ret;						\
									\
	ret = stock()->name(fd, offset, len);				\
	if (ret == ENODEV && region_stat(fd, &st))			\
		ret = region_grow(fd, &st, offset, len);		\
	errno = saved;							\
	return ret;							\
}

DEFINE_POSIX_FALLOCATE(posix_fallocate, off_t)
DEFINE_POSIX_FALLOCATE(posix_fallocate64, off64_t)

#define DEFINE_FALLOCATE(name, off)					\
KIPC_EXPORT int name(int fd, int mode, off offset, off len)		\
{									\
	struct kipc_stat st;						\
	int ret;							\
									\
	if (!stock()->name(fd, mode, offset, len))			\
		return 0;						\
	if (errno != ENODEV || !region_stat(fd, &st)) {			\
		errno = ENODEV;						\
		return -1;						\
	}								\
	if (mode & ~FALLOC_FL_KEEP_SIZE)				\
		ret = EOPNOTSUPP;					\
	else if (mode & FALLOC_FL_KEEP_SIZE)				\
		ret = offset < 0 || len <= 0 ? EINVAL : 0;		\
	else								\
		ret = region_grow(fd, &st, offset, len);		\
	if (ret) {							\
		errno = ret;						\
		return -1;						\
	}								\
	return 0;							\
}

DEFINE_FALLOCATE(fallocate, off_t)
DEFINE_FALLOCATE(fallocate64, off64_t)

/* fstatfs: a region is memory, as a tmpfs file is. */
#define DEFINE_FSTATFS(name, statbuf)					\
KIPC_EXPORT int name(int fd, struct statbuf *buf)			\
{									\
	struct kipc_stat st;						\
	int saved;							\
									\
	if (stock()->name(fd, buf))					\
		return -1;						\
	if (buf->f_type != ANON_INODE_FS_MAGIC)				\
		return 0;						\
	saved = errno;							\
	if (region_stat(fd, &st))					\
		buf->f_type = TMPFS_MAGIC;				\
	errno = saved;							\
	return 0;							\
}

DEFINE_FSTATFS(fstatfs, statfs)
DEFINE_FSTATFS(fstatfs64, statfs64)

/*
 * fcntl: the seal commands on a region, everything else (and every other
 * fd) as libc does it.  The argument is passed on as glibc's own wrapper
 * reads it, one pointer-sized word.
 */
static int region_fcntl(int fd, int cmd, void *arg, int *ret)
{
	struct kipc_stat st;
	int saved = errno;

	if (!region_stat(fd, &st)) {
		errno = saved;
		return 0;
	}
	if (cmd == F_GET_SEALS)
		*ret = kipc_region_get_seals(fd);
	else
		*ret = kipc_region_add_seals(fd, (uint32_t)(uintptr_t)arg);
	/* The kernel's errors for a sealed region: memfd's. */
	if (*ret < 0 && errno == EBADF)
		errno = EPERM;
	return 1;
}

#define DEFINE_FCNTL(name)						\
KIPC_EXPORT int name(int fd, int cmd, ...)				\
{									\
	va_list ap;							\
	void *arg;							\
	int ret;							\
									\
	va_start(ap, cmd);						\
	arg = va_arg(ap, void *);					\
	va_end(ap);							\
	/* fcntl64 is glibc 2.28's; fcntl is the same on 64-bit. */	\
	ret = (stock()->name ? stock()->name : stock()->fcntl)(fd, cmd, arg); \
	if (ret >= 0 || errno != EINVAL ||				\
	    (cmd != F_GET_SEALS && cmd != F_ADD_SEALS))			\
		return ret;						\
	if (region_fcntl(fd, cmd, arg, &ret))				\
		return ret;						\
	errno = EINVAL;							\
	return -1;							\
}

DEFINE_FCNTL(fcntl)
DEFINE_FCNTL(fcntl64)
