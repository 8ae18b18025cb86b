// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures: each kipc operation that allocates runs again and
 * again with its Nth allocation failing, N = 1, 2, ... until it runs
 * through without an injected failure.  Every failure must come back as
 * ENOMEM (or be absorbed: the operation succeeds anyway), leave nothing
 * half done -- no object after a failed create, no message queued or lost
 * after a failed send, no mapping counted after a failed mmap -- and the
 * module's counters (KIPC_IOC_INFO) must come back to where they were.
 *
 * Injection: failslab and fail_page_alloc are set to consider every
 * allocation (ignore-gfp-wait=N, min-order=0), to fail none at random
 * (probability=0, task-filter=Y), and to stay quiet (verbose=0); then
 * /proc/thread-self/fail-nth fails exactly the Nth allocation of this
 * thread.  fail-nth rather than interval/times because the interval's
 * counter is global and never reset, so "the Nth" cannot be named with
 * it; fail-nth also tells afterwards whether the failure was injected.
 * The test memory is locked (mlockall) before the first injection, so
 * that no page fault of the test's own memory takes the failure.
 *
 * On a netlink socket the core's own answer to no memory, ENOBUFS, counts
 * as ENOMEM.  KIPC_FAULT_TRACE=1 prints every N's outcome of the creates.
 *
 * Needs root and a kernel with CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and
 * CONFIG_FAULT_INJECTION_DEBUG_FS (make check-debug's); skips otherwise.
 */
#define _GNU_SOURCE
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "../kselftest_harness.h"
#include "kipc_sem.h"

#define FI_DEBUGFS	"/sys/kernel/debug"
/* No kipc operation allocates anywhere near this often. */
#define FI_MAX		5000
/*
 * Sweeps of N per operation.  The allocations of one run of an operation
 * are not quite the same as the next one's (a slab refill, kmemleak's own
 * bookkeeping), so one sweep can step over an allocation; a second one
 * most likely catches it.
 */
#define FI_PASSES	2

/* Across the test processes: the harness forks one per test. */
struct fi_totals {
	unsigned long injected;		/* failures injected */
	/* Of them, reported: ENOMEM (ENOBUFS), or a short count. */
	unsigned long surfaced;
	unsigned long loops;		/* operations driven to the end */
};

static struct fi_totals *totals;

static void __attribute__((constructor)) fi_totals_init(void)
{
	void *p = mmap(NULL, sizeof(*totals), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		totals = p;
}

/* What the injection needs, and the value each knob had before. */
static const struct {
	const char *path;
	const char *value;
} fi_knobs[] = {
	{ "failslab/ignore-gfp-wait", "N" },
	{ "failslab/probability", "0" },
	{ "failslab/task-filter", "Y" },
	{ "failslab/verbose", "0" },
	{ "fail_page_alloc/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "fail_page_alloc/min-order", "0" },
	{ "fail_page_alloc/probability", "0" },
	{ "fail_page_alloc/task-filter", "Y" },
	{ "fail_page_alloc/verbose", "0" },
};

#define FI_NKNOBS	(sizeof(fi_knobs) / sizeof(fi_knobs[0]))

static int knob_rw(const char *knob, char *old, size_t oldlen, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	/* debugfs attributes do not seek: one open to read, one to write. */
	snprintf(path, sizeof(path), FI_DEBUGFS "/%s", knob);
	if (old) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, old, oldlen - 1);
		close(fd);
		if (n < 0)
			return -errno;
		old[n] = '\0';
		old[strcspn(old, "\n")] = '\0';
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Static and locked: the injected failure must hit the kernel, not us. */
static char buf[4][256 * 1024] __attribute__((aligned(4096)));
static char nlbuf[64 * 1024] __attribute__((aligned(4096)));

FIXTURE(fault) {
	bool ready;
	char saved[FI_NKNOBS][32];
	bool changed[FI_NKNOBS];
	int nth;			/* /proc/thread-self/fail-nth */
	int dev;
	struct kipc_info base;		/* counters before the test */
	char name[64];
	bool trace;			/* KIPC_FAULT_TRACE: every N's outcome */
	int pass;
	/* This test's tally. */
	unsigned long injected, surfaced, loops, allocs;
};

static void __attribute__((noinline)) touch_stack(void)
{
	volatile char deep[128 * 1024];
	size_t i;

	for (i = 0; i < sizeof(deep); i += 1024)
		deep[i] = 0;
}

FIXTURE_SETUP(fault)
{
	size_t i;
	int ret;

	self->nth = -1;
	self->dev = -1;
	snprintf(self->name, sizeof(self->name), "kipc-fault-%d", getpid());
	self->trace = getenv("KIPC_FAULT_TRACE");
	if (!kt_is_root())
		return;
	if (access(FI_DEBUGFS "/failslab", F_OK) ||
	    access(FI_DEBUGFS "/fail_page_alloc", F_OK))
		return;
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	for (i = 0; i < FI_NKNOBS; i++) {
		ret = knob_rw(fi_knobs[i].path, self->saved[i],
			      sizeof(self->saved[i]), fi_knobs[i].value);
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", fi_knobs[i].path, strerror(-ret));
		self->changed[i] = true;
	}
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, kt_info(self->dev, &self->base));

	/* Every page we will touch, present and our own before we start. */
	memset(buf, 0, sizeof(buf));
	memset(nlbuf, 0, sizeof(nlbuf));
	touch_stack();
	ASSERT_EQ(0, mlockall(MCL_CURRENT)) TH_LOG("mlockall: %s", strerror(errno));
	self->ready = true;
}

FIXTURE_TEARDOWN(fault)
{
	size_t i;

	if (self->nth >= 0)
		pwrite(self->nth, "0", 1, 0);
	for (i = 0; i < FI_NKNOBS; i++)
		if (self->changed[i])
			knob_rw(fi_knobs[i].path, NULL, 0, self->saved[i]);
	if (self->ready && self->loops) {
		ksft_print_msg("%s: %lu faults injected, %lu reported, %lu operations, up to %lu allocations each\n",
			       _metadata->name, self->injected, self->surfaced,
			       self->loops, self->allocs);
		/* The harness ends the test process with _exit(). */
		fflush(stdout);
		if (totals) {
			__atomic_add_fetch(&totals->injected, self->injected, __ATOMIC_RELAXED);
			__atomic_add_fetch(&totals->surfaced, self->surfaced, __ATOMIC_RELAXED);
			__atomic_add_fetch(&totals->loops, self->loops, __ATOMIC_RELAXED);
		}
	}
	if (self->dev >= 0)
		close(self->dev);
}

#define NEED_INJECTION() do {						\
	if (!kt_is_root())						\
		SKIP(return, "needs root to set up fault injection");	\
	if (!self->ready)						\
		SKIP(return, "no failslab in debugfs: needs a fault "	\
		     "injection kernel (make check-debug)");		\
} while (0)

/* Fail this thread's @n-th allocation from now on. */
#define fi_arm(n) do {							\
	char __b[16];							\
	int __l = snprintf(__b, sizeof(__b), "%u", (unsigned int)(n));	\
	ASSERT_EQ(__l, pwrite(self->nth, __b, __l, 0));			\
} while (0)

