// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * POSIX message queues (mq_*) with their stock signatures, routed to
 * /dev/kipc.  A name "/q" is the kipc queue "q"; an mqd_t is the queue's
 * fd, so select(2), poll(2) and epoll work on it as on Linux.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

/*
 * The descriptors mq_open() returned, for read(2): on Linux, reading a
 * message queue descriptor gives a line of its state and takes no
 * message, where reading a kipc queue fd receives one (stress-ng's mq
 * stressor reads its descriptor, and lost a message to each read).  Only
 * these descriptors are told apart, by one bit each: every other read
 * goes to libc at the cost of that test.  A dup() of one is not known.
 */
#define MQ_FDS_TRACKED	65536
#define MQ_WORD_BITS	(8 * sizeof(unsigned long))

static _Atomic unsigned long mq_fds[MQ_FDS_TRACKED / MQ_WORD_BITS];
/* How far read(2) got through each one's line, as the file position. */
static unsigned char mq_pos[MQ_FDS_TRACKED];

static void mq_fd_mark(int fd, bool on)
{
	unsigned long bit;

	if (fd < 0 || fd >= MQ_FDS_TRACKED)
		return;
	bit = 1UL << (fd % MQ_WORD_BITS);
	if (on)
		atomic_fetch_or(&mq_fds[fd / MQ_WORD_BITS], bit);
	else
		atomic_fetch_and(&mq_fds[fd / MQ_WORD_BITS], ~bit);
	mq_pos[fd] = 0;
}

static bool mq_fd_marked(int fd)
{
	return fd >= 0 && fd < MQ_FDS_TRACKED &&
	       (atomic_load_explicit(&mq_fds[fd / MQ_WORD_BITS],
				     memory_order_relaxed) &
		(1UL << (fd % MQ_WORD_BITS)));
}

/*
 * read(2) of an mq_open() descriptor: the state line of
 * ipc/mqueue.c's mqueue_read_file(), from the position on; at its end 0,
 * and the next read starts over (kipc fds cannot seek).  The notification
 * fields are the registrant's pid only: kipc keeps its kind to itself.
 */
KIPC_EXPORT ssize_t read(int fd, void *buf, size_t count)
{
	struct kipc_stat st;
	char line[128];
	size_t len, pos;
	int saved;

	if (!mq_fd_marked(fd))
		return stock()->read(fd, buf, count);
	saved = errno;
	if (kipc_stat(fd, &st) || st.type != KIPC_TYPE_QUEUE) {
		/* Closed behind our back, and the number reused. */
		errno = saved;
		mq_fd_mark(fd, false);
		return stock()->read(fd, buf, count);
	}
	len = snprintf(line, sizeof(line),
		       "QSIZE:%-10llu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
		       (unsigned long long)st.queue.bytes, 0, 0,
		       (int)st.queue.notify_pid);
	pos = mq_pos[fd];
	if (pos >= len) {
		mq_pos[fd] = 0;
		return 0;
	}
	if (count > len - pos)
		count = len - pos;
	if (copy_out(buf, line + pos, count))
		return -1;
	mq_pos[fd] = pos + count;
	return count;
}

static void notify_thread_cancel(mqd_t mqd);

/* A call on an fd that is not a kipc queue: mq_* report EBADF. */
static int fix_ebadf(int ret)
{
	if (ret < 0 && errno == ENOTTY)
		errno = EBADF;
	return ret;
}

