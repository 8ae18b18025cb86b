// SPDX-License-Identifier: GPL-2.0
/*
 * kipc mechanisms, over libkipc: each of its calls is the one ioctl the
 * mechanism's description names, so the library costs nothing measurable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "kipc.h"

/* One kipc object per channel; rings also keep each worker's mapping. */
struct kq_priv {
	int fd[BENCH_MAX_CHAN];
	struct kipc_ring ring[BENCH_MAX_CHAN];
};

static const char *kipc_probe(void)
{
	if (kipc_device() < 0)
		return errno == ENOSYS ? "no " KIPC_DEVICE_PATH " (module not loaded)" :
					 "cannot open " KIPC_DEVICE_PATH;
	return NULL;
}

static void kq_teardown(struct mech_ctx *ctx)
{
	struct kq_priv *p = ctx->priv;
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < ctx->nchan; i++)
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	free(p);
	ctx->priv = NULL;
}

/* Make ctx->nchan channels, each the fd @open_chan returns (or -errno). */
static int kipc_chan_setup(struct mech_ctx *ctx,
			   int (*open_chan)(struct mech_ctx *ctx))
{
	struct kq_priv *p = calloc(1, sizeof(*p));
	unsigned int i;
	int fd;

	if (!p)
		return -ENOMEM;
	for (i = 0; i < BENCH_MAX_CHAN; i++)
		p->fd[i] = -1;
	ctx->priv = p;
	for (i = 0; i < ctx->nchan; i++) {
		fd = open_chan(ctx);
		if (fd < 0)
			return fd;
		p->fd[i] = fd;
	}
	return 0;
}

/* An anonymous queue, reachable only through its fd (and forks). */
static int kq_open_queue(struct mech_ctx *ctx)
{
	struct kipc_queue_attr attr = {
		.max_msgs = ctx->depth, .max_msgsize = ctx->size,
	};
	int fd = kipc_queue_open(NULL, KIPC_O_RDWR | KIPC_O_CREAT | KIPC_O_CLOEXEC,
				 0600, &attr);

	return fd < 0 ? bench_note(ctx, -errno, "kipc_queue_open") : fd;
}

static int kq_setup(struct mech_ctx *ctx)
{
	return kipc_chan_setup(ctx, kq_open_queue);
}

static int kq_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct kq_priv *p = ctx->priv;

	return kipc_send(p->fd[ch], buf, ctx->size, 0, 1, 0) ? -errno : 0;
}

static int kq_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct kq_priv *p = ctx->priv;

	return kipc_receive(p->fd[ch], buf, ctx->size, NULL, 0, NULL, 0) < 0 ?
	       -errno : 0;
}

/* @n messages of ctx->size bytes back to back at @bufs, type 1. */
static unsigned int kq_msgs(struct mech_ctx *ctx, struct kipc_msg *msgs,
			    const void *bufs, unsigned int n)
{
	unsigned int i;

	if (n > BENCH_MAX_BATCH)
		n = BENCH_MAX_BATCH;
	memset(msgs, 0, n * sizeof(*msgs));
	for (i = 0; i < n; i++) {
		msgs[i].buf = (uintptr_t)bufs + i * ctx->size;
		msgs[i].len = ctx->size;
		msgs[i].type = 1;
	}
	return n;
}

static int kq_send_many(struct mech_ctx *ctx, unsigned int ch, const void *bufs,
			unsigned int n)
{
	struct kq_priv *p = ctx->priv;
	struct kipc_msg msgs[BENCH_MAX_BATCH];
	int ret;

	n = kq_msgs(ctx, msgs, bufs, n);
	ret = kipc_send_batch(p->fd[ch], msgs, n, 0);
	return ret < 0 ? -errno : ret;
}

static int kq_recv_many(struct mech_ctx *ctx, unsigned int ch, void *bufs,
			unsigned int n)
{
	struct kq_priv *p = ctx->priv;
	struct kipc_msg msgs[BENCH_MAX_BATCH];
	int ret;

	n = kq_msgs(ctx, msgs, bufs, n);
	ret = kipc_receive_batch(p->fd[ch], msgs, n, 0);
	return ret < 0 ? -errno : ret;
}

