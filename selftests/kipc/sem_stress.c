// SPDX-License-Identifier: GPL-2.0
/*
 * Semaphores under contention, each run by at least eight processes that
 * check an invariant in MAP_SHARED memory while they work: a bounded
 * buffer that never overflows or loses an item, readers-writers exclusion,
 * atomic transfers between counters whose sum never changes, a mutex whose
 * holders are killed at random (undo must give it back), and a mutex shared
 * by fast-path (mapped) and system-call users.
 *
 * KIPC_STRESS_OPS sets the operations per process (default 5000; the
 * suite runs in a TCG guest, where every context switch is expensive).
 */
#define _GNU_SOURCE
#include <sched.h>

#include "../kselftest_harness.h"
#include "kipc_sem.h"

static unsigned long ops_per_process(void)
{
	const char *env = getenv("KIPC_STRESS_OPS");

	return env ? strtoul(env, NULL, 0) : 5000;
}

/* A process that hears nothing for this long reports a failure. */
static const struct kipc_timeout patience = { .tv_sec = 60 };

static struct kipc_sembuf op(uint32_t num, int32_t delta, uint32_t flags)
{
	struct kipc_sembuf b = { .num = num, .delta = delta, .flags = flags };

	return b;
}

static int semop_patient(int fd, const struct kipc_sembuf *ops, uint32_t n)
{
	return kt_semop(fd, ops, n, KIPC_F_TIMED, &patience);
}

static void *shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static uint32_t rnd(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 16;
}

/* Run @n children of @fn(i, arg) and return how many failed. */
static int run_children(int n, int (*fn)(int, void *), void *arg)
{
	pid_t pids[64];
	int i, failed = 0;

	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return n;
		if (pids[i] == 0)
			_exit(fn(i, arg));
	}
	for (i = 0; i < n; i++)
		failed += kt_wait(pids[i]) != 0;
	return failed;
}

FIXTURE(stress) {
	int dev;
};

FIXTURE_SETUP(stress)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(stress)
{
	close(self->dev);
}

/* Bounded buffer: 4 producers, 4 consumers */

#define SLOTS		8
#define PRODUCERS	4
#define CONSUMERS	4
enum { EMPTY, FULL, MUTEX };

struct ring {
	int fd;
	unsigned long per;
	_Atomic long tickets;
	_Atomic long errors;
	int count;			/* under MUTEX */
	unsigned int head, tail;	/* under MUTEX */
	uint32_t slot[SLOTS];		/* under MUTEX */
	_Atomic unsigned char seen[];	/* [producer * per + seq] */
};

static int ring_worker(int i, void *arg)
{
	struct ring *r = arg;
	bool producer = i < PRODUCERS;
	/* Producers take a slot and the lock in one step, consumers in two. */
	struct kipc_sembuf enter_p[2] = { op(EMPTY, -1, 0), op(MUTEX, -1, 0) };
	struct kipc_sembuf leave_p[2] = { op(MUTEX, 1, 0), op(FULL, 1, 0) };
	struct kipc_sembuf take_c = op(FULL, -1, 0);
	struct kipc_sembuf lock_c = op(MUTEX, -1, KIPC_SEMOP_UNDO);
	struct kipc_sembuf leave_c[2] = { op(MUTEX, 1, KIPC_SEMOP_UNDO),
					  op(EMPTY, 1, 0) };
	unsigned long k;
	uint32_t item;

	if (producer) {
		for (k = 0; k < r->per; k++) {
			if (semop_patient(r->fd, enter_p, 2))
				return 1;
			if (++r->count > SLOTS)
				atomic_fetch_add(&r->errors, 1);
			r->slot[r->tail++ % SLOTS] = (uint32_t)(i * r->per + k);
			if (semop_patient(r->fd, leave_p, 2))
				return 2;
		}
		return 0;
	}
	/* One ticket per item: exactly that many takes will be satisfied. */
	while (atomic_fetch_add(&r->tickets, 1) < (long)(PRODUCERS * r->per)) {
		if (semop_patient(r->fd, &take_c, 1) ||
		    semop_patient(r->fd, &lock_c, 1))
			return 3;
		if (--r->count < 0)
			atomic_fetch_add(&r->errors, 1);
		item = r->slot[r->head++ % SLOTS];
		if (item >= PRODUCERS * r->per ||
		    atomic_fetch_add(&r->seen[item], 1))
			atomic_fetch_add(&r->errors, 1);
		if (semop_patient(r->fd, leave_c, 2))
			return 4;
	}
	return 0;
}

