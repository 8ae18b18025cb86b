// SPDX-License-Identifier: GPL-2.0
/*
 * kipc semaphore undo and the life of a process: whose undo it is (threads,
 * clone() with and without CLONE_FILES, CLONE_SYSVSEM, CLONE_VM, vfork,
 * fork) and when it is applied (at the exit of the process, not when an fd
 * closes, surviving exec), with ptrace and PR_SET_PDEATHSIG, and what the
 * records cost their set's owner.  One behaviour per test.
 *
 * Most tests run the process under test as a child of the test, which
 * reports what it saw through its exit status.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"
#include "kipc_sem.h"

#define NSEMS	4

FIXTURE(undo) {
	int dev;
	int s;
	uint32_t id;
};

FIXTURE_SETUP(undo)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	self->s = kt_sem(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
			 NSEMS, 0, 0, &self->id);
	ASSERT_LE(0, self->s);
}

FIXTURE_TEARDOWN(undo)
{
	close(self->s);
	close(self->dev);
}

static int undos_of(int fd)
{
	struct kipc_stat st;
	int ret = kt_stat(fd, &st);

	return ret ? ret : (int)st.sem.undos;
}

/*
 * clone() as fork() is (a copy of the stack, child returns 0), with other
 * flags: the child of a test must not share the test's memory.
 */
static pid_t clone_process(unsigned long flags)
{
	return syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}

/* Tell the other side a step is done, and wait for it to look. */
static int step(int tell, int wait)
{
	char c = 's';

	if (write(tell, &c, 1) != 1 || read(wait, &c, 1) != 1)
		return -1;
	return 0;
}

/* Two pipes: up (child to test) and down (test to child). */
struct talk {
	int up[2];
	int down[2];
};

static int talk_open(struct talk *t)
{
	return pipe(t->up) || pipe(t->down) ? -1 : 0;
}

/* In the test: wait for the child's step, then let it go on. */
static int talk_wait(struct talk *t)
{
	char c;

	return read(t->up[0], &c, 1) == 1 ? 0 : -1;
}

static int talk_go(struct talk *t)
{
	return write(t->down[1], "g", 1) == 1 ? 0 : -1;
}

/* Wait for any child: its exit status, or 128 + signal. */
static int wait_any(void)
{
	int status;

	if (waitpid(-1, &status, 0) <= 0)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Until the thread @tid of this process is gone, its exit complete. */
static int thread_gone(pid_t tid)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (syscall(SYS_tgkill, getpid(), tid, 0) && errno == ESRCH)
			return 1;
		usleep(1000);
	}
	return 0;
}

/* Threads and processes that share the fd table */

/*
 * A process made with clone(CLONE_FILES) shares its parent's fd table, so
 * no fd closes when it exits: its undo is applied all the same, and its
 * record goes.
 */
