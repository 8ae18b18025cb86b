// SPDX-License-Identifier: GPL-2.0
/*
 * Stock POSIX and SysV IPC semantics that conformance tests written
 * elsewhere check, one behaviour per test: the cases where the
 * compatibility layer once differed from the stock kernel and glibc.
 * run_all.sh runs this program plain (the kernel's own IPC: the reference)
 * and again with LD_PRELOAD=libkipc-preload.so (conform_test@kipc).  Both
 * runs must pass.  Where kipc cannot follow, the test says so with
 * kipc_differs() and pins kipc's documented behaviour instead
 * (kipc_compat(7), "Differences").
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

/* Running over the compatibility layer (run_all.sh's conform_test@kipc). */
static bool routed(void)
{
	const char *e = getenv("KIPC_EXPECT_ROUTED");

	return e && *e == '1';
}

static struct timespec in_ms(clockid_t clock, long ms)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	} else if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	}
	return ts;
}

/* Join @t within 5 s; the thread's result, or NULL on a time-out. */
static void *join_within(pthread_t t)
{
	struct timespec ts = in_ms(CLOCK_REALTIME, 5000);
	void *res = NULL;

	if (pthread_timedjoin_np(t, &res, &ts))
		return NULL;
	return res;
}

/* ------------------------------------------------- POSIX queues */

FIXTURE(mq) {
	char name[64];
	mqd_t q;
};

FIXTURE_SETUP(mq)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 16 };

	snprintf(self->name, sizeof(self->name), "/kipc-conform-%d", getpid());
	mq_unlink(self->name);
	self->q = mq_open(self->name, O_CREAT | O_RDWR, 0600, &attr);
	ASSERT_LE(0, self->q);
}

FIXTURE_TEARDOWN(mq)
{
	mq_close(self->q);
	mq_unlink(self->name);
}

/*
 * stress-ng's mq stressor reads its descriptor: on Linux read(2) reports
 * the queue's state ("QSIZE:..."), it takes no message.
 */
