// SPDX-License-Identifier: GPL-2.0
/*
 * kipc mechanisms.  Queues go over the raw UAPI (kipc_raw.h) until libkipc
 * exists.  The slots marked PLANNED are the mechanisms still being written;
 * each becomes a real entry by filling in its callbacks, nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "kipc_raw.h"
#include "kipc.h"

/* One kipc object per channel; rings also keep each worker's mapping. */
struct kq_priv {
	int fd[BENCH_MAX_CHAN];
	struct kipc_ring ring[BENCH_MAX_CHAN];
};

static const char *kipc_probe(void)
{
	int fd = open(KIPC_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? "no " KIPC_DEVICE_PATH " (module not loaded)" :
					 "cannot open " KIPC_DEVICE_PATH;
	close(fd);
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

static int kq_open_queue(struct mech_ctx *ctx)
{
	int fd = kipc_raw_queue(ctx->depth, ctx->size);

	return fd < 0 ? bench_note(ctx, fd, "KIPC_IOC_OPEN") : fd;
}

static int kq_setup(struct mech_ctx *ctx)
{
	return kipc_chan_setup(ctx, kq_open_queue);
}

static int kq_send(struct mech_ctx *ctx, unsigned int ch, const void *buf)
{
	struct kq_priv *p = ctx->priv;
	int ret = kipc_raw_send(p->fd[ch], buf, ctx->size, 1);

	return ret < 0 ? ret : 0;
}

static int kq_recv(struct mech_ctx *ctx, unsigned int ch, void *buf)
{
	struct kq_priv *p = ctx->priv;
	int ret = kipc_raw_recv(p->fd[ch], buf, ctx->size, 1);

	return ret < 0 ? ret : 0;
}

static int kq_send_many(struct mech_ctx *ctx, unsigned int ch, const void *bufs,
			unsigned int n)
{
	struct kq_priv *p = ctx->priv;

	return kipc_raw_send(p->fd[ch], bufs, ctx->size, n);
}

static int kq_recv_many(struct mech_ctx *ctx, unsigned int ch, void *bufs,
			unsigned int n)
{
	struct kq_priv *p = ctx->priv;

	return kipc_raw_recv(p->fd[ch], bufs, ctx->size, n);
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

	return kipc_raw_sendrecv(p->fd[sch], sbuf, p->fd[rch], rbuf, ctx->size);
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
 * PLANNED: messages through a kipc region (ring of slots) with kipc
 * semaphores for items and spaces: the kipc twin of sysv-shm-sem and
 * posix-shm-sem.  Fill in setup/send/recv/teardown when regions and
 * semaphores land (see mech_stock.c's shm_ring_* for the ring).
 */
const struct bench_mech mech_kipc_region_sem = {
	.name = "kipc-region-sem",
	.desc = "kipc region ring + kipc semaphores (planned)",
	.kind = MECH_MSG,
	.flags = MECH_KIPC | MECH_PLANNED,
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

/* PLANNED: a kipc semaphore set, for the semaphore workloads. */
const struct bench_mech mech_kipc_sem = {
	.name = "kipc-sem",
	.desc = "kipc semaphore (planned)",
	.kind = MECH_SEM,
	.flags = MECH_KIPC | MECH_PLANNED,
};

/* PLANNED: a kipc region, for the region workloads. */
const struct bench_mech mech_kipc_region = {
	.name = "kipc-region",
	.desc = "kipc shared region (planned)",
	.kind = MECH_REGION,
	.flags = MECH_KIPC | MECH_PLANNED,
};
