// SPDX-License-Identifier: GPL-2.0
/*
 * kipc shared regions: mapping across processes, access modes, lifetime
 * (unlink, remove while mapped), resizing, seals, pread/pwrite, limits,
 * permissions and namespaces.  One behaviour per test.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <grp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

static long page;

static int rg_open(int dev, const char *name, uint32_t flags, uint32_t mode,
		   uint64_t size, uint32_t seals, uint32_t *id)
{
	struct kipc_region_attr attr = { .size = size, .seals = seals };

	return kt_open(dev, KIPC_TYPE_REGION, name, flags, mode, &attr,
		       sizeof(attr), id);
}

/* An anonymous read-write region. */
static int rg_anon(int dev, uint64_t size)
{
	return rg_open(dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, size, 0,
		       NULL);
}

static int rg_resize(int fd, uint64_t size)
{
	return kt_ret(ioctl(fd, KIPC_IOC_REGION_RESIZE, &size));
}

static int rg_add_seals(int fd, uint32_t seals)
{
	return kt_ret(ioctl(fd, KIPC_IOC_REGION_ADD_SEALS, &seals));
}

/* The seals, or -errno. */
static int rg_seals(int fd)
{
	uint32_t seals;
	int ret = kt_ret(ioctl(fd, KIPC_IOC_REGION_GET_SEALS, &seals));

	return ret ? ret : (int)seals;
}

/* mmap() as 0 or -errno; unmaps what it mapped. */
static int rg_try_map(int fd, size_t len, int prot, int flags, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

static char *rg_map(int fd, size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static struct kipc_region_stat rg_stat(int fd)
{
	struct kipc_stat st;

	memset(&st, 0, sizeof(st));
	kt_stat(fd, &st);
	return st.region;
}

static uint64_t rg_objects(int dev)
{
	struct kipc_info info;

	if (kt_info(dev, &info))
		return (uint64_t)-1;
	return info.objects[KIPC_TYPE_REGION];
}

static uint64_t rg_user_bytes(int dev)
{
	struct kipc_info info;

	if (kt_info(dev, &info))
		return (uint64_t)-1;
	return info.user_bytes;
}

/* Run @fn as uid 65534 in a child; its exit code is the result. */
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

/* Enter a new IPC namespace, as root or through a new user namespace. */
static int enter_new_ipc_ns(void)
{
	if (kt_is_root())
		return unshare(CLONE_NEWIPC) ? -errno : 0;
	return unshare(CLONE_NEWUSER | CLONE_NEWIPC) ? -errno : 0;
}

FIXTURE(rg) {
	int dev;
	char name[64];
};

FIXTURE_SETUP(rg)
{
	static int seq;

	page = sysconf(_SC_PAGESIZE);
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", KIPC_DEVICE_PATH,
				       strerror(-self->dev));
	snprintf(self->name, sizeof(self->name), "kt-rg-%d-%d", getpid(),
		 seq++);
}

FIXTURE_TEARDOWN(rg)
{
	kt_unlink(self->dev, KIPC_TYPE_REGION, self->name);
	close(self->dev);
}

/* Creation and stat */

TEST_F(rg, stat_reports_size_and_mappings)
{
	struct kipc_stat st;
	uint32_t id = 0;
	char *p;
	int fd;

	fd = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0640, 3 * page + 100, 0, &id);
	ASSERT_LE(0, fd);
	memset(&st, 0xaa, sizeof(st));
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(KIPC_TYPE_REGION, st.type);
	EXPECT_EQ(id, st.id);
	EXPECT_EQ(0640, st.mode);
	EXPECT_EQ(geteuid(), st.uid);
	EXPECT_STREQ(self->name, st.name);
	EXPECT_EQ(3 * page + 100, st.region.size);
	EXPECT_EQ(0, st.region.nattch);
	EXPECT_EQ(0, st.region.nwritable);
	EXPECT_EQ(0, st.region.seals);
	EXPECT_EQ(0, st.region.lpid);
	EXPECT_EQ(0, st.region.atime_ns);
	EXPECT_EQ(0, st.region.dtime_ns);
	EXPECT_EQ(0, st.region.reserved[0]);
	EXPECT_EQ(0, st.region.reserved[2]);

	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(1, st.region.nattch);
	EXPECT_EQ(1, st.region.nwritable);
	EXPECT_EQ(getpid(), st.region.lpid);
	EXPECT_LT(0, st.region.atime_ns);
	EXPECT_EQ(0, st.region.dtime_ns);
	munmap(p, page);
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(0, st.region.nattch);
	EXPECT_EQ(0, st.region.nwritable);
	EXPECT_LE(st.region.atime_ns, st.region.dtime_ns);
	close(fd);
}

TEST_F(rg, every_vma_is_counted)
{
	char *p;
	int fd = rg_anon(self->dev, 4 * page);

	ASSERT_LE(0, fd);
	p = rg_map(fd, 4 * page, PROT_READ, MAP_SHARED);
	ASSERT_NE(NULL, p);
	/* Unmapping the middle splits one mapping in two. */
	ASSERT_EQ(0, munmap(p + page, page));
	EXPECT_EQ(2, rg_stat(fd).nattch);
	/* Read-only, but mprotect() could make it writable. */
	EXPECT_EQ(2, rg_stat(fd).nwritable);
	ASSERT_EQ(0, munmap(p, 4 * page));
	EXPECT_EQ(0, rg_stat(fd).nattch);
	EXPECT_EQ(0, rg_stat(fd).nwritable);
	close(fd);
}

TEST_F(rg, bad_attributes_are_einval)
{
	struct kipc_region_attr attr = { .size = page, .reserved = 1 };
	struct kipc_open req;

	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_REGION, NULL,
				   KIPC_O_CREAT, 0600, &attr, sizeof(attr),
				   NULL));
	EXPECT_EQ(-EINVAL, rg_open(self->dev, NULL, KIPC_O_CREAT, 0600, page,
				   0x100, NULL));
	memset(&req, 0, sizeof(req));
	req.type = KIPC_TYPE_REGION;
	req.flags = KIPC_O_CREAT;
	req.region.size = page;
	req.reserved[5] = 1;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(self->dev, KIPC_IOC_OPEN, &req)));
}

TEST_F(rg, huge_sizes_are_einval)
{
	struct kipc_info info;
	uint64_t before = rg_user_bytes(self->dev);

	ASSERT_EQ(0, kt_info(self->dev, &info));
	EXPECT_EQ(-EINVAL, rg_anon(self->dev, UINT64_MAX));
	EXPECT_EQ(-EINVAL, rg_anon(self->dev, UINT64_MAX - page + 2));
	EXPECT_EQ(-EINVAL, rg_anon(self->dev, 1ULL << 63));
	EXPECT_EQ(-EINVAL, rg_anon(self->dev, (uint64_t)LLONG_MAX));
	EXPECT_EQ(-EINVAL, rg_anon(self->dev, info.max_region_size + 1));
	/* Nothing was charged for the failures. */
	EXPECT_EQ(before, rg_user_bytes(self->dev));
}

