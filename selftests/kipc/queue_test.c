// SPDX-License-Identifier: GPL-2.0
/*
 * kipc message queues: POSIX and SysV semantics, blocking and its ends
 * (timeout, signal, removal, SIGKILL), poll, notification, batches, and bad
 * input.  One behaviour per test.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

FIXTURE(q) {
	int dev;
	int q;
};

FIXTURE_SETUP(q)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	self->q = kt_anon_queue(self->dev, 16, 512);
	ASSERT_LE(0, self->q);
}

FIXTURE_TEARDOWN(q)
{
	close(self->q);
	close(self->dev);
}

/*
 * The notification tests that exec run this program again as
 * "queue_test --kipc-exec-helper FD [setuid]": before the harness starts,
 * it reports on the pipe FD ('r'; 'u' if it could not become root) and
 * waits to be killed.
 */
__attribute__((constructor))
static void exec_helper(int argc, char **argv)
{
	char c = 'r';

	if (argc < 3 || strcmp(argv[1], "--kipc-exec-helper"))
		return;
	if (argc > 3 && !strcmp(argv[3], "setuid") && setresuid(0, 0, 0))
		c = 'u';
	if (write(atoi(argv[2]), &c, 1) != 1)
		_exit(1);
	sleep(30);
	_exit(0);
}

/* In a child: become the exec helper, reporting on @fd. */
static void exec_helper_run(const char *path, int fd, bool setuid)
{
	char arg[16];

	snprintf(arg, sizeof(arg), "%d", fd);
	execl(path, path, "--kipc-exec-helper", arg, setuid ? "setuid" : NULL,
	      (char *)NULL);
	_exit(127);
}

static int send_str(int q, const char *s, uint32_t prio, int64_t type)
{
	return kt_send(q, s, strlen(s), prio, type, KIPC_F_NONBLOCK, NULL);
}

