/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thin helpers over the raw kipc UAPI for the selftests.  They return
 * -errno instead of setting errno, so that a test can assert the exact
 * error in one line: ASSERT_EQ(-EAGAIN, kt_send(...)).
 */
#ifndef KIPC_TEST_H
#define KIPC_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kipc.h>

static inline int kt_ret(long ret)
{
	return ret < 0 ? -errno : (int)ret;
}

static inline int kt_dev(void)
{
	return kt_ret(open(KIPC_DEVICE_PATH, O_RDWR | O_CLOEXEC));
}

/* Copies at most KIPC_NAME_MAX bytes; the rest of @dst stays zero. */
static inline void kt_copy_name(char dst[KIPC_NAME_MAX + 1], const char *name)
{
	size_t len = strlen(name);

	if (len > KIPC_NAME_MAX)
		len = KIPC_NAME_MAX;
	memcpy(dst, name, len);
}

static inline int kt_open(int dev, uint32_t type, const char *name,
			  uint32_t flags, uint32_t mode, const void *attr,
			  size_t attr_len, uint32_t *id)
{
	struct kipc_open req;
	int fd;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.flags = flags;
	req.mode = mode;
	if (id)
		req.id = *id;
	if (attr)
		memcpy(req.reserved, attr, attr_len);
	if (name)
		kt_copy_name(req.name, name);
	fd = kt_ret(ioctl(dev, KIPC_IOC_OPEN, &req));
	if (fd >= 0 && id)
		*id = req.id;
	return fd;
}

static inline int kt_queue(int dev, const char *name, uint32_t flags,
			   uint32_t mode, uint32_t max_msgs,
			   uint32_t max_msgsize, uint32_t *id)
{
	struct kipc_queue_attr attr = {
		.max_msgs = max_msgs,
		.max_msgsize = max_msgsize,
	};

	return kt_open(dev, KIPC_TYPE_QUEUE, name, flags, mode, &attr,
		       sizeof(attr), id);
}

/* An anonymous read-write queue. */
static inline int kt_anon_queue(int dev, uint32_t max_msgs, uint32_t max_msgsize)
{
	return kt_queue(dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, max_msgs,
			max_msgsize, NULL);
}

static inline int kt_name_req(int dev, unsigned long cmd, uint32_t type,
			      const char *name, uint32_t id)
{
	struct kipc_name_req req;

	memset(&req, 0, sizeof(req));
	req.type = type;
	if (name) {
		kt_copy_name(req.name, name);
	} else {
		req.flags = KIPC_O_BY_ID;
		req.id = id;
	}
	return kt_ret(ioctl(dev, cmd, &req));
}

static inline int kt_unlink(int dev, uint32_t type, const char *name)
{
	return kt_name_req(dev, KIPC_IOC_UNLINK, type, name, 0);
}

static inline int kt_xfer(int q, unsigned long cmd, struct kipc_msg *msgs,
			  uint32_t count, uint32_t flags,
			  const struct kipc_timeout *to)
{
	struct kipc_xfer x;

	memset(&x, 0, sizeof(x));
	x.msgs = (uintptr_t)msgs;
	x.count = count;
	x.flags = flags;
	if (to)
		x.timeout = *to;
	return kt_ret(ioctl(q, cmd, &x));
}

/* Send one message; 0 or -errno. */
static inline int kt_send(int q, const void *buf, uint32_t len, uint32_t prio,
			  int64_t type, uint32_t flags,
			  const struct kipc_timeout *to)
{
	struct kipc_msg m = {
		.buf = (uintptr_t)buf, .len = len, .prio = prio, .type = type,
	};
	int ret = kt_xfer(q, KIPC_IOC_SEND, &m, 1, flags, to);

	return ret == 1 ? 0 : ret;
}

/* Receive one message; its copied length or -errno. */
static inline int kt_recv_msg(int q, struct kipc_msg *m, uint32_t flags,
			      const struct kipc_timeout *to)
{
	int ret = kt_xfer(q, KIPC_IOC_RECV, m, 1, flags, to);

	return ret == 1 ? (int)m->len : ret;
}

