// SPDX-License-Identifier: GPL-2.0
/*
 * kipc semaphores: semop semantics (atomic arrays, blocking, wait-for-zero,
 * limits), waiting and its ends (hand-off, fairness, timeouts on both
 * clocks, signals, removal, SIGKILL), undo on exit and SIGKILL (whose undo
 * it is, and when, is sem_undo_test's), value control, ncnt/zcnt/pid, poll
 * and epoll, permissions, namespaces and the mapped fast path.  One
 * behaviour per test.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/time.h>

#include "../kselftest_harness.h"
#include "kipc_sem.h"

#define NSEMS	4

FIXTURE(sem) {
	int dev;
	int s;
	uint32_t id;
};

FIXTURE_SETUP(sem)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	self->s = kt_sem(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
			 NSEMS, 0, 0, &self->id);
	ASSERT_LE(0, self->s);
}

FIXTURE_TEARDOWN(sem)
{
	close(self->s);
	close(self->dev);
}

static struct kipc_sembuf op(uint32_t num, int32_t delta, uint32_t flags)
{
	struct kipc_sembuf b = { .num = num, .delta = delta, .flags = flags };

	return b;
}

/* A child blocked in one operation; returns its pid. */
static pid_t spawn_op(int fd, uint32_t num, int32_t delta, uint32_t opflags)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(-kt_sem1(fd, num, delta, opflags, 0, NULL));
	return pid;
}

/* Creation and attributes */

TEST_F(sem, stat_describes_the_set)
{
	struct kipc_stat st;

	ASSERT_EQ(0, kt_stat(self->s, &st));
	EXPECT_EQ(KIPC_TYPE_SEM, st.type);
	EXPECT_EQ(self->id, st.id);
	EXPECT_EQ(NSEMS, st.sem.nsems);
	EXPECT_EQ(0, st.sem.flags);
	EXPECT_EQ(KIPC_SEM_VMX, st.sem.max_value);
	EXPECT_EQ(0, st.sem.otime_ns);
	EXPECT_EQ(0, st.sem.waiters);
	EXPECT_EQ(0, st.sem.undos);
	EXPECT_EQ(0, st.sem.mapped);
}

TEST_F(sem, initial_value_applies_to_every_counter)
{
	int32_t vals[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
	int s = kt_anon_sem(self->dev, 5, 7), i;

	ASSERT_LE(0, s);
	ASSERT_EQ(5, kt_getall(s, vals, 8));
	for (i = 0; i < 5; i++)
		EXPECT_EQ(7, vals[i]);
	EXPECT_EQ(-1, vals[5]);
	close(s);
}

TEST_F(sem, attributes_are_validated)
{
	struct kipc_info info;
	uint64_t attr[6] = { 0 };

	ASSERT_EQ(0, kt_info(self->dev, &info));
	EXPECT_EQ(-EINVAL, kt_sem(self->dev, NULL, KIPC_O_CREAT, 0600, 0, 0, 0,
				  NULL));
	EXPECT_EQ(-EINVAL, kt_sem(self->dev, NULL, KIPC_O_CREAT, 0600,
				  info.max_nsems + 1, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_sem(self->dev, NULL, KIPC_O_CREAT, 0600, 1, 0x2,
				  0, NULL));
	EXPECT_EQ(-EINVAL, kt_sem(self->dev, NULL, KIPC_O_CREAT, 0600, 1, 0,
				  KIPC_SEM_VMX + 1, NULL));
	EXPECT_EQ(-EINVAL, kt_sem(self->dev, NULL, KIPC_O_CREAT, 0600, 2,
				  KIPC_SEM_POSIX, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_sem(self->dev, NULL, KIPC_O_CREAT, 0600, 1,
				  KIPC_SEM_POSIX, 0x80000000u, NULL));
	/* The attribute's reserved word, and the union's unused words. */
	attr[0] = 1;
	attr[1] = 1ULL << 32;
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_SEM, NULL, KIPC_O_CREAT,
				   0600, attr, sizeof(attr), NULL));
	attr[1] = 0;
	attr[5] = 1;
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_SEM, NULL, KIPC_O_CREAT,
				   0600, attr, sizeof(attr), NULL));
}

TEST_F(sem, largest_set_works)
{
	struct kipc_info info;
	int32_t *vals;
	int s;

	ASSERT_EQ(0, kt_info(self->dev, &info));
	s = kt_sem(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		   info.max_nsems, 0, 3, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, kt_sem1(s, info.max_nsems - 1, -3, 0, KIPC_F_NONBLOCK,
			     NULL));
	vals = calloc(info.max_nsems, sizeof(*vals));
	ASSERT_EQ((int)info.max_nsems, kt_getall(s, vals, info.max_nsems));
	EXPECT_EQ(3, vals[0]);
	EXPECT_EQ(0, vals[info.max_nsems - 1]);
	EXPECT_EQ(-EFBIG, kt_sem1(s, info.max_nsems, 1, 0, 0, NULL));
	free(vals);
	close(s);
}

TEST_F(sem, posix_shape_has_one_counter)
{
	struct kipc_stat st;
	int p = kt_sem(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 0,
		       KIPC_SEM_POSIX, KIPC_SEM_VALUE_MAX, NULL);

	ASSERT_LE(0, p);
	ASSERT_EQ(0, kt_stat(p, &st));
	EXPECT_EQ(1, st.sem.nsems);
	EXPECT_EQ(KIPC_SEM_POSIX, st.sem.flags);
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, st.sem.max_value);
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, kt_getval(p, 0));
	EXPECT_EQ(-EFBIG, kt_sem1(p, 1, 1, 0, 0, NULL));
	close(p);
}

TEST_F(sem, named_sets_are_shared_and_unlinked)
{
	char name[64];
	uint32_t id2 = 0;
	int a, b;

	snprintf(name, sizeof(name), "sem-test-%d", getpid());
	a = kt_sem(self->dev, name, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
		   0600, 2, 0, 1, NULL);
	ASSERT_LE(0, a);
	/* Opening by name ignores the attributes: they are the creator's. */
	b = kt_sem(self->dev, name, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 9, 0, 5,
		   &id2);
	ASSERT_LE(0, b);
	EXPECT_EQ(0, kt_sem1(a, 1, 1, 0, 0, NULL));
	EXPECT_EQ(2, kt_getval(b, 1));
	EXPECT_EQ(1, kt_getval(b, 0));
	EXPECT_EQ(-EEXIST, kt_sem(self->dev, name, KIPC_O_CREAT | KIPC_O_EXCL,
				  0600, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_SEM, name));
	EXPECT_EQ(-ENOENT, kt_sem(self->dev, name, KIPC_O_RDWR, 0, 0, 0, 0,
				  NULL));
	/* Still usable through the open fds. */
	EXPECT_EQ(0, kt_sem1(b, 1, -2, 0, KIPC_F_NONBLOCK, NULL));
	close(a);
	close(b);
}

TEST_F(sem, open_by_id_reaches_the_same_set)
{
	uint32_t id = self->id;
	int s2 = kt_sem(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, 0,
			&id);

	ASSERT_LE(0, s2);
	ASSERT_EQ(0, kt_sem1(self->s, 2, 4, 0, 0, NULL));
	EXPECT_EQ(4, kt_getval(s2, 2));
	close(s2);
}

