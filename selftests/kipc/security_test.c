// SPDX-License-Identifier: GPL-2.0
/*
 * Security properties of kipc, beyond what the per-type tests check: the
 * test runs as root and forks children that drop to other users (or become
 * root of a user namespace of their own), and asserts that
 *
 *  - a stranger cannot open, map, remove (ioctl or netlink), unlink or
 *    change another user's objects of any type, and capabilities in a
 *    user namespace give no power over the initial namespace's objects;
 *  - read-only and write-only fds do only what their mode allows, for every
 *    type, through every call, mapping and mprotect() included;
 *  - netlink shows everyone what the UAPI header promises (the objects of
 *    the caller's IPC namespace, as /proc/sysvipc does), no more: no
 *    payload, no semaphore values, no attribute it does not document,
 *    uids and pids translated into the viewer's namespaces;
 *  - structures and netlink replies come back with every reserved and
 *    padding byte zeroed, nothing stale, nothing shaped like a kernel
 *    address;
 *  - the per-user quotas (max_user_objects, max_user_bytes) hold against a
 *    user trying to exhaust kernel memory, and are released by removal;
 *  - what an object holds is charged to its creator's memory cgroup.
 *
 * Tests that need root SKIP without it.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sched.h>
#include <setjmp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"
#include "kipc_sem.h"
#include "kipc_rawnl.h"

/* Test output goes through stdio; the harness's child ends with _exit(). */
#define sec_msg(...) do {						\
	ksft_print_msg(__VA_ARGS__);					\
	fflush(stdout);							\
} while (0)

#define NEED_ROOT() do {						\
	if (!kt_is_root())						\
		SKIP(return, "needs root to act as other users");	\
} while (0)

/* Users of these tests: no other test runs as them. */
#define STRANGER	43210
#define QUOTA_USER	43211

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/*
 * Checks inside children: count what fails, say where, go on.  The child's
 * exit code is the number of failures.
 */
static int child_failures;

#define CK(cond) do {							\
	if (!(cond)) {							\
		child_failures++;					\
		fprintf(stderr, "#   child %d, line %d: %s\n",		\
			(int)getpid(), __LINE__, #cond);		\
	}								\
} while (0)

#define CK_EQ(want, expr) do {						\
	long long w_ = (long long)(want), g_ = (long long)(expr);	\
	if (w_ != g_) {							\
		child_failures++;					\
		fprintf(stderr, "#   child %d, line %d: %s is %lld, not %lld\n", \
			(int)getpid(), __LINE__, #expr, g_, w_);	\
	}								\
} while (0)

static int become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

/*
 * Become root of a new user namespace, mapped onto the current (unprivileged)
 * uid and gid: full capabilities there, none over the initial namespaces.
 */
static int enter_userns_as_root(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

	/*
	 * Having changed uid, we are not dumpable, and our /proc files
	 * (uid_map among them) belong to root: take them back.
	 */
	prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER))
		return -errno;
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (write_file("/proc/self/uid_map", map))
		return -EPERM;
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if (write_file("/proc/self/gid_map", map))
		return -EPERM;
	return 0;
}

/* What a child returns (200) when it cannot make a user namespace. */
#define NO_USERNS	"cannot create a user namespace here (a chroot, as in the test VM, refuses them): skipped that part\n"

/* Run @fn in a child as @uid; its exit status (failures), or 100+. */
static int as_user(uid_t uid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return 100;
	if (pid == 0) {
		if (become(uid, uid))
			_exit(101);
		_exit(fn(arg));
	}
	return kt_wait(pid);
}

/* Objects of every kind */

enum kind { K_QUEUE, K_RING, K_REGION, K_SEM, K_COUNT };

static const char *const kind_names[K_COUNT] = {
	"queue", "ring", "region", "semaphore set",
};

static uint32_t kind_type(int k)
{
	return k == K_REGION ? KIPC_TYPE_REGION :
	       k == K_SEM ? KIPC_TYPE_SEM :
	       k == K_RING ? KIPC_TYPE_RING : KIPC_TYPE_QUEUE;
}

static int kind_open(int dev, int k, const char *name, uint32_t flags,
		     uint32_t mode, uint32_t *id)
{
	struct kipc_queue_attr q = { .max_msgs = 4, .max_msgsize = 256 };
	struct kipc_ring_attr ring = { .slots = 4, .slot_size = 256 };
	struct kipc_region_attr r = { .size = 2 * page_size() };
	struct kipc_sem_attr s = { .nsems = 3, .value = 1 };

	switch (k) {
	case K_QUEUE:
		return kt_open(dev, KIPC_TYPE_QUEUE, name, flags, mode, &q,
			       sizeof(q), id);
	case K_RING:
		return kt_open(dev, KIPC_TYPE_RING, name, flags, mode, &ring,
			       sizeof(ring), id);
	case K_REGION:
		return kt_open(dev, KIPC_TYPE_REGION, name, flags, mode, &r,
			       sizeof(r), id);
	default:
		return kt_open(dev, KIPC_TYPE_SEM, name, flags, mode, &s,
			       sizeof(s), id);
	}
}

/* The size to map an object of kind @k with, from its fd. */
static size_t kind_map_size(int k, int fd)
{
	struct kipc_ring_info ri;

	switch (k) {
	case K_RING:
		return ioctl(fd, KIPC_IOC_RING_INFO, &ri) ? 0 : ri.map_size;
	case K_REGION:
		return 2 * page_size();
	case K_SEM:
		return 3 * sizeof(uint32_t);
	default:
		return page_size();
	}
}

/* Netlink over a raw socket */

/* The replies of a GET (do or dump), as copies of their raw messages. */
struct nl_replies {
	int n;
	size_t len[64];
	uint8_t *msg[64];
	const struct rnl *nl;
	char why[256];			/* the first bad reply */
};

static int nl_collect(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_replies *r = arg;

	if (!r->why[0] &&
	    rnl_check_kipc_reply(r->nl, nlh, r->why, sizeof(r->why)) == 0 &&
	    r->n < 64) {
		r->msg[r->n] = malloc(nlh->nlmsg_len);
		memcpy(r->msg[r->n], nlh, nlh->nlmsg_len);
		r->len[r->n++] = nlh->nlmsg_len;
	}
	return 0;
}

static void nl_replies_free(struct nl_replies *r)
{
	while (r->n)
		free(r->msg[--r->n]);
}

/* GET of @id (or a dump with @id 0); 0 or -errno. */
static int nl_get(uint32_t id, struct nl_replies *r)
{
	struct rnl nl;
	struct rnl_msg m;
	int ret = rnl_open(&nl, 5000);

	memset(r, 0, sizeof(*r));
	if (ret)
		return ret;
	r->nl = &nl;
	rnl_start(&nl, &m, nl.family, NLM_F_REQUEST |
		  (id ? NLM_F_ACK : NLM_F_DUMP), id ? KIPC_CMD_GET : KIPC_CMD_STATS,
		  KIPC_GENL_VERSION);
	if (id) {
		rnl_put_u32(&m, KIPC_A_ID, id);
	} else {
		((struct genlmsghdr *)NLMSG_DATA(rnl_hdr(&m)))->cmd = KIPC_CMD_GET;
	}
	ret = rnl_xfer(&nl, &m, nl_collect, r);
	rnl_close(&nl);
	r->nl = NULL;
	return ret;
}

