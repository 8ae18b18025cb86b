// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * POSIX semaphores (sem_*) and SysV semaphore sets (sem*) with their stock
 * signatures, routed to /dev/kipc; the backend rules are backend.c's.
 *
 * Named semaphores are kipc objects: sem_open() returns a handle of ours
 * holding the fd and the id of the named kipc semaphore ("/name" is the
 * kipc name "name").  Opening a semaphore this process has open returns
 * the same handle, as glibc's does (one reference per sem_open(), the last
 * sem_close() frees it).  The handles live in an arena of
 * ours (one reservation, touched as used), so that a sem_t * is known to be
 * ours by its address alone.  A handle whose fd a daemon closed (close.c)
 * reopens the semaphore by id on its next use.
 *
 * Unnamed semaphores (sem_init) are not routed: sem_init() and
 * sem_destroy() are glibc's, and every sem_* call on a sem_t that is not
 * one of our handles goes straight to glibc.  On Linux an unnamed
 * semaphore is a word of its memory and a futex, not a kernel object, so
 * it has exactly the lifetime of that memory, whatever kills its
 * processes; a private one (pshared 0: CPython's thread locks) is copied
 * by fork() with the rest of the memory; neither needs a descriptor.  The
 * futex works in kipc memory too (shm_open regions, SysV segments: shmem
 * pages).  kipc has nothing to add there, and a kipc object per sem_t
 * could only leak (a killed PostgreSQL left 127 per crash).
 *
 * The counter of a named one is a KIPC_SEM_POSIX one: SEM_VALUE_MAX is the
 * limit, and a post past it is EOVERFLOW.  Every wait and post is one
 * ioctl; the mapped fast path is not used.
 *
 * SysV: key K is the kipc set "sysv.sem.K" (K in hex), IPC_PRIVATE an
 * anonymous persistent set; SEM_UNDO is KIPC_SEMOP_UNDO, applied when the
 * process exits (or closes its last fd of the set, see kmod/sem.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <unistd.h>

#include "compat.h"

#define SYSV_SEM_FMT	"sysv.sem.%08x"

/* SysV limits as include/uapi/linux/sem.h has them. */
#define SYSV_SEMMSL	32000
#define SYSV_SEMMNI	32000
#define SYSV_SEMMNS	(SYSV_SEMMNI * SYSV_SEMMSL)

#define KSEM_OPEN	0x6b736f31	/* a live handle from sem_open */

struct ksem {
	uint32_t magic;
	uint32_t id;
	_Atomic int32_t fd;	/* -1: closed behind our back, reopen by id */
	uint32_t next;		/* free list: index + 1 of the next free slot */
	uint32_t refs;		/* under arena_lock: sem_open()s not closed */
};

union ksem_slot {
	struct ksem k;
	sem_t sem;
};

_Static_assert(sizeof(union ksem_slot) == sizeof(sem_t), "sem_t");

/*
 * The arena: KSEM_MAX handles in one reservation made by the first
 * sem_open().  Only the pages of handles ever used are touched; fork()
 * copies it with the rest of the memory, the fds with the table.
 */
#define KSEM_MAX	65536
#define KSEM_BYTES	(KSEM_MAX * sizeof(union ksem_slot))

static _Atomic uintptr_t arena;		/* 0 until the first sem_open */
static uint32_t arena_used;		/* slots handed out at least once */
static uint32_t arena_free;		/* index + 1 of a free slot, 0: none */
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;

/* Is @sem one of our handles?  Lock-free: glibc's pay one compare. */
static inline bool ksem_ours(const sem_t *sem)
{
	uintptr_t base = atomic_load_explicit(&arena, memory_order_acquire);

	return base && (uintptr_t)sem - base < KSEM_BYTES;
}

/* A free handle, under arena_lock; NULL with ENOMEM. */
static struct ksem *ksem_alloc_locked(void)
{
	union ksem_slot *slots;
	struct ksem *k = NULL;
	void *p;

	if (!atomic_load_explicit(&arena, memory_order_relaxed)) {
		p = mmap(NULL, KSEM_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			goto out;
		atomic_store_explicit(&arena, (uintptr_t)p,
				      memory_order_release);
	}
	slots = (union ksem_slot *)atomic_load_explicit(&arena,
							memory_order_relaxed);
	if (arena_free) {
		k = &slots[arena_free - 1].k;
		arena_free = k->next;
	} else if (arena_used < KSEM_MAX) {
		k = &slots[arena_used++].k;
	}
out:
	if (!k)
		errno = ENOMEM;
	return k;
}

void ksem_fds_gone(int lo, int hi)
{
	union ksem_slot *slots = (union ksem_slot *)atomic_load(&arena);
	uint32_t i;
	int fd;

	if (!slots)
		return;
	pthread_mutex_lock(&arena_lock);
	for (i = 0; i < arena_used; i++) {
		fd = atomic_load(&slots[i].k.fd);
		if (slots[i].k.magic == KSEM_OPEN && fd >= lo && fd <= hi &&
		    atomic_compare_exchange_strong(&slots[i].k.fd, &fd, -1))
			fd_disown(fd);
	}
	pthread_mutex_unlock(&arena_lock);
}

/* The fd behind our handle @sem, reopened by id if it was closed. */
static int ksem_fd(sem_t *sem)
{
	struct ksem *k = (struct ksem *)sem;
	int fd = atomic_load(&k->fd), old = -1;

	if (k->magic != KSEM_OPEN) {
		errno = EINVAL;
		return -1;
	}
	if (fd >= 0)
		return fd;
	fd = kipc_open_id(KIPC_TYPE_SEM, k->id, KIPC_O_RDWR | KIPC_O_CLOEXEC);
	if (fd < 0) {
		/* Unlinked and closed everywhere: it is gone. */
		if (errno == ENOENT)
			errno = EINVAL;
		return -1;
	}
	if (!atomic_compare_exchange_strong(&k->fd, &old, fd)) {
		close_nocancel(fd);	/* another thread reopened it first */
		return old;
	}
	fd_own(fd);
	return fd;
}

/* A kipc error of a POSIX semaphore call, as sem_*(3) name them. */
static int ksem_result(int ret)
{
	if (ret < 0 && (errno == EIDRM || errno == EBADF || errno == ENOTTY))
		errno = EINVAL;
	return ret < 0 ? -1 : 0;
}


/*
 * sem_open() of a semaphore this process has open already returns the
 * same handle, as glibc maps one file once: one reference per open, one
 * sem_close() per reference.  A live handle is found by its kipc id.
 * Returns the handle of @id, whose new fd @fd is then ours or closed.
 */
static struct ksem *ksem_get(uint32_t id, int fd)
{
	union ksem_slot *slots;
	struct ksem *k = NULL;
	uint32_t i;
	bool spare = false;

	pthread_mutex_lock(&arena_lock);
	slots = (union ksem_slot *)atomic_load_explicit(&arena,
							memory_order_relaxed);
	for (i = 0; slots && i < arena_used; i++) {
		if (slots[i].k.magic == KSEM_OPEN && slots[i].k.id == id) {
			int gone = -1;

			k = &slots[i].k;
			k->refs++;
			/* Its fd closed behind our back: take the new one. */
			spare = !atomic_compare_exchange_strong(&k->fd, &gone,
								fd);
			if (!spare)
				fd_own(fd);
			break;
		}
	}
	if (!k) {
		k = ksem_alloc_locked();
		if (k) {
			k->id = id;
			atomic_store(&k->fd, fd);
			k->refs = 1;
			k->magic = KSEM_OPEN;
			fd_own(fd);
		}
	}
	pthread_mutex_unlock(&arena_lock);
	/* Closed outside the lock: close() takes it when an fd is ours. */
	if (!k || spare) {
		int err = errno;

		close_nocancel(fd);
		errno = err;
	}
	return k;
}

/*
 * Drop a reference to @k: true when it was the last, the handle freed and
 * its fd (or -1) left in @fd for the caller to close.
 */
static bool ksem_put(struct ksem *k, int *fd)
{
	union ksem_slot *slots = (union ksem_slot *)atomic_load(&arena);
	bool last;

	pthread_mutex_lock(&arena_lock);
	last = !--k->refs;
	if (last) {
		*fd = atomic_exchange(&k->fd, -1);
		k->magic = 0;
		k->next = arena_free;
		arena_free = (uint32_t)((union ksem_slot *)k - slots) + 1;
	}
	pthread_mutex_unlock(&arena_lock);
	return last;
}

KIPC_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
	struct kipc_sem_attr attr = { .nsems = 1, .flags = KIPC_SEM_POSIX };
	unsigned int value = 0;
	const char *kname;
	struct ksem *k;
	mode_t mode = 0;
	va_list ap;
	uint32_t id;
	int flags, fd;

	if (oflag & O_CREAT) {
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		value = va_arg(ap, unsigned int);
		va_end(ap);
	}
	ROUTE(SEM_FAILED, sem_open, name, oflag, mode, value);
	kname = posix_obj_name(name, NAME_MAX - 4);	/* glibc's "sem." */
	if (!kname)
		return SEM_FAILED;
	if ((oflag & O_CREAT) && value > SEM_VALUE_MAX) {
		errno = EINVAL;
		return SEM_FAILED;
	}
	attr.value = value;
	/* sem_open(3) ignores the access mode: a semaphore is read-write. */
	flags = open_flags((oflag & (O_CREAT | O_EXCL)) | O_RDWR);
	fd = kipc_open(KIPC_TYPE_SEM, kname, flags,
		       (mode & 0777) & ~current_umask(), &attr, &id);
	if (fd < 0)
		return SEM_FAILED;
	k = ksem_get(id, fd);
	return k ? (sem_t *)k : SEM_FAILED;
}

KIPC_EXPORT int sem_close(sem_t *sem)
{
	struct ksem *k = (struct ksem *)sem;
	int fd;

	if (!ksem_ours(sem))
		return stock()->sem_close(sem);
	if (k->magic != KSEM_OPEN) {
		errno = EINVAL;
		return -1;
	}
	if (!ksem_put(k, &fd))
		return 0;
	if (fd >= 0) {
		fd_disown(fd);
		close_nocancel(fd);
	}
	return 0;
}

KIPC_EXPORT int sem_unlink(const char *name)
{
	const char *kname;

	ROUTE(-1, sem_unlink, name);
	kname = posix_obj_name(name, NAME_MAX - 4);	/* glibc's "sem." */
	if (!kname) {
		if (errno == EINVAL)
			errno = ENOENT;
		return -1;
	}
	return kipc_unlink(KIPC_TYPE_SEM, kname);
}

static int ksem_wait(sem_t *sem, int flags, clockid_t clock,
		     const struct timespec *abstime)
{
	int fd = ksem_fd(sem), ct, ret;

	if (fd < 0)
		return -1;
	if (abstime) {
		/* As glibc: a bad timeout is EINVAL even if no wait is due. */
		if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000) {
			errno = EINVAL;
			return -1;
		}
		flags |= KIPC_F_ABSTIME;
	}
	if (flags & KIPC_F_NONBLOCK)
		return ksem_result(kipc_sem_wait(fd, flags, clock, abstime));
	/* sem_wait and the timed ones are cancellation points, trywait not. */
	ct = cancel_enter();
	ret = kipc_sem_wait(fd, flags, clock, abstime);
	cancel_leave(ct);
	return ksem_result(ret);
}

KIPC_EXPORT int sem_wait(sem_t *sem)
{
	if (!ksem_ours(sem))
		return stock()->sem_wait(sem);
	return ksem_wait(sem, 0, CLOCK_REALTIME, NULL);
}

KIPC_EXPORT int sem_trywait(sem_t *sem)
{
	if (!ksem_ours(sem))
		return stock()->sem_trywait(sem);
	return ksem_wait(sem, KIPC_F_NONBLOCK, CLOCK_REALTIME, NULL);
}

KIPC_EXPORT int sem_timedwait(sem_t *sem, const struct timespec *abstime)
{
	if (!ksem_ours(sem))
		return stock()->sem_timedwait(sem, abstime);
	return ksem_wait(sem, 0, CLOCK_REALTIME, abstime);
}

KIPC_EXPORT int sem_clockwait(sem_t *sem, clockid_t clock,
			      const struct timespec *abstime)
{
	if (!ksem_ours(sem))
		return stock()->sem_clockwait(sem, clock, abstime);
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) {
		errno = EINVAL;
		return -1;
	}
	return ksem_wait(sem, 0, clock, abstime);
}