/* Receive a string with @flags and selector @type; "" if none. */
static const char *recv_str(int q, uint32_t flags, int64_t type)
{
	static char buf[600];
	int n = kt_recv(q, buf, sizeof(buf) - 1, NULL, type,
			flags | KIPC_F_NONBLOCK, NULL);

	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

TEST_F(q, roundtrip_keeps_data_and_boundaries)
{
	char in[512], out[512];
	int i;

	for (i = 0; i < (int)sizeof(in); i++)
		in[i] = (char)(i * 7 + 3);
	ASSERT_EQ(0, kt_send(self->q, in, 1, 0, 1, 0, NULL));
	ASSERT_EQ(0, kt_send(self->q, in, 0, 0, 1, 0, NULL));
	ASSERT_EQ(0, kt_send(self->q, in, 512, 0, 1, 0, NULL));
	EXPECT_EQ(1, kt_recv(self->q, out, sizeof(out), NULL, 0, 0, NULL));
	EXPECT_EQ(0, kt_recv(self->q, out, sizeof(out), NULL, 0, 0, NULL));
	memset(out, 0, sizeof(out));
	EXPECT_EQ(512, kt_recv(self->q, out, sizeof(out), NULL, 0, 0, NULL));
	EXPECT_EQ(0, memcmp(in, out, 512));
}

TEST(large_messages_span_segments)
{
	size_t len = 200000;
	char *in = malloc(len), *out = malloc(len);
	int dev = kt_dev(), q;
	size_t i;

	ASSERT_LE(0, dev);
	q = kt_queue(dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 4, len, NULL);
	ASSERT_LE(0, q);
	for (i = 0; i < len; i++)
		in[i] = (char)(i ^ (i >> 8));
	ASSERT_EQ(0, kt_send(q, in, len, 0, 1, 0, NULL));
	ASSERT_EQ((int)len, kt_recv(q, out, len, NULL, 0, 0, NULL));
	EXPECT_EQ(0, memcmp(in, out, len));
	free(in);
	free(out);
	close(q);
	close(dev);
}

TEST_F(q, posix_order_is_priority_then_fifo)
{
	uint32_t prio;
	char buf[16];

	ASSERT_EQ(0, send_str(self->q, "a0", 0, 1));
	ASSERT_EQ(0, send_str(self->q, "b5", 5, 1));
	ASSERT_EQ(0, send_str(self->q, "c0", 0, 1));
	ASSERT_EQ(0, send_str(self->q, "d5", 5, 1));
	ASSERT_EQ(0, send_str(self->q, "e32767", KIPC_PRIO_MAX, 1));
	ASSERT_EQ(0, send_str(self->q, "f1", 1, 1));
	EXPECT_STREQ("e32767", recv_str(self->q, 0, 0));
	EXPECT_STREQ("b5", recv_str(self->q, 0, 0));
	ASSERT_EQ(2, kt_recv(self->q, buf, sizeof(buf), &prio, 0, 0, NULL));
	EXPECT_EQ(5, prio);
	EXPECT_STREQ("f1", recv_str(self->q, 0, 0));
	EXPECT_STREQ("a0", recv_str(self->q, 0, 0));
	EXPECT_STREQ("c0", recv_str(self->q, 0, 0));
	EXPECT_STREQ("", recv_str(self->q, 0, 0));
}

TEST_F(q, sysv_type_zero_is_arrival_order)
{
	ASSERT_EQ(0, send_str(self->q, "t3", 9, 3));
	ASSERT_EQ(0, send_str(self->q, "t1", 0, 1));
	ASSERT_EQ(0, send_str(self->q, "t2", 5, 2));
	EXPECT_STREQ("t3", recv_str(self->q, KIPC_F_SYSV, 0));
	EXPECT_STREQ("t1", recv_str(self->q, KIPC_F_SYSV, 0));
	EXPECT_STREQ("t2", recv_str(self->q, KIPC_F_SYSV, 0));
}

TEST_F(q, sysv_positive_type_selects_first_of_type)
{
	ASSERT_EQ(0, send_str(self->q, "a3", 0, 3));
	ASSERT_EQ(0, send_str(self->q, "b7", 0, 7));
	ASSERT_EQ(0, send_str(self->q, "c3", 0, 3));
	ASSERT_EQ(0, send_str(self->q, "d7", 0, 7));
	EXPECT_STREQ("b7", recv_str(self->q, KIPC_F_SYSV, 7));
	EXPECT_STREQ("d7", recv_str(self->q, KIPC_F_SYSV, 7));
	EXPECT_STREQ("", recv_str(self->q, KIPC_F_SYSV, 7));
	EXPECT_EQ(-ENOMSG, kt_recv(self->q, NULL, 0, NULL, 7,
				   KIPC_F_SYSV | KIPC_F_NONBLOCK, NULL));
	EXPECT_STREQ("a3", recv_str(self->q, KIPC_F_SYSV, 3));
}

TEST_F(q, sysv_negative_type_selects_lowest)
{
	ASSERT_EQ(0, send_str(self->q, "a5", 0, 5));
	ASSERT_EQ(0, send_str(self->q, "b2", 0, 2));
	ASSERT_EQ(0, send_str(self->q, "c9", 0, 9));
	ASSERT_EQ(0, send_str(self->q, "d2", 0, 2));
	EXPECT_STREQ("b2", recv_str(self->q, KIPC_F_SYSV, -6));
	EXPECT_STREQ("d2", recv_str(self->q, KIPC_F_SYSV, -6));
	EXPECT_STREQ("a5", recv_str(self->q, KIPC_F_SYSV, -6));
	EXPECT_STREQ("", recv_str(self->q, KIPC_F_SYSV, -6));
	EXPECT_STREQ("c9", recv_str(self->q, KIPC_F_SYSV, INT64_MIN));
}

TEST_F(q, sysv_except_skips_type)
{
	ASSERT_EQ(0, send_str(self->q, "a4", 0, 4));
	ASSERT_EQ(0, send_str(self->q, "b4", 0, 4));
	ASSERT_EQ(0, send_str(self->q, "c8", 0, 8));
	EXPECT_STREQ("c8", recv_str(self->q, KIPC_F_SYSV | KIPC_F_EXCEPT, 4));
	EXPECT_STREQ("", recv_str(self->q, KIPC_F_SYSV | KIPC_F_EXCEPT, 4));
	EXPECT_STREQ("a4", recv_str(self->q, KIPC_F_SYSV | KIPC_F_EXCEPT, 5));
}

TEST_F(q, sysv_received_type_is_reported)
{
	struct kipc_msg m;
	char buf[8];

	ASSERT_EQ(0, send_str(self->q, "x", 0, 42));
	memset(&m, 0, sizeof(m));
	m.buf = (uintptr_t)buf;
	m.len = sizeof(buf);
	ASSERT_EQ(1, kt_recv_msg(self->q, &m, KIPC_F_SYSV, NULL));
	EXPECT_EQ(42, m.type);
	EXPECT_EQ(1, m.msg_len);
	EXPECT_EQ(0, m.flags);
}

TEST_F(q, noerror_truncates_e2big_otherwise)
{
	struct kipc_msg m;
	char buf[4];

	ASSERT_EQ(0, send_str(self->q, "0123456789", 0, 1));
	EXPECT_EQ(-E2BIG, kt_recv(self->q, buf, 4, NULL, 0,
				  KIPC_F_SYSV | KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(-EMSGSIZE, kt_recv(self->q, buf, 4, NULL, 0, KIPC_F_NONBLOCK,
				     NULL));
	/* Still there after both refusals. */
	memset(&m, 0, sizeof(m));
	m.buf = (uintptr_t)buf;
	m.len = 4;
	ASSERT_EQ(4, kt_recv_msg(self->q, &m, KIPC_F_SYSV | KIPC_F_NOERROR,
				 NULL));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	EXPECT_EQ(10, m.msg_len);
	EXPECT_TRUE(m.flags & KIPC_MSG_TRUNCATED);
	/* The truncated tail is gone with the message. */
	EXPECT_STREQ("", recv_str(self->q, 0, 0));
}

TEST_F(q, posix_size_rule_is_emsgsize)
{
	char buf[600];

	ASSERT_EQ(0, send_str(self->q, "x", 0, 1));
	/* mq_receive: a buffer below the queue's message size fails upfront. */
	EXPECT_EQ(-EMSGSIZE, kt_recv(self->q, buf, 511, NULL, 0,
				     KIPC_F_POSIX_SIZE, NULL));
	EXPECT_EQ(1, kt_recv(self->q, buf, 512, NULL, 0, KIPC_F_POSIX_SIZE,
			     NULL));
}

TEST_F(q, peek_does_not_remove)
{
	char buf[8];

	ASSERT_EQ(0, send_str(self->q, "peek", 3, 1));
	EXPECT_EQ(4, kt_recv(self->q, buf, sizeof(buf), NULL, 0, KIPC_F_PEEK,
			     NULL));
	EXPECT_EQ(4, kt_recv(self->q, buf, sizeof(buf), NULL, 0, KIPC_F_PEEK,
			     NULL));
	EXPECT_STREQ("peek", recv_str(self->q, 0, 0));
	EXPECT_STREQ("", recv_str(self->q, 0, 0));
}

TEST_F(q, nonblocking_empty_and_full)
{
	int i;

	EXPECT_EQ(-EAGAIN, kt_recv(self->q, NULL, 0, NULL, 0, KIPC_F_NONBLOCK,
				   NULL));
	EXPECT_EQ(-ENOMSG, kt_recv(self->q, NULL, 0, NULL, 0,
				   KIPC_F_NONBLOCK | KIPC_F_SYSV, NULL));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, send_str(self->q, "m", 0, 1));
	EXPECT_EQ(-EAGAIN, send_str(self->q, "m", 0, 1));
}

TEST(byte_limit_blocks_before_count_limit)
{
	struct kipc_queue_attr attr = { .max_msgs = 100, .max_msgsize = 64,
					.max_bytes = 100 };
	char buf[64] = { 0 };
	int dev = kt_dev(), q;

	q = kt_open(dev, KIPC_TYPE_QUEUE, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
		    0600, &attr, sizeof(attr), NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, buf, 64, 0, 1, KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(-EAGAIN, kt_send(q, buf, 37, 0, 1, KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(0, kt_send(q, buf, 36, 0, 1, KIPC_F_NONBLOCK, NULL));
	close(q);
	close(dev);
}

TEST_F(q, fd_nonblock_flag_applies)
{
	int fl = fcntl(self->q, F_GETFL);
	char buf[8];

	ASSERT_EQ(0, fcntl(self->q, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, kt_recv(self->q, buf, sizeof(buf), NULL, 0, 0, NULL));
	EXPECT_EQ(-EAGAIN, kt_ret(read(self->q, buf, sizeof(buf))));
}

TEST_F(q, bad_messages_are_rejected)
{
	char big[513] = { 0 };
	struct kipc_msg m[2];

	EXPECT_EQ(-EMSGSIZE, kt_send(self->q, big, 513, 0, 1, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, kt_ret(write(self->q, big, 513)));
	EXPECT_EQ(-EINVAL, kt_send(self->q, big, 1, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_send(self->q, big, 1, 0, -5, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_send(self->q, big, 1, KIPC_PRIO_MAX + 1, 1, 0,
				   NULL));
	EXPECT_EQ(-EFAULT, kt_send(self->q, NULL, 10, 0, 1, 0, NULL));
	EXPECT_EQ(-EFAULT, kt_send(self->q, (void *)-4096L, 10, 0, 1, 0, NULL));
	/* Unknown per-call flags, a batch too large. */
	EXPECT_EQ(-EINVAL, kt_xfer(self->q, KIPC_IOC_SEND, m, 1, 0x80000000,
				   NULL));
	EXPECT_EQ(-EINVAL, kt_xfer(self->q, KIPC_IOC_SEND, m,
				   KIPC_XFER_MAX + 1, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_xfer(self->q, KIPC_IOC_RECV, m, 1, 0x80000000,
				   NULL));
	/* None of it was queued. */
	EXPECT_STREQ("", recv_str(self->q, 0, 0));
}

TEST(queue_attributes_are_bounded)
{
	struct kipc_info info;
	int dev = kt_dev();

	ASSERT_EQ(0, kt_info(dev, &info));
	EXPECT_EQ(-EINVAL, kt_queue(dev, NULL, KIPC_O_CREAT, 0600, 1,
				    info.max_msgsize + 1, NULL));
	EXPECT_EQ(-EINVAL, kt_queue(dev, NULL, KIPC_O_CREAT, 0600,
				    info.max_queue_msgs + 1, 16, NULL));
	/* Reserved attribute words must be zero. */
	uint64_t attr[6] = { 0, 0, 0, 0, 0, 1 };

	EXPECT_EQ(-EINVAL, kt_open(dev, KIPC_TYPE_QUEUE, NULL, KIPC_O_CREAT,
				   0600, attr, sizeof(attr), NULL));
	close(dev);
}

TEST_F(q, relative_timeout_expires)
{
	struct kipc_timeout to = kt_rel_ms(100);
	int64_t t0 = kt_now_ms();
	char buf[8];

	EXPECT_EQ(-ETIMEDOUT, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				      KIPC_F_TIMED, &to));
	EXPECT_LE(95, kt_now_ms() - t0);
}

TEST_F(q, absolute_timeouts_on_both_clocks)
{
	struct kipc_timeout mono = kt_abs_ms(CLOCK_MONOTONIC, 60), real;
	int64_t t0 = kt_now_ms();
	char buf[8];

	EXPECT_EQ(-ETIMEDOUT, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				      KIPC_F_TIMED | KIPC_F_ABSTIME, &mono));
	EXPECT_LE(55, kt_now_ms() - t0);
	t0 = kt_now_ms();
	real = kt_abs_ms(CLOCK_REALTIME, 60);
	EXPECT_EQ(-ETIMEDOUT, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				      KIPC_F_TIMED | KIPC_F_ABSTIME, &real));
	EXPECT_LE(55, kt_now_ms() - t0);
}

TEST_F(q, past_deadline_times_out_at_once)
{
	struct kipc_timeout past = { .tv_sec = 1, .clockid = CLOCK_REALTIME };
	struct kipc_timeout neg = { .tv_sec = -5, .clockid = CLOCK_MONOTONIC };
	char buf[8];

	EXPECT_EQ(-ETIMEDOUT, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				      KIPC_F_TIMED | KIPC_F_ABSTIME, &past));
	EXPECT_EQ(-ETIMEDOUT, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				      KIPC_F_TIMED | KIPC_F_ABSTIME, &neg));
	/* A message that is there wins over an expired deadline. */
	ASSERT_EQ(0, send_str(self->q, "ok", 0, 1));
	EXPECT_EQ(2, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
			     KIPC_F_TIMED | KIPC_F_ABSTIME, &past));
}

TEST_F(q, invalid_timeouts_are_einval)
{
	struct kipc_timeout to = { .tv_nsec = 1000000000L };
	char buf[8];

	EXPECT_EQ(-EINVAL, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				   KIPC_F_TIMED, &to));
	to.tv_nsec = -1;
	EXPECT_EQ(-EINVAL, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				   KIPC_F_TIMED, &to));
	to = kt_rel_ms(10);
	to.tv_sec = -1;
	EXPECT_EQ(-EINVAL, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				   KIPC_F_TIMED, &to));
	to = kt_abs_ms(CLOCK_MONOTONIC, 10);
	to.clockid = CLOCK_BOOTTIME + 100;
	EXPECT_EQ(-EINVAL, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				   KIPC_F_TIMED | KIPC_F_ABSTIME, &to));
	/* ABSTIME without TIMED is meaningless. */
	EXPECT_EQ(-EINVAL, kt_recv(self->q, buf, sizeof(buf), NULL, 0,
				   KIPC_F_ABSTIME, NULL));
}