static inline int kt_recv(int q, void *buf, uint32_t len, uint32_t *prio,
			  int64_t type, uint32_t flags,
			  const struct kipc_timeout *to)
{
	struct kipc_msg m = { .buf = (uintptr_t)buf, .len = len, .type = type };
	int ret = kt_recv_msg(q, &m, flags, to);

	if (ret >= 0 && prio)
		*prio = m.prio;
	return ret;
}

static inline int kt_stat(int fd, struct kipc_stat *st)
{
	return kt_ret(ioctl(fd, KIPC_IOC_STAT, st));
}

static inline int kt_info(int dev, struct kipc_info *info)
{
	return kt_ret(ioctl(dev, KIPC_IOC_INFO, info));
}

static inline struct kipc_timeout kt_rel_ms(long ms)
{
	struct kipc_timeout to = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
		.clockid = CLOCK_MONOTONIC,
	};
	return to;
}

static inline struct kipc_timeout kt_abs_ms(clockid_t clock, long ms)
{
	struct timespec now;
	struct kipc_timeout to = { .clockid = clock };

	clock_gettime(clock, &now);
	to.tv_sec = now.tv_sec + ms / 1000;
	to.tv_nsec = now.tv_nsec + (ms % 1000) * 1000000L;
	if (to.tv_nsec >= 1000000000L) {
		to.tv_sec++;
		to.tv_nsec -= 1000000000L;
	}
	return to;
}

static inline int64_t kt_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

/* Wait for a child and return its exit status, or 128 + signal. */
static inline int kt_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Poll a queue's stat until @pred holds, up to ~5 s (waiters going to sleep). */
#define kt_wait_until(fd, st, pred) ({					\
	int __i, __ok = 0;						\
	for (__i = 0; __i < 5000; __i++) {				\
		if (kt_stat((fd), (st)) == 0 && (pred)) {		\
			__ok = 1;					\
			break;						\
		}							\
		usleep(1000);						\
	}								\
	__ok;								\
})

/* An address no process maps, hidden from the compiler's bounds checks. */
static inline void *kt_bad_ptr(void)
{
	void *p = (void *)8;

	__asm__ volatile("" : "+r"(p));
	return p;
}

/* Drop to an unprivileged uid in a child: true if the test runs as root. */
static inline bool kt_is_root(void)
{
	return geteuid() == 0;
}

static inline int kt_become_nobody(void)
{
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

/* Hand an fd over a unix socket. */
static inline int kt_send_fd(int sock, int fd)
{
	char c = 0, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static inline int kt_recv_fd(int sock)
{
	char c, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * KIPC_TEST_ONLY="fixture.test ...": run only the tests named, by the names
 * the TAP lines give them (make grade runs those its weights file names).
 * The harness of Linux 6.1 has no filter of its own: this one prunes its
 * lists of fixtures and tests before it runs them.  Only where the harness
 * came first, whose TEST_HARNESS_MAIN it wraps.
 */
#ifdef TEST_HARNESS_MAIN
static inline bool kt_only_wanted(const char *only, const char *fixture,
				  const char *test)
{
	size_t fl = strlen(fixture), tl = strlen(test), n;
	const char *p = only;

	for (;;) {
		p += strspn(p, " \t\n");
		if (!*p)
			return false;
		n = strcspn(p, " \t\n");
		if (n == fl + 1 + tl && !strncmp(p, fixture, fl) &&
		    p[fl] == '.' && !strncmp(p + fl + 1, test, tl))
			return true;
		p += n;
	}
}

static inline void kt_only(void)
{
	const char *only = getenv("KIPC_TEST_ONLY");
	struct __fixture_metadata *f, **fp;
	struct __test_metadata *t, **tp;

	if (!only)
		return;
	for (fp = &__fixture_list; (f = *fp);) {
		for (tp = &f->tests; (t = *tp);) {
			if (kt_only_wanted(only, f->name, t->name))
				tp = &t->next;
			else
				*tp = t->next;
		}
		if (f->tests)
			fp = &f->next;
		else
			*fp = f->next;
	}
}

#undef TEST_HARNESS_MAIN
#define TEST_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		kt_only();						\
		return test_harness_run(argc, argv);			\
	}
#endif

#endif /* KIPC_TEST_H */
