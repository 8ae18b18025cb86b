// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ring_bench: what a kipc ring costs next to the stock blocking paths, all
 * measured in one run on the same machine.
 *
 *   ring_bench [-n ITERS] [-r RUNS] [-s SPIN] [-c CPU0,CPU1] [TEST...]
 *
 * Two processes, pinned to two CPUs (0 and 1 unless -c says otherwise):
 *
 *   rtt-SIZE   round trips of SIZE-byte messages (64 or 65536): ping posts a
 *              message, pong answers with one of the same size.
 *              ring      two rings (one per direction), messages built and
 *                        read in place in the slots (zero copy): the
 *                        transport alone
 *              ring-copy the same through kipc_ring_try_send/try_recv, which
 *                        copy the payload in and out
 *              ring-touch in place, but every payload byte written by the
 *                        sender and read by the receiver
 *              kipcq     two stock kipc queues, KIPC_IOC_SEND + _RECV
 *              mq        two POSIX message queues
 *              pipe      two pipes
 *   stream-64  ITERS messages of 64 bytes one way, as fast as they go:
 *              ring, kipcq, mq, pipe
 *
 * TEST names a row ("rtt-64:ring") or a group ("rtt-64"); the default is
 * all.  Each test runs RUNS times (default 5); one line per test gives the
 * median and the best time per operation, the median rate, and the ratio of
 * each path's median to the ring's.  The functions ring_rtt() and
 * ring_stream() are self-contained, for a bigger benchmark to lift.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kipc.h"

static int cpus[2] = { 0, 1 };
static unsigned int spin = KIPC_RING_SPIN;
/* A round trip has one message in flight per direction: two slots do. */
static uint32_t rtt_slots = 2;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: fewer CPUs than asked just measures less well. */
	sched_setaffinity(0, sizeof(set), &set);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int ready_pipe[2];

/* The peer is set up (mapped, allocated): the clock may start. */
static void peer_ready(void)
{
	char c = 0;

	if (write(ready_pipe[1], &c, 1) != 1)
		_exit(9);
}

/*
 * Fork the peer on the second CPU, and return once it called peer_ready(),
 * so that its setup is not timed; the caller stays on the first CPU.
 */
static pid_t peer(int (*fn)(void *), void *arg)
{
	pid_t pid;
	char c;

	if (pipe(ready_pipe))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pin(cpus[1]);
		_exit(fn(arg));
	}
	pin(cpus[0]);
	/* A peer that fails before it is ready closes the pipe. */
	close(ready_pipe[1]);
	if (read(ready_pipe[0], &c, 1) != 1)
		c = 1;
	close(ready_pipe[0]);
	if (c) {
		waitpid(pid, NULL, 0);
		fprintf(stderr, "ring_bench: peer failed to start\n");
		exit(1);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "ring_bench: peer failed (status %#x)\n", status);
		return -1;
	}
	return 0;
}

/* Rings */

enum ring_mode { IN_PLACE, COPY, TOUCH };

struct ring_pair {
	int fd[2];		/* [0]: ping -> pong, [1]: pong -> ping */
	size_t size;
	unsigned long iters;
	enum ring_mode mode;
};

static int ring_pair_open(struct ring_pair *p, size_t size, uint32_t slots)
{
	uint32_t slot = 64;
	int i;

	while (slot < size)
		slot <<= 1;
	for (i = 0; i < 2; i++) {
		p->fd[i] = kipc_ring_create(NULL, KIPC_O_CREAT | KIPC_O_RDWR |
					    KIPC_O_CLOEXEC, 0600, slots, slot);
		if (p->fd[i] < 0)
			return -1;
	}
	p->size = size;
	return 0;
}

static void ring_pair_close(struct ring_pair *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
}

/* Post one message of @size bytes, as @mode builds it. */
static int ring_post(struct kipc_ring *r, enum ring_mode mode, size_t size,
		     unsigned char *buf, uint32_t seq)
{
	unsigned char *p;

	if (mode == COPY) {
		memcpy(buf, &seq, sizeof(seq));
		while (kipc_ring_try_send(r, buf, size, seq))
			if (errno != EAGAIN ||
			    kipc_ring_wait(r, KIPC_RING_ROOM, 0, NULL) < 0)
				return -1;
		return 0;
	}
	while (!(p = kipc_ring_reserve(r)))
		if (errno != EAGAIN || kipc_ring_wait(r, KIPC_RING_ROOM, 0, NULL) < 0)
			return -1;
	if (mode == TOUCH)
		memset(p, (int)seq, size);
	memcpy(p, &seq, sizeof(seq));
	return kipc_ring_commit(r, size, seq);
}