const struct bench_mech mech_kipc_queue = {
	.name = "kipc-queue",
	.desc = "kipc queue, one KIPC_IOC_SEND/RECV per message",
	.kind = MECH_MSG,
	.flags = MECH_KIPC | MECH_MULTI,
	.probe = kipc_probe,
	.setup = kq_setup,
	.teardown = kq_teardown,
	.send = kq_send,
	.recv = kq_recv,
};

static int kq_exchange(struct mech_ctx *ctx, unsigned int sch,
		       const void *sbuf, unsigned int rch, void *rbuf)
{
	struct kq_priv *p = ctx->priv;
	struct kipc_msg sm, rm;
	int ret;

	kq_msgs(ctx, &sm, sbuf, 1);
	kq_msgs(ctx, &rm, rbuf, 1);
	ret = kipc_sendrecv(p->fd[sch], &sm, 1, p->fd[rch], &rm, 1, 0, NULL);
	if (ret < 0)
		return -errno;
	return ret == 1 ? 0 : -EIO;
}

const struct bench_mech mech_kipc_sendrecv = {
	.name = "kipc-sendrecv",
	.desc = "kipc queue, request and reply in one KIPC_IOC_SENDRECV",
	.kind = MECH_MSG,
	.flags = MECH_KIPC | MECH_MULTI,
	.probe = kipc_probe,
	.setup = kq_setup,
	.teardown = kq_teardown,
	.send = kq_send,
	.recv = kq_recv,
	.exchange = kq_exchange,
};

const struct bench_mech mech_kipc_batch = {
	.name = "kipc-batch",
	.desc = "kipc queue, up to --batch messages per KIPC_IOC_SEND/RECV",
	.kind = MECH_MSG,
	.flags = MECH_KIPC | MECH_MULTI | MECH_BATCHED,
	.probe = kipc_probe,
	.setup = kq_setup,
	.teardown = kq_teardown,
	.send = kq_send,
	.recv = kq_recv,
	.send_many = kq_send_many,
	.recv_many = kq_recv_many,
};

/*
 * The kipc ring: one shared-memory ring per channel (one producer, one
 * consumer), entering the kernel only to sleep or to wake a sleeper.
 */
static uint32_t pow2_at_least(size_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1U << 30))
		p <<= 1;
	return p;
}

static int kr_open_ring(struct mech_ctx *ctx)
{
	int fd = kipc_ring_create(NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
				  pow2_at_least(ctx->depth),
				  pow2_at_least(ctx->size));

	return fd < 0 ? bench_note(ctx, -errno, "kipc_ring_create") : fd;
}

static int kr_setup(struct mech_ctx *ctx)
{
	return kipc_chan_setup(ctx, kr_open_ring);
}

/* After fork: each worker maps the rings itself. */
static int kr_attach(struct mech_ctx *ctx)
{
	struct kq_priv *p = ctx->priv;
	unsigned int i;

	for (i = 0; i < ctx->nchan; i++)
		if (kipc_ring_attach(&p->ring[i], p->fd[i]))
			return -errno;
	return 0;
}

static int kr_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct kq_priv *p = ctx->priv;

	return kipc_ring_send(&p->ring[ch], buf, ctx->size, 0, 0, NULL) ?
	       -errno : 0;
}

static int kr_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct kq_priv *p = ctx->priv;

	return kipc_ring_recv(&p->ring[ch], buf, ctx->size, NULL, 0, NULL) < 0 ?
	       -errno : 0;
}

const struct bench_mech mech_kipc_ring = {
	.name = "kipc-ring",
	.desc = "kipc ring: shared slots, the kernel only to sleep and wake",
	.kind = MECH_MSG,
	.flags = MECH_KIPC,
	.probe = kipc_probe,
	.setup = kr_setup,
	.attach = kr_attach,
	.teardown = kq_teardown,
	.send = kr_send,
	.recv = kr_recv,
};