TEST_F_TIMEOUT(stress, bounded_buffer_never_overflows_or_loses, 600)
{
	unsigned long per = ops_per_process(), i, missing = 0;
	int32_t init[3] = { SLOTS, 0, 1 }, vals[3];
	size_t len;
	struct ring *r;
	int dev = self->dev;

	len = sizeof(*r) + PRODUCERS * per;
	r = shared_alloc(len);
	ASSERT_NE(NULL, r);
	r->per = per;
	r->fd = kt_anon_sem(dev, 3, 0);
	ASSERT_LE(0, r->fd);
	ASSERT_EQ(0, kt_setall(r->fd, init, 3));

	EXPECT_EQ(0, run_children(PRODUCERS + CONSUMERS, ring_worker, r));
	for (i = 0; i < PRODUCERS * per; i++)
		missing += r->seen[i] != 1;
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, r->errors);
	EXPECT_EQ(0, r->count);
	ASSERT_EQ(3, kt_getall(r->fd, vals, 3));
	EXPECT_EQ(SLOTS, vals[EMPTY]);
	EXPECT_EQ(0, vals[FULL]);
	EXPECT_EQ(1, vals[MUTEX]);
	close(r->fd);
	munmap(r, len);
}

/* Readers-writers: 6 readers, 3 writers, writers preferred */

#define READERS		6
#define WRITERS		3
#define ROOM		16
enum { SEATS, WRITERS_WAITING };

struct rw {
	int fd;
	unsigned long per;
	_Atomic int readers_in;
	_Atomic int writers_in;
	_Atomic long errors;
	_Atomic long reads, writes;
};

static int rw_worker(int i, void *arg)
{
	struct rw *s = arg;
	/* A reader waits until no writer is waiting, and takes a seat. */
	struct kipc_sembuf read_enter[2] = { op(WRITERS_WAITING, 0, 0),
					     op(SEATS, -1, KIPC_SEMOP_UNDO) };
	struct kipc_sembuf read_leave = op(SEATS, 1, KIPC_SEMOP_UNDO);
	struct kipc_sembuf announce = op(WRITERS_WAITING, 1, KIPC_SEMOP_UNDO);
	struct kipc_sembuf write_enter = op(SEATS, -ROOM, 0);
	struct kipc_sembuf write_leave[2] = {
		op(SEATS, ROOM, 0), op(WRITERS_WAITING, -1, KIPC_SEMOP_UNDO),
	};
	unsigned long k, n = i < READERS ? s->per : s->per / 8;

	for (k = 0; k < n; k++) {
		if (i < READERS) {
			if (semop_patient(s->fd, read_enter, 2))
				return 1;
			atomic_fetch_add(&s->readers_in, 1);
			if (atomic_load(&s->writers_in))
				atomic_fetch_add(&s->errors, 1);
			atomic_fetch_add(&s->reads, 1);
			atomic_fetch_sub(&s->readers_in, 1);
			if (semop_patient(s->fd, &read_leave, 1))
				return 2;
		} else {
			if (semop_patient(s->fd, &announce, 1) ||
			    semop_patient(s->fd, &write_enter, 1))
				return 3;
			if (atomic_fetch_add(&s->writers_in, 1) ||
			    atomic_load(&s->readers_in))
				atomic_fetch_add(&s->errors, 1);
			atomic_fetch_add(&s->writes, 1);
			sched_yield();
			atomic_fetch_sub(&s->writers_in, 1);
			if (semop_patient(s->fd, write_leave, 2))
				return 4;
		}
	}
	return 0;
}

TEST_F_TIMEOUT(stress, readers_and_writers_exclude_each_other, 600)
{
	struct rw *s = shared_alloc(sizeof(*s));
	int32_t init[2] = { ROOM, 0 }, vals[2];
	int dev = self->dev;

	ASSERT_NE(NULL, s);
	s->per = ops_per_process();
	s->fd = kt_anon_sem(dev, 2, 0);
	ASSERT_LE(0, s->fd);
	ASSERT_EQ(0, kt_setall(s->fd, init, 2));

	EXPECT_EQ(0, run_children(READERS + WRITERS, rw_worker, s));
	EXPECT_EQ(0, s->errors);
	EXPECT_EQ(READERS * s->per, s->reads);
	EXPECT_EQ(WRITERS * (s->per / 8), s->writes);
	ASSERT_EQ(2, kt_getall(s->fd, vals, 2));
	EXPECT_EQ(ROOM, vals[SEATS]);
	EXPECT_EQ(0, vals[WRITERS_WAITING]);
	close(s->fd);
	munmap(s, sizeof(*s));
}

