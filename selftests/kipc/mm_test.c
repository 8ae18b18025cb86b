// SPDX-License-Identifier: GPL-2.0
/*
 * kipc regions and rings against the memory manager and process life:
 * children that share the mm (CLONE_VM without threads, vfork), exec with
 * descriptors kept, madvise (DONTNEED, REMOVE, DONTFORK, WIPEONFORK,
 * POPULATE_WRITE), mremap, a debugger's forced writes, and userfaultfd,
 * on a kipc mapping and on the user memory a call copies.  One behaviour
 * per test.
 */
#define _GNU_SOURCE
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY	1
#endif

static long page;

static int region_open(int dev, uint64_t size, uint32_t *id)
{
	struct kipc_region_attr a = { .size = size };

	return kt_open(dev, KIPC_TYPE_REGION, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
		       0600, &a, sizeof(a), id);
}

static char *map_shared(int fd, size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static struct kipc_stat stat_of(int fd)
{
	struct kipc_stat st;

	memset(&st, 0, sizeof(st));
	kt_stat(fd, &st);
	return st;
}

static uint64_t nattch(int fd)
{
	return stat_of(fd).region.nattch;
}

struct ring {
	int fd;
	struct kipc_ring_info info;
	struct kipc_ring_hdr *hdr;
};

static int ring_open(int dev, struct ring *r)
{
	struct kipc_ring_attr a = { .slots = 4, .slot_size = 4096 };
	void *p;

	r->fd = kt_open(dev, KIPC_TYPE_RING, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
			0600, &a, sizeof(a), NULL);
	if (r->fd < 0)
		return r->fd;
	if (ioctl(r->fd, KIPC_IOC_RING_INFO, &r->info))
		return -errno;
	p = map_shared(r->fd, r->info.map_size);
	if (!p)
		return -errno;
	r->hdr = p;
	return 0;
}

static void ring_close(struct ring *r)
{
	if (r->hdr)
		munmap(r->hdr, r->info.map_size);
	close(r->fd);
}

static char *ring_slot(struct ring *r, void *base, unsigned int i)
{
	return (char *)base + r->info.slot_offset + i * r->info.slot_size;
}

/* What the kernel sees in the ring: the events that hold now. */
static int ring_events(struct ring *r)
{
	struct kipc_ring_wait w = {
		.events = KIPC_RING_DATA | KIPC_RING_ROOM,
		.flags = KIPC_F_NONBLOCK,
	};

	return kt_ret(ioctl(r->fd, KIPC_IOC_RING_WAIT, &w));
}

static uint64_t objects(int dev)
{
	struct kipc_info info;
	uint64_t n = 0;
	int i;

	if (kt_info(dev, &info))
		return ~0ull;
	for (i = 1; i < KIPC_TYPE_COUNT; i++)
		n += info.objects[i];
	return n;
}

FIXTURE(mm) {
	int dev;
	uint64_t objects;
};

FIXTURE_SETUP(mm)
{
	page = sysconf(_SC_PAGESIZE);
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", KIPC_DEVICE_PATH,
				       strerror(-self->dev));
	self->objects = objects(self->dev);
}

FIXTURE_TEARDOWN(mm)
{
	/* Nothing outlives its last descriptor and its last mapping. */
	EXPECT_EQ(self->objects, objects(self->dev));
	close(self->dev);
}

/* Children that share the mm */

struct cvm {
	int fd;
	char *p;
};

static int cvm_child(void *arg)
{
	struct cvm *c = arg;

	c->p = map_shared(c->fd, page);
	if (!c->p)
		return 1;
	strcpy(c->p, "child");
	/* Its own descriptor table: this closes only its copy. */
	close(c->fd);
	return 0;
}

/*
 * A CLONE_VM child that is not a thread maps a region and exits: the
 * mapping is the mm's, and stays with the parent, holding the region.
 */
TEST_F(mm, clone_vm_child_mapping_stays_with_the_mm)
{
	struct cvm c = { .fd = region_open(self->dev, page, NULL) };
	size_t stack_size = 256 * 1024;
	char *stack;
	pid_t pid;

	ASSERT_LE(0, c.fd);
	stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	ASSERT_NE(MAP_FAILED, stack);
	pid = clone(cvm_child, stack + stack_size, CLONE_VM | SIGCHLD, &c);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, kt_wait(pid));
	ASSERT_NE(NULL, c.p);
	EXPECT_STREQ("child", c.p);
	EXPECT_EQ(1, nattch(c.fd));
	/* The mapping alone keeps the region now. */
	close(c.fd);
	EXPECT_STREQ("child", c.p);
	munmap(c.p, page);
	munmap(stack, stack_size);
}

/*
 * A vfork child maps a region in its parent's mm and execs: the mapping
 * stays with the parent, the exec'd program has none.
 */