/*
 * The kipc ring with the payload built and read in place
 * (kipc_ring_reserve/commit, kipc_ring_peek/release): what a zero-copy user
 * does.  Only the header the workload checks is copied; the rest of the
 * message is whatever the slot holds, as if the producer had written it
 * there instead of into a buffer of its own.  With @touch the producer
 * writes every payload byte and the consumer reads every word: what the
 * transport costs a program that does use its whole message.
 */
static int krz_post(struct mech_ctx *ctx, unsigned int ch, const void *buf,
		    bool touch)
{
	struct kq_priv *p = ctx->priv;
	struct kipc_ring *r = &p->ring[ch];
	void *slot;

	while (!(slot = kipc_ring_reserve(r))) {
		if (errno != EAGAIN)
			return -errno;
		if (kipc_ring_wait(r, KIPC_RING_ROOM, 0, NULL) < 0 && errno != EINTR)
			return -errno;
	}
	if (touch)
		memset(slot, 0x5a, ctx->size);
	memcpy(slot, buf, BENCH_MSG_HDR);
	return kipc_ring_commit(r, ctx->size, 0) ? -errno : 0;
}

static int krz_take(struct mech_ctx *ctx, unsigned int ch, void *buf,
		    bool touch)
{
	struct kq_priv *p = ctx->priv;
	struct kipc_ring *r = &p->ring[ch];
	const unsigned char *msg;
	unsigned long sum = 0;
	size_t len, i;

	while (!(msg = kipc_ring_peek(r, &len, NULL))) {
		if (errno != EAGAIN)
			return -errno;
		if (kipc_ring_wait(r, KIPC_RING_DATA, 0, NULL) < 0 && errno != EINTR)
			return -errno;
	}
	if (len != ctx->size)
		return -EPROTO;
	if (touch) {
		for (i = 0; i + sizeof(sum) <= len; i += sizeof(sum))
			sum += *(const unsigned long *)(msg + i);
		/* Keep the reads: nothing else uses the sum. */
		__asm__ __volatile__("" : : "r"(sum));
	}
	memcpy(buf, msg, BENCH_MSG_HDR);
	return kipc_ring_release(r) ? -errno : 0;
}

static int krz_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	return krz_post(ctx, ch, buf, false);
}

static int krz_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	return krz_take(ctx, ch, buf, false);
}

const struct bench_mech mech_kipc_ring_zc = {
	.name = "kipc-ring-zc",
	.desc = "kipc ring, messages built and read in place (zero-copy)",
	.kind = MECH_MSG,
	.flags = MECH_KIPC,
	.probe = kipc_probe,
	.setup = kr_setup,
	.attach = kr_attach,
	.teardown = kq_teardown,
	.send = krz_send,
	.recv = krz_recv,
};

static int krt_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	return krz_post(ctx, ch, buf, true);
}

static int krt_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	return krz_take(ctx, ch, buf, true);
}

const struct bench_mech mech_kipc_ring_touch = {
	.name = "kipc-ring-touch",
	.desc = "kipc ring in place, every payload byte written and read",
	.kind = MECH_MSG,
	.flags = MECH_KIPC,
	.probe = kipc_probe,
	.setup = kr_setup,
	.attach = kr_attach,
	.teardown = kq_teardown,
	.send = krt_send,
	.recv = krt_recv,
};

/*
 * Messages through a kipc region (a ring of slots) with a kipc semaphore
 * set counting items and spaces: the kipc twin of sysv-shm-sem and
 * posix-shm-sem.  The semaphores take the mapped fast path
 * (kipc_semmap_*): the kernel is entered only to sleep and to wake.
 */
struct krs_priv {
	char *mem;			/* the region, mapped before fork */
	size_t len;
	int region;
	int sem;
	unsigned int head[BENCH_MAX_CHAN];	/* local: next slot to fill */
	unsigned int tail[BENCH_MAX_CHAN];	/* local: next slot to read */
	struct kipc_semmap map;		/* per process: mapped in attach */
};