TEST_F(q, timed_send_on_full_queue)
{
	struct kipc_timeout to = kt_rel_ms(50);
	int i;

	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, send_str(self->q, "m", 0, 1));
	EXPECT_EQ(-ETIMEDOUT, kt_send(self->q, "m", 1, 0, 1, KIPC_F_TIMED, &to));
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(q, signal_interrupts_blocked_receive)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	char buf[8];

	/* Without SA_RESTART, a handled signal ends the wait with EINTR. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, kt_recv(self->q, buf, sizeof(buf), NULL, 0, 0, NULL));
}

TEST_F(q, signal_interrupts_blocked_send)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	int i;

	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, send_str(self->q, "m", 0, 1));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, kt_send(self->q, "m", 1, 0, 1, 0, NULL));
}

TEST_F(q, waiting_receiver_gets_message_from_other_process)
{
	struct kipc_stat st;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16];
		int n = kt_recv(self->q, buf, sizeof(buf), NULL, 0, 0, NULL);

		_exit(n == 5 && !memcmp(buf, "hello", 5) ? 0 : 1);
	}
	ASSERT_TRUE(kt_wait_until(self->q, &st, st.queue.recv_waiters == 1));
	ASSERT_EQ(0, send_str(self->q, "hello", 0, 1));
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.msgs);
	EXPECT_EQ(1, st.queue.sent);
	EXPECT_EQ(1, st.queue.received);
	EXPECT_EQ(pid, st.queue.lrpid);
	EXPECT_EQ(getpid(), st.queue.lspid);
}

TEST_F(q, typed_waiter_is_skipped_by_other_types)
{
	struct kipc_stat st;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16];
		int n = kt_recv(self->q, buf, sizeof(buf), NULL, 9,
				KIPC_F_SYSV, NULL);

		_exit(n == 4 && !memcmp(buf, "nine", 4) ? 0 : 1);
	}
	ASSERT_TRUE(kt_wait_until(self->q, &st, st.queue.recv_waiters == 1));
	ASSERT_EQ(0, send_str(self->q, "two", 0, 2));
	ASSERT_EQ(0, send_str(self->q, "nine", 0, 9));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_STREQ("two", recv_str(self->q, 0, 0));
}

TEST_F(q, oversize_message_answers_sysv_waiter_with_e2big)
{
	struct kipc_stat st;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[2];

		_exit(-kt_recv(self->q, buf, sizeof(buf), NULL, 0, KIPC_F_SYSV,
			       NULL));
	}
	ASSERT_TRUE(kt_wait_until(self->q, &st, st.queue.recv_waiters == 1));
	ASSERT_EQ(0, send_str(self->q, "toolong", 0, 1));
	EXPECT_EQ(E2BIG, kt_wait(pid));
	EXPECT_STREQ("toolong", recv_str(self->q, 0, 0));
}

TEST_F(q, blocked_sender_proceeds_when_room_frees)
{
	struct kipc_stat st;
	pid_t pid;
	int i;

	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, send_str(self->q, "m", 0, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(-kt_send(self->q, "last", 4, 0, 1, 0, NULL));
	ASSERT_TRUE(kt_wait_until(self->q, &st, st.queue.send_waiters == 1));
	EXPECT_STREQ("m", recv_str(self->q, 0, 0));
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(16, st.queue.msgs);
	EXPECT_EQ(0, st.queue.send_waiters);
}

/*
 * One receive frees room for several blocked senders; each sender woken
 * passes the wake-up on, so none sleeps beside free room.
 */