/* Operations */

TEST_F(sem, post_then_wait_without_blocking)
{
	EXPECT_EQ(-EAGAIN, kt_sem1(self->s, 0, -1, 0, KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(0, kt_sem1(self->s, 0, 3, 0, 0, NULL));
	EXPECT_EQ(3, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_sem1(self->s, 0, -2, 0, 0, NULL));
	EXPECT_EQ(-EAGAIN, kt_sem1(self->s, 0, -2, 0, KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(0, kt_sem1(self->s, 0, -1, 0, 0, NULL));
	EXPECT_EQ(0, kt_getval(self->s, 0));
}

TEST_F(sem, zero_waits_for_zero)
{
	EXPECT_EQ(0, kt_sem1(self->s, 1, 0, 0, 0, NULL));
	ASSERT_EQ(0, kt_setval(self->s, 1, 1));
	EXPECT_EQ(-EAGAIN, kt_sem1(self->s, 1, 0, 0, KIPC_F_NONBLOCK, NULL));
}

TEST_F(sem, array_applies_all_or_nothing)
{
	struct kipc_sembuf ops[3] = { op(0, -1, 0), op(1, 5, 0), op(2, -1, 0) };
	int32_t vals[NSEMS];

	ASSERT_EQ(0, kt_setval(self->s, 0, 1));
	/* Counter 2 is 0: nothing moves, not even counter 1's increment. */
	EXPECT_EQ(-EAGAIN, kt_semop(self->s, ops, 3, KIPC_F_NONBLOCK, NULL));
	ASSERT_EQ(NSEMS, kt_getall(self->s, vals, NSEMS));
	EXPECT_EQ(1, vals[0]);
	EXPECT_EQ(0, vals[1]);
	EXPECT_EQ(0, vals[2]);
	ASSERT_EQ(0, kt_setval(self->s, 2, 1));
	EXPECT_EQ(0, kt_semop(self->s, ops, 3, 0, NULL));
	ASSERT_EQ(NSEMS, kt_getall(self->s, vals, NSEMS));
	EXPECT_EQ(0, vals[0]);
	EXPECT_EQ(5, vals[1]);
	EXPECT_EQ(0, vals[2]);
}

TEST_F(sem, array_may_name_a_counter_twice)
{
	struct kipc_sembuf up_down[3] = { op(0, 2, 0), op(0, -1, 0),
					  op(0, -1, 0) };
	struct kipc_sembuf short_by_one[2] = { op(0, 1, 0), op(0, -2, 0) };
	struct kipc_sembuf zero_then_up[2] = { op(0, 0, 0), op(0, 1, 0) };

	EXPECT_EQ(0, kt_semop(self->s, up_down, 3, 0, NULL));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(-EAGAIN, kt_semop(self->s, short_by_one, 2, KIPC_F_NONBLOCK,
				    NULL));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	/* Each operation sees the ones before it. */
	EXPECT_EQ(0, kt_semop(self->s, zero_then_up, 2, 0, NULL));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(-EAGAIN, kt_semop(self->s, zero_then_up, 2, KIPC_F_NONBLOCK,
				    NULL));
}

TEST_F(sem, per_operation_nowait)
{
	struct kipc_sembuf ops[2] = { op(0, 1, 0), op(1, -1, KIPC_SEMOP_NOWAIT) };

	EXPECT_EQ(-EAGAIN, kt_semop(self->s, ops, 2, 0, NULL));
	EXPECT_EQ(0, kt_getval(self->s, 0));
}

TEST_F(sem, fd_nonblock_flag_applies)
{
	int fl = fcntl(self->s, F_GETFL);

	ASSERT_EQ(0, fcntl(self->s, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, kt_sem1(self->s, 0, -1, 0, 0, NULL));
}

TEST_F(sem, bad_arrays_are_rejected)
{
	struct kipc_sembuf ops[KIPC_SEMOP_MAX + 1];
	struct kipc_sembuf bad;
	int i;

	for (i = 0; i <= KIPC_SEMOP_MAX; i++)
		ops[i] = op(i % NSEMS, 1, 0);
	EXPECT_EQ(-EINVAL, kt_semop(self->s, ops, 0, 0, NULL));
	EXPECT_EQ(-E2BIG, kt_semop(self->s, ops, KIPC_SEMOP_MAX + 1, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_semop(self->s, ops, 1, 0x100, NULL));
	EXPECT_EQ(-EFAULT, kt_semop(self->s, kt_bad_ptr(), 1, 0, NULL));
	bad = op(NSEMS, 1, 0);
	EXPECT_EQ(-EFBIG, kt_semop(self->s, &bad, 1, 0, NULL));
	bad = op(0, 1, 0x4);
	EXPECT_EQ(-EINVAL, kt_semop(self->s, &bad, 1, 0, NULL));
	bad = op(0, 1, 0);
	bad.reserved = 1;
	EXPECT_EQ(-EINVAL, kt_semop(self->s, &bad, 1, 0, NULL));
	/* A decrement past the maximum could never proceed. */
	bad = op(0, -KIPC_SEM_VMX - 1, 0);
	EXPECT_EQ(-ERANGE, kt_semop(self->s, &bad, 1, 0, NULL));
	bad = op(0, INT32_MIN, 0);
	EXPECT_EQ(-ERANGE, kt_semop(self->s, &bad, 1, 0, NULL));
	/* The largest array is accepted and applies as one. */
	ASSERT_EQ(0, kt_semop(self->s, ops, KIPC_SEMOP_MAX, 0, NULL));
	EXPECT_EQ(KIPC_SEMOP_MAX / NSEMS, kt_getval(self->s, 0));
}

TEST_F(sem, sysv_values_stop_at_semvmx)
{
	ASSERT_EQ(0, kt_setval(self->s, 0, KIPC_SEM_VMX));
	EXPECT_EQ(-ERANGE, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(KIPC_SEM_VMX, kt_getval(self->s, 0));
	EXPECT_EQ(-ERANGE, kt_sem1(self->s, 1, KIPC_SEM_VMX + 1, 0, 0, NULL));
	ASSERT_EQ(0, kt_setval(self->s, 1, 1));
	EXPECT_EQ(-ERANGE, kt_sem1(self->s, 1, KIPC_SEM_VMX, 0, 0, NULL));
	EXPECT_EQ(0, kt_sem1(self->s, 1, KIPC_SEM_VMX - 1, 0, 0, NULL));
	EXPECT_EQ(-ERANGE, kt_setval(self->s, 2, KIPC_SEM_VMX + 1));
	EXPECT_EQ(-ERANGE, kt_setval(self->s, 2, -1));
}

TEST_F(sem, posix_post_past_max_is_eoverflow)
{
	int p = kt_sem(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1,
		       KIPC_SEM_POSIX, KIPC_SEM_VALUE_MAX - 1, NULL);

	ASSERT_LE(0, p);
	EXPECT_EQ(0, kt_sem1(p, 0, 1, 0, 0, NULL));
	EXPECT_EQ(-EOVERFLOW, kt_sem1(p, 0, 1, 0, 0, NULL));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, kt_getval(p, 0));
	EXPECT_EQ(0, kt_sem1(p, 0, -KIPC_SEM_VALUE_MAX, 0, 0, NULL));
	EXPECT_EQ(0, kt_getval(p, 0));
	close(p);
}

TEST_F(sem, undo_range_is_erange)
{
	ASSERT_EQ(0, kt_setval(self->s, 0, KIPC_SEM_VMX));
	EXPECT_EQ(0, kt_sem1(self->s, 0, -KIPC_SEM_VMX, KIPC_SEMOP_UNDO, 0,
			     NULL));
	EXPECT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	/* The adjustment would pass SEMVMX: refused, nothing changes. */
	EXPECT_EQ(-ERANGE, kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL));
	EXPECT_EQ(1, kt_getval(self->s, 0));
}

/* Values, counts and pids */

TEST_F(sem, setval_getval_and_pid)
{
	struct kipc_semval v;

	ASSERT_EQ(0, kt_semval(self->s, 3, &v));
	EXPECT_EQ(0, v.value);
	EXPECT_EQ(0, v.pid);
	ASSERT_EQ(0, kt_setval(self->s, 3, 9));
	ASSERT_EQ(0, kt_semval(self->s, 3, &v));
	EXPECT_EQ(9, v.value);
	EXPECT_EQ(getpid(), v.pid);
	EXPECT_EQ(-EINVAL, kt_setval(self->s, NSEMS, 1));
	EXPECT_EQ(-EINVAL, kt_semval(self->s, NSEMS, &v));
	v.num = 0;
	v.reserved = 1;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(self->s, KIPC_IOC_SEM_SETVAL, &v)));
}

TEST_F(sem, setval_updates_ctime_and_op_updates_otime)
{
	struct kipc_stat a, b;

	ASSERT_EQ(0, kt_stat(self->s, &a));
	usleep(2000);
	ASSERT_EQ(0, kt_setval(self->s, 0, 1));
	ASSERT_EQ(0, kt_stat(self->s, &b));
	EXPECT_LT(a.ctime_ns, b.ctime_ns);
	EXPECT_EQ(0, b.sem.otime_ns);
	ASSERT_EQ(0, kt_sem1(self->s, 0, -1, 0, 0, NULL));
	ASSERT_EQ(0, kt_stat(self->s, &b));
	EXPECT_LT(0, b.sem.otime_ns);
}

TEST_F(sem, getall_and_setall)
{
	int32_t in[NSEMS] = { 1, 2, 3, 4 }, out[NSEMS + 2];

	EXPECT_EQ(-EINVAL, kt_setall(self->s, in, NSEMS - 1));
	EXPECT_EQ(-EINVAL, kt_setall(self->s, in, NSEMS + 1));
	ASSERT_EQ(0, kt_setall(self->s, in, NSEMS));
	EXPECT_EQ(-EINVAL, kt_getall(self->s, out, NSEMS - 1));
	ASSERT_EQ(NSEMS, kt_getall(self->s, out, NSEMS + 2));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	/* One bad value refuses all of them. */
	in[0] = 0;
	in[3] = KIPC_SEM_VMX + 1;
	EXPECT_EQ(-ERANGE, kt_setall(self->s, in, NSEMS));
	in[3] = -1;
	EXPECT_EQ(-ERANGE, kt_setall(self->s, in, NSEMS));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(-EFAULT, kt_setall(self->s, kt_bad_ptr(), NSEMS));
	EXPECT_EQ(-EFAULT, kt_getall(self->s, kt_bad_ptr(), NSEMS));
	EXPECT_EQ(1, kt_getval(self->s, 0));
}

TEST_F(sem, fd_mode_limits_what_it_may_do)
{
	uint32_t id = self->id;
	int ro, wo;

	ro = kt_sem(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDONLY, 0, 0, 0, 0,
		    &id);
	ASSERT_LE(0, ro);
	wo = kt_sem(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_WRONLY, 0, 0, 0, 0,
		    &id);
	ASSERT_LE(0, wo);
	/* Reading: values and waiting for zero. */
	EXPECT_EQ(-EBADF, kt_sem1(ro, 0, 1, 0, 0, NULL));
	EXPECT_EQ(-EBADF, kt_setval(ro, 0, 1));
	EXPECT_EQ(0, kt_sem1(ro, 0, 0, 0, 0, NULL));
	EXPECT_EQ(0, kt_getval(ro, 0));
	/* Writing: changing values. */
	EXPECT_EQ(0, kt_sem1(wo, 0, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_setval(wo, 1, 1));
	EXPECT_EQ(-EBADF, kt_getval(wo, 0));
	EXPECT_EQ(-EBADF, kt_sem1(wo, 0, 0, 0, 0, NULL));
	close(ro);
	close(wo);
}

TEST_F(sem, ncnt_and_zcnt_count_blocked_tasks)
{
	pid_t a, b, c;

	a = spawn_op(self->s, 0, -1, 0);
	b = spawn_op(self->s, 0, -2, 0);
	ASSERT_EQ(0, kt_setval(self->s, 1, 1));
	c = spawn_op(self->s, 1, 0, 0);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 2));
	ASSERT_TRUE(kt_sem_until(kt_zcnt(self->s, 1), 1));
	EXPECT_EQ(0, kt_zcnt(self->s, 0));
	EXPECT_EQ(0, kt_ncnt(self->s, 1));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 3, 0, 0, NULL));
	ASSERT_EQ(0, kt_setval(self->s, 1, 0));
	EXPECT_EQ(0, kt_wait(a));
	EXPECT_EQ(0, kt_wait(b));
	EXPECT_EQ(0, kt_wait(c));
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
	EXPECT_EQ(0, kt_zcnt(self->s, 1));
}