KIPC_EXPORT int sem_post(sem_t *sem)
{
	int fd;

	if (!ksem_ours(sem))
		return stock()->sem_post(sem);
	fd = ksem_fd(sem);
	if (fd < 0)
		return -1;
	return ksem_result(kipc_sem_post(fd));
}

KIPC_EXPORT int sem_getvalue(sem_t *sem, int *sval)
{
	struct kipc_semval v = { .num = 0 };
	int fd;

	if (!ksem_ours(sem))
		return stock()->sem_getvalue(sem, sval);
	fd = ksem_fd(sem);
	if (fd < 0)
		return -1;
	if (ksem_result(kipc_sem_getval(fd, &v)))
		return -1;
	*sval = v.value;
	return 0;
}

/* SysV semaphore sets */

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

/* The number of counters of set @fd, or -1. */
static int set_nsems(int fd)
{
	struct kipc_stat st;

	if (kipc_stat(fd, &st))
		return -1;
	return st.sem.nsems;
}

KIPC_EXPORT int semget(key_t key, int nsems, int semflg)
{
	struct kipc_sem_attr attr = { .nsems = nsems };
	int id, fd, have;

	ROUTE(-1, semget, key, nsems, semflg);
	if (nsems < 0 || nsems > SYSV_SEMMSL) {
		errno = EINVAL;
		return -1;
	}
	/* Only creation needs a size: an existing set is looked up first. */
	if (!nsems && key != IPC_PRIVATE)
		id = id_get(KIPC_TYPE_SEM, SYSV_SEM_FMT, key,
			      semflg & ~IPC_CREAT, &attr);
	else
		id = id_get(KIPC_TYPE_SEM, SYSV_SEM_FMT, key, semflg, &attr);
	if (id < 0)
		return -1;
	fd = id_fd(KIPC_TYPE_SEM, id);
	have = fd < 0 ? -1 : set_nsems(fd);
	if (have < 0 || nsems > have) {
		errno = EINVAL;
		return -1;
	}
	return id;
}