/*
 * Stop injecting; true if the failure was injected.  Nothing between
 * fi_arm() and here may allocate but the operation under test: only
 * system calls on ready buffers, no printing, no malloc.
 */
static bool fi_disarm_(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fault) *self, unsigned int n)
{
	char b[16];
	ssize_t len;
	unsigned long left;

	len = pread(self->nth, b, sizeof(b) - 1, 0);
	ASSERT_LT(0, len);
	b[len] = '\0';
	ASSERT_EQ(1, pwrite(self->nth, "0", 1, 0));
	left = strtoul(b, NULL, 10);
	if (!left) {
		self->injected++;
		return true;
	}
	/* Went through: it made n - left allocations in all. */
	if (n - left > self->allocs)
		self->allocs = n - left;
	return false;
}

#define fi_disarm(n) fi_disarm_(_metadata, self, (n))

#define fi_trace(what, n, ret, inj) do {				\
	if (self->trace)						\
		fprintf(stderr, "# %s: N=%u: %d%s\n", (what), (n), (ret),	\
			(inj) ? " (injected)" : "");			\
} while (0)

/* A failure must be ENOMEM (ENOBUFS too, for a netlink socket), injected. */
#define EXPECT_FAILED_FOR_MEMORY(ret, inj, ...) do {			\
	ASSERT_TRUE((ret) == -ENOMEM __VA_ARGS__)			\
		TH_LOG("N=%u: failed with %d (%s)", n, (ret),		\
		       strerror(-(ret)));				\
	ASSERT_TRUE(inj) TH_LOG("N=%u: failed with nothing injected", n); \
	self->surfaced++;						\
} while (0)

/* The counters are where they were when the test started. */
static void counters_at_base_(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fault) *self, unsigned int n)
{
	struct kipc_info now;
	int i;

	ASSERT_EQ(0, kt_info(self->dev, &now));
	for (i = 0; i < KIPC_TYPE_COUNT; i++)
		ASSERT_EQ(self->base.objects[i], now.objects[i])
			TH_LOG("N=%u: objects[%d]", n, i);
	ASSERT_EQ(self->base.msgs, now.msgs) TH_LOG("N=%u", n);
	ASSERT_EQ(self->base.bytes, now.bytes) TH_LOG("N=%u", n);
	ASSERT_EQ(self->base.namespaces, now.namespaces) TH_LOG("N=%u", n);
	ASSERT_EQ(self->base.user_objects, now.user_objects) TH_LOG("N=%u", n);
	ASSERT_EQ(self->base.user_bytes, now.user_bytes) TH_LOG("N=%u", n);
}

#define counters_at_base() counters_at_base_(_metadata, self, n)

/*
 * N = 1, 2, ...; the body breaks out once the operation runs through, and
 * the sweep starts again, FI_PASSES times.
 */
#define FOR_EACH_N(n)							\
	for (self->pass = 0; self->pass < FI_PASSES; self->pass++)	\
		for ((n) = 1; (n) <= FI_MAX; (n)++)

/* After the loop: the operation did run through, at the last N. */
#define LOOP_DONE() do {						\
	ASSERT_GE(FI_MAX, n) TH_LOG("never ran through");		\
	self->loops++;							\
} while (0)

static struct kipc_stat stat_of(int fd)
{
	struct kipc_stat st;

