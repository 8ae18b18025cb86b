// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded, seeded fuzzer for kipc: every ioctl of /dev/kipc and of the
 * object fds, random ioctl numbers of kipc's magic, read/write/pread/
 * pwrite/lseek/poll on object fds, mmap with random offsets, lengths,
 * protections and flags (and hostile writes to what maps), and the "kipc"
 * generic netlink family with valid, mutated and malformed requests.
 *
 * Requests start valid and are then mutated: sizes near 0, limits and
 * overflow, bad pointers (NULL, kernel addresses, unmapped, read-only and
 * page-straddling memory), reserved fields set, bad flags, stale ids.
 * Several worker processes share the objects through names and ids, so
 * removals and unlinks race with everything else.
 *
 * What must hold: every call fails only with an errno its code can produce
 * (each call has its own list, derived from kmod/), a call whose argument
 * cannot be read or written back fails with EFAULT (or an error checked
 * before the copy) and never succeeds, mappings that were granted work,
 * replies are clean, nothing hangs (a watchdog), and at the end every
 * object is gone and KIPC_IOC_INFO's counters are back where they started.
 *
 * The other tests race removal against blocked calls: queue receives and
 * sends, semaphore waits, ring waits and polls, in threads and processes,
 * with removal by ioctl, by id, by netlink, after closes, unlinks and
 * signals.  Every blocked call must return, with EIDRM, ETIMEDOUT, EINTR,
 * or EBADF where its fd was closed before it started.
 *
 *   KIPC_FUZZ_SEED=N     the seed (default: from the clock; always printed)
 *   KIPC_FUZZ_CALLS=N    calls to fuzz (default 20000)
 *   KIPC_FUZZ_WORKERS=N  worker processes (default 3)
 */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"
#include "kipc_rawnl.h"

/* Test output goes through stdio; the harness's child ends with _exit(). */
#define fz_msg(...) do {						\
	ksft_print_msg(__VA_ARGS__);					\
	fflush(stdout);							\
} while (0)

/* A failure with a message: EXPECT_FAIL() TH_LOG(...). */
#define EXPECT_FAIL()		EXPECT_TRUE(false)

#define FZ_DEFAULT_CALLS	20000
#define FZ_DEFAULT_WORKERS	3
#define FZ_MAX_WORKERS		8
#define FZ_POOL			24	/* object fds per worker */
#define FZ_MAPS			16	/* live mappings per worker */
#define FZ_NAMES		12	/* names shared by the workers */
#define FZ_MAX_IDS		(1 << 18)
#define FZ_PAYLOAD		(2u << 20)	/* send buffer, > max_msgsize */
#define FZ_ARENA		(256u << 10)
#define FZ_SWEEP_CALLS		256	/* a worker's objects go this often */
#define FZ_SWEEP_BYTES		(48ull << 20)	/* ... or once it put in this much */

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 0);
	return errno || *end ? def : v;
}

static unsigned long fz_calls(void)
{
	return env_ul("KIPC_FUZZ_CALLS", FZ_DEFAULT_CALLS);
}

/* Random numbers: splitmix64, one state per worker. */
static uint64_t fz_mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Errno lists, 0-terminated, static: a call keeps a pointer to its list. */
#define ES(...)	({ static const int es_[] = { __VA_ARGS__, 0 }; es_; })

static bool es_has(const int *set, int err)
{
	for (; *set; set++)
		if (*set == err)
			return true;
	return false;
}

/* State shared by the workers and the test process. */
struct fz_shared {
	uint64_t seed;
	unsigned long target;
	atomic_ulong issued;		/* calls claimed by the workers */
	atomic_ulong done;		/* calls made */
	atomic_ulong ok;		/* of them, successful */
	atomic_ulong failures;
	atomic_ulong faults;		/* of them, bad mappings */
	atomic_uint nids;
	atomic_uint nmsg;
	uint32_t ids[FZ_MAX_IDS];	/* every object created, for cleanup */
	uint8_t id_types[FZ_MAX_IDS];
	char prefix[32];
	char names[FZ_NAMES][48];
	char msg[8][320];
	/* per operation: calls and successes */
	atomic_ulong op_calls[64];
	atomic_ulong op_ok[64];
};

/* An object fd of a worker, and what it knows of the object. */
struct fz_obj {
	int fd;				/* -1: free slot */
	uint32_t type;
	uint32_t id;
	uint32_t acc;			/* KIPC_O_ACCMODE */
	bool ring;
	uint32_t nsems;
	uint64_t size;			/* region: size at open */
	uint64_t map_size;		/* ring: its mapping */
};

struct fz_map {
	uint8_t *addr;
	size_t len;
	int prot;
	uint32_t type;
};

/* One worker's world. */
struct fz {
	struct fz_shared *sh;
	int worker;
	uint64_t rng;
	int dev;
	struct rnl nl;
	bool nl_ok;
	struct kipc_info limits;
	struct fz_obj pool[FZ_POOL];
	struct fz_map maps[FZ_MAPS];
	uint32_t mine[4096];		/* ids created since the last sweep */
	uint8_t mine_type[4096];
	unsigned int nmine;
	unsigned long made;		/* calls this worker made */
	unsigned long since_sweep;
	uint64_t bytes_in;		/* payload put in since the last sweep */
	int other_fd;			/* a pipe end: not a kipc fd */
	/* memory */
	uint8_t *arena;			/* requests are built here */
	uint8_t *edge;			/* a page, then a PROT_NONE page */
	uint8_t *ro;			/* read-only view of ro_rw */
	uint8_t *ro_rw;
	uint8_t *payload;		/* FZ_PAYLOAD bytes of pattern */
	uint8_t *rbuf;			/* FZ_PAYLOAD bytes to receive into */
	/* a page no access may touch: kept mapped PROT_NONE, not unmapped,
	 * so that no later mapping can take its place */
	uint8_t *hole;
	long page;
	const char *op;			/* the call in progress, for reports */
	unsigned long callno;
};

static uint64_t rnd(struct fz *z)
{
	return fz_mix(&z->rng);
}

static uint32_t rn(struct fz *z, uint32_t n)
{
	return n ? (uint32_t)(rnd(z) % n) : 0;
}

static bool one_in(struct fz *z, uint32_t n)
{
	return rn(z, n) == 0;
}

/* Reports */

static void __attribute__((format(printf, 2, 3)))
fz_fail(struct fz *z, const char *fmt, ...)
{
	struct fz_shared *sh = z->sh;
	unsigned int slot;
	char line[320];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "worker %d, call %lu (%s): ", z->worker,
		     z->callno, z->op ? z->op : "?");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	atomic_fetch_add(&sh->failures, 1);
	slot = atomic_fetch_add(&sh->nmsg, 1);
	if (slot < 8)
		memcpy(sh->msg[slot], line, sizeof(line));
	if (slot < 32)
		fprintf(stderr, "# FAIL %s\n", line);
}

enum fz_argmode {
	ARG_OK,
	ARG_BAD,			/* nothing there: every access faults */
	ARG_STRADDLE,			/* the end runs into an unmapped page */
	ARG_RO,				/* readable, not writable */
};

struct fz_call {
	int op;
	const char *name;
	const int *allowed;
	enum fz_argmode mode;
	bool writes_back;		/* the call writes into its argument */
	/* errors a call may return before it reads its argument */
	const int *early;
};

/*
 * Judge one call.  Any errno outside the call's list is a failure; a call
 * whose argument is unreadable must fail with EFAULT or an early error, and
 * one whose argument cannot take the answer must not succeed.
 */
static void fz_judge(struct fz *z, const struct fz_call *c, long ret, int err)
{
	z->made++;
	atomic_fetch_add(&z->sh->done, 1);
	atomic_fetch_add(&z->sh->op_calls[c->op], 1);
	z->op = c->name;
	if (ret >= 0)
		atomic_fetch_add(&z->sh->ok, 1), atomic_fetch_add(&z->sh->op_ok[c->op], 1);
	if (ret < 0 && !es_has(c->allowed, err)) {
		fz_fail(z, "errno %d (%s) is not one this call can return", err,
			strerror(err));
		return;
	}
	if (c->mode == ARG_BAD || c->mode == ARG_STRADDLE) {
		if (ret >= 0)
			fz_fail(z, "succeeded with an unreadable argument");
		else if (err != EFAULT && !(c->early && es_has(c->early, err)))
			fz_fail(z, "unreadable argument gave %s, not EFAULT",
				strerror(err));
	} else if (c->mode == ARG_RO && c->writes_back && ret >= 0) {
		fz_fail(z, "succeeded writing its answer to a read-only page");
	}
}

/* Memory */

static sigjmp_buf *volatile fz_jmp;