TEST_F(mq, read_reports_state_and_takes_no_message)
{
	char buf[256] = "", msg[16];
	unsigned int prio;
	ssize_t n;

	ASSERT_EQ(0, mq_send(self->q, "first", 5, 0));
	ASSERT_EQ(0, mq_send(self->q, "second", 6, 0));
	n = read(self->q, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	EXPECT_EQ(0, strncmp(buf, "QSIZE:11", 8)) TH_LOG("read gave '%s'", buf);
	EXPECT_EQ(5, mq_receive(self->q, msg, sizeof(msg), &prio));
	EXPECT_EQ(0, memcmp(msg, "first", 5));
}

TEST_F(mq, timedsend_without_timeout_sends)
{
	const struct timespec *none = NULL;
	char msg[16];

	/* glibc declares it nonnull; programs pass NULL all the same. */
	__asm__ volatile("" : "+r"(none));
	EXPECT_EQ(0, mq_timedsend(self->q, "x", 1, 0, none)) TH_LOG("%m");
	EXPECT_EQ(1, mq_receive(self->q, msg, sizeof(msg), NULL));
}

TEST_F(mq, timedsend_oversize_is_emsgsize)
{
	struct timespec ts = in_ms(CLOCK_REALTIME, 1000);
	char big[17] = "";

	EXPECT_EQ(-1, mq_timedsend(self->q, big, sizeof(big), 0, &ts));
	EXPECT_EQ(EMSGSIZE, errno);
}

TEST_F(mq, timedsend_full_nonblocking_is_eagain)
{
	struct timespec ts = in_ms(CLOCK_REALTIME, 1000);
	struct mq_attr attr = { .mq_flags = O_NONBLOCK };
	int i;

	ASSERT_EQ(0, mq_setattr(self->q, &attr, NULL));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, mq_send(self->q, "x", 1, 0));
	EXPECT_EQ(-1, mq_timedsend(self->q, "x", 1, 0, &ts));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(mq, timedreceive_nonblocking_empty_is_eagain)
{
	struct timespec ts = in_ms(CLOCK_REALTIME, 1000);
	struct mq_attr attr = { .mq_flags = O_NONBLOCK };
	char msg[16];

	ASSERT_EQ(0, mq_setattr(self->q, &attr, NULL));
	EXPECT_EQ(-1, mq_timedreceive(self->q, msg, sizeof(msg), NULL, &ts));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(mq, timedreceive_negative_time_is_einval)
{
	struct timespec ts = { .tv_sec = -1 };
	char msg[16];

	EXPECT_EQ(-1, mq_timedreceive(self->q, msg, sizeof(msg), NULL, &ts));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(mq, notify_bad_sigev_notify_is_einval)
{
	struct sigevent sev = { .sigev_notify = 12345 };

	EXPECT_EQ(-1, mq_notify(self->q, &sev));
	EXPECT_EQ(EINVAL, errno);
}

static atomic_int notified;

static void on_notify(union sigval v)
{
	(void)v;
	atomic_fetch_add(&notified, 1);
}

/*
 * Linux runs the function when the message arrives, whoever takes it: here
 * this thread takes it at once, before the notification's thread could
 * see the queue readable.
 */
TEST_F(mq, notify_thread_runs_when_the_message_is_taken_at_once)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD,
		.sigev_notify_function = on_notify,
	};
	char msg[16];
	int i;

	atomic_store(&notified, 0);
	ASSERT_EQ(0, mq_notify(self->q, &sev));
	ASSERT_EQ(0, mq_send(self->q, "x", 1, 0));
	ASSERT_EQ(1, mq_receive(self->q, msg, sizeof(msg), NULL));
	for (i = 0; i < 300 && !atomic_load(&notified); i++)
		usleep(10000);
	EXPECT_EQ(1, atomic_load(&notified));
}

/* mq_close() drops this process's registration: another may register. */
TEST_F(mq, close_drops_the_notification)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD,
		.sigev_notify_function = on_notify,
	};
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	mqd_t q2 = mq_open(self->name, O_RDWR);
	pid_t pid;

	ASSERT_LE(0, q2);
	ASSERT_EQ(0, mq_notify(q2, &sev));
	ASSERT_EQ(0, mq_close(q2));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(mq_notify(self->q, &none) ? errno : 0);
	EXPECT_EQ(0, kt_wait(pid));
}

static void *mq_receiver(void *arg)
{
	mqd_t q = *(mqd_t *)arg;
	char msg[16];

	mq_receive(q, msg, sizeof(msg), NULL);
	return (void *)1;
}

/* Cancelled in mq_receive: cancelled there, and no message taken. */
TEST_F(mq, receive_is_a_cancellation_point_that_keeps_the_message)
{
	char msg[16];
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, mq_receiver, &self->q));
	usleep(100000);
	ASSERT_EQ(0, pthread_cancel(t));
	EXPECT_EQ(PTHREAD_CANCELED, join_within(t));
	ASSERT_EQ(0, mq_send(self->q, "x", 1, 0));
	EXPECT_EQ(1, mq_receive(self->q, msg, sizeof(msg), NULL));
}

/* ------------------------------------------------- cancellation */

/*
 * Calls that are no cancellation points in glibc: made with a cancel
 * pending, they return, and the thread goes on to pthread_testcancel().
 */
struct nocancel {
	int step;		/* the last call that returned */
	int fd;			/* closed by the test: close() is one */
};

static void *nocancel_thread(void *arg)
{
	struct nocancel *nc = arg;
	char name[64];
	sem_t *s;
	int fd, v, id;
	mqd_t q;

	snprintf(name, sizeof(name), "/kipc-conform-nc-%d", getpid());
	pthread_cancel(pthread_self());
	fd = shm_open(name, O_CREAT | O_RDWR, 0600);
	nc->step = 1;
	nc->fd = fd;
	shm_unlink(name);
	nc->step = 2;
	s = sem_open(name, O_CREAT, 0600, 0);
	nc->step = 3;
	if (s != SEM_FAILED) {
		sem_post(s);
		nc->step = 4;
		sem_getvalue(s, &v);
		nc->step = 5;
		sem_trywait(s);
		nc->step = 6;
		sem_close(s);
		nc->step = 7;
	}
	sem_unlink(name);
	nc->step = 8;
	q = mq_open(name, O_CREAT | O_RDWR, 0600, NULL);
	nc->step = 9;
	if (q >= 0)
		mq_close(q);
	nc->step = 10;
	mq_unlink(name);
	nc->step = 11;
	id = msgget(IPC_PRIVATE, 0600);
	nc->step = 12;
	if (id >= 0)
		msgctl(id, IPC_RMID, NULL);
	nc->step = 13;
	pthread_testcancel();
	nc->step = 100;
	return NULL;
}

