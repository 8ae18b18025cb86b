// SPDX-License-Identifier: GPL-2.0
/*
 * kipc's blocking calls as the rest of the system sees them: what a stop
 * (SIGSTOP/SIGCONT, a ptrace stop) does to a wait and its timeout, on a
 * queue, a semaphore set and a ring; a wait that cannot be restarted once
 * it had an effect; deadlines in a time namespace; a waiter whose parent
 * dies; a fork while a thread waits.  One behaviour per test.
 *
 * A waiter runs in a child, which reports its call's result and how long it
 * took through a pipe, so that the parent can stop and continue it.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"
#include "kipc_sem.h"

/* The timeout of the waits that are stopped and continued. */
#define WAIT_MS		1500
/* Stops and continues per test, how long each lasts, and the time between. */
#define ROUNDS		3
#define STOPPED_MS	150
#define RUNNING_MS	250

enum waiter_kind { ON_QUEUE, ON_SEM, ON_RING };

struct waiter {
	enum waiter_kind kind;
	int fd;
	uint32_t flags;			/* KIPC_F_* of the call */
	struct kipc_timeout to;		/* with KIPC_F_TIMED */
	long abs_ms;			/* with KIPC_F_ABSTIME: @to from the call */
	void *ring;			/* ON_RING: the mapping */
	size_t ring_size;
};

struct outcome {
	int ret;
	int64_t ms;
};

static int ring_create(int dev, struct waiter *w)
{
	struct kipc_ring_attr a = { .slots = 4, .slot_size = 64 };
	struct kipc_ring_info info;
	void *p;
	int fd;

	fd = kt_open(dev, KIPC_TYPE_RING, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
		     0600, &a, sizeof(a), NULL);
	if (fd < 0)
		return fd;
	if (ioctl(fd, KIPC_IOC_RING_INFO, &info))
		return -errno;
	p = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	if (p == MAP_FAILED)
		return -errno;
	w->ring = p;
	w->ring_size = info.map_size;
	return fd;
}

/* An object of @kind to wait on, with nothing to take. */
static int waiter_init(struct waiter *w, int dev, enum waiter_kind kind)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	switch (kind) {
	case ON_QUEUE:
		w->fd = kt_anon_queue(dev, 4, 64);
		break;
	case ON_SEM:
		w->fd = kt_anon_sem(dev, 1, 0);
		break;
	case ON_RING:
		w->fd = ring_create(dev, w);
		break;
	}
	return w->fd < 0 ? w->fd : 0;
}

static void waiter_fini(struct waiter *w)
{
	if (w->ring)
		munmap(w->ring, w->ring_size);
	close(w->fd);
}

/* The blocking call: a receive, a wait to lower the counter, a ring wait. */
static int waiter_call(struct waiter *w)
{
	struct kipc_ring_wait rw = { .events = KIPC_RING_DATA };
	char buf[64];

	/* A deadline from now, not from when the test set it. */
	if (w->flags & KIPC_F_ABSTIME)
		w->to = kt_abs_ms(CLOCK_MONOTONIC, w->abs_ms);
	switch (w->kind) {
	case ON_QUEUE:
		return kt_recv(w->fd, buf, sizeof(buf), NULL, 0, w->flags,
			       &w->to);
	case ON_SEM:
		return kt_sem1(w->fd, 0, -1, 0, w->flags, &w->to);
	case ON_RING:
		rw.flags = w->flags;
		rw.timeout = w->to;
		return kt_ret(ioctl(w->fd, KIPC_IOC_RING_WAIT, &rw));
	}
	return -EINVAL;
}

/* Tasks asleep in the call, from the kernel's count. */
static int waiter_sleepers(struct waiter *w)
{
	struct kipc_stat st;

	if (w->kind == ON_SEM)
		return kt_ncnt(w->fd, 0);
	if (kt_stat(w->fd, &st))
		return -1;
	if (st.type == KIPC_TYPE_RING)
		return st.ring.data_waiters;
	return st.queue.recv_waiters;
}

