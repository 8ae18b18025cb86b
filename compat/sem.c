// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * POSIX semaphores (sem_*) and SysV semaphore sets (sem*) with their stock
 * signatures, routed to /dev/kipc; the backend rules are backend.c's.
 *
 * sem_t.  glibc's sem_t is 32 opaque bytes that the caller owns.  Ours
 * holds a magic and either an fd or an id:
 *  - sem_open() returns a malloc'd sem_t holding the fd of the named kipc
 *    semaphore ("/name" is the kipc name "name").  Opening a semaphore
 *    this process has open returns the same sem_t, as glibc's does; the
 *    last sem_close() of it frees it.
 *  - sem_init(pshared=0) keeps the fd of an anonymous semaphore in the
 *    sem_t: it dies with the process at the latest.
 *  - sem_init(pshared=1) creates an anonymous persistent semaphore and keeps
 *    its id, so that any process mapping the sem_t finds it: each opens the
 *    id once, lazily, through the id -> fd table of ids.c.  Like a SysV
 *    IPC_PRIVATE set, it lives until sem_destroy(), not until the memory
 *    holding the sem_t goes away: a program that never destroys it leaks it
 *    until the module's namespace goes.
 * The counter is a KIPC_SEM_POSIX one: SEM_VALUE_MAX is the limit, and a
 * post past it is EOVERFLOW.  Every wait and post is one ioctl; the mapped
 * fast path is not used (it would need a mapping per sem_t).
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
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <unistd.h>

#include "compat.h"

#define SYSV_SEM_FMT	"sysv.sem.%08x"

/* SysV limits as include/uapi/linux/sem.h has them. */
#define SYSV_SEMMSL	32000
#define SYSV_SEMMNI	32000
#define SYSV_SEMMNS	(SYSV_SEMMNI * SYSV_SEMMSL)

#define KSEM_OPEN	0x6b736f31	/* from sem_open: fd */
#define KSEM_LOCAL	0x6b736c31	/* sem_init(pshared=0): fd */
#define KSEM_SHARED	0x6b737331	/* sem_init(pshared=1): id */

struct ksem {
	uint32_t magic;
	uint32_t id;
	int32_t fd;
	uint32_t reserved;
};

_Static_assert(sizeof(struct ksem) <= sizeof(sem_t), "sem_t too small");