TEST(non_blocking_calls_are_no_cancellation_points)
{
	struct nocancel nc = { .fd = -1 };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, nocancel_thread, &nc));
	EXPECT_EQ(PTHREAD_CANCELED, join_within(t));
	EXPECT_EQ(13, nc.step) TH_LOG("cancelled after step %d", nc.step);
	if (nc.fd >= 0)
		close(nc.fd);
}

static void *sem_waiter(void *arg)
{
	sem_wait(arg);
	return (void *)1;
}

/*
 * A named semaphore, so that the layer routes it (sem_init() ones are
 * glibc's under the layer too): unlinked at once, it lives until closed.
 */
static sem_t *named_sem(const char *tag, unsigned int value)
{
	char name[64];
	sem_t *s;

	snprintf(name, sizeof(name), "/kipc-conform-%s-%d", tag, getpid());
	sem_unlink(name);
	s = sem_open(name, O_CREAT | O_EXCL, 0600, value);
	sem_unlink(name);
	return s;
}

TEST(sem_wait_is_a_cancellation_point_that_keeps_the_count)
{
	sem_t *s = named_sem("cw", 0);
	pthread_t t;
	int v;

	ASSERT_NE(SEM_FAILED, s);
	ASSERT_EQ(0, pthread_create(&t, NULL, sem_waiter, s));
	usleep(100000);
	ASSERT_EQ(0, pthread_cancel(t));
	EXPECT_EQ(PTHREAD_CANCELED, join_within(t));
	ASSERT_EQ(0, sem_post(s));
	ASSERT_EQ(0, sem_getvalue(s, &v));
	EXPECT_EQ(1, v);
	sem_close(s);
}

/* POSIX: sem_wait must act on a pending cancel even if it need not wait. */
static void *sem_taker(void *arg)
{
	pthread_cancel(pthread_self());
	sem_wait(arg);
	return (void *)1;
}

TEST(sem_wait_acts_on_a_pending_cancel_without_blocking)
{
	sem_t *s = named_sem("cp", 1);
	pthread_t t;
	int v;

	ASSERT_NE(SEM_FAILED, s);
	ASSERT_EQ(0, pthread_create(&t, NULL, sem_taker, s));
	EXPECT_EQ(PTHREAD_CANCELED, join_within(t));
	ASSERT_EQ(0, sem_getvalue(s, &v));
	EXPECT_EQ(1, v);
	sem_close(s);
}

static void *msg_receiver(void *arg)
{
	struct { long type; char text[8]; } m;

	msgrcv(*(int *)arg, &m, sizeof(m.text), 0, 0);
	return (void *)1;
}

TEST(msgrcv_is_a_cancellation_point_that_keeps_the_message)
{
	struct { long type; char text[8]; } m = { 1, "x" };
	int id = msgget(IPC_PRIVATE, 0600);
	pthread_t t;

	ASSERT_LE(0, id);
	ASSERT_EQ(0, pthread_create(&t, NULL, msg_receiver, &id));
	usleep(100000);
	ASSERT_EQ(0, pthread_cancel(t));
	EXPECT_EQ(PTHREAD_CANCELED, join_within(t));
	ASSERT_EQ(0, msgsnd(id, &m, 1, 0));
	EXPECT_EQ(1, msgrcv(id, &m, sizeof(m.text), 0, IPC_NOWAIT));
	msgctl(id, IPC_RMID, NULL);
}

