// SPDX-License-Identifier: GPL-2.0
/* The list of mechanisms, and small helpers they share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

extern const struct bench_mech mech_kipc_queue, mech_kipc_sendrecv, mech_kipc_batch,
	mech_kipc_region_sem, mech_kipc_ring, mech_kipc_ring_zc, mech_kipc_ring_touch,
	mech_kipc_sem,
	mech_kipc_sem_fast, mech_kipc_region,
	mech_sysv_msg, mech_posix_mq, mech_sysv_shm_sem, mech_posix_shm_sem,
	mech_eventfd_shm, mech_pipe, mech_pipe_batch, mech_fifo,
	mech_unix_seqpacket, mech_unix_mmsg, mech_sysv_sem, mech_posix_sem,
	mech_eventfd_sem, mech_sysv_shm, mech_posix_shm, mech_memfd;

/*
 * In the order they run within a round (and appear in tables): kipc first,
 * then the stock mechanisms, closest relatives first.
 */
const struct bench_mech *const bench_mechs[] = {
	/* messages */
	&mech_kipc_queue,
	&mech_kipc_sendrecv,
	&mech_kipc_batch,
	&mech_kipc_region_sem,
	&mech_kipc_ring,
	&mech_kipc_ring_zc,
	&mech_kipc_ring_touch,
	&mech_sysv_msg,
	&mech_posix_mq,
	&mech_sysv_shm_sem,
	&mech_posix_shm_sem,
	&mech_eventfd_shm,
	&mech_pipe,
	&mech_pipe_batch,
	&mech_fifo,
	&mech_unix_seqpacket,
	&mech_unix_mmsg,
	/* semaphores */
	&mech_kipc_sem,
	&mech_kipc_sem_fast,
	&mech_sysv_sem,
	&mech_posix_sem,
	&mech_eventfd_sem,
	/* regions */
	&mech_kipc_region,
	&mech_sysv_shm,
	&mech_posix_shm,
	&mech_memfd,
	NULL
};

/* Append a reason to ctx->note; returns @err for `return bench_note(...)`. */
int bench_note(struct mech_ctx *ctx, int err, const char *fmt, ...)
{
	size_t len = strlen(ctx->note);
	va_list ap;

	if (len && len < sizeof(ctx->note) - 2) {
		strcpy(ctx->note + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(ctx->note + len, sizeof(ctx->note) - len, fmt, ap);
	va_end(ap);
	len = strlen(ctx->note);
	if (err < 0)
		snprintf(ctx->note + len, sizeof(ctx->note) - len, ": %s",
			 strerror(-err));
	return err;
}

/* Whole-buffer I/O; -1 with errno on failure (EPIPE at end of file). */
int bench_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EPIPE;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int bench_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* A number from a /proc file, or -1. */
long bench_proc_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Memory shared with the workers forked later. */
void *bench_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void bench_shared_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}
