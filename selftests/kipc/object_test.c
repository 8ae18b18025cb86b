// SPDX-License-Identifier: GPL-2.0
/*
 * The kipc object model: the device, names, ids, files, permissions,
 * removal, accounting and IPC namespace isolation.  Queues stand in for
 * every object type here; queue semantics are in queue_test.c.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

static void unique_name(char *buf, size_t len, const char *tag)
{
	static int seq;

	snprintf(buf, len, "kt-%s-%d-%d", tag, getpid(), seq++);
}

FIXTURE(obj) {
	int dev;
	char name[64];
};

FIXTURE_SETUP(obj)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", KIPC_DEVICE_PATH,
				       strerror(-self->dev));
	unique_name(self->name, sizeof(self->name), "obj");
}

FIXTURE_TEARDOWN(obj)
{
	kt_unlink(self->dev, KIPC_TYPE_QUEUE, self->name);
	close(self->dev);
}

TEST_F(obj, info_reports_version_and_limits)
{
	struct kipc_info info;

	ASSERT_EQ(0, kt_info(self->dev, &info));
	EXPECT_EQ(KIPC_API_VERSION, info.version);
	EXPECT_LT(0, info.max_objects);
	EXPECT_LT(0, info.max_msgsize);
}

TEST_F(obj, unknown_ioctl_is_enotty)
{
	int q = kt_anon_queue(self->dev, 4, 64);

	ASSERT_LE(0, q);
	EXPECT_EQ(-ENOTTY, kt_ret(ioctl(self->dev, _IO(KIPC_IOC_MAGIC, 0x7f))));
	EXPECT_EQ(-ENOTTY, kt_ret(ioctl(q, _IO(KIPC_IOC_MAGIC, 0x7f))));
	EXPECT_EQ(-ENOTTY, kt_ret(ioctl(self->dev, TCGETS)));
	close(q);
}

TEST_F(obj, bad_pointers_are_efault)
{
	int q = kt_anon_queue(self->dev, 4, 64);

	ASSERT_LE(0, q);
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(self->dev, KIPC_IOC_OPEN, NULL)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(self->dev, KIPC_IOC_OPEN, (void *)1)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(self->dev, KIPC_IOC_INFO, NULL)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(self->dev, KIPC_IOC_UNLINK, NULL)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(q, KIPC_IOC_STAT, NULL)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(q, KIPC_IOC_SET, NULL)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(q, KIPC_IOC_SEND, NULL)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(q, KIPC_IOC_RECV, (void *)-4096L)));
	close(q);
}

/* A request the kernel can read but not write the id back into. */
TEST_F(obj, create_without_room_for_the_id_leaves_nothing)
{
	long page = sysconf(_SC_PAGESIZE);
	struct kipc_info before, after;
	struct kipc_open *req;
	int i;

	req = mmap(NULL, page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, req);
	req->type = KIPC_TYPE_QUEUE;
	req->flags = KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR;
	req->mode = 0600;
	kt_copy_name(req->name, self->name);
	ASSERT_EQ(0, mprotect(req, page, PROT_READ));
	ASSERT_EQ(0, kt_info(self->dev, &before));

	/* Named, anonymous, persistent: none survives, no fd is left. */
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-EFAULT, kt_ret(ioctl(self->dev, KIPC_IOC_OPEN, req)));
		ASSERT_EQ(0, mprotect(req, page, PROT_READ | PROT_WRITE));
		if (i == 0)
			req->name[0] = 0;
		else
			req->flags |= KIPC_O_PERSIST;
		ASSERT_EQ(0, mprotect(req, page, PROT_READ));
	}
	EXPECT_EQ(-ENOENT, kt_open(self->dev, KIPC_TYPE_QUEUE, self->name,
				   KIPC_O_RDWR, 0, NULL, 0, NULL));
	ASSERT_EQ(0, kt_info(self->dev, &after));
	EXPECT_EQ(before.objects[KIPC_TYPE_QUEUE],
		  after.objects[KIPC_TYPE_QUEUE]);
	EXPECT_EQ(before.user_objects, after.user_objects);
	munmap(req, page);
}