TEST(room_freed_for_many_reaches_every_sender)
{
	struct kipc_queue_attr attr = { .max_msgs = 100, .max_msgsize = 100,
					.max_bytes = 100 };
	char buf[100] = { 0 };
	int dev = kt_dev(), q, i;
	struct kipc_stat st;
	pid_t pid[3];

	q = kt_open(dev, KIPC_TYPE_QUEUE, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
		    0600, &attr, sizeof(attr), NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, buf, 100, 0, 1, KIPC_F_NONBLOCK, NULL));
	for (i = 0; i < 3; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(-kt_send(q, buf, 10, 0, 1, 0, NULL));
	}
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.send_waiters == 3));
	ASSERT_EQ(100, kt_recv(q, buf, sizeof(buf), NULL, 0, KIPC_F_NONBLOCK,
			       NULL));
	/* No further receive: the one that freed the room is enough. */
	EXPECT_TRUE(kt_wait_until(q, &st, st.queue.msgs == 3));
	EXPECT_EQ(0, st.queue.send_waiters);
	for (i = 0; i < 3; i++) {
		/* A sender left asleep beside free room would never return. */
		if (st.queue.msgs != 3)
			kill(pid[i], SIGKILL);
		EXPECT_EQ(0, kt_wait(pid[i]));
	}
	close(q);
	close(dev);
}

TEST_F(q, removal_wakes_every_waiter_with_eidrm)
{
	struct kipc_stat st;
	pid_t pids[6];
	int i, full;

	full = kt_anon_queue(self->dev, 1, 16);
	ASSERT_LE(0, full);
	ASSERT_EQ(0, send_str(full, "x", 0, 1));
	for (i = 0; i < 6; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			char buf[16];

			if (i < 3)
				_exit(-kt_recv(self->q, buf, sizeof(buf), NULL,
					       0, 0, NULL));
			_exit(-kt_send(full, "y", 1, 0, 1, 0, NULL));
		}
	}
	ASSERT_TRUE(kt_wait_until(self->q, &st, st.queue.recv_waiters == 3));
	ASSERT_TRUE(kt_wait_until(full, &st, st.queue.send_waiters == 3));
	ASSERT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_REMOVE)));
	ASSERT_EQ(0, kt_ret(ioctl(full, KIPC_IOC_REMOVE)));
	for (i = 0; i < 6; i++)
		EXPECT_EQ(EIDRM, kt_wait(pids[i]));
	close(full);
}

TEST_F(q, killed_waiter_leaves_no_trace)
{
	struct kipc_stat st;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16];

		kt_recv(self->q, buf, sizeof(buf), NULL, 0, 0, NULL);
		_exit(1);
	}
	ASSERT_TRUE(kt_wait_until(self->q, &st, st.queue.recv_waiters == 1));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.recv_waiters);
	/* The next message is not handed to the dead waiter. */
	ASSERT_EQ(0, send_str(self->q, "alive", 0, 1));
	EXPECT_STREQ("alive", recv_str(self->q, 0, 0));
}

TEST_F(q, read_write_interface)
{
	char buf[16];

	ASSERT_EQ(5, write(self->q, "hello", 5));
	ASSERT_EQ(3, write(self->q, "abc", 3));
	EXPECT_EQ(-EMSGSIZE, kt_ret(read(self->q, buf, 2)));
	EXPECT_EQ(5, read(self->q, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(3, read(self->q, buf, sizeof(buf)));
	EXPECT_EQ(-ESPIPE, kt_ret(lseek(self->q, 0, SEEK_SET)));
}

TEST_F(q, poll_reports_readable_and_writable)
{
	struct pollfd pfd = { .fd = self->q, .events = POLLIN | POLLOUT };
	int i;

	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);
	ASSERT_EQ(0, send_str(self->q, "x", 0, 1));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
	for (i = 1; i < 16; i++)
		ASSERT_EQ(0, send_str(self->q, "x", 0, 1));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
}

TEST_F(q, epoll_wakes_on_send_from_another_process)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	pid_t pid;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->q, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(50000);
		_exit(-send_str(self->q, "ping", 0, 1));
	}
	EXPECT_EQ(1, epoll_wait(ep, &out, 1, 5000));
	EXPECT_TRUE(out.events & EPOLLIN);
	EXPECT_EQ(0, kt_wait(pid));
	close(ep);
}

static volatile sig_atomic_t notified_code, notified_value;

static void on_notify(int sig, siginfo_t *si, void *uc)
{
	notified_code = si->si_code;
	notified_value = si->si_value.sival_int;
}

TEST_F(q, notify_signals_arrival_on_empty_queue_once)
{
	struct sigaction sa = { .sa_sigaction = on_notify,
				.sa_flags = SA_SIGINFO };
	struct kipc_notify n = { .how = KIPC_NOTIFY_SIGNAL, .signo = SIGUSR1,
				 .value = 77 };
	struct kipc_stat st;
	sigset_t set, old;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, &old));
	ASSERT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(getpid(), st.queue.notify_pid);
	/* A second registrant is refused while the first holds it. */
	EXPECT_EQ(-EBUSY, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));

	ASSERT_EQ(0, send_str(self->q, "one", 0, 1));
	ASSERT_EQ(0, sigprocmask(SIG_SETMASK, &old, NULL));
	EXPECT_EQ(SI_MESGQ, notified_code);
	EXPECT_EQ(77, notified_value);

	/* One-shot: the registration is gone and may be taken again. */
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.notify_pid);
	EXPECT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	n.how = KIPC_NOTIFY_OFF;
	EXPECT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.notify_pid);
}

static _Atomic pid_t notified_tid;

static void on_notify_tid(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code == SI_MESGQ)
		notified_tid = gettid();
}

/* The one thread of the process that takes SIGUSR2. */
static void *take_sigusr2(void *arg)
{
	_Atomic pid_t *tid = arg;
	sigset_t set;
	int i;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	*tid = gettid();
	for (i = 0; i < 1000 && !notified_tid; i++)
		usleep(10000);
	return NULL;
}

/*
 * The signal is for the process, as mq_notify() says: a thread that takes
 * it gets it, while the one that registered blocks it.
 */
TEST_F(q, notify_signal_goes_to_a_thread_that_takes_it)
{
	struct sigaction sa = { .sa_sigaction = on_notify_tid,
				.sa_flags = SA_SIGINFO };
	struct kipc_notify n = { .how = KIPC_NOTIFY_SIGNAL, .signo = SIGUSR2 };
	_Atomic pid_t tid = 0;
	pthread_t thread;
	sigset_t set;
	int i;

	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	ASSERT_EQ(0, pthread_create(&thread, NULL, take_sigusr2, &tid));
	for (i = 0; i < 1000 && !tid; i++)
		usleep(1000);
	ASSERT_NE(0, tid);
	ASSERT_EQ(0, send_str(self->q, "one", 0, 1));
	pthread_join(thread, NULL);
	EXPECT_EQ(tid, notified_tid);
	/* Whatever is still pending here must not run the handler later. */
	signal(SIGUSR2, SIG_IGN);
}

TEST_F(q, notify_is_busy_for_another_process)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_NONE };
	pid_t pid;

	ASSERT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Not the registrant: OFF leaves it alone, a claim is EBUSY. */
		struct kipc_notify off = { .how = KIPC_NOTIFY_OFF };

		if (kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &off)))
			_exit(1);
		_exit(-kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	}
	EXPECT_EQ(EBUSY, kt_wait(pid));
	n.signo = 0;
	n.how = 7;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	n.how = KIPC_NOTIFY_SIGNAL;
	n.signo = 999;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
}