/* Atomic transfers: 8 movers and 2 auditors over 8 counters */

#define COUNTERS	8
#define START		10
#define MOVERS		8
#define AUDITORS	2

struct bank {
	int fd;
	unsigned long per;
	_Atomic int movers_left;
	_Atomic long errors;
	_Atomic long audits, timeouts;
};

static int bank_worker(int i, void *arg)
{
	struct bank *b = arg;
	const struct kipc_timeout brief = kt_rel_ms(5);
	uint32_t seed = 0x9e3779b9u * (i + 1);
	struct kipc_sembuf ops[3];
	int32_t vals[COUNTERS];
	unsigned long k;
	int j, sum, ret, n;

	if (i >= MOVERS) {
		/* Every snapshot must add up, whatever is in flight. */
		while (atomic_load(&b->movers_left)) {
			if (kt_getall(b->fd, vals, COUNTERS) != COUNTERS)
				return 1;
			for (sum = 0, j = 0; j < COUNTERS; j++)
				sum += vals[j];
			if (sum != COUNTERS * START)
				atomic_fetch_add(&b->errors, 1);
			atomic_fetch_add(&b->audits, 1);
			/* Leave the CPUs to the movers most of the time. */
			usleep(100);
		}
		return 0;
	}

	for (k = 0; k < b->per; k++) {
		uint32_t from = rnd(&seed) % COUNTERS;
		uint32_t to = (from + 1 + rnd(&seed) % (COUNTERS - 1)) % COUNTERS;
		int32_t amount = 1 + rnd(&seed) % 3;

		n = 2;
		ops[0] = op(from, -amount, 0);
		ops[1] = op(to, amount, 0);
		if (k % 5 == 0) {
			/* Three counters, one of them twice. */
			ops[1] = op(to, -1, 0);
			ops[2] = op(from, amount + 1, 0);
			n = 3;
		}
		/* Everyone might wait on an empty counter: do not hang. */
		ret = kt_semop(b->fd, ops, n, KIPC_F_TIMED, &brief);
		if (ret == -ETIMEDOUT) {
			atomic_fetch_add(&b->timeouts, 1);
		} else if (ret) {
			atomic_fetch_sub(&b->movers_left, 1);
			return 2;
		}
	}
	atomic_fetch_sub(&b->movers_left, 1);
	return 0;
}

TEST_F_TIMEOUT(stress, array_transfers_keep_the_sum, 600)
{
	struct bank *b = shared_alloc(sizeof(*b));
	int32_t vals[COUNTERS];
	int dev = self->dev, j, sum = 0;

	ASSERT_NE(NULL, b);
	b->per = ops_per_process();
	b->movers_left = MOVERS;
	b->fd = kt_anon_sem(dev, COUNTERS, START);
	ASSERT_LE(0, b->fd);

	EXPECT_EQ(0, run_children(MOVERS + AUDITORS, bank_worker, b));
	EXPECT_EQ(0, b->errors);
	EXPECT_LT(0, b->audits);
	ASSERT_EQ(COUNTERS, kt_getall(b->fd, vals, COUNTERS));
	for (j = 0; j < COUNTERS; j++)
		sum += vals[j];
	EXPECT_EQ(COUNTERS * START, sum);
	TH_LOG("%ld audits, %ld timed out transfers", (long)b->audits,
	       (long)b->timeouts);
	close(b->fd);
	munmap(b, sizeof(*b));
}

/* A mutex whose holders are killed at random: undo must return it */

#define WORKERS		8

struct killing {
	int fd;
	_Atomic int stop;
	_Atomic pid_t owner;
	_Atomic long errors;
	_Atomic long entries;
	_Atomic unsigned char *killed;	/* [pid]: killed by the test */
	long pid_max;
};

static int kill_worker(int i, void *arg)
{
	struct killing *m = arg;
	struct kipc_sembuf lock = op(0, -1, KIPC_SEMOP_UNDO);
	struct kipc_sembuf unlock = op(0, 1, KIPC_SEMOP_UNDO);
	pid_t self = getpid(), prev;

	while (!atomic_load(&m->stop)) {
		if (semop_patient(m->fd, &lock, 1))
			return 1;
		/* The last owner left it, or died holding it. */
		prev = atomic_exchange(&m->owner, self);
		if (prev && (prev >= m->pid_max || !atomic_load(&m->killed[prev])))
			atomic_fetch_add(&m->errors, 1);
		atomic_fetch_add(&m->entries, 1);
		if (i % 2)
			sched_yield();
		atomic_store(&m->owner, 0);
		if (semop_patient(m->fd, &unlock, 1))
			return 2;
	}
	return 0;
}

