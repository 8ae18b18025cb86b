// SPDX-License-Identifier: GPL-2.0
/*
 * The stock Linux mechanisms kipc is measured against.  Each is used the
 * way a careful application would use it, with the same queue depth as kipc
 * where the mechanism has a knob for it (ctx->depth says what was set).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

static unsigned int name_seq;

/* A name unique to this run, for the mechanisms that need one. */
static void unique_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/kipc-bench-%d-%s-%u", (int)getpid(), what, name_seq++);
}

/* -------------------------------------------------------------- rings */

/*
 * A ring of ctx->depth slots of ctx->size bytes per channel in shared
 * memory, for the mechanisms that move payload through shared memory and
 * only signal through the kernel.  Payload is copied in on send and out on
 * receive, like every message mechanism copies it.  One sender and one
 * receiver per channel: the indices are process-local (the semaphores order
 * the slots), so these rings are not MECH_MULTI.
 */
struct ring_priv {
	char *mem;			/* shared: slots, then extra */
	size_t mem_len;
	unsigned int head[BENCH_MAX_CHAN];	/* local: next slot to fill */
	unsigned int tail[BENCH_MAX_CHAN];	/* local: next slot to read */
	unsigned int credit[BENCH_MAX_CHAN][2];	/* eventfd: local counts */
	int id;				/* SysV shm/sem id, or fd */
	int efd[BENCH_MAX_CHAN][2];	/* eventfd: items, spaces */
};

static size_t ring_bytes(const struct mech_ctx *ctx)
{
	return (size_t)ctx->nchan * ctx->depth * ctx->size;
}

static char *ring_slot(struct mech_ctx *ctx, unsigned int ch, unsigned int i)
{
	struct ring_priv *p = ctx->priv;

	return p->mem + ((size_t)ch * ctx->depth + i) * ctx->size;
}

static void ring_put(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct ring_priv *p = ctx->priv;

	memcpy(ring_slot(ctx, ch, p->head[ch]), buf, ctx->size);
	if (++p->head[ch] == ctx->depth)
		p->head[ch] = 0;
}

static void ring_get(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct ring_priv *p = ctx->priv;

	memcpy(buf, ring_slot(ctx, ch, p->tail[ch]), ctx->size);
	if (++p->tail[ch] == ctx->depth)
		p->tail[ch] = 0;
}

static struct ring_priv *ring_priv_new(struct mech_ctx *ctx)
{
	struct ring_priv *p = calloc(1, sizeof(*p));
	unsigned int i;

	if (!p)
		return NULL;
	p->id = -1;
	for (i = 0; i < BENCH_MAX_CHAN; i++)
		p->efd[i][0] = p->efd[i][1] = -1;
	ctx->priv = p;
	return p;
}

/* --- SysV shm + SysV sem: sem 2ch counts items, 2ch+1 spaces */

struct sysv_ring {
	struct ring_priv r;
	int semid;
};

static int sysv_semop(int semid, unsigned int num, int op)
{
	struct sembuf sb = { .sem_num = num, .sem_op = op, .sem_flg = 0 };

	while (semop(semid, &sb, 1) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static void sysv_ring_teardown(struct mech_ctx *ctx)
{
	struct sysv_ring *p = ctx->priv;

	if (!p)
		return;
	if (p->r.mem)
		shmdt(p->r.mem);
	if (p->semid >= 0)
		semctl(p->semid, 0, IPC_RMID);
	free(p);
	ctx->priv = NULL;
}

static int sysv_ring_setup(struct mech_ctx *ctx)
{
	struct sysv_ring *p = calloc(1, sizeof(*p));
	unsigned int i;
	int shmid;
	void *mem;

	if (!p)
		return -ENOMEM;
	p->semid = -1;
	ctx->priv = p;
	shmid = shmget(IPC_PRIVATE, ring_bytes(ctx), IPC_CREAT | 0600);
	if (shmid < 0)
		return bench_note(ctx, -errno, "shmget");
	mem = shmat(shmid, NULL, 0);
	/* Deferred destroy: it goes when the last process detaches. */
	shmctl(shmid, IPC_RMID, NULL);
	if (mem == (void *)-1)
		return bench_note(ctx, -errno, "shmat");
	p->r.mem = mem;
	p->semid = semget(IPC_PRIVATE, 2 * ctx->nchan, IPC_CREAT | 0600);
	if (p->semid < 0)
		return bench_note(ctx, -errno, "semget");
	for (i = 0; i < ctx->nchan; i++)
		if (semctl(p->semid, 2 * i + 1, SETVAL, (int)ctx->depth) < 0)
			return bench_note(ctx, -errno, "semctl SETVAL");
	return 0;
}

static int sysv_ring_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct sysv_ring *p = ctx->priv;
	int ret = sysv_semop(p->semid, 2 * ch + 1, -1);

	if (ret)
		return ret;
	ring_put(ctx, ch, buf);
	return sysv_semop(p->semid, 2 * ch, 1);
}

static int sysv_ring_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct sysv_ring *p = ctx->priv;
	int ret = sysv_semop(p->semid, 2 * ch, -1);

	if (ret)
		return ret;
	ring_get(ctx, ch, buf);
	return sysv_semop(p->semid, 2 * ch + 1, 1);
}

