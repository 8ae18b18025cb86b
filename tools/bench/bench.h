/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc-bench: kipc and the stock IPC mechanisms on the same workloads.
 *
 * A mechanism is one struct bench_mech: a name, a kind (messages,
 * semaphores or regions) and the callbacks of that kind.  The workloads
 * (bench.c) only ever talk to a mechanism through those callbacks, so adding
 * one is writing its callbacks and listing it in bench_mechs[] (mechs.c).
 *
 * Life of one measurement: the parent calls setup(), forks the workers
 * (fork, not threads: this is inter-process communication), each worker
 * calls attach(), the workload runs, the workers exit and the parent calls
 * teardown().  ctx->priv is made by setup() and reaches the workers by fork;
 * per-process state (local ring indices, fds opened by name) belongs in
 * attach().  Region workloads run setup/teardown inside their one worker.
 */
#ifndef KIPC_BENCH_H
#define KIPC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_BATCH		64
#define BENCH_MAX_CHAN		4
/*
 * Writable bytes in front of every single-message buffer the workloads pass
 * to send() and recv(), so that SysV msgsnd/msgrcv can put their mtype there
 * instead of copying the payload into a struct msgbuf.
 */
#define BENCH_HEADROOM		16
/* Bytes at the start of every message that the workloads write and check. */
#define BENCH_MSG_HDR		16

enum mech_kind {
	MECH_MSG,		/* moves messages of ctx->size bytes */
	MECH_SEM,		/* counting semaphores */
	MECH_REGION,		/* shared memory regions */
};

/* bench_mech.flags */
#define MECH_KIPC	0x0001	/* kipc itself; the others are the stock baseline */
#define MECH_MULTI	0x0002	/* one channel may have several senders and receivers */
#define MECH_BATCHED	0x0004	/* moves many messages per call: not in round trips */
#define MECH_PLANNED	0x0008	/* a slot for a mechanism not written yet */

struct mech_ctx {
	const struct bench_mech *mech;
	size_t size;		/* message or region size in bytes */
	unsigned int depth;	/* in: wanted queue depth, messages; out: the one set up */
	unsigned int nchan;	/* channels (MSG) or semaphores (SEM) */
	unsigned int batch;	/* most messages per send_many/recv_many */
	bool multi;		/* several senders/receivers per channel */
	int role;		/* in a worker: its index */
	void *priv;		/* the mechanism's own state */
	char note[160];		/* from setup: why the depth differs, why it failed */
};

struct bench_mech {
	const char *name;
	const char *desc;
	enum mech_kind kind;
	unsigned int flags;
	size_t multi_max;	/* with MECH_MULTI: only up to this size; 0: any */

	/* Optional, in the parent: NULL if usable here, else why not. */
	const char *(*probe)(void);
	/* Create ctx->nchan channels of ctx->depth messages.  0 or -errno,
	 * with ctx->note saying why; may lower ctx->depth (and say so). */
	int (*setup)(struct mech_ctx *ctx);
	/* Optional, in each worker after fork. */
	int (*attach)(struct mech_ctx *ctx);
	/* In the parent once the workers are gone, whatever happened. */
	void (*teardown)(struct mech_ctx *ctx);

	/* MECH_MSG: one message of ctx->size bytes on channel @ch; 0 or -errno. */
	int (*send)(struct mech_ctx *ctx, unsigned int ch, const void *buf);
	int (*recv)(struct mech_ctx *ctx, unsigned int ch, void *buf);
	/*
	 * Optional: up to @n messages stored back to back at @bufs.  Return
	 * how many moved (> 0) or -errno; recv_many blocks only for the first.
	 */
	int (*send_many)(struct mech_ctx *ctx, unsigned int ch, const void *bufs,
			 unsigned int n);
	int (*recv_many)(struct mech_ctx *ctx, unsigned int ch, void *bufs,
			 unsigned int n);

	/*
	 * Optional: send @sbuf on @sch, then receive into @rbuf from @rch, in
	 * one step if the mechanism can.  Round trips use it when present.
	 */
	int (*exchange)(struct mech_ctx *ctx, unsigned int sch, const void *sbuf,
			unsigned int rch, void *rbuf);

	/* MECH_SEM: V and P on semaphore @sem (all start at 0). */
	int (*post)(struct mech_ctx *ctx, unsigned int sem);
	int (*wait)(struct mech_ctx *ctx, unsigned int sem);

	/* MECH_REGION: setup() makes a region of ctx->size bytes. */
	void *(*map)(struct mech_ctx *ctx);
	int (*unmap)(struct mech_ctx *ctx, void *addr);
};

extern const struct bench_mech *const bench_mechs[];

/* Helpers for mechanisms (mechs.c). */
int bench_note(struct mech_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int bench_read_full(int fd, void *buf, size_t len);
int bench_write_full(int fd, const void *buf, size_t len);
long bench_proc_long(const char *path);
void *bench_shared_alloc(size_t len);
void bench_shared_free(void *p, size_t len);

#endif /* KIPC_BENCH_H */