static void fz_fault_handler(int sig)
{
	if (fz_jmp)
		siglongjmp(*fz_jmp, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Touch @len bytes at @p: 0, or the signal that stopped it. */
static int fz_touch(uint8_t *p, size_t len, bool write, uint8_t v)
{
	sigjmp_buf jb;
	volatile uint8_t sink = 0;
	int sig;
	size_t i;

	sig = sigsetjmp(jb, 1);
	if (sig) {
		fz_jmp = NULL;
		return sig;
	}
	fz_jmp = &jb;
	__asm__ volatile("" ::: "memory");
	for (i = 0; i < len; i += 997) {
		if (write)
			((volatile uint8_t *)p)[i] = v;
		else
			sink += ((volatile uint8_t *)p)[i];
	}
	if (len) {
		if (write)
			((volatile uint8_t *)p)[len - 1] = v;
		else
			sink += ((volatile uint8_t *)p)[len - 1];
	}
	fz_jmp = NULL;
	(void)sink;
	return 0;
}

static int fz_mem_init(struct fz *z)
{
	int mfd, i;

	z->page = sysconf(_SC_PAGESIZE);
	z->arena = mmap(NULL, FZ_ARENA, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	z->edge = mmap(NULL, 2 * z->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	z->payload = mmap(NULL, FZ_PAYLOAD + z->page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	z->rbuf = mmap(NULL, FZ_PAYLOAD, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	z->hole = mmap(NULL, z->page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (z->arena == MAP_FAILED || z->edge == MAP_FAILED ||
	    z->payload == MAP_FAILED || z->rbuf == MAP_FAILED ||
	    z->hole == MAP_FAILED)
		return -1;
	if (mprotect(z->edge + z->page, z->page, PROT_NONE) ||
	    mprotect(z->payload + FZ_PAYLOAD, z->page, PROT_NONE))
		return -1;
	mfd = memfd_create("fz-ro", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, FZ_ARENA))
		return -1;
	z->ro_rw = mmap(NULL, FZ_ARENA, PROT_READ | PROT_WRITE, MAP_SHARED,
			mfd, 0);
	z->ro = mmap(NULL, FZ_ARENA, PROT_READ, MAP_SHARED, mfd, 0);
	close(mfd);
	if (z->ro_rw == MAP_FAILED || z->ro == MAP_FAILED)
		return -1;
	for (i = 0; i < (int)FZ_PAYLOAD; i++)
		z->payload[i] = (uint8_t)(i * 131 + 7);
	return 0;
}

/* Pointers */

/* An address where nothing can be read. */
static uint64_t fz_bad_addr(struct fz *z)
{
	static const uint64_t bad[] = {
		0, 8, 0xffff888000000000ull, 0xffffffffff600000ull,
		0x8000000000000000ull, UINT64_MAX, 0x00007ffffffff000ull,
	};
	uint32_t i = rn(z, ARRAY_SIZE(bad) + 2);

	if (i == ARRAY_SIZE(bad))
		return (uintptr_t)z->hole + rn(z, z->page);
	if (i == ARRAY_SIZE(bad) + 1)
		return (uintptr_t)(z->edge + z->page) + rn(z, z->page);
	return bad[i] + (bad[i] ? 0 : rn(z, 2) * 4096);
}

/*
 * Where to put an argument of @len bytes built at @src: as built, or moved
 * to memory that faults on all or part of it, or to a read-only page.
 */
static void *fz_place(struct fz *z, const void *src, size_t len,
		      enum fz_argmode *mode)
{
	uint32_t r = rn(z, 100);
	size_t off;

	if (r < 88 || len == 0) {
		*mode = ARG_OK;
		return (void *)src;
	}
	if (r < 91) {
		*mode = ARG_BAD;
		return (void *)(uintptr_t)fz_bad_addr(z);
	}
	if (r < 95 && len > 1 && len <= (size_t)z->page) {
		/* 1 .. len-1 bytes readable, the rest in the guard page */
		off = 1 + rn(z, len - 1);
		memcpy(z->edge + z->page - off, src, off);
		*mode = ARG_STRADDLE;
		return z->edge + z->page - off;
	}
	if (len <= FZ_ARENA / 2) {
		off = rn(z, FZ_ARENA / 2) & ~7ul;
		memcpy(z->ro_rw + off, src, len);
		*mode = ARG_RO;
		return z->ro + off;
	}
	*mode = ARG_OK;
	return (void *)src;
}

/* A user pointer inside a request: mostly @good, sometimes bad. */
static uint64_t fz_ptr(struct fz *z, const void *good, size_t len, bool ro_ok)
{
	uint32_t r = rn(z, 100);

	if (r < 90)
		return (uintptr_t)good;
	if (r < 95)
		return fz_bad_addr(z);
	if (r < 97 && len > 1 && len < (size_t)z->page)
		return (uintptr_t)(z->edge + z->page - 1 - rn(z, len - 1));
	if (ro_ok && len <= FZ_ARENA)
		return (uintptr_t)z->ro;
	return (uintptr_t)good;
}

/* Values */

static uint64_t fz_boundary(struct fz *z, int bytes)
{
	const struct kipc_info *l = &z->limits;
	const uint64_t v[] = {
		0, 1, 2, 3, 7, 8, 15, 16, 255, 256, 4095, 4096, 4097, 8192,
		0x7fff, 0x8000, 0xffff, 0x10000, 1u << 20, (1u << 20) + 1,
		INT32_MAX, (uint64_t)INT32_MAX + 1, UINT32_MAX - 1, UINT32_MAX,
		(uint64_t)UINT32_MAX + 1, 1ull << 40, INT64_MAX,
		(uint64_t)INT64_MAX + 1, UINT64_MAX - 1, UINT64_MAX,
		l->max_msgsize, l->max_msgsize + 1, l->max_queue_msgs,
		l->max_queue_msgs + 1, l->max_queue_bytes,
		l->max_queue_bytes + 1, l->max_region_size,
		l->max_region_size + 1, l->max_nsems, l->max_nsems + 1,
		KIPC_XFER_MAX, KIPC_XFER_MAX + 1, KIPC_SEMOP_MAX,
		KIPC_SEMOP_MAX + 1, KIPC_PRIO_MAX, KIPC_PRIO_MAX + 1,
		KIPC_SEM_VMX, KIPC_SEM_VMX + 1, KIPC_SEM_VALUE_MAX,
		(uint64_t)-KIPC_SEM_VMX, (uint64_t)-KIPC_SEM_VALUE_MAX,
		(uint64_t)INT32_MIN, (uint64_t)INT64_MIN,
	};
	uint64_t x;

	switch (rn(z, 6)) {
	case 0:
		x = rnd(z);
		break;
	case 1:
		x = rn(z, 64);
		break;
	default:
		x = v[rn(z, ARRAY_SIZE(v))];
		break;
	}
	if (bytes == 4)
		x = (uint32_t)x;
	return x;
}

enum fz_kind {
	FK_INT,
	FK_PTR,
	FK_FLAGS,
	FK_RSV,
};

struct fz_field {
	uint16_t off;
	uint8_t size;
	uint8_t kind;
};

#define FLD(type, member, kind) \
	{ offsetof(type, member), sizeof(((type *)0)->member), kind }

/* Apply 0 (mostly) to a few mutations to the fields of @s. */
static int fz_mutate(struct fz *z, void *s, const struct fz_field *f, int n)
{
	uint32_t r = rn(z, 100);
	int times = r < 60 ? 0 : r < 88 ? 1 : r < 96 ? 2 : 1 + rn(z, 6);
	int i;

	for (i = 0; i < times; i++) {
		const struct fz_field *fl = &f[rn(z, n)];
		uint8_t *p = (uint8_t *)s + fl->off;
		uint64_t v = 0;

		if (fl->size == 8)
			memcpy(&v, p, 8);
		else if (fl->size == 4)
			memcpy(&v, p, 4);
		else if (fl->size == 2)
			memcpy(&v, p, 2);
		switch (fl->kind) {
		case FK_PTR:
			v = fz_bad_addr(z);
			break;
		case FK_FLAGS:
			if (one_in(z, 2))
				v ^= 1ull << rn(z, fl->size * 8);
			else
				v = one_in(z, 2) ? rnd(z) : v | (1ull << rn(z, 16));
			break;
		case FK_RSV:
			v = one_in(z, 2) ? 1ull << rn(z, fl->size * 8) : rnd(z) | 1;
			break;
		default:
			switch (rn(z, 4)) {
			case 0:
				v ^= 1ull << rn(z, fl->size * 8);
				break;
			case 1:
				v += one_in(z, 2) ? 1 : -1;
				break;
			default:
				v = fz_boundary(z, fl->size);
				break;
			}
		}
		if (fl->size == 8)
			memcpy(p, &v, 8);
		else if (fl->size == 4)
			memcpy(p, &v, 4);
		else if (fl->size == 2)
			memcpy(p, &v, 2);
		else
			*p = (uint8_t)v;
	}
	return times;
}

/* A timeout as a caller would write it: relative or absolute, short. */
static uint32_t fz_timeout(struct fz *z, struct kipc_timeout *to)
{
	uint32_t flags = 0;
	long ns = rn(z, 3) * 1000000L + rn(z, 1000000);

	memset(to, 0, sizeof(*to));
	switch (rn(z, 6)) {
	case 0:
	case 1:
		flags = KIPC_F_NONBLOCK;
		break;
	case 2:
	case 3:
		flags = KIPC_F_TIMED;
		to->tv_nsec = ns;
		to->clockid = CLOCK_MONOTONIC;
		break;
	case 4: {
		struct timespec now;
		clockid_t clk = one_in(z, 2) ? CLOCK_MONOTONIC : CLOCK_REALTIME;

		clock_gettime(clk, &now);
		flags = KIPC_F_TIMED | KIPC_F_ABSTIME;
		to->clockid = clk;
		to->tv_sec = now.tv_sec;
		to->tv_nsec = now.tv_nsec + ns;
		if (to->tv_nsec >= 1000000000L) {
			to->tv_sec++;
			to->tv_nsec -= 1000000000L;
		}
		break;
	}
	default:
		/* blocking: the fd's O_NONBLOCK, or the interval timer, ends it */
		break;
	}
	return flags;
}

#define TIMEOUT_FIELDS(type, m)						\
	FLD(type, m.tv_sec, FK_INT), FLD(type, m.tv_nsec, FK_INT),	\
	FLD(type, m.clockid, FK_INT), FLD(type, m.reserved, FK_RSV)

/* The pool */

static struct fz_obj *fz_pick(struct fz *z, int type)
{
	int i, start = rn(z, FZ_POOL);

	for (i = 0; i < FZ_POOL; i++) {
		struct fz_obj *o = &z->pool[(start + i) % FZ_POOL];

		if (o->fd >= 0 && (!type || o->type == (uint32_t)type))
			return o;
	}
	return NULL;
}

static void fz_drop(struct fz *z, struct fz_obj *o)
{
	close(o->fd);
	o->fd = -1;
}

static struct fz_obj *fz_slot(struct fz *z)
{
	int i;

	for (i = 0; i < FZ_POOL; i++)
		if (z->pool[i].fd < 0)
			return &z->pool[i];
	i = rn(z, FZ_POOL);
	fz_drop(z, &z->pool[i]);
	return &z->pool[i];
}

static void fz_record_id(struct fz *z, uint32_t id, uint32_t type)
{
	unsigned int n = atomic_fetch_add(&z->sh->nids, 1);

	if (n < FZ_MAX_IDS) {
		z->sh->id_types[n] = type;
		z->sh->ids[n] = id;
	}
	if (z->nmine < ARRAY_SIZE(z->mine)) {
		z->mine_type[z->nmine] = type;
		z->mine[z->nmine++] = id;
	}
}

/* An id to look up: one of ours (maybe gone), or one that cannot exist. */
static uint32_t fz_some_id(struct fz *z)
{
	unsigned int n = atomic_load(&z->sh->nids);

	if (n > FZ_MAX_IDS)
		n = FZ_MAX_IDS;
	if (n && !one_in(z, 8)) {
		/* recent ones more often */
		unsigned int back = one_in(z, 2) ? rn(z, n < 64 ? n : 64) : rn(z, n);

		return z->sh->ids[n - 1 - back];
	}
	switch (rn(z, 4)) {
	case 0:
		return 0;
	case 1:
		return (uint32_t)INT32_MAX + 1 + rn(z, 1000);
	case 2:
		return UINT32_MAX;
	default:
		return (uint32_t)INT32_MAX - rn(z, 16);
	}
}

static const char *fz_name(struct fz *z)
{
	return z->sh->names[rn(z, FZ_NAMES)];
}

/* What an object fd is: learn it from KIPC_IOC_STAT, and check the answer. */
static void fz_learn(struct fz *z, struct fz_obj *o, uint32_t type)
{
	struct kipc_stat st;
	const uint8_t *tail;
	size_t i, used = 0;

	memset(&st, 0xa5, sizeof(st));
	if (ioctl(o->fd, KIPC_IOC_STAT, &st)) {
		fz_fail(z, "STAT of a fresh fd: %s", strerror(errno));
		return;
	}
	if (st.type != type)
		fz_fail(z, "STAT says type %u, opened as %u", st.type, type);
	o->type = type;
	o->id = st.id;
	switch (type) {
	case KIPC_TYPE_QUEUE:
		used = sizeof(st.queue);
		if (st.queue.reserved)
			fz_fail(z, "queue stat reserved %#x", st.queue.reserved);
		break;
	case KIPC_TYPE_RING:
		o->ring = true;
		used = offsetof(struct kipc_ring_stat, reserved);
		break;
	case KIPC_TYPE_REGION:
		o->size = st.region.size;
		used = offsetof(struct kipc_region_stat, reserved);
		break;
	case KIPC_TYPE_SEM:
		o->nsems = st.sem.nsems;
		used = offsetof(struct kipc_sem_stat, reserved);
		break;
	}
	/* Reserved words, the rest of the union and the name are zeroed. */
	tail = (const uint8_t *)&st.queue;
	for (i = used; i < sizeof(st.reserved); i++)
		if (tail[i]) {
			fz_fail(z, "STAT: byte %zu of the type's part is %#x",
				i, tail[i]);
			break;
		}
	for (i = strnlen(st.name, sizeof(st.name)); i < sizeof(st.name); i++)
		if (st.name[i]) {
			fz_fail(z, "STAT: name byte %zu is %#x", i,
				(uint8_t)st.name[i]);
			break;
		}
	if (st.flags & ~(KIPC_STAT_NAMED | KIPC_STAT_PERSIST | KIPC_STAT_REMOVED))
		fz_fail(z, "STAT flags %#x", st.flags);
}

/* Device calls */

enum {
	OP_OPEN_CREATE, OP_OPEN_EXISTING, OP_UNLINK, OP_REMOVE_BY, OP_INFO,
	OP_DEV_IOCTL, OP_STAT, OP_SET, OP_REMOVE, OP_CLOSE, OP_OBJ_IOCTL,
	OP_SEND, OP_RECV, OP_SENDRECV, OP_NOTIFY, OP_READ, OP_WRITE, OP_LSEEK,
	OP_POLL, OP_MMAP, OP_MUNMAP, OP_RING_INFO, OP_RING_WAIT, OP_RING_WAKE,
	OP_RESIZE, OP_SEALS, OP_SEMOP, OP_SEMVAL, OP_SEMALL, OP_NL_GET,
	OP_NL_DUMP, OP_NL_STATS, OP_NL_REMOVE, OP_NL_RAW,
	OP_COUNT,
};

static const char *const fz_op_names[OP_COUNT] = {
	"open-create", "open-existing", "unlink", "remove-by", "info",
	"dev-ioctl", "stat", "set", "remove", "close", "obj-ioctl", "send",
	"recv", "sendrecv", "notify", "read", "write", "lseek", "poll", "mmap",
	"munmap", "ring-info", "ring-wait", "ring-wake", "resize", "seals",
	"sem-op", "sem-val", "sem-all", "nl-get", "nl-dump", "nl-stats",
	"nl-remove", "nl-raw",
};

static const int fz_op_weight[OP_COUNT] = {
	[OP_OPEN_CREATE] = 9, [OP_OPEN_EXISTING] = 5, [OP_UNLINK] = 2,
	[OP_REMOVE_BY] = 2, [OP_INFO] = 2, [OP_DEV_IOCTL] = 2, [OP_STAT] = 4,
	[OP_SET] = 3, [OP_REMOVE] = 1, [OP_CLOSE] = 3, [OP_OBJ_IOCTL] = 3,
	[OP_SEND] = 9, [OP_RECV] = 8, [OP_SENDRECV] = 3, [OP_NOTIFY] = 2,
	[OP_READ] = 4, [OP_WRITE] = 4, [OP_LSEEK] = 1, [OP_POLL] = 3,
	[OP_MMAP] = 6, [OP_MUNMAP] = 2, [OP_RING_INFO] = 2,
	[OP_RING_WAIT] = 3, [OP_RING_WAKE] = 2, [OP_RESIZE] = 3,
	[OP_SEALS] = 3, [OP_SEMOP] = 9, [OP_SEMVAL] = 4, [OP_SEMALL] = 3,
	[OP_NL_GET] = 3, [OP_NL_DUMP] = 2, [OP_NL_STATS] = 1,
	[OP_NL_REMOVE] = 2, [OP_NL_RAW] = 5,
};

static long fz_ioctl(int fd, unsigned long cmd, void *arg, int *err)
{
	long ret = ioctl(fd, cmd, arg);

	*err = ret < 0 ? errno : 0;
	return ret;
}

static void fz_call_init(struct fz_call *c, int op, const int *allowed)
{
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->name = fz_op_names[op];
	c->allowed = allowed;
}

/* Errors of the whole open path: checks, lookups, quotas, fds. */
#define E_OPEN	EINVAL, EFAULT, ENOENT, EEXIST, EACCES, ENOSPC, ENOMEM, \
		ENAMETOOLONG, EMFILE, ENFILE
#define E_NAMEREQ EINVAL, EFAULT, ENOENT, EACCES, EPERM, ENAMETOOLONG

static const struct fz_field fz_open_fields[] = {
	FLD(struct kipc_open, type, FK_INT),
	FLD(struct kipc_open, flags, FK_FLAGS),
	FLD(struct kipc_open, mode, FK_FLAGS),
	FLD(struct kipc_open, id, FK_INT),
	FLD(struct kipc_open, reserved[0], FK_INT),
	FLD(struct kipc_open, reserved[1], FK_INT),
	FLD(struct kipc_open, queue.max_msgs, FK_INT),
	FLD(struct kipc_open, queue.max_msgsize, FK_INT),
	FLD(struct kipc_open, queue.flags, FK_FLAGS),
	FLD(struct kipc_open, queue.reserved, FK_RSV),
	FLD(struct kipc_open, region.seals, FK_FLAGS),
	FLD(struct kipc_open, region.reserved, FK_RSV),
	FLD(struct kipc_open, sem.value, FK_INT),
	FLD(struct kipc_open, reserved[2], FK_RSV),
	FLD(struct kipc_open, reserved[5], FK_RSV),
	FLD(struct kipc_open, name[0], FK_INT),
	FLD(struct kipc_open, name[KIPC_NAME_MAX], FK_INT),
};

/* Attributes a test would create, small enough to keep many of. */
static void fz_valid_attrs(struct fz *z, struct kipc_open *req)
{
	switch (req->type) {
	case KIPC_TYPE_QUEUE:
		req->queue.max_msgs = rn(z, 64);
		req->queue.max_msgsize = one_in(z, 3) ? 0 : 1 + rn(z, 16384);
		if (one_in(z, 4))
			req->queue.max_bytes = rn(z, 1 << 20);
		break;
	case KIPC_TYPE_RING:
		req->ring.slots = 1u << rn(z, 7);
		req->ring.slot_size = 8u << rn(z, 10);
		break;
	case KIPC_TYPE_REGION:
		req->region.size = one_in(z, 4) ? rn(z, 64) * z->page :
			rn(z, 1 << 20);
		if (one_in(z, 6))
			req->region.seals = rn(z, 16);
		break;
	case KIPC_TYPE_SEM:
		if (one_in(z, 3)) {
			req->sem.flags = KIPC_SEM_POSIX;
			req->sem.nsems = rn(z, 2);
			req->sem.value = rn(z, 3);
		} else {
			req->sem.nsems = 1 + rn(z, one_in(z, 8) ? 4096 : 8);
			req->sem.value = rn(z, 3);
		}
		break;
	}
}

/* The memory a ring or region of these attributes takes at once. */
static uint64_t fz_open_cost(const struct kipc_open *req)
{
	if (req->type == KIPC_TYPE_RING)
		return (uint64_t)(req->ring.slots ?: 16) *
		       (req->ring.slot_size ?: 8192);
	if (req->type == KIPC_TYPE_SEM)
		return (uint64_t)req->sem.nsems * 64;
	return 0;
}

static void fz_adopt(struct fz *z, int fd, uint32_t type, uint32_t flags,
		     bool created, uint32_t id)
{
	struct fz_obj *o = fz_slot(z);

	o->fd = fd;
	o->acc = flags & KIPC_O_ACCMODE;
	o->ring = false;
	o->nsems = 0;
	fz_learn(z, o, type);
	if (created && id != o->id)
		fz_fail(z, "OPEN returned id %u, STAT says %u", id, o->id);
	if (created)
		fz_record_id(z, o->id, type);
}

static void op_open(struct fz *z, bool create)
{
	struct kipc_open *req = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;
	bool big;

	fz_call_init(&c, create ? OP_OPEN_CREATE : OP_OPEN_EXISTING,
		     ES(E_OPEN));
	c.writes_back = true;
	memset(req, 0, sizeof(*req));
	req->type = 1 + rn(z, KIPC_TYPE_COUNT - 1);
	req->mode = one_in(z, 4) ? rn(z, 01000) : one_in(z, 2) ? 0600 : 0666;
	req->flags = rn(z, 3);
	if (!one_in(z, 3))
		req->flags |= KIPC_O_NONBLOCK;
	if (one_in(z, 2))
		req->flags |= KIPC_O_CLOEXEC;
	if (create) {
		req->flags |= KIPC_O_CREAT;
		if (one_in(z, 3)) {
			kt_copy_name(req->name, fz_name(z));
			if (one_in(z, 2))
				req->flags |= KIPC_O_EXCL;
		} else if (one_in(z, 4) &&
			   atomic_load(&z->sh->nids) < FZ_MAX_IDS - 1024) {
			req->flags |= KIPC_O_PERSIST;
		}
		fz_valid_attrs(z, req);
	} else if (one_in(z, 2)) {
		req->flags |= KIPC_O_BY_ID;
		req->id = fz_some_id(z);
		if (one_in(z, 4))
			req->type = 0;	/* BY_ID needs the type: EINVAL */
	} else {
		kt_copy_name(req->name, fz_name(z));
	}
	if (fz_mutate(z, req, fz_open_fields, ARRAY_SIZE(fz_open_fields))) {
		/* a name with no NUL, or a slash */
		if (one_in(z, 8))
			memset(req->name, 'a' + rn(z, 3), sizeof(req->name));
		else if (one_in(z, 8))
			req->name[rn(z, 8)] = '/';
	}
	/* Rings take their memory at once: keep most of them small. */
	big = fz_open_cost(req) > (8u << 20);
	if (big && !one_in(z, 64)) {
		if (req->type == KIPC_TYPE_RING) {
			req->ring.slots = 16;
			req->ring.slot_size = 4096;
		} else {
			req->sem.nsems = 4;
		}
		big = false;
	}
	if (big)
		req->flags &= ~KIPC_O_PERSIST;
	arg = fz_place(z, req, sizeof(*req), &c.mode);
	ret = fz_ioctl(z->dev, KIPC_IOC_OPEN, arg, &err);
	fz_judge(z, &c, ret, err);
	if (ret < 0)
		return;
	if (req->flags & KIPC_O_CREAT)
		z->bytes_in += fz_open_cost(req);
	fz_adopt(z, (int)ret, req->type, req->flags,
		 (req->flags & KIPC_O_CREAT) && !req->name[0], req->id);
	/*
	 * Named ones may have existed already: record the id anyway (a
	 * duplicate costs nothing at cleanup).
	 */
	if ((req->flags & KIPC_O_CREAT) && req->name[0])
		fz_record_id(z, req->id, req->type);
	if (big) {
		struct fz_obj *o;
		int i;

		for (i = 0; i < FZ_POOL; i++) {
			o = &z->pool[i];
			if (o->fd == (int)ret)
				fz_drop(z, o);
		}
	}
}

static const struct fz_field fz_name_fields[] = {
	FLD(struct kipc_name_req, type, FK_INT),
	FLD(struct kipc_name_req, flags, FK_FLAGS),
	FLD(struct kipc_name_req, id, FK_INT),
	FLD(struct kipc_name_req, reserved, FK_RSV),
	FLD(struct kipc_name_req, name[0], FK_INT),
	FLD(struct kipc_name_req, name[KIPC_NAME_MAX], FK_INT),
};

static void op_name_req(struct fz *z, bool remove)
{
	struct kipc_name_req *req = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;

	fz_call_init(&c, remove ? OP_REMOVE_BY : OP_UNLINK, ES(E_NAMEREQ));
	memset(req, 0, sizeof(*req));
	req->type = 1 + rn(z, KIPC_TYPE_COUNT - 1);
	if (remove && one_in(z, 2)) {
		req->flags = KIPC_O_BY_ID;
		req->id = fz_some_id(z);
		if (one_in(z, 3))
			req->type = 1 + rn(z, KIPC_TYPE_COUNT - 1);
	} else {
		kt_copy_name(req->name, fz_name(z));
	}
	fz_mutate(z, req, fz_name_fields, ARRAY_SIZE(fz_name_fields));
	/* Never a name or an id that is not ours. */
	if (req->flags & KIPC_O_BY_ID) {
		if (req->id && req->id <= INT32_MAX)
			req->id = fz_some_id(z);
	} else if (req->name[0] &&
		   strncmp(req->name, z->sh->prefix, strlen(z->sh->prefix))) {
		req->name[0] = 0;
	}
	arg = fz_place(z, req, sizeof(*req), &c.mode);
	ret = fz_ioctl(z->dev, remove ? KIPC_IOC_REMOVE_BY : KIPC_IOC_UNLINK,
		       arg, &err);
	fz_judge(z, &c, ret, err);
}

static void op_info(struct fz *z)
{
	struct kipc_info *info = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;
	size_t i;

	fz_call_init(&c, OP_INFO, ES(EFAULT));
	c.writes_back = true;
	memset(info, 0xa5, sizeof(*info));
	arg = fz_place(z, info, sizeof(*info), &c.mode);
	ret = fz_ioctl(z->dev, KIPC_IOC_INFO, arg, &err);
	fz_judge(z, &c, ret, err);
	if (ret || c.mode != ARG_OK)
		return;
	if (info->version != KIPC_API_VERSION || info->reserved0)
		fz_fail(z, "INFO version %u reserved0 %u", info->version,
			info->reserved0);
	for (i = 0; i < ARRAY_SIZE(info->reserved); i++)
		if (info->reserved[i])
			fz_fail(z, "INFO reserved[%zu] = %#llx", i,
				(unsigned long long)info->reserved[i]);
}

/* A random ioctl number of kipc's magic, with a random argument. */
static unsigned long fz_random_cmd(struct fz *z)
{
	static const unsigned long real[] = {
		KIPC_IOC_INFO, KIPC_IOC_OPEN, KIPC_IOC_UNLINK, KIPC_IOC_REMOVE_BY,
		KIPC_IOC_STAT, KIPC_IOC_SET, KIPC_IOC_REMOVE, KIPC_IOC_SEND,
		KIPC_IOC_RECV, KIPC_IOC_NOTIFY, KIPC_IOC_SENDRECV,
		KIPC_IOC_REGION_RESIZE, KIPC_IOC_REGION_ADD_SEALS,
		KIPC_IOC_REGION_GET_SEALS, KIPC_IOC_SEM_OP, KIPC_IOC_SEM_GETVAL,
		KIPC_IOC_SEM_SETVAL, KIPC_IOC_SEM_GETALL, KIPC_IOC_SEM_SETALL,
		KIPC_IOC_RING_INFO, KIPC_IOC_RING_WAIT, KIPC_IOC_RING_WAKE,
	};
	unsigned long cmd;

	switch (rn(z, 3)) {
	case 0:
		/* a real number with the wrong size or direction */
		cmd = real[rn(z, ARRAY_SIZE(real))];
		cmd ^= one_in(z, 2) ? (1ul << (_IOC_SIZESHIFT + rn(z, 14))) :
				      (1ul << (_IOC_DIRSHIFT + rn(z, 2)));
		break;
	case 1:
		cmd = _IOC(rn(z, 4), KIPC_IOC_MAGIC, rn(z, 256), rn(z, 1024));
		break;
	default:
		cmd = _IOC(rn(z, 4), KIPC_IOC_MAGIC, 0x40 + rn(z, 0xc0),
			   rn(z, 16384));
		break;
	}
	return cmd;
}

static bool fz_is_real_cmd(unsigned long cmd)
{
	switch (cmd) {
	case KIPC_IOC_INFO: case KIPC_IOC_OPEN: case KIPC_IOC_UNLINK:
	case KIPC_IOC_REMOVE_BY: case KIPC_IOC_STAT: case KIPC_IOC_SET:
	case KIPC_IOC_REMOVE: case KIPC_IOC_SEND: case KIPC_IOC_RECV:
	case KIPC_IOC_NOTIFY: case KIPC_IOC_SENDRECV:
	case KIPC_IOC_REGION_RESIZE: case KIPC_IOC_REGION_ADD_SEALS:
	case KIPC_IOC_REGION_GET_SEALS: case KIPC_IOC_SEM_OP:
	case KIPC_IOC_SEM_GETVAL: case KIPC_IOC_SEM_SETVAL:
	case KIPC_IOC_SEM_GETALL: case KIPC_IOC_SEM_SETALL:
	case KIPC_IOC_RING_INFO: case KIPC_IOC_RING_WAIT:
	case KIPC_IOC_RING_WAKE:
		return true;
	}
	return false;
}

static void op_bad_ioctl(struct fz *z, bool dev)
{
	struct fz_obj *o = dev ? NULL : fz_pick(z, 0);
	unsigned long cmd = fz_random_cmd(z);
	struct fz_call c;
	long ret;
	int err;

	if (fz_is_real_cmd(cmd))
		return;
	if (!dev && !o)
		return;
	fz_call_init(&c, dev ? OP_DEV_IOCTL : OP_OBJ_IOCTL, ES(ENOTTY));
	memset(z->arena, 0, 4096);
	ret = fz_ioctl(dev ? z->dev : o->fd, cmd,
		       one_in(z, 2) ? (void *)z->arena :
		       (void *)(uintptr_t)fz_bad_addr(z), &err);
	fz_judge(z, &c, ret, err);
	if (ret >= 0)
		fz_fail(z, "unknown ioctl %#lx succeeded", cmd);
}

/* Calls every object fd takes */

static void op_stat(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, 0);
	struct kipc_stat *st = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_STAT, ES(EFAULT, ENOMEM));
	c.writes_back = true;
	memset(st, 0xa5, sizeof(*st));
	arg = fz_place(z, st, sizeof(*st), &c.mode);
	ret = fz_ioctl(o->fd, KIPC_IOC_STAT, arg, &err);
	fz_judge(z, &c, ret, err);
	if (!ret && c.mode == ARG_OK && (st->type != o->type || st->id != o->id))
		fz_fail(z, "STAT type %u id %u, expected %u %u", st->type,
			st->id, o->type, o->id);
}

static const struct fz_field fz_set_fields[] = {
	FLD(struct kipc_set, valid, FK_FLAGS),
	FLD(struct kipc_set, uid, FK_INT),
	FLD(struct kipc_set, gid, FK_INT),
	FLD(struct kipc_set, mode, FK_FLAGS),
	FLD(struct kipc_set, max_bytes, FK_INT),
};

static void op_set(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, 0);
	struct kipc_set *set = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_SET, ES(EFAULT, EINVAL, EIDRM, EPERM, ENOSPC));
	memset(set, 0, sizeof(*set));
	set->valid = rn(z, 16);
	set->uid = geteuid();
	set->gid = getegid();
	set->mode = one_in(z, 2) ? 0666 : 0600 | rn(z, 0100);
	set->max_bytes = rn(z, 1 << 20);
	fz_mutate(z, set, fz_set_fields, ARRAY_SIZE(fz_set_fields));
	/* The object stays ours: another owner only as an invalid uid. */
	if ((set->valid & KIPC_SET_UID) && set->uid != geteuid()) {
		if (one_in(z, 2))
			set->uid = (uint32_t)-1;	/* EINVAL */
		else
			set->valid &= ~KIPC_SET_UID;
	}
	if ((set->valid & KIPC_SET_MAX_BYTES) && set->max_bytes > (64u << 20))
		set->max_bytes = one_in(z, 2) ? UINT64_MAX : 64u << 20;
	arg = fz_place(z, set, sizeof(*set), &c.mode);
	ret = fz_ioctl(o->fd, KIPC_IOC_SET, arg, &err);
	fz_judge(z, &c, ret, err);
}

static void op_remove(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, 0);
	struct fz_call c;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_REMOVE, ES(EPERM, EIDRM));
	ret = fz_ioctl(o->fd, KIPC_IOC_REMOVE, NULL, &err);
	fz_judge(z, &c, ret, err);
}