const struct bench_mech mech_sysv_shm_sem = {
	.name = "sysv-shm-sem",
	.desc = "SysV shm ring, SysV semaphores for items/spaces",
	.kind = MECH_MSG,
	.setup = sysv_ring_setup,
	.teardown = sysv_ring_teardown,
	.send = sysv_ring_send,
	.recv = sysv_ring_recv,
};

/* --- POSIX shm + POSIX sem (sem_init pshared, in the shm) */

struct posix_ring {
	struct ring_priv r;
	sem_t *sems;			/* in the shm, after the slots */
	unsigned int nsems;
};

static void posix_ring_teardown(struct mech_ctx *ctx)
{
	struct posix_ring *p = ctx->priv;
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->nsems; i++)
		sem_destroy(&p->sems[i]);
	if (p->r.mem)
		munmap(p->r.mem, p->r.mem_len);
	free(p);
	ctx->priv = NULL;
}

static int posix_ring_setup(struct mech_ctx *ctx)
{
	struct posix_ring *p = calloc(1, sizeof(*p));
	size_t slots = (ring_bytes(ctx) + 63) & ~(size_t)63;
	char name[64];
	unsigned int i;
	void *mem;
	int fd;

	if (!p)
		return -ENOMEM;
	ctx->priv = p;
	unique_name(name, sizeof(name), "shm");
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return bench_note(ctx, -errno, "shm_open");
	shm_unlink(name);
	p->r.mem_len = slots + 2 * ctx->nchan * sizeof(sem_t);
	if (ftruncate(fd, p->r.mem_len) < 0) {
		close(fd);
		return bench_note(ctx, -errno, "ftruncate");
	}
	mem = mmap(NULL, p->r.mem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		return bench_note(ctx, -errno, "mmap");
	p->r.mem = mem;
	p->sems = (sem_t *)(p->r.mem + slots);
	for (i = 0; i < 2 * ctx->nchan; i++) {
		if (sem_init(&p->sems[i], 1, (i & 1) ? ctx->depth : 0) < 0)
			return bench_note(ctx, -errno, "sem_init");
		p->nsems++;
	}
	return 0;
}

static int posix_sem_op(sem_t *sem, int op)
{
	if (op > 0)
		return sem_post(sem) < 0 ? -errno : 0;
	while (sem_wait(sem) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int posix_ring_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct posix_ring *p = ctx->priv;
	int ret = posix_sem_op(&p->sems[2 * ch + 1], -1);

	if (ret)
		return ret;
	ring_put(ctx, ch, buf);
	return posix_sem_op(&p->sems[2 * ch], 1);
}

static int posix_ring_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct posix_ring *p = ctx->priv;
	int ret = posix_sem_op(&p->sems[2 * ch], -1);

	if (ret)
		return ret;
	ring_get(ctx, ch, buf);
	return posix_sem_op(&p->sems[2 * ch + 1], 1);
}

const struct bench_mech mech_posix_shm_sem = {
	.name = "posix-shm-sem",
	.desc = "POSIX shm ring, process-shared POSIX semaphores",
	.kind = MECH_MSG,
	.setup = posix_ring_setup,
	.teardown = posix_ring_teardown,
	.send = posix_ring_send,
	.recv = posix_ring_recv,
};

/*
 * --- eventfd + shm: an eventfd counts items, another spaces.  A side reads
 * its eventfd only when its local credit runs out and then takes all that
 * accumulated, as eventfd users do; every message costs one write.
 */

static void efd_ring_teardown(struct mech_ctx *ctx)
{
	struct ring_priv *p = ctx->priv;
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < BENCH_MAX_CHAN; i++) {
		if (p->efd[i][0] >= 0)
			close(p->efd[i][0]);
		if (p->efd[i][1] >= 0)
			close(p->efd[i][1]);
	}
	if (p->mem)
		bench_shared_free(p->mem, p->mem_len);
	free(p);
	ctx->priv = NULL;
}