TEST_F(obj, bad_open_requests_are_rejected)
{
	char longname[KIPC_NAME_MAX + 8];
	struct kipc_open req;

	EXPECT_EQ(-EINVAL, kt_open(self->dev, 0, "x", KIPC_O_CREAT, 0600,
				   NULL, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_open(self->dev, 99, "x", KIPC_O_CREAT, 0600,
				   NULL, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_QUEUE, self->name,
				   KIPC_O_CREAT | 0x80000, 0600, NULL, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_QUEUE, self->name,
				   KIPC_O_CREAT | KIPC_O_ACCMODE, 0600, NULL, 0,
				   NULL));
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_QUEUE, self->name,
				   KIPC_O_CREAT, 04600, NULL, 0, NULL));
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_QUEUE, "a/b",
				   KIPC_O_CREAT, 0600, NULL, 0, NULL));
	/* No name, no CREAT: there is nothing to open. */
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_QUEUE, NULL, 0, 0600,
				   NULL, 0, NULL));
	/* A name and PERSIST, or BY_ID and CREAT, contradict each other. */
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_QUEUE, self->name,
				   KIPC_O_CREAT | KIPC_O_PERSIST, 0600, NULL, 0,
				   NULL));
	EXPECT_EQ(-EINVAL, kt_open(self->dev, KIPC_TYPE_QUEUE, NULL,
				   KIPC_O_CREAT | KIPC_O_BY_ID, 0600, NULL, 0,
				   NULL));

	/* A name without its NUL within KIPC_NAME_MAX + 1 bytes. */
	memset(&req, 0, sizeof(req));
	req.type = KIPC_TYPE_QUEUE;
	req.flags = KIPC_O_CREAT;
	memset(req.name, 'a', sizeof(req.name));
	EXPECT_EQ(-ENAMETOOLONG, kt_ret(ioctl(self->dev, KIPC_IOC_OPEN, &req)));

	/* The longest legal name works. */
	memset(longname, 'b', KIPC_NAME_MAX);
	longname[KIPC_NAME_MAX] = 0;
	memcpy(longname, self->name, strlen(self->name));
	int fd = kt_queue(self->dev, longname, KIPC_O_CREAT | KIPC_O_EXCL,
			  0600, 0, 0, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_QUEUE, longname));
}

TEST_F(obj, create_open_excl_enoent)
{
	uint32_t id1 = 0, id2 = 0;
	int a, b;

	EXPECT_EQ(-ENOENT, kt_queue(self->dev, self->name, KIPC_O_RDWR, 0, 0,
				    0, NULL));
	a = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0600, 0, 0, &id1);
	ASSERT_LE(0, a);
	EXPECT_LT(0, id1);
	EXPECT_EQ(-EEXIST, kt_queue(self->dev, self->name, KIPC_O_CREAT |
				    KIPC_O_EXCL, 0600, 0, 0, NULL));
	/* CREAT without EXCL opens the existing object. */
	b = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     0, 0, &id2);
	ASSERT_LE(0, b);
	EXPECT_EQ(id1, id2);

	/* Both fds reach the same queue. */
	ASSERT_EQ(0, kt_send(a, "hi", 2, 0, 1, 0, NULL));
	char buf[8];

	EXPECT_EQ(2, kt_recv(b, buf, sizeof(buf), NULL, 0, 0, NULL));
	close(a);
	close(b);
}

TEST_F(obj, anonymous_ids_are_unique_and_openable)
{
	uint32_t id1 = 0, id2 = 0, id3;
	int a, b, c;

	a = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 0, 0,
		     &id1);
	b = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 0, 0,
		     &id2);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_NE(id1, id2);

	id3 = id1;
	c = kt_queue(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, &id3);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, kt_send(a, "x", 1, 0, 1, 0, NULL));
	char buf[4];

	EXPECT_EQ(1, kt_recv(c, buf, sizeof(buf), NULL, 0, 0, NULL));

	/* An id that was never issued. */
	id3 = 0x7ffffff0;
	EXPECT_EQ(-ENOENT, kt_queue(self->dev, NULL, KIPC_O_BY_ID, 0, 0, 0,
				    &id3));
	close(a);
	close(c);

	/* The last close of an anonymous object frees its id. */
	id3 = id1;
	EXPECT_EQ(-ENOENT, kt_queue(self->dev, NULL, KIPC_O_BY_ID, 0, 0, 0,
				    &id3));
	close(b);
}

