// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The stock IPC calls with their stock signatures, routed to /dev/kipc:
 * POSIX message queues (mq_*) and SysV message queues (msg*).
 *
 * Linked into libkipc.so (link with -lkipc ahead of libc) and into
 * libkipc-preload.so (LD_PRELOAD for unmodified binaries).
 *
 * Never a silent fallback: when /dev/kipc cannot be used every call fails
 * with ENOSYS after one line on stderr, unless KIPC_FALLBACK=stock asks for
 * the kernel's own implementation, found with dlsym(RTLD_NEXT).
 *
 * Naming: a POSIX name "/q" is the kipc queue "q"; a SysV key K is the kipc
 * queue "sysv.msg.K" (K in hex), and IPC_PRIVATE an anonymous persistent
 * queue.  SysV ids are kipc ids, stable across processes; each process opens
 * an id's fd lazily and keeps it (close-on-exec) in a small table.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kipc.h"

#include "compat.h"

/* SysV defaults, as in include/uapi/linux/msg.h. */
#define SYSV_MSGMAX	8192
#define SYSV_MSGMNB	16384

static enum backend backend;
static pthread_once_t backend_once = PTHREAD_ONCE_INIT;

static void choose_backend(void)
{
	const char *fallback = getenv("KIPC_FALLBACK");

	if (kipc_device() >= 0) {
		backend = BACKEND_KIPC;
		return;
	}
	if (fallback && !strcmp(fallback, "stock")) {
		backend = BACKEND_STOCK;
		return;
	}
	fprintf(stderr, "libkipc: %s unavailable (%s); IPC calls fail with ENOSYS (KIPC_FALLBACK=stock uses the kernel's own)\n",
		KIPC_DEVICE_PATH, strerror(errno));
	backend = BACKEND_NONE;
}

/* True to go on with kipc; otherwise errno is ENOSYS or the stock path is due. */
enum backend which(void)
{
	int saved = errno;

	pthread_once(&backend_once, choose_backend);
	errno = backend == BACKEND_NONE ? ENOSYS : saved;
	return backend;
}

/* A call on an fd that is not a kipc queue: mq_* report EBADF. */
static int fix_ebadf(int ret)
{
	if (ret < 0 && errno == ENOTTY)
		errno = EBADF;
	return ret;
}

mode_t current_umask(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	char line[128];
	mode_t mask = 022;
	FILE *f = fopen("/proc/self/status", "re");

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Umask: %o", &mask) == 1)
				break;
		fclose(f);
		return mask;
	}
	pthread_mutex_lock(&lock);
	mask = umask(0);
	umask(mask);
	pthread_mutex_unlock(&lock);
	return mask;
}

int open_flags(int oflag)
{
	int flags = KIPC_O_CLOEXEC;

	switch (oflag & O_ACCMODE) {
	case O_WRONLY:
		flags |= KIPC_O_WRONLY;
		break;
	case O_RDWR:
		flags |= KIPC_O_RDWR;
		break;
	}
	if (oflag & O_CREAT)
		flags |= KIPC_O_CREAT;
	if (oflag & O_EXCL)
		flags |= KIPC_O_EXCL;
	if (oflag & O_NONBLOCK)
		flags |= KIPC_O_NONBLOCK;
	return flags;
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

/* POSIX message queues */

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
	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_open)(name, oflag, mode, attr);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
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
	if (which() == BACKEND_STOCK)
		return STOCK(mq_close)(mqd);
	return close(mqd);
}

KIPC_EXPORT int mq_unlink(const char *name)
{
	const char *kname;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_unlink)(name);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
	kname = posix_name(name);
	if (!kname)
		return -1;
	return kipc_unlink(KIPC_TYPE_QUEUE, kname);
}

KIPC_EXPORT int mq_getattr(mqd_t mqd, struct mq_attr *attr)
{
	struct kipc_stat st;
	int fl;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_getattr)(mqd, attr);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
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

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_setattr)(mqd, newattr, oldattr);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
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
	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_send)(mqd, msg, len, prio);
	case BACKEND_KIPC:
		return posix_send(mqd, msg, len, prio, NULL);
	default:
		return -1;
	}
}

