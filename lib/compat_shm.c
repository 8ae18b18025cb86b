// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * POSIX (shm_open) and SysV (shm*) shared memory with their stock
 * signatures, routed to kipc regions; the backend rules are compat.c's.
 *
 * shm_open() returns a region fd, and mmap() works on it as on a tmpfs
 * file.  ftruncate() and fstat() do not: a region fd is an anon-inode fd,
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
 *
 * SysV: key K is the kipc region "sysv.shm.K" (K in hex), IPC_PRIVATE an
 * anonymous persistent one.  shmat() maps the id's fd (MAP_SHARED, the size
 * rounded up to pages) and records the mapping's length for shmdt(), which
 * unmaps it; fork()ed children inherit both.  IPC_RMID is kipc's remove: no
 * new attaches, and the memory goes with the last mapping (a mapping holds
 * the file).  Unlike Linux, a removed segment's id is gone at once: IPC_STAT
 * and shmat() on it fail with EINVAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"

#define SYSV_SHM_FMT	"sysv.shm.%08x"

/* SysV limits as include/uapi/linux/shm.h has them. */
#define SYSV_SHMMNI	4096

/* Is @fd a kipc region?  Fills @st if so. */
static int region_stat(int fd, struct kipc_stat *st)
{
	return ioctl(fd, KIPC_IOC_STAT, st) == 0 && st->type == KIPC_TYPE_REGION;
}

/* ftruncate and fstat: region fds only */

static int region_truncate(int fd, off_t length)
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
	return kipc_region_resize(fd, length);
}

