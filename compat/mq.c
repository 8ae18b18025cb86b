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
#include <stdlib.h>
#include <string.h>

#include "compat.h"

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
	return kipc_queue_open(kname, open_flags(oflag),
			       (mode & 0777) & ~current_umask(), &qa);
}

KIPC_EXPORT int mq_close(mqd_t mqd)
{
	/* Closing is closing, whatever the backend's state says. */
	if (which() == BACKEND_STOCK)
		return stock()->mq_close(mqd);
	return close(mqd);
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

static int posix_send(mqd_t mqd, const char *msg, size_t len, unsigned int prio,
		      const struct timespec *abs_timeout)
{
	if (prio > KIPC_PRIO_MAX) {
		errno = EINVAL;
		return -1;
	}
	return fix_ebadf(kipc_timedsend(mqd, msg, len, prio, 1,
					abs_timeout ? KIPC_F_ABSTIME : 0,
					CLOCK_REALTIME, abs_timeout));
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
	return fix_ebadf(kipc_timedreceive(mqd, msg, len, prio, 0, NULL,
					   KIPC_F_POSIX_SIZE |
					   (abs_timeout ? KIPC_F_ABSTIME : 0),
					   CLOCK_REALTIME, abs_timeout));
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

struct notify_thread {
	mqd_t mqd;
	struct sigevent sev;
};

/*
 * SIGEV_THREAD: the registration is held (KIPC_NOTIFY_NONE keeps others
 * out with EBUSY) while a helper thread waits for the queue to become
 * readable, then it gives the registration up and runs the function.
 */
static void *notify_thread_main(void *arg)
{
	struct notify_thread *nt = arg;
	struct pollfd pfd = { .fd = nt->mqd, .events = POLLIN };

	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	kipc_notify(nt->mqd, KIPC_NOTIFY_OFF, 0, 0);
	if (!(pfd.revents & (POLLERR | POLLNVAL)))
		nt->sev.sigev_notify_function(nt->sev.sigev_value);
	free(nt);
	return NULL;
}

KIPC_EXPORT int mq_notify(mqd_t mqd, const struct sigevent *sev)
{
	struct notify_thread *nt;
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	ROUTE(-1, mq_notify, mqd, sev);
	if (!sev)
		return fix_ebadf(kipc_notify(mqd, KIPC_NOTIFY_OFF, 0, 0));
	switch (sev->sigev_notify) {
	case SIGEV_NONE:
		return fix_ebadf(kipc_notify(mqd, KIPC_NOTIFY_NONE, 0, 0));
	case SIGEV_SIGNAL:
		return fix_ebadf(kipc_notify(mqd, KIPC_NOTIFY_SIGNAL,
					     sev->sigev_signo,
					     (uintptr_t)sev->sigev_value.sival_ptr));
	case SIGEV_THREAD:
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (fix_ebadf(kipc_notify(mqd, KIPC_NOTIFY_NONE, 0, 0)))
		return -1;
	nt = malloc(sizeof(*nt));
	if (!nt) {
		kipc_notify(mqd, KIPC_NOTIFY_OFF, 0, 0);
		errno = ENOMEM;
		return -1;
	}
	nt->mqd = mqd;
	nt->sev = *sev;
	if (sev->sigev_notify_attributes)
		attr = *sev->sigev_notify_attributes;
	else
		pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&thread, &attr, notify_thread_main, nt);
	if (!sev->sigev_notify_attributes)
		pthread_attr_destroy(&attr);
	if (err) {
		free(nt);
		kipc_notify(mqd, KIPC_NOTIFY_OFF, 0, 0);
		errno = err;
		return -1;
	}
	return 0;
}
