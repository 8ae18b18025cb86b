// SPDX-License-Identifier: GPL-2.0
/*
 * What real programs do with the stock IPC calls, beyond their man pages:
 * PostgreSQL sizes POSIX shared memory with posix_fallocate(), CPython's
 * thread locks are sem_init() semaphores that fork copies, a daemon closes
 * every descriptor it did not open itself, a backend runs out of them.
 * run_all.sh runs this program twice, like compat_test: plain, on the
 * kernel's own IPC, and with LD_PRELOAD=libkipc-preload.so and
 * KIPC_EXPECT_ROUTED=1, on kipc.  Both runs must pass; where kipc cannot
 * match the stock calls (kipc_compat(7), "Differences"), the test says
 * what each run must give.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>

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

/* How many descriptors this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* ------------------------------------------------ shm_open descriptors */

FIXTURE(shmfd) {
	char name[64];
	int fd;
};

FIXTURE_SETUP(shmfd)
{
	snprintf(self->name, sizeof(self->name), "/kipc-progs-%d", getpid());
	shm_unlink(self->name);
	self->fd = shm_open(self->name, O_CREAT | O_EXCL | O_RDWR, 0600);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(shmfd)
{
	close(self->fd);
	shm_unlink(self->name);
}

static off_t fd_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? -1 : st.st_size;
}

/* PostgreSQL's dsm_impl_posix_resize(): ftruncate, then posix_fallocate. */
TEST_F(shmfd, posix_fallocate_sizes_the_object)
{
	char *p;

	ASSERT_EQ(0, posix_fallocate(self->fd, 0, 26976));
	EXPECT_EQ(26976, fd_size(self->fd));
	p = mmap(NULL, 26976, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[26975] = 1;
	munmap(p, 26976);
}

TEST_F(shmfd, posix_fallocate_after_ftruncate_keeps_the_size)
{
	ASSERT_EQ(0, ftruncate(self->fd, 8192));
	EXPECT_EQ(0, posix_fallocate(self->fd, 0, 8192));
	EXPECT_EQ(0, posix_fallocate(self->fd, 100, 100));
	EXPECT_EQ(8192, fd_size(self->fd));
	EXPECT_EQ(EINVAL, posix_fallocate(self->fd, 0, 0));
	EXPECT_EQ(EINVAL, posix_fallocate(self->fd, -1, 10));
}

TEST_F(shmfd, posix_fallocate64_sizes_the_object)
{
	ASSERT_EQ(0, posix_fallocate64(self->fd, 4096, 4096));
	EXPECT_EQ(8192, fd_size(self->fd));
}

TEST_F(shmfd, fallocate_grows_and_keep_size_does_not)
{
	ASSERT_EQ(0, fallocate(self->fd, 0, 0, 4096));
	EXPECT_EQ(4096, fd_size(self->fd));
	EXPECT_EQ(0, fallocate(self->fd, FALLOC_FL_KEEP_SIZE, 0, 16384));
	EXPECT_EQ(4096, fd_size(self->fd));
	EXPECT_EQ(0, fallocate64(self->fd, 0, 4096, 4096));
	EXPECT_EQ(8192, fd_size(self->fd));
}

TEST_F(shmfd, fstatfs_is_tmpfs)
{
	struct statfs sf;
	struct statfs64 sf64;

	ASSERT_EQ(0, fstatfs(self->fd, &sf));
	EXPECT_EQ(TMPFS_MAGIC, sf.f_type);
	ASSERT_EQ(0, fstatfs64(self->fd, &sf64));
	EXPECT_EQ(TMPFS_MAGIC, sf64.f_type);
}

TEST_F(shmfd, lseek_end_is_the_size)
{
	ASSERT_EQ(0, ftruncate(self->fd, 10000));
	EXPECT_EQ(10000, lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ(100, lseek64(self->fd, 100, SEEK_SET));
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_SET));
}