/*
 * semop and semtimedop are plain system calls in glibc, no cancellation
 * points.  The operations and the timeout are read as the kernel reads
 * them (copy_in()): a bad pointer is EFAULT.
 */
KIPC_EXPORT int semtimedop(int semid, struct sembuf *sops, size_t nsops,
			   const struct timespec *timeout)
{
	struct kipc_sembuf kops[KIPC_SEMOP_MAX];
	struct sembuf ops[KIPC_SEMOP_MAX];
	struct timespec ts;
	size_t i;
	int fd, ret;

	ROUTE(-1, semtimedop, semid, sops, nsops, timeout);
	if (nsops < 1 || semid < 0) {
		errno = EINVAL;
		return -1;
	}
	if (nsops > KIPC_SEMOP_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (copy_in(ops, sops, nsops * sizeof(*sops)))
		return -1;
	if (timeout) {
		if (copy_in(&ts, timeout, sizeof(ts)))
			return -1;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 ||
		    ts.tv_nsec >= 1000000000) {
			errno = EINVAL;
			return -1;
		}
	}
	fd = id_fd(KIPC_TYPE_SEM, semid);
	if (fd < 0)
		return -1;
	for (i = 0; i < nsops; i++) {
		memset(&kops[i], 0, sizeof(kops[i]));
		kops[i].num = ops[i].sem_num;
		kops[i].delta = ops[i].sem_op;
		if (ops[i].sem_flg & SEM_UNDO)
			kops[i].flags |= KIPC_SEMOP_UNDO;
		if (ops[i].sem_flg & IPC_NOWAIT)
			kops[i].flags |= KIPC_SEMOP_NOWAIT;
	}
	ret = kipc_semop(fd, kops, nsops, 0, CLOCK_MONOTONIC,
			 timeout ? &ts : NULL);
	/* semtimedop(2) reports an expired timeout as EAGAIN. */
	if (ret < 0 && errno == ETIMEDOUT)
		errno = EAGAIN;
	return id_result(semid, ret < 0 ? -1 : 0);
}

