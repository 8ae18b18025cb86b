// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkipc: each call is one ioctl on /dev/kipc or on an object fd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kipc.h"

#define KIPC_EXPORT __attribute__((visibility("default")))

static atomic_int kipc_dev_fd = -1;

KIPC_EXPORT int kipc_device(void)
{
	int fd = atomic_load_explicit(&kipc_dev_fd, memory_order_acquire);
	int expected = -1;

	if (fd >= 0)
		return fd;
	fd = open(KIPC_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
			errno = ENOSYS;
		return -1;
	}
	/* Two threads may race to open it; the loser closes its copy. */
	if (!atomic_compare_exchange_strong(&kipc_dev_fd, &expected, fd)) {
		close(fd);
		fd = expected;
	}
	return fd;
}

static int dev_ioctl(unsigned long cmd, void *arg)
{
	int dev = kipc_device();

	return dev < 0 ? -1 : ioctl(dev, cmd, arg);
}

KIPC_EXPORT int kipc_info(struct kipc_info *info)
{
	return dev_ioctl(KIPC_IOC_INFO, info);
}

static size_t attr_size(enum kipc_type type)
{
	switch (type) {
	case KIPC_TYPE_QUEUE:
		return sizeof(struct kipc_queue_attr);
	case KIPC_TYPE_REGION:
		return sizeof(struct kipc_region_attr);
	case KIPC_TYPE_SEM:
		return sizeof(struct kipc_sem_attr);
	case KIPC_TYPE_RING:
		return sizeof(struct kipc_ring_attr);
	default:
		return 0;
	}
}

static int copy_name(char dst[KIPC_NAME_MAX + 1], const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len > KIPC_NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dst, name, len);
	return 0;
}

KIPC_EXPORT int kipc_open(enum kipc_type type, const char *name, int flags,
			  mode_t mode, const void *attr, uint32_t *id)
{
	struct kipc_open req;
	int fd;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.flags = flags;
	req.mode = mode;
	if (attr)
		memcpy(req.reserved, attr, attr_size(type));
	if (copy_name(req.name, name))
		return -1;
	fd = dev_ioctl(KIPC_IOC_OPEN, &req);
	if (fd >= 0 && id)
		*id = req.id;
	return fd;
}

KIPC_EXPORT int kipc_open_id(enum kipc_type type, uint32_t id, int flags)
{
	struct kipc_open req;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.flags = flags | KIPC_O_BY_ID;
	req.id = id;
	return dev_ioctl(KIPC_IOC_OPEN, &req);
}

static int name_req(unsigned long cmd, enum kipc_type type, const char *name,
		    uint32_t id, int by_id)
{
	struct kipc_name_req req;

	memset(&req, 0, sizeof(req));
	req.type = type;
	if (by_id) {
		req.flags = KIPC_O_BY_ID;
		req.id = id;
	} else if (copy_name(req.name, name)) {
		return -1;
	}
	return dev_ioctl(cmd, &req);
}

KIPC_EXPORT int kipc_unlink(enum kipc_type type, const char *name)
{
	return name_req(KIPC_IOC_UNLINK, type, name, 0, 0);
}

KIPC_EXPORT int kipc_remove_id(enum kipc_type type, uint32_t id)
{
	return name_req(KIPC_IOC_REMOVE_BY, type, NULL, id, 1);
}

KIPC_EXPORT int kipc_remove(int fd)
{
	return ioctl(fd, KIPC_IOC_REMOVE);
}

KIPC_EXPORT int kipc_stat(int fd, struct kipc_stat *st)
{
	return ioctl(fd, KIPC_IOC_STAT, st);
}

KIPC_EXPORT int kipc_set(int fd, const struct kipc_set *set)
{
	return ioctl(fd, KIPC_IOC_SET, set);
}

KIPC_EXPORT int kipc_queue_open(const char *name, int flags, mode_t mode,
				const struct kipc_queue_attr *attr)
{
	return kipc_open(KIPC_TYPE_QUEUE, name, flags, mode, attr, NULL);
}