static void *semop_waiter(void *arg)
{
	struct sembuf op = { .sem_num = 0, .sem_op = -1 };

	semop(*(int *)arg, &op, 1);
	return (void *)1;
}

/*
 * glibc's semop() and semtimedop() are plain system calls, no
 * cancellation points: a cancelled waiter stays blocked, then takes the
 * count it waited for and returns.
 */
TEST(semop_is_no_cancellation_point)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 1 };
	int id = semget(IPC_PRIVATE, 1, 0600);
	struct timespec ts;
	void *res = NULL;
	pthread_t t;

	ASSERT_LE(0, id);
	ASSERT_EQ(0, pthread_create(&t, NULL, semop_waiter, &id));
	usleep(100000);
	ASSERT_EQ(0, pthread_cancel(t));
	ts = in_ms(CLOCK_REALTIME, 300);
	EXPECT_EQ(ETIMEDOUT, pthread_timedjoin_np(t, &res, &ts));
	ASSERT_EQ(0, semop(id, &op, 1));
	EXPECT_EQ((void *)1, join_within(t));
	EXPECT_EQ(0, semctl(id, 0, GETVAL));
	semctl(id, 0, IPC_RMID);
}

/* ------------------------------------------------- POSIX semaphores */

TEST(sem_open_twice_returns_the_same_address)
{
	char name[64];
	sem_t *a, *b;

	snprintf(name, sizeof(name), "/kipc-conform-same-%d", getpid());
	sem_unlink(name);
	a = sem_open(name, O_CREAT, 0600, 0);
	ASSERT_NE(SEM_FAILED, a);
	b = sem_open(name, 0);
	ASSERT_NE(SEM_FAILED, b);
	EXPECT_EQ(a, b);
	/* One close per open: the second still works after the first. */
	EXPECT_EQ(0, sem_close(a));
	EXPECT_EQ(0, sem_post(b));
	EXPECT_EQ(0, sem_close(b));
	sem_unlink(name);
}

/* ------------------------------------------------- POSIX shm */

TEST(shm_ftruncate_read_only_is_einval)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "/kipc-conform-ro-%d", getpid());
	shm_unlink(name);
	fd = shm_open(name, O_CREAT | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	fd = shm_open(name, O_RDONLY, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ftruncate(fd, 4096));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	shm_unlink(name);
}

/* The first IPC call of a process: its fd is the lowest free one. */
TEST(shm_open_returns_the_lowest_free_fd)
{
	char name[64];
	int lowest, fd;

	snprintf(name, sizeof(name), "/kipc-conform-low-%d", getpid());
	lowest = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, lowest);
	close(lowest);
	fd = shm_open(name, O_CREAT | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(lowest, fd);
	close(fd);
	shm_unlink(name);
}

/* ------------------------------------------------- SysV shm */

FIXTURE(sshm) {
	int id;
};

FIXTURE_SETUP(sshm)
{
	self->id = shmget(IPC_PRIVATE, 4096, 0600);
	ASSERT_LE(0, self->id);
}

FIXTURE_TEARDOWN(sshm)
{
	shmctl(self->id, IPC_RMID, NULL);
}

/* CVE-2017-5669: rounding 1 down with SHM_RND must not map page 0. */
TEST_F(sshm, shmat_rounded_to_zero_with_remap_is_einval)
{
	void *p = shmat(self->id, (void *)1, SHM_RND | SHM_REMAP);

	EXPECT_EQ((void *)-1, p);
	EXPECT_EQ(EINVAL, errno);
	if (p != (void *)-1)
		shmdt(p);
}