KIPC_EXPORT int mq_timedsend(mqd_t mqd, const char *msg, size_t len,
			     unsigned int prio, const struct timespec *abs_timeout)
{
	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_timedsend)(mqd, msg, len, prio, abs_timeout);
	case BACKEND_KIPC:
		return posix_send(mqd, msg, len, prio, abs_timeout);
	default:
		return -1;
	}
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
	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_receive)(mqd, msg, len, prio);
	case BACKEND_KIPC:
		return posix_receive(mqd, msg, len, prio, NULL);
	default:
		return -1;
	}
}

KIPC_EXPORT ssize_t mq_timedreceive(mqd_t mqd, char *msg, size_t len,
				    unsigned int *prio,
				    const struct timespec *abs_timeout)
{
	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_timedreceive)(mqd, msg, len, prio, abs_timeout);
	case BACKEND_KIPC:
		return posix_receive(mqd, msg, len, prio, abs_timeout);
	default:
		return -1;
	}
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

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(mq_notify)(mqd, sev);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
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

/* SysV message queues */

#define SYSV_NAME_FMT	"sysv.msg.%08x"

/*
 * id -> fd of this process.  Ids are small and dense (the kernel hands them
 * out cyclically from 1), so a growable array indexed by id would waste
 * little; a hash keeps it bounded regardless.
 */
#define ID_TABLE_SIZE	1024

struct id_entry {
	uint32_t id;
	enum kipc_type type;
	int fd;
	struct id_entry *next;
};

static struct id_entry *id_table[ID_TABLE_SIZE];
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_any_access(enum kipc_type type, const char *name, uint32_t id,
			   int flags, mode_t mode, const void *attr,
			   uint32_t *id_out)
{
	static const int modes[] = { KIPC_O_RDWR, KIPC_O_RDONLY, KIPC_O_WRONLY };
	unsigned int i;
	int fd = -1;

	/* SysV checks access per call, so take the widest the mode allows. */
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (name || (flags & KIPC_O_CREAT))
			fd = kipc_open(type, name, flags | modes[i], mode, attr,
				       id_out);
		else
			fd = kipc_open_id(type, id, flags | modes[i]);
		if (fd >= 0 || errno != EACCES)
			break;
	}
	return fd;
}

void id_forget(uint32_t id)
{
	struct id_entry **p, *e;

	pthread_mutex_lock(&id_lock);
	for (p = &id_table[id % ID_TABLE_SIZE]; (e = *p); p = &e->next) {
		if (e->id == id) {
			*p = e->next;
			close(e->fd);
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&id_lock);
}

void id_remember(enum kipc_type type, uint32_t id, int fd)
{
	struct id_entry *e = malloc(sizeof(*e));

	if (!e)
		return;	/* the fd still works; it just isn't cached */
	e->id = id;
	e->type = type;
	e->fd = fd;
	pthread_mutex_lock(&id_lock);
	e->next = id_table[id % ID_TABLE_SIZE];
	id_table[id % ID_TABLE_SIZE] = e;
	pthread_mutex_unlock(&id_lock);
}

/* The fd for SysV id @id, opening it on first use.  EINVAL if no such id. */
int id_fd(enum kipc_type type, int id)
{
	struct id_entry *e;
	int fd = -1;

	if (id < 0) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&id_lock);
	for (e = id_table[id % ID_TABLE_SIZE]; e; e = e->next)
		if (e->id == (uint32_t)id) {
			fd = e->type == type ? e->fd : -2;
			break;
		}
	pthread_mutex_unlock(&id_lock);
	if (fd >= 0)
		return fd;
	if (fd == -2) {
		/* Ids are unique across types: an id of another type. */
		errno = EINVAL;
		return -1;
	}
	fd = open_any_access(type, NULL, id, KIPC_O_CLOEXEC, 0, NULL, NULL);
	if (fd < 0) {
		if (errno == ENOENT)
			errno = EINVAL;
		return -1;
	}
	id_remember(type, id, fd);
	return fd;
}

int sysv_get(enum kipc_type type, const char *fmt, key_t key, int flg,
		    const void *attr)
{
	char name[32];
	uint32_t id = 0;
	int flags = KIPC_O_CLOEXEC, fd;

	if (flg & IPC_CREAT)
		flags |= KIPC_O_CREAT;
	if (flg & IPC_EXCL)
		flags |= KIPC_O_EXCL;
	if (key == IPC_PRIVATE) {
		flags |= KIPC_O_CREAT | KIPC_O_PERSIST;
		fd = open_any_access(type, NULL, 0, flags, flg & 0777, attr, &id);
	} else {
		snprintf(name, sizeof(name), fmt, (unsigned int)key);
		fd = open_any_access(type, name, 0, flags, flg & 0777, attr, &id);
	}
	if (fd < 0)
		return -1;
	id_forget(id);
	id_remember(type, id, fd);
	return id;
}