/* The first attribute @type at the top level of reply @i, or NULL. */
static const struct nlattr *nl_attr(const struct nl_replies *r, int i, int type)
{
	const struct nlattr *a, *head;
	int len, rem;

	head = rnl_attrs((const void *)r->msg[i], &len);
	rnl_for_each_attr(a, head, len, rem)
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static const struct nlattr *nl_nested(const struct nlattr *nest, int type)
{
	const struct nlattr *a;
	int rem;

	if (!nest)
		return NULL;
	rnl_for_each_attr(a, (const struct nlattr *)rnl_data(nest),
			  rnl_payload_len(nest), rem)
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static int64_t nl_int(const struct nlattr *a)
{
	int32_t v32;
	int64_t v64;

	if (!a)
		return -1;
	if (rnl_payload_len(a) == 8) {
		memcpy(&v64, rnl_data(a), 8);
		return v64;
	}
	memcpy(&v32, rnl_data(a), 4);
	return v32;
}

/* The reply of a dump that describes object @id. */
static int nl_find(const struct nl_replies *r, uint32_t id)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (nl_int(nl_attr(r, i, KIPC_A_ID)) == id)
			return i;
	return -1;
}

static bool mem_has(const uint8_t *hay, size_t n, const void *needle, size_t k)
{
	size_t i;

	for (i = 0; i + k <= n; i++)
		if (!memcmp(hay + i, needle, k))
			return true;
	return false;
}

/*
 * 1. Strangers
 */

struct stranger_case {
	char name[K_COUNT][2][64];	/* [kind][0: mode 0600, 1: mode 0666] */
	uint32_t id[K_COUNT][2];
	bool userns;			/* as root of a user namespace */
};

static int stranger(void *arg)
{
	struct stranger_case *c = arg;
	struct kipc_set set = { .valid = KIPC_SET_MODE, .mode = 0777 };
	int dev, k, fd;

	if (c->userns && enter_userns_as_root())
		return 200;
	dev = kt_dev();
	CK(dev >= 0);
	for (k = 0; k < K_COUNT; k++) {
		uint32_t type = kind_type(k), id = c->id[k][0];
		const char *priv = c->name[k][0], *pub = c->name[k][1];
		size_t len;
		void *p;

		/* A private object: no way in, no way to get rid of it. */
		CK_EQ(-EACCES, kind_open(dev, k, priv, KIPC_O_RDONLY, 0, NULL));
		CK_EQ(-EACCES, kind_open(dev, k, priv, KIPC_O_WRONLY, 0, NULL));
		CK_EQ(-EACCES, kind_open(dev, k, priv, KIPC_O_RDWR, 0, NULL));
		CK_EQ(-EACCES, kind_open(dev, k, priv, KIPC_O_CREAT | KIPC_O_RDONLY,
					 0666, NULL));
		CK_EQ(-EACCES, kt_open(dev, type, NULL, KIPC_O_BY_ID, 0, NULL, 0,
				       &id));
		CK_EQ(-EACCES, kt_unlink(dev, type, priv));
		CK_EQ(-EPERM, kt_name_req(dev, KIPC_IOC_REMOVE_BY, type, priv, 0));
		CK_EQ(-EPERM, kt_name_req(dev, KIPC_IOC_REMOVE_BY, type, NULL, id));
		CK_EQ(-EPERM, rnl_remove(type, id, NULL));
		CK_EQ(-EPERM, rnl_remove(type, 0, priv));

		/* A public one: in and out as the mode says, still not ours. */
		fd = kind_open(dev, k, pub, KIPC_O_RDWR, 0, NULL);
		CK(fd >= 0);
		if (fd < 0)
			continue;
		CK_EQ(-EPERM, kt_ret(ioctl(fd, KIPC_IOC_REMOVE)));
		CK_EQ(-EPERM, kt_ret(ioctl(fd, KIPC_IOC_SET, &set)));
		CK_EQ(-EACCES, kt_unlink(dev, type, pub));
		CK_EQ(-EPERM, rnl_remove(type, c->id[k][1], NULL));
		CK_EQ(-EPERM, rnl_remove(type, 0, pub));
		len = kind_map_size(k, fd);
		if (k != K_QUEUE) {
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			CK(p != MAP_FAILED);
			if (p != MAP_FAILED)
				munmap(p, len);
		}
		close(fd);
	}
	close(dev);
	return child_failures;
}

TEST(strangers_cannot_open_map_or_remove)
{
	struct stranger_case *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int dev = kt_dev(), fds[K_COUNT][2], k, v, status;

	NEED_ROOT();
	ASSERT_NE(MAP_FAILED, c);
	ASSERT_LE(0, dev);
	for (k = 0; k < K_COUNT; k++)
		for (v = 0; v < 2; v++) {
			snprintf(c->name[k][v], sizeof(c->name[k][v]),
				 "sec-%d-%d-%d", getpid(), k, v);
			fds[k][v] = kind_open(dev, k, c->name[k][v],
					      KIPC_O_CREAT | KIPC_O_EXCL |
					      KIPC_O_RDWR, v ? 0666 : 0600,
					      &c->id[k][v]);
			ASSERT_LE(0, fds[k][v]) TH_LOG("%s", kind_names[k]);
		}

	EXPECT_EQ(0, as_user(STRANGER, stranger, c));
	c->userns = true;
	status = as_user(STRANGER, stranger, c);
	if (status == 200) {
		sec_msg(NO_USERNS);
	} else {
		EXPECT_EQ(0, status) TH_LOG("as root of a user namespace");
	}

	/* All of it is still there, as it was. */
	for (k = 0; k < K_COUNT; k++)
		for (v = 0; v < 2; v++) {
			struct kipc_stat st;

			ASSERT_EQ(0, kt_stat(fds[k][v], &st));
			EXPECT_EQ(KIPC_STAT_NAMED, st.flags);
			EXPECT_EQ(v ? 0666u : 0600u, st.mode);
			EXPECT_EQ(0, kt_unlink(dev, kind_type(k), c->name[k][v]));
			close(fds[k][v]);
		}
	close(dev);
	munmap(c, sizeof(*c));
}

/*
 * 2. File modes
 */

static sigjmp_buf *volatile fault_jmp;

static void on_fault(int sig)
{
	if (fault_jmp)
		siglongjmp(*fault_jmp, sig);
	_exit(99);
}

/* Write a byte at @p: 0, or the signal that refused it. */
static int try_store(volatile uint8_t *p, uint8_t v)
{
	struct sigaction sa = { .sa_handler = on_fault, .sa_flags = SA_NODEFER };
	struct sigaction old_segv, old_bus;
	sigjmp_buf jb;
	int sig;

	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(jb, 1);
	if (!sig) {
		fault_jmp = &jb;
		__asm__ volatile("" ::: "memory");
		*p = v;
	}
	fault_jmp = NULL;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return sig;
}

/* What a read-only fd of any kind must not be able to do with mappings. */
static void check_ro_mapping(struct __test_metadata *_metadata, int k, int ro,
			     int rw)
{
	size_t len = kind_map_size(k, rw);
	uint8_t *p;

	if (k == K_QUEUE)
		return;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_SHARED, ro, 0)) TH_LOG("%s", kind_names[k]);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("%s: %s", kind_names[k], strerror(errno));
	/* mprotect() cannot add what the fd lacks, nor can a store */
	EXPECT_EQ(-EACCES, kt_ret(mprotect(p, len, PROT_READ | PROT_WRITE)));
	EXPECT_EQ(SIGSEGV, try_store(p, 0x5a)) TH_LOG("%s", kind_names[k]);
	munmap(p, len);
}