static int efd_ring_setup(struct mech_ctx *ctx)
{
	struct ring_priv *p = ring_priv_new(ctx);
	unsigned int i;

	if (!p)
		return -ENOMEM;
	p->mem_len = ring_bytes(ctx);
	p->mem = bench_shared_alloc(p->mem_len);
	if (!p->mem)
		return bench_note(ctx, -ENOMEM, "mmap");
	for (i = 0; i < ctx->nchan; i++) {
		p->efd[i][0] = eventfd(0, EFD_CLOEXEC);
		p->efd[i][1] = eventfd(ctx->depth, EFD_CLOEXEC);
		if (p->efd[i][0] < 0 || p->efd[i][1] < 0)
			return bench_note(ctx, -errno, "eventfd");
	}
	return 0;
}

/* Take one unit of @which (0 items, 1 spaces) of @ch, sleeping if none. */
static int efd_take(struct ring_priv *p, unsigned int ch, int which)
{
	uint64_t v;

	if (!p->credit[ch][which]) {
		if (bench_read_full(p->efd[ch][which], &v, sizeof(v)))
			return -errno;
		p->credit[ch][which] = v;
	}
	p->credit[ch][which]--;
	return 0;
}

static int efd_give(struct ring_priv *p, unsigned int ch, int which)
{
	uint64_t one = 1;

	return bench_write_full(p->efd[ch][which], &one, sizeof(one)) ? -errno : 0;
}

static int efd_ring_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct ring_priv *p = ctx->priv;
	int ret = efd_take(p, ch, 1);

	if (ret)
		return ret;
	ring_put(ctx, ch, buf);
	return efd_give(p, ch, 0);
}

static int efd_ring_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct ring_priv *p = ctx->priv;
	int ret = efd_take(p, ch, 0);

	if (ret)
		return ret;
	ring_get(ctx, ch, buf);
	return efd_give(p, ch, 1);
}

const struct bench_mech mech_eventfd_shm = {
	.name = "eventfd-shm",
	.desc = "shared anonymous memory ring, eventfds for items/spaces",
	.kind = MECH_MSG,
	.setup = efd_ring_setup,
	.teardown = efd_ring_teardown,
	.send = efd_ring_send,
	.recv = efd_ring_recv,
};

/* -------------------------------------------------------- SysV msg */

struct sysv_msg_priv {
	int q[BENCH_MAX_CHAN];
};

static void sysv_msg_teardown(struct mech_ctx *ctx)
{
	struct sysv_msg_priv *p = ctx->priv;
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < ctx->nchan; i++)
		if (p->q[i] >= 0)
			msgctl(p->q[i], IPC_RMID, NULL);
	free(p);
	ctx->priv = NULL;
}

static int sysv_msg_setup(struct mech_ctx *ctx)
{
	struct sysv_msg_priv *p = calloc(1, sizeof(*p));
	long msgmax = bench_proc_long("/proc/sys/kernel/msgmax");
	struct msqid_ds ds;
	unsigned int i;

	if (!p)
		return -ENOMEM;
	ctx->priv = p;
	for (i = 0; i < BENCH_MAX_CHAN; i++)
		p->q[i] = -1;
	if (msgmax > 0 && (long)ctx->size > msgmax)
		return bench_note(ctx, -EMSGSIZE, "size > kernel.msgmax (%ld)", msgmax);
	for (i = 0; i < ctx->nchan; i++) {
		p->q[i] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (p->q[i] < 0)
			return bench_note(ctx, -errno, "msgget");
		if (msgctl(p->q[i], IPC_STAT, &ds) < 0)
			return bench_note(ctx, -errno, "msgctl IPC_STAT");
		ds.msg_qbytes = (msglen_t)ctx->depth * ctx->size;
		/* Above kernel.msgmnb takes CAP_SYS_RESOURCE: keep the default. */
		if (msgctl(p->q[i], IPC_SET, &ds) < 0 &&
		    msgctl(p->q[i], IPC_STAT, &ds) == 0) {
			unsigned int d = ds.msg_qbytes / ctx->size;

			if (!d)
				return bench_note(ctx, -EMSGSIZE, "msg_qbytes %lu < size",
						  (unsigned long)ds.msg_qbytes);
			if (d < ctx->depth) {
				bench_note(ctx, 0, "depth %u (kernel.msgmnb)", d);
				ctx->depth = d;
			}
		}
	}
	return 0;
}