static void krs_teardown(struct mech_ctx *ctx)
{
	struct krs_priv *p = ctx->priv;

	if (!p)
		return;
	if (p->mem)
		munmap(p->mem, p->len);
	if (p->region >= 0)
		close(p->region);
	if (p->sem >= 0)
		close(p->sem);
	free(p);
	ctx->priv = NULL;
}

static int krs_setup(struct mech_ctx *ctx)
{
	struct krs_priv *p = calloc(1, sizeof(*p));
	struct kipc_region_attr ra = { 0 };
	struct kipc_sem_attr sa = { 0 };
	unsigned int i;
	void *mem;

	if (!p)
		return -ENOMEM;
	p->region = p->sem = -1;
	ctx->priv = p;
	p->len = (size_t)ctx->nchan * ctx->depth * ctx->size;
	ra.size = p->len;
	p->region = kipc_region_open(NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, &ra);
	if (p->region < 0)
		return bench_note(ctx, -errno, "kipc_region_open");
	mem = mmap(NULL, p->len, PROT_READ | PROT_WRITE, MAP_SHARED, p->region, 0);
	if (mem == MAP_FAILED)
		return bench_note(ctx, -errno, "mmap region");
	p->mem = mem;
	sa.nsems = 2 * ctx->nchan;
	p->sem = kipc_sem_open(NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, &sa);
	if (p->sem < 0)
		return bench_note(ctx, -errno, "kipc_sem_open");
	for (i = 0; i < ctx->nchan; i++)
		if (kipc_sem_setval(p->sem, 2 * i + 1, ctx->depth) < 0)
			return bench_note(ctx, -errno, "kipc_sem_setval");
	return 0;
}

static int krs_attach(struct mech_ctx *ctx)
{
	struct krs_priv *p = ctx->priv;

	return kipc_semmap_attach(&p->map, p->sem) ? -errno : 0;
}

