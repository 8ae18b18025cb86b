// SPDX-License-Identifier: GPL-2.0
/*
 * The stock POSIX and SysV message queue, semaphore and shared memory
 * calls, written against their man pages.
 * run_all.sh runs this program twice: once plain, on the kernel's own IPC,
 * and once with LD_PRELOAD=libkipc-preload.so, on kipc.  Both runs must
 * pass: that is the compatibility layer agreeing with the stock kernel.
 * With KIPC_EXPECT_ROUTED=1 the routing itself is checked too: objects the
 * program creates must show up in kipc's own counters.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

static bool routed(void)
{
	const char *e = getenv("KIPC_EXPECT_ROUTED");

	return e && *e == '1';
}

/* kipc's count of objects of @type, or -1 when the device is not there. */
static long kipc_objects(enum kipc_type type)
{
	struct kipc_info info;
	int dev = kt_dev();
	long n = -1;

	if (dev >= 0 && kt_info(dev, &info) == 0)
		n = info.objects[type];
	if (dev >= 0)
		close(dev);
	return n;
}

static long kipc_queues(void)
{
	return kipc_objects(KIPC_TYPE_QUEUE);
}

/* @after objects of @type exist, where @before did: one more if routed. */
#define EXPECT_ROUTED(type, before) do {				\
	if (routed()) {							\
		EXPECT_EQ((before) + 1, kipc_objects(type));		\
	} else if ((before) >= 0) {					\
		EXPECT_EQ((before), kipc_objects(type));		\
	}								\
} while (0)

static struct timespec in_ms(clockid_t clock, long ms)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
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
	EXPECT_EQ(-1, msgctl(self->id, IPC_STAT, NULL));
	EXPECT_EQ(EFAULT, errno);
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

/* POSIX semaphores */

FIXTURE(psem) {
	char name[64];
};

FIXTURE_SETUP(psem)
{
	snprintf(self->name, sizeof(self->name), "/kipc-compat-sem-%d",
		 getpid());
	sem_unlink(self->name);
}

FIXTURE_TEARDOWN(psem)
{
	sem_unlink(self->name);
}