TEST_F(obj, unlink_keeps_open_files_working)
{
	char buf[8];
	int q;

	q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     0, 0, NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, "abc", 3, 0, 1, 0, NULL));
	ASSERT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_QUEUE, self->name));
	EXPECT_EQ(-ENOENT, kt_unlink(self->dev, KIPC_TYPE_QUEUE, self->name));
	EXPECT_EQ(-ENOENT, kt_queue(self->dev, self->name, KIPC_O_RDWR, 0, 0,
				    0, NULL));
	/* The message survived the unlink. */
	EXPECT_EQ(3, kt_recv(q, buf, sizeof(buf), NULL, 0, 0, NULL));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));

	/* A new object may take the name at once. */
	int q2 = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL,
			  0600, 0, 0, NULL);

	ASSERT_LE(0, q2);
	close(q2);
	close(q);
}

TEST_F(obj, named_object_persists_without_fds)
{
	char buf[8];
	int q;

	q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     0, 0, NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, "keep", 4, 0, 1, 0, NULL));
	close(q);
	q = kt_queue(self->dev, self->name, KIPC_O_RDWR, 0, 0, 0, NULL);
	ASSERT_LE(0, q);
	EXPECT_EQ(4, kt_recv(q, buf, sizeof(buf), NULL, 0, 0, NULL));
	close(q);
}

TEST_F(obj, persistent_anonymous_lives_until_removed)
{
	uint32_t id = 0, id2;
	int q;

	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_PERSIST |
		     KIPC_O_RDWR, 0600, 0, 0, &id);
	ASSERT_LE(0, q);
	close(q);
	id2 = id;
	q = kt_queue(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, &id2);
	ASSERT_LE(0, q);
	close(q);
	ASSERT_EQ(0, kt_name_req(self->dev, KIPC_IOC_REMOVE_BY,
				 KIPC_TYPE_QUEUE, NULL, id));
	id2 = id;
	EXPECT_EQ(-ENOENT, kt_queue(self->dev, NULL, KIPC_O_BY_ID, 0, 0, 0,
				    &id2));
	EXPECT_EQ(-ENOENT, kt_name_req(self->dev, KIPC_IOC_REMOVE_BY,
				       KIPC_TYPE_QUEUE, NULL, id));
}

TEST_F(obj, remove_invalidates_files_and_id)
{
	struct kipc_stat st;
	uint32_t id = 0, id2;
	char buf[4];
	int q;

	q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     0, 0, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, "x", 1, 0, 1, 0, NULL));
	ASSERT_EQ(0, kt_ret(ioctl(q, KIPC_IOC_REMOVE)));
	EXPECT_EQ(-EIDRM, kt_send(q, "x", 1, 0, 1, 0, NULL));
	EXPECT_EQ(-EIDRM, kt_recv(q, buf, sizeof(buf), NULL, 0, 0, NULL));
	EXPECT_EQ(-EIDRM, kt_ret(ioctl(q, KIPC_IOC_REMOVE)));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_TRUE(st.flags & KIPC_STAT_REMOVED);
	EXPECT_FALSE(st.flags & KIPC_STAT_NAMED);
	EXPECT_EQ(0, st.queue.msgs);
	id2 = id;
	EXPECT_EQ(-ENOENT, kt_queue(self->dev, NULL, KIPC_O_BY_ID, 0, 0, 0,
				    &id2));
	EXPECT_EQ(-ENOENT, kt_queue(self->dev, self->name, 0, 0, 0, 0, NULL));
	close(q);
}

TEST_F(obj, remove_by_name)
{
	int q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR,
			 0600, 0, 0, NULL);

	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_name_req(self->dev, KIPC_IOC_REMOVE_BY, KIPC_TYPE_QUEUE,
				 self->name, 0));
	EXPECT_EQ(-EIDRM, kt_send(q, "x", 1, 0, 1, 0, NULL));
	EXPECT_EQ(-ENOENT, kt_name_req(self->dev, KIPC_IOC_REMOVE_BY,
				       KIPC_TYPE_QUEUE, self->name, 0));
	close(q);
}