/* SUSv4: a task counts only on the counter of its first blocking operation. */
TEST_F(sem, array_waiter_counts_on_first_blocking_counter)
{
	struct kipc_stat st;
	pid_t pid;

	ASSERT_EQ(0, kt_setval(self->s, 0, 1));
	ASSERT_EQ(0, kt_setval(self->s, 2, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_sembuf ops[4] = { op(0, -1, 0), op(1, -1, 0),
					      op(2, 0, 0), op(3, -1, 0) };

		_exit(-kt_semop(self->s, ops, 4, 0, NULL));
	}
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 1), 1));
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
	EXPECT_EQ(0, kt_zcnt(self->s, 2));
	EXPECT_EQ(0, kt_ncnt(self->s, 3));
	ASSERT_EQ(0, kt_stat(self->s, &st));
	EXPECT_EQ(1, st.sem.waiters);
	/* Counter 1 frees: it moves on to wait for counter 2 to be zero. */
	ASSERT_EQ(0, kt_sem1(self->s, 1, 1, 0, 0, NULL));
	ASSERT_TRUE(kt_sem_until(kt_zcnt(self->s, 2), 1));
	EXPECT_EQ(0, kt_ncnt(self->s, 1));
	/* Then on counter 3. */
	ASSERT_EQ(0, kt_setval(self->s, 2, 0));
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 3), 1));
	EXPECT_EQ(0, kt_zcnt(self->s, 2));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	ASSERT_EQ(0, kt_sem1(self->s, 3, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_getval(self->s, 1));
	EXPECT_EQ(0, kt_getval(self->s, 3));
}

/* Blocking and waking */

