// SPDX-License-Identifier: GPL-2.0
/*
 * The stock POSIX mq and SysV msg calls, written against their man pages.
 * run_all.sh runs this program twice: once plain, on the kernel's own IPC,
 * and once with LD_PRELOAD=libkipc-preload.so, on kipc.  Both runs must
 * pass: that is the compatibility layer agreeing with the stock kernel.
 * With KIPC_EXPECT_ROUTED=1 the routing itself is checked too: objects the
 * program creates must show up in kipc's own counters.
 */
#define _GNU_SOURCE
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

static bool routed(void)
{
	const char *e = getenv("KIPC_EXPECT_ROUTED");

	return e && *e == '1';
}

/* kipc's queue count, or -1 when the device is not there. */
static long kipc_queues(void)
{
	struct kipc_info info;
	int dev = kt_dev();
	long n = -1;

	if (dev >= 0 && kt_info(dev, &info) == 0)
		n = info.objects[KIPC_TYPE_QUEUE];
	if (dev >= 0)
		close(dev);
	return n;
}

FIXTURE(mq) {
	char name[64];
};

FIXTURE_SETUP(mq)
{
	snprintf(self->name, sizeof(self->name), "/kipc-compat-%d", getpid());
	mq_unlink(self->name);
}

FIXTURE_TEARDOWN(mq)
{
	mq_unlink(self->name);
}

TEST_F(mq, open_create_excl_unlink)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	long before = kipc_queues();
	mqd_t q;

	EXPECT_EQ(-1, mq_open(self->name, O_RDWR));
	EXPECT_EQ(ENOENT, errno);
	q = mq_open(self->name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	ASSERT_LE(0, q);
	if (routed()) {
		EXPECT_EQ(before + 1, kipc_queues());
	} else if (before >= 0) {
		EXPECT_EQ(before, kipc_queues());
	}
	EXPECT_EQ(-1, mq_open(self->name, O_RDWR | O_CREAT | O_EXCL, 0600,
			      &attr));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, mq_open("no-slash", O_RDWR));
	EXPECT_EQ(EINVAL, errno);
	attr.mq_maxmsg = 0;
	EXPECT_EQ(-1, mq_open("/kipc-compat-bad", O_RDWR | O_CREAT, 0600,
			      &attr));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mq_unlink(self->name));
	EXPECT_EQ(-1, mq_unlink(self->name));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, mq_close(q));
}

TEST_F(mq, attributes_and_priority_order)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 }, got;
	unsigned int prio;
	char buf[64];
	mqd_t q;

	q = mq_open(self->name, O_RDWR | O_CREAT, 0600, &attr);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_getattr(q, &got));
	EXPECT_EQ(4, got.mq_maxmsg);
	EXPECT_EQ(64, got.mq_msgsize);
	EXPECT_EQ(0, got.mq_curmsgs);
	EXPECT_EQ(0, got.mq_flags);
	ASSERT_EQ(0, mq_send(q, "low", 3, 1));
	ASSERT_EQ(0, mq_send(q, "high", 4, 9));
	ASSERT_EQ(0, mq_send(q, "low2", 4, 1));
	ASSERT_EQ(0, mq_getattr(q, &got));
	EXPECT_EQ(3, got.mq_curmsgs);
	EXPECT_EQ(4, mq_receive(q, buf, sizeof(buf), &prio));
	EXPECT_EQ(9, prio);
	EXPECT_EQ(0, memcmp(buf, "high", 4));
	EXPECT_EQ(3, mq_receive(q, buf, sizeof(buf), &prio));
	EXPECT_EQ(0, memcmp(buf, "low", 3));
	EXPECT_EQ(4, mq_receive(q, buf, sizeof(buf), &prio));
	/* Errors the man pages promise. */
	EXPECT_EQ(-1, mq_receive(q, buf, 63, NULL));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, mq_send(q, buf, 65, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, mq_send(q, buf, 1, 32768));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q);
}

TEST_F(mq, nonblocking_and_timeouts)
{
	struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 16 }, nb, old;
	struct timespec ts;
	char buf[16];
	mqd_t q;

	q = mq_open(self->name, O_RDWR | O_CREAT | O_NONBLOCK, 0600, &attr);
	ASSERT_LE(0, q);
	EXPECT_EQ(-1, mq_receive(q, buf, sizeof(buf), NULL));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, mq_send(q, "x", 1, 0));
	EXPECT_EQ(-1, mq_send(q, "y", 1, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, mq_receive(q, buf, sizeof(buf), NULL));

	/* Back to blocking: a timed receive now times out. */
	memset(&nb, 0, sizeof(nb));
	ASSERT_EQ(0, mq_setattr(q, &nb, &old));
	EXPECT_EQ(O_NONBLOCK, old.mq_flags);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	EXPECT_EQ(-1, mq_timedreceive(q, buf, sizeof(buf), NULL, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	ts.tv_nsec = 2000000000;
	EXPECT_EQ(-1, mq_timedreceive(q, buf, sizeof(buf), NULL, &ts));
	EXPECT_EQ(EINVAL, errno);
	mq_close(q);
}

TEST_F(mq, access_mode_is_enforced)
{
	struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = 16 };
	char buf[16];
	mqd_t w, r;

	w = mq_open(self->name, O_WRONLY | O_CREAT, 0600, &attr);
	ASSERT_LE(0, w);
	r = mq_open(self->name, O_RDONLY);
	ASSERT_LE(0, r);
	EXPECT_EQ(-1, mq_send(r, "x", 1, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, mq_receive(w, buf, sizeof(buf), NULL));
	EXPECT_EQ(EBADF, errno);
	mq_close(w);
	mq_close(r);
}

TEST_F(mq, notify_is_exclusive)
{
	struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = 16 };
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	mqd_t q;
	pid_t pid;

	q = mq_open(self->name, O_RDWR | O_CREAT, 0600, &attr);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, mq_notify(q, &sev));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(mq_notify(q, &sev) == -1 && errno == EBUSY ? 0 : 1);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, mq_notify(q, NULL));
	mq_close(q);
}