TEST(readonly_and_writeonly_fds_change_nothing)
{
	int dev = kt_dev(), k;
	char name[64];

	ASSERT_LE(0, dev);
	for (k = 0; k < K_COUNT; k++) {
		uint32_t type = kind_type(k), id = 0;
		int rw, ro, wo;

		snprintf(name, sizeof(name), "sec-mode-%d-%d", getpid(), k);
		rw = kind_open(dev, k, name, KIPC_O_CREAT | KIPC_O_EXCL |
			       KIPC_O_RDWR, 0600, &id);
		ASSERT_LE(0, rw);
		ro = kind_open(dev, k, name, KIPC_O_RDONLY, 0, NULL);
		wo = kind_open(dev, k, name, KIPC_O_WRONLY, 0, NULL);
		ASSERT_LE(0, ro);
		ASSERT_LE(0, wo);
		ASSERT_EQ(0, kt_unlink(dev, type, name));

		check_ro_mapping(_metadata, k, ro, rw);
		/* A write-only fd maps nothing: every mapping reads. */
		EXPECT_EQ(MAP_FAILED, mmap(NULL, page_size(), PROT_WRITE,
					   MAP_SHARED, wo, 0));
		EXPECT_EQ(EACCES, errno) TH_LOG("%s", kind_names[k]);

		switch (k) {
		case K_QUEUE: {
			struct kipc_msg rm = { 0 };
			struct kipc_sendrecv sr = { 0 };
			struct kipc_msg sm = { .buf = (uintptr_t)"req", .len = 3,
					       .type = 1 };
			char buf[16];
			struct kipc_stat st;

			EXPECT_EQ(-EBADF, kt_send(ro, "x", 1, 0, 1, 0, NULL));
			EXPECT_EQ(-EBADF, kt_ret(write(ro, "x", 1)));
			EXPECT_EQ(-EBADF, kt_recv(wo, buf, sizeof(buf), NULL, 0,
						  KIPC_F_NONBLOCK, NULL));
			EXPECT_EQ(-EBADF, kt_ret(read(wo, buf, sizeof(buf))));
			/* SENDRECV: each side as its own fd's mode allows */
			rm.buf = (uintptr_t)buf;
			rm.len = sizeof(buf);
			sr.send.msgs = (uintptr_t)&sm;
			sr.send.count = 1;
			sr.recv.msgs = (uintptr_t)&rm;
			sr.recv.count = 1;
			sr.recv.flags = KIPC_F_NONBLOCK;
			sr.recv_fd = rw;
			EXPECT_EQ(-EBADF, kt_ret(ioctl(ro, KIPC_IOC_SENDRECV, &sr)));
			/* a receive that cannot happen: nothing is sent */
			sr.recv_fd = wo;
			EXPECT_EQ(-EBADF, kt_ret(ioctl(rw, KIPC_IOC_SENDRECV, &sr)));
			sr.recv_fd = rw;
			sr.recv.flags = 0x8000;
			EXPECT_EQ(-EINVAL, kt_ret(ioctl(rw, KIPC_IOC_SENDRECV, &sr)));
			ASSERT_EQ(0, kt_stat(rw, &st));
			EXPECT_EQ(0, st.queue.msgs);
			EXPECT_EQ(0, st.queue.sent);
			break;
		}
		case K_RING:
			EXPECT_EQ(MAP_FAILED, mmap(NULL, kind_map_size(k, rw),
						   PROT_READ, MAP_SHARED, wo, 0));
			EXPECT_EQ(EACCES, errno);
			break;
		case K_REGION: {
			uint64_t size = 4 * page_size();
			uint32_t seals = KIPC_SEAL_GROW;
			uint8_t *priv;
			char buf[4];

			EXPECT_EQ(-EBADF, kt_ret(pwrite(ro, "x", 1, 0)));
			EXPECT_EQ(-EBADF, kt_ret(write(ro, "x", 1)));
			EXPECT_EQ(-EBADF, kt_ret(ioctl(ro, KIPC_IOC_REGION_RESIZE,
						       &size)));
			EXPECT_EQ(-EBADF, kt_ret(ioctl(ro,
						       KIPC_IOC_REGION_ADD_SEALS,
						       &seals)));
			EXPECT_EQ(-EBADF, kt_ret(pread(wo, buf, 1, 0)));
			/* a private writable copy never reaches the pages */
			priv = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
				    MAP_PRIVATE, ro, 0);
			ASSERT_NE(MAP_FAILED, priv);
			memset(priv, 0x77, 16);
			munmap(priv, page_size());
			ASSERT_EQ(1, pread(rw, buf, 1, 0));
			EXPECT_EQ(0, buf[0]);
			break;
		}
		case K_SEM: {
			int32_t vals[3] = { 1, 1, 1 };

			EXPECT_EQ(-EBADF, kt_sem1(ro, 0, -1, 0, KIPC_F_NONBLOCK, NULL));
			EXPECT_EQ(-EBADF, kt_sem1(ro, 0, 1, 0, KIPC_F_NONBLOCK, NULL));
			EXPECT_EQ(-EBADF, kt_sem1(ro, 0, -1, KIPC_SEMOP_UNDO,
						  KIPC_F_NONBLOCK, NULL));
			EXPECT_EQ(-EAGAIN, kt_sem1(ro, 0, 0, 0, KIPC_F_NONBLOCK,
						   NULL));
			EXPECT_EQ(-EBADF, kt_setval(ro, 0, 5));
			EXPECT_EQ(-EBADF, kt_setall(ro, vals, 3));
			EXPECT_EQ(1, kt_getval(ro, 0));
			EXPECT_EQ(-EBADF, kt_getval(wo, 0));
			EXPECT_EQ(-EBADF, kt_getall(wo, vals, 3));
			EXPECT_EQ(-EBADF, kt_sem1(wo, 0, 0, 0, KIPC_F_NONBLOCK, NULL));
			EXPECT_EQ(0, kt_sem1(wo, 0, -1, 0, KIPC_F_NONBLOCK, NULL));
			EXPECT_EQ(0, kt_getval(rw, 0));
			break;
		}
		}
		close(wo);
		close(ro);
		close(rw);
	}
	close(dev);
}