TEST_F(rg, zero_size_maps_nothing_until_resized)
{
	int fd = rg_anon(self->dev, 0);
	char *p;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENXIO, rg_try_map(fd, page, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(0, rg_resize(fd, page));
	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	p[0] = 'z';
	munmap(p, page);
	close(fd);
}

TEST_F(rg, bad_pointers_are_efault)
{
	int fd = rg_anon(self->dev, page);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(fd, KIPC_IOC_REGION_RESIZE, NULL)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(fd, KIPC_IOC_REGION_ADD_SEALS, NULL)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(fd, KIPC_IOC_REGION_GET_SEALS,
					kt_bad_ptr())));
	EXPECT_EQ(-EFAULT, kt_ret(pwrite(fd, kt_bad_ptr(), 16, 0)));
	EXPECT_EQ(-EFAULT, kt_ret(pread(fd, kt_bad_ptr(), 16, 0)));
	/* Queue ioctls are not region ioctls. */
	EXPECT_EQ(-ENOTTY, kt_ret(ioctl(fd, KIPC_IOC_SEND, NULL)));
	close(fd);
}

/* Sharing */

TEST_F(rg, fork_child_shares_the_mapping)
{
	char *p;
	pid_t pid;
	int fd = rg_anon(self->dev, 2 * page);

	ASSERT_LE(0, fd);
	p = rg_map(fd, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	strcpy(p, "parent");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The inherited mapping counts as one more. */
		if (rg_stat(fd).nattch != 2)
			_exit(1);
		if (strcmp(p, "parent"))
			_exit(2);
		strcpy(p + page, "child");
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait(pid));
	EXPECT_STREQ("child", p + page);
	EXPECT_EQ(1, rg_stat(fd).nattch);
	munmap(p, 2 * page);
	close(fd);
}

TEST_F(rg, separate_opens_share_pages)
{
	char *a, *b;
	uint32_t id = 0;
	int fa, fb;

	fa = rg_open(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, page,
		     0, &id);
	ASSERT_LE(0, fa);
	fb = rg_open(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, &id);
	ASSERT_LE(0, fb);
	a = rg_map(fa, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	b = rg_map(fb, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	strcpy(a, "through a");
	EXPECT_STREQ("through a", b);
	EXPECT_EQ(2, rg_stat(fa).nattch);
	munmap(a, page);
	munmap(b, page);
	close(fa);
	close(fb);
}

TEST_F(rg, unrelated_process_opens_by_name)
{
	char exe[PATH_MAX], *slash, *p;
	ssize_t n;
	pid_t pid;
	int fd;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 32);
	ASSERT_LT(0, n);
	exe[n] = 0;
	slash = strrchr(exe, '/');
	ASSERT_NE(NULL, slash);
	strcpy(slash + 1, "region_peer");

	fd = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0600, page, 0, NULL);
	ASSERT_LE(0, fd);
	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	strcpy(p, "hello peer");
	/* Nothing of ours reaches the peer but the name. */
	ASSERT_EQ(0, fcntl(fd, F_SETFD, FD_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		munmap(p, page);
		execl(exe, exe, self->name, "hello peer", "hello back",
		      (char *)NULL);
		_exit(99);
	}
	ASSERT_EQ(0, kt_wait(pid));
	EXPECT_STREQ("hello back", p + 64);
	munmap(p, page);
	close(fd);
}

/* Access modes */

TEST_F(rg, readonly_fd_cannot_map_for_writing)
{
	int rw, ro;

	rw = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     page, 0, NULL);
	ASSERT_LE(0, rw);
	ro = rg_open(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EACCES, rg_try_map(ro, page, PROT_READ | PROT_WRITE,
				      MAP_SHARED, 0));
	EXPECT_EQ(0, rg_try_map(ro, page, PROT_READ, MAP_SHARED, 0));
	close(ro);
	close(rw);
}

TEST_F(rg, readonly_mapping_cannot_be_mprotected_writable)
{
	char *p, *w;
	int rw, ro;

	rw = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     page, 0, NULL);
	ASSERT_LE(0, rw);
	ro = rg_open(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, ro);
	p = rg_map(ro, page, PROT_READ, MAP_SHARED);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EACCES, kt_ret(mprotect(p, page, PROT_READ | PROT_WRITE)));
	/* It is not writable, but it is shared: it sees other writers. */
	w = rg_map(rw, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, w);
	strcpy(w, "update");
	EXPECT_STREQ("update", p);
	EXPECT_EQ(2, rg_stat(rw).nattch);
	EXPECT_EQ(1, rg_stat(rw).nwritable);
	munmap(w, page);
	munmap(p, page);
	close(ro);
	close(rw);
}

TEST_F(rg, writeonly_fd_cannot_map_or_read)
{
	char buf[4];
	int rw, wo;

	rw = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     page, 0, NULL);
	ASSERT_LE(0, rw);
	wo = rg_open(self->dev, self->name, KIPC_O_WRONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, wo);
	EXPECT_EQ(-EACCES, rg_try_map(wo, page, PROT_WRITE, MAP_SHARED, 0));
	EXPECT_EQ(-EBADF, kt_ret(pread(wo, buf, sizeof(buf), 0)));
	EXPECT_EQ(4, kt_ret(pwrite(wo, "abcd", 4, 0)));
	close(wo);
	close(rw);
}

TEST_F(rg, private_mapping_is_copy_on_write)
{
	char *shared, *priv, buf[8];
	int ro, rw;

	rw = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     page, 0, NULL);
	ASSERT_LE(0, rw);
	ro = rg_open(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, ro);
	shared = rg_map(rw, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, shared);
	strcpy(shared, "orig");
	/* Even a read-only fd gives a writable private copy, as a file does. */
	priv = rg_map(ro, page, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(NULL, priv);
	EXPECT_STREQ("orig", priv);
	strcpy(priv, "mine");
	EXPECT_STREQ("orig", shared);
	ASSERT_EQ(5, pread(rw, buf, 5, 0));
	EXPECT_STREQ("orig", buf);
	/* A private mapping is not a writer of the region. */
	EXPECT_EQ(1, rg_stat(rw).nwritable);
	munmap(priv, page);
	munmap(shared, page);
	close(ro);
	close(rw);
}

/* Bounds */