/* Let the sleeper go: a message, a post, a message in the ring. */
static void waiter_satisfy(struct waiter *w)
{
	struct kipc_ring_hdr *hdr = w->ring;

	switch (w->kind) {
	case ON_QUEUE:
		kt_send(w->fd, "go", 2, 0, 1, 0, NULL);
		break;
	case ON_SEM:
		kt_sem1(w->fd, 0, 1, 0, 0, NULL);
		break;
	case ON_RING:
		__atomic_store_n(&hdr->head, hdr->head + 1, __ATOMIC_SEQ_CST);
		ioctl(w->fd, KIPC_IOC_RING_WAKE, KIPC_RING_DATA);
		break;
	}
}

static void waiter_relative(struct waiter *w, long ms)
{
	w->flags = KIPC_F_TIMED;
	w->to = kt_rel_ms(ms);
}

static void waiter_absolute(struct waiter *w, long ms)
{
	w->flags = KIPC_F_TIMED | KIPC_F_ABSTIME;
	w->abs_ms = ms;
}

/* Fork a child that makes the call and reports on @pfd[1]. */
static pid_t waiter_start(struct waiter *w, int pfd[2])
{
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		struct outcome o;
		int64_t t0 = kt_now_ms();

		close(pfd[0]);
		o.ret = waiter_call(w);
		o.ms = kt_now_ms() - t0;
		_exit(write(pfd[1], &o, sizeof(o)) == sizeof(o) ? 0 : 1);
	}
	close(pfd[1]);
	return pid;
}

static bool reported(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Until the child sleeps in its call (true), or has answered (false). */
static bool wait_asleep(struct waiter *w, int rfd)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (reported(rfd, 0))
			return false;
		if (waiter_sleepers(w) > 0)
			return true;
		usleep(1000);
	}
	return false;
}

enum stopper { BY_SIGSTOP, BY_PTRACE };

/*
 * Stop and continue the sleeping child @rounds times, by SIGSTOP/SIGCONT
 * or by PTRACE_INTERRUPT/PTRACE_CONT (it is seized first).  Returns how
 * many stops happened while it slept; the child is reaped once it exits.
 */
static int stop_rounds(struct waiter *w, pid_t pid, int rfd, int rounds,
		       enum stopper how, bool *reaped)
{
	int i, status, stops = 0;

	*reaped = false;
	if (how == BY_PTRACE && ptrace(PTRACE_SEIZE, pid, 0, 0))
		return -errno;
	for (i = 0; i < rounds; i++) {
		if (!wait_asleep(w, rfd))
			break;
		if (reported(rfd, RUNNING_MS))
			break;
		if (how == BY_SIGSTOP)
			kill(pid, SIGSTOP);
		else
			ptrace(PTRACE_INTERRUPT, pid, 0, 0);
		if (waitpid(pid, &status, how == BY_SIGSTOP ? WUNTRACED : 0) != pid)
			return -errno;
		if (!WIFSTOPPED(status)) {
			*reaped = true;
			break;
		}
		stops++;
		usleep(STOPPED_MS * 1000);
		if (how == BY_SIGSTOP)
			kill(pid, SIGCONT);
		else
			ptrace(PTRACE_CONT, pid, 0, 0);
	}
	return stops;
}

/* The child's answer, within @ms; the child is reaped. */
static int waiter_finish(pid_t pid, int rfd, bool reaped, int ms,
			 struct outcome *o)
{
	int ret = 0;

	if (!reported(rfd, ms) || read(rfd, o, sizeof(*o)) != sizeof(*o)) {
		kill(pid, SIGKILL);
		ret = -ETIMEDOUT;
	}
	close(rfd);
	if (!reaped)
		kt_wait(pid);
	return ret;
}

/*
 * A relative timeout of WAIT_MS, stopped ROUNDS times by @how: the call
 * ends within 1.5 times its timeout, however often it was stopped.
 */
static void relative_wait_across_stops(struct __test_metadata *_metadata,
				       int dev, enum waiter_kind kind,
				       enum stopper how)
{
	struct outcome o = { 0 };
	struct waiter w;
	int pfd[2], stops;
	bool reaped;
	pid_t pid;

