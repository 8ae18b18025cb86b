/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkipc: a thin C interface to the kipc kernel module (/dev/kipc).
 *
 * Every object -- message queue, shared region, semaphore set -- is a file
 * descriptor: close(2) it, poll(2) it, pass it over a UNIX socket, fork with
 * it.  Functions return -1 and set errno on failure, as libc does; nothing
 * here allocates memory or keeps per-call state.  The device itself is
 * opened once per process, lazily and close-on-exec.
 *
 * The structures and flag values come from <linux/kipc.h>, the kernel's own
 * interface definition, which this header includes.
 */
#ifndef LIBKIPC_H
#define LIBKIPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <linux/kipc.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The process's /dev/kipc descriptor, opened on first use.  Returns -1 with
 * errno ENOSYS when the module is not loaded (ENOENT or ENXIO from open),
 * or the open's own errno otherwise.
 */
int kipc_device(void);

/* Module-wide counters and limits, and the caller's own usage. */
int kipc_info(struct kipc_info *info);

/*
 * Open or create an object of @type by @name, returning its fd.
 * @flags: KIPC_O_RDONLY/WRONLY/RDWR, KIPC_O_CREAT, KIPC_O_EXCL,
 * KIPC_O_NONBLOCK, KIPC_O_CLOEXEC.  @mode is used as given (no umask).
 * @attr points to the type's creation attributes (struct kipc_queue_attr,
 * kipc_region_attr or kipc_sem_attr) or is NULL for the defaults.
 * A NULL or empty @name with KIPC_O_CREAT creates an anonymous object;
 * add KIPC_O_PERSIST to keep it, reachable by id, until removed.
 * If @id is not NULL it receives the object's id.
 */
int kipc_open(enum kipc_type type, const char *name, int flags, mode_t mode,
	      const void *attr, uint32_t *id);

/* Open an existing object by its id, with the same permission checks. */
int kipc_open_id(enum kipc_type type, uint32_t id, int flags);

/* Remove @name; open fds keep the object alive (POSIX unlink). */
int kipc_unlink(enum kipc_type type, const char *name);

/*
 * Destroy now (SysV IPC_RMID): no new opens, blocked callers return EIDRM,
 * and the object's fds fail with EIDRM.  Mapped regions stay mapped.
 */
int kipc_remove(int fd);
int kipc_remove_id(enum kipc_type type, uint32_t id);

/* Owner, mode, counters and times of any object. */
int kipc_stat(int fd, struct kipc_stat *st);

/* Change owner, mode or (queues) capacity: SysV IPC_SET. */
int kipc_set(int fd, const struct kipc_set *set);

/* Message queues */

/* kipc_open(KIPC_TYPE_QUEUE, ...) with its attributes spelled out. */
int kipc_queue_open(const char *name, int flags, mode_t mode,
		    const struct kipc_queue_attr *attr);

/*
 * Send @len bytes with POSIX priority @prio and SysV type @type (> 0).
 * @flags: KIPC_F_NONBLOCK.  Blocks while the queue is full.
 */
int kipc_send(int q, const void *buf, size_t len, unsigned int prio,
	      long type, int flags);

/*
 * As kipc_send(), giving up with ETIMEDOUT at @timeout: relative on
 * CLOCK_MONOTONIC, or with KIPC_F_ABSTIME absolute on @clock
 * (CLOCK_MONOTONIC or CLOCK_REALTIME).
 */
int kipc_timedsend(int q, const void *buf, size_t len, unsigned int prio,
		   long type, int flags, clockid_t clock,
		   const struct timespec *timeout);

/*
 * Receive one message into @buf (@len bytes) and return its length.
 * Without KIPC_F_SYSV: the highest priority, oldest first.  With it:
 * SysV selection by @type (0 any, > 0 that type, < 0 the lowest type not
 * above -@type; KIPC_F_EXCEPT inverts > 0).  KIPC_F_NOERROR truncates a
 * long message; otherwise E2BIG (SysV) or EMSGSIZE, and it stays queued.
 * @prio and @type_out, if not NULL, receive the message's.
 */