static void op_close(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, 0);
	struct fz_call c;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_CLOSE, ES(EINTR));
	ret = close(o->fd);
	err = errno;
	o->fd = -1;
	fz_judge(z, &c, ret, err);
}

/* Queues */

#define E_WAIT		EAGAIN, ETIMEDOUT, EINTR, EIDRM
#define E_SEND		EOPNOTSUPP, EBADF, EINVAL, EFAULT, EMSGSIZE, ENOMEM, E_WAIT
#define E_RECV		E_SEND, ENOMSG, E2BIG

static const struct fz_field fz_xfer_fields[] = {
	FLD(struct kipc_xfer, msgs, FK_PTR),
	FLD(struct kipc_xfer, count, FK_INT),
	FLD(struct kipc_xfer, flags, FK_FLAGS),
	TIMEOUT_FIELDS(struct kipc_xfer, timeout),
};

static const struct fz_field fz_msg_fields[] = {
	FLD(struct kipc_msg, buf, FK_PTR),
	FLD(struct kipc_msg, len, FK_INT),
	FLD(struct kipc_msg, prio, FK_INT),
	FLD(struct kipc_msg, type, FK_INT),
	FLD(struct kipc_msg, flags, FK_RSV),
	FLD(struct kipc_msg, msg_len, FK_INT),
};