TEST_F(sem, waiter_is_handed_the_post_and_reported_as_pid)
{
	struct kipc_semval v;
	pid_t pid = spawn_op(self->s, 0, -1, 0);

	ASSERT_LE(0, pid);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	/* Applied at once on the waiter's behalf: the value never shows 1. */
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, kt_semval(self->s, 0, &v));
	EXPECT_EQ(pid, v.pid);
	EXPECT_EQ(0, v.ncnt);
}

TEST_F(sem, one_post_wakes_one_waiter)
{
	pid_t pids[3];
	int i, done = 0, status;

	for (i = 0; i < 3; i++) {
		pids[i] = spawn_op(self->s, 0, -1, 0);
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 3));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 2));
	/* The one granted returns, however slow the machine... */
	for (i = 0; i < 10000 && !done; i++) {
		if (waitpid(-1, &status, WNOHANG) > 0)
			done++;
		else
			usleep(1000);
	}
	EXPECT_EQ(1, done);
	/* ...and it was only one: the others still wait. */
	usleep(50000);
	EXPECT_EQ(0, waitpid(-1, &status, WNOHANG));
	EXPECT_EQ(2, kt_ncnt(self->s, 0));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 2, 0, 0, NULL));
	while (waitpid(-1, &status, 0) > 0)
		;
	EXPECT_EQ(0, kt_getval(self->s, 0));
}

TEST_F(sem, waiters_are_served_in_arrival_order)
{
	_Atomic int *order = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[5];
	int i;

	ASSERT_NE(MAP_FAILED, order);
	for (i = 0; i < 5; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			if (kt_sem1(self->s, 0, -1, 0, 0, NULL))
				_exit(1);
			order[1 + atomic_fetch_add(&order[0], 1)] = i;
			_exit(0);
		}
		ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), i + 1));
	}
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
		EXPECT_EQ(0, kt_wait(pids[i]));
	}
	for (i = 0; i < 5; i++)
		EXPECT_EQ(i, order[1 + i]);
	munmap(order, 4096);
}

TEST_F(sem, smaller_request_is_not_held_up_by_larger)
{
	pid_t big, small;

	big = spawn_op(self->s, 0, -5, 0);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	small = spawn_op(self->s, 0, -1, 0);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 2));
	/* As SysV: a waiter that cannot proceed does not block later ones. */
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(small));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 5, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(big));
}

TEST_F(sem, zero_waiters_all_wake)
{
	enum { N = 20 };
	pid_t pids[N];
	int i;

	/* A barrier: more waiters than one batch of wake-ups. */
	ASSERT_EQ(0, kt_setval(self->s, 2, 1));
	for (i = 0; i < N; i++) {
		pids[i] = spawn_op(self->s, 2, 0, 0);
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_TRUE(kt_sem_until(kt_zcnt(self->s, 2), N));
	ASSERT_EQ(0, kt_sem1(self->s, 2, -1, 0, 0, NULL));
	for (i = 0; i < N; i++)
		EXPECT_EQ(0, kt_wait(pids[i]));
	EXPECT_EQ(0, kt_zcnt(self->s, 2));
}

TEST_F(sem, many_waiters_wake_in_one_go)
{
	enum { N = 40 };
	pid_t pids[N];
	int i;

	/* More than one batch of deferred wake-ups. */
	for (i = 0; i < N; i++) {
		pids[i] = spawn_op(self->s, 1, -1, 0);
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 1), N));
	ASSERT_EQ(0, kt_sem1(self->s, 1, N, 0, 0, NULL));
	for (i = 0; i < N; i++)
		EXPECT_EQ(0, kt_wait(pids[i]));
	EXPECT_EQ(0, kt_getval(self->s, 1));
}

TEST_F(sem, zero_wait_after_own_decrement_is_retried)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Proceeds only when counter 0 is exactly 1. */
		struct kipc_sembuf ops[2] = { op(0, -1, 0), op(0, 0, 0) };

		_exit(-kt_semop(self->s, ops, 2, 0, NULL));
	}
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	ASSERT_EQ(0, kt_setval(self->s, 0, 2));
	ASSERT_TRUE(kt_sem_until(kt_zcnt(self->s, 0), 1));
	ASSERT_EQ(0, kt_sem1(self->s, 0, -1, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
}

TEST_F(sem, waiter_completing_unblocks_the_next)
{
	pid_t first, second;

	/* first's array raises counter 1, which second waits for. */
	first = fork();
	ASSERT_LE(0, first);
	if (first == 0) {
		struct kipc_sembuf ops[2] = { op(0, -1, 0), op(1, 1, 0) };

		_exit(-kt_semop(self->s, ops, 2, 0, NULL));
	}
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	second = spawn_op(self->s, 1, -1, 0);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 1), 1));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(first));
	EXPECT_EQ(0, kt_wait(second));
	EXPECT_EQ(0, kt_getval(self->s, 1));
}

static void *post_later(void *arg)
{
	int fd = *(int *)arg;

	usleep(50000);
	kt_sem1(fd, 0, 1, 0, 0, NULL);
	return NULL;
}

TEST_F(sem, thread_posts_to_blocked_thread)
{
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, post_later, &self->s));
	EXPECT_EQ(0, kt_sem1(self->s, 0, -1, 0, 0, NULL));
	pthread_join(t, NULL);
}

/* Timeouts, signals, removal */

TEST_F(sem, relative_timeout_expires)
{
	struct kipc_timeout to = kt_rel_ms(100);
	int64_t t0 = kt_now_ms();

	EXPECT_EQ(-ETIMEDOUT, kt_sem1(self->s, 0, -1, 0, KIPC_F_TIMED, &to));
	EXPECT_LE(95, kt_now_ms() - t0);
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
}

TEST_F(sem, absolute_timeouts_on_both_clocks)
{
	struct kipc_timeout mono = kt_abs_ms(CLOCK_MONOTONIC, 60), real;
	int64_t t0 = kt_now_ms();

	EXPECT_EQ(-ETIMEDOUT, kt_sem1(self->s, 0, -1, 0,
				      KIPC_F_TIMED | KIPC_F_ABSTIME, &mono));
	EXPECT_LE(55, kt_now_ms() - t0);
	t0 = kt_now_ms();
	real = kt_abs_ms(CLOCK_REALTIME, 60);
	ASSERT_EQ(0, kt_setval(self->s, 1, 1));
	EXPECT_EQ(-ETIMEDOUT, kt_sem1(self->s, 1, 0, 0,
				      KIPC_F_TIMED | KIPC_F_ABSTIME, &real));
	EXPECT_LE(55, kt_now_ms() - t0);
}

TEST_F(sem, past_deadline_times_out_unless_it_can_proceed)
{
	struct kipc_timeout past = { .tv_sec = 1, .clockid = CLOCK_REALTIME };

	EXPECT_EQ(-ETIMEDOUT, kt_sem1(self->s, 0, -1, 0,
				      KIPC_F_TIMED | KIPC_F_ABSTIME, &past));
	ASSERT_EQ(0, kt_setval(self->s, 0, 1));
	EXPECT_EQ(0, kt_sem1(self->s, 0, -1, 0, KIPC_F_TIMED | KIPC_F_ABSTIME,
			     &past));
}