TEST_F(obj, cloexec_and_nonblock_flags)
{
	int q;

	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR |
		     KIPC_O_CLOEXEC | KIPC_O_NONBLOCK, 0600, 0, 0, NULL);
	ASSERT_LE(0, q);
	EXPECT_TRUE(fcntl(q, F_GETFD) & FD_CLOEXEC);
	EXPECT_TRUE(fcntl(q, F_GETFL) & O_NONBLOCK);
	close(q);

	q = kt_anon_queue(self->dev, 0, 0);
	ASSERT_LE(0, q);
	EXPECT_FALSE(fcntl(q, F_GETFD) & FD_CLOEXEC);
	EXPECT_FALSE(fcntl(q, F_GETFL) & O_NONBLOCK);
	close(q);
}

TEST_F(obj, access_mode_of_the_file_is_enforced)
{
	char buf[4];
	int w, r;

	w = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_WRONLY, 0600,
		     0, 0, NULL);
	ASSERT_LE(0, w);
	r = kt_queue(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, r);
	EXPECT_EQ(-EBADF, kt_recv(w, buf, sizeof(buf), NULL, 0,
				  KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(-EBADF, kt_send(r, "x", 1, 0, 1, 0, NULL));
	EXPECT_EQ(-EBADF, kt_ret(read(w, buf, sizeof(buf))));
	EXPECT_EQ(-EBADF, kt_ret(write(r, "x", 1)));
	EXPECT_EQ(0, kt_send(w, "x", 1, 0, 1, 0, NULL));
	EXPECT_EQ(1, kt_recv(r, buf, sizeof(buf), NULL, 0, 0, NULL));
	close(w);
	close(r);
}

TEST_F(obj, stat_reports_owner_and_identity)
{
	struct kipc_stat st;
	uint32_t id = 0;
	int q;

	q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0640,
		     7, 100, &id);
	ASSERT_LE(0, q);
	memset(&st, 0xaa, sizeof(st));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_EQ(KIPC_TYPE_QUEUE, st.type);
	EXPECT_EQ(id, st.id);
	EXPECT_EQ(geteuid(), st.uid);
	EXPECT_EQ(geteuid(), st.cuid);
	EXPECT_EQ(getegid(), st.gid);
	EXPECT_EQ(0640, st.mode);
	EXPECT_EQ(getpid(), st.cpid);
	EXPECT_EQ(1, st.nfds);
	EXPECT_TRUE(st.flags & KIPC_STAT_NAMED);
	EXPECT_STREQ(self->name, st.name);
	EXPECT_LT(0, st.ctime_ns);
	EXPECT_EQ(7, st.queue.max_msgs);
	EXPECT_EQ(100, st.queue.max_msgsize);
	EXPECT_EQ(700, st.queue.max_bytes);
	/* Reserved and unused bytes come back zeroed, not stale. */
	EXPECT_EQ(0, st.queue.reserved);
	EXPECT_EQ(0, st.name[sizeof(st.name) - 1]);
	EXPECT_EQ(0, st.name[strlen(self->name) + 1]);
	close(q);
}

TEST_F(obj, set_changes_mode_and_owner)
{
	struct kipc_set set = { .valid = KIPC_SET_MODE, .mode = 0604 };
	struct kipc_stat st;
	int q = kt_anon_queue(self->dev, 0, 0);

	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_ret(ioctl(q, KIPC_IOC_SET, &set)));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_EQ(0604, st.mode);
	set.mode = 01777;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(q, KIPC_IOC_SET, &set)));
	set.valid = 0x100;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(q, KIPC_IOC_SET, &set)));
	set.valid = KIPC_SET_UID;
	set.uid = (uint32_t)-1;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(q, KIPC_IOC_SET, &set)));
	close(q);
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

struct perm_case {
	const char *name;
	uint32_t id;
};

static int try_open_rdwr(void *arg)
{
	struct perm_case *c = arg;
	int dev = kt_dev();

	return -kt_queue(dev, c->name, KIPC_O_RDWR, 0, 0, 0, NULL);
}

static int try_open_rdonly(void *arg)
{
	struct perm_case *c = arg;
	int dev = kt_dev();
	int fd = kt_queue(dev, c->name, KIPC_O_RDONLY, 0, 0, 0, NULL);

	return fd >= 0 ? 0 : -fd;
}

