/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kipc: kernel-managed IPC objects behind /dev/kipc.
 *
 * This header is the single source of truth for the user/kernel interface:
 * the module, libkipc, the tools and the selftests all include it.
 *
 * Model: the device fd (/dev/kipc) is a factory.  KIPC_IOC_OPEN creates or
 * opens an object (message queue, shared region or semaphore set) and returns
 * a new file descriptor for it.  Every further operation is an ioctl, read,
 * write, mmap or poll on that object fd.  Objects have a numeric id, unique
 * within the caller's IPC namespace, and optionally a name (unique per type
 * within the namespace).
 *
 * All structures have explicit padding and only fixed-width types, so that
 * 32-bit and 64-bit callers share one layout; reserved fields must be zero.
 */
#ifndef _UAPI_LINUX_KIPC_H
#define _UAPI_LINUX_KIPC_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KIPC_DEVICE_PATH	"/dev/kipc"
#define KIPC_API_VERSION	1

/* Longest object name, excluding the terminating NUL. */
#define KIPC_NAME_MAX		255

/* Highest POSIX priority accepted, inclusive (MQ_PRIO_MAX - 1 on Linux). */
#define KIPC_PRIO_MAX		32767

enum kipc_type {
	KIPC_TYPE_QUEUE		= 1,
	KIPC_TYPE_REGION	= 2,
	KIPC_TYPE_SEM		= 3,
	KIPC_TYPE_COUNT,
};

/* kipc_open.flags, kipc_name_req.flags */
#define KIPC_O_RDONLY		0x0000
#define KIPC_O_WRONLY		0x0001
#define KIPC_O_RDWR		0x0002
#define KIPC_O_ACCMODE		0x0003
#define KIPC_O_CREAT		0x0010	/* create if the name does not exist */
#define KIPC_O_EXCL		0x0020	/* with CREAT: fail with EEXIST if it does */
#define KIPC_O_NONBLOCK		0x0040	/* the new fd starts in O_NONBLOCK mode */
#define KIPC_O_CLOEXEC		0x0080	/* the new fd is close-on-exec */
#define KIPC_O_BY_ID		0x0100	/* look the object up by id, not by name */
/*
 * An unnamed object that outlives its fds, reachable by id until removed:
 * the shape of a SysV IPC_PRIVATE object.
 */
#define KIPC_O_PERSIST		0x0200

/* kipc_queue_attr.flags */
#define KIPC_QUEUE_RING		0x0001	/* a shared-memory ring: see "Rings" below */

/*
 * A ring (KIPC_QUEUE_RING) reads max_msgs as its number of slots and
 * max_msgsize as the size of one slot, both powers of two (0: 16 slots of
 * 8192 bytes); max_bytes must be 0.
 */
struct kipc_queue_attr {
	__u32 max_msgs;		/* most messages queued at once; 0: default */
	__u32 max_msgsize;	/* largest payload in bytes; 0: default */
	__u64 max_bytes;	/* most payload bytes queued; 0: max_msgs * max_msgsize */
	__u32 flags;		/* KIPC_QUEUE_* */
	__u32 reserved;
};

struct kipc_region_attr {
	__u64 size;		/* bytes; rounded up to pages for mapping */
	__u32 seals;		/* initial KIPC_SEAL_* */
	__u32 reserved;
};

#define KIPC_SEM_POSIX		0x0001	/* one counter, SEM_VALUE_MAX limit, EOVERFLOW */

struct kipc_sem_attr {
	__u32 nsems;		/* number of counters; 1 for POSIX */
	__u32 flags;		/* KIPC_SEM_* */
	__u32 value;		/* initial value of every counter */
	__u32 reserved;
};

/* KIPC_IOC_OPEN, on /dev/kipc.  Returns the new object fd. */
struct kipc_open {
	__u32 type;		/* enum kipc_type */
	__u32 flags;		/* KIPC_O_* */
	__u32 mode;		/* permission bits, with CREAT */
	__u32 id;		/* in: with BY_ID; out: the object's id */
	union {
		struct kipc_queue_attr queue;
		struct kipc_region_attr region;
		struct kipc_sem_attr sem;
		__u64 reserved[6];
	};
	char name[KIPC_NAME_MAX + 1];	/* "" with CREAT: anonymous */
};