TEST_F(sem, timeout_is_met_by_a_post)
{
	struct kipc_timeout to = kt_rel_ms(5000);
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, post_later, &self->s));
	EXPECT_EQ(0, kt_sem1(self->s, 0, -1, 0, KIPC_F_TIMED, &to));
	pthread_join(t, NULL);
}

TEST_F(sem, invalid_timeouts_are_einval)
{
	struct kipc_timeout to = { .tv_nsec = 1000000000L };

	EXPECT_EQ(-EINVAL, kt_sem1(self->s, 0, -1, 0, KIPC_F_TIMED, &to));
	to = kt_abs_ms(CLOCK_MONOTONIC, 10);
	to.clockid = CLOCK_PROCESS_CPUTIME_ID;
	EXPECT_EQ(-EINVAL, kt_sem1(self->s, 0, -1, 0,
				   KIPC_F_TIMED | KIPC_F_ABSTIME, &to));
	EXPECT_EQ(-EINVAL, kt_sem1(self->s, 0, -1, 0, KIPC_F_ABSTIME, NULL));
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(sem, signal_interrupts_blocked_wait)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, kt_sem1(self->s, 0, -1, 0, 0, NULL));
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
	/* A post after the interruption is not lost to the departed waiter. */
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(1, kt_getval(self->s, 0));
}

TEST_F(sem, removal_wakes_every_waiter_with_eidrm)
{
	struct kipc_semval v;
	pid_t pids[6];
	int i;

	ASSERT_EQ(0, kt_setval(self->s, 3, 1));
	for (i = 0; i < 6; i++) {
		pids[i] = spawn_op(self->s, i < 4 ? i % 3 : 3, i < 4 ? -1 : 0,
				   i == 1 ? KIPC_SEMOP_UNDO : 0);
		ASSERT_LE(0, pids[i]);
	}
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 2));
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 1), 1));
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 2), 1));
	ASSERT_TRUE(kt_sem_until(kt_zcnt(self->s, 3), 2));
	ASSERT_EQ(0, kt_ret(ioctl(self->s, KIPC_IOC_REMOVE)));
	for (i = 0; i < 6; i++)
		EXPECT_EQ(EIDRM, kt_wait(pids[i]));
	EXPECT_EQ(-EIDRM, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(-EIDRM, kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL));
	EXPECT_EQ(-EIDRM, kt_semval(self->s, 0, &v));
	EXPECT_EQ(-EIDRM, kt_setval(self->s, 0, 1));
}

TEST_F(sem, killed_waiter_leaves_no_trace)
{
	pid_t pid = spawn_op(self->s, 0, -1, 0);

	ASSERT_LE(0, pid);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid));
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(1, kt_getval(self->s, 0));
}

/* Undo */

TEST_F(sem, undo_reverts_on_exit)
{
	struct kipc_stat st;
	pid_t pid;

	ASSERT_EQ(0, kt_setval(self->s, 0, 2));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_sembuf ops[3] = {
			op(0, -2, KIPC_SEMOP_UNDO), op(1, 3, KIPC_SEMOP_UNDO),
			op(2, 1, 0),
		};

		_exit(-kt_semop(self->s, ops, 3, 0, NULL));
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(2, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_getval(self->s, 1));
	/* Only what was done with undo goes back. */
	EXPECT_EQ(1, kt_getval(self->s, 2));
	ASSERT_EQ(0, kt_stat(self->s, &st));
	EXPECT_EQ(0, st.sem.undos);
}

TEST_F(sem, undo_accumulates_and_cancels)
{
	struct kipc_stat st;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_sem1(self->s, 0, 5, KIPC_SEMOP_UNDO, 0, NULL) ||
		    kt_sem1(self->s, 0, -2, KIPC_SEMOP_UNDO, 0, NULL) ||
		    kt_sem1(self->s, 0, -3, KIPC_SEMOP_UNDO, 0, NULL) ||
		    kt_sem1(self->s, 1, 4, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(1);
		_exit(0);
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_getval(self->s, 1));
	ASSERT_EQ(0, kt_stat(self->s, &st));
	EXPECT_EQ(0, st.sem.undos);
}

TEST_F(sem, undo_is_clamped_like_exit_sem)
{
	int sync[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync[1]);
		if (kt_sem1(self->s, 0, 5, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(1);
		/* Wait for the parent to take 4 of our 5. */
		if (read(sync[0], &c, 1) != 0)
			_exit(2);
		_exit(0);
	}
	close(sync[0]);
	ASSERT_TRUE(kt_sem_until(kt_getval(self->s, 0), 5));
	ASSERT_EQ(0, kt_sem1(self->s, 0, -4, 0, 0, NULL));
	close(sync[1]);
	EXPECT_EQ(0, kt_wait(pid));
	/* 1 - 5 stops at 0. */
	EXPECT_EQ(0, kt_getval(self->s, 0));
}

TEST_F(sem, sigkill_of_holder_hands_count_to_waiter)
{
	int sync[2];
	pid_t holder, waiter;
	char c;

	ASSERT_EQ(0, kt_setval(self->s, 0, 1));
	ASSERT_EQ(0, pipe(sync));
	holder = fork();
	ASSERT_LE(0, holder);
	if (holder == 0) {
		close(sync[0]);
		if (kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(1);
		if (write(sync[1], "h", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	close(sync[1]);
	ASSERT_EQ(1, read(sync[0], &c, 1));
	close(sync[0]);
	waiter = spawn_op(self->s, 0, -1, 0);
	ASSERT_LE(0, waiter);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));

	kill(holder, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(holder));
	EXPECT_EQ(0, kt_wait(waiter));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
}

TEST_F(sem, sigkill_of_blocked_undo_waiter_reverts_earlier_ops)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Hold counter 1, then block on counter 0. */
		if (kt_sem1(self->s, 1, 1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(1);
		kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL);
		_exit(2);
	}
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	EXPECT_EQ(1, kt_getval(self->s, 1));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 1));
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
}

