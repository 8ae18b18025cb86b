// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SysV message queues (msg*) with their stock signatures, routed to
 * /dev/kipc.  Key K is the kipc queue "sysv.msg.K" (ids.c); msgsnd's mtype
 * is the kipc message type, and msgrcv's selection is the kernel's
 * (KIPC_F_SYSV).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "compat.h"

#define SYSV_MSG_FMT	"sysv.msg.%08x"

/* SysV defaults, as in include/uapi/linux/msg.h. */
#define SYSV_MSGMAX	8192
#define SYSV_MSGMNB	16384

KIPC_EXPORT int msgget(key_t key, int msgflg)
{
	struct kipc_queue_attr qa = {
		.max_msgs = SYSV_MSGMNB,
		.max_msgsize = SYSV_MSGMAX,
		.max_bytes = SYSV_MSGMNB,
	};

	ROUTE(-1, msgget, key, msgflg);
	return id_get(KIPC_TYPE_QUEUE, SYSV_MSG_FMT, key, msgflg, &qa);
}

/*
 * msgsnd and msgrcv are cancellation points in glibc (cancel_enter());
 * msgp is the caller's, read and written as the kernel would (copy_in(),
 * copy_out()): EFAULT, not a fault in the layer.
 */
KIPC_EXPORT int msgsnd(int msqid, const void *msgp, size_t msgsz, int msgflg)
{
	const long *umtype = msgp;
	int fd, ret, ct;
	long mtype;

	ROUTE(-1, msgsnd, msqid, msgp, msgsz, msgflg);
	fd = id_fd(KIPC_TYPE_QUEUE, msqid);
	if (fd < 0)
		return -1;
	if (copy_in(&mtype, umtype, sizeof(mtype)))
		return -1;
	if (mtype < 1) {
		errno = EINVAL;
		return -1;
	}
	ct = cancel_enter();
	ret = kipc_send(fd, umtype + 1, msgsz, 0, mtype,
			(msgflg & IPC_NOWAIT) ? KIPC_F_NONBLOCK : 0);
	cancel_leave(ct);
	if (ret < 0 && errno == EMSGSIZE)
		errno = EINVAL;
	return id_result(msqid, ret);
}

KIPC_EXPORT ssize_t msgrcv(int msqid, void *msgp, size_t msgsz, long msgtyp,
			   int msgflg)
{
	int flags = KIPC_F_SYSV, fd, ct;
	long *umtype = msgp, mtype;
	ssize_t ret;

	ROUTE(-1, msgrcv, msqid, msgp, msgsz, msgtyp, msgflg);
	if ((ssize_t)msgsz < 0 || (msgflg & MSG_COPY)) {
		errno = EINVAL;
		return -1;
	}
	fd = id_fd(KIPC_TYPE_QUEUE, msqid);
	if (fd < 0)
		return -1;
	if (msgflg & IPC_NOWAIT)
		flags |= KIPC_F_NONBLOCK;
	if (msgflg & MSG_NOERROR)
		flags |= KIPC_F_NOERROR;
	if (msgflg & MSG_EXCEPT)
		flags |= KIPC_F_EXCEPT;
	ct = cancel_enter();
	ret = kipc_receive(fd, umtype + 1, msgsz, NULL, msgtyp, &mtype, flags);
	cancel_leave(ct);
	/* As ipc/msg.c: the message is gone even if its type cannot land. */
	if (ret >= 0 && copy_out(umtype, &mtype, sizeof(mtype)))
		return -1;
	return id_result(msqid, ret);
}

static int msg_info(int cmd, struct msginfo *mi)
{
	struct kipc_info info;

	if (kipc_info(&info))
		return -1;
	memset(mi, 0, sizeof(*mi));
	mi->msgmax = info.max_msgsize;
	mi->msgmnb = info.max_queue_bytes > INT32_MAX ? INT32_MAX :
		     (int)info.max_queue_bytes;
	mi->msgmni = info.max_objects > INT32_MAX ? INT32_MAX :
		     (int)info.max_objects;
	mi->msgssz = 16;
	mi->msgseg = 0xffff;
	if (cmd == MSG_INFO) {
		mi->msgpool = info.objects[KIPC_TYPE_QUEUE];
		mi->msgmap = info.msgs;
		mi->msgtql = info.bytes;
	}
	/* The highest index in use; kipc has no index table, so report none. */
	return 0;
}

KIPC_EXPORT int msgctl(int msqid, int cmd, struct msqid_ds *buf)
{
	struct kipc_set set = { .valid = KIPC_SET_MAX_BYTES };
	struct ipc_perm perm;
	struct kipc_stat st;
	int fd;

	ROUTE(-1, msgctl, msqid, cmd, buf);
	if (!buf && (cmd == IPC_STAT || cmd == IPC_SET || cmd == IPC_INFO ||
		     cmd == MSG_INFO)) {
		errno = EFAULT;
		return -1;
	}
	if (cmd == IPC_INFO || cmd == MSG_INFO)
		return msg_info(cmd, (struct msginfo *)buf);
	if (cmd == MSG_STAT || cmd == MSG_STAT_ANY) {
		/* Index-based enumeration is kipcs' job (netlink). */
		errno = EINVAL;
		return -1;
	}
	fd = id_fd(KIPC_TYPE_QUEUE, msqid);
	if (fd < 0)
		return -1;

	switch (cmd) {
	case IPC_STAT:
		if (id_stat(msqid, fd, SYSV_MSG_FMT, &st, &perm))
			return -1;
		memset(buf, 0, sizeof(*buf));
		buf->msg_perm = perm;
		buf->msg_stime = st.queue.stime_ns / 1000000000;
		buf->msg_rtime = st.queue.rtime_ns / 1000000000;
		buf->msg_ctime = st.ctime_ns / 1000000000;
		buf->__msg_cbytes = st.queue.bytes;
		buf->msg_qnum = st.queue.msgs;
		buf->msg_qbytes = st.queue.max_bytes;
		buf->msg_lspid = st.queue.lspid;
		buf->msg_lrpid = st.queue.lrpid;
		return 0;
	case IPC_SET:
		set.max_bytes = buf->msg_qbytes;
		return id_set(msqid, fd, &buf->msg_perm, &set);
	case IPC_RMID:
		return id_remove(msqid, fd);
	default:
		errno = EINVAL;
		return -1;
	}
}
