// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * POSIX (shm_open) and SysV (shm*) shared memory with their stock
 * signatures, routed to kipc regions; the backend rules are backend.c's.
 *
 * shm_open() returns a region fd, and mmap() works on it as on a tmpfs
 * file; ftruncate(), fstat(), posix_fallocate() and the rest on it are
 * fd.c's.  It is sealed with KIPC_SEAL_SEAL, as a tmpfs file is.
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "compat.h"

#define SYSV_SHM_FMT	"sysv.shm.%08x"

/* SysV limits as include/uapi/linux/shm.h has them. */
#define SYSV_SHMMNI	4096

/* POSIX shared memory */


KIPC_EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
	/* A tmpfs file, not a memfd: F_SEAL_SEAL from the start. */
	struct kipc_region_attr attr = { .seals = KIPC_SEAL_SEAL };
	const char *kname;
	int fd;

	ROUTE(-1, shm_open, name, oflag, mode);
	kname = posix_obj_name(name, NAME_MAX - 1);
	if (!kname)
		return -1;
	fd = kipc_region_open(kname, open_flags(oflag & ~O_NONBLOCK),
			      (mode & 0777) & ~current_umask(), &attr);
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

	ROUTE(-1, shm_unlink, name);
	kname = posix_obj_name(name, NAME_MAX - 1);
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

/* Does the caller have CAP_IPC_LOCK in its effective set? */
static bool has_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	return data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &
	       CAP_TO_MASK(CAP_IPC_LOCK);
}

/*
 * SHM_HUGETLB: the stock kernel (hugetlb_file_setup()) lets only callers
 * with CAP_IPC_LOCK and the group vm.hugetlb_shm_group create such
 * segments, EPERM for others.  A kipc region is never backed by huge
 * pages; those allowed get an ordinary one (kipc_compat(7)).
 */
static bool may_hugetlb(void)
{
	gid_t groups[256];
	unsigned int gid;
	int n, i, cs;
	bool ok = false;
	FILE *f;

	if (has_ipc_lock())
		return true;
	cs = nocancel_begin();
	f = fopen("/proc/sys/vm/hugetlb_shm_group", "re");
	if (f) {
		if (fscanf(f, "%u", &gid) == 1) {
			ok = getegid() == gid;
			n = getgroups(256, groups);
			for (i = 0; i < n && !ok; i++)
				ok = groups[i] == gid;
		}
		fclose(f);
	}
	nocancel_end(cs);
	return ok;
}

KIPC_EXPORT int shmget(key_t key, size_t size, int shmflg)
{
	struct kipc_region_attr attr = { .size = size };
	struct kipc_stat st;
	int id, fd;

	ROUTE(-1, shmget, key, size, shmflg);
	if ((shmflg & SHM_HUGETLB) && !may_hugetlb()) {
		errno = EPERM;
		return -1;
	}
	if (!size && (key == IPC_PRIVATE ||
		      (shmflg & (IPC_CREAT | IPC_EXCL)) == (IPC_CREAT | IPC_EXCL))) {
		errno = EINVAL;		/* creation needs a size (SHMMIN 1) */
		return -1;
	}
	/* Only creation needs a size: an existing segment is looked up first. */
	if (!size) {
		id = id_get(KIPC_TYPE_REGION, SYSV_SHM_FMT, key,
			      shmflg & ~IPC_CREAT, &attr);
		if (id < 0 && errno == ENOENT && (shmflg & IPC_CREAT))
			errno = EINVAL;
	} else {
		id = id_get(KIPC_TYPE_REGION, SYSV_SHM_FMT, key, shmflg,
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

	ROUTE((void *)-1, shmat, shmid, shmaddr, shmflg);
	fd = id_fd(KIPC_TYPE_REGION, shmid);
	if (fd < 0)
		return (void *)-1;
	if (kipc_stat(fd, &st)) {
		id_result(shmid, -1);
		if (errno == EIDRM)
			errno = EINVAL;
		return (void *)-1;
	}
	if (!(shmflg & SHM_RDONLY))
		prot |= PROT_WRITE;
	if (shmflg & SHM_EXEC)
		prot |= PROT_EXEC;
	/*
	 * As ipc/shm.c's do_shmat(): an address is fixed, SHM_RND rounds it
	 * down to SHMLBA, and SHM_REMAP may replace what is there but never
	 * at 0, where rounding a low address lands (CVE-2017-5669: that
	 * would map page 0).  Without SHM_REMAP the mapping must not
	 * overlap one (MAP_FIXED_NOREPLACE, EEXIST: EINVAL), and an address
	 * below vm.mmap_min_addr is the kernel's to refuse (EPERM).
	 */
	if (addr) {
		if (addr & (SHMLBA - 1)) {
			if (!(shmflg & SHM_RND)) {
				errno = EINVAL;
				return (void *)-1;
			}
			addr &= ~(uintptr_t)(SHMLBA - 1);
			if (!addr && (shmflg & SHM_REMAP)) {
				errno = EINVAL;
				return (void *)-1;
			}
		}
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

	ROUTE(-1, shmdt, shmaddr);
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
	struct kipc_set set = { 0 };
	struct ipc_perm perm;
	struct kipc_stat st;
	int fd;

	ROUTE(-1, shmctl, shmid, cmd, buf);
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
		if (id_stat(shmid, fd, SYSV_SHM_FMT, &st, &perm))
			return -1;
		memset(buf, 0, sizeof(*buf));
		buf->shm_perm = perm;
		buf->shm_segsz = st.region.size;
		buf->shm_atime = st.region.atime_ns / 1000000000;
		buf->shm_dtime = st.region.dtime_ns / 1000000000;
		buf->shm_ctime = st.ctime_ns / 1000000000;
		buf->shm_cpid = st.cpid;
		buf->shm_lpid = st.region.lpid;
		buf->shm_nattch = st.region.nattch;
		return 0;
	case IPC_SET:
		return id_set(shmid, fd, &buf->shm_perm, &set);
	case IPC_RMID:
		return id_remove(shmid, fd);
	case SHM_LOCK:
	case SHM_UNLOCK:
		/* shmem pages are not locked by kipc; accept as a no-op. */
		return 0;
	default:
		errno = EINVAL;
		return -1;
	}
}