/* A shm_open object is a tmpfs file, not a memfd: sealed against seals. */
TEST_F(shmfd, seals_are_refused_as_on_tmpfs)
{
	EXPECT_EQ(F_SEAL_SEAL, fcntl(self->fd, F_GET_SEALS));
	EXPECT_EQ(-1, fcntl(self->fd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(EPERM, errno);
	/* Everything else is libc's. */
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(self->fd, F_GETFL) & O_ACCMODE);
}

TEST_F(shmfd, fstat_fchmod_fchown_ftruncate64)
{
	struct stat64 st;

	ASSERT_EQ(0, ftruncate64(self->fd, 12345));
	ASSERT_EQ(0, fchmod(self->fd, 0640));
	ASSERT_EQ(0, fchown(self->fd, -1, getegid()));
	ASSERT_EQ(0, fstat64(self->fd, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0640, st.st_mode & 0777);
	EXPECT_EQ(12345, st.st_size);
	EXPECT_EQ(geteuid(), st.st_uid);
}

/* ------------------------------------------------- sem_init semaphores */

FIXTURE(unnamed) {
	sem_t *s;
};

FIXTURE_SETUP(unnamed)
{
	self->s = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->s);
}

FIXTURE_TEARDOWN(unnamed)
{
	munmap(self->s, 4096);
}

/* The semaphore is its memory: no kernel object, no descriptor. */
TEST_F(unnamed, pshared_makes_no_object_and_no_fd)
{
	long before = kipc_objects(KIPC_TYPE_SEM);
	int fds = open_fds();

	ASSERT_EQ(0, sem_init(&self->s[0], 1, 0));
	ASSERT_EQ(0, sem_post(&self->s[0]));
	ASSERT_EQ(0, sem_wait(&self->s[0]));
	EXPECT_EQ(before, kipc_objects(KIPC_TYPE_SEM));
	EXPECT_EQ(fds, open_fds());
	EXPECT_EQ(0, sem_destroy(&self->s[0]));
}

TEST_F(unnamed, private_makes_no_object_and_no_fd)
{
	long before = kipc_objects(KIPC_TYPE_SEM);
	int fds = open_fds(), i;
	sem_t s[16];

	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, sem_init(&s[i], 0, 1));
	EXPECT_EQ(before, kipc_objects(KIPC_TYPE_SEM));
	EXPECT_EQ(fds, open_fds());
	for (i = 0; i < 16; i++)
		EXPECT_EQ(0, sem_destroy(&s[i]));
}

/* PostgreSQL after kill -9 of the postmaster: nothing may stay. */
TEST_F(unnamed, killed_owner_leaves_nothing)
{
	long before = kipc_objects(KIPC_TYPE_SEM);
	pid_t pid = fork();
	int i;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (i = 0; i < 8; i++)
			if (sem_init(&self->s[i], 1, 1))
				_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	ASSERT_EQ(128 + SIGKILL, kt_wait(pid));
	EXPECT_EQ(before, kipc_objects(KIPC_TYPE_SEM));
}

/* After fork the child's copy of a private semaphore is its own. */
TEST_F(unnamed, private_is_copied_by_fork)
{
	sem_t s;
	pid_t pid;
	int v;

	ASSERT_EQ(0, sem_init(&s, 0, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(sem_trywait(&s) ? 1 : 0);
	ASSERT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, sem_getvalue(&s, &v));
	EXPECT_EQ(1, v);
	EXPECT_EQ(0, sem_trywait(&s));
	EXPECT_EQ(0, sem_destroy(&s));
}

static int ping_pong(sem_t *s)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(sem_wait(&s[0]) || sem_post(&s[1]) ? 1 : 0);
	if (sem_post(&s[0]) || sem_wait(&s[1]))
		return -1;
	return kt_wait(pid);
}