TEST_F(rg, mapping_past_the_end_is_enxio)
{
	int fd = rg_anon(self->dev, 2 * page);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, rg_try_map(fd, 2 * page, PROT_READ, MAP_SHARED, 0));
	EXPECT_EQ(0, rg_try_map(fd, page, PROT_READ, MAP_SHARED, page));
	EXPECT_EQ(-ENXIO, rg_try_map(fd, 3 * page, PROT_READ, MAP_SHARED, 0));
	EXPECT_EQ(-ENXIO, rg_try_map(fd, 2 * page, PROT_READ, MAP_SHARED,
				     page));
	EXPECT_EQ(-ENXIO, rg_try_map(fd, page, PROT_READ, MAP_SHARED,
				     2 * page));
	EXPECT_EQ(-ENXIO, rg_try_map(fd, page, PROT_READ, MAP_PRIVATE,
				     2 * page));
	EXPECT_EQ(0, rg_stat(fd).nattch);
	close(fd);
}

TEST_F(rg, overflowing_offsets_fail_cleanly)
{
	int fd = rg_anon(self->dev, 2 * page);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENXIO, rg_try_map(fd, page, PROT_READ, MAP_SHARED,
				     (off_t)1 << 62));
	EXPECT_EQ(-ENXIO, rg_try_map(fd, page, PROT_READ, MAP_SHARED,
				     LLONG_MAX & ~(page - 1)));
	/* Offset plus length wraps: the kernel refuses before we see it. */
	EXPECT_EQ(-EOVERFLOW, rg_try_map(fd, 2 * page, PROT_READ, MAP_SHARED,
					 -page));
	EXPECT_EQ(-EINVAL, rg_try_map(fd, page, PROT_READ, MAP_SHARED, 1));
	EXPECT_EQ(0, rg_stat(fd).nattch);
	close(fd);
}

TEST_F(rg, partial_last_page_is_mappable)
{
	char *p, buf[200];
	int fd = rg_anon(self->dev, 100);

	ASSERT_LE(0, fd);
	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	memset(p, 'x', 200);
	/* The bytes past the size are mapped but not part of the region. */
	EXPECT_EQ(100, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(-ENXIO, rg_try_map(fd, 2 * page, PROT_READ, MAP_SHARED, 0));
	munmap(p, page);
	close(fd);
}

TEST_F(rg, mremap_cannot_grow_a_mapping)
{
	char *p, *q;
	int fd = rg_anon(self->dev, 4 * page);

	ASSERT_LE(0, fd);
	p = rg_map(fd, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	q = mremap(p, 2 * page, 8 * page, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);
	/* Moving and shrinking are fine, and keep the count right. */
	q = mremap(p, 2 * page, page, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(1, rg_stat(fd).nattch);
	munmap(q, page);
	EXPECT_EQ(0, rg_stat(fd).nattch);
	close(fd);
}

TEST_F(rg, remap_file_pages_cannot_bypass_the_fd)
{
	char *p;
	int fd = rg_anon(self->dev, 2 * page);

	ASSERT_LE(0, fd);
	p = rg_map(fd, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	/*
	 * It would map the backing file afresh, past the region's checks; it
	 * fails, and like any failed MAP_FIXED leaves the range unmapped.
	 */
	EXPECT_EQ(-EPERM, kt_ret(remap_file_pages(p, page, 0, 1, 0)));
	EXPECT_EQ(1, rg_stat(fd).nattch);
	EXPECT_EQ(-EBUSY, rg_add_seals(fd, KIPC_SEAL_WRITE));
	munmap(p, 2 * page);
	EXPECT_EQ(0, rg_stat(fd).nattch);
	EXPECT_EQ(0, rg_add_seals(fd, KIPC_SEAL_WRITE));
	close(fd);
}

TEST_F(rg, msync_and_madv_remove_reach_the_pages)
{
	char *p, buf[4];
	int fd = rg_anon(self->dev, 2 * page);

	ASSERT_LE(0, fd);
	p = rg_map(fd, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	strcpy(p, "one");
	strcpy(p + page, "two");
	EXPECT_EQ(0, kt_ret(msync(p, 2 * page, MS_SYNC)));
	/* Punches a hole: the page reads back as zeroes, for everyone. */
	EXPECT_EQ(0, kt_ret(madvise(p, page, MADV_REMOVE)));
	EXPECT_EQ(0, p[0]);
	ASSERT_EQ(4, pread(fd, buf, 4, 0));
	EXPECT_EQ(0, buf[0]);
	EXPECT_STREQ("two", p + page);
	EXPECT_EQ(2 * page, rg_stat(fd).size);
	munmap(p, 2 * page);
	close(fd);
}

/* Lifetime */

TEST_F(rg, unlink_keeps_mappings_and_fds_working)
{
	uint64_t before = rg_objects(self->dev);
	char *p, buf[8];
	int fd;

	fd = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     page, 0, NULL);
	ASSERT_LE(0, fd);
	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	strcpy(p, "kept");
	ASSERT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_REGION, self->name));
	EXPECT_EQ(-ENOENT, rg_open(self->dev, self->name, KIPC_O_RDWR, 0, 0, 0,
				   NULL));
	EXPECT_EQ(5, pread(fd, buf, 5, 0));
	EXPECT_STREQ("kept", buf);
	EXPECT_EQ(0, rg_try_map(fd, page, PROT_READ, MAP_SHARED, 0));
	close(fd);
	/* The mapping alone keeps the region alive... */
	EXPECT_EQ(before + 1, rg_objects(self->dev));
	EXPECT_STREQ("kept", p);
	strcpy(p, "still");
	EXPECT_STREQ("still", p);
	/* ...until it goes. */
	munmap(p, page);
	EXPECT_EQ(before, rg_objects(self->dev));
}

TEST_F(rg, munmap_then_close_frees)
{
	uint64_t before = rg_objects(self->dev);
	char *p;
	int fd = rg_anon(self->dev, page);

	ASSERT_LE(0, fd);
	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	munmap(p, page);
	EXPECT_EQ(before + 1, rg_objects(self->dev));
	close(fd);
	EXPECT_EQ(before, rg_objects(self->dev));
}

TEST_F(rg, remove_while_mapped_defers_destroy)
{
	uint64_t before = rg_objects(self->dev);
	uint32_t id = 0, id2;
	struct kipc_stat st;
	char *p, buf[4];
	pid_t pid;
	int fd;

	fd = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     2 * page, 0, &id);
	ASSERT_LE(0, fd);
	p = rg_map(fd, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	strcpy(p, "before");
	ASSERT_EQ(0, kt_ret(ioctl(fd, KIPC_IOC_REMOVE)));

	/* No new way in... */
	EXPECT_EQ(-EIDRM, rg_try_map(fd, page, PROT_READ, MAP_SHARED, 0));
	EXPECT_EQ(-EIDRM, rg_try_map(fd, page, PROT_READ, MAP_PRIVATE, 0));
	EXPECT_EQ(-EIDRM, kt_ret(pread(fd, buf, sizeof(buf), 0)));
	EXPECT_EQ(-EIDRM, kt_ret(pwrite(fd, "x", 1, 0)));
	EXPECT_EQ(-EIDRM, rg_resize(fd, page));
	EXPECT_EQ(-EIDRM, rg_add_seals(fd, KIPC_SEAL_GROW));
	id2 = id;
	EXPECT_EQ(-ENOENT, rg_open(self->dev, NULL, KIPC_O_BY_ID, 0, 0, 0,
				   &id2));
	EXPECT_EQ(-ENOENT, rg_open(self->dev, self->name, 0, 0, 0, 0, NULL));
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_TRUE(st.flags & KIPC_STAT_REMOVED);
	EXPECT_EQ(1, st.region.nattch);

	/* ...but the mapping works, and so does its copy in a child. */
	EXPECT_STREQ("before", p);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		strcpy(p + page, "from child");
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait(pid));
	EXPECT_STREQ("from child", p + page);

	close(fd);
	EXPECT_EQ(before + 1, rg_objects(self->dev));
	munmap(p, 2 * page);
	EXPECT_EQ(before, rg_objects(self->dev));
}

TEST_F(rg, mapping_outlives_the_creator)
{
	uint64_t before = rg_objects(self->dev);
	int pfd[2], status;
	char buf[16] = "";
	pid_t pid;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = rg_anon(self->dev, page);
		char *p;

		if (fd < 0)
			_exit(1);
		p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
		if (!p)
			_exit(2);
		close(fd);
		strcpy(p, "orphan");
		/* A grandchild holds only the mapping and reports on it. */
		if (fork() == 0) {
			usleep(100000);
			if (write(pfd[1], p, 7) != 7)
				_exit(3);
			_exit(0);
		}
		_exit(0);
	}
	close(pfd[1]);
	status = kt_wait(pid);
	ASSERT_EQ(0, status);
	ASSERT_EQ(7, read(pfd[0], buf, sizeof(buf)));
	EXPECT_STREQ("orphan", buf);
	/* EOF: the grandchild and its mapping are gone. */
	EXPECT_EQ(0, read(pfd[0], buf, sizeof(buf)));
	close(pfd[0]);
	/* Its exit released the region; allow the exit to finish. */
	for (status = 0; status < 100 && rg_objects(self->dev) != before;
	     status++)
		usleep(10000);
	EXPECT_EQ(before, rg_objects(self->dev));
}