/* KIPC_IOC_UNLINK and KIPC_IOC_REMOVE_BY, on /dev/kipc. */
struct kipc_name_req {
	__u32 type;
	__u32 flags;		/* KIPC_O_BY_ID selects id over name */
	__u32 id;
	__u32 reserved;
	char name[KIPC_NAME_MAX + 1];
};

/* Timeouts of blocking calls. */
struct kipc_timeout {
	__s64 tv_sec;
	__s64 tv_nsec;
	__s32 clockid;		/* CLOCK_MONOTONIC or CLOCK_REALTIME (ABSTIME only) */
	__u32 reserved;
};

/* Per-call flags of send, receive and semaphore operations. */
/* never block: EAGAIN on send; EAGAIN, or ENOMSG with KIPC_F_SYSV, on receive */
#define KIPC_F_NONBLOCK		0x0001
#define KIPC_F_TIMED		0x0002	/* the timeout field is valid */
#define KIPC_F_ABSTIME		0x0004	/* ... and is an absolute time on its clock */
#define KIPC_F_NOERROR		0x0008	/* receive: truncate an oversize message */
#define KIPC_F_EXCEPT		0x0010	/* receive, SysV: first message whose type != selector */
#define KIPC_F_SYSV		0x0020	/* receive: select by type (SysV), not by priority */
#define KIPC_F_PEEK		0x0040	/* receive: copy without removing */
#define KIPC_F_POSIX_SIZE	0x0080	/* receive: EMSGSIZE if buffer < max_msgsize (mq_receive) */

/* kipc_msg.flags, out */
#define KIPC_MSG_TRUNCATED	0x0001

/* One message of a send or receive call. */
struct kipc_msg {
	__u64 buf;		/* user pointer to the payload */
	__u32 len;		/* send: payload bytes; receive: buffer size in, bytes copied out */
	__u32 prio;		/* POSIX priority: send in, receive out */
	__s64 type;		/* SysV type: send in (> 0), receive: selector in, type out */
	__u32 flags;		/* KIPC_MSG_*, out */
	__u32 msg_len;		/* receive: full length of the message, out */
};

/*
 * KIPC_IOC_SEND / KIPC_IOC_RECV, on a queue fd.  Moves up to @count messages
 * and returns how many moved.  A send blocks for each message as needed; a
 * receive blocks only until the first message arrives, then takes what is
 * there (recvmmsg's MSG_WAITFORONE).  An error after at least one message
 * moved is not reported: the count is, and the error recurs on the next call.
 */
struct kipc_xfer {
	__u64 msgs;		/* user pointer to struct kipc_msg[count] */
	__u32 count;		/* at most KIPC_XFER_MAX */
	__u32 flags;		/* KIPC_F_* */
	struct kipc_timeout timeout;
};

#define KIPC_XFER_MAX		1024

/*
 * KIPC_IOC_SENDRECV, on a queue fd: send @send on it, then receive @recv on
 * the queue @recv_fd (which may be the same) -- one system call for a
 * request and its reply.  Returns the messages received; @sent reports the
 * messages sent.  A send that moved fewer than @send.count returns 0 and
 * receives nothing; a send that moved none returns its error.
 */
struct kipc_sendrecv {
	struct kipc_xfer send;
	struct kipc_xfer recv;
	__s32 recv_fd;
	__u32 sent;		/* out */
	__u64 reserved;
};

/* KIPC_IOC_NOTIFY, on a queue fd: mq_notify(3). */
#define KIPC_NOTIFY_OFF		0	/* unregister */
#define KIPC_NOTIFY_SIGNAL	1	/* send signo with value on arrival to an empty queue */
#define KIPC_NOTIFY_NONE	2	/* register without a signal (SIGEV_NONE) */