/* Take one message and check it is number @seq. */
static int ring_take(struct kipc_ring *r, enum ring_mode mode, size_t size,
		     unsigned char *buf, uint32_t seq)
{
	const unsigned char *p;
	uint32_t tag, got;
	size_t len, i;
	unsigned int sum = 0;

	if (mode == COPY) {
		while (kipc_ring_try_recv(r, buf, size, &tag) != (ssize_t)size)
			if (errno != EAGAIN ||
			    kipc_ring_wait(r, KIPC_RING_DATA, 0, NULL) < 0)
				return -1;
		memcpy(&got, buf, sizeof(got));
		return got == seq && tag == seq ? 0 : -1;
	}
	while (!(p = kipc_ring_peek(r, &len, &tag)))
		if (errno != EAGAIN || kipc_ring_wait(r, KIPC_RING_DATA, 0, NULL) < 0)
			return -1;
	if (mode == TOUCH) {
		for (i = 0; i < len; i += sizeof(unsigned long))
			sum += *(const unsigned long *)(p + i) != 0;
		__asm__ __volatile__("" : : "r"(sum));
	}
	memcpy(&got, p, sizeof(got));
	if (len != size || got != seq || tag != seq)
		return -1;
	return kipc_ring_release(r);
}

static int ring_pong(void *arg)
{
	struct ring_pair *p = arg;
	struct kipc_ring in, out;
	unsigned char *buf = malloc(p->size);
	unsigned long i;

	if (!buf || kipc_ring_attach(&in, p->fd[0]) ||
	    kipc_ring_attach(&out, p->fd[1]))
		return 1;
	memset(buf, 0, p->size);
	in.spin = out.spin = spin;
	peer_ready();
	for (i = 0; i < p->iters; i++)
		if (ring_take(&in, p->mode, p->size, buf, i) ||
		    ring_post(&out, p->mode, p->size, buf, i))
			return 2;
	return 0;
}

/* Nanoseconds per round trip of @size-byte messages, or < 0. */
double ring_rtt(size_t size, unsigned long iters, enum ring_mode mode)
{
	struct ring_pair p = { .iters = iters, .mode = mode };
	struct kipc_ring out, in;
	unsigned char *buf = malloc(size);
	double t = -1;
	unsigned long i;
	pid_t pid;

	if (!buf || ring_pair_open(&p, size, rtt_slots))
		die("ring");
	memset(buf, 0, size);
	pid = peer(ring_pong, &p);
	if (kipc_ring_attach(&out, p.fd[0]) || kipc_ring_attach(&in, p.fd[1]))
		die("attach");
	out.spin = in.spin = spin;
	t = now_ns();
	for (i = 0; i < iters; i++)
		if (ring_post(&out, mode, size, buf, i) ||
		    ring_take(&in, mode, size, buf, i))
			break;
	if (i < iters)
		kill(pid, SIGKILL);
	t = (now_ns() - t) / iters;
	if (reap(pid) || i < iters)
		t = -1;
	kipc_ring_detach(&out);
	kipc_ring_detach(&in);
	ring_pair_close(&p);
	free(buf);
	return t;
}

static int ring_sink(void *arg)
{
	struct ring_pair *p = arg;
	unsigned char buf[64];
	struct kipc_ring in;
	unsigned long i;

	if (kipc_ring_attach(&in, p->fd[0]))
		return 1;
	in.spin = spin;
	peer_ready();
	for (i = 0; i < p->iters; i++)
		if (ring_take(&in, COPY, p->size, buf, i))
			return 2;
	return 0;
}

/* Nanoseconds per message of a one-way stream of 64-byte messages. */
double ring_stream(unsigned long iters)
{
	struct ring_pair p = { .iters = iters, .mode = COPY };
	unsigned char buf[64] = { 0 };
	struct kipc_ring out;
	unsigned long i;
	double t;
	pid_t pid;

	if (ring_pair_open(&p, 64, 256))
		die("ring");
	pid = peer(ring_sink, &p);
	if (kipc_ring_attach(&out, p.fd[0]))
		die("attach");
	out.spin = spin;
	t = now_ns();
	for (i = 0; i < iters; i++)
		if (ring_post(&out, COPY, 64, buf, i))
			break;
	if (i < iters)
		kill(pid, SIGKILL);
	t = (now_ns() - t) / iters;
	if (reap(pid) || i < iters)
		t = -1;
	kipc_ring_detach(&out);
	ring_pair_close(&p);
	return t;
}