static int try_open_by_id(void *arg)
{
	struct perm_case *c = arg;
	int dev = kt_dev();
	uint32_t id = c->id;

	return -kt_queue(dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, &id);
}

static int try_remove(void *arg)
{
	struct perm_case *c = arg;
	int dev = kt_dev();

	return -kt_name_req(dev, KIPC_IOC_REMOVE_BY, KIPC_TYPE_QUEUE,
			    c->name, 0);
}

static int try_unlink(void *arg)
{
	struct perm_case *c = arg;
	int dev = kt_dev();

	return -kt_unlink(dev, KIPC_TYPE_QUEUE, c->name);
}

TEST_F(obj, another_user_is_denied)
{
	struct perm_case c = { .name = self->name };
	int q;

	if (!kt_is_root())
		SKIP(return, "needs root to act as a second user");
	q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		     0, 0, &c.id);
	ASSERT_LE(0, q);
	EXPECT_EQ(EACCES, as_nobody(try_open_rdwr, &c));
	EXPECT_EQ(EACCES, as_nobody(try_open_rdonly, &c));
	EXPECT_EQ(EACCES, as_nobody(try_open_by_id, &c));
	EXPECT_EQ(EPERM, as_nobody(try_remove, &c));
	EXPECT_EQ(EACCES, as_nobody(try_unlink, &c));

	/* Granting read to others lets a read-only open through, no more. */
	struct kipc_set set = { .valid = KIPC_SET_MODE, .mode = 0604 };

	ASSERT_EQ(0, kt_ret(ioctl(q, KIPC_IOC_SET, &set)));
	EXPECT_EQ(0, as_nobody(try_open_rdonly, &c));
	EXPECT_EQ(EACCES, as_nobody(try_open_rdwr, &c));
	close(q);
}

/*
 * Queues reserving the largest capacity allowed (messages enough to fill
 * it), until the per-user byte quota says no.  Returns the errno that
 * stopped it; the fds die with us.
 */
static int try_exhaust_quota(void *arg)
{
	struct kipc_queue_attr attr = { .max_msgs = 1024, .max_msgsize = 65536 };
	struct kipc_info info;
	int dev = kt_dev();
	unsigned long i;

	(void)arg;
	if (kt_info(dev, &info))
		return 101;
	attr.max_bytes = info.max_queue_bytes;
	for (i = 0; i <= info.max_user_bytes / info.max_queue_bytes + 1; i++) {
		int q = kt_open(dev, KIPC_TYPE_QUEUE, NULL, KIPC_O_CREAT, 0600,
				&attr, sizeof(attr), NULL);
		if (q < 0)
			return -q;
	}
	return 0;
}

TEST_F(obj, user_byte_quota_is_enospc)
{
	if (kt_is_root()) {
		EXPECT_EQ(ENOSPC, as_nobody(try_exhaust_quota, NULL));
	} else {
		EXPECT_EQ(ENOSPC, try_exhaust_quota(NULL));
	}
}

TEST_F(obj, charges_return_to_zero)
{
	struct kipc_info before, during, after;
	int q;

	ASSERT_EQ(0, kt_info(self->dev, &before));
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 4, 256,
		     NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, "x", 1, 0, 1, 0, NULL));
	ASSERT_EQ(0, kt_info(self->dev, &during));
	EXPECT_EQ(before.user_objects + 1, during.user_objects);
	/* at least the capacity; message headers and segments count too */
	EXPECT_LE(before.user_bytes + 4 * 256, during.user_bytes);
	close(q);
	ASSERT_EQ(0, kt_info(self->dev, &after));
	EXPECT_EQ(before.user_objects, after.user_objects);
	EXPECT_EQ(before.user_bytes, after.user_bytes);
}

/* Enter a new IPC namespace, as root or through a new user namespace. */
static int enter_new_ipc_ns(void)
{
	if (kt_is_root())
		return unshare(CLONE_NEWIPC) ? -errno : 0;
	return unshare(CLONE_NEWUSER | CLONE_NEWIPC) ? -errno : 0;
}