TEST_F(sshm, shmat_unaligned_without_rnd_is_einval)
{
	char *hint = mmap(NULL, 3 * 4096, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *p;

	ASSERT_NE(MAP_FAILED, hint);
	munmap(hint, 3 * 4096);
	p = shmat(self->id, hint + 4096 + 8, 0);
	EXPECT_EQ((void *)-1, p);
	EXPECT_EQ(EINVAL, errno);
	if (p != (void *)-1)
		shmdt(p);
}

/* An address below vm.mmap_min_addr: only CAP_SYS_RAWIO may map there. */
TEST_F(sshm, shmat_below_mmap_min_addr_is_refused)
{
	unsigned long min = 0;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
	void *p;

	if (f) {
		if (fscanf(f, "%lu", &min) != 1)
			min = 0;
		fclose(f);
	}
	if (kt_is_root())
		SKIP(return, "root may map below mmap_min_addr");
	if (min <= 4096)
		SKIP(return, "no page is below mmap_min_addr (%lu)", min);
	p = shmat(self->id, (void *)(min - 4096), 0);
	EXPECT_EQ((void *)-1, p);
	EXPECT_EQ(EPERM, errno);
	if (p != (void *)-1)
		shmdt(p);
}

TEST_F(sshm, shmget_larger_than_the_segment_is_einval)
{
	key_t key = 0x6b690000 | (getpid() & 0xffff);
	int id = shmget(key, 4096, IPC_CREAT | 0600);

	ASSERT_LE(0, id);
	EXPECT_EQ(-1, shmget(key, 8192, IPC_CREAT | 0600));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(id, shmget(key, 4096, IPC_CREAT | 0600));
	shmctl(id, IPC_RMID, NULL);
}

TEST_F(sshm, shm_hugetlb_unprivileged_is_eperm)
{
	int id;

	if (kt_is_root())
		SKIP(return, "the privilege check needs an unprivileged user");
	id = shmget(IPC_PRIVATE, 2 << 20, IPC_CREAT | SHM_HUGETLB | 0600);
	EXPECT_EQ(-1, id);
	EXPECT_EQ(EPERM, errno);
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
}

/* ------------------------------------------------- SysV queues */

FIXTURE(msg) {
	int id;
};

FIXTURE_SETUP(msg)
{
	self->id = msgget(IPC_PRIVATE, 0600);
	ASSERT_LE(0, self->id);
}

FIXTURE_TEARDOWN(msg)
{
	msgctl(self->id, IPC_RMID, NULL);
}

TEST_F(msg, msgsnd_bad_buffer_is_efault)
{
	EXPECT_EQ(-1, msgsnd(self->id, kt_bad_ptr(), 8, IPC_NOWAIT));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(msg, msgrcv_bad_buffer_is_efault)
{
	struct { long type; char text[8]; } m = { 1, "x" };

	ASSERT_EQ(0, msgsnd(self->id, &m, 1, 0));
	EXPECT_EQ(-1, msgrcv(self->id, kt_bad_ptr(), 8, 0, IPC_NOWAIT));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(msg, msgrcv_nowait_by_type_on_empty_is_enomsg)
{
	struct { long type; char text[8]; } m;

	EXPECT_EQ(-1, msgrcv(self->id, &m, sizeof(m.text), 3, IPC_NOWAIT));
	EXPECT_EQ(ENOMSG, errno);
	EXPECT_EQ(-1, msgrcv(self->id, &m, sizeof(m.text), -3, IPC_NOWAIT));
	EXPECT_EQ(ENOMSG, errno);
}

/* ------------------------------------------------- SysV semaphores */

TEST(semop_bad_array_is_efault)
{
	int id = semget(IPC_PRIVATE, 1, 0600);

	ASSERT_LE(0, id);
	EXPECT_EQ(-1, semop(id, kt_bad_ptr(), 1));
	EXPECT_EQ(EFAULT, errno);
	semctl(id, 0, IPC_RMID);
}

TEST(semtimedop_bad_timeout_is_efault)
{
	struct sembuf op = { .sem_num = 0, .sem_op = -1 };
	int id = semget(IPC_PRIVATE, 1, 0600);

	ASSERT_LE(0, id);
	EXPECT_EQ(-1, semtimedop(id, &op, 1, kt_bad_ptr()));
	EXPECT_EQ(EFAULT, errno);
	semctl(id, 0, IPC_RMID);
}

/* ------------------------------------------------- permissions */

/*
 * SysV checks the caller's credentials on each call: what a process
 * could do as root, it can no longer do once it is nobody.
 */
TEST(msgsnd_after_dropping_privileges_is_eacces)
{
	struct { long type; char text[8]; } m = { 1, "x" };
	int id;
	pid_t pid;

	if (!kt_is_root())
		SKIP(return, "needs root to drop privileges");
	id = msgget(IPC_PRIVATE, 0600);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, msgsnd(id, &m, 1, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_become_nobody())
			_exit(100);
		if (msgsnd(id, &m, 1, IPC_NOWAIT) == 0)
			_exit(0);
		_exit(errno);
	}
	EXPECT_EQ(EACCES, kt_wait(pid));
	msgctl(id, IPC_RMID, NULL);
}

/* A mode the owner takes away stops the other user's next call. */
TEST(msgsnd_after_the_owner_revokes_access_is_eacces)
{
	struct { long type; char text[8]; } m = { 1, "x" };
	int id, sock[2];
	struct msqid_ds ds;
	pid_t pid;
	char c;

	if (!kt_is_root())
		SKIP(return, "needs root to make another user's queue");
	id = msgget(IPC_PRIVATE, 0666);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sock));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_become_nobody() || msgsnd(id, &m, 1, IPC_NOWAIT))
			_exit(100);
		if (write(sock[1], "1", 1) != 1 || read(sock[1], &c, 1) != 1)
			_exit(101);
		if (msgsnd(id, &m, 1, IPC_NOWAIT) == 0)
			_exit(0);
		_exit(errno);
	}
	ASSERT_EQ(1, read(sock[0], &c, 1));
	ASSERT_EQ(0, msgctl(id, IPC_STAT, &ds));
	ds.msg_perm.mode = 0600;
	ASSERT_EQ(0, msgctl(id, IPC_SET, &ds));
	ASSERT_EQ(1, write(sock[0], "2", 1));
	EXPECT_EQ(EACCES, kt_wait(pid));
	close(sock[0]);
	close(sock[1]);
	msgctl(id, IPC_RMID, NULL);
}