TEST_F(sem, undo_is_not_inherited_by_fork)
{
	pid_t pid;

	ASSERT_EQ(0, kt_sem1(self->s, 0, 2, KIPC_SEMOP_UNDO, 0, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(2, kt_getval(self->s, 0));
}

/* Tell the parent a step is done, and wait for it to look. */
static int step(int tell, int wait)
{
	char c = 's';

	if (write(tell, &c, 1) != 1 || read(wait, &c, 1) != 1)
		return -1;
	return 0;
}

struct inflight {
	int fd;
	int ret;
};

static void *undo_wait(void *arg)
{
	struct inflight *f = arg;

	f->ret = kt_sem1(f->fd, 0, -1, KIPC_SEMOP_UNDO, 0, NULL);
	return NULL;
}

/*
 * In a child holding no other fd of set @id: open it, maybe raise counter
 * 1 with undo first (@hold), block a SEM_UNDO wait on counter 0 in a thread
 * (@t), then close the fd under it.  0, or the child's exit code on failure.
 */
static int close_under_undo_wait(int dev, uint32_t id, bool hold,
				 struct inflight *f, pthread_t *t)
{
	f->fd = kt_sem(dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, 0, &id);
	if (f->fd < 0 ||
	    (hold && kt_sem1(f->fd, 1, 1, KIPC_SEMOP_UNDO, 0, NULL)) ||
	    pthread_create(t, NULL, undo_wait, f))
		return 1;
	if (!kt_sem_until(kt_ncnt(f->fd, 0), 1))
		return 2;
	/* The blocked call keeps the file; the fd goes. */
	close(f->fd);
	return 0;
}

/*
 * A process closes its last fd of a set under its own SEM_UNDO wait: the
 * wait goes on (the call holds the file), and what it and the process did
 * with undo stays until the process exits.
 */
TEST_F(sem, closing_the_fd_under_an_undo_wait_keeps_undo)
{
	int up[2], down[2];
	uint32_t id = self->id;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct inflight f;
		pthread_t t;
		int err;

		close(self->s);
		err = close_under_undo_wait(self->dev, id, true, &f, &t);
		if (err)
			_exit(err);
		if (write(up[1], "c", 1) != 1)
			_exit(3);
		pthread_join(t, NULL);
		if (f.ret)
			_exit(4);
		if (step(up[1], down[0]))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(1, read(up[0], &c, 1));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	ASSERT_EQ(1, read(up[0], &c, 1));
	/* The wait got its count; the child holds it and counter 1. */
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(1, kt_getval(self->s, 1));
	ASSERT_EQ(1, write(down[1], "g", 1));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_getval(self->s, 1));
}

TEST_F(sem, setval_clears_undo_for_its_counter)
{
	int sync[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, kt_setval(self->s, 0, 2));
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_sembuf ops[2] = { op(0, -1, KIPC_SEMOP_UNDO),
					      op(1, 1, KIPC_SEMOP_UNDO) };

		close(sync[1]);
		if (kt_semop(self->s, ops, 2, 0, NULL))
			_exit(1);
		if (read(sync[0], &c, 1) != 0)
			_exit(2);
		_exit(0);
	}
	close(sync[0]);
	ASSERT_TRUE(kt_sem_until(kt_getval(self->s, 1), 1));
	ASSERT_EQ(0, kt_setval(self->s, 0, 5));
	close(sync[1]);
	EXPECT_EQ(0, kt_wait(pid));
	/* Counter 0 keeps the value set; counter 1's undo still ran. */
	EXPECT_EQ(5, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_getval(self->s, 1));
}

TEST_F(sem, setall_clears_all_undo)
{
	int32_t vals[NSEMS] = { 3, 3, 3, 3 };
	int sync[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync[1]);
		if (kt_sem1(self->s, 2, 1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(1);
		if (read(sync[0], &c, 1) != 0)
			_exit(2);
		_exit(0);
	}
	close(sync[0]);
	ASSERT_TRUE(kt_sem_until(kt_getval(self->s, 2), 1));
	ASSERT_EQ(0, kt_setall(self->s, vals, NSEMS));
	close(sync[1]);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(3, kt_getval(self->s, 2));
}

TEST_F(sem, undo_of_removed_set_is_dropped)
{
	pid_t pid;
	int sync[2];
	char c;

	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync[1]);
		if (kt_sem1(self->s, 0, 1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(1);
		if (read(sync[0], &c, 1) != 0)
			_exit(2);
		_exit(0);
	}
	close(sync[0]);
	ASSERT_TRUE(kt_sem_until(kt_getval(self->s, 0), 1));
	ASSERT_EQ(0, kt_ret(ioctl(self->s, KIPC_IOC_REMOVE)));
	close(sync[1]);
	EXPECT_EQ(0, kt_wait(pid));
}

/* Poll */

TEST_F(sem, poll_reports_counter_zero)
{
	struct pollfd pfd = { .fd = self->s, .events = POLLIN };

	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, kt_sem1(self->s, 1, 1, 0, 0, NULL));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(0, kt_ret(ioctl(self->s, KIPC_IOC_REMOVE)));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLERR);
	EXPECT_TRUE(pfd.revents & POLLHUP);
}

TEST_F(sem, poll_wakes_on_post_from_another_process)
{
	struct pollfd pfd = { .fd = self->s, .events = POLLIN };
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(50000);
		_exit(-kt_sem1(self->s, 0, 1, 0, 0, NULL));
	}
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_EQ(0, kt_wait(pid));
}

TEST_F(sem, epoll_waits_on_queues_and_semaphores_together)
{
	struct epoll_event ev, out[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int q = kt_anon_queue(self->dev, 4, 16);
	pid_t pid;

	ASSERT_LE(0, ep);
	ASSERT_LE(0, q);
	ev.events = EPOLLIN;
	ev.data.fd = q;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev));
	ev.data.fd = self->s;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->s, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(50000);
		_exit(-kt_sem1(self->s, 0, 1, 0, 0, NULL));
	}
	ASSERT_EQ(1, epoll_wait(ep, out, 2, 5000));
	EXPECT_EQ(self->s, out[0].data.fd);
	EXPECT_EQ(0, kt_wait(pid));
	/* Taken: no longer readable.  Then the queue's turn. */
	ASSERT_EQ(0, kt_sem1(self->s, 0, -1, 0, 0, NULL));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));
	ASSERT_EQ(0, kt_send(q, "x", 1, 0, 1, 0, NULL));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, 5000));
	EXPECT_EQ(q, out[0].data.fd);
	close(q);
	close(ep);
}

TEST_F(sem, post_taken_by_waiter_does_not_wake_poll)
{
	struct pollfd pfd = { .fd = self->s, .events = POLLIN };
	pid_t pid = spawn_op(self->s, 0, -1, 0);

	ASSERT_LE(0, pid);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

/* Permissions and namespaces */

static int as_nobody(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (kt_become_nobody())
			_exit(100);
		_exit(fn(arg));
	}
	return kt_wait(pid);
}

static int try_open_rdwr(void *arg)
{
	uint32_t id = *(uint32_t *)arg;
	int dev = kt_dev();

	return -kt_sem(dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, 0, &id);
}

static int try_read_only_use(void *arg)
{
	uint32_t id = *(uint32_t *)arg;
	int dev = kt_dev();
	int fd = kt_sem(dev, NULL, KIPC_O_BY_ID | KIPC_O_RDONLY, 0, 0, 0, 0,
			&id);

	if (fd < 0)
		return 10;
	if (kt_getval(fd, 0) != 0)
		return 11;
	if (kt_sem1(fd, 0, 1, 0, 0, NULL) != -EBADF)
		return 12;
	if (kt_ret(ioctl(fd, KIPC_IOC_REMOVE)) != -EPERM)
		return 13;
	return 0;
}

TEST_F(sem, another_user_is_denied)
{
	struct kipc_set set = { .valid = KIPC_SET_MODE, .mode = 0604 };
	uint32_t id = self->id;

	if (!kt_is_root())
		SKIP(return, "needs root to act as a second user");
	EXPECT_EQ(EACCES, as_nobody(try_open_rdwr, &id));
	ASSERT_EQ(0, kt_ret(ioctl(self->s, KIPC_IOC_SET, &set)));
	EXPECT_EQ(0, as_nobody(try_read_only_use, &id));
	EXPECT_EQ(EACCES, as_nobody(try_open_rdwr, &id));
}

static int enter_new_ipc_ns(void)
{
	if (kt_is_root())
		return unshare(CLONE_NEWIPC) ? -errno : 0;
	return unshare(CLONE_NEWUSER | CLONE_NEWIPC) ? -errno : 0;
}