TEST_F(obj, namespaces_are_isolated)
{
	uint32_t id = 0;
	int q, status;
	pid_t pid;

	q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_RDWR, 0666,
		     0, 0, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, "parent", 6, 0, 1, 0, NULL));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t cid = id;
		int dev, cq;
		char buf[8];

		if (enter_new_ipc_ns())
			_exit(200);
		dev = kt_dev();
		if (dev < 0)
			_exit(201);
		if (kt_queue(dev, self->name, KIPC_O_RDWR, 0, 0, 0, NULL) != -ENOENT)
			_exit(1);
		if (kt_queue(dev, NULL, KIPC_O_BY_ID, 0, 0, 0, &cid) != -ENOENT)
			_exit(2);
		if (kt_unlink(dev, KIPC_TYPE_QUEUE, self->name) != -ENOENT)
			_exit(3);
		/* The same name here is a different object. */
		cq = kt_queue(dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL |
			      KIPC_O_RDWR, 0600, 0, 0, NULL);
		if (cq < 0)
			_exit(4);
		if (kt_recv(cq, buf, sizeof(buf), NULL, 0, KIPC_F_NONBLOCK,
			    NULL) != -EAGAIN)
			_exit(5);
		_exit(0);
	}
	status = kt_wait(pid);
	if (status == 200)
		SKIP(goto out, "cannot create an IPC namespace here");
	EXPECT_EQ(0, status);
	/* Ours is untouched. */
	char buf[8];

	EXPECT_EQ(6, kt_recv(q, buf, sizeof(buf), NULL, 0, KIPC_F_NONBLOCK,
			     NULL));
out:
	close(q);
}

TEST_F(obj, dead_namespace_objects_are_reaped)
{
	struct kipc_info before, after;
	int status, i;
	pid_t pid;

	ASSERT_EQ(0, kt_info(self->dev, &before));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev;

		if (enter_new_ipc_ns())
			_exit(200);
		dev = kt_dev();
		/* Named and persistent objects that nobody will remove. */
		if (kt_queue(dev, "orphan-a", KIPC_O_CREAT, 0600, 0, 0, NULL) < 0 ||
		    kt_queue(dev, NULL, KIPC_O_CREAT | KIPC_O_PERSIST, 0600, 0,
			     0, NULL) < 0)
			_exit(1);
		_exit(0);
	}
	status = kt_wait(pid);
	if (status == 200)
		SKIP(return, "cannot create an IPC namespace here");
	ASSERT_EQ(0, status);

	/* The namespace dies with the child; INFO reaps what it left. */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, kt_info(self->dev, &after));
		if (after.user_objects == before.user_objects)
			break;
		usleep(20000);
	}
	EXPECT_EQ(before.user_objects, after.user_objects);
	EXPECT_EQ(before.user_bytes, after.user_bytes);
}

/* The initial IPC namespace's inode number, fixed since Linux 3.8. */
#define INIT_IPC_NS_INO		0xEFFFFFFFU
#define REAP_INTERVAL_PARAM	"/sys/module/kipc/parameters/reap_interval_ms"

static bool in_init_ipc_ns(void)
{
	struct stat st;

	return !stat("/proc/self/ns/ipc", &st) && st.st_ino == INIT_IPC_NS_INO;
}

/* Set the reaper's interval, the old one in *@old; false if we may not. */
static bool set_reap_interval(unsigned int ms, unsigned int *old)
{
	FILE *f = fopen(REAP_INTERVAL_PARAM, "r+");
	bool ok;

	if (!f)
		return false;
	ok = !old || fscanf(f, "%u", old) == 1;
	ok = ok && !fseek(f, 0, SEEK_SET) && fprintf(f, "%u\n", ms) > 0;
	return !fclose(f) && ok;
}

/*
 * Nothing holds these objects but the initial namespace, which never dies:
 * neither INFO nor the reaper's work may take them, however often they run
 * (7.x keeps the initial namespaces' reference count fixed, which made
 * "only kipc's reference is left" true for them).
 */
