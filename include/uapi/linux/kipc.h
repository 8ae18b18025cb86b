/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kipc: kernel-managed IPC objects behind /dev/kipc.
 *
 * This header is the single source of truth for the user/kernel interface:
 * the module, libkipc, the tools and the selftests all include it.
 *
 * Model: the device fd (/dev/kipc) is a factory.  KIPC_IOC_OPEN creates or
 * opens an object (message queue, shared region, semaphore set or ring) and returns
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
#define KIPC_API_VERSION	2

/* Longest object name, excluding the terminating NUL. */
#define KIPC_NAME_MAX		255

/* Highest POSIX priority accepted, inclusive (MQ_PRIO_MAX - 1 on Linux). */
#define KIPC_PRIO_MAX		32767

enum kipc_type {
	KIPC_TYPE_QUEUE		= 1,
	KIPC_TYPE_REGION	= 2,
	KIPC_TYPE_SEM		= 3,
	KIPC_TYPE_RING		= 4,
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

struct kipc_queue_attr {
	__u32 max_msgs;		/* most messages queued at once; 0: default */
	__u32 max_msgsize;	/* largest payload in bytes; 0: default */
	__u64 max_bytes;	/* most payload bytes queued; 0: max_msgs * max_msgsize */
	__u32 flags;		/* none defined: must be 0 */
	__u32 reserved;
};

/*
 * A ring (see "Rings" below): @slots slots of @slot_size bytes, both powers
 * of two (0: 16 slots of 8192 bytes; a slot holds at least 8 bytes).  The
 * queue limits bound it: slots by max_queue_msgs, slot_size by max_msgsize,
 * slots * slot_size by max_queue_bytes (EINVAL past them).
 */
struct kipc_ring_attr {
	__u32 slots;
	__u32 slot_size;
	__u64 reserved[2];
};

/*
 * A shared region: a fixed number of bytes of shmem, mapped with mmap() and
 * read or written with pread()/pwrite() on its fd.  @size may be 0 (grow it
 * with KIPC_IOC_REGION_RESIZE before mapping); above max_region_size it is
 * EINVAL.  The owner's byte quota is charged @size rounded up to whole pages
 * (ENOSPC past the quota).  Mapping past the end is ENXIO; writes stop at the
 * end, and one starting there is EFBIG.  After KIPC_IOC_REMOVE, mmap and I/O
 * on the fd are EIDRM but existing mappings keep working.  A mapping holds
 * its fd's file open.  The fd has no poll(): it is always ready.
 */
struct kipc_region_attr {
	__u64 size;		/* bytes; rounded up to pages for mapping */
	__u32 seals;		/* initial KIPC_SEAL_* */
	__u32 reserved;
};

#define KIPC_SEM_POSIX		0x0001	/* one counter, SEM_VALUE_MAX limit, EOVERFLOW */

/* Largest counter value: of a SysV-shaped set (SEMVMX), of a POSIX one. */
#define KIPC_SEM_VMX		32767
#define KIPC_SEM_VALUE_MAX	0x7fffffff

struct kipc_sem_attr {
	__u32 nsems;		/* number of counters; 1 (or 0) for POSIX */
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
		struct kipc_ring_attr ring;
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
 * receives nothing; a send that moved none returns its error.  A receive
 * that cannot be made (@recv_fd not a readable queue fd, bad @recv flags
 * or timeout) fails the call before anything is sent.
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
 * Semaphore operations.  KIPC_IOC_SEM_OP applies all of an array of
 * operations or none, as semop(2): a negative delta waits until the counter
 * can be lowered by that much, zero waits until it is zero, a positive delta
 * adds.  Each counter named by an operation is reported as changed by the
 * caller (sempid) once the array applies.
 */
#define KIPC_SEMOP_MAX		500	/* most operations in one call (SEMOPM) */

/* kipc_sembuf.flags */
#define KIPC_SEMOP_UNDO		0x0001	/* reverted when the process exits (SEM_UNDO) */
#define KIPC_SEMOP_NOWAIT	0x0002	/* EAGAIN if this operation would block */

struct kipc_sembuf {
	__u32 num;		/* counter index, below nsems (EFBIG) */
	__s32 delta;
	__u32 flags;		/* KIPC_SEMOP_* */
	__u32 reserved;
};

/* KIPC_IOC_SEM_OP, on a semaphore fd. */
struct kipc_semop {
	__u64 ops;		/* user pointer to struct kipc_sembuf[nops] */
	__u32 nops;		/* 1 to KIPC_SEMOP_MAX (E2BIG) */
	__u32 flags;		/* KIPC_F_NONBLOCK, KIPC_F_TIMED, KIPC_F_ABSTIME */
	struct kipc_timeout timeout;
};

/*
 * KIPC_IOC_SEM_GETVAL / KIPC_IOC_SEM_SETVAL: one counter.  GETVAL reports
 * the SysV GETVAL, GETNCNT, GETZCNT and GETPID answers at once; SETVAL reads
 * only num and value, and clears every process's undo for the counter.
 */
struct kipc_semval {
	__u32 num;		/* in */
	__s32 value;
	__u32 ncnt;		/* out: tasks blocked until it can be lowered */
	__u32 zcnt;		/* out: tasks blocked until it is zero */
	__s32 pid;		/* out: last process to operate on it, 0: none */
	__u32 reserved;
};

/* KIPC_IOC_SEM_GETALL / KIPC_IOC_SEM_SETALL: every counter. */
struct kipc_semall {
	__u64 values;		/* user pointer to __s32[count] */
	__u32 count;		/* GETALL: at least nsems; SETALL: exactly nsems */
	__u32 reserved;
};

/*
 * mmap of a semaphore fd (offset 0, MAP_SHARED, at most the page-rounded
 * nsems * 4 bytes) shows one __u32 word per counter, for waits and posts
 * without a system call.  A word without KIPC_SEM_KERNEL holds the value and
 * belongs to user space: a compare-and-swap of the value by one is a wait or
 * a post.  With KIPC_SEM_KERNEL set the kernel holds the value (someone is
 * blocked on the counter or polls it, or the set was removed): the value
 * bits are a snapshot, and every operation must go through
 * KIPC_IOC_SEM_OP.  Operations done in user space update neither pid nor
 * otime_ns, and cannot carry undo.
 */
#define KIPC_SEM_KERNEL		0x80000000u
#define KIPC_SEM_VALUE_MASK	0x7fffffffu

/*
 * Rings.
 *
 * A ring (KIPC_TYPE_RING) keeps no messages in the kernel.  Its
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
 * A ring fd has no read or write, and the queue calls (KIPC_IOC_SEND, _RECV,
 * _SENDRECV, _NOTIFY) fail on it with ENOTTY: the kernel is not a third
 * party to the ring's protocol.  KIPC_IOC_STAT reports struct
 * kipc_ring_stat.  The ring's memory (map_size) is charged to its creator
 * like a queue's, and lives until the last fd and the last mapping of it
 * are gone.
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
	__s32 notify_pid;	/* registered mq_notify process, 0: none */
	__u32 reserved;
};

/*
 * Region seals, as memfd's F_SEAL_*: once added they stay.  WRITE refuses
 * pwrite() and new shared writable mappings, and cannot be added while a
 * shared writable mapping exists (EBUSY).  GROW and SHRINK refuse resizes.
 */
#define KIPC_SEAL_SEAL		0x0001	/* no further seals */
#define KIPC_SEAL_SHRINK	0x0002
#define KIPC_SEAL_GROW		0x0004
#define KIPC_SEAL_WRITE		0x0008

struct kipc_region_stat {
	__u64 size;
	__u64 nattch;		/* live mappings (VMAs), of any process */
	__u32 seals;
	__s32 lpid;		/* last map/unmap */
	__s64 atime_ns;		/* last map */
	__s64 dtime_ns;		/* last unmap */
	__u64 nwritable;	/* live shared mappings that may be written */
	__u64 reserved[3];
};

struct kipc_sem_stat {
	__u32 nsems;
	__u32 flags;		/* KIPC_SEM_* */
	__s64 otime_ns;		/* last operation through the kernel; 0: never */
	__u32 max_value;	/* KIPC_SEM_VMX, or KIPC_SEM_VALUE_MAX for POSIX */
	__u32 waiters;		/* blocked operations now */
	__u32 undos;		/* undo lists holding records */
	__u32 mapped;		/* the counter words have been mapped */
	__u64 reserved[4];
};

struct kipc_ring_stat {
	__u32 slots;
	__u32 slot_size;
	__u64 map_size;
	__u64 msgs;		/* a snapshot of head - tail; 0 if inconsistent */
	__u64 data_waiters;	/* tasks waiting or polling for a message */
	__u64 room_waiters;	/* ... for a free slot */
	__u64 reserved[3];
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
		struct kipc_ring_stat ring;
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

/*
 * Generic netlink family KIPC_GENL_NAME: listing, statistics, removal and
 * events, for tools such as kipcs(8).
 *
 * Every message of the family uses the KIPC_A_* attribute space.  Requests
 * are validated strictly against a per-command policy: an attribute the
 * command does not take, a wrong length or a missing required attribute
 * fails with EINVAL (a value out of range with ERANGE).
 *
 *   KIPC_CMD_GET     do: the object KIPC_A_ID (required), optionally only if
 *                    of KIPC_A_TYPE.  Dump: every object of the caller's IPC
 *                    namespace, in id order, optionally only of KIPC_A_TYPE.
 *                    Each reply is one object: the common attributes and one
 *                    nest of its type (KIPC_A_QUEUE, ...).
 *   KIPC_CMD_STATS   do, no attributes: a KIPC_A_STATS nest.
 *   KIPC_CMD_REMOVE  do: IPC_RMID of KIPC_A_ID, or of KIPC_A_NAME within
 *                    KIPC_A_TYPE (required with a name).  Allowed to the
 *                    owner, the creator and CAP_SYS_ADMIN in the IPC
 *                    namespace's user namespace (EPERM otherwise).
 *   KIPC_CMD_EVENT   multicast on KIPC_GENL_MCGRP_EVENTS only.
 *
 * An object is visible only in the IPC namespace it was created in, but
 * there to everyone, whatever its mode (like /proc/sysvipc); uids and pids
 * are those the caller sees in its own namespaces.
 *
 * The events group needs CAP_SYS_ADMIN over the network namespace and is
 * fed in the initial network namespace only, so only a fully privileged
 * listener receives events; they cover every IPC namespace, tagged with
 * KIPC_A_IPC_NS, and carry pids of the initial pid namespace.
 */
#define KIPC_GENL_NAME		"kipc"
#define KIPC_GENL_VERSION	1
#define KIPC_GENL_MCGRP_EVENTS	"events"

enum kipc_cmd {
	KIPC_CMD_UNSPEC,
	KIPC_CMD_GET,
	KIPC_CMD_STATS,
	KIPC_CMD_REMOVE,
	KIPC_CMD_EVENT,
	__KIPC_CMD_MAX,
};

#define KIPC_CMD_MAX		(__KIPC_CMD_MAX - 1)

enum kipc_attr {
	KIPC_A_UNSPEC,
	KIPC_A_PAD,		/* aligns the 64-bit attributes */
	KIPC_A_TYPE,		/* u32: enum kipc_type */
	KIPC_A_ID,		/* u32 */
	KIPC_A_NAME,		/* string; absent: anonymous or unlinked */
	KIPC_A_UID,		/* u32: owner, in the caller's user namespace */
	KIPC_A_GID,		/* u32 */
	KIPC_A_CUID,		/* u32: creator */
	KIPC_A_CGID,		/* u32 */
	KIPC_A_MODE,		/* u32: permission bits */
	KIPC_A_FLAGS,		/* u32: KIPC_STAT_* */
	KIPC_A_CPID,		/* s32: creator, in the caller's pid namespace */
	KIPC_A_NFDS,		/* u32: open files */
	KIPC_A_CTIME,		/* s64: ns, CLOCK_REALTIME: creation or last set */
	KIPC_A_QUEUE,		/* nest: KIPC_QUEUE_A_* */
	KIPC_A_REGION,		/* nest: KIPC_REGION_A_* */
	KIPC_A_SEM,		/* nest: KIPC_SEM_A_* */
	KIPC_A_STATS,		/* nest: KIPC_STATS_A_* */
	KIPC_A_EVENT,		/* u32: enum kipc_event */
	KIPC_A_PID,		/* s32: event: the process that caused it */
	KIPC_A_IPC_NS,		/* u32: event: IPC namespace, as in /proc/PID/ns/ipc */
	KIPC_A_WAITERS,		/* u32: event: blocked tasks woken by the removal */
	KIPC_A_RING,		/* nest: KIPC_RING_A_* */
	__KIPC_A_MAX,
};

#define KIPC_A_MAX		(__KIPC_A_MAX - 1)

/*
 * The nests KIPC_A_QUEUE, _REGION, _SEM and _RING carry the fields of their
 * struct kipc_<type>_stat, one attribute each, numbered from 2 in the order
 * of <linux/kipc_stat.h>, the one table of them that the kernel fills the
 * nests from and user space parses them by.  An attribute has the width
 * and signedness of its field.
 */
enum kipc_queue_nl_attr {
	KIPC_QUEUE_A_UNSPEC,
	KIPC_QUEUE_A_PAD,
#define KIPC_QUEUE_FIELD(attr, field)	KIPC_QUEUE_A_##attr,
#include <linux/kipc_stat.h>
	__KIPC_QUEUE_A_MAX,
};

#define KIPC_QUEUE_A_MAX	(__KIPC_QUEUE_A_MAX - 1)

enum kipc_region_nl_attr {
	KIPC_REGION_A_UNSPEC,
	KIPC_REGION_A_PAD,
#define KIPC_REGION_FIELD(attr, field)	KIPC_REGION_A_##attr,
#include <linux/kipc_stat.h>
	__KIPC_REGION_A_MAX,
};

#define KIPC_REGION_A_MAX	(__KIPC_REGION_A_MAX - 1)

enum kipc_sem_nl_attr {
	KIPC_SEM_A_UNSPEC,
	KIPC_SEM_A_PAD,
#define KIPC_SEM_FIELD(attr, field)	KIPC_SEM_A_##attr,
#include <linux/kipc_stat.h>
	__KIPC_SEM_A_MAX,
};

#define KIPC_SEM_A_MAX		(__KIPC_SEM_A_MAX - 1)

enum kipc_ring_nl_attr {
	KIPC_RING_A_UNSPEC,
	KIPC_RING_A_PAD,
#define KIPC_RING_FIELD(attr, field)	KIPC_RING_A_##attr,
#include <linux/kipc_stat.h>
	__KIPC_RING_A_MAX,
};

#define KIPC_RING_A_MAX		(__KIPC_RING_A_MAX - 1)

/* KIPC_A_STATS: module-wide, as struct kipc_info, plus operation counts. */
enum kipc_stats_attr {
	KIPC_STATS_A_UNSPEC,
	KIPC_STATS_A_PAD,
	KIPC_STATS_A_VERSION,		/* u32: KIPC_API_VERSION */
	KIPC_STATS_A_OBJECTS,		/* u64: objects of all types */
	KIPC_STATS_A_MSGS,		/* u64: messages queued */
	KIPC_STATS_A_BYTES,		/* u64: bytes charged */
	KIPC_STATS_A_NAMESPACES,	/* u64 */
	KIPC_STATS_A_MAX_OBJECTS,	/* u64: the limits ... */
	KIPC_STATS_A_MAX_USER_OBJECTS,
	KIPC_STATS_A_MAX_USER_BYTES,
	KIPC_STATS_A_MAX_MSGSIZE,
	KIPC_STATS_A_MAX_QUEUE_MSGS,
	KIPC_STATS_A_MAX_QUEUE_BYTES,
	KIPC_STATS_A_MAX_REGION_SIZE,
	KIPC_STATS_A_MAX_NSEMS,
	KIPC_STATS_A_USER_OBJECTS,	/* u64: the caller's own usage */
	KIPC_STATS_A_USER_BYTES,	/* u64 */
	KIPC_STATS_A_QUEUE,		/* nest: KIPC_TSTATS_A_*, KIPC_QSTATS_A_* */
	KIPC_STATS_A_REGION,		/* nest: KIPC_TSTATS_A_*, region ones */
	KIPC_STATS_A_SEM,		/* nest: KIPC_TSTATS_A_*, semaphore ones */
	KIPC_STATS_A_RING,		/* nest: KIPC_TSTATS_A_* */
	__KIPC_STATS_A_MAX,
};

#define KIPC_STATS_A_MAX	(__KIPC_STATS_A_MAX - 1)

/*
 * The per-type nests of KIPC_A_STATS: counters every type has, then from
 * KIPC_TSTATS_A_TYPE_BASE on those of the type.  All are u64, and counts
 * "since" are since the module loaded.
 */
enum kipc_type_stats_attr {
	KIPC_TSTATS_A_UNSPEC,
	KIPC_TSTATS_A_PAD,
	KIPC_TSTATS_A_OBJECTS,		/* now */
	KIPC_TSTATS_A_CREATED,		/* since */
	KIPC_TSTATS_A_REMOVED,		/* IPC_RMIDs since */
	KIPC_TSTATS_A_TYPE_BASE = 16,
};

enum kipc_queue_stats_attr {
	KIPC_QSTATS_A_SENT = KIPC_TSTATS_A_TYPE_BASE,	/* messages */
	KIPC_QSTATS_A_RECEIVED,
	KIPC_QSTATS_A_FULL,	/* sends that found the queue full */
	__KIPC_QSTATS_A_MAX,
};

#define KIPC_QSTATS_A_MAX	(__KIPC_QSTATS_A_MAX - 1)

enum kipc_region_stats_attr {
	KIPC_RSTATS_A_MAPS = KIPC_TSTATS_A_TYPE_BASE,	/* successful mmap()s */
	__KIPC_RSTATS_A_MAX,
};

#define KIPC_RSTATS_A_MAX	(__KIPC_RSTATS_A_MAX - 1)

enum kipc_sem_stats_attr {
	KIPC_SSTATS_A_OPS = KIPC_TSTATS_A_TYPE_BASE,	/* KIPC_IOC_SEM_OP calls */
	KIPC_SSTATS_A_WAITS,	/* of them, those that blocked */
	__KIPC_SSTATS_A_MAX,
};

#define KIPC_SSTATS_A_MAX	(__KIPC_SSTATS_A_MAX - 1)

/* KIPC_A_EVENT.  Each event has KIPC_A_TYPE, _ID, _PID, _IPC_NS, maybe _NAME. */
enum kipc_event {
	KIPC_EVENT_UNSPEC,
	KIPC_EVENT_CREATED,
	KIPC_EVENT_UNLINKED,	/* the name went; the object lives on */
	KIPC_EVENT_REMOVED,	/* IPC_RMID */
	KIPC_EVENT_DESTROYED,	/* freed: the last file closed */
	KIPC_EVENT_QUEUE_FULL,	/* a sender blocked, or failed with EAGAIN */
	KIPC_EVENT_WAITERS_WOKEN,	/* KIPC_A_WAITERS tasks left with EIDRM */
	__KIPC_EVENT_MAX,
};

#define KIPC_EVENT_MAX		(__KIPC_EVENT_MAX - 1)

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

/*
 * On a region fd.  RESIZE sets the size in bytes; it needs a writable fd and
 * no live mapping (EBUSY).  ADD_SEALS needs a writable fd.
 */
#define KIPC_IOC_REGION_RESIZE		_IOW(KIPC_IOC_MAGIC, 0x20, __u64)
#define KIPC_IOC_REGION_ADD_SEALS	_IOW(KIPC_IOC_MAGIC, 0x21, __u32)
#define KIPC_IOC_REGION_GET_SEALS	_IOR(KIPC_IOC_MAGIC, 0x22, __u32)

/* on a semaphore fd */
#define KIPC_IOC_SEM_OP		_IOW(KIPC_IOC_MAGIC, 0x30, struct kipc_semop)
#define KIPC_IOC_SEM_GETVAL	_IOWR(KIPC_IOC_MAGIC, 0x31, struct kipc_semval)
#define KIPC_IOC_SEM_SETVAL	_IOW(KIPC_IOC_MAGIC, 0x32, struct kipc_semval)
/* GETALL returns nsems. */
#define KIPC_IOC_SEM_GETALL	_IOW(KIPC_IOC_MAGIC, 0x33, struct kipc_semall)
#define KIPC_IOC_SEM_SETALL	_IOW(KIPC_IOC_MAGIC, 0x34, struct kipc_semall)

/* on a ring fd */
#define KIPC_IOC_RING_INFO	_IOR(KIPC_IOC_MAGIC, 0x18, struct kipc_ring_info)
#define KIPC_IOC_RING_WAIT	_IOW(KIPC_IOC_MAGIC, 0x19, struct kipc_ring_wait)
/* The argument is KIPC_RING_DATA and/or KIPC_RING_ROOM: wake those sleepers. */
#define KIPC_IOC_RING_WAKE	_IO(KIPC_IOC_MAGIC, 0x1a)

#endif /* _UAPI_LINUX_KIPC_H */