	memset(&st, 0, sizeof(st));
	kt_stat(fd, &st);
	return st;
}

static void fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)(seed * 131 + i * 7 + (i >> 8));
}

static bool filled(const char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (char)(seed * 131 + i * 7 + (i >> 8)))
			return false;
	return true;
}

/* Creating objects */

struct create_case {
	const char *what;
	uint32_t type;
	uint32_t flags;
	bool named;
	union {
		struct kipc_queue_attr queue;
		struct kipc_region_attr region;
		struct kipc_sem_attr sem;
		struct kipc_ring_attr ring;
	} attr;
};

static const struct create_case create_cases[] = {
	{ "named queue", KIPC_TYPE_QUEUE, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
	  true, .attr.queue = { .max_msgs = 8, .max_msgsize = 1024 } },
	{ "anonymous queue", KIPC_TYPE_QUEUE, KIPC_O_CREAT | KIPC_O_RDWR,
	  false, .attr.queue = { .max_msgs = 8, .max_msgsize = 1024 } },
	{ "persistent queue", KIPC_TYPE_QUEUE,
	  KIPC_O_CREAT | KIPC_O_RDWR | KIPC_O_PERSIST, false,
	  .attr.queue = { .max_msgs = 8, .max_msgsize = 1024 } },
	{ "ring", KIPC_TYPE_RING, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
	  true, .attr.ring = { .slots = 16, .slot_size = 4096 } },
	{ "named region", KIPC_TYPE_REGION, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
	  true, .attr.region = { .size = 65536 } },
	{ "persistent region", KIPC_TYPE_REGION,
	  KIPC_O_CREAT | KIPC_O_RDWR | KIPC_O_PERSIST, false,
	  .attr.region = { .size = 65536, .seals = KIPC_SEAL_GROW } },
	{ "semaphore set", KIPC_TYPE_SEM, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
	  true, .attr.sem = { .nsems = 4, .value = 1 } },
	{ "POSIX semaphore", KIPC_TYPE_SEM, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
	  true, .attr.sem = { .nsems = 1, .flags = KIPC_SEM_POSIX } },
	/* Past a page: kvzalloc's kmalloc, then its vmalloc fallback. */
	{ "large semaphore set", KIPC_TYPE_SEM, KIPC_O_CREAT | KIPC_O_RDWR,
	  false, .attr.sem = { .nsems = 2000 } },
};

TEST_F_TIMEOUT(fault, create_objects, 1800)
{
	unsigned int n, c;
	uint32_t id = 0;
	bool inj;
	int fd;

	NEED_INJECTION();
	for (c = 0; c < sizeof(create_cases) / sizeof(create_cases[0]); c++) {
		const struct create_case *cc = &create_cases[c];
		const char *name = cc->named ? self->name : NULL;

		FOR_EACH_N(n) {
			id = 0;
			fi_arm(n);
			fd = kt_open(self->dev, cc->type, name, cc->flags, 0600,
				     &cc->attr, sizeof(cc->attr), &id);
			inj = fi_disarm(n);
			fi_trace(cc->what, n, fd, inj);
			if (fd < 0) {
				EXPECT_FAILED_FOR_MEMORY(fd, inj);
				/* Nothing of it is left. */
				if (name)
					ASSERT_EQ(-ENOENT, kt_open(self->dev, cc->type,
								   name, KIPC_O_RDWR,
								   0, NULL, 0, NULL))
						TH_LOG("%s, N=%u: the name outlived a failed create",
						       cc->what, n);
				counters_at_base();
				continue;
			}
			{
				struct kipc_stat st = stat_of(fd);

				ASSERT_EQ(cc->type, st.type) TH_LOG("%s, N=%u", cc->what, n);
				ASSERT_EQ(id, st.id);
				ASSERT_EQ(1, st.nfds);
			}
			if (name)
				ASSERT_EQ(0, kt_unlink(self->dev, cc->type, name));
			if (cc->flags & KIPC_O_PERSIST)
				ASSERT_EQ(0, kt_name_req(self->dev, KIPC_IOC_REMOVE_BY,
							 cc->type, NULL, id));
			close(fd);
			counters_at_base();
			if (!inj)
				break;
		}
		LOOP_DONE();
	}
}

/* Another file on an existing object: nothing changes if it fails. */
TEST_F_TIMEOUT(fault, open_existing, 600)
{
	unsigned int n;
	uint32_t id = 0;
	int q, fd;
	bool inj;

	NEED_INJECTION();
	q = kt_queue(self->dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0600, 4, 64, &id);
	ASSERT_LE(0, q);
	FOR_EACH_N(n) {
		fi_arm(n);
		fd = kt_queue(self->dev, self->name, KIPC_O_RDONLY, 0, 0, 0, NULL);
		inj = fi_disarm(n);
		if (fd < 0) {
			EXPECT_FAILED_FOR_MEMORY(fd, inj);
			ASSERT_EQ(1, stat_of(q).nfds) TH_LOG("N=%u", n);
			continue;
		}
		ASSERT_EQ(2, stat_of(q).nfds);
		close(fd);
		ASSERT_EQ(1, stat_of(q).nfds);
		if (!inj)
			break;
	}
	LOOP_DONE();
	ASSERT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_QUEUE, self->name));
	close(q);
	counters_at_base();
}

