/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kipc calls kipc-bench needs, straight over the UAPI ioctls.
 *
 * Stand-in for libkipc until it lands: when it does, these become calls to
 * it and this file goes.  They return -errno, never set errno for callers.
 */
#ifndef KIPC_BENCH_RAW_H
#define KIPC_BENCH_RAW_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kipc.h>

/* An anonymous queue, reachable only through the returned fd (and forks). */
static inline int kipc_raw_queue(unsigned int max_msgs, unsigned int msgsize)
{
	struct kipc_open req;
	int dev, fd, err;

	dev = open(KIPC_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.type = KIPC_TYPE_QUEUE;
	req.flags = KIPC_O_RDWR | KIPC_O_CREAT | KIPC_O_CLOEXEC;
	req.mode = 0600;
	req.queue.max_msgs = max_msgs;
	req.queue.max_msgsize = msgsize;
	fd = ioctl(dev, KIPC_IOC_OPEN, &req);
	err = errno;
	close(dev);
	return fd < 0 ? -err : fd;
}

/* Messages of @len bytes back to back at @bufs; returns how many moved. */
static inline int kipc_raw_xfer(int fd, unsigned long cmd, const void *bufs,
				size_t len, unsigned int n)
{
	struct kipc_msg msgs[64];
	struct kipc_xfer x;
	unsigned int i;
	int ret;

	if (n > 64)
		n = 64;
	memset(&x, 0, sizeof(x));
	for (i = 0; i < n; i++) {
		msgs[i].buf = (uintptr_t)bufs + i * len;
		msgs[i].len = len;
		msgs[i].prio = 0;
		msgs[i].type = 1;
		msgs[i].flags = 0;
		msgs[i].msg_len = 0;
	}
	x.msgs = (uintptr_t)msgs;
	x.count = n;
	ret = ioctl(fd, cmd, &x);
	return ret < 0 ? -errno : ret;
}

static inline int kipc_raw_send(int fd, const void *bufs, size_t len,
				unsigned int n)
{
	return kipc_raw_xfer(fd, KIPC_IOC_SEND, bufs, len, n);
}

static inline int kipc_raw_recv(int fd, void *bufs, size_t len, unsigned int n)
{
	return kipc_raw_xfer(fd, KIPC_IOC_RECV, bufs, len, n);
}

/* One message out on @fd and one back from @rfd, in one system call. */
static inline int kipc_raw_sendrecv(int fd, const void *sbuf, int rfd,
				    void *rbuf, size_t len)
{
	struct kipc_msg sm = { .buf = (uintptr_t)sbuf, .len = len, .type = 1 };
	struct kipc_msg rm = { .buf = (uintptr_t)rbuf, .len = len };
	struct kipc_sendrecv sr;
	int ret;

	memset(&sr, 0, sizeof(sr));
	sr.send.msgs = (uintptr_t)&sm;
	sr.send.count = 1;
	sr.recv.msgs = (uintptr_t)&rm;
	sr.recv.count = 1;
	sr.recv_fd = rfd;
	ret = ioctl(fd, KIPC_IOC_SENDRECV, &sr);
	if (ret < 0)
		return -errno;
	return ret == 1 ? 0 : -EIO;
}

#endif /* KIPC_BENCH_RAW_H */