FIXTURE(msg) {
	int id;
};

FIXTURE_SETUP(msg)
{
	self->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	ASSERT_LE(0, self->id);
}

FIXTURE_TEARDOWN(msg)
{
	msgctl(self->id, IPC_RMID, NULL);
}

struct sysv_msg {
	long mtype;
	char mtext[64];
};

static int snd(int id, long type, const char *text, int flags)
{
	struct sysv_msg m = { .mtype = type };

	memcpy(m.mtext, text, strlen(text));
	return msgsnd(id, &m, strlen(text), flags);
}

TEST_F(msg, types_select_messages)
{
	struct sysv_msg m;

	ASSERT_EQ(0, snd(self->id, 5, "five", 0));
	ASSERT_EQ(0, snd(self->id, 2, "two", 0));
	ASSERT_EQ(0, snd(self->id, 9, "nine", 0));
	EXPECT_EQ(4, msgrcv(self->id, &m, sizeof(m.mtext), 9, 0));
	EXPECT_EQ(9, m.mtype);
	EXPECT_EQ(3, msgrcv(self->id, &m, sizeof(m.mtext), -6, 0));
	EXPECT_EQ(2, m.mtype);
	EXPECT_EQ(4, msgrcv(self->id, &m, sizeof(m.mtext), 0, 0));
	EXPECT_EQ(5, m.mtype);
	EXPECT_EQ(-1, msgrcv(self->id, &m, sizeof(m.mtext), 0, IPC_NOWAIT));
	EXPECT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, snd(self->id, 3, "a", 0));
	ASSERT_EQ(0, snd(self->id, 4, "b", 0));
	EXPECT_EQ(1, msgrcv(self->id, &m, sizeof(m.mtext), 3, MSG_EXCEPT));
	EXPECT_EQ(4, m.mtype);
}

TEST_F(msg, size_errors_and_noerror)
{
	struct sysv_msg m;

	ASSERT_EQ(0, snd(self->id, 1, "0123456789", 0));
	EXPECT_EQ(-1, msgrcv(self->id, &m, 4, 0, IPC_NOWAIT));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(4, msgrcv(self->id, &m, 4, 0, MSG_NOERROR));
	EXPECT_EQ(0, memcmp(m.mtext, "0123", 4));
	m.mtype = 0;
	EXPECT_EQ(-1, msgsnd(self->id, &m, 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgsnd(-1, &m, 1, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(msg, stat_and_set)
{
	struct msqid_ds ds;

	ASSERT_EQ(0, snd(self->id, 1, "abc", 0));
	ASSERT_EQ(0, snd(self->id, 1, "de", 0));
	ASSERT_EQ(0, msgctl(self->id, IPC_STAT, &ds));
	EXPECT_EQ(2, ds.msg_qnum);
	EXPECT_EQ(5, ds.__msg_cbytes);
	EXPECT_EQ(getpid(), ds.msg_lspid);
	EXPECT_EQ(0, ds.msg_lrpid);
	EXPECT_EQ(0600, ds.msg_perm.mode & 0777);
	EXPECT_EQ(geteuid(), ds.msg_perm.uid);
	EXPECT_EQ(IPC_PRIVATE, ds.msg_perm.__key);
	EXPECT_LT(0, ds.msg_stime);
	ds.msg_perm.mode = 0640;
	ds.msg_qbytes = 4;
	ASSERT_EQ(0, msgctl(self->id, IPC_SET, &ds));
	ASSERT_EQ(0, msgctl(self->id, IPC_STAT, &ds));
	EXPECT_EQ(0640, ds.msg_perm.mode & 0777);
	EXPECT_EQ(4, ds.msg_qbytes);
	EXPECT_EQ(-1, snd(self->id, 1, "f", IPC_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(msg, id_works_in_a_child_and_rmid_invalidates_it)
{
	struct sysv_msg m;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(snd(self->id, 7, "child", 0) ? 1 : 0);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(5, msgrcv(self->id, &m, sizeof(m.mtext), 7, 0));
	ASSERT_EQ(0, msgctl(self->id, IPC_RMID, NULL));
	EXPECT_EQ(-1, snd(self->id, 1, "x", IPC_NOWAIT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, msgctl(self->id, IPC_RMID, NULL));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(msg, key_names_one_queue)
{
	key_t key = 0x6b000000 | (getpid() & 0xffffff);
	int a, b;

	a = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
	ASSERT_LE(0, a);
	b = msgget(key, 0);
	EXPECT_EQ(a, b);
	EXPECT_EQ(-1, msgget(key, IPC_CREAT | IPC_EXCL | 0600));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, msgctl(a, IPC_RMID, NULL));
	EXPECT_EQ(-1, msgget(key, 0));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(msg, removal_wakes_a_blocked_receiver)
{
	struct msqid_ds ds;
	pid_t pid = fork();
	int i;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct sysv_msg m;

		_exit(msgrcv(self->id, &m, sizeof(m.mtext), 0, 0) == -1 &&
		      errno == EIDRM ? 0 : 1);
	}
	/* Give the child time to block; SysV has no waiter count to poll. */
	for (i = 0; i < 50; i++) {
		usleep(10000);
		ASSERT_EQ(0, msgctl(self->id, IPC_STAT, &ds));
	}
	ASSERT_EQ(0, msgctl(self->id, IPC_RMID, NULL));
	EXPECT_EQ(0, kt_wait(pid));
}

TEST_HARNESS_MAIN