/* Sending */

/* Inline, just past inline, one segment, several, the largest. */
static const uint32_t send_sizes[] = {
	0, 1, 100, 255, 4000, 4096 + 300, 3 * 4096 + 5, 65536,
};

#define NSIZES	(sizeof(send_sizes) / sizeof(send_sizes[0]))

/* Receive the highest-priority message and compare it. */
static void recv_check_(struct __test_metadata *_metadata, int q,
			uint32_t len, uint32_t prio, unsigned int seed)
{
	struct kipc_msg m = { .buf = (uintptr_t)buf[1], .len = sizeof(buf[1]) };

	ASSERT_EQ((int)len, kt_recv_msg(q, &m, KIPC_F_NONBLOCK, NULL));
	ASSERT_EQ(prio, m.prio);
	ASSERT_TRUE(filled(buf[1], len, seed)) TH_LOG("message of %u bytes garbled", len);
}

#define recv_check(q, len, prio, seed) recv_check_(_metadata, q, len, prio, seed)

TEST_F_TIMEOUT(fault, send_messages_of_several_sizes, 1800)
{
	struct kipc_msg m;
	unsigned int n, i;
	uint64_t msgs;
	bool inj;
	int q, ret;

	NEED_INJECTION();
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 64,
		     65536, NULL);
	ASSERT_LE(0, q);
	/* Two messages already there must come out untouched. */
	fill(buf[0], 300, 1000);
	ASSERT_EQ(0, kt_send(q, buf[0], 300, 1, 2, 0, NULL));
	fill(buf[0], 5000, 1001);
	ASSERT_EQ(0, kt_send(q, buf[0], 5000, 2, 3, 0, NULL));

	for (i = 0; i < NSIZES; i++) {
		uint32_t len = send_sizes[i], prio = 100 + i;

		fill(buf[0], len, i);
		FOR_EACH_N(n) {
			msgs = stat_of(q).queue.msgs;
			fi_arm(n);
			/* A new priority each time: its bucket is allocated too. */
			ret = kt_send(q, buf[0], len, prio, 1, KIPC_F_NONBLOCK, NULL);
			inj = fi_disarm(n);
			if (ret) {
				EXPECT_FAILED_FOR_MEMORY(ret, inj);
				ASSERT_EQ(msgs, stat_of(q).queue.msgs)
					TH_LOG("%u bytes, N=%u: queued after all", len, n);
				continue;
			}
			ASSERT_EQ(msgs + 1, stat_of(q).queue.msgs);
			recv_check(q, len, prio, i);
			if (!inj)
				break;
		}
		LOOP_DONE();
		ASSERT_EQ(2, stat_of(q).queue.msgs);
	}

	/* write(2): one message of priority 0. */
	fill(buf[0], 5000, 77);
	FOR_EACH_N(n) {
		msgs = stat_of(q).queue.msgs;
		fi_arm(n);
		ret = kt_ret(write(q, buf[0], 5000));
		inj = fi_disarm(n);
		if (ret < 0) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
			ASSERT_EQ(msgs, stat_of(q).queue.msgs) TH_LOG("N=%u", n);
			continue;
		}
		ASSERT_EQ(5000, ret);
		ASSERT_EQ(msgs + 1, stat_of(q).queue.msgs);
		/* Type 1 is the written one alone. */
		memset(&m, 0, sizeof(m));
		m.buf = (uintptr_t)buf[1];
		m.len = sizeof(buf[1]);
		m.type = 1;
		ASSERT_EQ(5000, kt_recv_msg(q, &m, KIPC_F_SYSV | KIPC_F_NONBLOCK, NULL));
		ASSERT_EQ(0, m.prio);
		ASSERT_TRUE(filled(buf[1], 5000, 77));
		if (!inj)
			break;
	}
	LOOP_DONE();

	/* The two from the start, whatever came and went meanwhile. */
	ASSERT_EQ(2, stat_of(q).queue.msgs);
	recv_check(q, 5000, 2, 1001);
	recv_check(q, 300, 1, 1000);
	ASSERT_EQ(0, stat_of(q).queue.msgs);
	close(q);
	counters_at_base();
}

/* A batch stops at the failure: what was sent is queued, in order, whole. */
TEST_F_TIMEOUT(fault, batched_send_keeps_what_it_sent, 1200)
{
	static const uint32_t lens[] = { 100, 6000, 20000, 40 };
	struct kipc_msg m[4];
	unsigned int n, i;
	bool inj;
	int q, ret;

	NEED_INJECTION();
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 64,
		     65536, NULL);
	ASSERT_LE(0, q);
	for (i = 0; i < 4; i++)
		fill(buf[0] + i * 65536, lens[i], 10 + i);

	FOR_EACH_N(n) {
		for (i = 0; i < 4; i++) {
			memset(&m[i], 0, sizeof(m[i]));
			m[i].buf = (uintptr_t)(buf[0] + i * 65536);
			m[i].len = lens[i];
			m[i].prio = 7;
			m[i].type = 1 + i;
		}
		fi_arm(n);
		ret = kt_xfer(q, KIPC_IOC_SEND, m, 4, KIPC_F_NONBLOCK, NULL);
		inj = fi_disarm(n);
		if (ret < 0) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
			ret = 0;
		} else {
			ASSERT_LT(0, ret);
			ASSERT_GE(4, ret);
			if (ret < 4) {
				/* Reported as a short count. */
				ASSERT_TRUE(inj);
				self->surfaced++;
			}
		}
		ASSERT_EQ(ret, (int)stat_of(q).queue.msgs) TH_LOG("N=%u", n);
		/* Exactly the first ret, in order, each whole. */
		for (i = 0; i < (unsigned int)ret; i++) {
			struct kipc_msg r = { .buf = (uintptr_t)buf[1], .len = sizeof(buf[1]) };

			ASSERT_EQ((int)lens[i], kt_recv_msg(q, &r, KIPC_F_NONBLOCK, NULL));
			ASSERT_EQ(1 + i, r.type);
			ASSERT_TRUE(filled(buf[1], lens[i], 10 + i));
		}
		if (!inj)
			break;
	}
	LOOP_DONE();
	close(q);
	counters_at_base();
}