TEST(ipc_stat_without_read_permission_is_eacces)
{
	struct msqid_ds ds;
	int id;
	pid_t pid;

	if (!kt_is_root())
		SKIP(return, "needs root to make another user's queue");
	id = msgget(IPC_PRIVATE, 0622);
	ASSERT_LE(0, id);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_become_nobody())
			_exit(100);
		if (msgctl(id, IPC_STAT, &ds) == 0)
			_exit(0);
		_exit(errno);
	}
	EXPECT_EQ(EACCES, kt_wait(pid));
	msgctl(id, IPC_RMID, NULL);
}

TEST(ipc_rmid_by_non_owner_is_eperm)
{
	int id;
	pid_t pid;

	if (!kt_is_root())
		SKIP(return, "needs root to make another user's queue");
	id = msgget(IPC_PRIVATE, 0666);
	ASSERT_LE(0, id);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_become_nobody())
			_exit(100);
		if (msgctl(id, IPC_RMID, NULL) == 0)
			_exit(0);
		_exit(errno);
	}
	EXPECT_EQ(EPERM, kt_wait(pid));
	msgctl(id, IPC_RMID, NULL);
}

TEST(ipc_set_by_non_owner_is_eperm)
{
	struct msqid_ds ds;
	int id;
	pid_t pid;

	if (!kt_is_root())
		SKIP(return, "needs root to make another user's queue");
	id = msgget(IPC_PRIVATE, 0666);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, msgctl(id, IPC_STAT, &ds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_become_nobody())
			_exit(100);
		if (msgctl(id, IPC_SET, &ds) == 0)
			_exit(0);
		_exit(errno);
	}
	EXPECT_EQ(EPERM, kt_wait(pid));
	msgctl(id, IPC_RMID, NULL);
}

/* ------------------------------------------------- what kipc does not follow */

/*
 * kipc_compat(7), Differences: kipc hands out its own ids, and
 * /proc/sys/kernel/msg_next_id (sem_, shm_) only steers the kernel's.
 */