	ASSERT_EQ(0, waiter_init(&w, dev, kind));
	waiter_relative(&w, WAIT_MS);
	pid = waiter_start(&w, pfd);
	ASSERT_LE(0, pid);
	stops = stop_rounds(&w, pid, pfd[0], ROUNDS, how, &reaped);
	ASSERT_LE(1, stops);
	ASSERT_EQ(0, waiter_finish(pid, pfd[0], reaped, 10 * WAIT_MS, &o))
		TH_LOG("the waiter did not return in %d ms", 10 * WAIT_MS);
	TH_LOG("after %d stop(s): %s in %lld ms", stops,
	       o.ret < 0 ? strerror(-o.ret) : "success", (long long)o.ms);
	EXPECT_TRUE(o.ret == -EINTR || o.ret == -ETIMEDOUT);
	EXPECT_GT(WAIT_MS * 3 / 2, o.ms);
	/* Nobody is left asleep on the object. */
	EXPECT_EQ(0, waiter_sleepers(&w));
	waiter_fini(&w);
}

FIXTURE(wt) {
	int dev;
};

FIXTURE_SETUP(wt)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", KIPC_DEVICE_PATH,
				       strerror(-self->dev));
}

FIXTURE_TEARDOWN(wt)
{
	close(self->dev);
}

/* Stops and relative timeouts */

TEST_F(wt, relative_receive_ends_in_time_across_stops)
{
	relative_wait_across_stops(_metadata, self->dev, ON_QUEUE, BY_SIGSTOP);
}

TEST_F(wt, relative_sem_wait_ends_in_time_across_stops)
{
	relative_wait_across_stops(_metadata, self->dev, ON_SEM, BY_SIGSTOP);
}

TEST_F(wt, relative_ring_wait_ends_in_time_across_stops)
{
	relative_wait_across_stops(_metadata, self->dev, ON_RING, BY_SIGSTOP);
}

TEST_F(wt, relative_receive_ends_in_time_across_ptrace_stops)
{
	relative_wait_across_stops(_metadata, self->dev, ON_QUEUE, BY_PTRACE);
}

/*
 * The design: a relative wait cannot be restarted with its time left, so a
 * stop ends it with EINTR (as semtimedop(2), epoll_wait(2) and a socket
 * with SO_RCVTIMEO) instead of restarting it with its whole timeout.
 */
TEST_F(wt, stopped_relative_wait_returns_eintr)
{
	struct outcome o = { 0 };
	struct waiter w;
	bool reaped;
	int pfd[2];
	pid_t pid;

	ASSERT_EQ(0, waiter_init(&w, self->dev, ON_QUEUE));
	waiter_relative(&w, WAIT_MS);
	pid = waiter_start(&w, pfd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(1, stop_rounds(&w, pid, pfd[0], 1, BY_SIGSTOP, &reaped));
	ASSERT_EQ(0, waiter_finish(pid, pfd[0], reaped, 10 * WAIT_MS, &o));
	EXPECT_EQ(-EINTR, o.ret);
	EXPECT_GT(WAIT_MS, o.ms);
	waiter_fini(&w);
}

/* Absolute deadlines and untimed waits restart, and lose nothing. */

TEST_F(wt, absolute_deadline_survives_stops)
{
	struct outcome o = { 0 };
	struct waiter w;
	bool reaped;
	int pfd[2];
	pid_t pid;

	ASSERT_EQ(0, waiter_init(&w, self->dev, ON_QUEUE));
	waiter_absolute(&w, WAIT_MS);
	pid = waiter_start(&w, pfd);
	ASSERT_LE(0, pid);
	ASSERT_LE(1, stop_rounds(&w, pid, pfd[0], ROUNDS, BY_SIGSTOP, &reaped));
	ASSERT_EQ(0, waiter_finish(pid, pfd[0], reaped, 10 * WAIT_MS, &o));
	/* Restarted each time with the same deadline: no EINTR, no stretch. */
	EXPECT_EQ(-ETIMEDOUT, o.ret);
	EXPECT_LE(WAIT_MS - 20, o.ms);
	EXPECT_GT(WAIT_MS * 3 / 2, o.ms);
	waiter_fini(&w);
}

TEST_F(wt, untimed_wait_survives_stops)
{
	static const enum waiter_kind kinds[] = { ON_QUEUE, ON_SEM, ON_RING };
	struct outcome o;
	struct waiter w;
	unsigned int i;
	bool reaped;
	int pfd[2];
	pid_t pid;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		ASSERT_EQ(0, waiter_init(&w, self->dev, kinds[i]));
		pid = waiter_start(&w, pfd);
		ASSERT_LE(0, pid);
		ASSERT_EQ(ROUNDS, stop_rounds(&w, pid, pfd[0], ROUNDS,
					      BY_SIGSTOP, &reaped));
		ASSERT_TRUE(wait_asleep(&w, pfd[0]));
		waiter_satisfy(&w);
		o.ret = -1;
		ASSERT_EQ(0, waiter_finish(pid, pfd[0], reaped, 10 * WAIT_MS, &o));
		EXPECT_LE(0, o.ret) TH_LOG("kind %u: %s", i, strerror(-o.ret));
		waiter_fini(&w);
	}
}