TEST_F(q, notify_not_fired_when_a_receiver_waits)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_NONE };
	struct kipc_stat st;
	pid_t pid;

	ASSERT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];

		_exit(kt_recv(self->q, buf, sizeof(buf), NULL, 0, 0, NULL) == 1 ?
		      0 : 1);
	}
	ASSERT_TRUE(kt_wait_until(self->q, &st, st.queue.recv_waiters == 1));
	ASSERT_EQ(0, send_str(self->q, "x", 0, 1));
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(getpid(), st.queue.notify_pid);
}

TEST_F(q, closing_an_fd_drops_own_registration)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_NONE };
	struct kipc_stat st;
	int dup_fd = dup(self->q);

	ASSERT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	close(dup_fd);
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.notify_pid);
}

/*
 * A registration made before exec() signals nobody after it: the program
 * that asked for the signal is gone, and the new one did not (ipc/mqueue.c
 * checks self_exec_id).  SIGKILL makes the difference the exit status.
 */
TEST_F(q, notify_is_not_sent_after_the_registrant_execs)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_SIGNAL, .signo = SIGKILL };
	struct kipc_stat st;
	int sync[2];
	pid_t pid;
	char c = 0;

	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync[0]);
		if (ioctl(self->q, KIPC_IOC_NOTIFY, &n))
			_exit(1);
		exec_helper_run("/proc/self/exe", sync[1], false);
	}
	close(sync[1]);
	ASSERT_EQ(1, read(sync[0], &c, 1));
	ASSERT_EQ('r', c);
	ASSERT_EQ(0, send_str(self->q, "one", 0, 1));
	kill(pid, SIGTERM);
	EXPECT_EQ(128 + SIGTERM, kt_wait(pid));
	/* The message used the registration up all the same. */
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.notify_pid);
	close(sync[0]);
}

static int copy_exe(const char *dst, mode_t mode)
{
	char buf[65536];
	int in, out, ret = -1;
	ssize_t n;

	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (in < 0 || out < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			goto out;
	/* After the writes, which would clear the setuid bit. */
	if (!n && !fchmod(out, mode))
		ret = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

/*
 * Issue 18 item 1: an unprivileged process registers for SIGKILL, keeps the
 * fd across exec() of a setuid-root program, which becomes root for good;
 * another unprivileged process, which may not kill() it, sends a message.
 * The program must live.
 */
TEST_F(q, notify_does_not_kill_a_setuid_program)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_SIGNAL, .signo = SIGKILL };
	char dir[] = "/tmp/kipc-suid-XXXXXX", path[64];
	pid_t pid, sender;
	int sync[2];
	char c = 0;

	if (!kt_is_root())
		SKIP(return, "needs root to install a setuid-root program");
	ASSERT_NE(NULL, mkdtemp(dir));
	/* /tmp is mounted nosuid; a tmpfs of our own is not. */
	if (mount("none", dir, "tmpfs", 0, "mode=0755")) {
		rmdir(dir);
		SKIP(return, "cannot mount a tmpfs: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/helper", dir);
	ASSERT_EQ(0, copy_exe(path, 04755));
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync[0]);
		if (kt_become_nobody() || ioctl(self->q, KIPC_IOC_NOTIFY, &n))
			_exit(1);
		exec_helper_run(path, sync[1], true);
	}
	close(sync[1]);
	EXPECT_EQ(1, read(sync[0], &c, 1));
	close(sync[0]);
	if (c == 'r') {
		sender = fork();
		ASSERT_LE(0, sender);
		if (sender == 0) {
			if (kt_become_nobody())
				_exit(1);
			if (!kill(pid, SIGKILL) || errno != EPERM)
				_exit(2);
			_exit(-send_str(self->q, "one", 0, 1));
		}
		EXPECT_EQ(0, kt_wait(sender));
	}
	kill(pid, SIGTERM);
	EXPECT_EQ(128 + SIGTERM, kt_wait(pid));
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	if (c == 'u')
		SKIP(return, "the setuid bit gave no root");
	EXPECT_EQ('r', c);
}

/* Write @s to @path; 0 or -errno. */
static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * A user namespace of our own, in a child.  The test VM runs the suite in a
 * chroot, which may not create one; root can step out of it to the mount
 * namespace's root (pid 1's), which the caller needs nothing from after.
 */
static int enter_own_userns(void)
{
	if (!unshare(CLONE_NEWUSER))
		return 0;
	if (errno != EPERM || !kt_is_root() || chroot("/proc/1/root") ||
	    chdir("/"))
		return -1;
	return unshare(CLONE_NEWUSER) ? -1 : 0;
}

/* A user namespace of our own in which @uid, ours outside, is @inside. */
static int enter_userns_as(uid_t uid, uid_t inside)
{
	char map[64];

	if (enter_own_userns())
		return 100;
	snprintf(map, sizeof(map), "%u %u 1\n", inside, uid);
	return write_str("/proc/self/uid_map", map) ? 101 : 0;
}

/*
 * si_uid names the sender as the registrant sees it when the signal comes,
 * as kill()'s does: here the registrant has entered a user namespace since
 * it registered, where the sender's uid is 1000.  (The signal core maps
 * si_uid from the sender's user namespace into the receiver's.)
 */
TEST_F(q, notify_siginfo_uid_follows_the_registrant_into_a_user_ns)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_SIGNAL, .signo = SIGUSR1 };
	int sync[2], status;
	uid_t uid = getuid(), got = 0;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct timespec to = { .tv_sec = 20 };
		sigset_t set;
		siginfo_t si;

		close(sync[0]);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		if (ioctl(self->q, KIPC_IOC_NOTIFY, &n))
			_exit(1);
		status = enter_userns_as(uid, 1000);
		if (status)
			_exit(status);
		if (write(sync[1], "r", 1) != 1 ||
		    sigtimedwait(&set, &si, &to) != SIGUSR1 ||
		    si.si_code != SI_MESGQ ||
		    write(sync[1], &si.si_uid, sizeof(si.si_uid)) !=
		    sizeof(si.si_uid))
			_exit(2);
		_exit(0);
	}
	close(sync[1]);
	if (read(sync[0], &c, 1) != 1) {
		status = kt_wait(pid);
		close(sync[0]);
		if (status == 100 || status == 101)
			SKIP(return, "no user namespace of our own (%d)", status);
		ASSERT_EQ(0, status);
	}
	ASSERT_EQ(0, send_str(self->q, "one", 0, 1));
	EXPECT_EQ(sizeof(got), read(sync[0], &got, sizeof(got)));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(1000, got);
	close(sync[0]);
}

/*
 * The same from the other side: a sender that is 2000 in a user namespace
 * of its own is still our uid to the registrant.
 */
TEST_F(q, notify_siginfo_uid_of_a_sender_in_a_user_ns)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_SIGNAL, .signo = SIGUSR1 };
	struct timespec to = { .tv_sec = 20 };
	uid_t uid = getuid();
	sigset_t set;
	siginfo_t si;
	int status;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		status = enter_userns_as(uid, 2000);
		_exit(status ? status : -send_str(self->q, "one", 0, 1));
	}
	status = kt_wait(pid);
	if (status == 100 || status == 101)
		SKIP(return, "no user namespace of our own (%d)", status);
	ASSERT_EQ(0, status);
	ASSERT_EQ(SIGUSR1, sigtimedwait(&set, &si, &to));
	EXPECT_EQ(SI_MESGQ, si.si_code);
	EXPECT_EQ(uid, si.si_uid);
	EXPECT_EQ(pid, si.si_pid);
}