KIPC_EXPORT int ftruncate(int fd, off_t length)
{
	static __typeof__(&ftruncate) stock;

	if (!stock)
		stock = STOCK(ftruncate);
	if (stock(fd, length) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	return region_truncate(fd, length);
}

KIPC_EXPORT int ftruncate64(int fd, off64_t length)
{
	static __typeof__(&ftruncate64) stock;

	if (!stock)
		stock = STOCK(ftruncate64);
	if (stock(fd, length) == 0)
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

KIPC_EXPORT int fstat(int fd, struct stat *buf)
{
	static __typeof__(&fstat) stock;
	struct kipc_stat st;
	int saved;

	if (!stock)
		stock = STOCK(fstat);
	if (stock(fd, buf))
		return -1;
	/* Regular files, pipes, sockets...: not an anon inode. */
	if (buf->st_mode & S_IFMT)
		return 0;
	saved = errno;
	if (region_stat(fd, &st))
		REGION_FSTAT(buf, st);
	errno = saved;
	return 0;
}

KIPC_EXPORT int fstat64(int fd, struct stat64 *buf)
{
	static __typeof__(&fstat64) stock;
	struct kipc_stat st;
	int saved;

	if (!stock)
		stock = STOCK(fstat64);
	if (stock(fd, buf))
		return -1;
	if (buf->st_mode & S_IFMT)
		return 0;
	saved = errno;
	if (region_stat(fd, &st))
		REGION_FSTAT(buf, st);
	errno = saved;
	return 0;
}

/*
 * fchmod and fchown: region fds only.  These must not reach the kernel
 * first: on an anon-inode fd they would change the one inode that every
 * anon-inode fd of the system shares (root may), or fail (others may not).
 */
static int is_region(int fd, struct kipc_stat *st)
{
	static __typeof__(&fstat) stock;
	struct stat sb;
	int saved = errno, ret;

	if (!stock)
		stock = STOCK(fstat);
	ret = !stock(fd, &sb) && !(sb.st_mode & S_IFMT) && region_stat(fd, st);
	errno = saved;
	return ret;
}

KIPC_EXPORT int fchmod(int fd, mode_t mode)
{
	struct kipc_set set = { .valid = KIPC_SET_MODE, .mode = mode & 0777 };
	struct kipc_stat st;

	if (!is_region(fd, &st))
		return STOCK(fchmod)(fd, mode);
	return kipc_set(fd, &set);
}

KIPC_EXPORT int fchown(int fd, uid_t owner, gid_t group)
{
	struct kipc_set set = { 0 };
	struct kipc_stat st;

	if (!is_region(fd, &st))
		return STOCK(fchown)(fd, owner, group);
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

/* POSIX shared memory */

/* As glibc: leading slashes go, and the rest must be one path component. */
static const char *shm_name(const char *name)
{
	if (!name) {
		errno = EINVAL;
		return NULL;
	}
	while (*name == '/')
		name++;
	if (strlen(name) >= NAME_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!*name || strchr(name, '/')) {
		errno = EINVAL;
		return NULL;
	}
	return name;
}

KIPC_EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
	const char *kname;
	int fd;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(shm_open)(name, oflag, mode);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
	kname = shm_name(name);
	if (!kname)
		return -1;
	fd = kipc_region_open(kname, open_flags(oflag & ~O_NONBLOCK),
			      (mode & 0777) & ~current_umask(), NULL);
	if (fd < 0)
		return -1;
	if ((oflag & O_TRUNC) && region_truncate(fd, 0)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

KIPC_EXPORT int shm_unlink(const char *name)
{
	const char *kname;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(shm_unlink)(name);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
	kname = shm_name(name);
	if (!kname)
		return -1;
	return kipc_unlink(KIPC_TYPE_REGION, kname);
}

/* SysV shared memory */

/* One shmat() of this process: what shmdt() must unmap. */
struct attach {
	void *addr;
	size_t len;
	struct attach *next;
};

static struct attach *attaches;
static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;

KIPC_EXPORT int shmget(key_t key, size_t size, int shmflg)
{
	struct kipc_region_attr attr = { .size = size };
	struct kipc_stat st;
	int id, fd;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(shmget)(key, size, shmflg);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
	if (!size && (key == IPC_PRIVATE ||
		      (shmflg & (IPC_CREAT | IPC_EXCL)) == (IPC_CREAT | IPC_EXCL))) {
		errno = EINVAL;		/* creation needs a size (SHMMIN 1) */
		return -1;
	}
	/* Only creation needs a size: an existing segment is looked up first. */
	if (!size) {
		id = sysv_get(KIPC_TYPE_REGION, SYSV_SHM_FMT, key,
			      shmflg & ~IPC_CREAT, &attr);
		if (id < 0 && errno == ENOENT && (shmflg & IPC_CREAT))
			errno = EINVAL;
	} else {
		id = sysv_get(KIPC_TYPE_REGION, SYSV_SHM_FMT, key, shmflg,
			      &attr);
	}
	if (id < 0)
		return -1;
	fd = id_fd(KIPC_TYPE_REGION, id);
	if (fd < 0 || kipc_stat(fd, &st) || size > st.region.size) {
		errno = EINVAL;
		return -1;
	}
	return id;
}

KIPC_EXPORT void *shmat(int shmid, const void *shmaddr, int shmflg)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t addr = (uintptr_t)shmaddr;
	int prot = PROT_READ, flags = MAP_SHARED, fd;
	struct attach *a, *old, **pp;
	struct kipc_stat st;
	void *p;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(shmat)(shmid, shmaddr, shmflg);
	case BACKEND_KIPC:
		break;
	default:
		return (void *)-1;
	}
	fd = id_fd(KIPC_TYPE_REGION, shmid);
	if (fd < 0)
		return (void *)-1;
	if (kipc_stat(fd, &st)) {
		sysv_result(shmid, -1);
		if (errno == EIDRM)
			errno = EINVAL;
		return (void *)-1;
	}
	if (!(shmflg & SHM_RDONLY))
		prot |= PROT_WRITE;
	if (shmflg & SHM_EXEC)
		prot |= PROT_EXEC;
	if (addr) {
		if (shmflg & SHM_RND)
			addr &= ~(uintptr_t)(SHMLBA - 1);
		if (addr & (page - 1)) {
			errno = EINVAL;
			return (void *)-1;
		}
		flags |= (shmflg & SHM_REMAP) ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	} else if (shmflg & SHM_REMAP) {
		errno = EINVAL;
		return (void *)-1;
	}
	a = malloc(sizeof(*a));
	if (!a) {
		errno = ENOMEM;
		return (void *)-1;
	}
	a->len = (st.region.size + page - 1) & ~(uint64_t)(page - 1);
	p = mmap((void *)addr, a->len, prot, flags, fd, 0);
	if (p == MAP_FAILED) {
		if (errno == EEXIST)
			errno = EINVAL;	/* overlap without SHM_REMAP */
		else if (errno == EIDRM) {
			id_forget(shmid);
			errno = EINVAL;
		}
		free(a);
		return (void *)-1;
	}
	a->addr = p;
	pthread_mutex_lock(&attach_lock);
	/* SHM_REMAP over an attach of ours replaced it. */
	for (pp = &attaches; (old = *pp);) {
		if (old->addr == p) {
			*pp = old->next;
			free(old);
		} else {
			pp = &old->next;
		}
	}
	a->next = attaches;
	attaches = a;
	pthread_mutex_unlock(&attach_lock);
	return p;
}

KIPC_EXPORT int shmdt(const void *shmaddr)
{
	struct attach **pp, *a;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(shmdt)(shmaddr);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
	pthread_mutex_lock(&attach_lock);
	for (pp = &attaches; (a = *pp); pp = &a->next)
		if (a->addr == shmaddr) {
			*pp = a->next;
			break;
		}
	pthread_mutex_unlock(&attach_lock);
	if (!a) {
		errno = EINVAL;
		return -1;
	}
	munmap(a->addr, a->len);
	free(a);
	return 0;
}

static int shm_info_cmd(int cmd, void *buf)
{
	struct kipc_info info;
	long page = sysconf(_SC_PAGESIZE);

	if (kipc_info(&info))
		return -1;
	if (cmd == IPC_INFO) {
		struct shminfo *si = buf;

		memset(si, 0, sizeof(*si));
		si->shmmax = info.max_region_size;
		si->shmmin = 1;
		si->shmmni = info.max_objects > SYSV_SHMMNI ? SYSV_SHMMNI :
			     info.max_objects;
		si->shmseg = si->shmmni;
		si->shmall = info.max_user_bytes / page;
	} else {
		struct shm_info *si = buf;

		memset(si, 0, sizeof(*si));
		si->used_ids = info.objects[KIPC_TYPE_REGION];
		/* Bytes charged, payloads included: an upper bound. */
		si->shm_tot = info.bytes / page;
		si->shm_rss = si->shm_tot;
	}
	return 0;
}

KIPC_EXPORT int shmctl(int shmid, int cmd, struct shmid_ds *buf)
{
	struct kipc_stat st;
	struct kipc_set set;
	int fd;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(shmctl)(shmid, cmd, buf);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
	if (!buf && (cmd == IPC_STAT || cmd == IPC_SET || cmd == IPC_INFO ||
		     cmd == SHM_INFO)) {
		errno = EFAULT;
		return -1;
	}
	if (cmd == IPC_INFO || cmd == SHM_INFO)
		return shm_info_cmd(cmd, buf);
	fd = id_fd(KIPC_TYPE_REGION, shmid);
	if (fd < 0)
		return -1;

	switch (cmd) {
	case IPC_STAT:
		if (kipc_stat(fd, &st))
			return sysv_result(shmid, -1);
		if (st.flags & KIPC_STAT_REMOVED) {
			id_forget(shmid);
			errno = EINVAL;
			return -1;
		}
		memset(buf, 0, sizeof(*buf));
		fill_perm(&buf->shm_perm, &st, SYSV_SHM_FMT);
		buf->shm_segsz = st.region.size;
		buf->shm_atime = st.region.atime_ns / 1000000000;
		buf->shm_dtime = st.region.dtime_ns / 1000000000;
		buf->shm_ctime = st.ctime_ns / 1000000000;
		buf->shm_cpid = st.cpid;
		buf->shm_lpid = st.region.lpid;
		buf->shm_nattch = st.region.nattch;
		return 0;
	case IPC_SET:
		memset(&set, 0, sizeof(set));
		set.valid = KIPC_SET_UID | KIPC_SET_GID | KIPC_SET_MODE;
		set.uid = buf->shm_perm.uid;
		set.gid = buf->shm_perm.gid;
		set.mode = buf->shm_perm.mode & 0777;
		return sysv_result(shmid, kipc_set(fd, &set));
	case IPC_RMID:
		if (kipc_remove(fd)) {
			if (errno == EIDRM) {
				id_forget(shmid);
				errno = EINVAL;
			}
			return -1;
		}
		id_forget(shmid);
		return 0;
	case SHM_LOCK:
	case SHM_UNLOCK:
		/* shmem pages are not locked by kipc; accept as a no-op. */
		return 0;
	default:
		errno = EINVAL;
		return -1;
	}
}