TEST_F(obj, init_namespace_objects_survive_reaping)
{
	unsigned int old_ms = 0;
	struct kipc_info info;
	uint32_t id = 0;
	bool fast;
	int q, i;

	if (!in_init_ipc_ns())
		SKIP(return, "not in the initial IPC namespace");
	q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL, 0600,
		     0, 0, NULL);
	ASSERT_LE(0, q);
	close(q);
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_PERSIST, 0600, 0, 0,
		     &id);
	ASSERT_LE(0, q);
	close(q);

	/* Several of the reaper's intervals, at its shortest if we may. */
	fast = set_reap_interval(100, &old_ms);
	for (i = 0; i < 10; i++) {
		EXPECT_EQ(0, kt_info(self->dev, &info));
		usleep(fast ? 100000 : 20000);
	}
	if (fast)
		EXPECT_TRUE(set_reap_interval(old_ms, NULL));

	q = kt_queue(self->dev, self->name, KIPC_O_RDWR, 0, 0, 0, NULL);
	EXPECT_LE(0, q) TH_LOG("the named queue is gone: %s", strerror(-q));
	if (q >= 0)
		close(q);
	q = kt_queue(self->dev, NULL, KIPC_O_BY_ID | KIPC_O_RDWR, 0, 0, 0, &id);
	EXPECT_LE(0, q) TH_LOG("the persistent queue is gone: %s", strerror(-q));
	if (q >= 0) {
		EXPECT_EQ(0, kt_ret(ioctl(q, KIPC_IOC_REMOVE)));
		close(q);
	}
}

/*
 * A namespace that no task is in any more can still be entered through an
 * nsfs file (or a bind mount of one): its objects stay until that goes.
 */
TEST_F(obj, namespace_kept_by_nsfs_file_keeps_its_objects)
{
	struct kipc_info before, after;
	int sv[2], nsfd, status, i;
	pid_t pid;

	ASSERT_EQ(0, kt_info(self->dev, &before));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, fd;

		close(sv[0]);
		if (enter_new_ipc_ns())
			_exit(200);
		dev = kt_dev();
		if (kt_queue(dev, "kept", KIPC_O_CREAT, 0600, 0, 0, NULL) < 0)
			_exit(1);
		fd = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
		_exit(fd < 0 || kt_send_fd(sv[1], fd) ? 2 : 0);
	}
	close(sv[1]);
	nsfd = kt_recv_fd(sv[0]);
	close(sv[0]);
	status = kt_wait(pid);
	if (status == 200)
		SKIP(return, "cannot create an IPC namespace here");
	ASSERT_EQ(0, status);
	ASSERT_LE(0, nsfd);

	/* Nobody is in it, but it can be entered: nothing is reaped. */
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, kt_info(self->dev, &after));
		usleep(20000);
	}
	EXPECT_EQ(before.user_objects + 1, after.user_objects);

	/* Without the file it is dead, and what it held goes. */
	close(nsfd);
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, kt_info(self->dev, &after));
		if (after.user_objects == before.user_objects)
			break;
		usleep(20000);
	}
	EXPECT_EQ(before.user_objects, after.user_objects);
	EXPECT_EQ(before.user_bytes, after.user_bytes);
}

TEST_F(obj, many_objects_leak_nothing)
{
	struct kipc_info before, after;
	int i;

	ASSERT_EQ(0, kt_info(self->dev, &before));
	for (i = 0; i < 2000; i++) {
		char name[96];
		int q;

		snprintf(name, sizeof(name), "%s-%d", self->name, i % 7);
		q = kt_queue(self->dev, name, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
			     4, 64, NULL);
		ASSERT_LE(0, q);
		/* A reopened name may already be full: both outcomes are fine. */
		int sent = kt_send(q, name, 8, i % 3, 1 + i % 5,
				   KIPC_F_NONBLOCK, NULL);

		ASSERT_TRUE(sent == 0 || sent == -EAGAIN);
		if (i % 3 == 0) {
			ASSERT_EQ(0, kt_ret(ioctl(q, KIPC_IOC_REMOVE)));
		} else if (i % 3 == 1) {
			kt_unlink(self->dev, KIPC_TYPE_QUEUE, name);
		}
		close(q);
	}
	for (i = 0; i < 7; i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s-%d", self->name, i);
		kt_unlink(self->dev, KIPC_TYPE_QUEUE, name);
	}
	ASSERT_EQ(0, kt_info(self->dev, &after));
	EXPECT_EQ(before.user_objects, after.user_objects);
	EXPECT_EQ(before.user_bytes, after.user_bytes);
}

TEST_HARNESS_MAIN