/* The fd behind @sem, or -1 with EINVAL. */
static int ksem_fd(sem_t *sem)
{
	struct ksem *k = (struct ksem *)sem;
	int fd;

	if (!sem) {
		errno = EINVAL;
		return -1;
	}
	switch (k->magic) {
	case KSEM_OPEN:
	case KSEM_LOCAL:
		return k->fd;
	case KSEM_SHARED:
		fd = id_fd(KIPC_TYPE_SEM, k->id);
		if (fd < 0)
			errno = EINVAL;
		return fd;
	default:
		errno = EINVAL;
		return -1;
	}
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
 * same sem_t, as glibc maps one file once: one reference per open, one
 * sem_close() per reference.  The table is by kipc id.
 */
struct ksem_open {
	struct ksem *k;
	unsigned int refs;
	struct ksem_open *next;
};

static struct ksem_open *ksem_opens;
static pthread_mutex_t ksem_open_lock = PTHREAD_MUTEX_INITIALIZER;

/* The sem_t of @fd's semaphore if open already (@fd is then closed). */
static struct ksem *ksem_open_get(int fd)
{
	struct ksem_open *o;
	struct kipc_stat st;
	struct ksem *k;

	if (kipc_stat(fd, &st))
		return NULL;
	pthread_mutex_lock(&ksem_open_lock);
	for (o = ksem_opens; o; o = o->next)
		if (o->k->id == st.id)
			break;
	if (o) {
		o->refs++;
		pthread_mutex_unlock(&ksem_open_lock);
		close_nocancel(fd);
		return o->k;
	}
	o = malloc(sizeof(*o));
	k = calloc(1, sizeof(sem_t));
	if (!o || !k) {
		pthread_mutex_unlock(&ksem_open_lock);
		free(o);
		free(k);
		close_nocancel(fd);
		errno = ENOMEM;
		return NULL;
	}
	k->magic = KSEM_OPEN;
	k->fd = fd;
	k->id = st.id;
	o->k = k;
	o->refs = 1;
	o->next = ksem_opens;
	ksem_opens = o;
	pthread_mutex_unlock(&ksem_open_lock);
	return k;
}

/* Drop a reference to @k: true when it was the last. */
static bool ksem_open_put(struct ksem *k)
{
	struct ksem_open **pp, *o;
	bool last = true;

	pthread_mutex_lock(&ksem_open_lock);
	for (pp = &ksem_opens; (o = *pp); pp = &o->next)
		if (o->k == k) {
			last = !--o->refs;
			if (last) {
				*pp = o->next;
				free(o);
			}
			break;
		}
	pthread_mutex_unlock(&ksem_open_lock);
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
	fd = kipc_sem_open(kname, flags, (mode & 0777) & ~current_umask(),
			   &attr);
	if (fd < 0)
		return SEM_FAILED;
	k = ksem_open_get(fd);
	return k ? (sem_t *)k : SEM_FAILED;
}

KIPC_EXPORT int sem_close(sem_t *sem)
{
	struct ksem *k = (struct ksem *)sem;

	ROUTE(-1, sem_close, sem);
	if (!k || k->magic != KSEM_OPEN) {
		errno = EINVAL;
		return -1;
	}
	if (!ksem_open_put(k))
		return 0;
	close_nocancel(k->fd);
	k->magic = 0;
	free(k);
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

KIPC_EXPORT int sem_init(sem_t *sem, int pshared, unsigned int value)
{
	struct kipc_sem_attr attr = {
		.nsems = 1, .flags = KIPC_SEM_POSIX, .value = value,
	};
	struct ksem *k = (struct ksem *)sem;
	int flags = KIPC_O_CREAT | KIPC_O_RDWR | KIPC_O_CLOEXEC, fd;
	uint32_t id;

	ROUTE(-1, sem_init, sem, pshared, value);
	if (value > SEM_VALUE_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (pshared)
		flags |= KIPC_O_PERSIST;
	fd = kipc_open(KIPC_TYPE_SEM, NULL, flags, 0600, &attr, &id);
	if (fd < 0)
		return -1;
	memset(sem, 0, sizeof(*sem));
	if (pshared) {
		/* Ours goes to the id table; other processes open theirs. */
		id_forget(id);
		id_remember(KIPC_TYPE_SEM, id, fd);
		k->id = id;
		k->fd = -1;
		k->magic = KSEM_SHARED;
	} else {
		k->id = id;
		k->fd = fd;
		k->magic = KSEM_LOCAL;
	}
	return 0;
}

KIPC_EXPORT int sem_destroy(sem_t *sem)
{
	struct ksem *k = (struct ksem *)sem;
	int ret = 0;

	ROUTE(-1, sem_destroy, sem);
	if (!k) {
		errno = EINVAL;
		return -1;
	}
	switch (k->magic) {
	case KSEM_LOCAL:
		close_nocancel(k->fd);
		break;
	case KSEM_SHARED:
		ret = kipc_remove_id(KIPC_TYPE_SEM, k->id);
		id_forget(k->id);
		if (ret < 0 && errno == ENOENT)
			errno = EINVAL;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	k->magic = 0;
	return ret < 0 ? -1 : 0;
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
	ROUTE(-1, sem_wait, sem);
	return ksem_wait(sem, 0, CLOCK_REALTIME, NULL);
}

KIPC_EXPORT int sem_trywait(sem_t *sem)
{
	ROUTE(-1, sem_trywait, sem);
	return ksem_wait(sem, KIPC_F_NONBLOCK, CLOCK_REALTIME, NULL);
}

KIPC_EXPORT int sem_timedwait(sem_t *sem, const struct timespec *abstime)
{
	ROUTE(-1, sem_timedwait, sem, abstime);
	return ksem_wait(sem, 0, CLOCK_REALTIME, abstime);
}

KIPC_EXPORT int sem_clockwait(sem_t *sem, clockid_t clock,
			      const struct timespec *abstime)
{
	ROUTE(-1, sem_clockwait, sem, clock, abstime);
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) {
		errno = EINVAL;
		return -1;
	}
	return ksem_wait(sem, 0, clock, abstime);
}

KIPC_EXPORT int sem_post(sem_t *sem)
{
	int fd;

	ROUTE(-1, sem_post, sem);
	fd = ksem_fd(sem);
	if (fd < 0)
		return -1;
	return ksem_result(kipc_sem_post(fd));
}

KIPC_EXPORT int sem_getvalue(sem_t *sem, int *sval)
{
	struct kipc_semval v = { .num = 0 };
	int fd;

	ROUTE(-1, sem_getvalue, sem, sval);
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