/*
 * What decides is exec(), not credentials, as in ipc/mqueue.c: a process
 * that registered and then changed its uid without exec() is still the
 * program that asked, and gets its signal -- here an unprivileged
 * registrant that takes back root through its saved uid, signalled by an
 * unprivileged sender.
 */
TEST_F(q, notify_survives_a_change_of_uid_without_exec)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_SIGNAL, .signo = SIGUSR1 };
	int sync[2];
	pid_t pid, sender;
	char c = 0;

	if (!kt_is_root())
		SKIP(return, "needs root to change uids");
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct timespec to = { .tv_sec = 20 };
		sigset_t set;
		siginfo_t si;

		close(sync[0]);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		if (setresuid(65534, 65534, 0) ||
		    ioctl(self->q, KIPC_IOC_NOTIFY, &n) ||
		    setresuid(0, 0, 0) || write(sync[1], "r", 1) != 1)
			_exit(1);
		if (sigtimedwait(&set, &si, &to) != SIGUSR1 ||
		    si.si_code != SI_MESGQ || si.si_uid != 65534)
			_exit(2);
		_exit(0);
	}
	close(sync[1]);
	ASSERT_EQ(1, read(sync[0], &c, 1));
	close(sync[0]);
	sender = fork();
	ASSERT_LE(0, sender);
	if (sender == 0)
		_exit(kt_become_nobody() ? 1 : -send_str(self->q, "one", 0, 1));
	EXPECT_EQ(0, kt_wait(sender));
	EXPECT_EQ(0, kt_wait(pid));
}

static int register_none(void *arg)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_NONE };

	return ioctl(*(int *)arg, KIPC_IOC_NOTIFY, &n) ? 1 : 0;
}

/*
 * Issue 18 item 6: a registrant that shares its fd table (CLONE_FILES)
 * closes no file when it exits, so no ->flush drops its registration.  A
 * dead registrant must not hold the queue's one registration: another
 * process may register, even before the dead one is reaped.
 */
TEST_F(q, notify_registration_dies_with_a_clone_files_registrant)
{
	static char stack[64 << 10] __attribute__((aligned(16)));
	struct kipc_notify n = { .how = KIPC_NOTIFY_NONE };
	struct kipc_stat st;
	siginfo_t si = { 0 };
	pid_t pid, other;

	pid = clone(register_none, stack + sizeof(stack), CLONE_FILES | SIGCHLD,
		    &self->q);
	ASSERT_LE(0, pid);
	/* Dead, and left a zombie. */
	ASSERT_EQ(0, waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	ASSERT_EQ(0, si.si_status);
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.notify_pid);
	other = fork();
	ASSERT_LE(0, other);
	if (other == 0)
		_exit(-kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	EXPECT_EQ(0, kt_wait(other));
	EXPECT_EQ(0, kt_wait(pid));
}

static void *register_in_thread(void *arg)
{
	return (void *)(long)register_none(arg);
}

/* The registration is the process's: the thread that made it may go. */
TEST_F(q, notify_registration_outlives_the_thread_that_made_it)
{
	struct kipc_notify n = { .how = KIPC_NOTIFY_NONE };
	struct kipc_stat st;
	pthread_t thread;
	void *ret = NULL;
	pid_t other;

	ASSERT_EQ(0, pthread_create(&thread, NULL, register_in_thread,
				    &self->q));
	ASSERT_EQ(0, pthread_join(thread, &ret));
	ASSERT_EQ(NULL, ret);
	other = fork();
	ASSERT_LE(0, other);
	if (other == 0)
		_exit(-kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	EXPECT_EQ(EBUSY, kt_wait(other));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(getpid(), st.queue.notify_pid);
	n.how = KIPC_NOTIFY_OFF;
	EXPECT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_NOTIFY, &n)));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.notify_pid);
}

TEST_F(q, batch_send_and_receive)
{
	struct kipc_msg m[16];
	char in[16][8], out[16][8];
	int i;

	for (i = 0; i < 16; i++) {
		snprintf(in[i], sizeof(in[i]), "b%02d", i);
		m[i] = (struct kipc_msg){ .buf = (uintptr_t)in[i], .len = 4,
					  .prio = 0, .type = 1 + i % 3 };
	}
	ASSERT_EQ(16, kt_xfer(self->q, KIPC_IOC_SEND, m, 16, 0, NULL));
	for (i = 0; i < 16; i++)
		m[i] = (struct kipc_msg){ .buf = (uintptr_t)out[i], .len = 8 };
	/* Receives what is there, without waiting for all 16 slots. */
	ASSERT_EQ(10, kt_xfer(self->q, KIPC_IOC_RECV, m, 10, 0, NULL));
	ASSERT_EQ(6, kt_xfer(self->q, KIPC_IOC_RECV, m + 10, 16, 0, NULL));
	for (i = 0; i < 16; i++) {
		EXPECT_EQ(4, m[i].len);
		EXPECT_EQ(0, memcmp(out[i], in[i], 4));
		EXPECT_EQ(1 + i % 3, m[i].type);
	}
}

TEST_F(q, batch_send_reports_partial_progress)
{
	struct kipc_msg m[20];
	char bufs[20][4];
	int i;

	for (i = 0; i < 20; i++) {
		memcpy(bufs[i], &i, sizeof(i));
		m[i] = (struct kipc_msg){ .buf = (uintptr_t)bufs[i], .len = 4,
					  .type = 1 };
	}
	/* 16 fit; the call reports 16, and the 17th is not half-sent. */
	EXPECT_EQ(16, kt_xfer(self->q, KIPC_IOC_SEND, m, 20, KIPC_F_NONBLOCK,
			      NULL));
	for (i = 0; i < 16; i++) {
		int v = -1;

		ASSERT_EQ(4, kt_recv(self->q, &v, 4, NULL, 0, KIPC_F_NONBLOCK,
				     NULL));
		EXPECT_EQ(i, v);
	}
	EXPECT_STREQ("", recv_str(self->q, 0, 0));

	/* A bad buffer in the middle stops the batch there. */
	m[3].buf = 8;
	EXPECT_EQ(3, kt_xfer(self->q, KIPC_IOC_SEND, m, 6, 0, NULL));
	EXPECT_EQ(-EFAULT, kt_xfer(self->q, KIPC_IOC_SEND, m + 3, 3, 0, NULL));
	ASSERT_EQ(0, kt_recv(self->q, NULL, 0, NULL, 0,
			     KIPC_F_NONBLOCK | KIPC_F_NOERROR, NULL));
}

TEST_F(q, bad_receive_buffer_loses_nothing)
{
	char buf[8];

	ASSERT_EQ(0, send_str(self->q, "first", 0, 1));
	ASSERT_EQ(0, send_str(self->q, "second", 0, 1));
	EXPECT_EQ(-EFAULT, kt_recv(self->q, kt_bad_ptr(), 64, NULL, 0, 0, NULL));
	EXPECT_EQ(-EFAULT, kt_ret(read(self->q, kt_bad_ptr(), 64)));
	EXPECT_STREQ("first", recv_str(self->q, 0, 0));
	EXPECT_STREQ("second", recv_str(self->q, 0, 0));
	(void)buf;
}