static int ksem_wait(struct kipc_semmap *m, unsigned int num)
{
	while (kipc_semmap_wait(m, num, 0, CLOCK_MONOTONIC, NULL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int ksem_post(struct kipc_semmap *m, unsigned int num)
{
	return kipc_semmap_post(m, num) ? -errno : 0;
}

static char *krs_slot(struct mech_ctx *ctx, unsigned int ch, unsigned int i)
{
	struct krs_priv *p = ctx->priv;

	return p->mem + ((size_t)ch * ctx->depth + i) * ctx->size;
}

static int krs_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct krs_priv *p = ctx->priv;
	int ret = ksem_wait(&p->map, 2 * ch + 1);

	if (ret)
		return ret;
	memcpy(krs_slot(ctx, ch, p->head[ch]), buf, ctx->size);
	if (++p->head[ch] == ctx->depth)
		p->head[ch] = 0;
	return ksem_post(&p->map, 2 * ch);
}

static int krs_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct krs_priv *p = ctx->priv;
	int ret = ksem_wait(&p->map, 2 * ch);

	if (ret)
		return ret;
	memcpy(buf, krs_slot(ctx, ch, p->tail[ch]), ctx->size);
	if (++p->tail[ch] == ctx->depth)
		p->tail[ch] = 0;
	return ksem_post(&p->map, 2 * ch + 1);
}

const struct bench_mech mech_kipc_region_sem = {
	.name = "kipc-region-sem",
	.desc = "kipc region ring + kipc semaphores (mapped fast path)",
	.kind = MECH_MSG,
	.flags = MECH_KIPC,
	.probe = kipc_probe,
	.setup = krs_setup,
	.attach = krs_attach,
	.teardown = krs_teardown,
	.send = krs_send,
	.recv = krs_recv,
};

/*
 * A kipc semaphore set for the semaphore workloads, in two flavours: every
 * operation an ioctl (the SysV-shaped path, as semop(2)), and the mapped
 * fast path (the futex-shaped one, as sem_post(3)/sem_wait(3)).
 */
struct ksem_priv {
	int fd;
	struct kipc_semmap map;
};

static void ksem_teardown(struct mech_ctx *ctx)
{
	struct ksem_priv *p = ctx->priv;

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	ctx->priv = NULL;
}

static int ksem_setup(struct mech_ctx *ctx)
{
	struct ksem_priv *p = calloc(1, sizeof(*p));
	struct kipc_sem_attr sa = { .nsems = ctx->nchan };

	if (!p)
		return -ENOMEM;
	ctx->priv = p;
	p->fd = kipc_sem_open(NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, &sa);
	return p->fd < 0 ? bench_note(ctx, -errno, "kipc_sem_open") : 0;
}

static int ksem_op(struct mech_ctx *ctx, unsigned int sem, int delta)
{
	struct ksem_priv *p = ctx->priv;
	struct kipc_sembuf op = { .num = sem, .delta = delta };

	while (kipc_semop(p->fd, &op, 1, 0, CLOCK_MONOTONIC, NULL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int ksem_ioc_post(struct mech_ctx *ctx, unsigned int sem)
{
	return ksem_op(ctx, sem, 1);
}

static int ksem_ioc_wait(struct mech_ctx *ctx, unsigned int sem)
{
	return ksem_op(ctx, sem, -1);
}

const struct bench_mech mech_kipc_sem = {
	.name = "kipc-sem",
	.desc = "kipc semaphore set, one KIPC_IOC_SEM_OP per operation",
	.kind = MECH_SEM,
	.flags = MECH_KIPC,
	.probe = kipc_probe,
	.setup = ksem_setup,
	.teardown = ksem_teardown,
	.post = ksem_ioc_post,
	.wait = ksem_ioc_wait,
};

static int ksem_map_attach(struct mech_ctx *ctx)
{
	struct ksem_priv *p = ctx->priv;

	return kipc_semmap_attach(&p->map, p->fd) ? -errno : 0;
}

static int ksem_map_post(struct mech_ctx *ctx, unsigned int sem)
{
	return ksem_post(&((struct ksem_priv *)ctx->priv)->map, sem);
}

static int ksem_map_wait(struct mech_ctx *ctx, unsigned int sem)
{
	return ksem_wait(&((struct ksem_priv *)ctx->priv)->map, sem);
}

const struct bench_mech mech_kipc_sem_fast = {
	.name = "kipc-sem-fast",
	.desc = "kipc semaphore set, mapped fast path (kipc_semmap_*)",
	.kind = MECH_SEM,
	.flags = MECH_KIPC,
	.probe = kipc_probe,
	.setup = ksem_setup,
	.attach = ksem_map_attach,
	.teardown = ksem_teardown,
	.post = ksem_map_post,
	.wait = ksem_map_wait,
};

/* A kipc region for the region workloads. */
static void kreg_teardown(struct mech_ctx *ctx)
{
	int *fd = ctx->priv;

	if (!fd)
		return;
	if (*fd >= 0)
		close(*fd);
	free(fd);
	ctx->priv = NULL;
}

static int kreg_setup(struct mech_ctx *ctx)
{
	struct kipc_region_attr ra = { .size = ctx->size };
	int *fd = malloc(sizeof(*fd));

	if (!fd)
		return -ENOMEM;
	ctx->priv = fd;
	*fd = kipc_region_open(NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, &ra);
	return *fd < 0 ? bench_note(ctx, -errno, "kipc_region_open") : 0;
}

static void *kreg_map(struct mech_ctx *ctx)
{
	void *addr = mmap(NULL, ctx->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			  *(int *)ctx->priv, 0);

	return addr == MAP_FAILED ? NULL : addr;
}

static int kreg_unmap(struct mech_ctx *ctx, void *addr)
{
	return munmap(addr, ctx->size) < 0 ? -errno : 0;
}

const struct bench_mech mech_kipc_region = {
	.name = "kipc-region",
	.desc = "kipc shared region (mmap of the object fd)",
	.kind = MECH_REGION,
	.flags = MECH_KIPC,
	.probe = kipc_probe,
	.setup = kreg_setup,
	.teardown = kreg_teardown,
	.map = kreg_map,
	.unmap = kreg_unmap,
};