/* A vector of messages to send, at most ~1 MiB of valid payload in all. */
static struct kipc_msg *fz_msgs(struct fz *z, uint32_t n, bool send,
				uint64_t *bytes)
{
	struct kipc_msg *m = (void *)(z->arena + 8192);
	uint64_t budget = 1u << 20;
	uint32_t i;

	*bytes = 0;
	for (i = 0; i < n; i++) {
		uint32_t len = one_in(z, 16) ? rn(z, 1u << 20) : rn(z, 512);

		if (len > budget)
			len = rn(z, 64);
		memset(&m[i], 0, sizeof(m[i]));
		m[i].len = len;
		if (send) {
			m[i].buf = (uintptr_t)(z->payload + rn(z, FZ_PAYLOAD - len));
			m[i].prio = rn(z, 8);
			m[i].type = 1 + rn(z, 4);
		} else {
			m[i].len = one_in(z, 8) ? rn(z, 64) : FZ_PAYLOAD / (n + 1);
			m[i].buf = (uintptr_t)(z->rbuf + (uint64_t)i * m[i].len);
			m[i].type = one_in(z, 2) ? 0 : (int64_t)rn(z, 9) - 4;
		}
		if (one_in(z, 4))
			fz_mutate(z, &m[i], fz_msg_fields, ARRAY_SIZE(fz_msg_fields));
		if (send && m[i].len <= (1u << 21) &&
		    m[i].buf >= (uintptr_t)z->payload &&
		    m[i].buf + m[i].len <= (uintptr_t)z->payload + FZ_PAYLOAD) {
			if (m[i].len > budget)
				m[i].len = 0;
			budget -= m[i].len;
			*bytes += m[i].len;
		}
		if (!send && m[i].buf >= (uintptr_t)z->rbuf &&
		    m[i].buf < (uintptr_t)z->rbuf + FZ_PAYLOAD &&
		    m[i].buf + m[i].len > (uintptr_t)z->rbuf + FZ_PAYLOAD)
			m[i].len = (uintptr_t)z->rbuf + FZ_PAYLOAD - m[i].buf;
	}
	return m;
}

static void fz_xfer_build(struct fz *z, struct kipc_xfer *x, bool send,
			  uint64_t *bytes)
{
	uint32_t n = one_in(z, 10) ? rn(z, 64) : 1 + rn(z, 3);
	struct kipc_msg *m = fz_msgs(z, n, send, bytes);

	memset(x, 0, sizeof(*x));
	x->flags = fz_timeout(z, &x->timeout);
	if (!send && one_in(z, 2))
		x->flags |= (uint32_t)rnd(z) & (KIPC_F_NOERROR | KIPC_F_EXCEPT |
					       KIPC_F_SYSV | KIPC_F_PEEK |
					       KIPC_F_POSIX_SIZE);
	x->count = n;
	x->msgs = fz_ptr(z, m, n * sizeof(*m), send);
	if (fz_mutate(z, x, fz_xfer_fields, ARRAY_SIZE(fz_xfer_fields)) &&
	    x->count > n && x->count <= KIPC_XFER_MAX && send) {
		/* a count past the vector: zeroed entries (EINVAL) */
		memset(m + n, 0, (x->count - n) * sizeof(*m));
	}
}

static void op_xfer(struct fz *z, bool send)
{
	struct fz_obj *o = fz_pick(z, KIPC_TYPE_QUEUE);
	struct kipc_xfer *x = (void *)z->arena;
	struct fz_call c;
	uint64_t bytes;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, send ? OP_SEND : OP_RECV,
		     send ? ES(E_SEND) : ES(E_RECV));
	c.early = ES(EOPNOTSUPP);
	fz_xfer_build(z, x, send, &bytes);
	arg = fz_place(z, x, sizeof(*x), &c.mode);
	ret = fz_ioctl(o->fd, send ? KIPC_IOC_SEND : KIPC_IOC_RECV, arg, &err);
	fz_judge(z, &c, ret, err);
	if (ret > 0 && c.mode == ARG_OK && ret > x->count)
		fz_fail(z, "moved %ld of %u messages", ret, x->count);
	if (ret > 0 && send)
		z->bytes_in += bytes;
	if (ret > 0 && !send && c.mode == ARG_OK &&
	    x->msgs == (uintptr_t)(z->arena + 8192)) {
		struct kipc_msg *m = (void *)(z->arena + 8192);
		long i;

		for (i = 0; i < ret; i++)
			if ((m[i].flags & ~KIPC_MSG_TRUNCATED) ||
			    m[i].msg_len < m[i].len ||
			    m[i].prio > KIPC_PRIO_MAX || m[i].type <= 0)
				fz_fail(z, "received message %ld: flags %#x len %u of %u prio %u type %lld",
					i, m[i].flags, m[i].len, m[i].msg_len,
					m[i].prio, (long long)m[i].type);
	}
}

static const struct fz_field fz_sr_fields[] = {
	FLD(struct kipc_sendrecv, send.msgs, FK_PTR),
	FLD(struct kipc_sendrecv, send.count, FK_INT),
	FLD(struct kipc_sendrecv, send.flags, FK_FLAGS),
	FLD(struct kipc_sendrecv, recv.msgs, FK_PTR),
	FLD(struct kipc_sendrecv, recv.count, FK_INT),
	FLD(struct kipc_sendrecv, recv.flags, FK_FLAGS),
	FLD(struct kipc_sendrecv, recv_fd, FK_INT),
	FLD(struct kipc_sendrecv, sent, FK_INT),
	FLD(struct kipc_sendrecv, reserved, FK_RSV),
};

static void op_sendrecv(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, KIPC_TYPE_QUEUE), *r;
	struct kipc_sendrecv *sr = (void *)z->arena;
	struct kipc_msg *rm = (void *)(z->arena + 65536);
	struct fz_call c;
	uint64_t bytes;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_SENDRECV, ES(E_RECV));
	c.writes_back = true;
	memset(sr, 0, sizeof(*sr));
	/* the send vector lives at arena + 8192, the receive one further on */
	{
		struct kipc_xfer x;

		fz_xfer_build(z, &x, true, &bytes);
		sr->send = x;
		sr->recv.count = 1 + rn(z, 2);
		sr->recv.flags = KIPC_F_TIMED;
		sr->recv.timeout.tv_nsec = rn(z, 2000000);
		memset(rm, 0, 2 * sizeof(*rm));
		rm[0].buf = rm[1].buf = (uintptr_t)z->rbuf;
		rm[0].len = rm[1].len = 1u << 20;
		sr->recv.msgs = fz_ptr(z, rm, 2 * sizeof(*rm), false);
	}
	switch (rn(z, 8)) {
	case 0:
		sr->recv_fd = -1;
		break;
	case 1:
		sr->recv_fd = z->dev;
		break;
	case 2:
		sr->recv_fd = z->other_fd;
		break;
	case 3:
		r = fz_pick(z, 0);
		sr->recv_fd = r ? r->fd : o->fd;
		break;
	case 4:
		sr->recv_fd = 1000 + rn(z, 1000);	/* not open */
		break;
	default:
		r = fz_pick(z, KIPC_TYPE_QUEUE);
		sr->recv_fd = r ? r->fd : o->fd;
		break;
	}
	fz_mutate(z, sr, fz_sr_fields, ARRAY_SIZE(fz_sr_fields));
	arg = fz_place(z, sr, sizeof(*sr), &c.mode);
	ret = fz_ioctl(o->fd, KIPC_IOC_SENDRECV, arg, &err);
	fz_judge(z, &c, ret, err);
	if (ret >= 0 && c.mode == ARG_OK) {
		if (sr->sent > sr->send.count)
			fz_fail(z, "sent %u of %u", sr->sent, sr->send.count);
		if (ret > sr->recv.count)
			fz_fail(z, "received %ld of %u", ret, sr->recv.count);
		z->bytes_in += bytes;
	}
}

static void op_notify(struct fz *z)
{
	static const uint32_t signos[] = {
		SIGUSR2, SIGWINCH, SIGURG, 0, 65, 1000, UINT32_MAX,
	};
	static const struct fz_field fields[] = {
		FLD(struct kipc_notify, how, FK_INT),
		FLD(struct kipc_notify, value, FK_INT),
	};
	struct fz_obj *o = fz_pick(z, KIPC_TYPE_QUEUE);
	struct kipc_notify *n = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_NOTIFY, ES(EOPNOTSUPP, EFAULT, EINVAL, EIDRM, EBUSY));
	c.early = ES(EOPNOTSUPP);
	n->how = rn(z, 4);
	/* only signals this process survives */
	n->signo = signos[rn(z, ARRAY_SIZE(signos))];
	n->value = rnd(z);
	fz_mutate(z, n, fields, ARRAY_SIZE(fields));
	arg = fz_place(z, n, sizeof(*n), &c.mode);
	ret = fz_ioctl(o->fd, KIPC_IOC_NOTIFY, arg, &err);
	fz_judge(z, &c, ret, err);
}

/* read, write, pread, pwrite and lseek on any fd */

static void op_rw(struct fz *z, bool wr)
{
	struct fz_obj *o = fz_pick(z, 0);
	struct fz_call c;
	uint64_t len;
	off_t off = 0;
	bool positioned = one_in(z, 2);
	uint8_t *buf;
	long ret;
	int err;

	if (!o)
		return;
	switch (o->type) {
	case KIPC_TYPE_QUEUE:
		fz_call_init(&c, wr ? OP_WRITE : OP_READ,
			     ES(EOPNOTSUPP, EMSGSIZE, EFAULT, ENOMEM, EBADF,
				EINVAL, E_WAIT));
		break;
	case KIPC_TYPE_REGION:
		fz_call_init(&c, wr ? OP_WRITE : OP_READ,
			     ES(EIDRM, EINVAL, EFAULT, EBADF, EPERM, EFBIG,
				EINTR, ENOMEM, ENOSPC));
		break;
	default:
		fz_call_init(&c, wr ? OP_WRITE : OP_READ, ES(EINVAL, EBADF));
		break;
	}
	len = one_in(z, 4) ? fz_boundary(z, 8) : rn(z, 4096);
	if (len > (1u << 20) && !one_in(z, 4))
		len = rn(z, 65536);
	buf = wr ? z->payload : z->rbuf;
	switch (rn(z, 10)) {
	case 0:
		buf = (uint8_t *)(uintptr_t)fz_bad_addr(z);
		break;
	case 1:
		if (!wr)
			buf = z->ro;
		break;
	default:
		if (len > FZ_PAYLOAD)
			len = FZ_PAYLOAD;
		break;
	}
	/* Writes may land anywhere in a region: keep them short there. */
	if (wr && len > 65536 && len <= FZ_PAYLOAD)
		len = rn(z, 65536);
	if (positioned)
		off = one_in(z, 3) ? (off_t)fz_boundary(z, 8) :
				     (off_t)rn(z, 1u << 21);
	if (wr)
		ret = positioned ? pwrite(o->fd, buf, len, off) :
				   write(o->fd, buf, len);
	else
		ret = positioned ? pread(o->fd, buf, len, off) :
				   read(o->fd, buf, len);
	err = ret < 0 ? errno : 0;
	fz_judge(z, &c, ret, err);
	if (ret > 0 && (uint64_t)ret > len)
		fz_fail(z, "moved %ld of %llu bytes", ret, (unsigned long long)len);
	if (ret > 0 && wr)
		z->bytes_in += ret + 4096;
}

static void op_lseek(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, 0);
	struct fz_call c;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_LSEEK, ES(ESPIPE, EINVAL, ENXIO, EOVERFLOW));
	ret = lseek(o->fd, (off_t)fz_boundary(z, 8), rn(z, 6));
	err = ret < 0 ? errno : 0;
	fz_judge(z, &c, ret, err);
}

static void op_poll(struct fz *z)
{
	struct pollfd pfd[3];
	struct fz_call c;
	int i, n = 1 + rn(z, 3);
	long ret;
	int err;

	for (i = 0; i < n; i++) {
		struct fz_obj *o = fz_pick(z, 0);

		pfd[i].fd = o ? o->fd : -1;
		pfd[i].events = (short)rnd(z);
		pfd[i].revents = 0;
	}
	fz_call_init(&c, OP_POLL, ES(EINTR));
	ret = poll(pfd, n, one_in(z, 4) ? (int)rn(z, 3) : 0);
	err = ret < 0 ? errno : 0;
	fz_judge(z, &c, ret, err);
	for (i = 0; ret > 0 && i < n; i++)
		if (pfd[i].revents & POLLNVAL)
			fz_fail(z, "poll: POLLNVAL on an open fd");
}

/* Mappings */

static struct fz_map *fz_map_slot(struct fz *z)
{
	int i = rn(z, FZ_MAPS), j;

	for (j = 0; j < FZ_MAPS; j++)
		if (!z->maps[(i + j) % FZ_MAPS].addr)
			return &z->maps[(i + j) % FZ_MAPS];
	munmap(z->maps[i].addr, z->maps[i].len);
	z->maps[i].addr = NULL;
	return &z->maps[i];
}