/* The mtype goes in BENCH_HEADROOM, in front of the payload. */
static int sysv_msg_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct sysv_msg_priv *p = ctx->priv;
	long *m = (long *)buf - 1;

	*m = 1;
	while (msgsnd(p->q[ch], m, ctx->size, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int sysv_msg_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct sysv_msg_priv *p = ctx->priv;
	long *m = (long *)buf - 1;

	while (msgrcv(p->q[ch], m, ctx->size, 0, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

const struct bench_mech mech_sysv_msg = {
	.name = "sysv-msg",
	.desc = "SysV message queue (msgsnd/msgrcv)",
	.kind = MECH_MSG,
	.flags = MECH_MULTI,
	.setup = sysv_msg_setup,
	.teardown = sysv_msg_teardown,
	.send = sysv_msg_send,
	.recv = sysv_msg_recv,
};

/* -------------------------------------------------------- POSIX mq */

struct posix_mq_priv {
	mqd_t q[BENCH_MAX_CHAN];
};

static void posix_mq_teardown(struct mech_ctx *ctx)
{
	struct posix_mq_priv *p = ctx->priv;
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < ctx->nchan; i++)
		if (p->q[i] != (mqd_t)-1)
			mq_close(p->q[i]);
	free(p);
	ctx->priv = NULL;
}

static mqd_t posix_mq_open(unsigned int depth, size_t size)
{
	struct mq_attr attr = { .mq_maxmsg = depth, .mq_msgsize = size };
	char name[64];
	mqd_t q;

	unique_name(name, sizeof(name), "mq");
	q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (q != (mqd_t)-1)
		mq_unlink(name);
	return q;
}

static int posix_mq_setup(struct mech_ctx *ctx)
{
	struct posix_mq_priv *p = calloc(1, sizeof(*p));
	long msg_max = bench_proc_long("/proc/sys/fs/mqueue/msg_max");
	struct rlimit rl;
	unsigned int i;

	if (!p)
		return -ENOMEM;
	ctx->priv = p;
	for (i = 0; i < BENCH_MAX_CHAN; i++)
		p->q[i] = (mqd_t)-1;
	/* RLIMIT_MSGQUEUE (800 KiB by default) caps depth * size per user. */
	if (getrlimit(RLIMIT_MSGQUEUE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MSGQUEUE, &rl);
	}
	for (i = 0; i < ctx->nchan; i++) {
		p->q[i] = posix_mq_open(ctx->depth, ctx->size);
		/* Past fs.mqueue.msg_max takes CAP_SYS_RESOURCE. */
		if (p->q[i] == (mqd_t)-1 && errno == EINVAL && msg_max > 0 &&
		    ctx->depth > msg_max) {
			bench_note(ctx, 0, "depth %ld (fs.mqueue.msg_max)", msg_max);
			ctx->depth = msg_max;
			p->q[i] = posix_mq_open(ctx->depth, ctx->size);
		}
		if (p->q[i] == (mqd_t)-1)
			return bench_note(ctx, -errno, "mq_open depth %u size %zu",
					  ctx->depth, ctx->size);
	}
	return 0;
}

static int posix_mq_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct posix_mq_priv *p = ctx->priv;

	while (mq_send(p->q[ch], buf, ctx->size, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int posix_mq_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct posix_mq_priv *p = ctx->priv;

	while (mq_receive(p->q[ch], buf, ctx->size, NULL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

const struct bench_mech mech_posix_mq = {
	.name = "posix-mq",
	.desc = "POSIX message queue (mq_send/mq_receive)",
	.kind = MECH_MSG,
	.flags = MECH_MULTI,
	.setup = posix_mq_setup,
	.teardown = posix_mq_teardown,
	.send = posix_mq_send,
	.recv = posix_mq_recv,
};

/* ------------------------------------------------------- pipe, FIFO */

/* fd[ch][0] read end, fd[ch][1] write end; FIFOs also keep their paths. */
struct pipe_priv {
	int fd[BENCH_MAX_CHAN][2];
	int keep[BENCH_MAX_CHAN];	/* FIFO: the parent's fd, keeps the buffer */
	char dir[64];
};

static struct pipe_priv *pipe_priv_new(struct mech_ctx *ctx)
{
	struct pipe_priv *p = calloc(1, sizeof(*p));
	unsigned int i;

	if (!p)
		return NULL;
	for (i = 0; i < BENCH_MAX_CHAN; i++)
		p->fd[i][0] = p->fd[i][1] = p->keep[i] = -1;
	ctx->priv = p;
	return p;
}

static void pipe_teardown(struct mech_ctx *ctx)
{
	struct pipe_priv *p = ctx->priv;
	char path[128];
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < BENCH_MAX_CHAN; i++) {
		if (p->fd[i][0] >= 0)
			close(p->fd[i][0]);
		if (p->fd[i][1] >= 0)
			close(p->fd[i][1]);
		if (p->keep[i] >= 0)
			close(p->keep[i]);
	}
	if (p->dir[0]) {
		for (i = 0; i < ctx->nchan; i++) {
			snprintf(path, sizeof(path), "%s/%u", p->dir, i);
			unlink(path);
		}
		rmdir(p->dir);
	}
	free(p);
	ctx->priv = NULL;
}

/*
 * Size the pipe buffer for ctx->depth messages.  The kernel rounds up to a
 * power of two pages (one page at least), so small messages get a deeper
 * pipe than asked: the recorded depth is what the pipe holds.
 */
static int pipe_size(struct mech_ctx *ctx, int fd)
{
	long want = (long)ctx->depth * ctx->size, max, got;

	if (fcntl(fd, F_SETPIPE_SZ, want) < 0) {
		max = bench_proc_long("/proc/sys/fs/pipe-max-size");
		if (errno != EPERM || max <= 0 || fcntl(fd, F_SETPIPE_SZ, max) < 0)
			return bench_note(ctx, -errno, "F_SETPIPE_SZ %ld", want);
		bench_note(ctx, 0, "pipe %ld B (fs.pipe-max-size)", max);
	}
	got = fcntl(fd, F_GETPIPE_SZ);
	if (got < (long)ctx->size)
		return bench_note(ctx, -ENOSPC, "pipe %ld B < size", got);
	ctx->depth = got / ctx->size;
	return 0;
}

static int pipe_setup(struct mech_ctx *ctx)
{
	struct pipe_priv *p = pipe_priv_new(ctx);
	unsigned int i;
	int ret;

	if (!p)
		return -ENOMEM;
	for (i = 0; i < ctx->nchan; i++) {
		if (pipe2(p->fd[i], O_CLOEXEC) < 0)
			return bench_note(ctx, -errno, "pipe2");
		ret = pipe_size(ctx, p->fd[i][1]);
		if (ret)
			return ret;
	}
	return 0;
}

static int pipe_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct pipe_priv *p = ctx->priv;

	return bench_write_full(p->fd[ch][1], buf, ctx->size) ? -errno : 0;
}

static int pipe_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct pipe_priv *p = ctx->priv;

	return bench_read_full(p->fd[ch][0], buf, ctx->size) ? -errno : 0;
}

/* Batched: one write of n messages; a read takes whole messages only. */
static int pipe_send_many(struct mech_ctx *ctx, unsigned int ch,
			  const void *bufs, unsigned int n)
{
	struct pipe_priv *p = ctx->priv;

	return bench_write_full(p->fd[ch][1], bufs, n * ctx->size) ? -errno : (int)n;
}

static int pipe_recv_many(struct mech_ctx *ctx, unsigned int ch, void *bufs,
			  unsigned int n)
{
	struct pipe_priv *p = ctx->priv;
	ssize_t got;
	size_t rest;

	do {
		got = read(p->fd[ch][0], bufs, n * ctx->size);
	} while (got < 0 && errno == EINTR);
	if (got <= 0)
		return got < 0 ? -errno : -EPIPE;
	rest = got % ctx->size;
	if (rest && bench_read_full(p->fd[ch][0], (char *)bufs + got,
				    ctx->size - rest))
		return -errno;
	return (got + ctx->size - 1) / ctx->size;
}

const struct bench_mech mech_pipe = {
	.name = "pipe",
	.desc = "pipe, one write/read per message",
	.kind = MECH_MSG,
	.flags = MECH_MULTI,
	.multi_max = PIPE_BUF,	/* atomic writes: messages stay whole */
	.setup = pipe_setup,
	.teardown = pipe_teardown,
	.send = pipe_send,
	.recv = pipe_recv,
};

const struct bench_mech mech_pipe_batch = {
	.name = "pipe-batch",
	.desc = "pipe, --batch messages per write/read",
	.kind = MECH_MSG,
	.flags = MECH_BATCHED,
	.setup = pipe_setup,
	.teardown = pipe_teardown,
	.send = pipe_send,
	.recv = pipe_recv,
	.send_many = pipe_send_many,
	.recv_many = pipe_recv_many,
};

/* FIFOs: made in a private directory, opened by path in every worker. */
static int fifo_setup(struct mech_ctx *ctx)
{
	struct pipe_priv *p = pipe_priv_new(ctx);
	const char *tmp = getenv("TMPDIR");
	char path[128];
	unsigned int i;
	int ret;

	if (!p)
		return -ENOMEM;
	snprintf(p->dir, sizeof(p->dir), "%s/kipc-bench.XXXXXX", tmp ? tmp : "/tmp");
	if (strlen(p->dir) >= sizeof(p->dir) - 1 || !mkdtemp(p->dir)) {
		p->dir[0] = '\0';
		return bench_note(ctx, -errno, "mkdtemp");
	}
	for (i = 0; i < ctx->nchan; i++) {
		snprintf(path, sizeof(path), "%s/%u", p->dir, i);
		if (mkfifo(path, 0600) < 0)
			return bench_note(ctx, -errno, "mkfifo");
		/* O_RDWR never blocks on a FIFO, and keeps its buffer alive. */
		p->keep[i] = open(path, O_RDWR | O_CLOEXEC);
		if (p->keep[i] < 0)
			return bench_note(ctx, -errno, "open fifo");
		ret = pipe_size(ctx, p->keep[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int fifo_attach(struct mech_ctx *ctx)
{
	struct pipe_priv *p = ctx->priv;
	char path[128];
	unsigned int i;
	int fd;

	for (i = 0; i < ctx->nchan; i++) {
		snprintf(path, sizeof(path), "%s/%u", p->dir, i);
		/* Open by name as unrelated processes would; O_RDWR: no
		 * rendezvous order to get wrong between the workers. */
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(p->keep[i]);
		p->keep[i] = -1;
		p->fd[i][0] = fd;
		p->fd[i][1] = fd;
	}
	return 0;
}

static void fifo_teardown(struct mech_ctx *ctx)
{
	struct pipe_priv *p = ctx->priv;
	unsigned int i;

	/* Parent side: only keep[] is open; avoid closing one fd twice. */
	if (p)
		for (i = 0; i < BENCH_MAX_CHAN; i++)
			if (p->fd[i][1] == p->fd[i][0])
				p->fd[i][1] = -1;
	pipe_teardown(ctx);
}

const struct bench_mech mech_fifo = {
	.name = "fifo",
	.desc = "named pipe (FIFO), opened by path",
	.kind = MECH_MSG,
	.setup = fifo_setup,
	.attach = fifo_attach,
	.teardown = fifo_teardown,
	.send = pipe_send,
	.recv = pipe_recv,
};

/* ------------------------------------------------- UNIX socketpair */

/* fd[ch][0] receives, fd[ch][1] sends; SOCK_SEQPACKET keeps boundaries. */
static int sock_setup(struct mech_ctx *ctx)
{
	struct pipe_priv *p = pipe_priv_new(ctx);
	/* An skb costs its payload plus ~1 KiB of truesize overhead. */
	long want = (long)ctx->depth * (ctx->size + 1024);
	socklen_t len;
	unsigned int i;
	int got;

	if (!p)
		return -ENOMEM;
	if (want > INT_MAX / 2)
		want = INT_MAX / 2;
	for (i = 0; i < ctx->nchan; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->fd[i]) < 0)
			return bench_note(ctx, -errno, "socketpair");
		/* The kernel doubles the value; past net.core.wmem_max
		 * takes CAP_NET_ADMIN (SO_SNDBUFFORCE). */
		if (setsockopt(p->fd[i][1], SOL_SOCKET, SO_SNDBUFFORCE, &(int){ want / 2 },
			       sizeof(int)) < 0)
			setsockopt(p->fd[i][1], SOL_SOCKET, SO_SNDBUF, &(int){ want / 2 },
				   sizeof(int));
		len = sizeof(got);
		if (getsockopt(p->fd[i][1], SOL_SOCKET, SO_SNDBUF, &got, &len) < 0)
			return bench_note(ctx, -errno, "SO_SNDBUF");
		if (got < want) {
			unsigned int d = got / (ctx->size + 1024);

			ctx->depth = d ? d : 1;
			bench_note(ctx, 0, "depth ~%u (net.core.wmem_max)", ctx->depth);
		}
	}
	return 0;
}

static int sock_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct pipe_priv *p = ctx->priv;

	while (send(p->fd[ch][1], buf, ctx->size, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int sock_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct pipe_priv *p = ctx->priv;
	ssize_t got;

	while ((got = recv(p->fd[ch][0], buf, ctx->size, 0)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return (size_t)got == ctx->size ? 0 : -EPROTO;
}

static int sock_send_many(struct mech_ctx *ctx, unsigned int ch,
			  const void *bufs, unsigned int n)
{
	struct pipe_priv *p = ctx->priv;
	struct mmsghdr mh[BENCH_MAX_BATCH];
	struct iovec iov[BENCH_MAX_BATCH];
	unsigned int i;
	int ret;

	if (n > BENCH_MAX_BATCH)
		n = BENCH_MAX_BATCH;
	memset(mh, 0, n * sizeof(mh[0]));
	for (i = 0; i < n; i++) {
		iov[i].iov_base = (char *)bufs + i * ctx->size;
		iov[i].iov_len = ctx->size;
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
	}
	do {
		ret = sendmmsg(p->fd[ch][1], mh, n, 0);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

static int sock_recv_many(struct mech_ctx *ctx, unsigned int ch, void *bufs,
			  unsigned int n)
{
	struct pipe_priv *p = ctx->priv;
	struct mmsghdr mh[BENCH_MAX_BATCH];
	struct iovec iov[BENCH_MAX_BATCH];
	unsigned int i;
	int ret;

	if (n > BENCH_MAX_BATCH)
		n = BENCH_MAX_BATCH;
	memset(mh, 0, n * sizeof(mh[0]));
	for (i = 0; i < n; i++) {
		iov[i].iov_base = (char *)bufs + i * ctx->size;
		iov[i].iov_len = ctx->size;
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
	}
	do {
		ret = recvmmsg(p->fd[ch][0], mh, n, MSG_WAITFORONE, NULL);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

const struct bench_mech mech_unix_seqpacket = {
	.name = "unix-seqpacket",
	.desc = "UNIX SOCK_SEQPACKET socketpair, send/recv",
	.kind = MECH_MSG,
	.flags = MECH_MULTI,
	.setup = sock_setup,
	.teardown = pipe_teardown,
	.send = sock_send,
	.recv = sock_recv,
};

const struct bench_mech mech_unix_mmsg = {
	.name = "unix-mmsg",
	.desc = "UNIX SOCK_SEQPACKET socketpair, sendmmsg/recvmmsg batches",
	.kind = MECH_MSG,
	.flags = MECH_MULTI | MECH_BATCHED,
	.setup = sock_setup,
	.teardown = pipe_teardown,
	.send = sock_send,
	.recv = sock_recv,
	.send_many = sock_send_many,
	.recv_many = sock_recv_many,
};

/* ------------------------------------------------------ semaphores */

static void sysv_sem_teardown(struct mech_ctx *ctx)
{
	int *id = ctx->priv;

	if (!id)
		return;
	if (*id >= 0)
		semctl(*id, 0, IPC_RMID);
	free(id);
	ctx->priv = NULL;
}

static int sysv_sem_setup(struct mech_ctx *ctx)
{
	int *id = malloc(sizeof(*id));

	if (!id)
		return -ENOMEM;
	ctx->priv = id;
	*id = semget(IPC_PRIVATE, ctx->nchan, IPC_CREAT | 0600);
	return *id < 0 ? bench_note(ctx, -errno, "semget") : 0;
}

static int sysv_sem_post(struct mech_ctx *ctx, unsigned int sem)
{
	return sysv_semop(*(int *)ctx->priv, sem, 1);
}

static int sysv_sem_wait(struct mech_ctx *ctx, unsigned int sem)
{
	return sysv_semop(*(int *)ctx->priv, sem, -1);
}

const struct bench_mech mech_sysv_sem = {
	.name = "sysv-sem",
	.desc = "SysV semaphore set (semop)",
	.kind = MECH_SEM,
	.setup = sysv_sem_setup,
	.teardown = sysv_sem_teardown,
	.post = sysv_sem_post,
	.wait = sysv_sem_wait,
};

static void posix_sem_teardown(struct mech_ctx *ctx)
{
	unsigned int i;

	if (!ctx->priv)
		return;
	for (i = 0; i < ctx->nchan; i++)
		sem_destroy((sem_t *)ctx->priv + i);
	bench_shared_free(ctx->priv, ctx->nchan * sizeof(sem_t));
	ctx->priv = NULL;
}

static int posix_sem_setup(struct mech_ctx *ctx)
{
	sem_t *s = bench_shared_alloc(ctx->nchan * sizeof(sem_t));
	unsigned int i;

	if (!s)
		return -ENOMEM;
	ctx->priv = s;
	for (i = 0; i < ctx->nchan; i++)
		if (sem_init(&s[i], 1, 0) < 0)
			return bench_note(ctx, -errno, "sem_init");
	return 0;
}

static int posix_sem_post(struct mech_ctx *ctx, unsigned int sem)
{
	return posix_sem_op((sem_t *)ctx->priv + sem, 1);
}

static int posix_sem_wait(struct mech_ctx *ctx, unsigned int sem)
{
	return posix_sem_op((sem_t *)ctx->priv + sem, -1);
}

const struct bench_mech mech_posix_sem = {
	.name = "posix-sem",
	.desc = "process-shared POSIX semaphore (futex)",
	.kind = MECH_SEM,
	.setup = posix_sem_setup,
	.teardown = posix_sem_teardown,
	.post = posix_sem_post,
	.wait = posix_sem_wait,
};

static void efd_sem_teardown(struct mech_ctx *ctx)
{
	int *fd = ctx->priv;
	unsigned int i;

	if (!fd)
		return;
	for (i = 0; i < ctx->nchan; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	free(fd);
	ctx->priv = NULL;
}

static int efd_sem_setup(struct mech_ctx *ctx)
{
	int *fd = malloc(ctx->nchan * sizeof(*fd));
	unsigned int i;

	if (!fd)
		return -ENOMEM;
	ctx->priv = fd;
	for (i = 0; i < ctx->nchan; i++)
		fd[i] = -1;
	for (i = 0; i < ctx->nchan; i++) {
		fd[i] = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
		if (fd[i] < 0)
			return bench_note(ctx, -errno, "eventfd");
	}
	return 0;
}

static int efd_sem_post(struct mech_ctx *ctx, unsigned int sem)
{
	uint64_t one = 1;

	return bench_write_full(((int *)ctx->priv)[sem], &one, sizeof(one)) ? -errno : 0;
}

static int efd_sem_wait(struct mech_ctx *ctx, unsigned int sem)
{
	uint64_t v;

	return bench_read_full(((int *)ctx->priv)[sem], &v, sizeof(v)) ? -errno : 0;
}

const struct bench_mech mech_eventfd_sem = {
	.name = "eventfd-sem",
	.desc = "eventfd in EFD_SEMAPHORE mode",
	.kind = MECH_SEM,
	.setup = efd_sem_setup,
	.teardown = efd_sem_teardown,
	.post = efd_sem_post,
	.wait = efd_sem_wait,
};

/* --------------------------------------------------------- regions */

struct region_priv {
	int id;				/* shm id or fd */
};

static void sysv_shm_teardown(struct mech_ctx *ctx)
{
	struct region_priv *p = ctx->priv;

	if (!p)
		return;
	if (p->id >= 0)
		shmctl(p->id, IPC_RMID, NULL);
	free(p);
	ctx->priv = NULL;
}

static int sysv_shm_setup(struct mech_ctx *ctx)
{
	struct region_priv *p = malloc(sizeof(*p));

	if (!p)
		return -ENOMEM;
	ctx->priv = p;
	p->id = shmget(IPC_PRIVATE, ctx->size, IPC_CREAT | 0600);
	return p->id < 0 ? bench_note(ctx, -errno, "shmget") : 0;
}

static void *sysv_shm_map(struct mech_ctx *ctx)
{
	struct region_priv *p = ctx->priv;
	void *addr = shmat(p->id, NULL, 0);

	return addr == (void *)-1 ? NULL : addr;
}

static int sysv_shm_unmap(struct mech_ctx *ctx, void *addr)
{
	(void)ctx;
	return shmdt(addr) < 0 ? -errno : 0;
}

const struct bench_mech mech_sysv_shm = {
	.name = "sysv-shm",
	.desc = "SysV shared memory segment (shmat/shmdt)",
	.kind = MECH_REGION,
	.setup = sysv_shm_setup,
	.teardown = sysv_shm_teardown,
	.map = sysv_shm_map,
	.unmap = sysv_shm_unmap,
};

static void fd_region_teardown(struct mech_ctx *ctx)
{
	struct region_priv *p = ctx->priv;

	if (!p)
		return;
	if (p->id >= 0)
		close(p->id);
	free(p);
	ctx->priv = NULL;
}

static int fd_region_size(struct mech_ctx *ctx)
{
	struct region_priv *p = ctx->priv;

	if (p->id < 0)
		return bench_note(ctx, -errno, "open");
	if (ftruncate(p->id, ctx->size) < 0)
		return bench_note(ctx, -errno, "ftruncate");
	return 0;
}

static int posix_shm_setup(struct mech_ctx *ctx)
{
	struct region_priv *p = malloc(sizeof(*p));
	char name[64];

	if (!p)
		return -ENOMEM;
	ctx->priv = p;
	unique_name(name, sizeof(name), "region");
	p->id = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (p->id >= 0)
		shm_unlink(name);
	return fd_region_size(ctx);
}

static int memfd_setup(struct mech_ctx *ctx)
{
	struct region_priv *p = malloc(sizeof(*p));

	if (!p)
		return -ENOMEM;
	ctx->priv = p;
	p->id = memfd_create("kipc-bench", MFD_CLOEXEC);
	return fd_region_size(ctx);
}

static void *fd_region_map(struct mech_ctx *ctx)
{
	struct region_priv *p = ctx->priv;
	void *addr = mmap(NULL, ctx->size, PROT_READ | PROT_WRITE, MAP_SHARED, p->id, 0);

	return addr == MAP_FAILED ? NULL : addr;
}

static int fd_region_unmap(struct mech_ctx *ctx, void *addr)
{
	return munmap(addr, ctx->size) < 0 ? -errno : 0;
}

const struct bench_mech mech_posix_shm = {
	.name = "posix-shm",
	.desc = "POSIX shared memory object (shm_open/mmap)",
	.kind = MECH_REGION,
	.setup = posix_shm_setup,
	.teardown = fd_region_teardown,
	.map = fd_region_map,
	.unmap = fd_region_unmap,
};

const struct bench_mech mech_memfd = {
	.name = "memfd",
	.desc = "memfd_create + mmap",
	.kind = MECH_REGION,
	.setup = memfd_setup,
	.teardown = fd_region_teardown,
	.map = fd_region_map,
	.unmap = fd_region_unmap,
};