TEST_F(sem, namespaces_are_isolated)
{
	char name[64];
	int s, status;
	uint32_t id = 0;
	pid_t pid;

	snprintf(name, sizeof(name), "sem-ns-%d", getpid());
	s = kt_sem(self->dev, name, KIPC_O_CREAT | KIPC_O_RDWR, 0666, 1, 0, 7,
		   &id);
	ASSERT_LE(0, s);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t cid = id;
		int dev, cs;

		if (enter_new_ipc_ns())
			_exit(200);
		dev = kt_dev();
		if (dev < 0)
			_exit(201);
		if (kt_sem(dev, name, KIPC_O_RDWR, 0, 0, 0, 0, NULL) != -ENOENT)
			_exit(1);
		if (kt_sem(dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, 0,
			   &cid) != -ENOENT)
			_exit(2);
		cs = kt_sem(dev, name, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
			    0600, 1, 0, 1, NULL);
		if (cs < 0)
			_exit(3);
		if (kt_getval(cs, 0) != 1 || kt_sem1(cs, 0, -1, 0, 0, NULL))
			_exit(4);
		/* The inherited fd still reaches the parent's set. */
		if (kt_getval(s, 0) != 7)
			_exit(5);
		_exit(0);
	}
	status = kt_wait(pid);
	if (status == 200)
		SKIP(goto out, "cannot create an IPC namespace here");
	EXPECT_EQ(0, status);
	EXPECT_EQ(7, kt_getval(s, 0));
out:
	kt_unlink(self->dev, KIPC_TYPE_SEM, name);
	close(s);
}

TEST_F(sem, charges_return_to_zero)
{
	struct kipc_info before, after;
	int i, s;

	ASSERT_EQ(0, kt_info(self->dev, &before));
	for (i = 0; i < 200; i++) {
		s = kt_anon_sem(self->dev, 1 + i % 50, 1);
		ASSERT_LE(0, s);
		ASSERT_EQ(0, kt_sem1(s, i % 50, -1, KIPC_SEMOP_UNDO, 0, NULL));
		if (i % 2)
			ASSERT_EQ(0, kt_ret(ioctl(s, KIPC_IOC_REMOVE)));
		close(s);
	}
	ASSERT_EQ(0, kt_info(self->dev, &after));
	EXPECT_EQ(before.user_objects, after.user_objects);
	EXPECT_EQ(before.user_bytes, after.user_bytes);
	EXPECT_EQ(before.objects[KIPC_TYPE_SEM], after.objects[KIPC_TYPE_SEM]);
}

/* The mapped fast path */

TEST_F(sem, mapped_words_show_values_and_owner)
{
	_Atomic uint32_t *w;
	struct kipc_stat st;
	pid_t pid;

	ASSERT_EQ(0, kt_setval(self->s, 1, 5));
	w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, kt_stat(self->s, &st));
	EXPECT_EQ(1, st.sem.mapped);
	/* Nobody waits: every counter is user space's. */
	EXPECT_EQ(0, w[0]);
	EXPECT_EQ(5, w[1]);
	/* A blocked task makes the kernel hold its counter. */
	pid = spawn_op(self->s, 0, -1, 0);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	EXPECT_EQ(KIPC_SEM_KERNEL, w[0]);
	EXPECT_EQ(-EBUSY, kt_fast_trypost(&w[0], KIPC_SEM_VMX));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(pid));
	/* ... and hands it back when nobody waits any more. */
	EXPECT_EQ(0, w[0]);
	munmap((void *)w, NSEMS * sizeof(*w));
}

TEST_F(sem, fast_path_needs_no_system_call)
{
	_Atomic uint32_t *w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);
	struct kipc_stat a, b;
	int i;

	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, kt_sem1(self->s, 2, 1, 0, 0, NULL));
	ASSERT_EQ(0, kt_stat(self->s, &a));
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, kt_fast_trypost(&w[2], KIPC_SEM_VMX));
		ASSERT_EQ(0, kt_fast_trywait(&w[2]));
		ASSERT_EQ(0, kt_fast_trywait(&w[2]));
		ASSERT_EQ(0, kt_fast_trypost(&w[2], KIPC_SEM_VMX));
	}
	ASSERT_EQ(0, kt_fast_trywait(&w[2]));
	EXPECT_EQ(-EAGAIN, kt_fast_trywait(&w[2]));
	ASSERT_EQ(0, kt_stat(self->s, &b));
	/* No operation reached the kernel, yet it sees the value. */
	EXPECT_EQ(a.sem.otime_ns, b.sem.otime_ns);
	EXPECT_EQ(0, kt_getval(self->s, 2));
	ASSERT_EQ(0, kt_fast_trypost(&w[2], KIPC_SEM_VMX));
	EXPECT_EQ(1, kt_getval(self->s, 2));
	EXPECT_EQ(0, kt_sem1(self->s, 2, -1, 0, KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(0, w[2]);
	munmap((void *)w, NSEMS * sizeof(*w));
}

TEST_F(sem, fast_post_wakes_kernel_waiter_through_ioctl)
{
	_Atomic uint32_t *w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);
	pid_t pid;

	ASSERT_NE(NULL, w);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(-kt_fast_wait(self->s, w, 3));
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 3), 1));
	ASSERT_EQ(0, kt_fast_post(self->s, w, 3, KIPC_SEM_VMX));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, w[3]);
	munmap((void *)w, NSEMS * sizeof(*w));
}

TEST_F(sem, polled_counter_stays_with_the_kernel)
{
	_Atomic uint32_t *w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);
	struct pollfd pfd = { .fd = self->s, .events = POLLIN };
	pid_t pid;

	ASSERT_NE(NULL, w);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(50000);
		/* The poller holds counter 0 in the kernel: this posts there. */
		_exit(-kt_fast_post(self->s, w, 0, KIPC_SEM_VMX));
	}
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_fast_wait(self->s, w, 0));
	munmap((void *)w, NSEMS * sizeof(*w));
}

TEST_F(sem, map_is_checked)
{
	uint32_t id = self->id;
	void *p;
	int ro;

	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, self->s, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->s, 4096);
	EXPECT_EQ(MAP_FAILED, p);
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, self->s, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	ro = kt_sem(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDONLY, 0, 0, 0, 0,
		    &id);
	ASSERT_LE(0, ro);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, 4096, PROT_READ | PROT_WRITE));
	munmap(p, 4096);
	close(ro);
}

TEST_F(sem, malicious_writer_cannot_break_the_kernel)
{
	_Atomic uint32_t *w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);
	pid_t pid;

	ASSERT_NE(NULL, w);
	/* Out-of-range values are read as clamped to the maximum. */
	w[0] = 0x7fffffff;
	EXPECT_EQ(KIPC_SEM_VMX, kt_getval(self->s, 0));
	EXPECT_EQ(-ERANGE, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_sem1(self->s, 0, -KIPC_SEM_VMX, 0, 0, NULL));
	/* A forged owner bit: the kernel takes the value bits only. */
	w[1] = KIPC_SEM_KERNEL | 3;
	EXPECT_EQ(3, kt_getval(self->s, 1));
	EXPECT_EQ(0, kt_sem1(self->s, 1, -3, 0, 0, NULL));
	EXPECT_EQ(0, w[1]);
	/* Scribbling over a kernel-held counter changes nothing inside. */
	pid = spawn_op(self->s, 2, -2, 0);
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 2), 1));
	w[2] = 1000;
	EXPECT_EQ(0, kt_getval(self->s, 2));
	ASSERT_EQ(0, kt_sem1(self->s, 2, 1, 0, 0, NULL));
	EXPECT_EQ(1, kt_ncnt(self->s, 2));
	ASSERT_EQ(0, kt_sem1(self->s, 2, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, w[2]);
	munmap((void *)w, NSEMS * sizeof(*w));
}