/*
 * 3. What netlink and the stat structures tell
 */

/* An object of each kind holding a secret: payload, value, contents. */
static const char secret[] = "kipc-secret-7f3a91c2";
#define SECRET_VALUE	0x2a5a5a5a	/* above any pid */

static int make_secret_objects(int dev, int fds[K_COUNT], uint32_t ids[K_COUNT],
			       const char *tag)
{
	struct kipc_sem_attr posix = { .flags = KIPC_SEM_POSIX,
				       .value = SECRET_VALUE };
	char name[64];
	int k;

	for (k = 0; k < K_COUNT; k++) {
		snprintf(name, sizeof(name), "sec-%s-%d-%d", tag, getpid(), k);
		if (k == K_SEM)
			fds[k] = kt_open(dev, KIPC_TYPE_SEM, name, KIPC_O_CREAT |
					 KIPC_O_EXCL | KIPC_O_RDWR, 0600, &posix,
					 sizeof(posix), &ids[k]);
		else
			fds[k] = kind_open(dev, k, name, KIPC_O_CREAT | KIPC_O_EXCL |
					   KIPC_O_RDWR, 0600, &ids[k]);
		if (fds[k] < 0)
			return fds[k];
		kt_unlink(dev, kind_type(k), name);
	}
	if (kt_send(fds[K_QUEUE], secret, sizeof(secret), 3, 7, 0, NULL) ||
	    pwrite(fds[K_REGION], secret, sizeof(secret), 0) != sizeof(secret))
		return -EIO;
	return 0;
}

/* A GET of each object must show what the header documents, no more. */
static int check_views(const uint32_t ids[K_COUNT], bool own, pid_t creator)
{
	struct nl_replies r;
	int k, i;

	for (k = 0; k < K_COUNT; k++) {
		const struct nlattr *nest;
		uint32_t value = SECRET_VALUE;

		CK_EQ(0, nl_get(ids[k], &r));
		if (r.why[0])
			fprintf(stderr, "#   %s: %s\n", kind_names[k], r.why);
		CK(!r.why[0]);
		CK_EQ(1, r.n);
		if (r.n != 1)
			continue;
		/* the contents stay private, whatever the header shows */
		CK(!mem_has(r.msg[0], r.len[0], secret, 8));
		CK(!mem_has(r.msg[0], r.len[0], &value, 4));
		CK_EQ(kind_type(k), nl_int(nl_attr(&r, 0, KIPC_A_TYPE)));
		CK_EQ(own ? (long long)creator : 0,
		      nl_int(nl_attr(&r, 0, KIPC_A_CPID)));
		/* exactly the nest of the object's type */
		for (i = KIPC_A_QUEUE; i <= KIPC_A_STATS; i++) {
			bool want = k == K_QUEUE ? i == KIPC_A_QUEUE :
				    k == K_REGION ? i == KIPC_A_REGION :
				    k == K_SEM ? i == KIPC_A_SEM : false;

			CK_EQ(want, nl_attr(&r, 0, i) != NULL);
		}
		CK_EQ(k == K_RING, nl_attr(&r, 0, KIPC_A_RING) != NULL);
		nest = nl_attr(&r, 0, KIPC_A_QUEUE);
		if (k == K_QUEUE) {
			CK_EQ(1, nl_int(nl_nested(nest, KIPC_QUEUE_A_MSGS)));
			CK_EQ(own ? (long long)creator : 0,
			      nl_int(nl_nested(nest, KIPC_QUEUE_A_LSPID)));
		}
		nl_replies_free(&r);
	}
	return 0;
}

struct view_case {
	uint32_t ids[K_COUNT];
	pid_t creator;
	uint32_t uid;			/* the owner, as the viewer sees it */
};

/* A stranger in the same namespaces sees them, as /proc/sysvipc would. */
static int view_as_stranger(void *arg)
{
	struct view_case *c = arg;
	struct nl_replies r;
	int k;

	check_views(c->ids, true, c->creator);
	CK_EQ(0, nl_get(0, &r));
	CK(!r.why[0]);
	for (k = 0; k < K_COUNT; k++) {
		int i = nl_find(&r, c->ids[k]);

		CK(i >= 0);
		if (i < 0)
			continue;
		CK_EQ(c->uid, nl_int(nl_attr(&r, i, KIPC_A_UID)));
		CK(!mem_has(r.msg[i], r.len[i], secret, 8));
	}
	nl_replies_free(&r);
	return child_failures;
}

/* Root of a user namespace sees uid 0 outside it as the overflow uid. */
static int view_from_userns(void *arg)
{
	struct view_case *c = arg;
	struct nl_replies r;
	int k;

	if (enter_userns_as_root())
		return 200;
	for (k = 0; k < K_COUNT; k++) {
		CK_EQ(0, nl_get(c->ids[k], &r));
		CK(!r.why[0]);
		if (r.n == 1) {
			CK_EQ(65534, nl_int(nl_attr(&r, 0, KIPC_A_UID)));
			CK_EQ(65534, nl_int(nl_attr(&r, 0, KIPC_A_CUID)));
		}
		nl_replies_free(&r);
	}
	/* ... and a new IPC namespace sees none of them */
	if (unshare(CLONE_NEWIPC))
		return child_failures + 1;
	for (k = 0; k < K_COUNT; k++)
		CK_EQ(-ENOENT, nl_get(c->ids[k], &r));
	CK_EQ(0, nl_get(0, &r));
	CK_EQ(0, r.n);
	nl_replies_free(&r);
	return child_failures;
}

TEST(netlink_shows_what_sysvipc_would_and_no_more)
{
	struct view_case c = { .creator = getpid() };
	int dev = kt_dev(), fds[K_COUNT], k, status;
	pid_t pid;

	NEED_ROOT();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, make_secret_objects(dev, fds, c.ids, "view"));
	/* the owner's own view */
	EXPECT_EQ(0, check_views(c.ids, true, c.creator));
	EXPECT_EQ(0, child_failures);

	c.uid = 0;
	EXPECT_EQ(0, as_user(STRANGER, view_as_stranger, &c));
	status = as_user(STRANGER, view_from_userns, &c);
	if (status == 200)
		sec_msg(NO_USERNS);
	else
		EXPECT_EQ(0, status);

	/* From another pid namespace, the creator and sender are nobody (0). */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t inner;

		if (unshare(CLONE_NEWPID))
			_exit(200);
		inner = fork();
		if (inner == 0) {
			if (become(STRANGER, STRANGER))
				_exit(101);
			check_views(c.ids, false, 0);
			_exit(child_failures);
		}
		_exit(kt_wait(inner));
	}
	status = kt_wait(pid);
	if (status == 200)
		sec_msg("cannot create a pid namespace here: skipped that part\n");
	else
		EXPECT_EQ(0, status);
	for (k = 0; k < K_COUNT; k++)
		close(fds[k]);
	close(dev);
}

/* Zeroes from @from to the end of @len bytes at @p: the first offender. */
static long first_nonzero(const void *p, size_t from, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = from; i < len; i++)
		if (b[i])
			return (long)i;
	return -1;
}