TEST_F(undo, clone_files_child_undo_reverts_on_exit)
{
	pid_t pids[20];
	int i;

	for (i = 0; i < 20; i++) {
		pids[i] = clone_process(CLONE_FILES);
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(-kt_sem1(self->s, 0, 1, KIPC_SEMOP_UNDO, 0,
				       NULL));
	}
	for (i = 0; i < 20; i++)
		EXPECT_EQ(0, kt_wait(pids[i]));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

static int thread_exits(void *arg)
{
	(void)arg;
	return 0;
}

/*
 * A thread made with CLONE_THREAD but without CLONE_FILES has an fd table
 * of its own, which closes when it exits: the process's undo stays until
 * the whole process exits.  Else the "lock" the main thread holds would be
 * given back under it.
 */
TEST_F(undo, thread_exit_without_clone_files_keeps_undo)
{
	pid_t pid;

	ASSERT_EQ(0, kt_setval(self->s, 0, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		size_t size = 64 * 1024;
		char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
				   -1, 0);
		pid_t tid;

		if (stack == MAP_FAILED ||
		    kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(100);
		tid = clone(thread_exits, stack + size, CLONE_VM | CLONE_FS |
			    CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
			    NULL);
		if (tid < 0 || !thread_gone(tid))
			_exit(101);
		/* Still ours: 0. */
		_exit(kt_getval(self->s, 0));
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

static void *wait_for_eof(void *arg)
{
	char c;

	while (read(*(int *)arg, &c, 1) > 0)
		;
	return NULL;
}

/* The state letter of /proc/@pid/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * The main thread leaves (a zombie, its threads going on): the process
 * still holds its undo until the last thread is gone.
 */
TEST_F(undo, main_thread_exit_keeps_undo_until_the_last_thread)
{
	int in[2], i;
	pid_t pid;

	ASSERT_EQ(0, kt_setval(self->s, 0, 1));
	ASSERT_EQ(0, pipe(in));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_t t;

		close(in[1]);
		if (kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL) ||
		    pthread_create(&t, NULL, wait_for_eof, &in[0]))
			_exit(100);
		syscall(SYS_exit, 0);
	}
	close(in[0]);
	for (i = 0; i < 5000 && proc_state(pid) != 'Z'; i++)
		usleep(1000);
	ASSERT_EQ('Z', proc_state(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(1, undos_of(self->s));
	close(in[1]);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

static void *sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * SIGKILL of a process with several threads: each thread's exit is seen,
 * the undo is applied once.
 */
TEST_F(undo, sigkill_of_a_multithreaded_process_reverts_once)
{
	struct talk t;
	pid_t pid;

	ASSERT_EQ(0, kt_setval(self->s, 0, 5));
	ASSERT_EQ(0, talk_open(&t));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_t th[4];
		int i;

		if (kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(100);
		for (i = 0; i < 4; i++)
			if (pthread_create(&th[i], NULL, sleep_forever, NULL))
				_exit(101);
		if (write(t.up[1], "r", 1) != 1)
			_exit(102);
		sleep_forever(NULL);
	}
	ASSERT_EQ(0, talk_wait(&t));
	EXPECT_EQ(4, kt_getval(self->s, 0));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid));
	EXPECT_EQ(5, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

/* fork(), vfork(), clone(CLONE_VM): a new process, a list of its own */

/*
 * In a child of the test: hold counter 0 with undo, run @make for a child
 * of its own that takes counter 1 with undo and exits, and report 0 if
 * that child's undo, and only it, was applied: counter 0 still held,
 * counter 1 back.
 */
static int own_list_after(pid_t (*make)(int fd), int fd)
{
	pid_t child;

	if (kt_sem1(fd, 0, 1, KIPC_SEMOP_UNDO, 0, NULL))
		return 100;
	child = make(fd);
	if (child < 0 || kt_wait(child))
		return 101;
	if (kt_getval(fd, 1) != 0)
		return 102;
	return kt_getval(fd, 0) == 1 ? 0 : 103;
}

static pid_t make_fork(int fd)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(-kt_sem1(fd, 1, 1, KIPC_SEMOP_UNDO, 0, NULL));
	return pid;
}

static pid_t make_vfork(int fd)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(-kt_sem1(fd, 1, 1, KIPC_SEMOP_UNDO, 0, NULL));
	return pid;
}

static int undo_one(void *arg)
{
	return -kt_sem1(*(int *)arg, 1, 1, KIPC_SEMOP_UNDO, 0, NULL);
}

static char clone_vm_stack[64 * 1024] __attribute__((aligned(16)));
static int clone_vm_fd;

static pid_t make_clone_vm(int fd)
{
	clone_vm_fd = fd;
	return clone(undo_one, clone_vm_stack + sizeof(clone_vm_stack),
		     CLONE_VM | SIGCHLD, &clone_vm_fd);
}

/* A forked child does not inherit its parent's undo, nor add to it. */
TEST_F(undo, fork_child_has_a_list_of_its_own)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(own_list_after(make_fork, self->s));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
}

TEST_F(undo, vfork_child_has_a_list_of_its_own)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(own_list_after(make_vfork, self->s));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
}

/* Sharing the memory without being a thread: still another process. */
TEST_F(undo, clone_vm_child_has_a_list_of_its_own)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(own_list_after(make_clone_vm, self->s));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
}

/* ptrace and PR_SET_PDEATHSIG */

/* A traced process's exit is reported to its tracer; the undo is applied. */
TEST_F(undo, traced_process_undo_reverts_on_exit)
{
	struct talk t;
	pid_t pid;

	ASSERT_EQ(0, talk_open(&t));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_sem1(self->s, 0, 1, KIPC_SEMOP_UNDO, 0, NULL) ||
		    step(t.up[1], t.down[0]))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(0, talk_wait(&t));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, pid, NULL, NULL));
	ASSERT_EQ(0, talk_go(&t));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

/*
 * A waiter stopped by its tracer leaves the queue: a post meanwhile stays
 * in the counter, for whoever comes; resumed, the wait starts again.
 */