ssize_t kipc_receive(int q, void *buf, size_t len, unsigned int *prio,
		     long type, long *type_out, int flags);

ssize_t kipc_timedreceive(int q, void *buf, size_t len, unsigned int *prio,
			  long type, long *type_out, int flags, clockid_t clock,
			  const struct timespec *timeout);

/*
 * Move up to @count messages in one call and return how many moved.  A
 * send blocks per message as needed; a receive blocks for the first only.
 * An error after the first message ends the batch early without being
 * reported; the next call reports it.
 */
int kipc_send_batch(int q, struct kipc_msg *msgs, unsigned int count,
		    int flags);
int kipc_receive_batch(int q, struct kipc_msg *msgs, unsigned int count,
		       int flags);

/*
 * mq_notify(3): with KIPC_NOTIFY_SIGNAL, send @signo with si_value @value
 * when a message arrives on an empty queue that nobody is waiting on;
 * KIPC_NOTIFY_NONE registers without a signal; KIPC_NOTIFY_OFF
 * unregisters.  One process at a time (EBUSY); a signal uses it up.
 */
int kipc_notify(int q, unsigned int how, int signo, uint64_t value);

/* Shared regions */

/*
 * kipc_open(KIPC_TYPE_REGION, ...): a region of @attr->size bytes (NULL or
 * 0: empty until resized), mapped with mmap(MAP_SHARED) on the fd.
 */
int kipc_region_open(const char *name, int flags, mode_t mode,
		     const struct kipc_region_attr *attr);

/*
 * Set the size in bytes.  Needs a writable fd and no live mapping of the
 * region (EBUSY); seals may refuse growing or shrinking (EPERM).
 */
int kipc_region_resize(int fd, uint64_t size);

/* Add KIPC_SEAL_* seals (memfd's F_ADD_SEALS); return the seals held. */
int kipc_region_add_seals(int fd, uint32_t seals);
int kipc_region_get_seals(int fd);

/* Semaphores */

/*
 * kipc_open(KIPC_TYPE_SEM, ...): @attr->nsems counters starting at
 * @attr->value; with KIPC_SEM_POSIX in @attr->flags one counter with the
 * POSIX limit (KIPC_SEM_VALUE_MAX, EOVERFLOW past it).
 */
int kipc_sem_open(const char *name, int flags, mode_t mode,
		  const struct kipc_sem_attr *attr);

/*
 * Apply all of @nops operations at once or none, as semop(2); returns 0.
 * @flags: KIPC_F_NONBLOCK, and KIPC_F_ABSTIME with @timeout.  A @timeout
 * gives up with ETIMEDOUT: relative on CLOCK_MONOTONIC, or with
 * KIPC_F_ABSTIME absolute on @clock.  A signal ends a wait with EINTR when
 * a handler runs; EIDRM once the set is removed.
 */
int kipc_semop(int fd, const struct kipc_sembuf *ops, unsigned int nops,
	       int flags, clockid_t clock, const struct timespec *timeout);

/* Counter 0 by -1 (sem_wait(3), with kipc_semop()'s flags) or +1. */
int kipc_sem_wait(int fd, int flags, clockid_t clock,
		  const struct timespec *timeout);
int kipc_sem_post(int fd);

/*
 * Counter @val->num: its value, waiter counts and last pid in one call.
 * kipc_sem_setval() also clears every process's undo for the counter.
 */
int kipc_sem_getval(int fd, struct kipc_semval *val);
int kipc_sem_setval(int fd, unsigned int num, int value);

/*
 * Every counter: GETALL needs @count >= nsems and returns nsems; SETALL
 * needs @count == nsems.
 */
int kipc_sem_getall(int fd, int32_t *values, unsigned int count);
int kipc_sem_setall(int fd, const int32_t *values, unsigned int count);

#ifdef __cplusplus
}
#endif

#endif /* LIBKIPC_H */