static long first_kernel_ptr(const void *p, size_t len)
{
	size_t i;
	uint64_t v;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&v, (const uint8_t *)p + i, 8);
		if (rnl_kernel_ptr_like(v))
			return (long)i;
	}
	return -1;
}

TEST(answers_carry_no_stale_bytes)
{
	int dev = kt_dev(), fds[K_COUNT], k, q;
	uint32_t ids[K_COUNT];
	struct kipc_stat st;
	struct kipc_info info;
	struct kipc_ring_info ri;
	struct kipc_semval sv;
	struct nl_replies r;
	struct rnl nl;
	struct rnl_msg m;
	struct kipc_msg msg;
	int32_t vals[4];
	char name[64], buf[64];
	size_t used;

	ASSERT_LE(0, dev);
	ASSERT_EQ(0, make_secret_objects(dev, fds, ids, "stale"));

	for (k = 0; k < K_COUNT; k++) {
		memset(&st, 0xa5, sizeof(st));
		ASSERT_EQ(0, kt_stat(fds[k], &st));
		EXPECT_EQ(-1, first_kernel_ptr(&st, sizeof(st)));
		/* the type's part, then zeroes to the end of the union */
		used = k == K_REGION ? offsetof(struct kipc_region_stat, reserved) :
		       k == K_SEM ? offsetof(struct kipc_sem_stat, reserved) :
		       k == K_RING ? offsetof(struct kipc_ring_stat, reserved) :
		       sizeof(struct kipc_queue_stat);
		EXPECT_EQ(-1, first_nonzero(&st.queue, used, sizeof(st.reserved)))
			TH_LOG("%s", kind_names[k]);
		/* an unlinked object has no name: all of it zero */
		EXPECT_EQ(-1, first_nonzero(st.name, 0, sizeof(st.name)));
		EXPECT_EQ(0, st.flags);
	}

	/* A named one: zeroes after the NUL. */
	snprintf(name, sizeof(name), "sec-n-%d", getpid());
	q = kind_open(dev, K_QUEUE, name, KIPC_O_CREAT | KIPC_O_RDWR, 0600, NULL);
	ASSERT_LE(0, q);
	memset(&st, 0xa5, sizeof(st));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_STREQ(name, st.name);
	EXPECT_EQ(-1, first_nonzero(st.name, strlen(name), sizeof(st.name)));
	kt_unlink(dev, KIPC_TYPE_QUEUE, name);
	close(q);

	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, kt_info(dev, &info));
	EXPECT_EQ(0, info.reserved0);
	EXPECT_EQ(-1, first_nonzero(info.reserved, 0, sizeof(info.reserved)));
	EXPECT_EQ(-1, first_kernel_ptr(&info, sizeof(info)));

	memset(&ri, 0xa5, sizeof(ri));
	ASSERT_EQ(0, kt_ret(ioctl(fds[K_RING], KIPC_IOC_RING_INFO, &ri)));
	EXPECT_EQ(-1, first_nonzero(ri.reserved, 0, sizeof(ri.reserved)));

	memset(&sv, 0xa5, sizeof(sv));
	sv.num = 0;
	ASSERT_EQ(0, kt_ret(ioctl(fds[K_SEM], KIPC_IOC_SEM_GETVAL, &sv)));
	EXPECT_EQ(0, sv.reserved);
	EXPECT_EQ(SECRET_VALUE, sv.value);

	/* GETALL writes nsems values, not a byte past them. */
	memset(vals, 0xa5, sizeof(vals));
	EXPECT_EQ(1, kt_getall(fds[K_SEM], vals, 4));
	EXPECT_EQ(SECRET_VALUE, vals[0]);
	EXPECT_EQ((int32_t)0xa5a5a5a5, vals[1]);

	/* A received message: every field written, nothing else touched. */
	memset(&msg, 0xa5, sizeof(msg));
	memset(buf, 0xa5, sizeof(buf));
	msg.buf = (uintptr_t)buf;
	msg.len = sizeof(buf);
	msg.type = 0;
	ASSERT_EQ(1, kt_xfer(fds[K_QUEUE], KIPC_IOC_RECV, &msg, 1,
			     KIPC_F_NONBLOCK | KIPC_F_PEEK, NULL));
	EXPECT_EQ(0, msg.flags);
	EXPECT_EQ(sizeof(secret), msg.len);
	EXPECT_EQ(sizeof(secret), msg.msg_len);
	EXPECT_EQ(3, msg.prio);
	EXPECT_EQ(7, msg.type);
	EXPECT_EQ((char)0xa5, buf[sizeof(secret)]);

	/* Netlink: every reply clean, to the padding: a dump, STATS. */
	ASSERT_EQ(0, nl_get(0, &r));
	EXPECT_STREQ("", r.why);
	for (k = 0; k < K_COUNT; k++)
		EXPECT_LE(0, nl_find(&r, ids[k]));
	nl_replies_free(&r);

	ASSERT_EQ(0, rnl_open(&nl, 5000));
	memset(&r, 0, sizeof(r));
	r.nl = &nl;
	rnl_start(&nl, &m, nl.family, NLM_F_REQUEST | NLM_F_ACK,
		  KIPC_CMD_STATS, KIPC_GENL_VERSION);
	EXPECT_EQ(0, rnl_xfer(&nl, &m, nl_collect, &r));
	EXPECT_STREQ("", r.why);
	EXPECT_EQ(1, r.n);
	nl_replies_free(&r);
	rnl_close(&nl);

	for (k = 0; k < K_COUNT; k++)
		close(fds[k]);
	close(dev);
}

/*
 * 4. Quotas
 */

#define PARAM_DIR	"/sys/module/kipc/parameters/"

FIXTURE(quota) {
	int dev;
	char saved_objects[32];
	char saved_bytes[32];
};

static int param_set(const char *name, unsigned long long v)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	snprintf(buf, sizeof(buf), "%llu", v);
	return write_file(path, buf);
}

FIXTURE_SETUP(quota)
{
	/* (the harness runs the test after a SKIP here: each test checks too) */
	if (!kt_is_root())
		return;
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	ASSERT_LT(0, read_file(PARAM_DIR "max_user_objects", self->saved_objects,
			       sizeof(self->saved_objects)));
	ASSERT_LT(0, read_file(PARAM_DIR "max_user_bytes", self->saved_bytes,
			       sizeof(self->saved_bytes)));
}

/* Whatever the test users left behind, even after a failed test. */
static void remove_users_objects(int dev)
{
	struct nl_replies r;
	int i;

	if (nl_get(0, &r))
		return;
	for (i = 0; i < r.n; i++) {
		int64_t cuid = nl_int(nl_attr(&r, i, KIPC_A_CUID));

		if (cuid == STRANGER || cuid == QUOTA_USER)
			kt_name_req(dev, KIPC_IOC_REMOVE_BY,
				    nl_int(nl_attr(&r, i, KIPC_A_TYPE)), NULL,
				    nl_int(nl_attr(&r, i, KIPC_A_ID)));
	}
	nl_replies_free(&r);
}

