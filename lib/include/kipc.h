/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkipc: a thin C interface to the kipc kernel module (/dev/kipc).
 *
 * Every object -- message queue, shared region, semaphore set -- is a file
 * descriptor: close(2) it, poll(2) it, pass it over a UNIX socket, fork with
 * it.  Functions return -1 and set errno on failure, as libc does; nothing
 * here allocates memory or keeps per-call state, apart from the mapping a
 * ring attaches.  The device itself is opened once per process, lazily and
 * close-on-exec.
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
 * The process's /dev/kipc descriptor, opened on first use, close-on-exec,
 * and moved away from the low numbers a program expects its own open()
 * calls to get (to half the RLIMIT_NOFILE soft limit, at most 1024).
 * Each later call checks it with fstat(): if the program closed it (a
 * daemon closing every fd), a new one is opened; a number reused by
 * another file is never acted on.  Returns -1 with errno ENOSYS when the
 * module is not loaded (ENOENT or ENXIO from open), or the open's own
 * errno otherwise (EMFILE).
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
 * A request and its reply in one system call: send @scount messages on @q,
 * then receive up to @rcount from @rq (which may be @q), as the batch calls
 * do.  Returns the messages received; @sent, if not NULL, gets the messages
 * sent.  A send that moved fewer than @scount receives nothing (returns 0);
 * one that moved none fails with its error.  @flags (KIPC_F_NONBLOCK) apply
 * to both halves.
 */
int kipc_sendrecv(int q, struct kipc_msg *smsgs, unsigned int scount, int rq,
		  struct kipc_msg *rmsgs, unsigned int rcount, int flags,
		  unsigned int *sent);

/*
 * mq_notify(3): with KIPC_NOTIFY_SIGNAL, send @signo with si_value @value
 * when a message arrives on an empty queue that nobody is waiting on;
 * KIPC_NOTIFY_NONE registers without a signal; KIPC_NOTIFY_OFF
 * unregisters.  One process at a time (EBUSY); a signal uses it up.
 */
int kipc_notify(int q, unsigned int how, int signo, uint64_t value);

/*
 * Rings: queues whose messages travel through shared memory, without system
 * calls (see "Rings" in <linux/kipc.h> for the protocol and its guarantees).
 *
 * One producer and one consumer at a time; either may die and be replaced
 * by a new one (a new process that attaches the same queue), and no message
 * is lost: a consumer takes a message off the ring only once done with it,
 * so one killed while working on a message leaves it to its successor (who
 * may then see it a second time).  Use one ring per direction, and one per
 * producer.
 *
 * A struct kipc_ring is this process's handle on a ring: attach it once,
 * then use it from one producing thread and one consuming thread at most.
 * Nothing in it is shared with the peer.
 *
 * The queue fd also works with poll(2) and epoll: readable while the ring
 * holds a message, writable while it has a free slot, POLLERR if a peer
 * broke the indices.  A ring watched by epoll costs its peer a wake-up call
 * per message; kipc_ring_wait() costs nothing while the peer keeps up.
 */
struct kipc_ring {
	/* Set by kipc_ring_attach(); read-only afterwards. */
	struct kipc_ring_hdr *hdr;
	struct kipc_ring_desc *desc;
	unsigned char *data;		/* slot 0 */
	size_t map_size;
	uint32_t slots;
	uint32_t slot_size;		/* the largest message */
	int fd;				/* ours, for the wake-ups */
	/*
	 * How many times the blocking calls look at the ring before they
	 * sleep in the kernel: spinning is what makes a round trip fast when
	 * the peer runs on another CPU, sleeping what makes an idle ring
	 * free.  kipc_ring_attach() sets KIPC_RING_SPIN; 0 sleeps at once.
	 * It is the most a wait spins: the calls spin less while spinning
	 * does not pay (a peer on the same CPU), see spin_now.
	 */
	unsigned int spin;
	/* Private: the peer's index as last seen, so most calls need no fresh read. */
	uint32_t peer_head;		/* consumer's */
	uint32_t peer_tail;		/* producer's */
	/* Private: the spin budget learnt so far, and sleeps since attach. */
	uint32_t spin_now;
	uint32_t spin_sleeps;
	uint64_t reserved[3];
};

#define KIPC_RING_SPIN	4000

/*
 * Create (or open) a ring queue of @slots slots of @slot_size bytes each,
 * both powers of two; the other arguments are kipc_open()'s.  Returns its fd.
 */
int kipc_ring_create(const char *name, int flags, mode_t mode, uint32_t slots,
		     uint32_t slot_size);

/*
 * Map the ring of the queue @fd (opened O_RDWR) into this process and fill
 * in @r, which keeps a close-on-exec duplicate of @fd: the caller may close
 * its own.  ENODEV: @fd is not a ring.
 */
int kipc_ring_attach(struct kipc_ring *r, int fd);

/* Unmap the ring and close the duplicate; pointers into it become invalid. */
int kipc_ring_detach(struct kipc_ring *r);

/*
 * Non-blocking calls: no system call, except one to wake a peer that sleeps
 * waiting for what the call provides.  On failure, errno is EAGAIN (the
 * ring is full, or empty), EPROTO (the shared indices are inconsistent: a
 * peer broke the protocol), EMSGSIZE or EBADMSG as noted.
 */

/*
 * Copy @len bytes (at most slot_size, else EMSGSIZE) into a message tagged
 * @tag and post it.
 */