TEST_F(q, bad_receive_descriptor_loses_nothing)
{
	struct kipc_xfer x = { .msgs = 8, .count = 1 };

	ASSERT_EQ(0, send_str(self->q, "kept", 0, 1));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(self->q, KIPC_IOC_RECV, &x)));
	EXPECT_STREQ("kept", recv_str(self->q, 0, 0));
}

/* Descriptors up to an unmapped page: those before it go, in order. */
TEST_F(q, batch_send_stops_at_unreadable_descriptor)
{
	long page = sysconf(_SC_PAGESIZE);
	struct kipc_msg *m;
	char *map;
	int i, v;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));
	/* 5 descriptors fit before the hole, the 6th straddles it. */
	m = (struct kipc_msg *)(map + page) - 5;
	for (i = 0; i < 5; i++)
		m[i] = (struct kipc_msg){ .buf = (uintptr_t)&m[i].type, .len = 4,
					  .type = 100 + i };
	EXPECT_EQ(5, kt_xfer(self->q, KIPC_IOC_SEND, m, 12, 0, NULL));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(4, kt_recv(self->q, &v, sizeof(v), NULL, 0,
				     KIPC_F_NONBLOCK, NULL));
		EXPECT_EQ(100 + i, v);
	}
	EXPECT_EQ(-EFAULT, kt_xfer(self->q, KIPC_IOC_SEND, m + 5, 1, 0, NULL));
	munmap(map, page);
}

/* A bad buffer in a receive batch: those before it arrive, the rest stay. */
TEST_F(q, batch_receive_stops_at_bad_buffer_and_keeps_the_rest)
{
	struct kipc_msg m[8];
	char out[8][8];
	int i;

	for (i = 0; i < 8; i++) {
		snprintf(out[i], sizeof(out[i]), "m%d", i);
		ASSERT_EQ(0, send_str(self->q, out[i], 0, 1));
	}
	memset(out, 0, sizeof(out));
	for (i = 0; i < 8; i++)
		m[i] = (struct kipc_msg){ .buf = (uintptr_t)out[i], .len = 8 };
	m[3].buf = (uintptr_t)kt_bad_ptr();
	EXPECT_EQ(3, kt_xfer(self->q, KIPC_IOC_RECV, m, 8, 0, NULL));
	for (i = 0; i < 3; i++) {
		char want[8];

		snprintf(want, sizeof(want), "m%d", i);
		EXPECT_STREQ(want, out[i]);
	}
	for (i = 3; i < 8; i++) {
		char want[8];

		snprintf(want, sizeof(want), "m%d", i);
		EXPECT_STREQ(want, recv_str(self->q, 0, 0));
	}
	EXPECT_STREQ("", recv_str(self->q, 0, 0));
}

/* A receiver thread of the faulting-receiver tests. */
struct faulting_recv {
	int q;
	int64_t type;
	uint32_t flags;
	struct kipc_msg m[2];
	uint32_t count;
	int ret;
};

static void *faulting_recv_run(void *arg)
{
	struct faulting_recv *r = arg;
	struct kipc_timeout to = kt_rel_ms(10000);
	uint32_t i;

	for (i = 0; i < r->count; i++)
		r->m[i].type = r->type;
	r->ret = kt_xfer(r->q, KIPC_IOC_RECV, r->m, r->count,
			 r->flags | KIPC_F_TIMED, &to);
	return NULL;
}

static void on_sigusr1(int sig)
{
}

/*
 * Issue 18 item 2: a receiver blocked for type N, with a buffer it cannot
 * take the message into, on a queue full with one message of type 1.  A
 * message handed to it and put back when its copy faults would be one past
 * max_msgs, charged to nobody; type N + 1 next round, and so on.  The queue
 * must stay within its limits, and the owner's charge and the module's
 * message count with it.
 */
TEST_F(q, faulting_receiver_cannot_grow_a_full_queue)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 }, old;
	static char payload[65536];
	struct kipc_info before, now;
	struct kipc_stat st;
	int q, round;

	q = kt_anon_queue(self->dev, 1, sizeof(payload));
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, payload, sizeof(payload), 0, 1,
			     KIPC_F_NONBLOCK, NULL));
	ASSERT_EQ(0, kt_info(self->dev, &before));
	/* No SA_RESTART: SIGUSR1 ends a receive that nothing was sent to. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, &old));
	for (round = 0; round < 20; round++) {
		struct faulting_recv r = {
			.q = q, .type = 2 + round, .flags = KIPC_F_SYSV,
			.m[0] = { .buf = (uintptr_t)kt_bad_ptr(),
				  .len = sizeof(payload) },
			.count = 1,
		};
		pthread_t thread;

		ASSERT_EQ(0, pthread_create(&thread, NULL, faulting_recv_run,
					    &r));
		ASSERT_TRUE(kt_wait_until(q, &st, st.queue.recv_waiters == 1));
		kt_send(q, payload, sizeof(payload), 0, 2 + round,
			KIPC_F_NONBLOCK, NULL);
		pthread_kill(thread, SIGUSR1);
		pthread_join(thread, NULL);
		EXPECT_NE(0, r.ret);

		ASSERT_EQ(0, kt_stat(q, &st));
		ASSERT_GE(st.queue.max_msgs, st.queue.msgs)
			TH_LOG("round %d: %llu messages, %llu bytes", round,
			       (unsigned long long)st.queue.msgs,
			       (unsigned long long)st.queue.bytes);
		ASSERT_GE(st.queue.max_bytes, st.queue.bytes);
		ASSERT_EQ(0, kt_info(self->dev, &now));
		ASSERT_EQ(before.user_bytes, now.user_bytes);
		ASSERT_EQ(before.msgs, now.msgs);
	}
	sigaction(SIGUSR1, &old, NULL);
	close(q);
}

/* A message handed to a receiver whose copy faults is not lost. */
TEST_F(q, handed_message_that_faults_goes_back_to_the_queue)
{
	struct faulting_recv r = {
		.q = self->q, .m[0] = { .buf = (uintptr_t)kt_bad_ptr(),
					.len = 64 },
		.count = 1,
	};
	struct kipc_stat st;
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, faulting_recv_run, &r));
	ASSERT_TRUE(kt_wait_until(self->q, &st, st.queue.recv_waiters == 1));
	ASSERT_EQ(0, send_str(self->q, "kept", 0, 1));
	pthread_join(thread, NULL);
	EXPECT_EQ(-EFAULT, r.ret);
	EXPECT_STREQ("kept", recv_str(self->q, 0, 0));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(0, st.queue.msgs);
	EXPECT_EQ(1, st.queue.received);
}

struct batch_send {
	int q;
	int ret;
};

static void *batch_send_run(void *arg)
{
	struct batch_send *b = arg;
	struct kipc_timeout to = kt_rel_ms(10000);
	struct kipc_msg m[2] = {
		{ .buf = (uintptr_t)"C", .len = 1, .type = 1 },
		{ .buf = (uintptr_t)"D", .len = 1, .type = 1 },
	};

	b->ret = kt_xfer(b->q, KIPC_IOC_SEND, m, 2, KIPC_F_TIMED, &to);
	return NULL;
}

/*
 * Issue 18 item 2, batches: a receive takes A and B off a full queue of
 * two, copies A out while blocked senders have room to fill, then faults on
 * B's buffer.  B goes back, and the queue must not hold three then.  A
 * userfaultfd holds the receiver in A's copy for as long as it takes.
 */