static int xfer(int q, unsigned long cmd, struct kipc_msg *msgs,
		unsigned int count, int flags, clockid_t clock,
		const struct timespec *timeout)
{
	struct kipc_xfer x;

	memset(&x, 0, sizeof(x));
	x.msgs = (uintptr_t)msgs;
	x.count = count;
	x.flags = flags;
	if (timeout) {
		x.flags |= KIPC_F_TIMED;
		x.timeout.tv_sec = timeout->tv_sec;
		x.timeout.tv_nsec = timeout->tv_nsec;
		x.timeout.clockid = clock;
	}
	return ioctl(q, cmd, &x);
}

static int send_one(int q, const void *buf, size_t len, unsigned int prio,
		    long type, int flags, clockid_t clock,
		    const struct timespec *timeout)
{
	struct kipc_msg m = {
		.buf = (uintptr_t)buf, .prio = prio, .type = type,
	};

	if (len > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	m.len = len;
	return xfer(q, KIPC_IOC_SEND, &m, 1, flags, clock, timeout) < 0 ? -1 : 0;
}

KIPC_EXPORT int kipc_send(int q, const void *buf, size_t len, unsigned int prio,
			  long type, int flags)
{
	return send_one(q, buf, len, prio, type, flags, CLOCK_MONOTONIC, NULL);
}

KIPC_EXPORT int kipc_timedsend(int q, const void *buf, size_t len,
			       unsigned int prio, long type, int flags,
			       clockid_t clock, const struct timespec *timeout)
{
	return send_one(q, buf, len, prio, type, flags, clock, timeout);
}

static ssize_t receive_one(int q, void *buf, size_t len, unsigned int *prio,
			   long type, long *type_out, int flags,
			   clockid_t clock, const struct timespec *timeout)
{
	struct kipc_msg m = {
		.buf = (uintptr_t)buf,
		.len = len > UINT32_MAX ? UINT32_MAX : len,
		.type = type,
	};

	if (xfer(q, KIPC_IOC_RECV, &m, 1, flags, clock, timeout) < 0)
		return -1;
	if (prio)
		*prio = m.prio;
	if (type_out)
		*type_out = m.type;
	return m.len;
}

KIPC_EXPORT ssize_t kipc_receive(int q, void *buf, size_t len,
				 unsigned int *prio, long type, long *type_out,
				 int flags)
{
	return receive_one(q, buf, len, prio, type, type_out, flags,
			   CLOCK_MONOTONIC, NULL);
}

KIPC_EXPORT ssize_t kipc_timedreceive(int q, void *buf, size_t len,
				      unsigned int *prio, long type,
				      long *type_out, int flags, clockid_t clock,
				      const struct timespec *timeout)
{
	return receive_one(q, buf, len, prio, type, type_out, flags, clock,
			   timeout);
}

KIPC_EXPORT int kipc_send_batch(int q, struct kipc_msg *msgs, unsigned int count,
				int flags)
{
	return xfer(q, KIPC_IOC_SEND, msgs, count, flags, CLOCK_MONOTONIC, NULL);
}

KIPC_EXPORT int kipc_receive_batch(int q, struct kipc_msg *msgs,
				   unsigned int count, int flags)
{
	return xfer(q, KIPC_IOC_RECV, msgs, count, flags, CLOCK_MONOTONIC, NULL);
}

KIPC_EXPORT int kipc_sendrecv(int q, struct kipc_msg *smsgs,
				unsigned int scount, int rq,
				struct kipc_msg *rmsgs, unsigned int rcount,
				int flags, unsigned int *sent)
{
	struct kipc_sendrecv sr;
	int ret;

	memset(&sr, 0, sizeof(sr));
	sr.send.msgs = (uintptr_t)smsgs;
	sr.send.count = scount;
	sr.send.flags = flags;
	sr.recv.msgs = (uintptr_t)rmsgs;
	sr.recv.count = rcount;
	sr.recv.flags = flags;
	sr.recv_fd = rq;
	ret = ioctl(q, KIPC_IOC_SENDRECV, &sr);
	if (sent)
		*sent = ret < 0 ? 0 : sr.sent;
	return ret;
}

KIPC_EXPORT int kipc_notify(int q, unsigned int how, int signo, uint64_t value)
{
	struct kipc_notify n = { .how = how, .signo = signo, .value = value };

	return ioctl(q, KIPC_IOC_NOTIFY, &n);
}

KIPC_EXPORT int kipc_region_open(const char *name, int flags, mode_t mode,
				 const struct kipc_region_attr *attr)
{
	return kipc_open(KIPC_TYPE_REGION, name, flags, mode, attr, NULL);
}

KIPC_EXPORT int kipc_region_resize(int fd, uint64_t size)
{
	return ioctl(fd, KIPC_IOC_REGION_RESIZE, &size);
}

KIPC_EXPORT int kipc_region_add_seals(int fd, uint32_t seals)
{
	return ioctl(fd, KIPC_IOC_REGION_ADD_SEALS, &seals);
}

KIPC_EXPORT int kipc_region_get_seals(int fd)
{
	uint32_t seals;

	if (ioctl(fd, KIPC_IOC_REGION_GET_SEALS, &seals) < 0)
		return -1;
	return seals;
}

KIPC_EXPORT int kipc_sem_open(const char *name, int flags, mode_t mode,
			      const struct kipc_sem_attr *attr)
{
	return kipc_open(KIPC_TYPE_SEM, name, flags, mode, attr, NULL);
}

KIPC_EXPORT int kipc_semop(int fd, const struct kipc_sembuf *ops,
			   unsigned int nops, int flags, clockid_t clock,
			   const struct timespec *timeout)
{
	struct kipc_semop req;

	memset(&req, 0, sizeof(req));
	req.ops = (uintptr_t)ops;
	req.nops = nops;
	req.flags = flags;
	if (timeout) {
		req.flags |= KIPC_F_TIMED;
		req.timeout.tv_sec = timeout->tv_sec;
		req.timeout.tv_nsec = timeout->tv_nsec;
		req.timeout.clockid = clock;
	}
	return ioctl(fd, KIPC_IOC_SEM_OP, &req);
}

KIPC_EXPORT int kipc_sem_wait(int fd, int flags, clockid_t clock,
			      const struct timespec *timeout)
{
	struct kipc_sembuf op = { .num = 0, .delta = -1 };

	return kipc_semop(fd, &op, 1, flags, clock, timeout);
}

KIPC_EXPORT int kipc_sem_post(int fd)
{
	struct kipc_sembuf op = { .num = 0, .delta = 1 };

	return kipc_semop(fd, &op, 1, 0, CLOCK_MONOTONIC, NULL);
}

KIPC_EXPORT int kipc_sem_getval(int fd, struct kipc_semval *val)
{
	uint32_t num = val->num;

	memset(val, 0, sizeof(*val));
	val->num = num;
	return ioctl(fd, KIPC_IOC_SEM_GETVAL, val);
}

KIPC_EXPORT int kipc_sem_setval(int fd, unsigned int num, int value)
{
	struct kipc_semval v;

	memset(&v, 0, sizeof(v));
	v.num = num;
	v.value = value;
	return ioctl(fd, KIPC_IOC_SEM_SETVAL, &v);
}

static int semall(int fd, unsigned long cmd, int32_t *values,
		  unsigned int count)
{
	struct kipc_semall a;

	memset(&a, 0, sizeof(a));
	a.values = (uintptr_t)values;
	a.count = count;
	return ioctl(fd, cmd, &a);
}

KIPC_EXPORT int kipc_sem_getall(int fd, int32_t *values, unsigned int count)
{
	return semall(fd, KIPC_IOC_SEM_GETALL, values, count);
}

KIPC_EXPORT int kipc_sem_setall(int fd, const int32_t *values,
				unsigned int count)
{
	return semall(fd, KIPC_IOC_SEM_SETALL, (int32_t *)values, count);
}