TEST_F(mm, vfork_child_mapping_outlives_its_exec)
{
	int fd = region_open(self->dev, page, NULL);
	char *volatile p = NULL;
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = vfork();
	if (pid == 0) {
		p = map_shared(fd, page);
		if (p)
			strcpy(p, "vfork");
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, kt_wait(pid));
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("vfork", p);
	EXPECT_EQ(1, nattch(fd));
	munmap(p, page);
	EXPECT_EQ(0, nattch(fd));
	close(fd);
}

/*
 * exec drops the mappings and the close-on-exec files, and keeps the
 * other descriptors working in the new program.
 */
TEST_F(mm, exec_keeps_descriptors_and_drops_mappings)
{
	uint32_t id = 0;
	int fd = region_open(self->dev, page, &id), hold[2], i;
	char *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	p = map_shared(fd, page);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, pipe(hold));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = kt_open(self->dev, KIPC_TYPE_REGION, NULL,
				  KIPC_O_BY_ID | KIPC_O_RDWR | KIPC_O_CLOEXEC,
				  0, NULL, 0, &id);

		if (cfd < 0)
			_exit(10 - cfd);
		/* Ours, the copy fork made of it, and its own. */
		if (!map_shared(fd, page) || nattch(fd) != 3)
			_exit(2);
		if (stat_of(fd).nfds != 2)
			_exit(3);
		close(hold[1]);
		/* Out of the way first: sh names descriptors up to 9 only. */
		hold[0] = fcntl(hold[0], F_DUPFD, 20);
		fd = fcntl(fd, F_DUPFD, 20);
		if (fd < 0 || hold[0] < 0 || dup2(fd, 8) != 8 ||
		    dup2(hold[0], 9) != 9)
			_exit(4);
		/* Writes through the kept fd, then waits on the pipe. */
		execl("/bin/sh", "sh", "-c", "printf exec >&8 && cat <&9",
		      (char *)NULL);
		_exit(127);
	}
	close(hold[0]);
	for (i = 0; i < 5000 && memcmp(p, "exec", 4); i++)
		usleep(1000);
	EXPECT_EQ(0, memcmp(p, "exec", 4));
	/* The new program runs: only our mapping and our file are left. */
	EXPECT_EQ(1, nattch(fd));
	EXPECT_EQ(1, stat_of(fd).nfds);
	close(hold[1]);
	EXPECT_EQ(0, kt_wait(pid));
	munmap(p, page);
	close(fd);
}

/* madvise */

TEST_F(mm, madv_dontneed_keeps_region_contents)
{
	int fd = region_open(self->dev, 2 * page, NULL);
	char *p;

	ASSERT_LE(0, fd);
	p = map_shared(fd, 2 * page);
	ASSERT_NE(NULL, p);
	strcpy(p + page, "kept");
	/* Drops our page tables only: the pages are the region's. */
	ASSERT_EQ(0, madvise(p, 2 * page, MADV_DONTNEED));
	EXPECT_STREQ("kept", p + page);
	EXPECT_EQ(2 * page, stat_of(fd).region.size);
	munmap(p, 2 * page);
	close(fd);
}

TEST_F(mm, madv_dontfork_keeps_the_child_off_the_region)
{
	int fd = region_open(self->dev, page, NULL);
	char *p;
	pid_t pid;

	ASSERT_LE(0, fd);
	p = map_shared(fd, page);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, madvise(p, page, MADV_DONTFORK));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(nattch(fd) == 1 ? 0 : 1);
	EXPECT_EQ(0, kt_wait(pid));
	/*
	 * And back: the child gets a mapping, counted.  Newer kernels' madvise()
	 * (7.3's does, 6.1's does not) refuses MADV_DOFORK on every VM_SPECIAL
	 * mapping, and a region's is VM_DONTEXPAND: there the advice stays, as
	 * on any driver's such mapping, and the next child is kept off too.
	 */
	if (madvise(p, page, MADV_DOFORK)) {
		ASSERT_EQ(EINVAL, errno);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(nattch(fd) == 1 ? 0 : 1);
		EXPECT_EQ(0, kt_wait(pid));
		EXPECT_EQ(1, nattch(fd));
		munmap(p, page);
		close(fd);
		SKIP(return, "this kernel keeps MADV_DONTFORK on VM_SPECIAL mappings");
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(nattch(fd) == 2 ? 0 : 1);
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(1, nattch(fd));
	munmap(p, page);
	close(fd);
}

TEST_F(mm, madv_wipeonfork_is_einval_on_kipc_mappings)
{
	int fd = region_open(self->dev, page, NULL);
	struct ring r = { 0 };
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ring_open(self->dev, &r));
	p = map_shared(fd, page);
	ASSERT_NE(NULL, p);
	/* Only private anonymous memory can be wiped: shared pages cannot. */
	EXPECT_EQ(-EINVAL, kt_ret(madvise(p, page, MADV_WIPEONFORK)));
	EXPECT_EQ(-EINVAL, kt_ret(madvise(r.hdr, page, MADV_WIPEONFORK)));
	munmap(p, page);
	ring_close(&r);
	close(fd);
}