/* Resizing */

TEST_F(rg, resize_grows_and_shrinks)
{
	char *p, buf[8];
	int fd = rg_anon(self->dev, page);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rg_resize(fd, 3 * page));
	EXPECT_EQ(3 * page, rg_stat(fd).size);
	p = rg_map(fd, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	strcpy(p + 2 * page, "tail");
	munmap(p, 3 * page);

	ASSERT_EQ(0, rg_resize(fd, page));
	EXPECT_EQ(page, rg_stat(fd).size);
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), 2 * page));
	EXPECT_EQ(-ENXIO, rg_try_map(fd, 2 * page, PROT_READ, MAP_SHARED, 0));
	/* Growing again brings zeroes, not the old tail. */
	ASSERT_EQ(0, rg_resize(fd, 3 * page));
	ASSERT_EQ(5, pread(fd, buf, 5, 2 * page));
	EXPECT_EQ(0, memcmp(buf, "\0\0\0\0\0", 5));
	close(fd);
}

TEST_F(rg, resize_while_mapped_is_ebusy)
{
	int fd = rg_anon(self->dev, 2 * page);
	char *p;

	ASSERT_LE(0, fd);
	p = rg_map(fd, page, PROT_READ, MAP_PRIVATE);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EBUSY, rg_resize(fd, 4 * page));
	EXPECT_EQ(-EBUSY, rg_resize(fd, page));
	/* Not changing the size changes nothing. */
	EXPECT_EQ(0, rg_resize(fd, 2 * page));
	munmap(p, page);
	EXPECT_EQ(0, rg_resize(fd, page));
	close(fd);
}

TEST_F(rg, resize_needs_a_writable_fd)
{
	int rw, ro;

	rw = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     page, 0, NULL);
	ASSERT_LE(0, rw);
	ro = rg_open(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, rg_resize(ro, 2 * page));
	EXPECT_EQ(page, rg_stat(rw).size);
	close(ro);
	close(rw);
}

TEST_F(rg, resize_to_huge_sizes_is_einval)
{
	struct kipc_info info;
	int fd = rg_anon(self->dev, page);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_info(self->dev, &info));
	EXPECT_EQ(-EINVAL, rg_resize(fd, UINT64_MAX));
	EXPECT_EQ(-EINVAL, rg_resize(fd, 1ULL << 63));
	EXPECT_EQ(-EINVAL, rg_resize(fd, info.max_region_size + 1));
	EXPECT_EQ(page, rg_stat(fd).size);
	close(fd);
}

TEST_F(rg, resize_moves_the_charge)
{
	uint64_t base = rg_user_bytes(self->dev);
	int fd = rg_anon(self->dev, 100);

	ASSERT_LE(0, fd);
	/* Charged by whole pages. */
	EXPECT_EQ(base + page, rg_user_bytes(self->dev));
	ASSERT_EQ(0, rg_resize(fd, 5 * page + 1));
	EXPECT_EQ(base + 6 * page, rg_user_bytes(self->dev));
	ASSERT_EQ(0, rg_resize(fd, 2 * page));
	EXPECT_EQ(base + 2 * page, rg_user_bytes(self->dev));
	ASSERT_EQ(0, rg_resize(fd, 0));
	EXPECT_EQ(base, rg_user_bytes(self->dev));
	close(fd);
	EXPECT_EQ(base, rg_user_bytes(self->dev));
}

struct race {
	int fd;
	volatile bool stop;
	int bad;
};

/* Map whatever the size allows and touch all of it: never a SIGBUS. */
static void *race_mapper(void *arg)
{
	struct race *rc = arg;
	int i;

	for (i = 0; !rc->stop; i++) {
		size_t len = (1 + i % 2) * page;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       rc->fd, 0);

		if (p == MAP_FAILED) {
			if (errno != ENXIO)
				rc->bad = errno;
			continue;
		}
		p[0]++;
		p[len - 1]++;
		munmap(p, len);
	}
	return NULL;
}

