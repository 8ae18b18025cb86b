/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to libkipc-compat: what the family files (mq.c, msg.c, sem.c,
 * shm.c, fd.c) share.  Nothing here is exported (-fvisibility=hidden);
 * the interposed calls carry KIPC_EXPORT and are listed in the maps.
 *
 * Adding a call: name it in STOCK_CALLS below (its stock definition is
 * then resolved once, with the others), define it in its family's file
 * with KIPC_EXPORT, open it with ROUTE() unless it must reach the stock
 * call first (fd.c), and list it in libkipc-compat.map and preload.map.
 */
#ifndef KIPC_COMPAT_H
#define KIPC_COMPAT_H

#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include "kipc.h"

#define KIPC_EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------ backend */

enum backend { BACKEND_KIPC, BACKEND_STOCK, BACKEND_NONE };

/*
 * The backend of this process, chosen once: kipc, the stock calls
 * (KIPC_FALLBACK=stock), or none.  With BACKEND_NONE errno is ENOSYS,
 * or EMFILE (ENFILE, ENOMEM) when /dev/kipc could not be opened for want
 * of a descriptor: then nothing is chosen yet; otherwise errno is left as
 * the caller had it.
 */
enum backend which(void);

/*
 * Every call we interpose, for struct stock_calls: the stock definition
 * of each, the one behind ours in the lookup order (dlsym(RTLD_NEXT)).
 */
#define STOCK_CALLS(X)							\
	X(mq_open) X(mq_close) X(mq_unlink) X(mq_getattr) X(mq_setattr)	\
	X(mq_send) X(mq_timedsend) X(mq_receive) X(mq_timedreceive)	\
	X(mq_notify)							\
	X(msgget) X(msgsnd) X(msgrcv) X(msgctl)				\
	X(sem_open) X(sem_close) X(sem_unlink)				\
	X(sem_wait) X(sem_trywait) X(sem_timedwait)			\
	X(sem_clockwait) X(sem_post) X(sem_getvalue)			\
	X(semget) X(semop) X(semtimedop) X(semctl)			\
	X(shm_open) X(shm_unlink) X(shmget) X(shmat) X(shmdt) X(shmctl) \
	X(ftruncate) X(ftruncate64) X(fstat) X(fstat64) X(fchmod)	\
	X(fchown) X(posix_fallocate) X(posix_fallocate64) X(fallocate)	\
	X(fallocate64) X(fstatfs) X(fstatfs64) X(fcntl) X(fcntl64)	\
	X(close) X(closefrom) X(close_range) X(dup2) X(dup3) X(read)

struct stock_calls {
#define STOCK_MEMBER(name) __typeof__(&name) name;
	STOCK_CALLS(STOCK_MEMBER)
#undef STOCK_MEMBER
};

/*
 * The stock calls, resolved on first use of any of them (not per call:
 * dlsym takes a lock and walks every loaded object).  A member is NULL
 * only if no later object defines the call.
 */
const struct stock_calls *stock(void);

/*
 * The first statement of an interposed call: on the stock backend return
 * the stock call's result, with no backend return @fail (errno ENOSYS),
 * on kipc go on.  @args are the call's own, passed through unchanged.
 */
#define ROUTE(fail, name, ...) do {					\
	switch (which()) {						\
	case BACKEND_STOCK:						\
		return stock()->name(__VA_ARGS__);			\
	case BACKEND_KIPC:						\
		break;							\
	default:							\
		return fail;						\
	}								\
} while (0)

/* ------------------------------------------------------------ helpers */

mode_t current_umask(void);

/*
 * A POSIX semaphore's or shared memory object's name as glibc takes it:
 * leading slashes go, the rest must be one path component of at most
 * @max bytes (ENAMETOOLONG; EINVAL for none or a '/').
 */
const char *posix_obj_name(const char *name, size_t max);

/* O_* open flags -> KIPC_O_*, close-on-exec always. */
int open_flags(int oflag);

/*
 * Cancellation as glibc has it.  The blocking calls that glibc makes
 * cancellation points (mq send and receive, sem_wait and its timed forms,
 * msgsnd, msgrcv) put their one blocking ioctl between cancel_enter() and
 * cancel_leave(): a pending or arriving cancel acts there, and a cancel
 * that interrupts the ioctl leaves the message or count where it was.
 * Every other call must not be one, so the libc calls the layer makes
 * for itself that are (open, close, read, write) go through
 * nocancel_begin() and nocancel_end(), or close_nocancel().
 */
int cancel_enter(void);
void cancel_leave(int old);
int nocancel_begin(void);
void nocancel_end(int old);
void close_nocancel(int fd);

/*
 * Copy between the caller's memory and ours without faulting: EFAULT
 * (-1) where the kernel would refuse the address, as the stock system
 * calls report a bad pointer.
 */
int copy_in(void *dst, const void *src, size_t len);
int copy_out(void *dst, const void *src, size_t len);

/* ----------------------------------------------- SysV ids (ids.c) */

/*
 * SysV ids are kipc ids, the same in every process; the fd behind an id
 * is this process's own, opened on first use and kept (close-on-exec) in
 * one table shared by every family.  An id names one object of one type.
 *
 * id_get() opens or creates by key (IPC_PRIVATE: anonymous persistent;
 * otherwise the name @fmt makes of the key) as the *get(2) calls do, and
 * caches the fd.  id_fd() finds or opens the fd for @id (EINVAL: no such
 * id, or one of another type).  id_remember() caches an fd the caller
 * opened; id_forget() drops an id and closes its fd.
 */
int id_get(enum kipc_type type, const char *fmt, key_t key, int flg,
	   const void *attr);
int id_fd(enum kipc_type type, int id);
void id_remember(enum kipc_type type, uint32_t id, int fd);
void id_forget(uint32_t id);

/*
 * Errors of a call on a SysV id, as the stock calls report them: a
 * removed object's id is forgotten, EBADF (an fd without the access) is
 * EACCES.  Returns @ret.
 */
int id_result(int id, int ret);

/*
 * IPC_RMID on @id through its fd @fd: the id is forgotten either way,
 * and one already removed is EINVAL, as stock.
 */
int id_remove(int id, int fd);

/*
 * IPC_STAT's common part: fill @st for @id through @fd and @perm from it
 * (key from the name @fmt made).  A removed object is EINVAL.
 */
int id_stat(int id, int fd, const char *fmt, struct kipc_stat *st,
	    struct ipc_perm *perm);

/* IPC_SET's common part: owner, group and mode from @perm. */
int id_set(int id, int fd, const struct ipc_perm *perm,
	   struct kipc_set *set);

/* ------------------------------------------- our own fds (close.c) */

/*
 * fd_own() marks @fd as one the layer caches, fd_disown() as no longer
 * (before the layer closes it itself).  When the program closes one of
 * ours (close, closefrom, close_range, dup2, dup3), the caches drop it
 * first: ids_fds_gone() and ksem_fds_gone() forget every cached fd in
 * [@lo, @hi] (and disown it) without closing it, so that the next use
 * opens a new one.
 */
void fd_own(int fd);
void fd_disown(int fd);
void ids_fds_gone(int lo, int hi);
void ksem_fds_gone(int lo, int hi);

/* ------------------------------------------------ region fds (fd.c) */

/* ftruncate() of a region fd: EINVAL (errno kept) if @fd is none. */
int region_truncate(int fd, off_t length);

#endif /* KIPC_COMPAT_H */