TEST_F(undo, ptrace_stopped_waiter_takes_nothing_while_stopped)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(-kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL));
	ASSERT_TRUE(kt_sem_until(kt_ncnt(self->s, 0), 1));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, pid, NULL, NULL));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, pid, NULL, NULL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
	ASSERT_EQ(0, kt_sem1(self->s, 0, 1, 0, 0, NULL));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	ASSERT_EQ(0, ptrace(PTRACE_CONT, pid, NULL, NULL));
	EXPECT_EQ(0, kt_wait(pid));
	/* It took the count when it ran again, and gave it back at exit. */
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

/*
 * A process holding counter 0 with undo exits; its child, blocked on
 * counter 0 without undo, dies of PR_SET_PDEATHSIG.  kipc applies undo
 * once the exit is complete, when the child has its SIGKILL already: the
 * count must not go to the dying waiter, which would take it to its grave.
 * (SysV's exit_sem() runs before the signal, and hands it over.)
 */
TEST_F(undo, pdeathsig_victim_is_not_handed_the_parents_undo)
{
	pid_t pid;
	int i;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, kt_setval(self->s, 0, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t child;

		if (kt_sem1(self->s, 0, -1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(100);
		child = fork();
		if (child == 0) {
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) ||
			    kt_sem1(self->s, 1, 1, KIPC_SEMOP_UNDO, 0, NULL))
				_exit(1);
			kt_sem1(self->s, 0, -1, 0, 0, NULL);
			_exit(2);
		}
		if (child < 0 || !kt_sem_until(kt_ncnt(self->s, 0), 1))
			_exit(101);
		_exit(0);
	}
	EXPECT_EQ(0, kt_wait(pid));
	for (i = 0; i < 2; i++) {
		int st = wait_any();

		if (st < 0)
			break;
		EXPECT_EQ(128 + SIGKILL, st);
	}
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_getval(self->s, 1));
	EXPECT_EQ(0, kt_ncnt(self->s, 0));
}

/* Quotas */

/* An undo record is memory the set's owner pays for, until it goes. */
TEST_F(undo, record_is_charged_to_the_owner)
{
	struct kipc_info before, held, after;
	struct talk t;
	pid_t pid;

	ASSERT_EQ(0, talk_open(&t));
	ASSERT_EQ(0, kt_info(self->dev, &before));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_sem1(self->s, 3, 1, KIPC_SEMOP_UNDO, 0, NULL) ||
		    step(t.up[1], t.down[0]))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(0, talk_wait(&t));
	ASSERT_EQ(0, kt_info(self->dev, &held));
	EXPECT_LE(before.user_bytes + NSEMS * sizeof(int32_t), held.user_bytes);
	ASSERT_EQ(0, talk_go(&t));
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, kt_info(self->dev, &after));
	EXPECT_EQ(before.user_bytes, after.user_bytes);
}

/* CLONE_SYSVSEM */

/*
 * A process made with clone(CLONE_SYSVSEM) shares its parent's undo list:
 * what it did with undo is given back when the last of them exits.
 */
TEST_F(undo, clone_sysvsem_child_undo_waits_for_the_parent)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t child = clone_process(CLONE_SYSVSEM);

		if (child < 0)
			_exit(100);
		if (child == 0)
			_exit(-kt_sem1(self->s, 0, 1, KIPC_SEMOP_UNDO, 0,
				       NULL));
		if (kt_wait(child))
			_exit(101);
		/* The parent shares the list: still 1. */
		_exit(kt_getval(self->s, 0));
	}
	EXPECT_EQ(1, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

/*
 * The other way round: the parent's undo, from before the clone, waits for
 * the child too, which added its own to the same list.
 */
TEST_F(undo, clone_sysvsem_parent_undo_waits_for_the_child)
{
	struct talk t;
	pid_t pid;
	char c;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, talk_open(&t));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t child;

		if (kt_sem1(self->s, 0, 1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(100);
		child = clone_process(CLONE_SYSVSEM);
		if (child < 0)
			_exit(101);
		if (child == 0) {
			if (kt_sem1(self->s, 1, 1, KIPC_SEMOP_UNDO, 0, NULL) ||
			    step(t.up[1], t.down[0]))
				_exit(1);
			_exit(0);
		}
		/* Leave once the child holds its count. */
		_exit(read(t.up[0], &c, 1) == 1 ? 0 : 102);
	}
	EXPECT_EQ(0, kt_wait(pid));
	/* The parent is gone, its child shares the list: nothing reverted. */
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(1, kt_getval(self->s, 1));
	/* The child is ours now (subreaper); let it exit. */
	ASSERT_EQ(0, talk_go(&t));
	EXPECT_EQ(0, wait_any());
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, kt_getval(self->s, 1));
	EXPECT_EQ(0, undos_of(self->s));
}