KIPC_EXPORT int semop(int semid, struct sembuf *sops, size_t nsops)
{
	ROUTE(-1, semop, semid, sops, nsops);
	return semtimedop(semid, sops, nsops, NULL);
}

static int sem_info(int cmd, struct seminfo *si)
{
	struct kipc_info info;

	if (kipc_info(&info))
		return -1;
	memset(si, 0, sizeof(*si));
	si->semmsl = info.max_nsems > SYSV_SEMMSL ? SYSV_SEMMSL :
		     (int)info.max_nsems;
	si->semmni = info.max_objects > SYSV_SEMMNI ? SYSV_SEMMNI :
		     (int)info.max_objects;
	si->semmns = SYSV_SEMMNS;
	si->semopm = KIPC_SEMOP_MAX;
	si->semvmx = KIPC_SEM_VMX;
	si->semaem = KIPC_SEM_VMX;
	si->semmap = si->semmns;
	si->semume = KIPC_SEMOP_MAX;
	si->semusz = 20;
	if (cmd == SEM_INFO) {
		/* Sets, and (not tracked module-wide) counters: sets again. */
		si->semusz = info.objects[KIPC_TYPE_SEM];
		si->semaem = info.objects[KIPC_TYPE_SEM];
	}
	return 0;
}

/*
 * GETALL and SETALL: kipc's counters are int32_t, SysV's unsigned short,
 * so each goes through a buffer of the set's size (on the stack if small).
 */