TEST_F(sem, removal_sends_fast_path_users_to_eidrm)
{
	_Atomic uint32_t *w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);

	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, kt_fast_post(self->s, w, 1, KIPC_SEM_VMX));
	EXPECT_EQ(1, w[1]);
	ASSERT_EQ(0, kt_ret(ioctl(self->s, KIPC_IOC_REMOVE)));
	EXPECT_EQ(KIPC_SEM_KERNEL | 1, w[1]);
	EXPECT_EQ(-EBUSY, kt_fast_trywait(&w[1]));
	EXPECT_EQ(-EIDRM, kt_fast_wait(self->s, w, 1));
	EXPECT_EQ(-EIDRM, kt_fast_post(self->s, w, 0, KIPC_SEM_VMX));
	EXPECT_EQ(KIPC_SEM_KERNEL, w[0]);
	munmap((void *)w, NSEMS * sizeof(*w));
	/* The mapping stayed; a new one is refused like every other call. */
	errno = 0;
	EXPECT_EQ(NULL, kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EIDRM, errno);
}

/*
 * MADV_DONTNEED drops a mapping's pages; the next touch must map the words
 * back, for reading and for writing, with the values they hold.
 */
TEST_F(sem, mapping_is_served_again_after_madv_dontneed)
{
	_Atomic uint32_t *w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);

	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, kt_setval(self->s, 1, 5));
	ASSERT_EQ(0, madvise((void *)w, 4096, MADV_DONTNEED));
	EXPECT_EQ(5, w[1]);
	ASSERT_EQ(0, madvise((void *)w, 4096, MADV_DONTNEED));
	ASSERT_EQ(0, kt_fast_trypost(&w[1], KIPC_SEM_VMX));
	EXPECT_EQ(6, kt_getval(self->s, 1));
	ASSERT_EQ(0, kt_sem1(self->s, 2, 3, 0, 0, NULL));
	EXPECT_EQ(3, w[2]);
	munmap((void *)w, NSEMS * sizeof(*w));
}

TEST_F(sem, readonly_mapping_is_served_again_after_madv_dontneed)
{
	uint32_t id = self->id;
	_Atomic uint32_t *w;
	int ro;

	ro = kt_sem(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDONLY, 0, 0, 0, 0,
		    &id);
	ASSERT_LE(0, ro);
	w = kt_sem_map(ro, NSEMS, PROT_READ);
	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, kt_setval(self->s, 3, 7));
	ASSERT_EQ(0, madvise((void *)w, 4096, MADV_DONTNEED));
	EXPECT_EQ(7, w[3]);
	munmap((void *)w, NSEMS * sizeof(*w));
	close(ro);
}

/* Each page of a set larger than one comes back as itself. */
TEST_F(sem, every_page_is_served_again_after_madv_dontneed)
{
	uint32_t n = 3 * 4096 / sizeof(uint32_t);
	_Atomic uint32_t *w;
	int s = kt_anon_sem(self->dev, n, 0);
	uint32_t i;

	ASSERT_LE(0, s);
	for (i = 0; i < n; i += 1000)
		ASSERT_EQ(0, kt_setval(s, i, i % 32768 / 10 + 1));
	w = kt_sem_map(s, n, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, madvise((void *)w, n * sizeof(*w), MADV_DONTNEED));
	for (i = 0; i < n; i += 1000)
		EXPECT_EQ(i % 32768 / 10 + 1, w[i]) TH_LOG("counter %u", i);
	ASSERT_EQ(0, kt_fast_trypost(&w[n - 1], KIPC_SEM_VMX));
	EXPECT_EQ(1, kt_getval(s, n - 1));
	munmap((void *)w, n * sizeof(*w));
	close(s);
}

/* mremap() moves the mapping; its pages, dropped, come back at the new place. */
TEST_F(sem, moved_mapping_is_served_again_after_madv_dontneed)
{
	_Atomic uint32_t *w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);
	void *to, *moved;

	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, kt_setval(self->s, 0, 9));
	to = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, to);
	moved = mremap((void *)w, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	ASSERT_EQ(to, moved);
	w = moved;
	EXPECT_EQ(9, w[0]);
	/* It cannot grow past the set. */
	EXPECT_EQ(MAP_FAILED, mremap(moved, 4096, 8192, 0));
	ASSERT_EQ(0, madvise(moved, 4096, MADV_DONTNEED));
	EXPECT_EQ(9, w[0]);
	ASSERT_EQ(0, kt_fast_trywait(&w[0]));
	EXPECT_EQ(8, kt_getval(self->s, 0));
	munmap(moved, 4096);
}

struct mapped_wait {
	int fd;
	_Atomic uint32_t *w;
	int ret;
};

static void *fast_wait_thread(void *arg)
{
	struct mapped_wait *m = arg;

	m->ret = kt_fast_wait(m->fd, m->w, 1);
	return NULL;
}

/*
 * A process forks while one of its threads waits in the kernel: the child
 * inherits the mapping, sees the counter held by the kernel, and its post
 * goes through the ioctl to the parent's waiter.
 */
TEST_F(sem, fork_during_a_wait_shares_the_kernel_held_word)
{
	struct mapped_wait m = { .fd = self->s };
	pthread_t t;
	pid_t pid;

	m.w = kt_sem_map(self->s, NSEMS, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m.w);
	ASSERT_EQ(0, pthread_create(&t, NULL, fast_wait_thread, &m));
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 1), 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (!(m.w[1] & KIPC_SEM_KERNEL) ||
		    kt_fast_trypost(&m.w[1], KIPC_SEM_VMX) != -EBUSY)
			_exit(1);
		_exit(-kt_fast_post(self->s, m.w, 1, KIPC_SEM_VMX));
	}
	EXPECT_EQ(0, kt_wait(pid));
	pthread_join(t, NULL);
	EXPECT_EQ(0, m.ret);
	EXPECT_EQ(0, m.w[1]);
	munmap((void *)m.w, NSEMS * sizeof(*m.w));
}

TEST_F(sem, posix_fast_path_reaches_value_max)
{
	int p = kt_sem(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1,
		       KIPC_SEM_POSIX, KIPC_SEM_VALUE_MAX - 1, NULL);
	_Atomic uint32_t *w;

	ASSERT_LE(0, p);
	w = kt_sem_map(p, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, w);
	EXPECT_EQ(0, kt_fast_post(p, w, 0, KIPC_SEM_VALUE_MAX));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, w[0]);
	EXPECT_EQ(-EOVERFLOW, kt_fast_post(p, w, 0, KIPC_SEM_VALUE_MAX));
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, kt_getval(p, 0));
	munmap((void *)w, sizeof(*w));
	close(p);
}

TEST_HARNESS_MAIN