TEST_F(rg, resize_racing_with_mmap_never_strands_a_mapping)
{
	struct race rc = { .fd = rg_anon(self->dev, page) };
	int i, ret, resized = 0;
	pthread_t t;

	ASSERT_LE(0, rc.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, race_mapper, &rc));
	for (i = 0; i < 20000; i++) {
		ret = rg_resize(rc.fd, (1 + i % 2) * page);
		if (ret == 0)
			resized++;
		else
			ASSERT_EQ(-EBUSY, ret);
	}
	rc.stop = true;
	pthread_join(t, NULL);
	EXPECT_EQ(0, rc.bad);
	EXPECT_LT(0, resized);
	EXPECT_EQ(0, rg_stat(rc.fd).nattch);
	close(rc.fd);
}

/* Seals */

TEST_F(rg, seal_grow_refuses_growing_only)
{
	int fd = rg_anon(self->dev, 2 * page);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rg_add_seals(fd, KIPC_SEAL_GROW));
	EXPECT_EQ(KIPC_SEAL_GROW, rg_seals(fd));
	EXPECT_EQ(-EPERM, rg_resize(fd, 3 * page));
	EXPECT_EQ(0, rg_resize(fd, page));
	EXPECT_EQ(-EPERM, rg_resize(fd, 2 * page));
	close(fd);
}

TEST_F(rg, seal_shrink_refuses_shrinking_only)
{
	int fd = rg_anon(self->dev, 2 * page);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rg_add_seals(fd, KIPC_SEAL_SHRINK));
	EXPECT_EQ(-EPERM, rg_resize(fd, page));
	EXPECT_EQ(0, rg_resize(fd, 3 * page));
	EXPECT_EQ(-EPERM, rg_resize(fd, 2 * page));
	EXPECT_EQ(3 * page, rg_stat(fd).size);
	close(fd);
}

TEST_F(rg, seal_write_refuses_writes_and_writable_maps)
{
	char *p, *priv, buf[8];
	int fd = rg_anon(self->dev, page);

	ASSERT_LE(0, fd);
	ASSERT_EQ(3, pwrite(fd, "old", 3, 0));
	ASSERT_EQ(0, rg_add_seals(fd, KIPC_SEAL_WRITE));
	EXPECT_EQ(-EPERM, kt_ret(pwrite(fd, "new", 3, 0)));
	EXPECT_EQ(-EPERM, rg_try_map(fd, page, PROT_READ | PROT_WRITE,
				     MAP_SHARED, 0));
	/* Read-only shared mappings stay read-only for good. */
	p = rg_map(fd, page, PROT_READ, MAP_SHARED);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EACCES, kt_ret(mprotect(p, page, PROT_READ | PROT_WRITE)));
	EXPECT_EQ(0, rg_stat(fd).nwritable);
	/* A private copy may still be written. */
	priv = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(NULL, priv);
	priv[0] = 'N';
	EXPECT_EQ('o', p[0]);
	ASSERT_EQ(3, pread(fd, buf, 3, 0));
	EXPECT_EQ(0, memcmp(buf, "old", 3));
	/* Resizing is not writing. */
	munmap(priv, page);
	munmap(p, page);
	EXPECT_EQ(0, rg_resize(fd, 2 * page));
	close(fd);
}

TEST_F(rg, seal_write_is_ebusy_while_mapped_writable)
{
	uint32_t id = 0;
	int fd, ro;
	char *p;

	fd = rg_open(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, page,
		     0, &id);
	ASSERT_LE(0, fd);
	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EBUSY, rg_add_seals(fd, KIPC_SEAL_WRITE));
	/* mprotect() could make a read-only shared mapping writable again. */
	ASSERT_EQ(0, mprotect(p, page, PROT_READ));
	EXPECT_EQ(-EBUSY, rg_add_seals(fd, KIPC_SEAL_WRITE));
	EXPECT_EQ(0, rg_seals(fd));
	munmap(p, page);

	/* A read-only fd's mapping never can. */
	ro = rg_open(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDONLY, 0, 0, 0,
		     &id);
	ASSERT_LE(0, ro);
	p = rg_map(ro, page, PROT_READ, MAP_SHARED);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, rg_add_seals(fd, KIPC_SEAL_WRITE));
	munmap(p, page);
	close(ro);
	close(fd);
}

TEST_F(rg, seal_seal_stops_further_seals)
{
	int fd = rg_anon(self->dev, page);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, rg_add_seals(fd, KIPC_SEAL_SHRINK));
	ASSERT_EQ(0, rg_add_seals(fd, KIPC_SEAL_SEAL));
	EXPECT_EQ(KIPC_SEAL_SHRINK | KIPC_SEAL_SEAL, rg_seals(fd));
	EXPECT_EQ(-EPERM, rg_add_seals(fd, KIPC_SEAL_GROW));
	EXPECT_EQ(-EPERM, rg_add_seals(fd, 0));
	EXPECT_EQ(KIPC_SEAL_SHRINK | KIPC_SEAL_SEAL, rg_seals(fd));
	close(fd);
}

TEST_F(rg, seal_bad_requests)
{
	int rw, ro;

	rw = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     page, 0, NULL);
	ASSERT_LE(0, rw);
	ro = rg_open(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EINVAL, rg_add_seals(rw, 0x10));
	EXPECT_EQ(-EBADF, rg_add_seals(ro, KIPC_SEAL_GROW));
	/* Anyone with the fd may look. */
	EXPECT_EQ(0, rg_seals(ro));
	close(ro);
	close(rw);
}

TEST_F(rg, initial_seals_apply_from_creation)
{
	int fd = rg_open(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
			 page, KIPC_SEAL_WRITE | KIPC_SEAL_GROW, NULL);

	ASSERT_LE(0, fd);
	EXPECT_EQ(KIPC_SEAL_WRITE | KIPC_SEAL_GROW, rg_seals(fd));
	EXPECT_EQ(-EPERM, kt_ret(pwrite(fd, "x", 1, 0)));
	EXPECT_EQ(-EPERM, rg_try_map(fd, page, PROT_WRITE, MAP_SHARED, 0));
	EXPECT_EQ(-EPERM, rg_resize(fd, 2 * page));
	EXPECT_EQ(0, rg_stat(fd).seals & KIPC_SEAL_SHRINK);
	close(fd);
}

/* pread, pwrite, lseek */

TEST_F(rg, pwrite_and_mapping_see_each_other)
{
	char *p, buf[16];
	int fd = rg_anon(self->dev, 2 * page);

	ASSERT_LE(0, fd);
	p = rg_map(fd, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(6, pwrite(fd, "pwrite", 6, page - 3));
	EXPECT_EQ(0, memcmp(p + page - 3, "pwrite", 6));
	memcpy(p + 10, "mapped", 6);
	ASSERT_EQ(6, pread(fd, buf, 6, 10));
	EXPECT_EQ(0, memcmp(buf, "mapped", 6));
	munmap(p, 2 * page);
	close(fd);
}

TEST_F(rg, pread_stops_at_the_end)
{
	char buf[64];
	int fd = rg_anon(self->dev, 100);

	ASSERT_LE(0, fd);
	EXPECT_EQ(64, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(36, pread(fd, buf, sizeof(buf), 64));
	EXPECT_EQ(10, pread(fd, buf, sizeof(buf), 90));
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), 100));
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), 1LL << 40));
	EXPECT_EQ(0, pread(fd, buf, 0, 0));
	close(fd);
}