static void op_mmap(struct fz *z)
{
	static const int protos[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	struct fz_obj *o = fz_pick(z, 0);
	struct fz_call c;
	struct fz_map *m;
	size_t len;
	off_t off = 0;
	int prot, flags;
	uint8_t *p;
	int err, sig;

	if (!o)
		return;
	fz_call_init(&c, OP_MMAP, ES(EINVAL, EACCES, EPERM, ENODEV, ENXIO,
				    EIDRM, ENOMEM, EOVERFLOW, EAGAIN, EOPNOTSUPP));
	/* mostly what a caller would map, then anything */
	switch (o->type) {
	case KIPC_TYPE_QUEUE:
		len = z->page;
		break;
	case KIPC_TYPE_RING: {
		struct kipc_ring_info ri;

		len = 0;
		if (!ioctl(o->fd, KIPC_IOC_RING_INFO, &ri))
			len = ri.map_size;
		break;
	}
	case KIPC_TYPE_REGION:
		len = o->size ? o->size : z->page;
		if (len > (16u << 20))
			len = 16u << 20;
		break;
	default:
		len = o->nsems ? o->nsems * 4 : 4;
		break;
	}
	if (one_in(z, 3))
		len = one_in(z, 2) ? (size_t)fz_boundary(z, 8) : rn(z, 8) * z->page;
	if (one_in(z, 4))
		off = one_in(z, 2) ? (off_t)rn(z, 8) * z->page :
				     (off_t)fz_boundary(z, 8);
	prot = one_in(z, 3) ? protos[rn(z, ARRAY_SIZE(protos))] :
			      PROT_READ | (o->acc ? PROT_WRITE : 0);
	flags = one_in(z, 5) ? MAP_PRIVATE : MAP_SHARED;
	if (one_in(z, 10) && len <= (4u << 20))
		flags |= MAP_POPULATE;
	if (one_in(z, 20))
		flags = MAP_SHARED_VALIDATE |
			(int)(rnd(z) & 0x3f0000 & ~MAP_FIXED_NOREPLACE & ~MAP_POPULATE);
	m = fz_map_slot(z);
	p = mmap(NULL, len, prot, flags, o->fd, off);
	err = p == MAP_FAILED ? errno : 0;
	fz_judge(z, &c, p == MAP_FAILED ? -1 : 0, err);
	if (p == MAP_FAILED)
		return;
	m->addr = p;
	m->len = len;
	m->prot = prot;
	m->type = o->type;
	/* What was granted must work: touch a few pages, as allowed. */
	if (len > 4 * (size_t)z->page)
		len = 4 * z->page;
	if (prot & PROT_READ) {
		sig = fz_touch(p, len, false, 0);
		if (sig) {
			atomic_fetch_add(&z->sh->faults, 1);
			fz_fail(z, "signal %d reading a fresh mapping of %zu bytes at %lld",
				sig, m->len, (long long)off);
		}
	}
	if ((prot & PROT_WRITE) && (o->type != KIPC_TYPE_QUEUE || one_in(z, 4))) {
		/* hostile peers: garbage in ring indices and semaphore words */
		sig = fz_touch(p, len, true, (uint8_t)rnd(z));
		if (sig) {
			atomic_fetch_add(&z->sh->faults, 1);
			fz_fail(z, "signal %d writing a fresh mapping", sig);
		}
		z->bytes_in += len;
	}
}

static void op_munmap(struct fz *z)
{
	struct fz_map *m = &z->maps[rn(z, FZ_MAPS)];
	struct fz_call c;
	long ret;
	int err;

	if (!m->addr)
		return;
	fz_call_init(&c, OP_MUNMAP, ES(EINVAL));
	/* sometimes just a part, splitting the mapping */
	if (m->len > (size_t)z->page && one_in(z, 3)) {
		size_t pages = (m->len + z->page - 1) / z->page;
		size_t first = rn(z, pages);

		ret = munmap(m->addr + first * z->page, z->page);
	} else {
		ret = munmap(m->addr, m->len);
		m->addr = NULL;
	}
	err = ret < 0 ? errno : 0;
	fz_judge(z, &c, ret, err);
}

/* Rings */

static void op_ring_info(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, one_in(z, 4) ? KIPC_TYPE_QUEUE :
						 KIPC_TYPE_RING);
	struct kipc_ring_info *ri = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;
	size_t i;

	if (!o)
		return;
	fz_call_init(&c, OP_RING_INFO, ES(ENOTTY, EFAULT));
	c.writes_back = true;
	c.early = ES(ENOTTY);
	memset(ri, 0xa5, sizeof(*ri));
	arg = fz_place(z, ri, sizeof(*ri), &c.mode);
	ret = fz_ioctl(o->fd, KIPC_IOC_RING_INFO, arg, &err);
	fz_judge(z, &c, ret, err);
	if (!o->ring && ret >= 0)
		fz_fail(z, "RING_INFO on a plain queue succeeded");
	if (ret || c.mode != ARG_OK)
		return;
	for (i = 0; i < ARRAY_SIZE(ri->reserved); i++)
		if (ri->reserved[i])
			fz_fail(z, "RING_INFO reserved[%zu] %#llx", i,
				(unsigned long long)ri->reserved[i]);
	if (!ri->slots || (ri->slots & (ri->slots - 1)) || ri->map_size % z->page ||
	    ri->slot_offset % z->page || ri->desc_offset >= ri->slot_offset)
		fz_fail(z, "RING_INFO geometry %u x %u, map %llu", ri->slots,
			ri->slot_size, (unsigned long long)ri->map_size);
}

static void op_ring_wait(struct fz *z)
{
	static const struct fz_field fields[] = {
		FLD(struct kipc_ring_wait, events, FK_FLAGS),
		FLD(struct kipc_ring_wait, flags, FK_FLAGS),
		TIMEOUT_FIELDS(struct kipc_ring_wait, timeout),
	};
	struct fz_obj *o = fz_pick(z, one_in(z, 4) ? KIPC_TYPE_QUEUE :
						 KIPC_TYPE_RING);
	struct kipc_ring_wait *w = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_RING_WAIT, ES(ENOTTY, EFAULT, EINVAL, EPROTO,
					  E_WAIT));
	c.early = ES(ENOTTY);
	memset(w, 0, sizeof(*w));
	w->events = 1 + rn(z, 3);
	w->flags = fz_timeout(z, &w->timeout);
	fz_mutate(z, w, fields, ARRAY_SIZE(fields));
	arg = fz_place(z, w, sizeof(*w), &c.mode);
	ret = fz_ioctl(o->fd, KIPC_IOC_RING_WAIT, arg, &err);
	fz_judge(z, &c, ret, err);
	if (ret > 0 && (ret & ~(long)(KIPC_RING_DATA | KIPC_RING_ROOM)))
		fz_fail(z, "RING_WAIT returned %#lx", ret);
}

static void op_ring_wake(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, one_in(z, 4) ? KIPC_TYPE_QUEUE :
						 KIPC_TYPE_RING);
	struct fz_call c;
	unsigned long arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_RING_WAKE, ES(ENOTTY, EINVAL, EBADF));
	arg = one_in(z, 4) ? fz_boundary(z, 8) : 1 + rn(z, 3);
	ret = ioctl(o->fd, KIPC_IOC_RING_WAKE, arg);
	err = ret < 0 ? errno : 0;
	fz_judge(z, &c, ret, err);
}

/* Regions */

static void op_resize(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, KIPC_TYPE_REGION);
	uint64_t *size = (void *)z->arena;
	struct fz_call c;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_RESIZE, ES(EFAULT, EBADF, EINVAL, EINTR, EIDRM,
				      EPERM, EBUSY, ENOSPC, EFBIG, ENOMEM));
	*size = one_in(z, 3) ? fz_boundary(z, 8) : rn(z, 1 << 22);
	arg = fz_place(z, size, sizeof(*size), &c.mode);
	ret = fz_ioctl(o->fd, KIPC_IOC_REGION_RESIZE, arg, &err);
	fz_judge(z, &c, ret, err);
	if (!ret && c.mode != ARG_BAD)
		o->size = *size;
}

static void op_seals(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, KIPC_TYPE_REGION);
	uint32_t *seals = (void *)z->arena;
	struct fz_call c;
	bool add = one_in(z, 2);
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	if (add) {
		fz_call_init(&c, OP_SEALS, ES(EFAULT, EINVAL, EBADF, EINTR,
					      EIDRM, EPERM, EBUSY));
		/* the write seal makes a region useless: not too often */
		*seals = one_in(z, 4) ? (uint32_t)fz_boundary(z, 4) :
				     rn(z, 16) & ~(one_in(z, 4) ? 0 : KIPC_SEAL_WRITE);
	} else {
		fz_call_init(&c, OP_SEALS, ES(EFAULT));
		c.writes_back = true;
	}
	arg = fz_place(z, seals, sizeof(*seals), &c.mode);
	ret = fz_ioctl(o->fd, add ? KIPC_IOC_REGION_ADD_SEALS :
			       KIPC_IOC_REGION_GET_SEALS, arg, &err);
	fz_judge(z, &c, ret, err);
	if (!add && !ret && c.mode == ARG_OK && (*seals & ~0xfu))
		fz_fail(z, "GET_SEALS %#x", *seals);
}

/* Semaphores */

static const struct fz_field fz_semop_fields[] = {
	FLD(struct kipc_semop, ops, FK_PTR),
	FLD(struct kipc_semop, nops, FK_INT),
	FLD(struct kipc_semop, flags, FK_FLAGS),
	TIMEOUT_FIELDS(struct kipc_semop, timeout),
};

static const struct fz_field fz_sembuf_fields[] = {
	FLD(struct kipc_sembuf, num, FK_INT),
	FLD(struct kipc_sembuf, delta, FK_INT),
	FLD(struct kipc_sembuf, flags, FK_FLAGS),
	FLD(struct kipc_sembuf, reserved, FK_RSV),
};

static void op_semop(struct fz *z)
{
	struct fz_obj *o = fz_pick(z, KIPC_TYPE_SEM);
	struct kipc_semop *req = (void *)z->arena;
	struct kipc_sembuf *ops = (void *)(z->arena + 4096);
	struct fz_call c;
	uint32_t i, n;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_SEMOP, ES(EFAULT, EINVAL, E2BIG, ENOMEM, EFBIG,
				     ERANGE, EOVERFLOW, EBADF, E_WAIT));
	n = one_in(z, 10) ? 1 + rn(z, KIPC_SEMOP_MAX + 10) : 1 + rn(z, 4);
	for (i = 0; i < n && i < 1000; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].num = rn(z, o->nsems ? o->nsems : 1);
		ops[i].delta = (int32_t)rn(z, 5) - 2;
		if (one_in(z, 3))
			ops[i].flags |= KIPC_SEMOP_UNDO;
		if (one_in(z, 3))
			ops[i].flags |= KIPC_SEMOP_NOWAIT;
		if (one_in(z, 8))
			fz_mutate(z, &ops[i], fz_sembuf_fields,
				  ARRAY_SIZE(fz_sembuf_fields));
	}
	memset(req, 0, sizeof(*req));
	req->flags = fz_timeout(z, &req->timeout);
	req->nops = n;
	req->ops = fz_ptr(z, ops, n * sizeof(*ops), true);
	fz_mutate(z, req, fz_semop_fields, ARRAY_SIZE(fz_semop_fields));
	arg = fz_place(z, req, sizeof(*req), &c.mode);
	ret = fz_ioctl(o->fd, KIPC_IOC_SEM_OP, arg, &err);
	fz_judge(z, &c, ret, err);
}

static void op_semval(struct fz *z)
{
	static const struct fz_field fields[] = {
		FLD(struct kipc_semval, num, FK_INT),
		FLD(struct kipc_semval, value, FK_INT),
		FLD(struct kipc_semval, reserved, FK_RSV),
	};
	struct fz_obj *o = fz_pick(z, KIPC_TYPE_SEM);
	struct kipc_semval *v = (void *)z->arena;
	bool set = one_in(z, 2);
	struct fz_call c;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_SEMVAL, set ? ES(EBADF, EFAULT, EINVAL, ERANGE, EIDRM) :
					  ES(EBADF, EFAULT, EINVAL, EIDRM));
	c.early = ES(EBADF);
	c.writes_back = !set;
	memset(v, set ? 0 : 0xa5, sizeof(*v));
	v->num = rn(z, o->nsems ? o->nsems : 1);
	v->value = rn(z, 4);
	if (set)
		fz_mutate(z, v, fields, ARRAY_SIZE(fields));
	else if (one_in(z, 4))
		v->num = (uint32_t)fz_boundary(z, 4);
	arg = fz_place(z, v, sizeof(*v), &c.mode);
	ret = fz_ioctl(o->fd, set ? KIPC_IOC_SEM_SETVAL : KIPC_IOC_SEM_GETVAL,
		       arg, &err);
	fz_judge(z, &c, ret, err);
	if (!set && !ret && c.mode == ARG_OK &&
	    (v->reserved || v->value < 0 || v->pid < 0))
		fz_fail(z, "GETVAL value %d pid %d reserved %#x", v->value,
			v->pid, v->reserved);
}

static void op_semall(struct fz *z)
{
	static const struct fz_field fields[] = {
		FLD(struct kipc_semall, values, FK_PTR),
		FLD(struct kipc_semall, count, FK_INT),
		FLD(struct kipc_semall, reserved, FK_RSV),
	};
	struct fz_obj *o = fz_pick(z, KIPC_TYPE_SEM);
	struct kipc_semall *a = (void *)z->arena;
	int32_t *vals = (void *)(z->arena + 4096);
	bool set = one_in(z, 2);
	struct fz_call c;
	uint32_t i, n;
	void *arg;
	long ret;
	int err;

	if (!o)
		return;
	fz_call_init(&c, OP_SEMALL, ES(EBADF, EFAULT, EINVAL, ENOMEM, EIDRM,
				      ERANGE));
	c.early = ES(EBADF);
	n = o->nsems ? o->nsems : 1;
	if (n > 16384)
		n = 16384;
	for (i = 0; i < n; i++)
		vals[i] = one_in(z, 64) ? (int32_t)fz_boundary(z, 4) : (int32_t)rn(z, 3);
	memset(a, 0, sizeof(*a));
	a->count = n + (set ? 0 : rn(z, 2) * rn(z, 8));
	a->values = fz_ptr(z, vals, n * 4, set);
	fz_mutate(z, a, fields, ARRAY_SIZE(fields));
	arg = fz_place(z, a, sizeof(*a), &c.mode);
	ret = fz_ioctl(o->fd, set ? KIPC_IOC_SEM_SETALL : KIPC_IOC_SEM_GETALL,
		       arg, &err);
	fz_judge(z, &c, ret, err);
	if (!set && ret >= 0 && ret != o->nsems && o->nsems)
		fz_fail(z, "GETALL returned %ld for %u counters", ret, o->nsems);
}