/* A receive needs no memory: with every allocation failing, it still works. */
TEST_F_TIMEOUT(fault, receive_needs_no_memory, 600)
{
	unsigned int n, i;
	int q, ret;

	NEED_INJECTION();
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 64,
		     65536, NULL);
	ASSERT_LE(0, q);
	for (i = 0; i < NSIZES; i++) {
		fill(buf[0], send_sizes[i], 50 + i);
		ASSERT_EQ(0, kt_send(q, buf[0], send_sizes[i], NSIZES - i, 1, 0, NULL));
	}
	for (i = 0; i < NSIZES; i++) {
		struct kipc_msg m = { .buf = (uintptr_t)buf[1], .len = sizeof(buf[1]) };

		for (n = 1; n <= 3; n++) {
			/* Two peeks, then the receive, each set to fail. */
			m.len = sizeof(buf[1]);
			fi_arm(n);
			ret = kt_recv_msg(q, &m, n < 3 ? KIPC_F_PEEK : 0, NULL);
			fi_disarm(n);
			ASSERT_EQ((int)send_sizes[i], ret) TH_LOG("N=%u", n);
			ASSERT_EQ(NSIZES - i, m.prio);
			ASSERT_TRUE(filled(buf[1], send_sizes[i], 50 + i));
		}
		self->loops++;
	}
	ASSERT_EQ(0, stat_of(q).queue.msgs);
	close(q);
	counters_at_base();
}

/* Send and receive in one call: a failed send receives nothing. */
TEST_F_TIMEOUT(fault, sendrecv, 600)
{
	struct kipc_sendrecv sr;
	struct kipc_msg s, r;
	unsigned int n;
	int q, ret;
	bool inj;

	NEED_INJECTION();
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 8,
		     16384, NULL);
	ASSERT_LE(0, q);
	fill(buf[0], 9000, 5);
	FOR_EACH_N(n) {
		memset(&s, 0, sizeof(s));
		s.buf = (uintptr_t)buf[0];
		s.len = 9000;
		s.type = 1;
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)buf[1];
		r.len = sizeof(buf[1]);
		memset(&sr, 0, sizeof(sr));
		sr.send.msgs = (uintptr_t)&s;
		sr.send.count = 1;
		sr.send.flags = KIPC_F_NONBLOCK;
		sr.recv.msgs = (uintptr_t)&r;
		sr.recv.count = 1;
		sr.recv.flags = KIPC_F_NONBLOCK;
		sr.recv_fd = q;
		fi_arm(n);
		ret = kt_ret(ioctl(q, KIPC_IOC_SENDRECV, &sr));
		inj = fi_disarm(n);
		if (ret < 0) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
		} else {
			ASSERT_EQ(1, ret);
			ASSERT_EQ(1, sr.sent);
			ASSERT_EQ(9000, r.len);
			ASSERT_TRUE(filled(buf[1], 9000, 5));
		}
		ASSERT_EQ(0, stat_of(q).queue.msgs) TH_LOG("N=%u", n);
		if (!inj)
			break;
	}
	LOOP_DONE();
	close(q);
	counters_at_base();
}

/* Regions */

static int rg_open(int dev, const char *name, uint32_t flags, uint64_t size,
		   uint32_t *id)
{
	struct kipc_region_attr attr = { .size = size };

	return kt_open(dev, KIPC_TYPE_REGION, name, flags, 0600, &attr,
		       sizeof(attr), id);
}

static int rg_resize(int fd, uint64_t size)
{
	return kt_ret(ioctl(fd, KIPC_IOC_REGION_RESIZE, &size));
}