TEST_F(mm, madv_remove_cannot_punch_a_ring)
{
	struct ring r = { 0 };
	char *slot;

	ASSERT_EQ(0, ring_open(self->dev, &r));
	slot = ring_slot(&r, r.hdr, 0);
	strcpy(slot, "slot");
	/* The ring's pages are not a file's: there is no hole to punch. */
	EXPECT_NE(0, madvise(slot, page, MADV_REMOVE));
	EXPECT_STREQ("slot", slot);
	ring_close(&r);
}

TEST_F(mm, ring_refaults_after_dontneed_and_populate)
{
	struct ring r = { 0 };
	char *slot;
	int ret;

	ASSERT_EQ(0, ring_open(self->dev, &r));
	slot = ring_slot(&r, r.hdr, 1);
	strcpy(slot, "slot");
	r.hdr->head = 1;
	ASSERT_EQ(0, madvise(r.hdr, r.info.map_size, MADV_DONTNEED));
	ret = kt_ret(madvise(r.hdr, r.info.map_size, MADV_POPULATE_WRITE));
	if (ret == -EINVAL) {
		ring_close(&r);
		SKIP(return, "no MADV_POPULATE_WRITE");
	}
	EXPECT_EQ(0, ret);
	/* The same pages came back, and the kernel reads the same head. */
	EXPECT_STREQ("slot", slot);
	EXPECT_EQ(1, r.hdr->head);
	EXPECT_EQ(KIPC_RING_DATA | KIPC_RING_ROOM, ring_events(&r));
	r.hdr->head = 0;
	ring_close(&r);
}

/* mremap */

/* A ring mapping moved elsewhere keeps serving the same pages. */
TEST_F(mm, mremap_moves_a_ring_mapping)
{
	struct ring r = { 0 };
	size_t len;
	char *to, *q;

	ASSERT_EQ(0, ring_open(self->dev, &r));
	len = r.info.map_size;
	strcpy(ring_slot(&r, r.hdr, 2), "moved");
	/* A free range to move to. */
	to = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, to);
	q = mremap(r.hdr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	ASSERT_EQ(to, q);
	r.hdr = (void *)q;
	EXPECT_STREQ("moved", ring_slot(&r, q, 2));
	r.hdr->head = 1;
	EXPECT_EQ(KIPC_RING_DATA | KIPC_RING_ROOM, ring_events(&r));
	/* Faulted again at the new address: still the ring's pages. */
	ASSERT_EQ(0, madvise(q, len, MADV_DONTNEED));
	EXPECT_STREQ("moved", ring_slot(&r, q, 2));
	EXPECT_EQ(1, r.hdr->head);
	/* Never larger than the ring. */
	EXPECT_EQ(MAP_FAILED, mremap(q, len, len + page, MREMAP_MAYMOVE));
	r.hdr->head = 0;
	ring_close(&r);
}

/*
 * MREMAP_DONTUNMAP would leave a second, empty mapping behind, which
 * neither a region nor a ring can have: both refuse it.
 */
TEST_F(mm, mremap_dontunmap_is_refused)
{
	int fd = region_open(self->dev, page, NULL);
	struct ring r = { 0 };
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ring_open(self->dev, &r));
	p = map_shared(fd, page);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(MAP_FAILED, mremap(p, page, page,
				     MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mremap(r.hdr, r.info.map_size, r.info.map_size,
				     MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, nattch(fd));
	munmap(p, page);
	ring_close(&r);
	close(fd);
}

/* ptrace */

/*
 * A debugger's write (/proc/PID/mem, PTRACE_POKEDATA: FOLL_FORCE) may
 * break into a read-only private mapping by copying the page, never into a
 * read-only shared one: a write-sealed region stays as it is.
 */
TEST_F(mm, forced_write_cannot_reach_a_sealed_region)
{
	struct kipc_region_attr a = { .size = page };
	uint32_t seals = KIPC_SEAL_WRITE;
	int fd, mem;
	char *p;

	fd = kt_open(self->dev, KIPC_TYPE_REGION, NULL,
		     KIPC_O_CREAT | KIPC_O_RDWR, 0600, &a, sizeof(a), NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, pwrite(fd, "seal", 5, 0));
	ASSERT_EQ(0, ioctl(fd, KIPC_IOC_REGION_ADD_SEALS, &seals));
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	EXPECT_EQ(-1, pwrite(mem, "open", 5, (off_t)(uintptr_t)p));
	EXPECT_STREQ("seal", p);
	close(mem);
	munmap(p, page);
	close(fd);
}

/* userfaultfd */

static int uffd_open(bool kernel_faults)
{
	struct uffdio_api api = { .api = UFFD_API };
	int flags = O_CLOEXEC | O_NONBLOCK, fd;

	if (!kernel_faults)
		flags |= UFFD_USER_MODE_ONLY;
	fd = syscall(__NR_userfaultfd, flags);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int uffd_register(int uffd, void *p, size_t len, __u64 mode)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = mode,
	};

	return kt_ret(ioctl(uffd, UFFDIO_REGISTER, &reg));
}