/* Netlink */

#define E_NL	EINVAL, ERANGE, ENOENT, EPERM, EOPNOTSUPP, ENOMEM, EMSGSIZE

struct fz_nl_seen {
	struct fz *z;
	int n;
};

static int fz_nl_check(const struct nlmsghdr *nlh, void *arg)
{
	struct fz_nl_seen *s = arg;
	char why[200];

	s->n++;
	if (rnl_check_kipc_reply(&s->z->nl, nlh, why, sizeof(why)))
		fz_fail(s->z, "netlink reply: %s", why);
	return 0;
}

static void fz_nl_judge(struct fz *z, int op, int ret)
{
	struct fz_call c;

	fz_call_init(&c, op, ES(E_NL));
	if (ret == -ETIMEDOUT || ret == -EPROTO)
		fz_fail(z, "netlink: no answer (%s)", strerror(-ret));
	fz_judge(z, &c, ret, -ret);
}

/* A request with a few attributes, valid or mutated. */
static void fz_nl_attrs(struct fz *z, struct rnl_msg *m, int cmd)
{
	uint32_t id = fz_some_id(z), type = 1 + rn(z, 3);
	int i, n;

	switch (cmd) {
	case KIPC_CMD_GET:
		rnl_put_u32(m, KIPC_A_ID, id);
		if (one_in(z, 2))
			rnl_put_u32(m, KIPC_A_TYPE, type);
		break;
	case KIPC_CMD_REMOVE:
		if (one_in(z, 2)) {
			rnl_put_u32(m, KIPC_A_ID, id);
		} else {
			rnl_put_str(m, KIPC_A_NAME, fz_name(z));
			rnl_put_u32(m, KIPC_A_TYPE, type);
		}
		break;
	}
	if (!one_in(z, 3))
		return;
	/* extra attributes: any type, odd lengths, nests, wrong flags */
	n = 1 + rn(z, 3);
	for (i = 0; i < n; i++) {
		uint16_t t = one_in(z, 3) ? (uint16_t)rnd(z) : rn(z, KIPC_A_MAX + 3);
		uint8_t data[300];
		uint16_t len = one_in(z, 2) ? 4 : rn(z, sizeof(data));
		uint32_t k;

		for (k = 0; k < len; k++)
			data[k] = one_in(z, 2) ? 0 : (uint8_t)rnd(z);
		/* an id attribute names one of ours */
		if ((t & NLA_TYPE_MASK) == KIPC_A_ID && len >= 4)
			memcpy(data, &id, 4);
		if (one_in(z, 4)) {
			size_t nest = rnl_nest_start(m, t);

			rnl_put(m, rn(z, 20), data, len > 16 ? 16 : len);
			if (one_in(z, 2)) {
				size_t inner = rnl_nest_start(m, rn(z, 20));

				rnl_put(m, rn(z, 20), data, 4);
				rnl_nest_end(m, inner);
			}
			rnl_nest_end(m, nest);
		} else {
			rnl_put(m, t, data, len);
		}
	}
}

static void op_nl(struct fz *z, int op)
{
	struct fz_nl_seen seen = { .z = z };
	struct rnl_msg *m = (void *)(z->arena + 65536);
	int cmd, ret;
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;

	if (!z->nl_ok)
		return;
	switch (op) {
	case OP_NL_GET:
		cmd = KIPC_CMD_GET;
		break;
	case OP_NL_DUMP:
		cmd = KIPC_CMD_GET;
		flags = NLM_F_REQUEST | NLM_F_DUMP;
		break;
	case OP_NL_STATS:
		cmd = KIPC_CMD_STATS;
		break;
	default:
		cmd = KIPC_CMD_REMOVE;
		break;
	}
	rnl_start(&z->nl, m, z->nl.family, flags, cmd, KIPC_GENL_VERSION);
	if (op == OP_NL_DUMP) {
		if (one_in(z, 2))
			rnl_put_u32(m, KIPC_A_TYPE, 1 + rn(z, 3));
	} else {
		fz_nl_attrs(z, m, cmd);
	}
	ret = rnl_xfer(&z->nl, m, fz_nl_check, &seen);
	fz_nl_judge(z, op, ret);
	if (!ret && op == OP_NL_STATS && seen.n != 1)
		fz_fail(z, "STATS: %d replies", seen.n);
}

/*
 * Anything at all in a datagram: random commands, versions, flags, header
 * lengths that lie, several messages in one.  A valid STATS request follows
 * in its own datagram, and must be answered: the kernel is still talking.
 */
static void op_nl_raw(struct fz *z)
{
	struct fz_nl_seen seen = { .z = z };
	struct rnl_msg *m = (void *)(z->arena + 65536);
	struct rnl_msg *ping = (void *)(z->arena + 65536 + sizeof(*m));
	uint16_t types[] = { z->nl.family, z->nl.family, z->nl.family,
			     GENL_ID_CTRL, NLMSG_NOOP, NLMSG_DONE, 0 };
	uint32_t first_seq;
	struct nlmsghdr *nlh;
	bool dumping = false, done = false;
	int ret, cmd;

	if (!z->nl_ok)
		return;
	cmd = one_in(z, 2) ? 1 + rn(z, KIPC_CMD_MAX) : rn(z, 256);
	rnl_start(&z->nl, m, types[rn(z, ARRAY_SIZE(types))],
		  NLM_F_REQUEST | (one_in(z, 2) ? NLM_F_ACK : 0) |
		  (one_in(z, 8) ? NLM_F_DUMP : 0) |
		  (one_in(z, 8) ? (uint16_t)rnd(z) & 0x0ff0 : 0),
		  cmd, one_in(z, 4) ? rn(z, 256) : KIPC_GENL_VERSION);
	/* control family: only its read-only commands */
	nlh = rnl_hdr(m);
	if (nlh->nlmsg_type == GENL_ID_CTRL)
		((struct genlmsghdr *)NLMSG_DATA(nlh))->cmd = CTRL_CMD_GETFAMILY;
	if (nlh->nlmsg_type == z->nl.family && cmd == KIPC_CMD_REMOVE &&
	    one_in(z, 2))
		nlh->nlmsg_flags &= ~NLM_F_DUMP;
	if (one_in(z, 8))
		((struct genlmsghdr *)NLMSG_DATA(nlh))->reserved = rnd(z);
	fz_nl_attrs(z, m, cmd);
	first_seq = nlh->nlmsg_seq;
	switch (rn(z, 8)) {
	case 0:		/* a header that claims less or more than is there */
		nlh->nlmsg_len = one_in(z, 2) ? rn(z, m->len + 1) : m->len + rn(z, 64);
		break;
	case 1:		/* truncated datagram (empty ones are ENODATA) */
		m->len = 1 + rn(z, m->len);
		break;
	case 2: {	/* a second message in the same datagram */
		struct nlmsghdr *second = (void *)(m->buf + NLMSG_ALIGN(m->len));

		if (NLMSG_ALIGN(m->len) + NLMSG_HDRLEN + GENL_HDRLEN + 8 <
		    sizeof(m->buf)) {
			memset(second, 0, NLMSG_HDRLEN + GENL_HDRLEN + 8);
			second->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN +
					    (one_in(z, 2) ? 8 : 0);
			second->nlmsg_type = z->nl.family;
			second->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
			second->nlmsg_seq = ++z->nl.seq;
			((struct genlmsghdr *)NLMSG_DATA(second))->cmd =
				KIPC_CMD_STATS;
			m->len = NLMSG_ALIGN(m->len) + second->nlmsg_len;
		}
		break;
	}
	default:
		break;
	}
	/* A dump left running would make the ping's own answer wait. */
	ret = rnl_send_raw(&z->nl, m->buf, m->len);
	{
		struct fz_call c;

		fz_call_init(&c, OP_NL_RAW, ES(EINVAL, EMSGSIZE, ENOBUFS,
					      ENOMEM, EPERM, EOPNOTSUPP, ENODATA));
		fz_judge(z, &c, ret, -ret);
	}
	rnl_start(&z->nl, ping, z->nl.family, NLM_F_REQUEST | NLM_F_ACK,
		  KIPC_CMD_STATS, KIPC_GENL_VERSION);
	ret = rnl_send(&z->nl, ping);
	if (ret) {
		fz_fail(z, "netlink: ping not sent: %s", strerror(-ret));
		return;
	}
	/*
	 * Read everything up to the ping's answer; errors answering the
	 * garbage must be ones the family or the netlink core give.
	 */
	for (;;) {
		static __thread uint8_t buf[RNL_BUFSIZE];
		ssize_t n = rnl_recv(&z->nl, buf, sizeof(buf));
		int len;

		if (n < 0) {
			if (n == -ENOBUFS)
				continue;
			fz_fail(z, "netlink: no answer to the ping (%s), acked %d, dumping %d; sent type %u flags %#x cmd %u len %zu",
				strerror((int)-n), done, dumping, rnl_hdr(m)->nlmsg_type,
				rnl_hdr(m)->nlmsg_flags,
				((struct genlmsghdr *)NLMSG_DATA(rnl_hdr(m)))->cmd, m->len);
			z->nl_ok = false;
			return;
		}
		len = (int)n;
		for (nlh = (void *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);
				int err = -e->error;

				if (nlh->nlmsg_seq == rnl_hdr(ping)->nlmsg_seq) {
					if (e->error)
						fz_fail(z, "netlink: ping failed: %s",
							strerror(err));
					done = true;
				} else if (err && !es_has(ES(E_NL, EBUSY, ENODATA), err)) {
					fz_fail(z, "netlink: garbage answered with %d (%s)",
						e->error, strerror(err));
				}
				if (nlh->nlmsg_seq != rnl_hdr(ping)->nlmsg_seq)
					dumping = false;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				dumping = false;
			} else {
				if (nlh->nlmsg_flags & NLM_F_MULTI)
					dumping = true;
				if (nlh->nlmsg_type == z->nl.family &&
				    nlh->nlmsg_seq >= first_seq)
					fz_nl_check(nlh, &seen);
			}
		}
		if (done && !dumping)
			break;
	}
}

/* A worker */

static void fz_unmap_all(struct fz *z)
{
	int i;

	for (i = 0; i < FZ_MAPS; i++)
		if (z->maps[i].addr) {
			munmap(z->maps[i].addr, z->maps[i].len);
			z->maps[i].addr = NULL;
		}
}

/* Let go of most of what this worker made, to bound the memory in use. */
static void fz_sweep(struct fz *z)
{
	struct kipc_name_req req;
	unsigned int i;

	fz_unmap_all(z);
	for (i = 0; i < FZ_POOL; i++)
		if (z->pool[i].fd >= 0 && !one_in(z, 4))
			fz_drop(z, &z->pool[i]);
	for (i = 0; i < z->nmine; i++) {
		memset(&req, 0, sizeof(req));
		req.flags = KIPC_O_BY_ID;
		req.id = z->mine[i];
		req.type = z->mine_type[i];
		ioctl(z->dev, KIPC_IOC_REMOVE_BY, &req);
	}
	z->nmine = 0;
	z->since_sweep = 0;
	z->bytes_in = 0;
}

static int fz_pick_op(struct fz *z)
{
	static int total;
	int i, r;

	if (!total)
		for (i = 0; i < OP_COUNT; i++)
			total += fz_op_weight[i];
	r = rn(z, total);
	for (i = 0; i < OP_COUNT; i++) {
		r -= fz_op_weight[i];
		if (r < 0)
			return i;
	}
	return 0;
}

static volatile sig_atomic_t fz_ticks;

static void fz_tick(int sig)
{
	fz_ticks++;
}

static struct fz *fz_watched;

static void fz_watchdog(int sig)
{
	char line[200];
	int n;

	n = snprintf(line, sizeof(line),
		     "# FAIL worker %d: call %lu (%s) hangs: watchdog\n",
		     fz_watched ? fz_watched->worker : -1,
		     fz_watched ? fz_watched->callno : 0,
		     fz_watched && fz_watched->op ? fz_watched->op : "?");
	if (write(2, line, n) < 0)
		n = 0;
	_exit(90);
}

static void fz_signals(void)
{
	struct sigaction sa = { .sa_handler = fz_tick, .sa_flags = SA_RESTART };
	struct sigaction fault = { .sa_handler = fz_fault_handler,
				   .sa_flags = SA_NODEFER };
	struct sigaction dog = { .sa_handler = fz_watchdog };
	int s;

	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGSEGV, &fault, NULL);
	sigaction(SIGBUS, &fault, NULL);
	sigaction(SIGALRM, &dog, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	for (s = SIGRTMIN; s <= SIGRTMAX; s++)
		signal(s, SIG_IGN);
}

/* SIGUSR1 every 20 ms: ends any wait a mutated request made endless. */
static timer_t fz_interrupter(void)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGUSR1 };
	struct itimerspec its = {
		.it_value = { .tv_nsec = 20000000 },
		.it_interval = { .tv_nsec = 20000000 },
	};
	timer_t t = 0;

	if (!timer_create(CLOCK_MONOTONIC, &ev, &t))
		timer_settime(t, 0, &its, NULL);
	return t;
}