TEST_F(rg, pwrite_stops_at_the_end)
{
	char buf[64];
	int fd = rg_anon(self->dev, 100);

	ASSERT_LE(0, fd);
	memset(buf, 'w', sizeof(buf));
	EXPECT_EQ(10, pwrite(fd, buf, sizeof(buf), 90));
	EXPECT_EQ(-EFBIG, kt_ret(pwrite(fd, buf, sizeof(buf), 100)));
	EXPECT_EQ(-EFBIG, kt_ret(pwrite(fd, buf, 1, 1LL << 40)));
	EXPECT_EQ(0, pwrite(fd, buf, 0, 1000));
	/* The size never changes by writing. */
	EXPECT_EQ(100, rg_stat(fd).size);
	close(fd);
}

TEST_F(rg, bad_offsets_are_einval)
{
	char buf[16];
	int fd = rg_anon(self->dev, page);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, kt_ret(pread(fd, buf, sizeof(buf), -1)));
	EXPECT_EQ(-EINVAL, kt_ret(pwrite(fd, buf, sizeof(buf), -1)));
	/* Offset plus count overflows loff_t. */
	EXPECT_EQ(-EINVAL, kt_ret(pread(fd, buf, sizeof(buf), LLONG_MAX - 4)));
	EXPECT_EQ(-EINVAL, kt_ret(pwrite(fd, buf, sizeof(buf), LLONG_MAX - 4)));
	EXPECT_EQ(-EINVAL, kt_ret(lseek(fd, -1, SEEK_SET)));
	close(fd);
}

TEST_F(rg, read_write_and_lseek_use_the_file_position)
{
	char buf[8] = "";
	int fd = rg_anon(self->dev, 100);

	ASSERT_LE(0, fd);
	EXPECT_EQ(100, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(96, lseek(fd, -4, SEEK_CUR));
	EXPECT_EQ(4, write(fd, "abcdefgh", 8));
	EXPECT_EQ(-EFBIG, kt_ret(write(fd, "x", 1)));
	EXPECT_EQ(96, lseek(fd, 96, SEEK_SET));
	EXPECT_EQ(4, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abcd", 4));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

TEST_F(rg, poll_is_always_ready)
{
	struct pollfd pfd;
	int fd = rg_anon(self->dev, page);

	ASSERT_LE(0, fd);
	pfd.fd = fd;
	pfd.events = POLLIN | POLLOUT;
	pfd.revents = 0;
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN | POLLOUT, pfd.revents);
	close(fd);
}

/* Limits, permissions, namespaces */

static int try_exceed_quota(void *arg)
{
	struct kipc_info info;
	int dev = kt_dev(), fd;
	uint64_t big;

	uint64_t base;

	(void)arg;
	if (dev < 0 || kt_info(dev, &info))
		return 101;
	base = info.user_bytes;
	big = info.max_user_bytes + page;
	if (big > info.max_region_size)
		return 102;
	fd = rg_anon(dev, big);
	if (fd != -ENOSPC)
		return 1;
	fd = rg_anon(dev, page);
	if (fd < 0)
		return 2;
	if (rg_resize(fd, big) != -ENOSPC)
		return 3;
	if (rg_stat(fd).size != (uint64_t)page)
		return 4;
	close(fd);
	if (kt_info(dev, &info) || info.user_bytes != base)
		return 5;
	return 0;
}

TEST_F(rg, user_byte_quota_is_enospc)
{
	struct kipc_info info;
	int ret;

	ASSERT_EQ(0, kt_info(self->dev, &info));
	if (info.max_user_bytes + page > info.max_region_size)
		SKIP(return, "max_region_size is within the byte quota");
	/* CAP_SYS_RESOURCE passes the quota: try it as a plain user. */
	if (kt_is_root())
		ret = as_nobody(try_exceed_quota, NULL);
	else
		ret = try_exceed_quota(NULL);
	EXPECT_EQ(0, ret);
}

struct perm_case {
	const char *name;
	long page;
};

static int nobody_reads_but_cannot_write(void *arg)
{
	struct perm_case *c = arg;
	int dev = kt_dev(), fd;
	char *p;

	if (rg_open(dev, c->name, KIPC_O_RDWR, 0, 0, 0, NULL) != -EACCES)
		return 1;
	if (rg_open(dev, c->name, KIPC_O_WRONLY, 0, 0, 0, NULL) != -EACCES)
		return 2;
	fd = rg_open(dev, c->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	if (fd < 0)
		return 3;
	if (rg_try_map(fd, c->page, PROT_READ | PROT_WRITE, MAP_SHARED, 0) !=
	    -EACCES)
		return 4;
	p = rg_map(fd, c->page, PROT_READ, MAP_SHARED);
	if (!p)
		return 5;
	if (strcmp(p, "root's"))
		return 6;
	if (mprotect(p, c->page, PROT_READ | PROT_WRITE) != -1 ||
	    errno != EACCES)
		return 7;
	if (pwrite(fd, "x", 1, 0) != -1 || errno != EBADF)
		return 8;
	if (rg_resize(fd, 2 * c->page) != -EBADF)
		return 9;
	if (rg_add_seals(fd, KIPC_SEAL_WRITE) != -EBADF)
		return 10;
	if (kt_ret(ioctl(fd, KIPC_IOC_REMOVE)) != -EPERM)
		return 11;
	return 0;
}

static int nobody_is_denied(void *arg)
{
	struct perm_case *c = arg;
	int dev = kt_dev();

	if (rg_open(dev, c->name, KIPC_O_RDONLY, 0, 0, 0, NULL) != -EACCES)
		return 1;
	return 0;
}

TEST_F(rg, another_user_gets_only_what_the_mode_grants)
{
	struct perm_case c = { .name = self->name, .page = page };
	struct kipc_set set = { .valid = KIPC_SET_MODE, .mode = 0644 };
	char *p;
	int fd;

	if (!kt_is_root())
		SKIP(return, "needs root to act as a second user");
	fd = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     page, 0, NULL);
	ASSERT_LE(0, fd);
	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	strcpy(p, "root's");
	EXPECT_EQ(0, as_nobody(nobody_is_denied, &c));
	ASSERT_EQ(0, kt_ret(ioctl(fd, KIPC_IOC_SET, &set)));
	EXPECT_EQ(0, as_nobody(nobody_reads_but_cannot_write, &c));
	EXPECT_STREQ("root's", p);
	munmap(p, page);
	close(fd);
}

/*
 * Growing a region: who pays.  The creator does, whoever grows it, as a
 * filesystem quota charges a file's owner for what any writer appends:
 * the charge is the object's, for its whole life.  The creator lets
 * others grow it by the mode bits and stops them with KIPC_SEAL_GROW; a
 * writer grows it as ftruncate(2) grows a file, within its own
 * RLIMIT_FSIZE.  Two unprivileged uids play creator and writer.
 */
#define CREATOR_UID	61000
#define WRITER_UID	65534

struct growth {
	char name[64];
	char big[64];		/* a second region of the creator's */
	long page;
	uint64_t size;		/* what the writer asks for */
	uint64_t fill;		/* the second region's size, 0: none */
	rlim_t fsize;		/* the writer's RLIMIT_FSIZE, 0: unlimited */
	int ret;		/* the writer's resize */
	uint64_t before, after;	/* the caller's user_bytes around its part */
	uint64_t max_user_bytes;
};

/* Run @fn as @uid (no groups) in a child: its exit code is the result. */
static int as_uid(uid_t uid, int (*fn)(struct growth *), struct growth *g)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		    setresuid(uid, uid, uid))
			_exit(100);
		_exit(fn(g));
	}
	return kt_wait(pid);
}