/*
 * userfaultfd handles anonymous, hugetlb and shmem mappings it knows by
 * their vm_ops: a region (shmem underneath, kipc's vm_ops on top) and a
 * ring are neither, and registering them fails cleanly.
 */
TEST_F(mm, userfaultfd_cannot_register_kipc_mappings)
{
	int fd = region_open(self->dev, page, NULL), uffd;
	struct ring r = { 0 };
	char *p;

	ASSERT_LE(0, fd);
	uffd = uffd_open(false);
	if (uffd < 0) {
		close(fd);
		SKIP(return, "no userfaultfd: %s", strerror(-uffd));
	}
	ASSERT_EQ(0, ring_open(self->dev, &r));
	p = map_shared(fd, page);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EINVAL, uffd_register(uffd, p, page,
					 UFFDIO_REGISTER_MODE_MISSING));
	EXPECT_EQ(-EINVAL, uffd_register(uffd, r.hdr, r.info.map_size,
					 UFFDIO_REGISTER_MODE_MISSING));
	/* Still a working mapping. */
	strcpy(p, "region");
	EXPECT_STREQ("region", p);
	munmap(p, page);
	ring_close(&r);
	close(uffd);
	close(fd);
}

struct stalled {
	int fd;
	char *buf;
	ssize_t ret;
};

static void *stalled_pwrite(void *arg)
{
	struct stalled *s = arg;
	sigset_t all;

	/* Signals are for the main thread; a fault stalls only this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	s->ret = pwrite(s->fd, s->buf, 16, 0);
	return NULL;
}

static void on_alarm(int sig)
{
}

/*
 * A pwrite whose source stalls in userfaultfd holds its region's write
 * lock, as a write to a tmpfs file holds the inode's: resize waits for it,
 * interruptibly, and nothing else does -- not mappings, reads or stat of
 * the region, not other objects of the namespace.
 */
TEST_F(mm, userfaultfd_stalled_pwrite_holds_up_only_its_region)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct stalled s = { .ret = -2 };
	struct uffdio_copy copy;
	struct uffd_msg msg;
	struct pollfd pfd;
	uint64_t size = 2 * page;
	int other, uffd;
	char *src, *p, buf[16];
	pthread_t t;

	if (!kt_is_root())
		SKIP(return, "faults in the kernel need a privileged userfaultfd");
	uffd = uffd_open(true);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(-uffd));
	s.fd = region_open(self->dev, page, NULL);
	ASSERT_LE(0, s.fd);
	s.buf = mmap(NULL, page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s.buf);
	ASSERT_EQ(0, uffd_register(uffd, s.buf, page,
				   UFFDIO_REGISTER_MODE_MISSING));
	ASSERT_EQ(0, pthread_create(&t, NULL, stalled_pwrite, &s));
	pfd.fd = uffd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 5000));
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* The pwrite is stalled with the region's lock held.  Meanwhile: */
	p = map_shared(s.fd, page);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, nattch(s.fd));
	munmap(p, page);
	EXPECT_EQ(16, pread(s.fd, buf, 16, 0));
	other = region_open(self->dev, page, NULL);
	ASSERT_LE(0, other);
	EXPECT_EQ(0, kt_ret(ioctl(other, KIPC_IOC_REGION_RESIZE, &size)));
	close(other);
	/* Our resize waits for the lock, and a signal ends the wait. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, kt_ret(ioctl(s.fd, KIPC_IOC_REGION_RESIZE, &size)));
	EXPECT_EQ(-2, s.ret);

	/* Resolve the fault: the pwrite completes. */
	src = mmap(NULL, page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	strcpy(src, "through uffd");
	copy = (struct uffdio_copy){
		.dst = (uintptr_t)s.buf, .src = (uintptr_t)src, .len = page,
	};
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(16, s.ret);
	ASSERT_EQ(16, pread(s.fd, buf, 16, 0));
	EXPECT_STREQ("through uffd", buf);
	EXPECT_EQ(0, kt_ret(ioctl(s.fd, KIPC_IOC_REGION_RESIZE, &size)));
	munmap(src, page);
	munmap(s.buf, page);
	close(s.fd);
	close(uffd);
}

TEST_HARNESS_MAIN
