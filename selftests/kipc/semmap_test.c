// SPDX-License-Identifier: GPL-2.0
/*
 * libkipc's semaphore fast path (kipc_semmap_*): waits and posts in user
 * space while nobody sleeps, through the kernel when someone does, and the
 * kernel's errors where it has the last word.  One behaviour per test.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"
#include "kipc.h"

FIXTURE(sm) {
	int fd;
	struct kipc_semmap m;
};

FIXTURE_SETUP(sm)
{
	struct kipc_sem_attr a = { .nsems = 2 };

	self->fd = kipc_sem_open(NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, &a);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "no " KIPC_DEVICE_PATH " (module not loaded)");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kipc_semmap_attach(&self->m, self->fd));
	ASSERT_EQ(2, self->m.nsems);
	ASSERT_EQ(KIPC_SEM_VMX, self->m.max_value);
}

FIXTURE_TEARDOWN(sm)
{
	kipc_semmap_detach(&self->m);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(sm, uncontended_ops_stay_in_user_space)
{
	struct kipc_semval v = { .num = 1 };
	struct kipc_stat st;

	ASSERT_EQ(0, kipc_semmap_post(&self->m, 1));
	ASSERT_EQ(0, kipc_semmap_post(&self->m, 1));
	ASSERT_EQ(0, kipc_semmap_wait(&self->m, 1, 0, CLOCK_MONOTONIC, NULL));
	/* The kernel saw none of it: no pid, no time stamp; the value is right. */
	ASSERT_EQ(0, kipc_sem_getval(self->fd, &v));
	EXPECT_EQ(1, v.value);
	EXPECT_EQ(0, v.pid);
	ASSERT_EQ(0, kipc_stat(self->fd, &st));
	EXPECT_EQ(0, st.sem.otime_ns);
}

TEST_F(sm, bad_counter_is_efbig)
{
	EXPECT_EQ(-1, kipc_semmap_post(&self->m, 2));
	EXPECT_EQ(EFBIG, errno);
	EXPECT_EQ(-1, kipc_semmap_wait(&self->m, 7, 0, CLOCK_MONOTONIC, NULL));
	EXPECT_EQ(EFBIG, errno);
}

TEST_F(sm, post_past_the_limit_is_erange)
{
	ASSERT_EQ(0, kipc_sem_setval(self->fd, 0, KIPC_SEM_VMX));
	EXPECT_EQ(-1, kipc_semmap_post(&self->m, 0));
	EXPECT_EQ(ERANGE, errno);
	ASSERT_EQ(0, kipc_semmap_wait(&self->m, 0, 0, CLOCK_MONOTONIC, NULL));
	EXPECT_EQ(0, kipc_semmap_post(&self->m, 0));
}

TEST_F(sm, nonblocking_wait_on_zero_is_eagain)
{
	self->m.spin = 10;
	EXPECT_EQ(-1, kipc_semmap_wait(&self->m, 0, KIPC_F_NONBLOCK,
				       CLOCK_MONOTONIC, NULL));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(sm, wait_times_out)
{
	struct timespec ts = { .tv_nsec = 50 * 1000000 };
	int64_t t0 = kt_now_ms();

	EXPECT_EQ(-1, kipc_semmap_wait(&self->m, 0, 0, CLOCK_MONOTONIC, &ts));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(45, kt_now_ms() - t0);
}

/* A sleeper makes the counter the kernel's; the next post must wake it. */
TEST_F(sm, post_wakes_a_sleeper)
{
	struct kipc_semval v = { .num = 0 };
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		self->m.spin = 0;
		_exit(kipc_semmap_wait(&self->m, 0, 0, CLOCK_MONOTONIC, NULL) ? 1 : 0);
	}
	do {
		usleep(1000);
		ASSERT_EQ(0, kipc_sem_getval(self->fd, &v));
	} while (v.ncnt == 0);
	EXPECT_NE(0, self->m.words[0] & KIPC_SEM_KERNEL);
	ASSERT_EQ(0, kipc_semmap_post(&self->m, 0));
	EXPECT_EQ(0, kt_wait(pid));
	/* Nobody waits any more: the counter is back in user space. */
	EXPECT_EQ(0, self->m.words[0]);
}

TEST_F(sm, removal_wakes_a_sleeper_with_eidrm)
{
	struct kipc_semval v = { .num = 1 };
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(!kipc_semmap_wait(&self->m, 1, 0, CLOCK_MONOTONIC, NULL) ? 1 :
		      errno == EIDRM ? 0 : 2);
	do {
		usleep(1000);
		ASSERT_EQ(0, kipc_sem_getval(self->fd, &v));
	} while (v.ncnt == 0);
	ASSERT_EQ(0, kipc_remove(self->fd));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(-1, kipc_semmap_post(&self->m, 1));
	EXPECT_EQ(EIDRM, errno);
}

TEST_F(sm, not_a_semaphore_is_enodev)
{
	struct kipc_region_attr a = { .size = 4096 };
	struct kipc_semmap m;
	int fd = kipc_region_open(NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, &a);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, kipc_semmap_attach(&m, fd));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
}

/*
 * Two processes hand a token back and forth many times, spinning and
 * sleeping as the budget adapts: every hand-off arrives exactly once, so
 * both counters end at zero and the counts match.
 */
static void ping_pong(struct __test_metadata *_metadata, struct kipc_semmap *m,
		      unsigned int spin, int rounds)
{
	struct kipc_semval v;
	int i, status;
	pid_t pid;

	m->spin = spin;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (i = 0; i < rounds; i++)
			if (kipc_semmap_wait(m, 0, 0, CLOCK_MONOTONIC, NULL) ||
			    kipc_semmap_post(m, 1))
				_exit(1);
		_exit(0);
	}
	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(0, kipc_semmap_post(m, 0));
		ASSERT_EQ(0, kipc_semmap_wait(m, 1, 0, CLOCK_MONOTONIC, NULL));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (v.num = 0; v.num < 2; v.num++) {
		ASSERT_EQ(0, kipc_sem_getval(m->fd, &v));
		EXPECT_EQ(0, v.value);
		EXPECT_EQ(0, v.ncnt);
	}
}

TEST_F(sm, ping_pong_spinning)
{
	ping_pong(_metadata, &self->m, KIPC_SEMMAP_SPIN, 20000);
}

TEST_F(sm, ping_pong_sleeping)
{
	ping_pong(_metadata, &self->m, 0, 5000);
}

TEST_HARNESS_MAIN