TEST_F(q, faulting_batch_receiver_stays_within_limits)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zero = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	struct batch_send b = { 0 };
	struct faulting_recv r = { .count = 2 };
	pthread_t sender, receiver;
	struct uffd_msg fault;
	struct kipc_stat st;
	int uffd, q, i;
	char *map;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	map = mmap(NULL, page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	reg.range.start = (uintptr_t)map;
	reg.range.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	q = kt_anon_queue(self->dev, 2, 64);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, send_str(q, "A", 0, 1));
	ASSERT_EQ(0, send_str(q, "B", 0, 1));
	b.q = q;
	ASSERT_EQ(0, pthread_create(&sender, NULL, batch_send_run, &b));
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.send_waiters == 1));

	r.q = q;
	r.m[0] = (struct kipc_msg){ .buf = (uintptr_t)map, .len = 64 };
	r.m[1] = (struct kipc_msg){ .buf = (uintptr_t)kt_bad_ptr(), .len = 64 };
	ASSERT_EQ(0, pthread_create(&receiver, NULL, faulting_recv_run, &r));
	pfd.fd = uffd;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(sizeof(fault), read(uffd, &fault, sizeof(fault)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, fault.event);
	/* The receiver sleeps in A's copy: give the senders their chance. */
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, kt_stat(q, &st));
		if (st.queue.msgs == 2)
			break;
		usleep(10000);
	}
	zero.range = reg.range;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zero));
	pthread_join(receiver, NULL);
	EXPECT_EQ(1, r.ret);
	EXPECT_EQ(0, memcmp(map, "A", 1));

	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_GE(st.queue.max_msgs, st.queue.msgs)
		TH_LOG("%llu messages on a queue of %llu",
		       (unsigned long long)st.queue.msgs,
		       (unsigned long long)st.queue.max_msgs);
	/* Nothing lost, nothing reordered. */
	for (i = 0; i < 3; i++) {
		char buf[8] = "";
		struct kipc_timeout to = kt_rel_ms(5000);

		EXPECT_EQ(1, kt_recv(q, buf, sizeof(buf), NULL, 0,
				     KIPC_F_TIMED, &to));
		EXPECT_EQ("BCD"[i], buf[0]);
	}
	pthread_join(sender, NULL);
	EXPECT_EQ(2, b.ret);
	EXPECT_STREQ("", recv_str(q, 0, 0));
	close(q);
	munmap(map, page);
	close(uffd);
}

TEST_F(q, stat_counts_and_times)
{
	struct kipc_stat st;

	ASSERT_EQ(0, send_str(self->q, "abc", 0, 1));
	ASSERT_EQ(0, send_str(self->q, "de", 0, 1));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(2, st.queue.msgs);
	EXPECT_EQ(5, st.queue.bytes);
	EXPECT_EQ(2, st.queue.sent);
	EXPECT_EQ(0, st.queue.received);
	EXPECT_LT(0, st.queue.stime_ns);
	EXPECT_EQ(0, st.queue.rtime_ns);
	EXPECT_EQ(getpid(), st.queue.lspid);
	EXPECT_EQ(0, st.queue.lrpid);
	recv_str(self->q, 0, 0);
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(1, st.queue.msgs);
	EXPECT_EQ(2, st.queue.bytes);
	EXPECT_EQ(1, st.queue.received);
	EXPECT_LT(0, st.queue.rtime_ns);
	EXPECT_EQ(getpid(), st.queue.lrpid);
}

TEST_F(q, set_max_bytes_like_msg_qbytes)
{
	struct kipc_set set = { .valid = KIPC_SET_MAX_BYTES, .max_bytes = 3 };
	struct kipc_info info;
	struct kipc_stat st;

	ASSERT_EQ(0, kt_ret(ioctl(self->q, KIPC_IOC_SET, &set)));
	ASSERT_EQ(0, kt_stat(self->q, &st));
	EXPECT_EQ(3, st.queue.max_bytes);
	EXPECT_EQ(0, send_str(self->q, "abc", 0, 1));
	EXPECT_EQ(-EAGAIN, send_str(self->q, "d", 0, 1));
	ASSERT_EQ(0, kt_info(self->dev, &info));
	set.max_bytes = info.max_queue_bytes + 1;
	if (!kt_is_root())
		EXPECT_EQ(-EPERM, kt_ret(ioctl(self->q, KIPC_IOC_SET, &set)));
}

TEST_F(q, fd_passed_to_child_shares_queue)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(-send_str(self->q, "from-child", 0, 1));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_STREQ("from-child", recv_str(self->q, 0, 0));
}

static int sendrecv(int q, const void *out, uint32_t out_len, int rq, void *in,
		    uint32_t in_len, uint32_t *sent)
{
	struct kipc_msg sm = { .buf = (uintptr_t)out, .len = out_len, .type = 1 };
	struct kipc_msg rm = { .buf = (uintptr_t)in, .len = in_len };
	struct kipc_sendrecv sr;
	int ret;

	memset(&sr, 0, sizeof(sr));
	sr.send.msgs = (uintptr_t)&sm;
	sr.send.count = 1;
	sr.recv.msgs = (uintptr_t)&rm;
	sr.recv.count = 1;
	sr.recv_fd = rq;
	ret = kt_ret(ioctl(q, KIPC_IOC_SENDRECV, &sr));
	if (sent)
		*sent = sr.sent;
	return ret == 1 ? (int)rm.len : ret;
}

TEST_F(q, sendrecv_exchanges_request_and_reply)
{
	int replies = kt_anon_queue(self->dev, 4, 64);
	char buf[64];
	uint32_t sent = 0;
	pid_t pid;
	int i;

	ASSERT_LE(0, replies);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The server: each reply is the request plus one. */
		int n, v;

		n = kt_recv(self->q, &v, sizeof(v), NULL, 0, 0, NULL);
		for (i = 0; i < 100 && n == sizeof(v); i++) {
			v++;
			if (i == 99)
				_exit(kt_send(replies, &v, sizeof(v), 0, 1, 0, NULL) ? 1 : 0);
			n = sendrecv(replies, &v, sizeof(v), self->q, &v,
				     sizeof(v), NULL);
		}
		_exit(2);
	}
	for (i = 0; i < 100; i++) {
		int v = i * 10, r = -1;

		ASSERT_EQ(sizeof(r), sendrecv(self->q, &v, sizeof(v), replies,
					       &r, sizeof(r), &sent));
		EXPECT_EQ(1, sent);
		EXPECT_EQ(i * 10 + 1, r);
	}
	EXPECT_EQ(0, kt_wait(pid));

	/* The receive side must be a kipc queue fd, open for reading. */
	EXPECT_EQ(-EINVAL, sendrecv(self->q, "x", 1, self->dev, buf,
				    sizeof(buf), NULL));
	EXPECT_EQ(-EBADF, sendrecv(self->q, "x", 1, 9999, buf, sizeof(buf),
				   NULL));
	/* A send error comes back before any receive. */
	EXPECT_EQ(-EMSGSIZE, sendrecv(self->q, buf, 600, replies, buf,
				      sizeof(buf), NULL));
	close(replies);
}

TEST_HARNESS_MAIN