/* In the memory of a shm_open object (kipc's, under the layer). */
TEST_F(unnamed, pshared_in_shm_open_memory)
{
	char name[64];
	sem_t *s;
	int fd;

	snprintf(name, sizeof(name), "/kipc-progs-sem-%d", getpid());
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	shm_unlink(name);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_EQ(0, sem_init(&s[0], 1, 0));
	ASSERT_EQ(0, sem_init(&s[1], 1, 0));
	EXPECT_EQ(0, ping_pong(s));
	munmap(s, 4096);
}

/* In a SysV segment (kipc's, under the layer). */
TEST_F(unnamed, pshared_in_sysv_segment)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	sem_t *s;

	ASSERT_LE(0, id);
	s = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	ASSERT_NE((void *)-1, s);
	ASSERT_EQ(0, sem_init(&s[0], 1, 0));
	ASSERT_EQ(0, sem_init(&s[1], 1, 0));
	EXPECT_EQ(0, ping_pong(s));
	shmdt(s);
}

/* Fill the descriptor table up to a low limit; 0 when full. */
static int exhaust_fds(void)
{
	struct rlimit rl = { 64, 64 };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	while (open("/dev/null", O_RDONLY) >= 0)
		;
	return errno == EMFILE ? 0 : -1;
}

/*
 * A post with no descriptor left works, as on a futex, in a process other
 * than the one that made the semaphore.
 */
TEST_F(unnamed, post_with_no_fd_left)
{
	pid_t pid;
	int v;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(sem_init(&self->s[0], 1, 0) ? 1 : 0);
	ASSERT_EQ(0, kt_wait(pid));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (exhaust_fds())
			_exit(1);
		if (sem_post(&self->s[0]))
			_exit(10 + (errno & 0x3f));
		_exit(0);
	}
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, sem_getvalue(&self->s[0], &v));
	EXPECT_EQ(1, v);
	sem_destroy(&self->s[0]);
}

/* ------------------------------------------- daemons that close fds */

/*
 * Close every descriptor but stdout and stderr, as a daemon does, then
 * open some so that the numbers the layer had are reused.
 */
enum close_how { CLOSE_LOOP, CLOSE_FROM, CLOSE_RANGE, DUP2_OVER };

static void close_all(enum close_how how)
{
	int fd, null = -1;

	switch (how) {
	case CLOSE_LOOP:
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		close(0);
		break;
	case CLOSE_FROM:
		close(0);
		closefrom(3);
		break;
	case CLOSE_RANGE:
		close(0);
		close_range(3, ~0U, 0);
		break;
	case DUP2_OVER:
		null = open("/dev/null", O_RDWR);
		/* Over every open one, the layer's included. */
		for (fd = 0; fd < 1024; fd++)
			if (fd != 1 && fd != 2 && fd != null &&
			    fcntl(fd, F_GETFD) >= 0)
				dup2(null, fd);
		close(null);
		return;
	}
	for (fd = 0; fd < 16; fd++)
		open("/dev/null", O_RDWR);
}

struct text {
	long mtype;
	char mtext[16];
};

/*
 * A queue used before the close, then used after it, next to a queue made
 * after it: each message reaches its own queue.
 */
static int daemon_child(int before, enum close_how how)
{
	struct text m = { 1, "before" };
	int after;

	close_all(how);
	after = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (after < 0)
		return 1;
	m.mtype = 2;
	if (msgsnd(before, &m, sizeof(m.mtext), IPC_NOWAIT))
		return 10 + (errno & 0x3f);
	if (msgrcv(after, &m, sizeof(m.mtext), 0, IPC_NOWAIT) >= 0)
		return 3;	/* it went to the wrong queue */
	if (errno != ENOMSG)
		return 4;
	if (msgrcv(before, &m, sizeof(m.mtext), 0, IPC_NOWAIT) < 0 ||
	    m.mtype != 1 || strcmp(m.mtext, "before"))
		return 5;
	if (msgrcv(before, &m, sizeof(m.mtext), 0, IPC_NOWAIT) < 0 ||
	    m.mtype != 2)
		return 6;
	if (msgctl(after, IPC_RMID, NULL))
		return 7;
	return 0;
}