TEST(msg_next_id_steers_only_the_kernels_ids)
{
	FILE *f;
	int id;

	if (!kt_is_root())
		SKIP(return, "msg_next_id is root's");
	f = fopen("/proc/sys/kernel/msg_next_id", "w");
	if (!f)
		SKIP(return, "no msg_next_id (CONFIG_CHECKPOINT_RESTORE)");
	fprintf(f, "4242\n");
	ASSERT_EQ(0, fclose(f));
	id = msgget(IPC_PRIVATE, 0600);
	ASSERT_LE(0, id);
	if (routed()) {
		EXPECT_NE(4242, id);
	} else {
		EXPECT_EQ(4242, id);
	}
	msgctl(id, IPC_RMID, NULL);
	/* Unused (kipc), the knob stays set: put it back. */
	f = fopen("/proc/sys/kernel/msg_next_id", "w");
	if (f) {
		fprintf(f, "-1\n");
		fclose(f);
	}
}

/*
 * ipcs(1) walks MSG_INFO's highest index with MSG_STAT.  kipc has no
 * index table: MSG_STAT (SEM_, SHM_, and the _ANY forms) is EINVAL, and
 * kipcs(8) lists the objects (kipc_compat(7)).
 */
TEST(msg_stat_by_index_finds_the_queue)
{
	struct msqid_ds ds;
	int id = msgget(IPC_PRIVATE, 0600), max, i, found = -1;

	ASSERT_LE(0, id);
	max = msgctl(0, MSG_INFO, (struct msqid_ds *)&(struct msginfo){ 0 });
	ASSERT_LE(0, max);
	for (i = 0; i <= max && found < 0; i++)
		if (msgctl(i, MSG_STAT, &ds) == id)
			found = i;
	if (routed()) {
		EXPECT_EQ(-1, msgctl(0, MSG_STAT, &ds));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, found);
	} else {
		EXPECT_LE(0, found);
	}
	msgctl(id, IPC_RMID, NULL);
}

/* MSG_COPY (CONFIG_CHECKPOINT_RESTORE) copies the nth message; not kipc. */
TEST(msg_copy_copies_without_taking)
{
	struct { long type; char text[8]; } m = { 5, "x" };
	int id = msgget(IPC_PRIVATE, 0600);
	ssize_t n;

	ASSERT_LE(0, id);
	ASSERT_EQ(0, msgsnd(id, &m, 1, 0));
	n = msgrcv(id, &m, sizeof(m.text), 0, IPC_NOWAIT | MSG_COPY);
	if (routed()) {
		EXPECT_EQ(-1, n);
		EXPECT_EQ(EINVAL, errno);
	} else if (n < 0 && errno == ENOSYS) {
		SKIP(goto out, "no MSG_COPY in this kernel");
	} else {
		EXPECT_EQ(1, n);
	}
	EXPECT_EQ(1, msgrcv(id, &m, sizeof(m.text), 0, IPC_NOWAIT));
out:
	msgctl(id, IPC_RMID, NULL);
}

/* IPC_INFO's shmmax is a real limit: one byte more is EINVAL. */
TEST(shmget_past_ipc_info_shmmax_is_einval)
{
	struct shminfo si;

	ASSERT_LE(0, shmctl(0, IPC_INFO, (struct shmid_ds *)&si));
	ASSERT_LT(0, si.shmmax);
	if (si.shmmax == ~0UL)
		SKIP(return, "no size above shmmax");
	EXPECT_EQ(-1, shmget(IPC_PRIVATE, si.shmmax + 1, IPC_CREAT | 0600));
	EXPECT_EQ(EINVAL, errno);
}

/* SHM_LOCK sets SHM_LOCKED in the mode; kipc accepts it and sets none. */
TEST(shm_lock_sets_the_locked_bit)
{
	int id = shmget(IPC_PRIVATE, 4096, 0600);
	struct shmid_ds ds;

	ASSERT_LE(0, id);
	if (shmctl(id, SHM_LOCK, NULL)) {
		shmctl(id, IPC_RMID, NULL);
		SKIP(return, "SHM_LOCK refused: %s", strerror(errno));
	}
	ASSERT_EQ(0, shmctl(id, IPC_STAT, &ds));
	if (routed()) {
		EXPECT_EQ(0, ds.shm_perm.mode & SHM_LOCKED);
	} else {
		EXPECT_EQ(SHM_LOCKED, ds.shm_perm.mode & SHM_LOCKED);
	}
	EXPECT_EQ(0, shmctl(id, SHM_UNLOCK, NULL));
	shmctl(id, IPC_RMID, NULL);
}