static int user_bytes(int dev, uint64_t *bytes)
{
	struct kipc_info info;

	if (kt_info(dev, &info))
		return -1;
	*bytes = info.user_bytes;
	return 0;
}

/* The creator: a one-page region any user may write, and maybe @fill more. */
static int growth_create(struct growth *g)
{
	int dev = kt_dev(), fd, big = -1;

	if (dev < 0 || user_bytes(dev, &g->before))
		return 1;
	fd = rg_open(dev, g->name, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
		     0666, g->page, 0, NULL);
	if (fd < 0)
		return 2;
	if (g->fill) {
		big = rg_open(dev, g->big, KIPC_O_CREAT | KIPC_O_EXCL |
			      KIPC_O_RDWR, 0600, g->fill, 0, NULL);
		if (big < 0)
			return 3;
	}
	if (user_bytes(dev, &g->after))
		return 4;
	/* Named: the regions stay when we go. */
	return 0;
}

/* The writer: open the creator's region and resize it to @size. */
static int growth_write(struct growth *g)
{
	struct rlimit rl = { g->fsize, g->fsize };
	int dev = kt_dev(), fd;

	if (dev < 0 || user_bytes(dev, &g->before))
		return 1;
	fd = rg_open(dev, g->name, KIPC_O_RDWR, 0, 0, 0, NULL);
	if (fd < 0)
		return 2;
	if (g->fsize) {
		/* Past the limit, ftruncate(2) raises SIGXFSZ: take EFBIG. */
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl))
			return 3;
	}
	g->ret = rg_resize(fd, g->size);
	if (user_bytes(dev, &g->after))
		return 4;
	close(fd);
	return 0;
}

/* The creator again: what it is charged now. */
static int growth_charged(struct growth *g)
{
	int dev = kt_dev();

	return dev < 0 || user_bytes(dev, &g->after);
}

static struct growth *growth_setup(struct __test_metadata *_metadata,
				   const char *name)
{
	struct growth *g;

	g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		return NULL;
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->big, sizeof(g->big), "%s-big", name);
	g->page = page;
	return g;
}

static void growth_teardown(int dev, struct growth *g)
{
	kt_unlink(dev, KIPC_TYPE_REGION, g->big);
	munmap(g, sizeof(*g));
}

TEST_F(rg, growth_by_another_writer_is_charged_to_the_creator)
{
	uint64_t created, writer;
	struct growth *g;

	if (!kt_is_root())
		SKIP(return, "needs root to act as two other users");
	g = growth_setup(_metadata, self->name);
	ASSERT_NE(NULL, g);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_create, g));
	EXPECT_EQ(g->before + page, g->after);
	created = g->after;

	g->size = 9 * page;
	ASSERT_EQ(0, as_uid(WRITER_UID, growth_write, g));
	EXPECT_EQ(0, g->ret);
	/* The writer pays nothing... */
	writer = g->before;
	EXPECT_EQ(writer, g->after);
	/* ... the creator the eight new pages. */
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_charged, g));
	EXPECT_EQ(created + 8 * page, g->after);

	/* Shrinking by the writer gives the creator its bytes back. */
	g->size = 2 * page;
	ASSERT_EQ(0, as_uid(WRITER_UID, growth_write, g));
	EXPECT_EQ(0, g->ret);
	EXPECT_EQ(writer, g->after);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_charged, g));
	EXPECT_EQ(created + page, g->after);
	growth_teardown(self->dev, g);
}

/* The charge stays with the creator: an owner could give away a bill. */
static int growth_give_away(struct growth *g)
{
	struct kipc_set set = { .valid = KIPC_SET_UID, .uid = WRITER_UID };
	int dev = kt_dev(), fd;

	if (dev < 0)
		return 1;
	fd = rg_open(dev, g->name, KIPC_O_RDWR, 0, 0, 0, NULL);
	if (fd < 0 || ioctl(fd, KIPC_IOC_SET, &set))
		return 2;
	return 0;
}

TEST_F(rg, growth_by_a_new_owner_is_charged_to_the_creator)
{
	uint64_t created, writer;
	struct kipc_stat st;
	struct growth *g;
	int fd;

	if (!kt_is_root())
		SKIP(return, "needs root to act as two other users");
	g = growth_setup(_metadata, self->name);
	ASSERT_NE(NULL, g);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_create, g));
	created = g->after;
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_give_away, g));
	fd = rg_open(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(WRITER_UID, st.uid);
	EXPECT_EQ(CREATOR_UID, st.cuid);
	close(fd);

	g->size = 5 * page;
	ASSERT_EQ(0, as_uid(WRITER_UID, growth_write, g));
	EXPECT_EQ(0, g->ret);
	writer = g->before;
	EXPECT_EQ(writer, g->after);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_charged, g));
	EXPECT_EQ(created + 4 * page, g->after);
	growth_teardown(self->dev, g);
}