TEST_F_TIMEOUT(fault, region_resize, 600)
{
	struct kipc_info before, after;
	unsigned int n;
	int r, ret;
	bool inj;

	NEED_INJECTION();
	r = rg_open(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0, NULL);
	ASSERT_LE(0, r);

	/* Grow from nothing. */
	FOR_EACH_N(n) {
		ASSERT_EQ(0, kt_info(self->dev, &before));
		fi_arm(n);
		ret = rg_resize(r, 1 << 20);
		inj = fi_disarm(n);
		ASSERT_EQ(0, kt_info(self->dev, &after));
		if (ret) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
			ASSERT_EQ(0, stat_of(r).region.size) TH_LOG("N=%u", n);
			ASSERT_EQ(before.bytes, after.bytes) TH_LOG("N=%u", n);
			continue;
		}
		ASSERT_EQ(1 << 20, stat_of(r).region.size);
		ASSERT_EQ(before.bytes + (1 << 20), after.bytes);
		ASSERT_EQ(0, rg_resize(r, 0));
		if (!inj)
			break;
	}
	LOOP_DONE();

	/* Shrink one holding data: what stays is intact. */
	ASSERT_EQ(0, rg_resize(r, 1 << 20));
	fill(buf[0], sizeof(buf[0]), 3);
	FOR_EACH_N(n) {
		ASSERT_EQ((ssize_t)sizeof(buf[0]), pwrite(r, buf[0], sizeof(buf[0]), 0));
		fi_arm(n);
		ret = rg_resize(r, 8192);
		inj = fi_disarm(n);
		if (ret) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
			ASSERT_EQ(1 << 20, stat_of(r).region.size);
			continue;
		}
		ASSERT_EQ(8192, stat_of(r).region.size);
		ASSERT_EQ(8192, pread(r, buf[1], sizeof(buf[1]), 0));
		ASSERT_TRUE(filled(buf[1], 8192, 3));
		ASSERT_EQ(0, rg_resize(r, 1 << 20));
		if (!inj)
			break;
	}
	LOOP_DONE();
	close(r);
	counters_at_base();
}

TEST_F_TIMEOUT(fault, region_mmap_and_fault_in, 1800)
{
	const size_t len = 256 * 1024;
	struct kipc_region_stat rs;
	unsigned int n;
	int r, ret;
	char *p;
	bool inj;

	NEED_INJECTION();
	r = rg_open(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, len, NULL);
	ASSERT_LE(0, r);

	/* mmap itself: a failed one is not counted as a mapping. */
	FOR_EACH_N(n) {
		fi_arm(n);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0);
		ret = p == MAP_FAILED ? -errno : 0;
		inj = fi_disarm(n);
		rs = stat_of(r).region;
		if (ret) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
			ASSERT_EQ(0, rs.nattch) TH_LOG("N=%u", n);
			ASSERT_EQ(0, rs.nwritable) TH_LOG("N=%u", n);
			continue;
		}
		ASSERT_EQ(1, rs.nattch);
		ASSERT_EQ(1, rs.nwritable);
		ASSERT_EQ(0, munmap(p, len));
		ASSERT_EQ(0, stat_of(r).region.nattch);
		if (!inj)
			break;
	}
	LOOP_DONE();

	/* Faulting the pages in, each time into a fresh region. */
	close(r);
	FOR_EACH_N(n) {
		r = rg_open(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, len, NULL);
		ASSERT_LE(0, r);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r, 0);
		ASSERT_NE(MAP_FAILED, p);
		fi_arm(n);
		ret = kt_ret(madvise(p, len, MADV_POPULATE_WRITE));
		inj = fi_disarm(n);
		if (ret)
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
		/* Either way the region works, all of it. */
		fill(p, len, n);
		ASSERT_EQ((ssize_t)len, pread(r, buf[1], len, 0));
		ASSERT_TRUE(filled(buf[1], len, n)) TH_LOG("N=%u", n);
		ASSERT_EQ(1, stat_of(r).region.nattch);
		ASSERT_EQ(0, munmap(p, len));
		ASSERT_EQ(0, stat_of(r).region.nattch);
		close(r);
		counters_at_base();
		if (!ret && !inj)
			break;
	}
	LOOP_DONE();

	/* pwrite: all, a prefix, or nothing, and never garbage. */
	r = rg_open(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, len, NULL);
	ASSERT_LE(0, r);
	FOR_EACH_N(n) {
		ASSERT_EQ(0, rg_resize(r, 0));
		ASSERT_EQ(0, rg_resize(r, len));
		fill(buf[0], len, 1000 + n);
		fi_arm(n);
		ret = kt_ret(pwrite(r, buf[0], len, 0));
		inj = fi_disarm(n);
		if (ret < 0) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
			ret = 0;
		} else if (ret < (int)len) {
			ASSERT_TRUE(inj) TH_LOG("N=%u: short write of %d", n, ret);
			self->surfaced++;
		}
		ASSERT_EQ((ssize_t)len, pread(r, buf[1], len, 0));
		ASSERT_TRUE(filled(buf[1], ret, 1000 + n)) TH_LOG("N=%u", n);
		memset(buf[0], 0, len);
		ASSERT_EQ(0, memcmp(buf[1] + ret, buf[0], len - ret)) TH_LOG("N=%u", n);
		if (ret == (int)len && !inj)
			break;
	}
	LOOP_DONE();
	close(r);
	counters_at_base();
}

/* Rings */

TEST_F_TIMEOUT(fault, ring_mmap, 600)
{
	struct kipc_ring_attr a = { .slots = 16, .slot_size = 4096 };
	struct kipc_ring_info info;
	struct kipc_ring_hdr *hdr;
	unsigned int n;
	int q, ret;
	void *p;
	bool inj;

	NEED_INJECTION();
	q = kt_open(self->dev, KIPC_TYPE_RING, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
		    0600, &a, sizeof(a), NULL);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_ret(ioctl(q, KIPC_IOC_RING_INFO, &info)));
	FOR_EACH_N(n) {
		fi_arm(n);
		p = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, q, 0);
		ret = p == MAP_FAILED ? -errno : 0;
		inj = fi_disarm(n);
		if (ret) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
			continue;
		}
		hdr = p;
		ASSERT_EQ(0, hdr->head);
		ASSERT_EQ(0, hdr->tail);
		/* The slots are mapped, and writable. */
		memset((char *)p + info.slot_offset, 0x5a, 16 * 4096);
		ASSERT_EQ(0, munmap(p, info.map_size));
		if (!inj)
			break;
	}
	LOOP_DONE();
	close(q);
	counters_at_base();
}

