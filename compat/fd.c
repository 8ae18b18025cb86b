// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fd calls that must know a kipc region fd: ftruncate(), fstat(),
 * fchmod() and fchown().  They are interposed whatever the backend, since
 * any fd may be a region passed from elsewhere.
 *
 * shm_open() (shm.c) returns a region fd, and mmap() works on it as on a
 * tmpfs file.  ftruncate() and fstat() do not: a region fd is an anon-inode fd,
 * whose inode is not a regular file, so the kernel fails ftruncate() with
 * EINVAL and fstat() reports the shared anon inode (no file type, size 0).
 * We therefore interpose ftruncate() and fstat() too, for region fds only:
 * every other fd takes the stock path first, and only a stock failure
 * (EINVAL from ftruncate) or an inode without a file type (fstat) costs one
 * KIPC_IOC_STAT to tell a region from other anon-inode fds.  On a region,
 * ftruncate() is KIPC_IOC_REGION_RESIZE and fstat() reports a regular file
 * of the region's size, mode and owner (st_ino is the kipc id).  The one
 * difference left: a region cannot be resized while it is mapped (EBUSY),
 * where tmpfs allows it; resizing to the current size is always accepted.
 * fchmod() and fchown() on a region fd are KIPC_IOC_SET (see below);
 * fallocate(), fsync() and lseek() are not emulated and fail as the
 * anon-inode fd makes them fail.
 * fstat64 and ftruncate64 are the same functions on 64-bit targets;
 * syscall(2) and fstatat(2) are not interposed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
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