TEST_F(rg, growth_by_another_writer_stops_at_the_creators_quota)
{
	struct kipc_info info;
	struct growth *g;
	uint64_t full;
	int fd;

	if (!kt_is_root())
		SKIP(return, "needs root to act as two other users");
	ASSERT_EQ(0, kt_info(self->dev, &info));
	if (info.max_user_bytes < 8 * page ||
	    info.max_user_bytes - 4 * page > info.max_region_size)
		SKIP(return, "max_region_size is within the byte quota");
	g = growth_setup(_metadata, self->name);
	ASSERT_NE(NULL, g);
	/* The creator keeps two pages of its quota free. */
	g->fill = (info.max_user_bytes - 3 * page) & ~(uint64_t)(page - 1);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_create, g));
	full = g->before + info.max_user_bytes / page * page;
	ASSERT_EQ(full - 2 * page, g->after)
		TH_LOG("uid %d was charged %llu before the test", CREATOR_UID,
		       (unsigned long long)g->before);

	/* Three more pages do not fit, and change nothing... */
	g->size = 4 * page;
	ASSERT_EQ(0, as_uid(WRITER_UID, growth_write, g));
	EXPECT_EQ(-ENOSPC, g->ret);
	EXPECT_EQ(g->before, g->after);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_charged, g));
	EXPECT_EQ(full - 2 * page, g->after);
	fd = rg_open(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(page, rg_stat(fd).size);
	close(fd);

	/* ... two do, to the byte. */
	g->size = 3 * page;
	ASSERT_EQ(0, as_uid(WRITER_UID, growth_write, g));
	EXPECT_EQ(0, g->ret);
	EXPECT_EQ(g->before, g->after);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_charged, g));
	EXPECT_EQ(full, g->after);
	growth_teardown(self->dev, g);
}

TEST_F(rg, growth_past_the_writers_file_size_limit_is_efbig)
{
	uint64_t created;
	struct growth *g;

	if (!kt_is_root())
		SKIP(return, "needs root to act as two other users");
	g = growth_setup(_metadata, self->name);
	ASSERT_NE(NULL, g);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_create, g));
	created = g->after;

	/* The writer's limit, not the creator's, as with ftruncate(2). */
	g->fsize = 4 * page;
	g->size = 5 * page;
	ASSERT_EQ(0, as_uid(WRITER_UID, growth_write, g));
	EXPECT_EQ(-EFBIG, g->ret);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_charged, g));
	EXPECT_EQ(created, g->after);
	g->size = 4 * page;
	ASSERT_EQ(0, as_uid(WRITER_UID, growth_write, g));
	EXPECT_EQ(0, g->ret);
	ASSERT_EQ(0, as_uid(CREATOR_UID, growth_charged, g));
	EXPECT_EQ(created + 3 * page, g->after);
	growth_teardown(self->dev, g);
}

TEST_F(rg, namespaces_are_isolated)
{
	uint32_t id = 0;
	int fd, status;
	char *p;
	pid_t pid;

	fd = rg_open(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0666,
		     page, 0, &id);
	ASSERT_LE(0, fd);
	p = rg_map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	strcpy(p, "outer");

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t cid = id;
		int dev, cfd;
		char *cp;

		if (enter_new_ipc_ns())
			_exit(200);
		dev = kt_dev();
		if (dev < 0)
			_exit(201);
		if (rg_open(dev, self->name, KIPC_O_RDWR, 0, 0, 0, NULL) != -ENOENT)
			_exit(1);
		if (rg_open(dev, NULL, KIPC_O_BY_ID, 0, 0, 0, &cid) != -ENOENT)
			_exit(2);
		if (kt_unlink(dev, KIPC_TYPE_REGION, self->name) != -ENOENT)
			_exit(3);
		/* The same name here is another region... */
		cfd = rg_open(dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL |
			      KIPC_O_RDWR, 0600, page, 0, NULL);
		if (cfd < 0)
			_exit(4);
		cp = rg_map(cfd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
		if (!cp || cp[0])
			_exit(5);
		strcpy(cp, "inner");
		/* ...and what was mapped before still is the outer one. */
		if (strcmp(p, "outer"))
			_exit(6);
		strcpy(p + 100, "seen inside");
		_exit(0);
	}
	status = kt_wait(pid);
	if (status == 200)
		SKIP(goto out, "cannot create an IPC namespace here");
	EXPECT_EQ(0, status);
	EXPECT_STREQ("outer", p);
	EXPECT_STREQ("seen inside", p + 100);
out:
	munmap(p, page);
	close(fd);
}

/* Accounting */

TEST_F(rg, many_cycles_leak_nothing)
{
	struct kipc_info before, after;
	int i;

	ASSERT_EQ(0, kt_info(self->dev, &before));
	for (i = 0; i < 600; i++) {
		size_t size = (size_t)(1 + i % 5) * page - (i % 3) * 7;
		char name[96], *p;
		int fd;

		snprintf(name, sizeof(name), "%s-%d", self->name, i % 5);
		fd = rg_open(self->dev, (i % 4) ? name : NULL,
			     KIPC_O_CREAT | KIPC_O_RDWR, 0600, size, 0, NULL);
		ASSERT_LE(0, fd);
		/* A reopened name keeps its size: map what it has. */
		size = rg_stat(fd).size;
		if (i % 6 == 5 && rg_stat(fd).nattch == 0) {
			size = (size_t)(1 + i % 4) * page;
			ASSERT_EQ(0, rg_resize(fd, size));
		}
		p = rg_map(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
		ASSERT_NE(NULL, p);
		memset(p, i, size);
		switch (i % 4) {
		case 0:
			close(fd);
			munmap(p, size);
			break;
		case 1:
			kt_unlink(self->dev, KIPC_TYPE_REGION, name);
			munmap(p, size);
			close(fd);
			break;
		case 2:
			ASSERT_EQ(0, kt_ret(ioctl(fd, KIPC_IOC_REMOVE)));
			close(fd);
			munmap(p, size);
			break;
		default:
			munmap(p, size);
			close(fd);
			break;
		}
	}
	for (i = 0; i < 5; i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s-%d", self->name, i);
		kt_unlink(self->dev, KIPC_TYPE_REGION, name);
	}
	ASSERT_EQ(0, kt_info(self->dev, &after));
	EXPECT_EQ(before.objects[KIPC_TYPE_REGION],
		  after.objects[KIPC_TYPE_REGION]);
	EXPECT_EQ(before.user_objects, after.user_objects);
	EXPECT_EQ(before.user_bytes, after.user_bytes);
	EXPECT_EQ(before.bytes, after.bytes);
}

TEST_F(rg, large_sparse_region_touches_little)
{
	uint64_t size = 64ULL << 20;
	struct kipc_info info;
	char *p;
	int fd;

	ASSERT_EQ(0, kt_info(self->dev, &info));
	if (size > info.max_region_size || size > info.max_user_bytes)
		SKIP(return, "limits below 64 MiB");
	fd = rg_anon(self->dev, size);
	ASSERT_LE(0, fd);
	p = rg_map(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	p[0] = 1;
	p[size - 1] = 2;
	EXPECT_EQ(1, p[0]);
	EXPECT_EQ(2, p[size - 1]);
	EXPECT_EQ(0, p[size / 2]);
	munmap(p, size);
	close(fd);
}

TEST_HARNESS_MAIN