static int fz_worker(struct fz_shared *sh, int worker)
{
	struct fz zz, *z = &zz;
	unsigned long iter = 0;
	int pfd[2], i;

	memset(z, 0, sizeof(*z));
	z->sh = sh;
	z->worker = worker;
	z->rng = sh->seed ^ (0x9e3779b97f4a7c15ull * (worker + 1));
	fz_watched = z;
	fz_signals();
	if (fz_mem_init(z)) {
		fz_fail(z, "memory set-up: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < FZ_POOL; i++)
		z->pool[i].fd = -1;
	z->dev = kt_dev();
	if (z->dev < 0 || ioctl(z->dev, KIPC_IOC_INFO, &z->limits)) {
		fz_fail(z, "open %s: %s", KIPC_DEVICE_PATH, strerror(errno));
		return 1;
	}
	z->nl_ok = !rnl_open(&z->nl, 5000);
	if (pipe(pfd))
		return 1;
	z->other_fd = pfd[0];
	fz_interrupter();

	for (;;) {
		unsigned long n = atomic_fetch_add(&sh->issued, 1);
		unsigned long made = z->made;
		int op;

		if (n >= sh->target)
			break;
		z->callno = n;
		/* a call that takes two minutes hangs, even on a debug kernel */
		if ((iter++ & 15) == 0)
			alarm(120);
		op = fz_pick_op(z);
		z->op = fz_op_names[op];
		switch (op) {
		case OP_OPEN_CREATE: op_open(z, true); break;
		case OP_OPEN_EXISTING: op_open(z, false); break;
		case OP_UNLINK: op_name_req(z, false); break;
		case OP_REMOVE_BY: op_name_req(z, true); break;
		case OP_INFO: op_info(z); break;
		case OP_DEV_IOCTL: op_bad_ioctl(z, true); break;
		case OP_STAT: op_stat(z); break;
		case OP_SET: op_set(z); break;
		case OP_REMOVE: op_remove(z); break;
		case OP_CLOSE: op_close(z); break;
		case OP_OBJ_IOCTL: op_bad_ioctl(z, false); break;
		case OP_SEND: op_xfer(z, true); break;
		case OP_RECV: op_xfer(z, false); break;
		case OP_SENDRECV: op_sendrecv(z); break;
		case OP_NOTIFY: op_notify(z); break;
		case OP_READ: op_rw(z, false); break;
		case OP_WRITE: op_rw(z, true); break;
		case OP_LSEEK: op_lseek(z); break;
		case OP_POLL: op_poll(z); break;
		case OP_MMAP: op_mmap(z); break;
		case OP_MUNMAP: op_munmap(z); break;
		case OP_RING_INFO: op_ring_info(z); break;
		case OP_RING_WAIT: op_ring_wait(z); break;
		case OP_RING_WAKE: op_ring_wake(z); break;
		case OP_RESIZE: op_resize(z); break;
		case OP_SEALS: op_seals(z); break;
		case OP_SEMOP: op_semop(z); break;
		case OP_SEMVAL: op_semval(z); break;
		case OP_SEMALL: op_semall(z); break;
		case OP_NL_GET: case OP_NL_DUMP: case OP_NL_STATS:
		case OP_NL_REMOVE: op_nl(z, op); break;
		case OP_NL_RAW: op_nl_raw(z); break;
		}
		/* An op with nothing to work on made no call: hand it back. */
		if (z->made == made)
			atomic_fetch_sub(&sh->issued, 1);
		if (++z->since_sweep >= FZ_SWEEP_CALLS ||
		    z->bytes_in >= FZ_SWEEP_BYTES)
			fz_sweep(z);
		if (atomic_load(&sh->failures) > 50)
			break;
	}
	alarm(0);
	fz_sweep(z);
	return 0;
}

/* The test process */

static void *fz_shared_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static uint64_t fz_seed(void)
{
	struct timespec ts;
	const char *s = getenv("KIPC_FUZZ_SEED");

	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^
	       ((uint64_t)getpid() << 32);
}

/* The counters a leak would move, as KIPC_IOC_INFO reports them. */
struct fz_counts {
	uint64_t objects[KIPC_TYPE_COUNT];
	uint64_t msgs, bytes, namespaces, user_objects, user_bytes;
};

static int fz_counts(int dev, struct fz_counts *c)
{
	struct kipc_info info;
	int i;

	if (kt_info(dev, &info))
		return -1;
	for (i = 0; i < KIPC_TYPE_COUNT; i++)
		c->objects[i] = info.objects[i];
	c->msgs = info.msgs;
	c->bytes = info.bytes;
	c->namespaces = info.namespaces;
	c->user_objects = info.user_objects;
	c->user_bytes = info.user_bytes;
	return 0;
}

/* Back to @base, allowing a moment for releases still on their way. */
static bool fz_counts_back(int dev, const struct fz_counts *base,
			   struct fz_counts *now)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (!fz_counts(dev, now) && !memcmp(now, base, sizeof(*now)))
			return true;
		usleep(10000);
	}
	return false;
}

#define EXPECT_COUNTS_BACK(dev, base) do {				\
	struct fz_counts now_;						\
	bool back_ = fz_counts_back((dev), (base), &now_);		\
	EXPECT_TRUE(back_);						\
	if (!back_)							\
		TH_LOG("objects %llu (was %llu), msgs %llu (%llu), bytes %llu (%llu), namespaces %llu (%llu), user objects %llu (%llu), user bytes %llu (%llu)", \
		       (unsigned long long)now_.objects[0],		\
		       (unsigned long long)(base)->objects[0],		\
		       (unsigned long long)now_.msgs,			\
		       (unsigned long long)(base)->msgs,			\
		       (unsigned long long)now_.bytes,			\
		       (unsigned long long)(base)->bytes,			\
		       (unsigned long long)now_.namespaces,		\
		       (unsigned long long)(base)->namespaces,		\
		       (unsigned long long)now_.user_objects,		\
		       (unsigned long long)(base)->user_objects,		\
		       (unsigned long long)now_.user_bytes,		\
		       (unsigned long long)(base)->user_bytes);		\
} while (0)

/* Root fuzzes in an IPC namespace of its own: nothing else is in reach. */
static void fz_private_ns(void)
{
	if (kt_is_root() && unshare(CLONE_NEWIPC))
		fz_msg("fuzz: no private IPC namespace (%s)\n",
			       strerror(errno));
}

static void fz_cleanup(int dev, struct fz_shared *sh)
{
	unsigned int i, n = atomic_load(&sh->nids);
	struct kipc_name_req req;
	uint32_t t;

	if (n > FZ_MAX_IDS)
		n = FZ_MAX_IDS;
	for (i = 0; i < n; i++) {
		memset(&req, 0, sizeof(req));
		req.flags = KIPC_O_BY_ID;
		req.id = sh->ids[i];
		req.type = sh->id_types[i];
		ioctl(dev, KIPC_IOC_REMOVE_BY, &req);
	}
	for (i = 0; i < FZ_NAMES; i++)
		for (t = 1; t < KIPC_TYPE_COUNT; t++)
			kt_unlink(dev, t, sh->names[i]);
}

TEST(random_calls)
{
	unsigned long calls = env_ul("KIPC_FUZZ_CALLS", FZ_DEFAULT_CALLS);
	unsigned long workers = env_ul("KIPC_FUZZ_WORKERS", FZ_DEFAULT_WORKERS);
	struct fz_counts base;
	struct fz_shared *sh;
	pid_t pids[FZ_MAX_WORKERS];
	char ops[1024];
	unsigned int i;
	size_t len = 0;
	int dev, status;

	if (workers < 1 || workers > FZ_MAX_WORKERS)
		workers = FZ_DEFAULT_WORKERS;
	sh = fz_shared_map(sizeof(*sh));
	ASSERT_NE(NULL, sh);
	sh->seed = fz_seed();
	sh->target = calls;
	fz_msg("fuzz: seed %#llx, %lu calls, %lu workers, as uid %d (KIPC_FUZZ_SEED=%#llx repeats it)\n",
		       (unsigned long long)sh->seed, calls, workers, geteuid(),
		       (unsigned long long)sh->seed);
	snprintf(sh->prefix, sizeof(sh->prefix), "fz-%d-", getpid());
	for (i = 0; i < FZ_NAMES; i++)
		snprintf(sh->names[i], sizeof(sh->names[i]), "%s%u", sh->prefix, i);

	fz_private_ns();
	dev = kt_dev();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, fz_counts(dev, &base));

	for (i = 0; i < workers; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			close(dev);
			_exit(fz_worker(sh, i));
		}
	}
	for (i = 0; i < workers; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("worker %u: status %#x", i, status);
	}

	for (i = 0; i < OP_COUNT && len < sizeof(ops) - 40; i++)
		len += snprintf(ops + len, sizeof(ops) - len, " %s %lu/%lu",
				fz_op_names[i], atomic_load(&sh->op_ok[i]),
				atomic_load(&sh->op_calls[i]));
	fz_msg("fuzz: %lu calls made (%lu succeeded), seed %#llx, %lu failures\n",
		       atomic_load(&sh->done), atomic_load(&sh->ok),
		       (unsigned long long)sh->seed, atomic_load(&sh->failures));
	fz_msg("fuzz: succeeded/made:%s\n", ops);
	for (i = 0; i < 8 && i < atomic_load(&sh->nmsg); i++)
		TH_LOG("%s", sh->msg[i]);
	EXPECT_EQ(0, atomic_load(&sh->failures));
	EXPECT_EQ(calls, atomic_load(&sh->done));

	fz_cleanup(dev, sh);
	EXPECT_COUNTS_BACK(dev, &base);
	close(dev);
}


/*
 * Races: blocked calls against removal.
 */

enum race_kind {
	RK_QRECV, RK_QSEND, RK_SEMOP, RK_SEMZERO, RK_RING, RK_POLL_Q,
	RK_POLL_SEM, RK_POLL_RING, RK_COUNT,
};

static const char *const race_kind_names[RK_COUNT] = {
	"queue receive", "queue send", "semaphore wait", "wait for zero",
	"ring wait", "queue poll", "semaphore poll", "ring poll",
};

enum race_action {
	RA_REMOVE, RA_REMOVE_BY, RA_NL_REMOVE, RA_CLOSE, RA_UNLINK, RA_SIGNAL,
	RA_KILL, RA_COUNT,
};

static const char *const race_action_names[RA_COUNT] = {
	"KIPC_IOC_REMOVE", "KIPC_IOC_REMOVE_BY", "netlink REMOVE",
	"close, then remove", "unlink, then remove", "signal, then remove",
	"SIGKILL, then remove",
};

/* Outcomes, as exit codes of waiter processes. */
#define RO_POLLERR	200		/* poll reported POLLERR|POLLHUP */
#define RO_TIMEOUT	201		/* poll timed out */
#define RO_SUCCESS	202		/* the wait succeeded: never expected */
#define RO_POLLOTHER	203

struct race_sh {
	atomic_int ready;		/* waiters about to block */
	atomic_int finished;		/* waiters back from their call */
	atomic_int go;			/* barrier for the contests */
	int results[64];
};

struct race_waiter {
	int fd;
	int kind;
	int timeout_ms;			/* -1: none */
	struct race_sh *sh;
	int result;
	pthread_t thread;
};

static void race_sigusr1(int sig)
{
}

/* One blocking call; its outcome as an errno or an RO_* code. */
static int race_block(int fd, int kind, int timeout_ms)
{
	struct kipc_timeout to = kt_rel_ms(timeout_ms < 0 ? 0 : timeout_ms);
	uint32_t flags = timeout_ms < 0 ? 0 : KIPC_F_TIMED;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct kipc_ring_wait rw = { .events = KIPC_RING_DATA };
	char buf[64];
	int ret;

	switch (kind) {
	case RK_QRECV:
		ret = kt_recv(fd, buf, sizeof(buf), NULL, 0, flags, &to);
		break;
	case RK_QSEND:
		ret = kt_send(fd, "x", 1, 0, 1, flags, &to);
		break;
	case RK_SEMOP:
	case RK_SEMZERO: {
		struct kipc_sembuf op = { .num = 0,
					  .delta = kind == RK_SEMOP ? -1 : 0 };
		struct kipc_semop req = { .ops = (uintptr_t)&op, .nops = 1,
					  .flags = flags, .timeout = to };

		ret = kt_ret(ioctl(fd, KIPC_IOC_SEM_OP, &req));
		break;
	}
	case RK_RING:
		rw.flags = flags;
		rw.timeout = to;
		ret = kt_ret(ioctl(fd, KIPC_IOC_RING_WAIT, &rw));
		break;
	default:
		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0)
			return errno;
		if (ret == 0)
			return RO_TIMEOUT;
		if ((pfd.revents & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP))
			return RO_POLLERR;
		if (pfd.revents & POLLNVAL)
			return EBADF;
		return RO_POLLOTHER;
	}
	return ret < 0 ? -ret : RO_SUCCESS;
}

static void *race_thread(void *arg)
{
	struct race_waiter *w = arg;

	atomic_fetch_add(&w->sh->ready, 1);
	w->result = race_block(w->fd, w->kind, w->timeout_ms);
	atomic_fetch_add(&w->sh->finished, 1);
	return NULL;
}

/* The object a round races on, set up so that every waiter blocks. */
static int race_object(int dev, int kind, const char *name, uint32_t *id)
{
	uint32_t flags = KIPC_O_CREAT | KIPC_O_RDWR |
			 (name ? KIPC_O_EXCL : KIPC_O_PERSIST);
	struct kipc_ring_attr ring = { .slots = 4, .slot_size = 64 };
	struct kipc_sem_attr sem = { .nsems = 1 };
	int fd;

	switch (kind) {
	case RK_QRECV:
	case RK_POLL_Q:
		return kt_queue(dev, name, flags, 0600, 1, 64, id);
	case RK_QSEND:
		fd = kt_queue(dev, name, flags, 0600, 1, 64, id);
		if (fd >= 0 && kt_send(fd, "full", 4, 0, 1, 0, NULL)) {
			close(fd);
			return -EIO;
		}
		return fd;
	case RK_SEMOP:
	case RK_SEMZERO:
	case RK_POLL_SEM:
		sem.value = kind == RK_SEMZERO;
		return kt_open(dev, KIPC_TYPE_SEM, name, flags, 0600, &sem,
			       sizeof(sem), id);
	default:
		return kt_open(dev, KIPC_TYPE_RING, name, flags, 0600, &ring,
			       sizeof(ring), id);
	}
}