static int sem_all(int fd, unsigned short *array, bool set)
{
	int32_t stack[64], *vals = stack;
	int n = set_nsems(fd), i, ret;

	if (n < 0)
		return -1;
	if (n > (int)(sizeof(stack) / sizeof(stack[0]))) {
		vals = calloc(n, sizeof(*vals));
		if (!vals) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (set) {
		for (i = 0; i < n; i++)
			vals[i] = array[i];
		ret = kipc_sem_setall(fd, vals, n);
	} else {
		ret = kipc_sem_getall(fd, vals, n);
		for (i = 0; ret >= 0 && i < n; i++)
			array[i] = vals[i];
	}
	if (vals != stack)
		free(vals);
	return ret < 0 ? -1 : 0;
}

KIPC_EXPORT int semctl(int semid, int semnum, int cmd, ...)
{
	struct kipc_set set = { 0 };
	union semun arg = { 0 };
	struct ipc_perm perm;
	struct kipc_semval v;
	struct kipc_stat st;
	va_list ap;
	int fd;

	switch (cmd) {
	case SETVAL:
	case GETALL:
	case SETALL:
	case IPC_STAT:
	case IPC_SET:
	case IPC_INFO:
	case SEM_INFO:
	case SEM_STAT:
	case SEM_STAT_ANY:
		va_start(ap, cmd);
		arg = va_arg(ap, union semun);
		va_end(ap);
		break;
	}
	ROUTE(-1, semctl, semid, semnum, cmd, arg);
	if (!arg.buf && (cmd == IPC_STAT || cmd == IPC_SET || cmd == IPC_INFO ||
			 cmd == SEM_INFO || cmd == GETALL || cmd == SETALL)) {
		errno = EFAULT;
		return -1;
	}
	if (cmd == IPC_INFO || cmd == SEM_INFO)
		return sem_info(cmd, arg.__buf);
	if (cmd == SEM_STAT || cmd == SEM_STAT_ANY) {
		/* Index-based enumeration is kipcs' job (netlink). */
		errno = EINVAL;
		return -1;
	}
	fd = id_fd(KIPC_TYPE_SEM, semid);
	if (fd < 0)
		return -1;

	switch (cmd) {
	case GETVAL:
	case GETNCNT:
	case GETZCNT:
	case GETPID:
		if (semnum < 0) {
			errno = EINVAL;
			return -1;
		}
		memset(&v, 0, sizeof(v));
		v.num = semnum;
		if (kipc_sem_getval(fd, &v))
			return id_result(semid, -1);
		return cmd == GETVAL ? v.value : cmd == GETNCNT ? (int)v.ncnt :
		       cmd == GETZCNT ? (int)v.zcnt : v.pid;
	case SETVAL:
		if (semnum < 0) {
			errno = EINVAL;
			return -1;
		}
		return id_result(semid, kipc_sem_setval(fd, semnum, arg.val));
	case GETALL:
		return id_result(semid, sem_all(fd, arg.array, false));
	case SETALL:
		return id_result(semid, sem_all(fd, arg.array, true));
	case IPC_STAT:
		if (id_stat(semid, fd, SYSV_SEM_FMT, &st, &perm))
			return -1;
		memset(arg.buf, 0, sizeof(*arg.buf));
		arg.buf->sem_perm = perm;
		arg.buf->sem_otime = st.sem.otime_ns / 1000000000;
		arg.buf->sem_ctime = st.ctime_ns / 1000000000;
		arg.buf->sem_nsems = st.sem.nsems;
		return 0;
	case IPC_SET:
		return id_set(semid, fd, &arg.buf->sem_perm, &set);
	case IPC_RMID:
		return id_remove(semid, fd);
	default:
		errno = EINVAL;
		return -1;
	}
}