int kipc_ring_try_send(struct kipc_ring *r, const void *buf, size_t len,
		       uint32_t tag);

/*
 * Take the oldest message, copy it into @buf and return its length.  A
 * message longer than @len stays queued (EMSGSIZE); one whose descriptor
 * claims more than slot_size bytes is taken and reported with EBADMSG.
 * @tag, if not NULL, receives the message's.
 */
ssize_t kipc_ring_try_recv(struct kipc_ring *r, void *buf, size_t len,
			   uint32_t *tag);

/*
 * Zero copy, producer side: kipc_ring_reserve() returns the next free slot
 * (slot_size bytes, aligned to the smaller of slot_size and the page size)
 * for the caller to build a message in, and kipc_ring_commit() posts it
 * with its length and tag.  Nothing is visible to the consumer before the
 * commit, and reserving again before it returns the same slot.
 */
void *kipc_ring_reserve(struct kipc_ring *r);
int kipc_ring_commit(struct kipc_ring *r, size_t len, uint32_t tag);

/*
 * Zero copy, consumer side: kipc_ring_peek() returns the oldest message in
 * place, with its length (and tag, if @tag is not NULL), without taking it;
 * kipc_ring_release() takes it, after which the producer may reuse the
 * slot.  The payload is shared memory that the producer can still write: a
 * consumer that does not trust its producer copies before it checks.  A
 * descriptor that claims more than slot_size bytes makes peek fail with
 * EBADMSG; release skips such a message.
 */
const void *kipc_ring_peek(struct kipc_ring *r, size_t *len, uint32_t *tag);
int kipc_ring_release(struct kipc_ring *r);

/*
 * What the ring offers now, from its indices: KIPC_RING_DATA (a message to
 * take) and KIPC_RING_ROOM (a free slot), or -1 with errno EPROTO.
 */
int kipc_ring_ready(struct kipc_ring *r);

/*
 * Blocking calls: poll the ring up to r->spin times, then sleep in the
 * kernel until the ring changes, and retry.  @flags: KIPC_F_NONBLOCK (do
 * not wait: the try_ calls), KIPC_F_ABSTIME (@timeout is an absolute
 * CLOCK_MONOTONIC time rather than relative).  @timeout NULL waits for
 * ever.  Beyond the errors above: ETIMEDOUT, EINTR (a signal with a
 * handler), EIDRM (the queue was removed), EAGAIN (the fd is O_NONBLOCK).
 */
int kipc_ring_send(struct kipc_ring *r, const void *buf, size_t len,
		   uint32_t tag, int flags, const struct timespec *timeout);
ssize_t kipc_ring_recv(struct kipc_ring *r, void *buf, size_t len,
		       uint32_t *tag, int flags, const struct timespec *timeout);

/*
 * Wait until one of @events (KIPC_RING_DATA, KIPC_RING_ROOM) holds, and
 * return those that do: the blocking half of the zero-copy calls.
 */
int kipc_ring_wait(struct kipc_ring *r, unsigned int events, int flags,
		   const struct timespec *timeout);

/*
 * Wake the tasks sleeping for @events.  The calls above do it themselves
 * when the kernel asks for it; a program that writes the ring by hand calls
 * this when hdr->wake_data (or wake_room) is set after its index store.
 */
int kipc_ring_wake(struct kipc_ring *r, unsigned int events);

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

/*
 * The mapped fast path (see KIPC_SEM_KERNEL in <linux/kipc.h>): waits and
 * posts by one as a compare-and-swap on the counter's word in a shared
 * mapping, a futex-like semaphore whose slow path is KIPC_IOC_SEM_OP.  The
 * kernel keeps a counter while someone is blocked on it, so a post that
 * would wake a sleeper goes through the kernel, and one that would not
 * stays in user space.  User-space operations carry no undo and update no
 * pid or time stamp; use kipc_semop() for those.
 */
struct kipc_semmap {
	uint32_t *words;		/* one word per counter, shared */
	size_t map_size;
	uint32_t nsems;
	uint32_t max_value;		/* KIPC_SEM_VMX or KIPC_SEM_VALUE_MAX */
	int fd;				/* ours, a duplicate, for the slow path */
	/*
	 * How many times a wait looks at a zero counter before it sleeps in
	 * the kernel; KIPC_SEMMAP_SPIN by default, 0 sleeps at once (right
	 * when both sides share one CPU).  Waits spin less while spinning
	 * does not pay, as kipc_ring's.
	 */
	unsigned int spin;
	uint32_t spin_now;		/* private */
	uint32_t spin_sleeps;		/* private */
	uint64_t reserved[1];
};

#define KIPC_SEMMAP_SPIN	2000

/*
 * Map the counters of the semaphore set @fd (opened O_RDWR) and fill in
 * @m, which keeps a close-on-exec duplicate of @fd.
 */
int kipc_semmap_attach(struct kipc_semmap *m, int fd);
int kipc_semmap_detach(struct kipc_semmap *m);

/*
 * Lower counter @num by one, waiting while it is zero; @flags, @clock and
 * @timeout as kipc_semop()'s.  EFBIG: no such counter.
 */
int kipc_semmap_wait(struct kipc_semmap *m, unsigned int num, int flags,
		     clockid_t clock, const struct timespec *timeout);
/* Raise counter @num by one: ERANGE (EOVERFLOW for POSIX) past max_value. */
int kipc_semmap_post(struct kipc_semmap *m, unsigned int num);

#ifdef __cplusplus
}
#endif

#endif /* LIBKIPC_H */