struct kipc_notify {
	__u32 how;		/* KIPC_NOTIFY_* */
	__u32 signo;
	__u64 value;		/* delivered as si_value */
};

/*
 * Rings.
 *
 * A queue created with KIPC_QUEUE_RING keeps no messages in the kernel.  Its
 * fd maps (mmap at offset 0, exactly kipc_ring_info.map_size bytes,
 * MAP_SHARED, never PROT_EXEC, from an O_RDWR fd; a read-only fd may map
 * PROT_READ to watch; anything else fails with EINVAL, EPERM or EACCES)
 * a control header, an array of message descriptors and an array of
 * fixed-size slots, which the two peers fill and drain with plain loads and
 * stores.  The kernel is entered only to sleep (KIPC_IOC_RING_WAIT, or
 * poll/epoll: EPOLLIN while the ring holds a message, EPOLLOUT while a slot
 * is free) and to wake a sleeper (KIPC_IOC_RING_WAKE).
 *
 * Protocol.  head and tail count the messages ever posted and taken, modulo
 * 2^32; message n lives in descriptor and slot n & (slots - 1).  The ring
 * holds head - tail messages, never more than slots.
 *   producer: if head - tail < slots (tail read with acquire): write the
 *     payload into slot head & mask and its descriptor, then store head + 1
 *     with release; then, after a full barrier, if wake_data is set, call
 *     KIPC_IOC_RING_WAKE with KIPC_RING_DATA.
 *   consumer: if head != tail (head read with acquire): read descriptor and
 *     slot tail & mask, then store tail + 1 with release; then, after a full
 *     barrier, if wake_room is set, call KIPC_IOC_RING_WAKE with
 *     KIPC_RING_ROOM.
 * A task about to sleep registers in the kernel, which sets wake_data or
 * wake_room, issues a full barrier and only then reads the indices: either
 * the sleeper sees the new index, or the peer sees the flag.  So a post or
 * a take costs no system call unless somebody sleeps.  The kernel clears a
 * flag once nobody waits on it; an epoll registration counts as waiting for
 * as long as it exists, so a ring watched by epoll costs its peer a wake-up
 * call per message.
 *
 * Concurrency: one producer and one consumer at a time.  Each index has a
 * single writer, so it is the whole state of its side: a producer that dies
 * before storing head leaves no trace, and a consumer that dies before
 * storing tail leaves its message to the next consumer -- consumers advance
 * tail only once done with a slot, so a killed consumer loses no message,
 * and may at most hand the one it was working on to its successor a second
 * time.  Several producers would need to claim slots before filling them
 * (a compare-and-swap on head and a per-slot ready mark), and one killed
 * between claim and publish would block the ring for good; use one ring per
 * producer instead.  Concurrent producers (or consumers) on one ring corrupt
 * it.
 *
 * Trust.  The shared memory is the peers' alone.  The kernel only reads
 * head and tail to decide whether a waiter sleeps, never uses them to
 * address memory, and writes only the wake flags: a peer that scribbles on
 * the ring can garble the ring's messages and make its waiters wake (or time
 * out) early or late, nothing else.  Indices that break the invariant
 * (head - tail > slots) make KIPC_IOC_RING_WAIT fail with EPROTO and poll
 * report EPOLLERR, until a peer repairs them.  A consumer that cannot trust
 * its producer must check the descriptor's len against slot_size and copy
 * the payload before validating it.
 *
 * The ordinary message calls (KIPC_IOC_SEND, _RECV, _SENDRECV, _NOTIFY,
 * read, write) fail on a ring with EOPNOTSUPP: the kernel is not a third
 * party to the ring's protocol.  KIPC_IOC_STAT reports slots as max_msgs,
 * the slot size as max_msgsize, a snapshot of the ring's fill as msgs, the
 * tasks waiting (or polling) for a message and for room as recv_waiters and
 * send_waiters, and KIPC_QUEUE_RING in flags.  The ring's memory is charged
 * to its creator like a queue's max_bytes, and lives until the last fd and
 * the last mapping of it are gone.
 */