/* Semaphores */

/*
 * In a child: its first SEM_UNDO, with the child's @n-th allocation from
 * then on failing (the child's own fail-nth; its pages locked first, so
 * that only the call allocates).  Exit status: 0 done, 1 ENOMEM injected,
 * 2 ENOMEM with nothing injected, 3 another error, 4 set-up failed; +8 if
 * the call went through with @n beyond its allocations.
 */
static void first_undo_in_child(int s, unsigned int n)
{
	char b[16];
	int nth, len, ret;
	unsigned long left;

	nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth < 0 || mlockall(MCL_CURRENT))
		_exit(4);
	len = snprintf(b, sizeof(b), "%u", n);
	if (pwrite(nth, b, len, 0) != len)
		_exit(4);
	ret = kt_sem1(s, 1, -2, KIPC_SEMOP_UNDO, KIPC_F_NONBLOCK, NULL);
	len = pread(nth, b, sizeof(b) - 1, 0);
	if (len <= 0 || pwrite(nth, "0", 1, 0) != 1)
		_exit(4);
	b[len] = '\0';
	left = strtoul(b, NULL, 10);
	if (ret == -ENOMEM)
		_exit(left ? 2 : 1);
	if (ret)
		_exit(3);
	_exit(left ? 8 : 0);
}

TEST_F_TIMEOUT(fault, sem_undo_setup, 600)
{
	struct kipc_sembuf ops[10];
	unsigned int n, i;
	int s, ret, st;
	bool inj;
	pid_t pid;

	NEED_INJECTION();
	/*
	 * The first SEM_UNDO of a process makes its undo list and the
	 * record; whatever fails, nothing is left once the process exits,
	 * and what went through was undone.
	 */
	FOR_EACH_N(n) {
		s = kt_sem(self->dev, self->name, KIPC_O_CREAT | KIPC_O_EXCL |
			   KIPC_O_RDWR, 0600, 3, 0, 5, NULL);
		ASSERT_LE(0, s);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			first_undo_in_child(s, n);
		st = kt_wait(pid);
		ASSERT_TRUE(st == 0 || st == 1 || st == 8)
			TH_LOG("N=%u: child status %d", n, st);
		inj = st == 1;
		if (inj) {
			self->injected++;
			self->surfaced++;
		}
		ASSERT_EQ(5, kt_getval(s, 1)) TH_LOG("N=%u: undo lost", n);
		ASSERT_EQ(0, stat_of(s).sem.undos) TH_LOG("N=%u", n);
		ASSERT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_SEM, self->name));
		close(s);
		counters_at_base();
		if (!inj)
			break;
	}
	LOOP_DONE();

	/* An array longer than the on-stack copy. */
	s = kt_anon_sem(self->dev, 10, 3);
	ASSERT_LE(0, s);
	for (i = 0; i < 10; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].num = i;
		ops[i].delta = -1;
		ops[i].flags = KIPC_SEMOP_UNDO;
	}
	FOR_EACH_N(n) {
		fi_arm(n);
		ret = kt_semop(s, ops, 10, KIPC_F_NONBLOCK, NULL);
		inj = fi_disarm(n);
		for (i = 0; i < 10; i++)
			ASSERT_EQ(ret ? 3 : 2, kt_getval(s, i)) TH_LOG("N=%u", n);
		if (ret) {
			EXPECT_FAILED_FOR_MEMORY(ret, inj);
			continue;
		}
		for (i = 0; i < 10; i++)
			ASSERT_EQ(0, kt_setval(s, i, 3));
		if (!inj)
			break;
	}
	LOOP_DONE();
	close(s);
	counters_at_base();
}

/* Netlink, over a raw socket: libnl would allocate under the injection. */