/*
 * A request and its reply in one call: once the request went, a stop in
 * the receive must not restart the call, which would send it again.
 */
TEST_F(wt, stopped_sendrecv_sends_once)
{
	struct kipc_msg req = { .buf = (uintptr_t)"req", .len = 3, .type = 1 };
	char buf[16];
	struct kipc_msg rep = { .buf = (uintptr_t)buf, .len = sizeof(buf) };
	struct kipc_sendrecv sr;
	struct kipc_stat st;
	int q, r, status, pfd[2];
	struct outcome o;
	pid_t pid;

	q = kt_anon_queue(self->dev, 8, 64);
	r = kt_anon_queue(self->dev, 8, 64);
	ASSERT_LE(0, q);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		memset(&sr, 0, sizeof(sr));
		sr.send.msgs = (uintptr_t)&req;
		sr.send.count = 1;
		sr.recv.msgs = (uintptr_t)&rep;
		sr.recv.count = 1;
		sr.recv_fd = r;
		o.ret = kt_ret(ioctl(q, KIPC_IOC_SENDRECV, &sr));
		o.ms = sr.sent;
		_exit(write(pfd[1], &o, sizeof(o)) == sizeof(o) ? 0 : 1);
	}
	close(pfd[1]);
	ASSERT_TRUE(kt_wait_until(r, &st, st.queue.recv_waiters == 1));
	kill(pid, SIGSTOP);
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	kill(pid, SIGCONT);
	/* Restarted (asleep again) or returned: either way, settle first. */
	if (!reported(pfd[0], 500)) {
		ASSERT_TRUE(kt_wait_until(r, &st, st.queue.recv_waiters == 1));
		ASSERT_EQ(0, kt_send(r, "rep", 3, 0, 1, 0, NULL));
	}
	ASSERT_TRUE(reported(pfd[0], 5000));
	ASSERT_EQ(sizeof(o), read(pfd[0], &o, sizeof(o)));
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_EQ(1, st.queue.msgs) TH_LOG("the request was sent %llu times",
					   (unsigned long long)st.queue.msgs);
	/* What the caller learns: the request went, the reply did not come. */
	EXPECT_EQ(-EINTR, o.ret);
	EXPECT_EQ(1, o.ms);
	close(pfd[0]);
	close(r);
	close(q);
}

/* Time namespaces */

/*
 * Enter a new time namespace whose CLOCK_MONOTONIC runs @offset seconds
 * ahead; only children made afterwards live in it.  0 or -errno.
 */