struct kipc_ring_hdr {
	/* Written by the producer only. */
	__u32 head;
	__u32 pad0[15];
	/* Written by the consumer only. */
	__u32 tail;
	__u32 pad1[15];
	/* Written by the kernel only: somebody sleeps until ... */
	__u32 wake_data;	/* ... the ring holds a message */
	__u32 wake_room;	/* ... the ring has a free slot */
	__u32 pad2[14];
};

struct kipc_ring_desc {
	__u32 len;		/* payload bytes in the slot, at most slot_size */
	__u32 tag;		/* the application's */
};

/* KIPC_IOC_RING_INFO: the geometry, from the kernel, not the shared memory. */
struct kipc_ring_info {
	__u32 slots;		/* a power of two */
	__u32 slot_size;	/* a power of two */
	__u64 map_size;		/* the mapping, from offset 0 */
	__u64 desc_offset;	/* struct kipc_ring_desc[slots] */
	__u64 slot_offset;	/* slot i at slot_offset + i * slot_size */
	__u64 reserved[4];
};

/* Ring events: KIPC_IOC_RING_WAIT, KIPC_IOC_RING_WAKE. */
#define KIPC_RING_DATA		0x0001	/* the ring holds a message */
#define KIPC_RING_ROOM		0x0002	/* the ring has a free slot */

/*
 * KIPC_IOC_RING_WAIT: sleep until one of @events holds, and return those
 * that hold.  Fails with EAGAIN (KIPC_F_NONBLOCK or an O_NONBLOCK fd, and
 * nothing holds), ETIMEDOUT, EINTR, EIDRM (removed) or EPROTO (the indices
 * are inconsistent).
 */
struct kipc_ring_wait {
	__u32 events;		/* KIPC_RING_DATA and/or KIPC_RING_ROOM */
	__u32 flags;		/* KIPC_F_NONBLOCK, KIPC_F_TIMED, KIPC_F_ABSTIME */
	struct kipc_timeout timeout;
};

/* kipc_stat.flags */
#define KIPC_STAT_NAMED		0x0001	/* reachable by name */
#define KIPC_STAT_PERSIST	0x0002	/* outlives its fds */
#define KIPC_STAT_REMOVED	0x0004	/* removed: no new opens, ops fail with EIDRM */

struct kipc_queue_stat {
	__u64 msgs;		/* queued now */
	__u64 bytes;		/* payload bytes queued now */
	__u64 max_msgs;
	__u64 max_msgsize;
	__u64 max_bytes;
	__u64 sent;		/* messages sent since creation */
	__u64 received;
	__u64 send_waiters;	/* blocked senders now */
	__u64 recv_waiters;
	__s64 stime_ns;		/* last send, CLOCK_REALTIME; 0: never */
	__s64 rtime_ns;		/* last receive */
	__s32 lspid;		/* last sender, in the caller's pid namespace */
	__s32 lrpid;		/* last receiver */
	__u32 notify_pid;	/* registered mq_notify process, 0: none */
	__u32 flags;		/* KIPC_QUEUE_* */
};

#define KIPC_SEAL_SEAL		0x0001	/* no further seals */
#define KIPC_SEAL_SHRINK	0x0002
#define KIPC_SEAL_GROW		0x0004
#define KIPC_SEAL_WRITE		0x0008

struct kipc_region_stat {
	__u64 size;
	__u64 nattch;		/* live mappings */
	__u32 seals;
	__s32 lpid;		/* last map/unmap */
	__s64 atime_ns;		/* last map */
	__s64 dtime_ns;		/* last unmap */
	__u64 reserved[4];
};

struct kipc_sem_stat {
	__u32 nsems;
	__u32 flags;
	__s64 otime_ns;		/* last semop */
	__u64 reserved[6];
};