static int nl_sock(void)
{
	struct timeval tv = { .tv_sec = 30 };
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (s < 0)
		return -errno;
	/* A lost answer fails the test instead of hanging it. */
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

struct nl_req {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[64];
};

static int nl_send(int s, uint16_t family, uint8_t cmd, uint16_t flags,
		   const char *name, uint32_t id)
{
	struct nl_req req;
	struct nlattr *a;
	size_t len;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_type = family;
	req.nh.nlmsg_flags = NLM_F_REQUEST | flags;
	req.nh.nlmsg_seq = 1;
	req.gh.cmd = cmd;
	req.gh.version = family == GENL_ID_CTRL ? 1 : KIPC_GENL_VERSION;
	a = (struct nlattr *)req.attrs;
	if (name) {
		len = strlen(name) + 1;
		a->nla_type = CTRL_ATTR_FAMILY_NAME;
		a->nla_len = NLA_HDRLEN + len;
		memcpy((char *)a + NLA_HDRLEN, name, len);
	} else if (id) {
		a->nla_type = KIPC_A_ID;
		a->nla_len = NLA_HDRLEN + sizeof(id);
		memcpy((char *)a + NLA_HDRLEN, &id, sizeof(id));
	} else {
		a->nla_len = 0;
	}
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(a->nla_len);
	if (send(s, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	return 0;
}

/*
 * Read the answers to one request: the kipc objects it lists (*@objs) and
 * the family id a CTRL_CMD_GETFAMILY answer carries (*@family).  Returns 0,
 * or the request's -errno.
 */
static int nl_answers(int s, bool dump, int *objs, uint16_t *family)
{
	struct nlmsghdr *nh;
	ssize_t len;

	*objs = 0;
	for (;;) {
		len = recv(s, nlbuf, sizeof(nlbuf), 0);
		if (len < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)nlbuf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error;
			}
			if (nh->nlmsg_type == NLMSG_DONE)
				return *(int *)NLMSG_DATA(nh);
			if (nh->nlmsg_type == GENL_ID_CTRL && family) {
				struct genlmsghdr *gh = NLMSG_DATA(nh);
				struct nlattr *a = (void *)((char *)gh + GENL_HDRLEN);
				int alen = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

				while (alen >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
				       a->nla_len <= alen) {
					if (a->nla_type == CTRL_ATTR_FAMILY_ID)
						*family = *(uint16_t *)((char *)a + NLA_HDRLEN);
					alen -= NLA_ALIGN(a->nla_len);
					a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
				}
			} else {
				(*objs)++;
			}
			if (!dump)
				return 0;
		}
	}
}

/* One request and its answers, under the injection or not. */
static int nl_call(int s, uint16_t family, uint8_t cmd, bool dump, uint32_t id,
		   int *objs)
{
	int ret = nl_send(s, family, cmd, dump ? NLM_F_DUMP : 0, NULL, id);

	return ret ? ret : nl_answers(s, dump, objs, NULL);
}

TEST_F_TIMEOUT(fault, netlink, 1200)
{
	uint16_t family = 0;
	struct kipc_info with, now;
	int q, r, sm, s, objs, ret, c, listed;
	unsigned int n;
	uint32_t qid = 0;
	bool inj;
	static const struct {
		uint8_t cmd;
		bool dump;
		int objs;
	} calls[] = {
		{ KIPC_CMD_GET, true, -1 },	/* the dump: all listed */
		{ KIPC_CMD_GET, false, 1 },	/* one object */
		{ KIPC_CMD_STATS, false, 1 },
	};

	NEED_INJECTION();
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 4, 64, &qid);
	ASSERT_LE(0, q);
	r = rg_open(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 8192, NULL);
	ASSERT_LE(0, r);
	sm = kt_anon_sem(self->dev, 2, 0);
	ASSERT_LE(0, sm);
	ASSERT_EQ(0, kt_info(self->dev, &with));

	s = nl_sock();
	ASSERT_LE(0, s);
	ASSERT_EQ(0, nl_send(s, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, KIPC_GENL_NAME, 0));
	ASSERT_EQ(0, nl_answers(s, false, &objs, &family));
	ASSERT_NE(0, family);
	/* Ours, and whatever else this namespace holds. */
	ASSERT_EQ(0, nl_call(s, family, KIPC_CMD_GET, true, 0, &listed));
	ASSERT_LE(3, listed);
	close(s);

	for (c = 0; c < 3; c++) {
		FOR_EACH_N(n) {
			s = nl_sock();
			ASSERT_LE(0, s);
			fi_arm(n);
			ret = nl_call(s, family, calls[c].cmd, calls[c].dump,
				      calls[c].cmd == KIPC_CMD_GET && !calls[c].dump ? qid : 0,
				      &objs);
			inj = fi_disarm(n);
			close(s);
			if (ret) {
				EXPECT_FAILED_FOR_MEMORY(ret, inj, || ret == -ENOBUFS);
			} else {
				ASSERT_EQ(calls[c].objs < 0 ? listed : calls[c].objs, objs)
					TH_LOG("cmd %d, N=%u", calls[c].cmd, n);
			}
			/* The objects are all there, and a fresh dump lists them. */
			ASSERT_EQ(0, kt_info(self->dev, &now));
			ASSERT_EQ(with.objects[0], now.objects[0]);
			s = nl_sock();
			ASSERT_LE(0, s);
			ASSERT_EQ(0, nl_call(s, family, KIPC_CMD_GET, true, 0, &objs));
			ASSERT_EQ(listed, objs);
			close(s);
			if (!ret && !inj)
				break;
		}
		LOOP_DONE();
	}
	close(q);
	close(r);
	close(sm);
	counters_at_base();
}

/* Last: the tally, and proof that the injection did inject. */
TEST_F(fault, faults_were_injected)
{
	NEED_INJECTION();
	ASSERT_NE(NULL, totals);
	ksft_print_msg("faults injected: %lu in all, %lu of them reported (ENOMEM, ENOBUFS or a short count), the rest absorbed; %lu operations\n",
		       totals->injected, totals->surfaced, totals->loops);
	fflush(stdout);
	ASSERT_LT(0, totals->injected);
	ASSERT_LT(0, totals->surfaced);
}

TEST_HARNESS_MAIN