static uint32_t race_type(int kind)
{
	switch (kind) {
	case RK_SEMOP:
	case RK_SEMZERO:
	case RK_POLL_SEM:
		return KIPC_TYPE_SEM;
	case RK_RING:
	case RK_POLL_RING:
		return KIPC_TYPE_RING;
	default:
		return KIPC_TYPE_QUEUE;
	}
}

/* Waiters the kernel counts as blocked on the object now. */
static int race_blocked(int fd, int kind)
{
	struct kipc_stat st;

	if (kt_stat(fd, &st))
		return -1;
	switch (kind) {
	case RK_QRECV:
		return st.queue.recv_waiters;
	case RK_RING:
		return st.ring.data_waiters;
	case RK_QSEND:
		return st.queue.send_waiters;
	case RK_SEMOP:
	case RK_SEMZERO:
		return st.sem.waiters;
	default:
		return -1;		/* polls are not counted */
	}
}

static int race_remove_by(int dev, uint32_t type, uint32_t id, const char *name)
{
	return kt_name_req(dev, KIPC_IOC_REMOVE_BY, type, name, id);
}

static void race_watchdog(int sig)
{
	static const char msg[] = "# FAIL a blocked call never returned: watchdog\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(91);
	_exit(91);
}

static uint64_t race_rng;

static uint32_t race_rn(uint32_t n)
{
	return (uint32_t)(fz_mix(&race_rng) % n);
}

static unsigned long race_rounds(void)
{
	unsigned long r = fz_calls() / 250;

	return r < 24 ? 24 : r > 400 ? 400 : r;
}

TEST(blocked_calls_return_when_removed)
{
	unsigned long rounds = race_rounds(), round;
	struct race_sh *sh = fz_shared_map(sizeof(*sh));
	struct sigaction sa = { .sa_handler = race_sigusr1 };
	struct sigaction dog = { .sa_handler = race_watchdog };
	unsigned long outcomes[RO_POLLOTHER + 1] = { 0 };
	struct fz_counts base;
	uint64_t seed = fz_seed();
	int dev;

	ASSERT_NE(NULL, sh);
	race_rng = seed;
	fz_msg("races: seed %#llx, %lu rounds\n",
		       (unsigned long long)seed, rounds);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &dog, NULL);
	fz_private_ns();
	dev = kt_dev();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, fz_counts(dev, &base));

	for (round = 0; round < rounds; round++) {
		int kind = race_rn(RK_COUNT), action = race_rn(RA_COUNT);
		int nthreads = race_rn(4), nprocs = race_rn(3), i, fd, fd2;
		struct race_waiter w[4];
		pid_t pids[3];
		char name[64];
		bool named = race_rn(2);
		uint32_t id = 0, type = race_type(kind);
		int timeout[7], ret, blocked_want = 0;

		if (!nthreads && !nprocs)
			nthreads = 1;
		if (action == RA_KILL && !nprocs)
			nprocs = 1;
		snprintf(name, sizeof(name), "race-%d-%lu", getpid(), round);
		memset(sh, 0, sizeof(*sh));
		fd = race_object(dev, kind, named ? name : NULL, &id);
		ASSERT_LE(0, fd) TH_LOG("round %lu: %s", round, strerror(-fd));
		fd2 = dup(fd);
		ASSERT_LE(0, fd2);
		for (i = 0; i < nthreads + nprocs; i++) {
			/* mostly endless waits: only the removal ends them */
			timeout[i] = race_rn(3) ? -1 : 1 + race_rn(30);
			if (timeout[i] < 0)
				blocked_want++;
		}
		alarm(30);
		for (i = 0; i < nprocs; i++) {
			pids[i] = fork();
			ASSERT_LE(0, pids[i]);
			if (pids[i] == 0) {
				atomic_fetch_add(&sh->ready, 1);
				ret = race_block(fd, kind, timeout[nthreads + i]);
				atomic_fetch_add(&sh->finished, 1);
				_exit(ret);
			}
		}
		for (i = 0; i < nthreads; i++) {
			w[i] = (struct race_waiter){ .fd = fd, .kind = kind,
						     .timeout_ms = timeout[i],
						     .sh = sh };
			ASSERT_EQ(0, pthread_create(&w[i].thread, NULL,
						    race_thread, &w[i]));
		}
		while (atomic_load(&sh->ready) < nthreads + nprocs)
			sched_yield();
		/* Sometimes until all of them sleep, sometimes right away. */
		if (race_rn(2) && race_blocked(fd2, kind) >= 0) {
			for (i = 0; i < 3000 &&
			     race_blocked(fd2, kind) < blocked_want; i++)
				usleep(1000);
		} else {
			usleep(race_rn(3000));
		}

		switch (action) {
		case RA_CLOSE:
			/* Threads still on their way find a closed fd. */
			close(fd);
			fd = -1;
			usleep(race_rn(2000));
			ret = kt_ret(ioctl(fd2, KIPC_IOC_REMOVE));
			break;
		case RA_UNLINK:
			if (named) {
				int before = atomic_load(&sh->finished);

				ASSERT_EQ(0, kt_unlink(dev, type, name));
				usleep(2000);
				/* an unlink wakes nobody who waits for good */
				if (blocked_want == nthreads + nprocs)
					EXPECT_EQ(before, atomic_load(&sh->finished));
			}
			ret = race_remove_by(dev, type, id, NULL);
			break;
		case RA_SIGNAL:
		case RA_KILL:
			for (i = 0; i < nthreads && action == RA_SIGNAL; i++)
				pthread_kill(w[i].thread, SIGUSR1);
			for (i = 0; i < nprocs; i++)
				kill(pids[i], action == RA_KILL && i == 0 ?
				     SIGKILL : SIGUSR1);
			usleep(race_rn(2000));
			ret = kt_ret(ioctl(fd2, KIPC_IOC_REMOVE));
			break;
		case RA_REMOVE_BY:
			ret = race_remove_by(dev, type, id,
					     named && race_rn(2) ? name : NULL);
			break;
		case RA_NL_REMOVE:
			ret = rnl_remove(type, id,
					     named && race_rn(2) ? name : NULL);
			break;
		default:
			ret = kt_ret(ioctl(fd2, KIPC_IOC_REMOVE));
			break;
		}
		EXPECT_EQ(0, ret) TH_LOG("round %lu: %s of a %s object", round,
					 race_action_names[action],
					 race_kind_names[kind]);

		for (i = 0; i < nthreads; i++) {
			int r;

			pthread_join(w[i].thread, NULL);
			r = w[i].result;
			outcomes[r < RO_POLLERR ? 0 : r]++;
			if (r == EIDRM || r == RO_POLLERR ||
			    (timeout[i] >= 0 && (r == ETIMEDOUT || r == RO_TIMEOUT)) ||
			    (action == RA_SIGNAL && r == EINTR) ||
			    (action == RA_CLOSE && r == EBADF))
				continue;
			EXPECT_FAIL() TH_LOG("round %lu: thread %d, %s, %s, timeout %d: outcome %d (%s)",
					     round, i, race_kind_names[kind],
					     race_action_names[action], timeout[i],
					     r, r < 200 ? strerror(r) : "");
		}
		for (i = 0; i < nprocs; i++) {
			int status, r;

			ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
			/* killed, unless it was done already */
			if (action == RA_KILL && i == 0 && WIFSIGNALED(status)) {
				EXPECT_EQ(SIGKILL, WTERMSIG(status));
				continue;
			}
			ASSERT_TRUE(WIFEXITED(status));
			r = WEXITSTATUS(status);
			outcomes[r < RO_POLLERR ? 0 : r]++;
			if (r == EIDRM || r == RO_POLLERR ||
			    (timeout[nthreads + i] >= 0 &&
			     (r == ETIMEDOUT || r == RO_TIMEOUT)) ||
			    ((action == RA_SIGNAL || action == RA_KILL) && r == EINTR))
				continue;
			EXPECT_FAIL() TH_LOG("round %lu: process %d, %s, %s, timeout %d: outcome %d (%s)",
					     round, i, race_kind_names[kind],
					     race_action_names[action],
					     timeout[nthreads + i], r,
					     r < 200 ? strerror(r) : "");
		}
		alarm(0);
		/* Nobody is left waiting on the removed object. */
		if (kind != RK_POLL_Q && kind != RK_POLL_SEM && kind != RK_POLL_RING)
			EXPECT_EQ(0, race_blocked(fd2, kind));
		if (fd >= 0)
			close(fd);
		close(fd2);
		if (named && action != RA_UNLINK)
			EXPECT_EQ(-ENOENT, kt_unlink(dev, type, name));
	}
	fz_msg("races: %lu rounds; outcomes: %lu errno, %lu poll errors, %lu poll timeouts\n",
		       rounds, outcomes[0], outcomes[RO_POLLERR],
		       outcomes[RO_TIMEOUT]);
	EXPECT_COUNTS_BACK(dev, &base);
	close(dev);
}

/*
 * Contests: many removers of one object, exactly one wins; many exclusive
 * creators of one name, exactly one wins; many unlinkers, exactly one.
 */
enum { CT_REMOVE, CT_CREATE, CT_UNLINK, CT_COUNT };

static int contest_one(int what, int how, int dev, int fd, uint32_t id,
		       const char *name, struct race_sh *sh)
{
	int ret;

	while (!atomic_load(&sh->go))
		;
	switch (what) {
	case CT_REMOVE:
		switch (how % 4) {
		case 0:
			return kt_ret(ioctl(fd, KIPC_IOC_REMOVE));
		case 1:
			return race_remove_by(dev, KIPC_TYPE_QUEUE, id, NULL);
		case 2:
			return rnl_remove(KIPC_TYPE_QUEUE, id, NULL);
		default:
			return rnl_remove(KIPC_TYPE_QUEUE, 0, name);
		}
	case CT_CREATE:
		ret = kt_queue(dev, name, KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR,
			       0600, 1, 16, NULL);
		if (ret >= 0) {
			close(ret);
			ret = 0;
		}
		return ret;
	default:
		return kt_unlink(dev, KIPC_TYPE_QUEUE, name);
	}
}

struct contest_thread {
	int what, how, dev, fd;
	uint32_t id;
	const char *name;
	struct race_sh *sh;
	int result;
	pthread_t thread;
};

static void *contest_thread_fn(void *arg)
{
	struct contest_thread *c = arg;

	atomic_fetch_add(&c->sh->ready, 1);
	c->result = contest_one(c->what, c->how, c->dev, c->fd, c->id, c->name,
				c->sh);
	return NULL;
}

TEST(racing_removers_and_creators_one_wins)
{
	unsigned long rounds = race_rounds(), round;
	struct race_sh *sh = fz_shared_map(sizeof(*sh));
	struct fz_counts base;
	int dev;

	ASSERT_NE(NULL, sh);
	race_rng = fz_seed() ^ 0x5555;
	fz_private_ns();
	dev = kt_dev();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, fz_counts(dev, &base));

	for (round = 0; round < rounds; round++) {
		int what = round % CT_COUNT, i, n, nthreads = 1 + race_rn(4);
		int nprocs = race_rn(3), wins = 0, fd = -1;
		struct contest_thread t[4];
		pid_t pids[3];
		char name[64];
		uint32_t id = 0;

		snprintf(name, sizeof(name), "contest-%d-%lu", getpid(), round);
		memset(sh, 0, sizeof(*sh));
		if (what != CT_CREATE) {
			fd = kt_queue(dev, name, KIPC_O_CREAT | KIPC_O_EXCL |
				      KIPC_O_RDWR, 0600, 1, 16, &id);
			ASSERT_LE(0, fd);
		}
		alarm(30);
		for (i = 0; i < nprocs; i++) {
			pids[i] = fork();
			ASSERT_LE(0, pids[i]);
			if (pids[i] == 0) {
				int r = contest_one(what, race_rn(4), dev, fd, id,
						    name, sh);

				sh->results[nthreads + i] = r;
				_exit(0);
			}
		}
		for (i = 0; i < nthreads; i++) {
			t[i] = (struct contest_thread){ .what = what,
				.how = race_rn(4), .dev = dev, .fd = fd, .id = id,
				.name = name, .sh = sh };
			ASSERT_EQ(0, pthread_create(&t[i].thread, NULL,
						    contest_thread_fn, &t[i]));
		}
		while (atomic_load(&sh->ready) < nthreads)
			sched_yield();
		atomic_store(&sh->go, 1);
		for (i = 0; i < nthreads; i++) {
			pthread_join(t[i].thread, NULL);
			sh->results[i] = t[i].result;
		}
		for (i = 0; i < nprocs; i++) {
			int status;

			ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
			EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		}
		alarm(0);
		n = nthreads + nprocs;
		for (i = 0; i < n; i++) {
			int r = sh->results[i];

			if (!r) {
				wins++;
				continue;
			}
			if ((what == CT_REMOVE && (r == -EIDRM || r == -ENOENT)) ||
			    (what == CT_CREATE && r == -EEXIST) ||
			    (what == CT_UNLINK && r == -ENOENT))
				continue;
			EXPECT_FAIL() TH_LOG("round %lu, contest %d: %s", round,
					     what, strerror(-r));
		}
		EXPECT_EQ(1, wins) TH_LOG("round %lu, contest %d, %d contenders",
					  round, what, n);
		if (what == CT_CREATE)
			EXPECT_EQ(0, kt_unlink(dev, KIPC_TYPE_QUEUE, name));
		if (what == CT_UNLINK)
			EXPECT_EQ(0, race_remove_by(dev, KIPC_TYPE_QUEUE, id, NULL));
		if (fd >= 0)
			close(fd);
	}
	EXPECT_COUNTS_BACK(dev, &base);
	close(dev);
}

/* The harness's time limits grow with the calls asked for. */
static void __attribute__((constructor)) fz_set_timeouts(void)
{
	_random_calls_object.timeout = 120 + fz_calls() / 100;
	_blocked_calls_return_when_removed_object.timeout = 120 + 2 * race_rounds();
	_racing_removers_and_creators_one_wins_object.timeout =
		120 + race_rounds();
}

TEST_HARNESS_MAIN