FIXTURE_TEARDOWN(quota)
{
	if (!kt_is_root())
		return;
	remove_users_objects(self->dev);
	write_file(PARAM_DIR "max_user_objects", self->saved_objects);
	write_file(PARAM_DIR "max_user_bytes", self->saved_bytes);
	close(self->dev);
}

/* The caller's usage, as KIPC_IOC_INFO reports it. */
static void usage(int dev, uint64_t *objects, uint64_t *bytes)
{
	struct kipc_info info;

	memset(&info, 0, sizeof(info));
	kt_info(dev, &info);
	*objects = info.user_objects;
	*bytes = info.user_bytes;
}

struct quota_case {
	int limit;			/* objects the user may have */
	int persist;			/* of them, made to outlive the child */
	bool userns;
	uint32_t ids[64];
	int made;
	int err;			/* what stopped it */
};

/* Create objects of every kind, round robin, until refused. */
static int quota_fill(void *arg)
{
	struct quota_case *c = arg;
	int dev, fd, k;
	uint64_t objects, bytes;

	if (c->userns && enter_userns_as_root())
		return 200;
	dev = kt_dev();
	CK(dev >= 0);
	usage(dev, &objects, &bytes);
	c->made = 0;
	c->err = 0;
	for (k = 0; c->made < 64; k = (k + 1) % K_COUNT) {
		uint32_t flags = KIPC_O_CREAT | KIPC_O_RDWR |
				 (c->made < c->persist ? KIPC_O_PERSIST : 0);

		fd = kind_open(dev, k, NULL, flags, 0600, &c->ids[c->made]);
		if (fd < 0) {
			c->err = -fd;
			break;
		}
		c->made++;
	}
	/* refused exactly when the user holds the limit */
	usage(dev, &objects, &bytes);
	CK_EQ(c->limit, objects);
	return child_failures;
}

TEST_F(quota, object_count_holds_and_returns)
{
	struct quota_case *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint32_t kept[3];
	int i, status;

	NEED_ROOT();

	ASSERT_NE(MAP_FAILED, c);
	ASSERT_EQ(0, param_set("max_user_objects", 8));
	c->limit = 8;
	c->persist = 3;
	ASSERT_EQ(0, as_user(QUOTA_USER, quota_fill, c));
	EXPECT_EQ(8, c->made);
	EXPECT_EQ(ENOSPC, c->err);
	memcpy(kept, c->ids, sizeof(kept));

	/* Three outlived their creator, and still count. */
	c->persist = 0;
	ASSERT_EQ(0, as_user(QUOTA_USER, quota_fill, c));
	EXPECT_EQ(5, c->made);
	EXPECT_EQ(ENOSPC, c->err);

	/* Root of a user namespace is no exception. */
	c->userns = true;
	status = as_user(QUOTA_USER, quota_fill, c);
	c->userns = false;
	if (status == 200) {
		sec_msg(NO_USERNS);
	} else {
		EXPECT_EQ(0, status);
		EXPECT_EQ(5, c->made);
		EXPECT_EQ(ENOSPC, c->err);
	}

	/* Removal gives them back. */
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, kt_name_req(self->dev, KIPC_IOC_REMOVE_BY,
					 kind_type(i % K_COUNT), NULL, kept[i]));
	ASSERT_EQ(0, as_user(QUOTA_USER, quota_fill, c));
	EXPECT_EQ(8, c->made);
	EXPECT_EQ(ENOSPC, c->err);
	munmap(c, sizeof(*c));
}

struct bytes_case {
	uint64_t quota;
	uint32_t kept;			/* a persistent region, left behind */
};

static int region(int dev, uint64_t size, uint32_t flags, uint32_t *id)
{
	struct kipc_region_attr a = { .size = size };

	return kt_open(dev, KIPC_TYPE_REGION, NULL, KIPC_O_CREAT | KIPC_O_RDWR |
		       flags, 0600, &a, sizeof(a), id);
}

static char payload_1k[1024];

static int bytes_fill(void *arg)
{
	struct bytes_case *c = arg;
	struct kipc_ring_attr ring = { .slots = 1, .slot_size = 8 };
	struct kipc_sem_attr sem = { .nsems = 1 };
	struct kipc_queue_attr big = { .max_msgs = 8, .max_msgsize = 1 << 20,
				       .max_bytes = 8192 };
	uint64_t objects, bytes, before, size;
	struct kipc_set set = { .valid = KIPC_SET_MAX_BYTES };
	int dev, r, q;

	dev = kt_dev();
	CK(dev >= 0);
	usage(dev, &objects, &bytes);
	CK_EQ(0, bytes);

	/* All of the quota in one region: nothing else fits. */
	r = region(dev, c->quota, 0, NULL);
	CK(r >= 0);
	usage(dev, &objects, &bytes);
	CK_EQ(c->quota, bytes);
	CK_EQ(-ENOSPC, region(dev, 1, 0, NULL));
	CK_EQ(-ENOSPC, kt_queue(dev, NULL, KIPC_O_CREAT, 0600, 1, 8, NULL));
	CK_EQ(-ENOSPC, kt_open(dev, KIPC_TYPE_RING, NULL, KIPC_O_CREAT, 0600,
			       &ring, sizeof(ring), NULL));
	CK_EQ(-ENOSPC, kt_open(dev, KIPC_TYPE_SEM, NULL, KIPC_O_CREAT, 0600,
			       &sem, sizeof(sem), NULL));
	close(r);
	usage(dev, &objects, &bytes);
	CK_EQ(0, bytes);

	/* Growing past it: a queue's capacity, a region's size. */
	/* few big messages, little capacity: raising it is what costs */
	q = kt_open(dev, KIPC_TYPE_QUEUE, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		    &big, sizeof(big), NULL);
	CK(q >= 0);
	usage(dev, &objects, &before);
	set.max_bytes = c->quota + page_size();
	CK_EQ(-ENOSPC, kt_ret(ioctl(q, KIPC_IOC_SET, &set)));
	usage(dev, &objects, &bytes);
	CK_EQ(before, bytes);
	/*
	 * Lowering the capacity of a full queue keeps what it holds charged:
	 * else shrink, fill another, shrink... would pin memory for free.
	 */
	for (int i = 0; i < 8; i++)
		CK_EQ(0, kt_send(q, payload_1k, 1024, 0, 1, KIPC_F_NONBLOCK, NULL));
	set.max_bytes = 0;
	CK_EQ(0, kt_ret(ioctl(q, KIPC_IOC_SET, &set)));
	usage(dev, &objects, &bytes);
	CK_EQ(before, bytes);
	for (int i = 0; i < 8; i++)
		CK_EQ(1024, kt_recv(q, payload_1k, 1024, NULL, 0, KIPC_F_NONBLOCK,
				    NULL));
	CK_EQ(0, kt_ret(ioctl(q, KIPC_IOC_SET, &set)));
	usage(dev, &objects, &bytes);
	CK(bytes < before);
	close(q);
	r = region(dev, 4 * page_size(), 0, NULL);
	CK(r >= 0);
	size = c->quota + 1;
	CK_EQ(-ENOSPC, kt_ret(ioctl(r, KIPC_IOC_REGION_RESIZE, &size)));
	size = c->quota / 2;
	CK_EQ(0, kt_ret(ioctl(r, KIPC_IOC_REGION_RESIZE, &size)));
	close(r);

	/* Half of it left behind, for the next child to find taken. */
	r = region(dev, c->quota / 2, KIPC_O_PERSIST, &c->kept);
	CK(r >= 0);
	close(r);
	close(dev);
	return child_failures;
}