/* The stock paths: each moves whole messages through the kernel. */

struct chan {
	int (*send)(struct chan *c, int dir, const void *buf, size_t len);
	int (*recv)(struct chan *c, int dir, void *buf, size_t len);
	int fd[2][2];		/* per direction: send end, receive end */
	size_t size;
	unsigned long iters;
	bool stream;
};

static int pipe_send(struct chan *c, int dir, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(c->fd[dir][0], p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int pipe_recv(struct chan *c, int dir, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(c->fd[dir][1], p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int mq_snd(struct chan *c, int dir, const void *buf, size_t len)
{
	return mq_send(c->fd[dir][0], buf, len, 0);
}

static int mq_rcv(struct chan *c, int dir, void *buf, size_t len)
{
	return mq_receive(c->fd[dir][1], buf, len, NULL) == (ssize_t)len ? 0 : -1;
}

static int kq_send(struct chan *c, int dir, const void *buf, size_t len)
{
	return kipc_send(c->fd[dir][0], buf, len, 0, 1, 0);
}

static int kq_recv(struct chan *c, int dir, void *buf, size_t len)
{
	return kipc_receive(c->fd[dir][1], buf, len, NULL, 0, NULL, 0) ==
	       (ssize_t)len ? 0 : -1;
}

static int chan_open(struct chan *c, const char *kind, size_t size)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->size = size;
	for (i = 0; i < 2; i++) {
		if (!strcmp(kind, "pipe")) {
			int p[2];

			if (pipe(p))
				return -1;
			c->fd[i][0] = p[1];
			c->fd[i][1] = p[0];
			c->send = pipe_send;
			c->recv = pipe_recv;
		} else if (!strcmp(kind, "mq")) {
			struct mq_attr a = { .mq_maxmsg = 10, .mq_msgsize = size };
			char name[64];
			mqd_t q;

			snprintf(name, sizeof(name), "/ring_bench.%d.%d", getpid(), i);
			q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
			if (q < 0)
				return -1;
			mq_unlink(name);
			c->fd[i][0] = c->fd[i][1] = q;
			c->send = mq_snd;
			c->recv = mq_rcv;
		} else {
			struct kipc_queue_attr a = {
				.max_msgs = 10, .max_msgsize = size,
			};
			int q = kipc_queue_open(NULL, KIPC_O_CREAT | KIPC_O_RDWR,
						0600, &a);

			if (q < 0)
				return -1;
			c->fd[i][0] = c->fd[i][1] = q;
			c->send = kq_send;
			c->recv = kq_recv;
		}
	}
	return 0;
}

static void chan_close(struct chan *c)
{
	int i;

	for (i = 0; i < 2; i++) {
		close(c->fd[i][0]);
		if (c->fd[i][1] != c->fd[i][0])
			close(c->fd[i][1]);
	}
}

static int chan_peer(void *arg)
{
	struct chan *c = arg;
	char *buf = malloc(c->size);
	unsigned long i;

	if (!buf)
		return 1;
	memset(buf, 0, c->size);
	peer_ready();
	for (i = 0; i < c->iters; i++) {
		if (c->recv(c, 0, buf, c->size))
			return 2;
		if (!c->stream && c->send(c, 1, buf, c->size))
			return 3;
	}
	return 0;
}

/* Nanoseconds per round trip (or per message, for a stream), or < 0. */
static double chan_run(const char *kind, size_t size, unsigned long iters,
		       bool stream)
{
	struct chan c;
	char *buf = calloc(1, size);
	unsigned long i;
	double t;
	pid_t pid;

	if (!buf || chan_open(&c, kind, size)) {
		fprintf(stderr, "ring_bench: %s of %zu bytes: %s\n", kind, size,
			strerror(errno));
		free(buf);
		return -1;
	}
	c.iters = iters;
	c.stream = stream;
	pid = peer(chan_peer, &c);
	t = now_ns();
	for (i = 0; i < iters; i++) {
		if (c.send(&c, 0, buf, size))
			break;
		if (!stream && c.recv(&c, 1, buf, size))
			break;
	}
	if (i < iters)
		kill(pid, SIGKILL);
	t = (now_ns() - t) / iters;
	if (reap(pid) || i < iters)
		t = -1;
	chan_close(&c);
	free(buf);
	return t;
}

/* The table */

struct test {
	const char *group;
	const char *name;
	size_t size;
	int kind;		/* 0: ring, 1: ring-copy, 2: ring-touch, 3: stock */
	const char *stock;
	bool stream;
	unsigned long scale;	/* iterations divided by this */
};

static const struct test tests[] = {
	{ "rtt-64", "ring", 64, 0, NULL, false, 1 },
	{ "rtt-64", "ring-copy", 64, 1, NULL, false, 1 },
	{ "rtt-64", "kipcq", 64, 3, "kipcq", false, 10 },
	{ "rtt-64", "mq", 64, 3, "mq", false, 10 },
	{ "rtt-64", "pipe", 64, 3, "pipe", false, 10 },
	{ "rtt-65536", "ring", 65536, 0, NULL, false, 1 },
	{ "rtt-65536", "ring-copy", 65536, 1, NULL, false, 10 },
	{ "rtt-65536", "ring-touch", 65536, 2, NULL, false, 10 },
	{ "rtt-65536", "kipcq", 65536, 3, "kipcq", false, 10 },
	{ "rtt-65536", "mq", 65536, 3, "mq", false, 10 },
	{ "rtt-65536", "pipe", 65536, 3, "pipe", false, 10 },
	{ "stream-64", "ring", 64, 0, NULL, true, 1 },
	{ "stream-64", "kipcq", 64, 3, "kipcq", true, 10 },
	{ "stream-64", "mq", 64, 3, "mq", true, 10 },
	{ "stream-64", "pipe", 64, 3, "pipe", true, 10 },
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double run_test(const struct test *t, unsigned long n)
{
	if (t->kind < 3 && t->stream)
		return ring_stream(n);
	if (t->kind < 3)
		return ring_rtt(t->size, n, (enum ring_mode)t->kind);
	return chan_run(t->stock, t->size, n, t->stream);
}

static bool wanted(const struct test *t, int argc, char **argv)
{
	char full[64];
	int i;

	if (!argc)
		return true;
	snprintf(full, sizeof(full), "%s:%s", t->group, t->name);
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], t->group) || !strcmp(argv[i], full))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	unsigned long iters = 100000, runs = 5, k;
	double ring_ns = 0, ns, best, *all;
	const char *group = "";
	size_t i;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:s:c:")) != -1) {
		switch (opt) {
		case 'n':
			iters = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 0);
			break;
		case 's':
			spin = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &cpus[0], &cpus[1]) != 2)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (!iters || !runs)
		goto usage;
	all = calloc(runs, sizeof(*all));
	if (!all)
		die("calloc");

	printf("%-10s %-10s %8s %12s %12s %12s %9s\n", "test", "path", "iters",
	       "median ns", "best ns", "median/s", "vs ring");
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		const struct test *t = &tests[i];
		unsigned long n = iters / t->scale ? iters / t->scale : 1;

		if (!wanted(t, argc - optind, argv + optind))
			continue;
		if (strcmp(group, t->group)) {
			group = t->group;
			ring_ns = 0;
		}
		for (k = 0; k < runs; k++) {
			all[k] = run_test(t, n);
			if (all[k] < 0)
				break;
		}
		printf("%-10s %-10s %8lu ", t->group, t->name, n);
		if (k < runs) {
			printf("%12s\n", "failed");
			continue;
		}
		qsort(all, runs, sizeof(*all), cmp_double);
		ns = all[runs / 2];
		best = all[0];
		if (t->kind == 0)
			ring_ns = ns;
		printf("%12.0f %12.0f %12.0f", ns, best, 1e9 / ns);
		if (ring_ns > 0 && t->kind != 0)
			printf(" %8.1fx", ns / ring_ns);
		printf("\n");
		fflush(stdout);
	}
	free(all);
	return 0;

usage:
	fprintf(stderr, "usage: %s [-n ITERS] [-r RUNS] [-s SPIN] [-c CPU0,CPU1] [TEST...]\n",
		argv[0]);
	return 2;
}