/* Closing fds and exec */

/*
 * Undo belongs to the process, not to its fds: closing every fd of a set
 * that lives on (another process has it) gives nothing back.
 */
TEST_F(undo, closing_the_last_fd_keeps_undo)
{
	uint32_t id = self->id;
	struct talk t;
	pid_t pid;

	ASSERT_EQ(0, talk_open(&t));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = kt_sem(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR,
				0, 0, 0, 0, &id);

		close(self->s);
		if (fd < 0 || kt_sem1(fd, 0, 1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(1);
		close(fd);
		if (step(t.up[1], t.down[0]))
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(0, talk_wait(&t));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(1, undos_of(self->s));
	ASSERT_EQ(0, talk_go(&t));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

/*
 * A set nobody can reach any more (its last fd closed, no name) goes at
 * once, and its records and their charge with it, while the process that
 * used undo on it lives on.
 */
TEST_F(undo, record_goes_with_its_set)
{
	struct kipc_info before, gone;
	struct talk t;
	pid_t pid;

	ASSERT_EQ(0, talk_open(&t));
	ASSERT_EQ(0, kt_info(self->dev, &before));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s = kt_anon_sem(self->dev, 100, 0);

		if (s < 0 || kt_sem1(s, 99, 1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(1);
		close(s);
		if (step(t.up[1], t.down[0]))
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(0, talk_wait(&t));
	ASSERT_EQ(0, kt_info(self->dev, &gone));
	EXPECT_EQ(before.objects[KIPC_TYPE_SEM], gone.objects[KIPC_TYPE_SEM]);
	EXPECT_EQ(before.user_bytes, gone.user_bytes);
	ASSERT_EQ(0, talk_go(&t));
	EXPECT_EQ(0, kt_wait(pid));
}

/*
 * In @child: exec cat with @in as its stdin, so that it lives until the
 * test closes the other end.  @sync's write end is close-on-exec: the test
 * reads EOF from it once the exec is done.
 */
static void exec_cat(int in, int sync[2])
{
	int null = open("/dev/null", O_WRONLY);

	close(sync[0]);
	if (null < 0 || dup2(in, 0) < 0 || dup2(null, 1) < 0)
		_exit(100);
	execl("/bin/cat", "cat", (char *)NULL);
	_exit(101);
}

/*
 * SysV undo survives execve(), and so does kipc's, also when exec closes
 * the process's last fd of the set (close-on-exec).
 */
TEST_F(undo, undo_survives_exec)
{
	int in[2], sync[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(in));
	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(in[1]);
		if (fcntl(self->s, F_SETFD, FD_CLOEXEC) ||
		    kt_sem1(self->s, 0, 1, KIPC_SEMOP_UNDO, 0, NULL))
			_exit(102);
		exec_cat(in[0], sync);
	}
	close(in[0]);
	close(sync[1]);
	ASSERT_EQ(0, read(sync[0], &c, 1));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	EXPECT_EQ(1, undos_of(self->s));
	close(in[1]);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

struct exec_args {
	int in;
	int *sync;
};

static void *exec_from_thread(void *arg)
{
	struct exec_args *a = arg;

	exec_cat(a->in, a->sync);
	return NULL;
}

/*
 * exec from a thread other than the main one: the main thread goes and
 * the exec'ing thread takes over the process's pid.  The undo stays.
 */
TEST_F(undo, undo_survives_exec_from_a_thread)
{
	int in[2], sync[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(in));
	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct exec_args a = { .in = in[0], .sync = sync };
		pthread_t t;

		close(in[1]);
		if (fcntl(self->s, F_SETFD, FD_CLOEXEC) ||
		    kt_sem1(self->s, 0, 1, KIPC_SEMOP_UNDO, 0, NULL) ||
		    pthread_create(&t, NULL, exec_from_thread, &a))
			_exit(102);
		pthread_join(t, NULL);
		_exit(103);
	}
	close(in[0]);
	close(sync[1]);
	ASSERT_EQ(0, read(sync[0], &c, 1));
	EXPECT_EQ(1, kt_getval(self->s, 0));
	close(in[1]);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, kt_getval(self->s, 0));
	EXPECT_EQ(0, undos_of(self->s));
}

TEST_HARNESS_MAIN
