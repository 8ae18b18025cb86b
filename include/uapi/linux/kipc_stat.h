/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The fields of each type's part of struct kipc_stat, as the netlink
 * attributes of the type's nest in a KIPC_CMD_GET reply: one row a field,
 * KIPC_<TYPE>_FIELD(ATTR, field), names attribute KIPC_<TYPE>_A_<ATTR> and
 * the field of struct kipc_<type>_stat (<linux/kipc.h>) that it carries.
 * <linux/kipc.h> numbers the attributes from these rows, the kernel fills
 * the nests from them, and user space parses by them: a new field is its
 * line in the struct and its row here, at the end of its type's rows.
 *
 * No include guard: include it with the KIPC_<TYPE>_FIELD() macros you
 * want defined, as many times as needed; it undefines them again.
 */
#ifndef KIPC_QUEUE_FIELD
#define KIPC_QUEUE_FIELD(attr, field)
#endif
#ifndef KIPC_REGION_FIELD
#define KIPC_REGION_FIELD(attr, field)
#endif
#ifndef KIPC_SEM_FIELD
#define KIPC_SEM_FIELD(attr, field)
#endif
#ifndef KIPC_RING_FIELD
#define KIPC_RING_FIELD(attr, field)
#endif

KIPC_QUEUE_FIELD(MSGS,		msgs)
KIPC_QUEUE_FIELD(BYTES,		bytes)
KIPC_QUEUE_FIELD(MAX_MSGS,	max_msgs)
KIPC_QUEUE_FIELD(MAX_MSGSIZE,	max_msgsize)
KIPC_QUEUE_FIELD(MAX_BYTES,	max_bytes)
KIPC_QUEUE_FIELD(SENT,		sent)
KIPC_QUEUE_FIELD(RECEIVED,	received)
KIPC_QUEUE_FIELD(SEND_WAITERS,	send_waiters)
KIPC_QUEUE_FIELD(RECV_WAITERS,	recv_waiters)
KIPC_QUEUE_FIELD(STIME,		stime_ns)
KIPC_QUEUE_FIELD(RTIME,		rtime_ns)
KIPC_QUEUE_FIELD(LSPID,		lspid)
KIPC_QUEUE_FIELD(LRPID,		lrpid)
KIPC_QUEUE_FIELD(NOTIFY_PID,	notify_pid)

KIPC_REGION_FIELD(SIZE,		size)
KIPC_REGION_FIELD(NATTCH,	nattch)
KIPC_REGION_FIELD(NWRITABLE,	nwritable)
KIPC_REGION_FIELD(SEALS,	seals)
KIPC_REGION_FIELD(LPID,		lpid)
KIPC_REGION_FIELD(ATIME,	atime_ns)
KIPC_REGION_FIELD(DTIME,	dtime_ns)

KIPC_SEM_FIELD(NSEMS,		nsems)
KIPC_SEM_FIELD(FLAGS,		flags)
KIPC_SEM_FIELD(MAX_VALUE,	max_value)
KIPC_SEM_FIELD(WAITERS,		waiters)
KIPC_SEM_FIELD(UNDOS,		undos)
KIPC_SEM_FIELD(MAPPED,		mapped)
KIPC_SEM_FIELD(OTIME,		otime_ns)

KIPC_RING_FIELD(SLOTS,		slots)
KIPC_RING_FIELD(SLOT_SIZE,	slot_size)
KIPC_RING_FIELD(MAP_SIZE,	map_size)
KIPC_RING_FIELD(MSGS,		msgs)
KIPC_RING_FIELD(DATA_WAITERS,	data_waiters)
KIPC_RING_FIELD(ROOM_WAITERS,	room_waiters)

#undef KIPC_QUEUE_FIELD
#undef KIPC_REGION_FIELD
#undef KIPC_SEM_FIELD
#undef KIPC_RING_FIELD