static int enter_time_ns(long offset)
{
	char buf[64];
	int fd, n;

	if (unshare(kt_is_root() ? CLONE_NEWTIME :
		    CLONE_NEWUSER | CLONE_NEWTIME))
		return -errno;
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d %ld 0\n", CLOCK_MONOTONIC, offset);
	if (write(fd, buf, n) != n) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

/*
 * In a new time namespace @offset seconds ahead of the host, wait until
 * 300 ms from the namespace's now, and report in @o.  The exit status is
 * 0 when the waiter answered, 2 when it did not within 5 s, 4 when no time
 * namespace can be made here.
 */
static int wait_in_time_ns(struct waiter *w, long offset, struct outcome *o)
{
	int pfd[2], ret;
	pid_t pid;

	ret = enter_time_ns(offset);
	if (ret) {
		fprintf(stderr, "# no time namespace: %s\n", strerror(-ret));
		return 4;
	}
	/* Only children made from now on live in the namespace. */
	if (pipe(pfd))
		return 1;
	pid = fork();
	if (pid == 0) {
		int64_t t0 = kt_now_ms();

		waiter_absolute(w, 300);
		o->ret = waiter_call(w);
		o->ms = kt_now_ms() - t0;
		_exit(write(pfd[1], "", 1) == 1 ? 0 : 1);
	}
	if (!reported(pfd[0], 5000)) {
		kill(pid, SIGKILL);
		kt_wait(pid);
		return 2;
	}
	return kt_wait(pid);
}

/*
 * An absolute CLOCK_MONOTONIC deadline is a time on the caller's clock,
 * which a time namespace shifts (clock_nanosleep(2) and futex(2) take it
 * so): 300 ms from the caller's now is 300 ms from now, with the clock
 * set ahead of the host's or behind it.
 */
TEST_F(wt, absolute_deadline_is_on_the_callers_clock)
{
	struct outcome *o;
	struct timespec host;
	struct waiter w;
	long offsets[2];
	unsigned int i;
	int ret = 0;
	pid_t pid;

	o = mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, o);
	ASSERT_EQ(0, waiter_init(&w, self->dev, ON_QUEUE));
	clock_gettime(CLOCK_MONOTONIC, &host);
	offsets[0] = 100000;
	/* Behind by all of the uptime but a second: the clock stays >= 0. */
	offsets[1] = 1 - host.tv_sec;
	for (i = 0; i < 2; i++) {
		if (!offsets[i])
			continue;
		memset(o, 0, sizeof(*o));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(wait_in_time_ns(&w, offsets[i], o));
		ret = kt_wait(pid);
		if (ret == 4)
			break;
		EXPECT_EQ(0, ret) TH_LOG("offset %ld s: the waiter did not return in 5 s",
					 offsets[i]);
		if (ret)
			continue;
		TH_LOG("offset %ld s: %s in %lld ms", offsets[i],
		       strerror(-o->ret), (long long)o->ms);
		EXPECT_EQ(-ETIMEDOUT, o->ret);
		EXPECT_LE(280, o->ms);
		EXPECT_GT(3000, o->ms);
	}
	waiter_fini(&w);
	munmap(o, sizeof(*o));
	if (ret == 4)
		SKIP(return, "cannot make a time namespace here");
}

/* Process life around a wait */

/*
 * PR_SET_PDEATHSIG: the parent of a waiter dies, the waiter is killed in
 * its wait, and leaves nothing asleep on the object.
 */
TEST_F(wt, waiter_killed_by_its_parents_death_leaves_nothing)
{
	struct waiter w;
	int pfd[2], status;
	pid_t mid, pid = 0;

	ASSERT_EQ(0, waiter_init(&w, self->dev, ON_QUEUE));
	waiter_relative(&w, 60000);
	/* The orphaned waiter comes to us, to be reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, pipe(pfd));
	mid = fork();
	ASSERT_LE(0, mid);
	if (mid == 0) {
		pid_t parent = getpid();

		pid = fork();
		if (pid == 0) {
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) ||
			    getppid() != parent)
				_exit(1);
			_exit(waiter_call(&w) == 0 ? 2 : 3);
		}
		if (write(pfd[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		/* Die once the waiter sleeps. */
		for (status = 0; status < 5000 && waiter_sleepers(&w) < 1;
		     status++)
			usleep(1000);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(sizeof(pid), read(pfd[0], &pid, sizeof(pid)));
	close(pfd[0]);
	EXPECT_EQ(0, kt_wait(mid));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_EQ(0, waiter_sleepers(&w));
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	waiter_fini(&w);
}

struct ring_waiter {
	struct waiter *w;
	int ret;
};

static void *ring_wait_thread(void *arg)
{
	struct ring_waiter *rw = arg;

	rw->ret = waiter_call(rw->w);
	return NULL;
}

/*
 * fork() while a thread sleeps in a ring wait: the child gets the mapping,
 * posts through it and wakes the parent's thread; its exit takes only its
 * own mapping.
 */
TEST_F(wt, fork_while_a_thread_waits_shares_the_ring)
{
	struct ring_waiter rw = { .ret = -1 };
	struct kipc_ring_hdr *hdr;
	struct waiter w;
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, waiter_init(&w, self->dev, ON_RING));
	rw.w = &w;
	hdr = w.ring;
	ASSERT_EQ(0, pthread_create(&t, NULL, ring_wait_thread, &rw));
	ASSERT_TRUE(wait_asleep(&w, -1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		waiter_satisfy(&w);
		_exit(hdr->head == 1 ? 0 : 1);
	}
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(KIPC_RING_DATA, rw.ret);
	EXPECT_EQ(1, hdr->head);
	EXPECT_EQ(0, hdr->wake_data);
	waiter_fini(&w);
}

TEST_HARNESS_MAIN