/* remap_file_pages(2) works on an attached segment; not on kipc's. */
TEST(remap_file_pages_on_a_segment)
{
	int id = shmget(IPC_PRIVATE, 2 * 4096, 0600), ret;
	char *p;

	ASSERT_LE(0, id);
	p = shmat(id, NULL, 0);
	ASSERT_NE((void *)-1, p);
	ret = remap_file_pages(p, 4096, 0, 1, 0);
	if (routed()) {
		EXPECT_EQ(-1, ret);
	} else {
		EXPECT_EQ(0, ret) TH_LOG("%m");
	}
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
}

struct fifo_waiter {
	sem_t *sem;
	atomic_int *order;
	int woke;		/* 1: first to get a count, 2: second */
};

static void *fifo_wait(void *arg)
{
	struct fifo_waiter *w = arg;

	if (sem_wait(w->sem) == 0)
		w->woke = atomic_fetch_add(w->order, 1) + 1;
	return NULL;
}

/*
 * Under SCHED_FIFO glibc's futex wakes the highest-priority waiter first;
 * kipc wakes waiters in the order they came (kipc_compat(7)).
 */
TEST(sem_post_wakes_by_priority_under_sched_fifo)
{
	struct fifo_waiter low, high;
	struct sched_param sp;
	atomic_int order = 0;
	pthread_attr_t attr;
	sem_t *s = named_sem("fifo", 0);
	pthread_t tl, th;

	ASSERT_NE(SEM_FAILED, s);
	low = (struct fifo_waiter){ .sem = s, .order = &order };
	high = low;
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	sp.sched_priority = 10;
	pthread_attr_setschedparam(&attr, &sp);
	if (pthread_create(&tl, &attr, fifo_wait, &low)) {
		sem_close(s);
		SKIP(return, "SCHED_FIFO threads need CAP_SYS_NICE");
	}
	usleep(100000);			/* the low one waits first */
	sp.sched_priority = 20;
	pthread_attr_setschedparam(&attr, &sp);
	ASSERT_EQ(0, pthread_create(&th, &attr, fifo_wait, &high));
	usleep(100000);
	ASSERT_EQ(0, sem_post(s));
	usleep(200000);
	ASSERT_EQ(0, sem_post(s));
	join_within(tl);
	join_within(th);
	if (routed()) {
		EXPECT_EQ(1, low.woke);
		EXPECT_EQ(2, high.woke);
	} else {
		EXPECT_EQ(1, high.woke);
		EXPECT_EQ(2, low.woke);
	}
	pthread_attr_destroy(&attr);
	sem_close(s);
}

/*
 * Without /dev/kipc the layer says why once, with the cause's own text
 * (ENOENT for a missing node), then fails every call with ENOSYS.
 */
TEST(without_the_device_the_notice_names_the_cause)
{
	char buf[512] = "";
	int pipefd[2], saved;
	ssize_t n;

	if (!routed())
		SKIP(return, "the notice is the layer's");
	if (!kt_is_root())
		SKIP(return, "hiding /dev/kipc needs a mount namespace");
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	/* A private, empty /dev: nothing is created in the real one. */
	ASSERT_EQ(0, mount("none", "/dev", "tmpfs", 0, "size=16k"));
	ASSERT_EQ(0, pipe(pipefd));
	saved = dup(2);
	ASSERT_LE(0, saved);
	dup2(pipefd[1], 2);
	EXPECT_EQ(-1, msgget(IPC_PRIVATE, 0600));
	EXPECT_EQ(ENOSYS, errno);
	dup2(saved, 2);
	close(pipefd[1]);
	n = read(pipefd[0], buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "No such file or directory"))
		TH_LOG("notice: %s", buf);
}

TEST_HARNESS_MAIN