static int bytes_after(void *arg)
{
	struct bytes_case *c = arg;
	uint64_t objects, bytes;
	int dev = kt_dev();

	usage(dev, &objects, &bytes);
	CK_EQ(c->kept ? c->quota / 2 : 0, bytes);
	CK_EQ(c->kept ? -ENOSPC : 0,
	      kt_ret(({ int r_ = region(dev, c->quota, 0, NULL);
			if (r_ >= 0)
				close(r_);
			r_ < 0 ? r_ : 0; })));
	close(dev);
	return child_failures;
}

/* Root of a user namespace: the same quota, the kept half in the way. */
static int bytes_userns(void *arg)
{
	struct bytes_case *c = arg;
	int dev, r;

	if (enter_userns_as_root())
		return 200;
	dev = kt_dev();
	CK_EQ(-ENOSPC, region(dev, c->quota, 0, NULL));
	r = region(dev, c->quota / 2, 0, NULL);
	CK(r >= 0);
	CK_EQ(-ENOSPC, region(dev, 1, 0, NULL));
	close(r);
	close(dev);
	return child_failures;
}

TEST_F(quota, byte_quota_covers_every_kind_and_returns)
{
	struct bytes_case *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;

	NEED_ROOT();

	ASSERT_NE(MAP_FAILED, c);
	c->quota = 1 << 20;
	ASSERT_EQ(0, param_set("max_user_bytes", c->quota));
	ASSERT_EQ(0, as_user(QUOTA_USER, bytes_fill, c));
	ASSERT_NE(0, c->kept);
	EXPECT_EQ(0, as_user(QUOTA_USER, bytes_after, c));

	status = as_user(QUOTA_USER, bytes_userns, c);
	if (status == 200)
		sec_msg(NO_USERNS);
	else
		EXPECT_EQ(0, status);

	EXPECT_EQ(0, kt_name_req(self->dev, KIPC_IOC_REMOVE_BY, KIPC_TYPE_REGION,
				 NULL, c->kept));
	c->kept = 0;
	EXPECT_EQ(0, as_user(QUOTA_USER, bytes_after, c));
	munmap(c, sizeof(*c));
}

/* Bytes in the slab caches holding queued messages, from /proc/slabinfo. */
static const char *const kipc_caches[] = { "kipc_msg", "kipc_msg_seg",
					    "kipc_prio" };

/*
 * Give back what the caches hold beyond their objects: empty slabs, and on
 * a KASAN kernel its quarantine of freed objects (kmem_cache_shrink()
 * drains it), which would otherwise look like memory kipc kept.
 */
static void kipc_slab_shrink(void)
{
	char path[128];
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(kipc_caches); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 kipc_caches[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) != 1)
			sec_msg("%s: %s\n", path, strerror(errno));
		close(fd);
	}
}

static long long kipc_slab_bytes(void)
{
	char line[512];
	long long total = 0;
	int found = 0;
	FILE *f = fopen("/proc/slabinfo", "re");
	size_t i;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		long long active, num, size;

		if (sscanf(line, "%63s %lld %lld %lld", name, &active, &num,
			   &size) != 4)
			continue;
		for (i = 0; i < ARRAY_SIZE(kipc_caches); i++)
			if (!strcmp(name, kipc_caches[i])) {
				total += num * size;
				found++;
			}
	}
	fclose(f);
	return found >= 2 ? total : -1;
}

/*
 * Queues of every shape a user might pick to get the most kernel memory out
 * of the least charge: many tiny messages (each has a header), messages
 * just past what fits in the header (each takes a page), big ones.  Fill
 * every queue the quota allows to the brim.
 */
static int exhaust(void *arg)
{
	static const struct { uint32_t msgs, size, len; } shapes[] = {
		{ 65536, 8, 1 }, { 2048, 300, 300 }, { 512, 8, 0 },
		{ 64, 300, 300 }, { 16, 1 << 20, 1 << 20 }, { 8, 8192, 8192 },
	};
	int *sync = arg, dev = kt_dev(), nq = 0, q[256];
	static struct kipc_msg m[1024];
	static char payload[1 << 20];
	unsigned int s, i;
	char c = 0;

	CK(dev >= 0);
	for (s = 0; s < ARRAY_SIZE(shapes); s++) {
		for (i = 0; i < 1024; i++) {
			m[i].buf = (uintptr_t)payload;
			m[i].len = shapes[s].len;
			m[i].type = 1;
			m[i].prio = i % 1000;	/* a bucket per priority, too */
		}
		while (nq < 256) {
			int fd = kt_queue(dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
					  0600, shapes[s].msgs, shapes[s].size,
					  NULL);

			if (fd < 0) {
				CK_EQ(-ENOSPC, fd);
				break;
			}
			q[nq++] = fd;
			while (kt_xfer(fd, KIPC_IOC_SEND, m,
				       shapes[s].len > 4096 ? 1 : 1024,
				       KIPC_F_NONBLOCK, NULL) > 0)
				;
		}
	}
	/* the parent measures now */
	if (write(sync[1], &c, 1) != 1 || read(sync[2], &c, 1) != 1)
		child_failures++;
	for (i = 0; i < (unsigned int)nq; i++)
		close(q[i]);
	return child_failures;
}

TEST_F(quota, queued_memory_stays_within_the_byte_quota)
{
	long long before, during, after, quota = 2 << 20;
	int up[2], down[2], sync[3];
	pid_t pid;
	char c;

	NEED_ROOT();

	kipc_slab_shrink();
	before = kipc_slab_bytes();
	if (before < 0)
		SKIP(return, "kipc's caches are not in /proc/slabinfo");
	ASSERT_EQ(0, param_set("max_user_bytes", quota));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	sync[1] = up[1];
	sync[2] = down[0];
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (become(QUOTA_USER, QUOTA_USER))
			_exit(101);
		_exit(exhaust(sync));
	}
	ASSERT_EQ(1, read(up[0], &c, 1));
	during = kipc_slab_bytes();
	ASSERT_EQ(1, write(down[1], &c, 1));
	EXPECT_EQ(0, kt_wait(pid));
	kipc_slab_shrink();
	after = kipc_slab_bytes();
	sec_msg("queued messages took %lld KiB of slab for a %lld KiB quota\n",
		       (during - before) >> 10, quota >> 10);
	/* a slab's worth of slack per cache, the rest within the quota */
	EXPECT_GE(quota + quota / 4 + (1 << 20), during - before);
	EXPECT_GE((2 << 20), after - before);
}