/* KIPC_IOC_STAT, on any object fd. */
struct kipc_stat {
	__u32 type;
	__u32 id;
	__u32 uid;		/* owner, in the caller's user namespace */
	__u32 gid;
	__u32 cuid;		/* creator */
	__u32 cgid;
	__u32 mode;
	__u32 flags;		/* KIPC_STAT_* */
	__s32 cpid;		/* creator, in the caller's pid namespace */
	__u32 nfds;		/* open files */
	__s64 ctime_ns;		/* creation or last KIPC_IOC_SET, CLOCK_REALTIME */
	union {
		struct kipc_queue_stat queue;
		struct kipc_region_stat region;
		struct kipc_sem_stat sem;
		__u64 reserved[20];
	};
	char name[KIPC_NAME_MAX + 1];
};

/* kipc_set.valid */
#define KIPC_SET_UID		0x0001
#define KIPC_SET_GID		0x0002
#define KIPC_SET_MODE		0x0004
#define KIPC_SET_MAX_BYTES	0x0008	/* queues: SysV msg_qbytes */

/* KIPC_IOC_SET, on any object fd: SysV IPC_SET. */
struct kipc_set {
	__u32 valid;
	__u32 uid;
	__u32 gid;
	__u32 mode;
	__u64 max_bytes;
};

/* KIPC_IOC_INFO, on /dev/kipc: module-wide counters and limits. */
struct kipc_info {
	__u32 version;		/* KIPC_API_VERSION */
	__u32 reserved0;
	__u64 objects[KIPC_TYPE_COUNT];	/* [0]: all types; [type]: that type */
	__u64 msgs;		/* messages queued, all queues */
	__u64 bytes;		/* memory charged: payloads and regions */
	__u64 namespaces;	/* IPC namespaces with kipc objects */
	/* limits (module parameters) */
	__u64 max_objects;
	__u64 max_user_objects;
	__u64 max_user_bytes;
	__u64 max_msgsize;
	__u64 max_queue_msgs;
	__u64 max_queue_bytes;
	__u64 max_region_size;
	__u64 max_nsems;
	/* the caller's own usage */
	__u64 user_objects;
	__u64 user_bytes;
	__u64 reserved[8];
};

#define KIPC_IOC_MAGIC		0xB7

/* on /dev/kipc */
#define KIPC_IOC_INFO		_IOR(KIPC_IOC_MAGIC, 0x00, struct kipc_info)
#define KIPC_IOC_OPEN		_IOWR(KIPC_IOC_MAGIC, 0x01, struct kipc_open)
#define KIPC_IOC_UNLINK		_IOW(KIPC_IOC_MAGIC, 0x02, struct kipc_name_req)
#define KIPC_IOC_REMOVE_BY	_IOW(KIPC_IOC_MAGIC, 0x03, struct kipc_name_req)

/* on any object fd */
#define KIPC_IOC_STAT		_IOR(KIPC_IOC_MAGIC, 0x08, struct kipc_stat)
#define KIPC_IOC_SET		_IOW(KIPC_IOC_MAGIC, 0x09, struct kipc_set)
#define KIPC_IOC_REMOVE		_IO(KIPC_IOC_MAGIC, 0x0a)

/* on a queue fd */
#define KIPC_IOC_SEND		_IOW(KIPC_IOC_MAGIC, 0x10, struct kipc_xfer)
#define KIPC_IOC_RECV		_IOW(KIPC_IOC_MAGIC, 0x11, struct kipc_xfer)
#define KIPC_IOC_NOTIFY		_IOW(KIPC_IOC_MAGIC, 0x12, struct kipc_notify)
#define KIPC_IOC_SENDRECV	_IOWR(KIPC_IOC_MAGIC, 0x13, struct kipc_sendrecv)

/* on a ring queue fd */
#define KIPC_IOC_RING_INFO	_IOR(KIPC_IOC_MAGIC, 0x18, struct kipc_ring_info)
#define KIPC_IOC_RING_WAIT	_IOW(KIPC_IOC_MAGIC, 0x19, struct kipc_ring_wait)
/* The argument is KIPC_RING_DATA and/or KIPC_RING_ROOM: wake those sleepers. */
#define KIPC_IOC_RING_WAKE	_IO(KIPC_IOC_MAGIC, 0x1a)

#endif /* _UAPI_LINUX_KIPC_H */