KIPC_EXPORT int msgget(key_t key, int msgflg)
{
	struct kipc_queue_attr qa = {
		.max_msgs = SYSV_MSGMNB,
		.max_msgsize = SYSV_MSGMAX,
		.max_bytes = SYSV_MSGMNB,
	};

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(msgget)(key, msgflg);
	case BACKEND_KIPC:
		return sysv_get(KIPC_TYPE_QUEUE, SYSV_NAME_FMT, key, msgflg, &qa);
	default:
		return -1;
	}
}

/* A stale id whose object was removed: EIDRM as the kernel reports it. */
int sysv_result(int id, int ret)
{
	if (ret < 0 && errno == EIDRM)
		id_forget(id);
	if (ret < 0 && errno == EBADF)
		errno = EACCES;
	return ret;
}

KIPC_EXPORT int msgsnd(int msqid, const void *msgp, size_t msgsz, int msgflg)
{
	const long *mtype = msgp;
	int fd, ret;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(msgsnd)(msqid, msgp, msgsz, msgflg);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
	fd = id_fd(KIPC_TYPE_QUEUE, msqid);
	if (fd < 0)
		return -1;
	if (*mtype < 1) {
		errno = EINVAL;
		return -1;
	}
	ret = kipc_send(fd, mtype + 1, msgsz, 0, *mtype,
			(msgflg & IPC_NOWAIT) ? KIPC_F_NONBLOCK : 0);
	if (ret < 0 && errno == EMSGSIZE)
		errno = EINVAL;
	return sysv_result(msqid, ret);
}

KIPC_EXPORT ssize_t msgrcv(int msqid, void *msgp, size_t msgsz, long msgtyp,
			   int msgflg)
{
	int flags = KIPC_F_SYSV, fd;
	long *mtype = msgp;
	ssize_t ret;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(msgrcv)(msqid, msgp, msgsz, msgtyp, msgflg);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
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
	ret = kipc_receive(fd, mtype + 1, msgsz, NULL, msgtyp, mtype, flags);
	return sysv_result(msqid, ret);
}

static key_t key_of(const struct kipc_stat *st, const char *fmt)
{
	unsigned int key;

	if ((st->flags & KIPC_STAT_NAMED) && sscanf(st->name, fmt, &key) == 1)
		return (key_t)key;
	return IPC_PRIVATE;
}

void fill_perm(struct ipc_perm *perm, const struct kipc_stat *st,
		      const char *fmt)
{
	memset(perm, 0, sizeof(*perm));
	perm->__key = key_of(st, fmt);
	perm->uid = st->uid;
	perm->gid = st->gid;
	perm->cuid = st->cuid;
	perm->cgid = st->cgid;
	perm->mode = st->mode;
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
	struct kipc_stat st;
	struct kipc_set set;
	int fd;

	switch (which()) {
	case BACKEND_STOCK:
		return STOCK(msgctl)(msqid, cmd, buf);
	case BACKEND_KIPC:
		break;
	default:
		return -1;
	}
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
		if (kipc_stat(fd, &st))
			return sysv_result(msqid, -1);
		if (st.flags & KIPC_STAT_REMOVED) {
			id_forget(msqid);
			errno = EINVAL;
			return -1;
		}
		memset(buf, 0, sizeof(*buf));
		fill_perm(&buf->msg_perm, &st, SYSV_NAME_FMT);
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
		memset(&set, 0, sizeof(set));
		set.valid = KIPC_SET_UID | KIPC_SET_GID | KIPC_SET_MODE |
			    KIPC_SET_MAX_BYTES;
		set.uid = buf->msg_perm.uid;
		set.gid = buf->msg_perm.gid;
		set.mode = buf->msg_perm.mode & 0777;
		set.max_bytes = buf->msg_qbytes;
		return sysv_result(msqid, kipc_set(fd, &set));
	case IPC_RMID:
		if (kipc_remove(fd)) {
			/* Someone removed it first: the id is simply stale. */
			if (errno == EIDRM) {
				id_forget(msqid);
				errno = EINVAL;
			}
			return -1;
		}
		id_forget(msqid);
		return 0;
	default:
		errno = EINVAL;
		return -1;
	}
}