FIXTURE(daemon) {
	int id;
};

FIXTURE_SETUP(daemon)
{
	struct text m = { 1, "before" };

	self->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	ASSERT_LE(0, self->id);
	/* Its fd is open and cached before the daemon closes it. */
	ASSERT_EQ(0, msgsnd(self->id, &m, sizeof(m.mtext), 0));
}

FIXTURE_TEARDOWN(daemon)
{
	msgctl(self->id, IPC_RMID, NULL);
}

static int in_child(int id, enum close_how how)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(daemon_child(id, how));
	return kt_wait(pid);
}

TEST_F(daemon, close_loop)
{
	EXPECT_EQ(0, in_child(self->id, CLOSE_LOOP));
}

TEST_F(daemon, closefrom)
{
	EXPECT_EQ(0, in_child(self->id, CLOSE_FROM));
}

TEST_F(daemon, close_range)
{
	EXPECT_EQ(0, in_child(self->id, CLOSE_RANGE));
}

TEST_F(daemon, dup2_over_every_fd)
{
	EXPECT_EQ(0, in_child(self->id, DUP2_OVER));
}

/* glibc's sem_open handle is a mapping: closing fds does not touch it. */
TEST(sem_open_handle_survives_close_all)
{
	char name[64];
	sem_t *s;
	pid_t pid;
	int v = -1;

	snprintf(name, sizeof(name), "/kipc-progs-%d", getpid());
	sem_unlink(name);
	s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
	ASSERT_NE(SEM_FAILED, s);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close_all(CLOSE_FROM);
		if (sem_post(s))
			_exit(10 + (errno & 0x3f));
		_exit(0);
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, sem_getvalue(s, &v));
	EXPECT_EQ(1, v);
	EXPECT_EQ(0, sem_close(s));
	EXPECT_EQ(0, sem_unlink(name));
}

/*
 * Difference: a handle's semaphore is reopened by id after a close; one
 * whose name is gone and that no process has open any more is gone too
 * (kipc_compat(7)), where glibc's mapping keeps it.
 */
TEST(unlinked_sem_open_handle_closed_everywhere)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		char name[64];
		sem_t *s;

		snprintf(name, sizeof(name), "/kipc-progs-u%d", getpid());
		s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
		if (s == SEM_FAILED || sem_unlink(name))
			_exit(1);
		close_all(CLOSE_FROM);
		if (!sem_post(s))
			_exit(0);
		_exit(10 + (errno & 0x3f));
	}
	status = kt_wait(pid);
	if (routed()) {
		EXPECT_EQ(10 + EINVAL, status);
	} else {
		EXPECT_EQ(0, status);
	}
}

/*
 * Difference: a SysV object costs the layer a descriptor in each process
 * that uses it; with none left, its first use in a process fails with
 * EMFILE (kipc_compat(7)).  The stock call needs none.
 */
TEST(sysv_first_use_with_no_fd_left)
{
	struct text m = { 1, "x" };
	int *id, status;
	pid_t pid;

	id = mmap(NULL, sizeof(*id), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, id);
	/* Made by another process: this one has no fd of it yet. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		*id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		_exit(*id < 0);
	}
	ASSERT_EQ(0, kt_wait(pid));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (exhaust_fds())
			_exit(1);
		if (!msgsnd(*id, &m, sizeof(m.mtext), IPC_NOWAIT))
			_exit(0);
		_exit(10 + (errno & 0x3f));
	}
	status = kt_wait(pid);
	if (routed()) {
		EXPECT_EQ(10 + EMFILE, status);
	} else {
		EXPECT_EQ(0, status);
	}
	EXPECT_EQ(0, msgctl(*id, IPC_RMID, NULL));
	munmap(id, sizeof(*id));
}

TEST_HARNESS_MAIN