/* "/name" -> "name", with mq_open(3)'s errors. */
static const char *posix_name(const char *name)
{
	if (!name || name[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(name + 1) > NAME_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!name[1] || strchr(name + 1, '/')) {
		errno = EACCES;
		return NULL;
	}
	return name + 1;
}

KIPC_EXPORT mqd_t mq_open(const char *name, int oflag, ...)
{
	struct kipc_queue_attr qa = { 0 };
	struct mq_attr *attr = NULL;
	const char *kname;
	mode_t mode = 0;
	va_list ap;
	int fd;

	if (oflag & O_CREAT) {
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		attr = va_arg(ap, struct mq_attr *);
		va_end(ap);
	}
	ROUTE(-1, mq_open, name, oflag, mode, attr);
	kname = posix_name(name);
	if (!kname)
		return -1;
	if (attr) {
		if (attr->mq_maxmsg <= 0 || attr->mq_msgsize <= 0 ||
		    attr->mq_maxmsg > UINT32_MAX || attr->mq_msgsize > UINT32_MAX) {
			errno = EINVAL;
			return -1;
		}
		qa.max_msgs = attr->mq_maxmsg;
		qa.max_msgsize = attr->mq_msgsize;
	}
	fd = kipc_queue_open(kname, open_flags(oflag),
			     (mode & 0777) & ~current_umask(), &qa);
	if (fd >= 0)
		mq_fd_mark(fd, true);
	return fd;
}

KIPC_EXPORT int mq_close(mqd_t mqd)
{
	int cs, ret;

	/* Closing is closing, whatever the backend's state says. */
	if (which() == BACKEND_STOCK)
		return stock()->mq_close(mqd);
	/* As mq_close(3): no notification of ours on it survives. */
	notify_thread_cancel(mqd);
	mq_fd_mark(mqd, false);
	cs = nocancel_begin();
	ret = close(mqd);
	nocancel_end(cs);
	return ret;
}

KIPC_EXPORT int mq_unlink(const char *name)
{
	const char *kname;

	ROUTE(-1, mq_unlink, name);
	kname = posix_name(name);
	if (!kname)
		return -1;
	return kipc_unlink(KIPC_TYPE_QUEUE, kname);
}

KIPC_EXPORT int mq_getattr(mqd_t mqd, struct mq_attr *attr)
{
	struct kipc_stat st;
	int fl;

	ROUTE(-1, mq_getattr, mqd, attr);
	fl = fcntl(mqd, F_GETFL);
	if (fl < 0 || fix_ebadf(kipc_stat(mqd, &st)) < 0 ||
	    st.type != KIPC_TYPE_QUEUE) {
		errno = EBADF;
		return -1;
	}
	memset(attr, 0, sizeof(*attr));
	attr->mq_flags = fl & O_NONBLOCK;
	attr->mq_maxmsg = st.queue.max_msgs;
	attr->mq_msgsize = st.queue.max_msgsize;
	attr->mq_curmsgs = st.queue.msgs;
	return 0;
}

KIPC_EXPORT int mq_setattr(mqd_t mqd, const struct mq_attr *newattr,
			   struct mq_attr *oldattr)
{
	struct mq_attr cur;
	int fl;

	ROUTE(-1, mq_setattr, mqd, newattr, oldattr);
	if (mq_getattr(mqd, &cur))
		return -1;
	/* Only O_NONBLOCK can change, and it lives on the open file. */
	fl = fcntl(mqd, F_GETFL);
	fl = (fl & ~O_NONBLOCK) | (newattr->mq_flags & O_NONBLOCK);
	if (fcntl(mqd, F_SETFL, fl))
		return -1;
	if (oldattr)
		*oldattr = cur;
	return 0;
}

/*
 * The timeout, read as the system call reads it: EFAULT for a bad
 * pointer, EINVAL for a time that is not one (a negative second too, as
 * ipc/mqueue.c's timespec64_valid() has it), whether or not a wait is due.
 */
static int posix_timeout(const struct timespec *abs_timeout,
			 struct timespec *ts)
{
	if (copy_in(ts, abs_timeout, sizeof(*ts)))
		return -1;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int posix_send(mqd_t mqd, const char *msg, size_t len, unsigned int prio,
		      const struct timespec *abs_timeout)
{
	struct timespec ts;
	int ret, ct;

	if (abs_timeout && posix_timeout(abs_timeout, &ts))
		return -1;
	if (prio > KIPC_PRIO_MAX) {
		errno = EINVAL;
		return -1;
	}
	ct = cancel_enter();
	ret = kipc_timedsend(mqd, msg, len, prio, 1,
			     abs_timeout ? KIPC_F_ABSTIME : 0, CLOCK_REALTIME,
			     abs_timeout ? &ts : NULL);
	cancel_leave(ct);
	return fix_ebadf(ret);
}

KIPC_EXPORT int mq_send(mqd_t mqd, const char *msg, size_t len, unsigned int prio)
{
	ROUTE(-1, mq_send, mqd, msg, len, prio);
	return posix_send(mqd, msg, len, prio, NULL);
}

KIPC_EXPORT int mq_timedsend(mqd_t mqd, const char *msg, size_t len,
			     unsigned int prio, const struct timespec *abs_timeout)
{
	ROUTE(-1, mq_timedsend, mqd, msg, len, prio, abs_timeout);
	return posix_send(mqd, msg, len, prio, abs_timeout);
}

static ssize_t posix_receive(mqd_t mqd, char *msg, size_t len,
			     unsigned int *prio,
			     const struct timespec *abs_timeout)
{
	struct timespec ts;
	unsigned int p;
	ssize_t ret;
	int ct;

	if (abs_timeout && posix_timeout(abs_timeout, &ts))
		return -1;
	ct = cancel_enter();
	ret = kipc_timedreceive(mqd, msg, len, &p, 0, NULL,
				KIPC_F_POSIX_SIZE |
				(abs_timeout ? KIPC_F_ABSTIME : 0),
				CLOCK_REALTIME, abs_timeout ? &ts : NULL);
	cancel_leave(ct);
	if (ret >= 0 && prio && copy_out(prio, &p, sizeof(p)))
		return -1;
	return fix_ebadf(ret);
}

KIPC_EXPORT ssize_t mq_receive(mqd_t mqd, char *msg, size_t len,
			       unsigned int *prio)
{
	ROUTE(-1, mq_receive, mqd, msg, len, prio);
	return posix_receive(mqd, msg, len, prio, NULL);
}

KIPC_EXPORT ssize_t mq_timedreceive(mqd_t mqd, char *msg, size_t len,
				    unsigned int *prio,
				    const struct timespec *abs_timeout)
{
	ROUTE(-1, mq_timedreceive, mqd, msg, len, prio, abs_timeout);
	return posix_receive(mqd, msg, len, prio, abs_timeout);
}

/*
 * SIGEV_THREAD.  The kernel holds a KIPC_NOTIFY_NONE registration, which
 * it drops when a message arrives on the empty queue, as Linux fires the
 * notification; a helper thread runs the function once it sees the
 * registration gone (KIPC_IOC_STAT: notify_pid is no longer ours).  It
 * sleeps in poll(POLLIN), which the arrival wakes; when another thread
 * took the message first, poll sleeps on, so it also looks every
 * NOTIFY_TICK_MS.  mq_notify(NULL), a new registration and mq_close()
 * cancel the helper first (notify_thread_cancel()), so that it neither
 * fires for a registration that was dropped on purpose nor looks at the
 * descriptor once it is closed.
 */
#define NOTIFY_TICK_MS	100

struct notify_thread {
	mqd_t mqd;
	bool cancelled;			/* under notify_lock */
	struct sigevent sev;
	struct notify_thread *next;
};

static struct notify_thread *notify_threads;
static pthread_mutex_t notify_lock = PTHREAD_MUTEX_INITIALIZER;

static void notify_thread_unlink(struct notify_thread *nt)
{
	struct notify_thread **pp;

	for (pp = &notify_threads; *pp; pp = &(*pp)->next)
		if (*pp == nt) {
			*pp = nt->next;
			break;
		}
}

static void notify_thread_cancel(mqd_t mqd)
{
	struct notify_thread *nt;

	pthread_mutex_lock(&notify_lock);
	for (nt = notify_threads; nt; nt = nt->next)
		if (nt->mqd == mqd)
			nt->cancelled = true;
	pthread_mutex_unlock(&notify_lock);
}

/* 1: the registration fired, 0: not yet, -1: the helper must just go. */
static int notify_fired(struct notify_thread *nt, bool *empty)
{
	struct kipc_stat st;
	int ret = -1;

	pthread_mutex_lock(&notify_lock);
	if (!nt->cancelled && kipc_stat(nt->mqd, &st) == 0 &&
	    st.type == KIPC_TYPE_QUEUE && !(st.flags & KIPC_STAT_REMOVED)) {
		*empty = !st.queue.msgs;
		ret = st.queue.notify_pid != getpid();
	}
	if (ret)
		notify_thread_unlink(nt);
	pthread_mutex_unlock(&notify_lock);
	return ret;
}

static void *notify_thread_main(void *arg)
{
	struct notify_thread *nt = arg;
	struct pollfd pfd = { .fd = nt->mqd, .events = POLLIN };
	bool empty = true;
	int fired;

	while (!(fired = notify_fired(nt, &empty))) {
		/* A queue not empty at registration: nothing to wait for. */
		poll(&pfd, empty ? 1 : 0, NOTIFY_TICK_MS);
	}
	if (fired > 0)
		nt->sev.sigev_notify_function(nt->sev.sigev_value);
	free(nt);
	return NULL;
}

KIPC_EXPORT int mq_notify(mqd_t mqd, const struct sigevent *sev)
{
	struct notify_thread *nt;
	struct sigevent ev;
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	ROUTE(-1, mq_notify, mqd, sev);
	if (!sev) {
		notify_thread_cancel(mqd);
		return fix_ebadf(kipc_notify(mqd, KIPC_NOTIFY_OFF, 0, 0));
	}
	if (copy_in(&ev, sev, sizeof(ev)))
		return -1;
	/* As ipc/mqueue.c: the request is checked before the descriptor. */
	switch (ev.sigev_notify) {
	case SIGEV_NONE:
		return fix_ebadf(kipc_notify(mqd, KIPC_NOTIFY_NONE, 0, 0));
	case SIGEV_SIGNAL:
		if (ev.sigev_signo <= 0 || ev.sigev_signo > SIGRTMAX) {
			errno = EINVAL;
			return -1;
		}
		return fix_ebadf(kipc_notify(mqd, KIPC_NOTIFY_SIGNAL,
					     ev.sigev_signo,
					     (uintptr_t)ev.sigev_value.sival_ptr));
	case SIGEV_THREAD:
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	nt = malloc(sizeof(*nt));
	if (!nt) {
		errno = ENOMEM;
		return -1;
	}
	nt->mqd = mqd;
	nt->cancelled = false;
	nt->sev = ev;
	pthread_mutex_lock(&notify_lock);
	if (fix_ebadf(kipc_notify(mqd, KIPC_NOTIFY_NONE, 0, 0))) {
		pthread_mutex_unlock(&notify_lock);
		free(nt);
		return -1;
	}
	/* A helper of an earlier registration, fired or not, is done. */
	{
		struct notify_thread *old;

		for (old = notify_threads; old; old = old->next)
			if (old->mqd == mqd)
				old->cancelled = true;
	}
	nt->next = notify_threads;
	notify_threads = nt;
	pthread_mutex_unlock(&notify_lock);
	if (ev.sigev_notify_attributes)
		attr = *ev.sigev_notify_attributes;
	else
		pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&thread, &attr, notify_thread_main, nt);
	if (!ev.sigev_notify_attributes)
		pthread_attr_destroy(&attr);
	if (err) {
		pthread_mutex_lock(&notify_lock);
		notify_thread_unlink(nt);
		pthread_mutex_unlock(&notify_lock);
		free(nt);
		kipc_notify(mqd, KIPC_NOTIFY_OFF, 0, 0);
		errno = err;
		return -1;
	}
	return 0;
}