TEST_F_TIMEOUT(stress, killed_holders_never_lose_the_mutex, 600)
{
	struct killing *m = shared_alloc(sizeof(*m));
	unsigned long kills = ops_per_process() / 25, k;
	uint32_t seed = 12345;
	int dev = self->dev, i, failed = 0;
	pid_t pids[WORKERS];

	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");

	ASSERT_NE(NULL, m);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%ld", &m->pid_max));
	fclose(f);
	m->killed = shared_alloc(m->pid_max);
	ASSERT_NE(NULL, m->killed);
	m->fd = kt_anon_sem(dev, 1, 1);
	ASSERT_LE(0, m->fd);
	for (i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(kill_worker(i, m));
	}
	for (k = 0; k < kills; k++) {
		i = rnd(&seed) % WORKERS;
		usleep(1000 + rnd(&seed) % 2000);
		atomic_store(&m->killed[pids[i]], 1);
		kill(pids[i], SIGKILL);
		if (kt_wait(pids[i]) != 128 + SIGKILL)
			failed++;
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(kill_worker(i, m));
	}
	atomic_store(&m->stop, 1);
	for (i = 0; i < WORKERS; i++)
		failed += kt_wait(pids[i]) != 0;
	EXPECT_EQ(0, failed);
	EXPECT_EQ(0, m->errors);
	EXPECT_EQ(1, kt_getval(m->fd, 0));
	TH_LOG("%lu kills, %ld entries", kills, (long)m->entries);
	munmap((void *)m->killed, m->pid_max);
	close(m->fd);
	munmap(m, sizeof(*m));
}

/* A POSIX semaphore as a mutex, half the users in user space */

struct mixed {
	int fd;
	unsigned long per;
	_Atomic uint32_t *words;
	_Atomic int inside;
	_Atomic long errors;
	long counter;			/* under the mutex, deliberately plain */
};

static int mixed_worker(int i, void *arg)
{
	struct mixed *x = arg;
	const struct kipc_timeout brief = kt_rel_ms(2);
	unsigned long k;
	int ret;

	for (k = 0; k < x->per; k++) {
		if (i % 2 == 0) {
			ret = kt_fast_wait(x->fd, x->words, 0);
		} else if (i % 4 == 1) {
			ret = kt_sem1(x->fd, 0, -1, 0, 0, NULL);
		} else {
			/* Timed waits that may give up, then block. */
			ret = kt_sem1(x->fd, 0, -1, 0, KIPC_F_TIMED, &brief);
			if (ret == -ETIMEDOUT)
				ret = kt_sem1(x->fd, 0, -1, 0, 0, NULL);
		}
		if (ret)
			return 1;
		if (atomic_fetch_add(&x->inside, 1))
			atomic_fetch_add(&x->errors, 1);
		x->counter++;
		atomic_fetch_sub(&x->inside, 1);
		if (i % 2 == 0)
			ret = kt_fast_post(x->fd, x->words, 0,
					   KIPC_SEM_VALUE_MAX);
		else
			ret = kt_sem1(x->fd, 0, 1, 0, 0, NULL);
		if (ret)
			return 2;
	}
	return 0;
}

TEST_F_TIMEOUT(stress, fast_and_slow_paths_share_a_mutex, 600)
{
	struct mixed *x = shared_alloc(sizeof(*x));
	int dev = self->dev;

	ASSERT_NE(NULL, x);
	x->per = ops_per_process();
	x->fd = kt_sem(dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1,
		       KIPC_SEM_POSIX, 1, NULL);
	ASSERT_LE(0, x->fd);
	x->words = kt_sem_map(x->fd, 1, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, x->words);

	EXPECT_EQ(0, run_children(8, mixed_worker, x));
	EXPECT_EQ(0, x->errors);
	EXPECT_EQ(8 * x->per, x->counter);
	EXPECT_EQ(1, kt_getval(x->fd, 0));
	EXPECT_EQ(1, x->words[0]);
	munmap((void *)x->words, sizeof(uint32_t));
	close(x->fd);
	munmap(x, sizeof(*x));
}

TEST_HARNESS_MAIN