TEST_F(psem, open_same_name_same_semaphore)
{
	long before = kipc_objects(KIPC_TYPE_SEM);
	sem_t *a, *b;
	int v;

	EXPECT_EQ(SEM_FAILED, sem_open(self->name, 0));
	EXPECT_EQ(ENOENT, errno);
	a = sem_open(self->name, O_CREAT | O_EXCL, 0600, 2);
	ASSERT_NE(SEM_FAILED, a);
	EXPECT_ROUTED(KIPC_TYPE_SEM, before);
	EXPECT_EQ(SEM_FAILED, sem_open(self->name, O_CREAT | O_EXCL, 0600, 0));
	EXPECT_EQ(EEXIST, errno);
	b = sem_open(self->name, O_CREAT, 0600, 9);	/* value ignored */
	ASSERT_NE(SEM_FAILED, b);
	ASSERT_EQ(0, sem_getvalue(b, &v));
	EXPECT_EQ(2, v);
	ASSERT_EQ(0, sem_post(a));
	ASSERT_EQ(0, sem_getvalue(b, &v));
	EXPECT_EQ(3, v);
	EXPECT_EQ(0, sem_unlink(self->name));
	EXPECT_EQ(-1, sem_unlink(self->name));
	EXPECT_EQ(ENOENT, errno);
	/* Unlinked, the semaphore lives on for its users. */
	EXPECT_EQ(0, sem_wait(b));
	EXPECT_EQ(0, sem_close(a));
	EXPECT_EQ(0, sem_close(b));
	EXPECT_EQ(SEM_FAILED, sem_open("/kipc-compat-big", O_CREAT, 0600,
				       (unsigned int)SEM_VALUE_MAX + 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(psem, init_wait_post_and_their_errors)
{
	struct timespec ts;
	sem_t s;
	int v;

	EXPECT_EQ(-1, sem_init(&s, 0, (unsigned int)SEM_VALUE_MAX + 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, sem_init(&s, 0, 1));
	EXPECT_EQ(0, sem_trywait(&s));
	EXPECT_EQ(-1, sem_trywait(&s));
	EXPECT_EQ(EAGAIN, errno);
	ts = in_ms(CLOCK_REALTIME, 50);
	EXPECT_EQ(-1, sem_timedwait(&s, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	ts = in_ms(CLOCK_MONOTONIC, 50);
	EXPECT_EQ(-1, sem_clockwait(&s, CLOCK_MONOTONIC, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	ts.tv_nsec = 1000000000;
	EXPECT_EQ(-1, sem_timedwait(&s, &ts));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, sem_post(&s));
	ASSERT_EQ(0, sem_getvalue(&s, &v));
	EXPECT_EQ(1, v);
	/* An expired timeout still takes an available count. */
	ts = in_ms(CLOCK_REALTIME, -1000);
	EXPECT_EQ(0, sem_timedwait(&s, &ts));
	EXPECT_EQ(0, sem_destroy(&s));

	ASSERT_EQ(0, sem_init(&s, 0, SEM_VALUE_MAX));
	EXPECT_EQ(-1, sem_post(&s));
	EXPECT_EQ(EOVERFLOW, errno);
	ASSERT_EQ(0, sem_getvalue(&s, &v));
	EXPECT_EQ(SEM_VALUE_MAX, v);
	EXPECT_EQ(0, sem_destroy(&s));
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(psem, signal_interrupts_a_wait)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	sem_t s;

	ASSERT_EQ(0, sem_init(&s, 0, 0));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-1, sem_wait(&s));
	EXPECT_EQ(EINTR, errno);
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ(0, sem_destroy(&s));
}

TEST_F(psem, pshared_in_shared_memory_across_fork)
{
	long before = kipc_objects(KIPC_TYPE_SEM);
	sem_t *s;
	pid_t pid;
	int v;

	s = mmap(NULL, 2 * sizeof(sem_t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_EQ(0, sem_init(&s[0], 1, 0));
	ASSERT_EQ(0, sem_init(&s[1], 1, 0));
	/* Its memory and a futex, as stock: never a kipc object. */
	if (before >= 0)
		EXPECT_EQ(before, kipc_objects(KIPC_TYPE_SEM));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Wait for the parent, then answer. */
		if (sem_wait(&s[0]) || sem_post(&s[1]))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(0, sem_post(&s[0]));
	EXPECT_EQ(0, sem_wait(&s[1]));
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, sem_getvalue(&s[0], &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(0, sem_destroy(&s[0]));
	EXPECT_EQ(0, sem_destroy(&s[1]));
	if (before >= 0)
		EXPECT_EQ(before, kipc_objects(KIPC_TYPE_SEM));
	munmap(s, 2 * sizeof(sem_t));
}

/* SysV semaphore sets */

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

FIXTURE(ssem) {
	int id;
};

FIXTURE_SETUP(ssem)
{
	self->id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
	ASSERT_LE(0, self->id);
}

FIXTURE_TEARDOWN(ssem)
{
	semctl(self->id, 0, IPC_RMID);
}

static int sem1(int id, unsigned short num, short op, short flg)
{
	struct sembuf sb = { .sem_num = num, .sem_op = op, .sem_flg = flg };

	return semop(id, &sb, 1);
}

TEST_F(ssem, values_one_and_all)
{
	unsigned short all[3] = { 4, 5, 6 }, got[3] = { 0 };

	EXPECT_EQ(0, semctl(self->id, 1, GETVAL));
	ASSERT_EQ(0, semctl(self->id, 1, SETVAL, (union semun){ .val = 7 }));
	EXPECT_EQ(7, semctl(self->id, 1, GETVAL));
	EXPECT_EQ(-1, semctl(self->id, 1, SETVAL,
			     (union semun){ .val = 32768 }));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, semctl(self->id, 3, GETVAL));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, semctl(self->id, 0, SETALL, (union semun){ .array = all }));
	ASSERT_EQ(0, semctl(self->id, 0, GETALL, (union semun){ .array = got }));
	EXPECT_EQ(0, memcmp(all, got, sizeof(all)));
	ASSERT_EQ(0, sem1(self->id, 2, -1, 0));
	EXPECT_EQ(getpid(), semctl(self->id, 2, GETPID));
	EXPECT_EQ(5, semctl(self->id, 2, GETVAL));
}

TEST_F(ssem, operations_apply_all_or_none)
{
	struct sembuf two[2] = {
		{ .sem_num = 0, .sem_op = 1 },
		{ .sem_num = 1, .sem_op = -1, .sem_flg = IPC_NOWAIT },
	};
	struct sembuf bad = { .sem_num = 3, .sem_op = 1 };
	struct timespec ts = { .tv_nsec = 50000000 };

	EXPECT_EQ(-1, semop(self->id, two, 2));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, semctl(self->id, 0, GETVAL));
	ASSERT_EQ(0, sem1(self->id, 1, 1, 0));
	EXPECT_EQ(0, semop(self->id, two, 2));
	EXPECT_EQ(1, semctl(self->id, 0, GETVAL));
	EXPECT_EQ(0, semctl(self->id, 1, GETVAL));
	EXPECT_EQ(-1, semop(self->id, &bad, 1));
	EXPECT_EQ(EFBIG, errno);
	EXPECT_EQ(-1, semop(self->id, two, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, semtimedop(self->id, &two[1], 1, &ts));
	EXPECT_EQ(EAGAIN, errno);
	/* Wait for zero: counter 2 is zero already. */
	EXPECT_EQ(0, sem1(self->id, 2, 0, 0));
}

TEST_F(ssem, undo_reverts_on_exit)
{
	pid_t pid;

	ASSERT_EQ(0, semctl(self->id, 0, SETVAL, (union semun){ .val = 1 }));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (sem1(self->id, 0, -1, SEM_UNDO) ||
		    sem1(self->id, 1, 2, SEM_UNDO))
			_exit(1);
		_exit(semctl(self->id, 0, GETVAL) == 0 &&
		       semctl(self->id, 1, GETVAL) == 2 ? 0 : 2);
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(1, semctl(self->id, 0, GETVAL));
	EXPECT_EQ(0, semctl(self->id, 1, GETVAL));
}

TEST_F(ssem, waiters_are_counted_and_woken)
{
	pid_t pid = fork();
	int i;

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(sem1(self->id, 0, -1, 0) ? 1 : 0);
	for (i = 0; i < 500 && semctl(self->id, 0, GETNCNT) != 1; i++)
		usleep(10000);
	EXPECT_EQ(1, semctl(self->id, 0, GETNCNT));
	EXPECT_EQ(0, semctl(self->id, 0, GETZCNT));
	ASSERT_EQ(0, sem1(self->id, 0, 1, 0));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, semctl(self->id, 0, GETNCNT));
}

TEST_F(ssem, stat_set_and_rmid)
{
	struct semid_ds ds;
	struct seminfo si;

	ASSERT_EQ(0, semctl(self->id, 0, IPC_STAT, (union semun){ .buf = &ds }));
	EXPECT_EQ(3, ds.sem_nsems);
	EXPECT_EQ(0600, ds.sem_perm.mode & 0777);
	EXPECT_EQ(geteuid(), ds.sem_perm.uid);
	EXPECT_EQ(IPC_PRIVATE, ds.sem_perm.__key);
	EXPECT_LT(0, ds.sem_ctime);
	ds.sem_perm.mode = 0640;
	ASSERT_EQ(0, semctl(self->id, 0, IPC_SET, (union semun){ .buf = &ds }));
	ASSERT_EQ(0, semctl(self->id, 0, IPC_STAT, (union semun){ .buf = &ds }));
	EXPECT_EQ(0640, ds.sem_perm.mode & 0777);
	EXPECT_LE(0, semctl(0, 0, IPC_INFO, (union semun){ .__buf = &si }));
	EXPECT_EQ(32767, si.semvmx);
	EXPECT_EQ(-1, semctl(self->id, 0, IPC_STAT, (union semun){ .buf = NULL }));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, semctl(self->id, 0, IPC_RMID));
	EXPECT_EQ(-1, sem1(self->id, 0, 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, semctl(self->id, 0, IPC_RMID));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(ssem, key_names_one_set)
{
	key_t key = 0x6c000000 | (getpid() & 0xffffff);
	long before = kipc_objects(KIPC_TYPE_SEM);
	int a;

	a = semget(key, 2, IPC_CREAT | IPC_EXCL | 0600);
	ASSERT_LE(0, a);
	EXPECT_ROUTED(KIPC_TYPE_SEM, before);
	EXPECT_EQ(a, semget(key, 0, 0));
	EXPECT_EQ(a, semget(key, 2, IPC_CREAT | 0600));
	EXPECT_EQ(-1, semget(key, 3, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, semget(key, 2, IPC_CREAT | IPC_EXCL | 0600));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, semctl(a, 0, IPC_RMID));
	EXPECT_EQ(-1, semget(key, 0, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, semget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
	EXPECT_EQ(EINVAL, errno);
}

/* POSIX shared memory */

FIXTURE(pshm) {
	char name[64];
};

FIXTURE_SETUP(pshm)
{
	snprintf(self->name, sizeof(self->name), "/kipc-compat-shm-%d",
		 getpid());
	shm_unlink(self->name);
}

FIXTURE_TEARDOWN(pshm)
{
	shm_unlink(self->name);
}

TEST_F(pshm, open_truncate_map_stat)
{
	long before = kipc_objects(KIPC_TYPE_REGION);
	struct stat st;
	char *a, *b;
	int fd, fd2;

	EXPECT_EQ(-1, shm_open(self->name, O_RDWR, 0));
	EXPECT_EQ(ENOENT, errno);
	fd = shm_open(self->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	EXPECT_ROUTED(KIPC_TYPE_REGION, before);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, shm_open(self->name, O_RDWR | O_CREAT | O_EXCL, 0600));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_size);
	ASSERT_EQ(0, ftruncate(fd, 8192));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(8192, st.st_size);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 0777);
	EXPECT_EQ(geteuid(), st.st_uid);
	a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	strcpy(a + 4096, "hello");

	fd2 = shm_open(self->name, O_RDONLY, 0);
	ASSERT_LE(0, fd2);
	b = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, b);
	EXPECT_STREQ("hello", b + 4096);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd2, 0));
	EXPECT_EQ(EACCES, errno);
	munmap(b, 8192);
	close(fd2);

	EXPECT_EQ(0, shm_unlink(self->name));
	EXPECT_EQ(-1, shm_unlink(self->name));
	EXPECT_EQ(ENOENT, errno);
	/* Unlinked, it lives on while mapped or open. */
	EXPECT_STREQ("hello", a + 4096);
	EXPECT_EQ(0, fchmod(fd, 0400));
	EXPECT_EQ(0, fchown(fd, -1, -1));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0400, st.st_mode & 0777);
	munmap(a, 8192);
	close(fd);
	if (before >= 0)
		EXPECT_EQ(before, kipc_objects(KIPC_TYPE_REGION));
}

TEST_F(pshm, o_trunc_empties_and_fork_shares)
{
	char *p;
	pid_t pid;
	struct stat st;
	int fd;

	fd = shm_open(self->name, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		strcpy(p, "from child");
		_exit(0);
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_STREQ("from child", p);
	munmap(p, 4096);
	close(fd);
	fd = shm_open(self->name, O_RDWR | O_TRUNC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_size);
	close(fd);
}

/* SysV shared memory */

FIXTURE(sshm) {
	int id;
};

FIXTURE_SETUP(sshm)
{
	self->id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	ASSERT_LE(0, self->id);
}

FIXTURE_TEARDOWN(sshm)
{
	shmctl(self->id, IPC_RMID, NULL);
}

TEST_F(sshm, attach_is_shared_across_fork)
{
	struct shmid_ds ds;
	char *p;
	pid_t pid;

	p = shmat(self->id, NULL, 0);
	ASSERT_NE((void *)-1, p);
	ASSERT_EQ(0, shmctl(self->id, IPC_STAT, &ds));
	EXPECT_EQ(1, ds.shm_nattch);
	EXPECT_EQ(getpid(), ds.shm_lpid);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *q = shmat(self->id, NULL, SHM_RDONLY);

		strcpy(p + 8000, "child");
		_exit(q != (void *)-1 && !strcmp(q + 8000, "child") &&
		      !shmdt(q) && !shmdt(p) ? 0 : 1);
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_STREQ("child", p + 8000);
	EXPECT_EQ(0, shmdt(p));
	ASSERT_EQ(0, shmctl(self->id, IPC_STAT, &ds));
	EXPECT_EQ(0, ds.shm_nattch);
	EXPECT_EQ(-1, shmdt(p));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(sshm, stat_and_set)
{
	struct shmid_ds ds;
	struct shminfo si;

	ASSERT_EQ(0, shmctl(self->id, IPC_STAT, &ds));
	EXPECT_EQ(8192, ds.shm_segsz);
	EXPECT_EQ(0600, ds.shm_perm.mode & 0777);
	EXPECT_EQ(geteuid(), ds.shm_perm.uid);
	EXPECT_EQ(IPC_PRIVATE, ds.shm_perm.__key);
	EXPECT_EQ(getpid(), ds.shm_cpid);
	EXPECT_EQ(0, ds.shm_nattch);
	ds.shm_perm.mode = 0640;
	ASSERT_EQ(0, shmctl(self->id, IPC_SET, &ds));
	ASSERT_EQ(0, shmctl(self->id, IPC_STAT, &ds));
	EXPECT_EQ(0640, ds.shm_perm.mode & 0777);
	EXPECT_LE(0, shmctl(0, IPC_INFO, (struct shmid_ds *)&si));
	EXPECT_EQ(1, si.shmmin);
	EXPECT_EQ(-1, shmctl(self->id, IPC_SET, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(sshm, rmid_while_attached_defers_destroy)
{
	long before = kipc_objects(KIPC_TYPE_REGION);
	char *p;
	pid_t pid;

	p = shmat(self->id, NULL, 0);
	ASSERT_NE((void *)-1, p);
	strcpy(p, "kept");
	ASSERT_EQ(0, shmctl(self->id, IPC_RMID, NULL));
	/* Still there for every process that has it mapped. */
	EXPECT_STREQ("kept", p);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		strcpy(p, "still");
		_exit(shmdt(p) ? 1 : 0);
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_STREQ("still", p);
	if (before >= 0)
		EXPECT_EQ(before, kipc_objects(KIPC_TYPE_REGION));
	EXPECT_EQ(0, shmdt(p));
	/* The last detach destroyed it. */
	if (routed())
		EXPECT_EQ(before - 1, kipc_objects(KIPC_TYPE_REGION));
	EXPECT_EQ((void *)-1, shmat(self->id, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, shmctl(self->id, IPC_STAT, &(struct shmid_ds){ 0 }));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(sshm, key_names_one_segment)
{
	key_t key = 0x6d000000 | (getpid() & 0xffffff);
	long before = kipc_objects(KIPC_TYPE_REGION);
	int a;

	a = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	ASSERT_LE(0, a);
	EXPECT_ROUTED(KIPC_TYPE_REGION, before);
	EXPECT_EQ(a, shmget(key, 0, 0));
	EXPECT_EQ(a, shmget(key, 100, IPC_CREAT | 0600));
	EXPECT_EQ(-1, shmget(key, 8192, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600));
	EXPECT_EQ(EEXIST, errno);
	ASSERT_EQ(0, shmctl(a, IPC_RMID, NULL));
	EXPECT_EQ(-1, shmget(key, 0, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