/*
 * 5. Memory cgroups
 */

struct cg {
	char mnt[256];			/* a cgroup2 mount */
	char parent[512];		/* the cgroup we are in */
	char dir[600];			/* ours, for the child */
	bool mounted;
};

static int cg_path(const struct cg *cg, const char *file, char *buf,
		   size_t len)
{
	return snprintf(buf, len, "%s/%s", cg->dir, file) >= (int)len ? -1 : 0;
}

static long long cg_current(const struct cg *cg)
{
	char path[700], buf[64];

	if (cg_path(cg, "memory.current", path, sizeof(path)) ||
	    read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return atoll(buf);
}

static void cg_teardown(struct cg *cg)
{
	if (cg->dir[0])
		rmdir(cg->dir);
	if (cg->mounted) {
		umount2(cg->mnt, MNT_DETACH);
		rmdir(cg->mnt);
	}
}

/* A child cgroup with the memory controller, or a reason why not. */
static const char *cg_setup(struct cg *cg)
{
	char line[512], path[700], buf[512], *p;
	FILE *f;

	memset(cg, 0, sizeof(*cg));
	f = fopen("/proc/self/mounts", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char dev[128], mnt[256], type[64];

		if (sscanf(line, "%127s %255s %63s", dev, mnt, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(cg->mnt, sizeof(cg->mnt), "%s", mnt);
			break;
		}
	}
	if (f)
		fclose(f);
	if (!cg->mnt[0]) {
		snprintf(cg->mnt, sizeof(cg->mnt), "/tmp/kipc-cg-XXXXXX");
		if (!mkdtemp(cg->mnt))
			return "no directory to mount cgroup2 on";
		if (mount("none", cg->mnt, "cgroup2", 0, NULL)) {
			rmdir(cg->mnt);
			cg->mnt[0] = 0;
			return "cgroup2 cannot be mounted";
		}
		cg->mounted = true;
	}
	/* "0::/path" */
	if (read_file("/proc/self/cgroup", buf, sizeof(buf)) <= 0 ||
	    !(p = strstr(buf, "0::")))
		return "not in a cgroup2 hierarchy";
	p += 3;
	p[strcspn(p, "\n")] = 0;
	snprintf(cg->parent, sizeof(cg->parent), "%s%s", cg->mnt,
		 strcmp(p, "/") ? p : "");
	snprintf(path, sizeof(path), "%s/cgroup.controllers", cg->parent);
	if (read_file(path, buf, sizeof(buf)) < 0 || !strstr(buf, "memory"))
		return "no memory controller";
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg->parent);
	if (write_file(path, "+memory"))
		return "cannot enable the memory controller below our cgroup";
	snprintf(cg->dir, sizeof(cg->dir), "%s/kipc-sec-%d", cg->parent,
		 getpid());
	if (mkdir(cg->dir, 0755)) {
		cg->dir[0] = 0;
		return "cannot create a cgroup";
	}
	if (cg_current(cg) < 0)
		return "no memory.current";
	return NULL;
}

#define MiB		(1ll << 20)
#define PHASES		4

/* In the cgroup: a queue, a region and a ring, each with a lot in it. */
static int charge_phases(int up, int down)
{
	static char payload[MiB];
	struct kipc_ring_attr ring = { .slots = 64, .slot_size = 256 << 10 };
	int dev = kt_dev(), q, r, g, i;
	char c = 0;

	memset(payload, 0x3c, sizeof(payload));	/* faulted in before: not ours */
	if (dev < 0 || write(up, &c, 1) != 1 || read(down, &c, 1) != 1)
		return 1;
	/* 1: 24 MiB of messages */
	q = kt_queue(dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 32, MiB, NULL);
	CK(q >= 0);
	for (i = 0; i < 24; i++)
		CK_EQ(0, kt_send(q, payload, MiB, 0, 1, 0, NULL));
	if (write(up, &c, 1) != 1 || read(down, &c, 1) != 1)
		return 1;
	/* 2: 24 MiB written into a region */
	r = region(dev, 24 * MiB, 0, NULL);
	CK(r >= 0);
	for (i = 0; i < 24; i++)
		CK_EQ(MiB, pwrite(r, payload, MiB, i * MiB));
	if (write(up, &c, 1) != 1 || read(down, &c, 1) != 1)
		return 1;
	/* 3: a 16 MiB ring, whose pages exist from the start */
	g = kt_open(dev, KIPC_TYPE_RING, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600,
		    &ring, sizeof(ring), NULL);
	CK(g >= 0);
	if (write(up, &c, 1) != 1 || read(down, &c, 1) != 1)
		return 1;
	/* 4: all gone */
	close(q);
	close(r);
	close(g);
	close(dev);
	if (write(up, &c, 1) != 1 || read(down, &c, 1) != 1)
		return 1;
	return child_failures;
}

TEST(memory_is_charged_to_the_creators_cgroup)
{
	static const long long expect[PHASES] = { 24 * MiB, 24 * MiB, 16 * MiB, 0 };
	static const char *const what[PHASES] = {
		"queued messages", "region pages", "ring pages", "after close",
	};
	long long base, now[PHASES];
	int up[2], down[2], i;
	char path[700], pidbuf[32], c = 0;
	const char *why;
	struct cg cg;
	pid_t pid;

	NEED_ROOT();
	why = cg_setup(&cg);
	if (why) {
		cg_teardown(&cg);
		SKIP(return, "%s", why);
	}
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* wait until moved */
		if (read(down[0], &c, 1) != 1)
			_exit(1);
		_exit(charge_phases(up[1], down[0]));
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	ASSERT_EQ(0, cg_path(&cg, "cgroup.procs", path, sizeof(path)));
	ASSERT_EQ(0, write_file(path, pidbuf));
	ASSERT_EQ(1, write(down[1], &c, 1));
	ASSERT_EQ(1, read(up[0], &c, 1));
	base = cg_current(&cg);
	for (i = 0; i < PHASES; i++) {
		ASSERT_EQ(1, write(down[1], &c, 1));
		ASSERT_EQ(1, read(up[0], &c, 1));
		now[i] = cg_current(&cg);
	}
	ASSERT_EQ(1, write(down[1], &c, 1));
	EXPECT_EQ(0, kt_wait(pid));
	for (i = 0; i < PHASES; i++) {
		long long grew = now[i] - (i ? now[i - 1] : base);

		sec_msg("memcg: %s: %+lld KiB (expected %+lld KiB)\n",
			       what[i], grew >> 10,
			       (i < 3 ? expect[i] : -(now[2] - base)) >> 10);
		if (i < 3) {
			EXPECT_LE(expect[i] * 9 / 10, grew) TH_LOG("%s", what[i]);
			EXPECT_GE(expect[i] * 13 / 10 + 4 * MiB, grew)
				TH_LOG("%s", what[i]);
		}
	}
	/* what the objects held went with them */
	EXPECT_GE(base + 4 * MiB, now[3]);
	cg_teardown(&cg);
}

TEST_HARNESS_MAIN
