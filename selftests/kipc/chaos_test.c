// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos: every kind of kipc object under load at once, and the same load
 * with its participants SIGKILLed at random moments.
 *
 * Seventeen processes share two message queues, two rings, a semaphore
 * set, a POSIX semaphore (mapped, fast path and system calls) and a shared
 * region:
 *   - a "mixed" queue whose messages carry their identity in the SysV type
 *     (sizes from 0 to the largest, random priorities), read by a POSIX
 *     receiver, a SysV any-type receiver and a SysV lowest-type receiver;
 *   - a "typed" queue of SysV types 1..3 with a header in every message,
 *     read by exact, negative and EXCEPT selectors;
 *   - two rings, each with one producer and one consumer;
 *   - three semaphore workers: a region updated under a SEM_UNDO mutex
 *     (copy, modify, flip: a killed writer leaves the last commit intact),
 *     tokens held with SEM_UNDO, a counter changed without undo, and the
 *     POSIX semaphore.
 * Sends and receives pick random batch sizes, and wait patiently (three
 * seconds), with a tiny relative or absolute timeout that often expires,
 * or not at all (nonblocking).  Every message is recorded in a shared table before it is sent
 * (producer instance, sequence, length, channel, key) and its payload is a
 * function of its id, with a header (id, producer, sequence, checksum) when
 * it has room for one: a receiver checks every byte, that it was delivered
 * once, and the order the queue promises (per producer within a priority,
 * a type, or overall, depending on the selection).
 *
 * At the end: nothing was lost, duplicated or torn; a failed send was never
 * delivered; KIPC_IOC_STAT's counters agree with the table (sent minus
 * received is what the parent drains); semaphores hold what the applied
 * operations add up to; the region's last commit is consistent and seen the
 * same through pread(); no waiter is left (stat and netlink); and once the
 * objects are closed, KIPC_IOC_INFO's counters are back to where they were.
 *
 * With kills, a killed sender's message is delivered whole or not at all
 * (its table entry stays "pending"), a receiver killed after the kernel
 * handed it a message is recovered from its receive buffers (shared
 * memory), a killed ring consumer's message goes to its successor, and undo
 * gives back every semaphore a killed holder had.  Every blocking call of
 * every process is timed, and an alarm() a minute away catches a call that
 * does not return: "stuck".
 *
 * Then deterministic kills of each kind of waiter: blocked receivers and
 * senders, semaphore waiters holding undo, ring waiters, mapping holders,
 * and waiters killed but kept off the CPU (root only), which must take
 * nothing a sender or a post offers them meanwhile.
 *
 * KIPC_CHAOS_SECONDS sets the length of each of the two runs (default 6).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "../kselftest_harness.h"
#include "kipc_sem.h"
#include "kipcnl.h"

/* Channels: the two queues, then the two rings. */
enum { Q_MIXED, Q_TYPED, R_FIRST, NCHAN = R_FIRST + 2 };

#define MIXED_MSGS	16
#define MIXED_MSGSIZE	5000	/* the inline part and two page segments */
#define TYPED_MSGS	32
#define TYPED_MSGSIZE	600
#define RING_SLOTS	8
#define RING_SLOT	1024
#define BATCH		8
#define NPRIO		8
#define NTYPES		3
#define HDR		16	/* id, producer, sequence, checksum */

#define MAX_GIDS	(1u << 21)
#define MAX_INST	65536

#define PATIENCE_MS	3000
#define WATCHDOG_S	60
#define SENTINEL	0xffffffffu

/* The semaphore set's counters. */
enum { S_MUTEX, S_TOKENS, S_COUNTER, NSEMS };
#define TOKENS		8
#define COUNTER_START	1000

/* The region: two copies, and the index of the committed one. */
#define RWORDS		1024
struct rcopy {
	uint64_t gen;
	uint64_t sum;
	uint32_t word[RWORDS];
};

struct rgn {
	_Atomic uint32_t cur;
	_Atomic pid_t owner;		/* holder of S_MUTEX, 0: none */
	uint64_t pad;
	struct rcopy copy[2];
};

#define REGION_SIZE	16384

enum role {
	MIXED_PROD, TYPED_PROD, MIXED_CONS, TYPED_CONS, RING_PROD, RING_CONS,
	SEM_WORKER,
};

static const char *const role_name[] = {
	"mixed producer", "typed producer", "mixed consumer", "typed consumer",
	"ring producer", "ring consumer", "semaphore worker",
};

static const struct {
	enum role role;
	int arg;
} cast[] = {
	{ MIXED_PROD, 0 }, { MIXED_PROD, 1 }, { MIXED_PROD, 2 },
	{ TYPED_PROD, 0 }, { TYPED_PROD, 1 },
	{ MIXED_CONS, 0 }, { MIXED_CONS, 1 }, { MIXED_CONS, 2 },
	{ TYPED_CONS, 0 }, { TYPED_CONS, 1 },
	{ RING_PROD, 0 }, { RING_CONS, 0 }, { RING_PROD, 1 }, { RING_CONS, 1 },
	{ SEM_WORKER, 0 }, { SEM_WORKER, 1 }, { SEM_WORKER, 2 },
};

#define NWORKERS	ARRAY_SIZE(cast)

/* What a worker is blocked in, if anything, when it is killed. */
enum { CALL_NONE, CALL_SEND, CALL_RECV, CALL_SEM, CALL_RING, NCALLS };

/* One message, recorded by its producer before it is sent. */
struct mrec {
	uint32_t inst;
	uint32_t seq;
	uint16_t len;
	uint8_t key;			/* priority (mixed) or type (typed) */
	uint8_t chan;
	_Atomic uint8_t status;
	_Atomic uint8_t seen;		/* deliveries */
	uint16_t pad;
};

enum { ST_UNUSED, ST_PENDING, ST_SENT, ST_FAILED };

struct worker {
	pid_t pid;
	uint32_t inst;
	_Atomic int in_call;
	/* A semaphore change in flight, that a kill leaves undecided. */
	_Atomic int pend_counter;
	_Atomic int pend_posix;
	/* Queue consumers receive here, where the parent can look. */
	struct kipc_msg d[BATCH];
	unsigned char buf[BATCH][MIXED_MSGSIZE];
};

struct ring_view {
	_Atomic uint32_t *head, *tail, *wake_data, *wake_room;
	struct kipc_ring_desc *desc;
	unsigned char *slot;
	uint32_t slots, slot_size;
	size_t map_size;
};

struct world {
	_Atomic int stop;
	_Atomic uint32_t next_gid;
	_Atomic uint32_t next_inst;
	_Atomic long errors;
	_Atomic int error_told;
	char first_error[512];
	_Atomic uint64_t sent_ok[NCHAN];
	_Atomic uint64_t expired;	/* calls that timed out or would block */
	_Atomic uint64_t rejected;	/* receives into too small a buffer */
	_Atomic long counter_applied;
	_Atomic long posix_applied;
	_Atomic long region_commits;
	_Atomic uint64_t sem_ops;
	_Atomic uint32_t ring_last[2];	/* id + 1 of the last message taken */
	int q[2], ring[2], sem, psem, region;
	struct ring_view rv[2];
	struct rgn *rg;
	_Atomic uint32_t *pwords;
	struct mrec *rec;
	_Atomic unsigned char *killed;	/* [pid] */
	long pid_max;
	pid_t parent;
	struct worker w[NWORKERS];
};

static struct world *W;

static const struct kipc_timeout patience = { .tv_sec = PATIENCE_MS / 1000 };

static unsigned int chaos_seconds(void)
{
	const char *env = getenv("KIPC_CHAOS_SECONDS");

	return env && atoi(env) > 0 ? atoi(env) : 6;
}

static void *shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static __attribute__((format(printf, 1, 2))) void fail(const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&W->errors, 1);
	if (atomic_exchange(&W->error_told, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(W->first_error, sizeof(W->first_error), fmt, ap);
	va_end(ap);
}

/* Randomness: xorshift, seeded per process. */
static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 32;
}

static uint32_t rnd_below(uint32_t n)
{
	return rnd() % n;
}

static void seed(void)
{
	rng ^= ((uint64_t)getpid() << 32) ^ (uint64_t)kt_now_ms() * 2654435761u;
	rnd();
}

/*
 * A wait of a blocking call: none, tiny (relative or absolute, on either
 * clock: they expire all the time), or patient.  Sets the call's flags.
 */
static void pick_wait(uint32_t *flags, struct kipc_timeout *to)
{
	memset(to, 0, sizeof(*to));
	switch (rnd_below(8)) {
	case 0:
		*flags = KIPC_F_NONBLOCK;
		break;
	case 1:
	case 2:
		*flags = KIPC_F_TIMED;
		to->tv_nsec = rnd_below(2000000);
		to->clockid = CLOCK_MONOTONIC;
		break;
	case 3:
		*flags = KIPC_F_TIMED | KIPC_F_ABSTIME;
		*to = kt_abs_ms(rnd_below(2) ? CLOCK_MONOTONIC : CLOCK_REALTIME,
				rnd_below(3));
		break;
	default:
		*flags = KIPC_F_TIMED;
		*to = patience;
		break;
	}
}

/* A wait that ends soon whatever happens: nonblocking or tiny. */
static void pick_brief(uint32_t *flags, struct kipc_timeout *to)
{
	do
		pick_wait(flags, to);
	while ((*flags & (KIPC_F_TIMED | KIPC_F_ABSTIME)) == KIPC_F_TIMED &&
	       to->tv_sec);
}

static void enter_call(struct worker *w, int call)
{
	alarm(WATCHDOG_S);
	atomic_store(&w->in_call, call);
}

static void leave_call(struct worker *w)
{
	atomic_store(&w->in_call, CALL_NONE);
}

/* Messages */

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* The payload of message @gid: a function of its id and record. */
static void make_payload(uint32_t gid, const struct mrec *r, unsigned char *out)
{
	uint32_t x = gid * 2654435761u ^ 0x5bd1e995u, h[4];
	size_t i;

	for (i = 0; i < r->len; i++) {
		x = x * 1103515245u + 12345u;
		out[i] = x >> 16;
	}
	if (r->len >= HDR) {
		h[0] = gid;
		h[1] = r->inst;
		h[2] = r->seq;
		h[3] = fnv1a(out + HDR, r->len - HDR);
		memcpy(out, h, HDR);
	}
}

/* Record a new message; its id, or -1 once the table is full. */
static int64_t new_msg(uint32_t inst, uint32_t *seq, int chan, uint32_t len,
		       uint8_t key)
{
	uint32_t gid = atomic_fetch_add(&W->next_gid, 1);
	struct mrec *r;

	if (gid >= MAX_GIDS)
		return -1;
	r = &W->rec[gid];
	r->inst = inst;
	r->seq = (*seq)++;
	r->len = len;
	r->key = key;
	r->chan = chan;
	atomic_store_explicit(&r->status, ST_PENDING, memory_order_release);
	return gid;
}

static uint32_t gids_used(void)
{
	uint32_t n = atomic_load(&W->next_gid);

	return n < MAX_GIDS ? n : MAX_GIDS;
}

/* Is @buf message @gid of @chan, whole and unchanged? */
static bool check_msg(int chan, uint32_t gid, const void *buf, uint32_t len)
{
	static unsigned char expect[MIXED_MSGSIZE];
	struct mrec *r;
	int st;

	if (gid >= gids_used()) {
		fail("chan %d: message %u was never sent", chan, gid);
		return false;
	}
	r = &W->rec[gid];
	st = atomic_load_explicit(&r->status, memory_order_acquire);
	if (st != ST_PENDING && st != ST_SENT) {
		fail("chan %d: message %u delivered, status %d", chan, gid, st);
		return false;
	}
	if (r->chan != chan || r->len != len) {
		fail("chan %d: message %u has %u bytes; %u were sent on chan %d",
		     chan, gid, len, r->len, r->chan);
		return false;
	}
	make_payload(gid, r, expect);
	if (memcmp(buf, expect, len)) {
		fail("chan %d: message %u (%u bytes) is corrupt", chan, gid, len);
		return false;
	}
	return true;
}

static void count_msg(int chan, uint32_t gid)
{
	if (atomic_fetch_add(&W->rec[gid].seen, 1))
		fail("chan %d: message %u delivered twice", chan, gid);
}

/* Per consumer: id + 1 of the last message of a producer and key. */
static uint32_t last_gid[MAX_INST][NPRIO];

static void check_order(int chan, uint32_t gid, unsigned int key)
{
	const struct mrec *r = &W->rec[gid];
	uint32_t *last;

	if (r->inst >= MAX_INST || key >= NPRIO)
		return;
	last = &last_gid[r->inst][key];
	if (*last > gid)
		fail("chan %d: producer %u, key %u: message %u after %u",
		     chan, r->inst, key, gid, *last - 1);
	*last = gid + 1;
}

/* Queue producers */

static int run_queue_producer(struct worker *w, int chan)
{
	static unsigned char bufs[BATCH][MIXED_MSGSIZE];
	uint32_t maxlen = chan == Q_MIXED ? MIXED_MSGSIZE : TYPED_MSGSIZE;
	uint32_t gids[BATCH], seq = 0, flags, len, prio, sent;
	struct kipc_msg d[BATCH];
	struct kipc_timeout to;
	int i, n, ret;
	int64_t gid;
	uint8_t key;

	while (!atomic_load(&W->stop)) {
		n = rnd_below(4) ? 1 : 2 + rnd_below(BATCH - 1);
		for (i = 0; i < n; i++) {
			prio = rnd_below(NPRIO);
			if (chan == Q_MIXED) {
				len = rnd_below(maxlen + 1);
				key = prio;
			} else {
				len = HDR + rnd_below(maxlen - HDR + 1);
				key = 1 + rnd_below(NTYPES);
			}
			gid = new_msg(w->inst, &seq, chan, len, key);
			if (gid < 0)
				break;
			gids[i] = gid;
			make_payload(gid, &W->rec[gid], bufs[i]);
			d[i] = (struct kipc_msg){
				.buf = (uintptr_t)bufs[i], .len = len,
				.prio = prio,
				.type = chan == Q_MIXED ? gid + 1 : key,
			};
		}
		n = i;
		if (!n) {		/* the table is full: idle */
			usleep(10000);
			continue;
		}
		pick_wait(&flags, &to);
		enter_call(w, CALL_SEND);
		ret = kt_xfer(W->q[chan], KIPC_IOC_SEND, d, n, flags, &to);
		leave_call(w);
		/* The first @sent went, the others did not. */
		sent = ret > 0 ? ret : 0;
		for (i = 0; i < n; i++)
			atomic_store(&W->rec[gids[i]].status,
				     i < (int)sent ? ST_SENT : ST_FAILED);
		atomic_fetch_add(&W->sent_ok[chan], sent);
		if (ret == -ETIMEDOUT || ret == -EAGAIN) {
			atomic_fetch_add(&W->expired, 1);
		} else if (ret <= 0) {
			fail("chan %d: send of %d: %s", chan, n, strerror(-ret));
			return 1;
		}
	}
	return 0;
}

/* Queue consumers */

/* Account descriptor @i of @w's last receive; false if it was bad. */
static bool consume_desc(struct worker *w, int chan, int i, int mode,
			 bool order)
{
	struct kipc_msg *d = &w->d[i];
	const unsigned char *buf = w->buf[i];
	uint32_t gid;

	if (d->len != d->msg_len || (d->flags & KIPC_MSG_TRUNCATED)) {
		fail("chan %d: received %u of %u bytes", chan, d->len, d->msg_len);
		return false;
	}
	if (chan == Q_MIXED) {
		gid = d->type - 1;
	} else if (d->len < HDR) {
		fail("chan %d: a message of %u bytes", chan, d->len);
		return false;
	} else {
		memcpy(&gid, buf, sizeof(gid));
	}
	if (!check_msg(chan, gid, buf, d->len))
		return false;
	/* The mixed queue's key is the priority, the typed one's the type. */
	if (chan == Q_MIXED ? d->prio != W->rec[gid].key :
			      d->type != W->rec[gid].key) {
		fail("chan %d: message %u came with priority %u, type %lld",
		     chan, gid, d->prio, (long long)d->type);
		return false;
	}
	count_msg(chan, gid);
	if (order)
		/* POSIX order holds within a priority, SysV within a type. */
		check_order(chan, gid, chan == Q_TYPED || mode == 0 ?
				       W->rec[gid].key : 0);
	return true;
}

/*
 * Mixed queue, @mode 0: POSIX order; 1: SysV, any type (arrival order);
 * 2: SysV, the lowest type up to a recent id.  Typed queue: SysV with a
 * random selector each time.
 */
static int run_queue_consumer(struct worker *w, int chan, int mode)
{
	uint32_t maxlen = chan == Q_MIXED ? MIXED_MSGSIZE : TYPED_MSGSIZE;
	uint32_t flags, sel_flags;
	struct kipc_timeout to;
	int i, n, ret, t;
	int64_t type;
	bool small;

	while (!atomic_load(&W->stop)) {
		n = rnd_below(3) ? 1 : 2 + rnd_below(BATCH - 1);
		small = rnd_below(16) == 0;
		sel_flags = 0;
		type = 0;
		if (chan == Q_MIXED) {
			if (mode == 0 && !small && rnd_below(2))
				sel_flags = KIPC_F_POSIX_SIZE;
			if (mode >= 1)
				sel_flags = KIPC_F_SYSV;
			if (mode == 2)
				type = -(int64_t)(atomic_load(&W->next_gid) + 1 -
						  rnd_below(64));
			if (type > 0)
				type = -1;
		} else {
			sel_flags = KIPC_F_SYSV;
			t = 1 + rnd_below(NTYPES);
			switch (rnd_below(4)) {
			case 0:
				break;
			case 1:
				type = t;
				break;
			case 2:
				type = -t;
				break;
			default:
				type = t;
				sel_flags |= KIPC_F_EXCEPT;
				break;
			}
		}
		for (i = 0; i < n; i++)
			w->d[i] = (struct kipc_msg){
				.buf = (uintptr_t)w->buf[i],
				.len = small ? 64 : maxlen,
				.type = type,
				.msg_len = SENTINEL,
			};
		pick_wait(&flags, &to);
		enter_call(w, CALL_RECV);
		ret = kt_xfer(W->q[chan], KIPC_IOC_RECV, w->d, n,
			      flags | sel_flags, &to);
		leave_call(w);
		if (ret == -ETIMEDOUT || ret == -EAGAIN || ret == -ENOMSG) {
			atomic_fetch_add(&W->expired, 1);
			continue;
		}
		if (small && (ret == -EMSGSIZE || ret == -E2BIG)) {
			atomic_fetch_add(&W->rejected, 1);
			continue;
		}
		if (ret <= 0) {
			fail("chan %d: receive (mode %d, selector %lld, flags %#x): %s",
			     chan, mode, (long long)type, flags | sel_flags,
			     strerror(-ret));
			return 1;
		}
		for (i = 0; i < ret; i++)
			if (!consume_desc(w, chan, i, mode, true))
				return 1;
	}
	return 0;
}

/*
 * A consumer was killed: the messages the kernel handed it that it had not
 * counted yet are in its receive buffers.  Stale descriptors name messages
 * counted long ago.
 */
static int recover_consumer(struct worker *w, int chan)
{
	uint32_t gid;
	int i, n = 0;

	for (i = 0; i < BATCH; i++) {
		struct kipc_msg *d = &w->d[i];

		if (d->msg_len == SENTINEL)
			continue;
		if (chan == Q_MIXED)
			gid = d->type - 1;
		else if (d->len >= HDR)
			memcpy(&gid, w->buf[i], sizeof(gid));
		else
			continue;
		if (gid < gids_used() && !atomic_load(&W->rec[gid].seen))
			n += consume_desc(w, chan, i, 0, false);
		d->msg_len = SENTINEL;
	}
	return n;
}

/* Rings */

static int ring_wait(struct worker *w, int r, uint32_t events)
{
	struct kipc_ring_wait rw = { .events = events };
	int ret;

	pick_wait(&rw.flags, &rw.timeout);
	enter_call(w, CALL_RING);
	ret = kt_ret(ioctl(W->ring[r], KIPC_IOC_RING_WAIT, &rw));
	leave_call(w);
	if (ret == -ETIMEDOUT || ret == -EAGAIN) {
		atomic_fetch_add(&W->expired, 1);
		return 0;
	}
	if (ret <= 0 || (ret & ~events)) {
		fail("ring %d: wait for %#x: %d (%s)", r, events, ret,
		     ret < 0 ? strerror(-ret) : "events");
		return -1;
	}
	return 0;
}

static int ring_wake(int r, _Atomic uint32_t *flag, unsigned long events)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(flag, memory_order_relaxed))
		return 0;
	if (ioctl(W->ring[r], KIPC_IOC_RING_WAKE, events)) {
		fail("ring %d: wake %#lx: %s", r, events, strerror(errno));
		return -1;
	}
	return 0;
}

static int run_ring_producer(struct worker *w, int r)
{
	struct ring_view *v = &W->rv[r];
	uint32_t head, tail, len, seq = 0, slot;
	int64_t gid;

	while (!atomic_load(&W->stop)) {
		head = atomic_load_explicit(v->head, memory_order_relaxed);
		tail = atomic_load_explicit(v->tail, memory_order_acquire);
		if (head - tail > v->slots) {
			fail("ring %d: head %u, tail %u", r, head, tail);
			return 1;
		}
		if (head - tail == v->slots) {
			if (ring_wait(w, r, KIPC_RING_ROOM))
				return 1;
			continue;
		}
		len = rnd_below(v->slot_size + 1);
		gid = new_msg(w->inst, &seq, R_FIRST + r, len, 0);
		if (gid < 0) {
			usleep(10000);
			continue;
		}
		slot = head & (v->slots - 1);
		make_payload(gid, &W->rec[gid], v->slot + (size_t)slot * v->slot_size);
		v->desc[slot].len = len;
		v->desc[slot].tag = gid;
		atomic_store_explicit(v->head, head + 1, memory_order_release);
		atomic_store(&W->rec[gid].status, ST_SENT);
		atomic_fetch_add(&W->sent_ok[R_FIRST + r], 1);
		if (ring_wake(r, v->wake_data, KIPC_RING_DATA))
			return 1;
	}
	return 0;
}

/*
 * Take the next message off ring @r: 1, 0 if there is none, -1 if it was
 * bad.  A consumer notes the message in ring_last before counting it and
 * moves tail after, so that its successor, finding the same message at
 * tail after a kill, knows whether it was counted.
 */
static int ring_take(int r)
{
	struct ring_view *v = &W->rv[r];
	uint32_t head, tail, last, gid, len, slot;
	const unsigned char *p;

	tail = atomic_load_explicit(v->tail, memory_order_relaxed);
	head = atomic_load_explicit(v->head, memory_order_acquire);
	if (head == tail)
		return 0;
	if (head - tail > v->slots) {
		fail("ring %d: head %u, tail %u", r, head, tail);
		return -1;
	}
	slot = tail & (v->slots - 1);
	len = v->desc[slot].len;
	gid = v->desc[slot].tag;
	p = v->slot + (size_t)slot * v->slot_size;
	if (len > v->slot_size) {
		fail("ring %d: a descriptor of %u bytes", r, len);
		return -1;
	}
	last = atomic_load(&W->ring_last[r]);
	if (last != gid + 1 || !atomic_load(&W->rec[gid].seen)) {
		if (!check_msg(R_FIRST + r, gid, p, len))
			return -1;
		if (last > gid + 1)
			fail("ring %d: message %u after %u", r, gid, last - 1);
		atomic_store(&W->ring_last[r], gid + 1);
		count_msg(R_FIRST + r, gid);
	}
	atomic_store_explicit(v->tail, tail + 1, memory_order_release);
	return ring_wake(r, v->wake_room, KIPC_RING_ROOM) ? -1 : 1;
}

static int run_ring_consumer(struct worker *w, int r)
{
	int ret;

	while (!atomic_load(&W->stop)) {
		ret = ring_take(r);
		if (ret < 0)
			return 1;
		if (!ret && ring_wait(w, r, KIPC_RING_DATA))
			return 1;
	}
	return 0;
}

/* Semaphores and the region */

static struct kipc_sembuf sop(uint32_t num, int32_t delta, uint32_t flags)
{
	struct kipc_sembuf b = { .num = num, .delta = delta, .flags = flags };

	return b;
}

static bool sem_expired(int ret)
{
	if (ret == -ETIMEDOUT || ret == -EAGAIN) {
		atomic_fetch_add(&W->expired, 1);
		return true;
	}
	return false;
}

static int semop_call(struct worker *w, const struct kipc_sembuf *ops,
		      uint32_t nops, uint32_t flags,
		      const struct kipc_timeout *to)
{
	int ret;

	enter_call(w, CALL_SEM);
	ret = kt_semop(W->sem, ops, nops, flags, to);
	leave_call(w);
	atomic_fetch_add(&W->sem_ops, 1);
	return ret;
}

static bool region_consistent(const struct rcopy *c)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < RWORDS; i++)
		sum += c->word[i];
	return sum == c->sum;
}

/* Update the region under the mutex: copy, modify, flip. */
static int sem_region(struct worker *w)
{
	static uint64_t last_gen;
	struct kipc_sembuf lock[2] = { sop(S_MUTEX, -1, KIPC_SEMOP_UNDO),
				       sop(S_TOKENS, -1, KIPC_SEMOP_UNDO) };
	struct kipc_sembuf unlock[2] = { sop(S_MUTEX, 1, KIPC_SEMOP_UNDO),
					 sop(S_TOKENS, 1, KIPC_SEMOP_UNDO) };
	uint32_t nops = rnd_below(4) ? 1 : 2, flags, cur, k, j, add;
	struct rgn *rg = W->rg;
	struct kipc_timeout to;
	struct rcopy *c, *o;
	pid_t prev;
	int ret;

	pick_wait(&flags, &to);
	ret = semop_call(w, lock, nops, flags, &to);
	if (sem_expired(ret))
		return 0;
	if (ret) {
		fail("region lock: %s", strerror(-ret));
		return 1;
	}
	prev = atomic_exchange(&rg->owner, getpid());
	if (prev && (prev >= W->pid_max || !atomic_load(&W->killed[prev])))
		fail("region: mutex taken while %d held it", prev);
	cur = atomic_load_explicit(&rg->cur, memory_order_acquire) & 1;
	c = &rg->copy[cur];
	o = &rg->copy[!cur];
	if (!region_consistent(c) || c->gen < last_gen)
		fail("region: commit %llu inconsistent (last seen %llu)",
		     (unsigned long long)c->gen, (unsigned long long)last_gen);
	memcpy(o->word, c->word, sizeof(o->word));
	o->sum = c->sum;
	for (k = 1 + rnd_below(8); k; k--) {
		j = rnd_below(RWORDS);
		add = rnd_below(1000);
		o->word[j] += add;
		o->sum += add;
	}
	o->gen = c->gen + 1;
	last_gen = o->gen;
	atomic_store_explicit(&rg->cur, !cur, memory_order_release);
	atomic_fetch_add(&W->region_commits, 1);
	atomic_store(&rg->owner, 0);
	ret = semop_call(w, unlock, nops, 0, NULL);
	if (ret) {
		fail("region unlock: %s", strerror(-ret));
		return 1;
	}
	return 0;
}

/* Hold a few tokens with undo for a moment. */
static int sem_tokens(struct worker *w)
{
	int32_t k = 1 + rnd_below(3);
	struct kipc_sembuf take = sop(S_TOKENS, -k, KIPC_SEMOP_UNDO);
	struct kipc_sembuf give = sop(S_TOKENS, k, KIPC_SEMOP_UNDO);
	struct kipc_timeout to;
	uint32_t flags;
	int ret;

	pick_wait(&flags, &to);
	ret = semop_call(w, &take, 1, flags, &to);
	if (sem_expired(ret))
		return 0;
	if (ret) {
		fail("tokens: take %d: %s", k, strerror(-ret));
		return 1;
	}
	usleep(rnd_below(500));
	ret = semop_call(w, &give, 1, 0, NULL);
	if (ret) {
		fail("tokens: give %d: %s", k, strerror(-ret));
		return 1;
	}
	return 0;
}

/* Change the counter without undo: the parent adds up what applied. */
static int sem_counter(struct worker *w)
{
	int32_t delta = (1 + rnd_below(4)) * (rnd_below(2) ? 1 : -1);
	struct kipc_sembuf op = sop(S_COUNTER, delta,
				    rnd_below(4) ? 0 : KIPC_SEMOP_NOWAIT);
	struct kipc_timeout to;
	uint32_t flags;
	int ret;

	pick_wait(&flags, &to);
	atomic_store(&w->pend_counter, delta);
	ret = semop_call(w, &op, 1, flags, &to);
	if (!ret)
		atomic_fetch_add(&W->counter_applied, delta);
	atomic_store(&w->pend_counter, 0);
	if (!ret || sem_expired(ret))
		return 0;
	fail("counter %+d: %s", delta, strerror(-ret));
	return 1;
}

/* The POSIX semaphore, through the mapped words or the ioctl. */
static int sem_posix(struct worker *w)
{
	bool post = rnd_below(2), fast = rnd_below(2);
	struct kipc_timeout to;
	uint32_t flags;
	int ret;

	atomic_store(&w->pend_posix, post ? 1 : -1);
	if (post) {
		ret = fast ? kt_fast_post(W->psem, W->pwords, 0,
					  KIPC_SEM_VALUE_MAX) :
			     kt_sem1(W->psem, 0, 1, 0, 0, NULL);
	} else {
		ret = fast ? kt_fast_trywait(&W->pwords[0]) : -EBUSY;
		if (ret == -EBUSY) {
			/* All three could wait here, with nobody to post. */
			pick_brief(&flags, &to);
			enter_call(w, CALL_SEM);
			ret = kt_sem1(W->psem, 0, -1, 0, flags, &to);
			leave_call(w);
		}
	}
	if (!ret)
		atomic_fetch_add(&W->posix_applied, post ? 1 : -1);
	atomic_store(&w->pend_posix, 0);
	atomic_fetch_add(&W->sem_ops, 1);
	if (!ret || sem_expired(ret))
		return 0;
	fail("posix %s: %s", post ? "post" : "wait", strerror(-ret));
	return 1;
}

static int run_sem_worker(struct worker *w)
{
	int ret;

	while (!atomic_load(&W->stop)) {
		switch (rnd_below(4)) {
		case 0:
			ret = sem_region(w);
			break;
		case 1:
			ret = sem_tokens(w);
			break;
		case 2:
			ret = sem_counter(w);
			break;
		default:
			ret = sem_posix(w);
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int worker_main(int i)
{
	struct worker *w = &W->w[i];
	int arg = cast[i].arg;

	switch (cast[i].role) {
	case MIXED_PROD:
		return run_queue_producer(w, Q_MIXED);
	case TYPED_PROD:
		return run_queue_producer(w, Q_TYPED);
	case MIXED_CONS:
		return run_queue_consumer(w, Q_MIXED, arg);
	case TYPED_CONS:
		return run_queue_consumer(w, Q_TYPED, arg);
	case RING_PROD:
		return run_ring_producer(w, arg);
	case RING_CONS:
		return run_ring_consumer(w, arg);
	case SEM_WORKER:
		return run_sem_worker(w);
	}
	return 1;
}

static pid_t spawn(int i)
{
	struct worker *w = &W->w[i];
	pid_t pid;
	int j;

	w->inst = atomic_fetch_add(&W->next_inst, 1);
	atomic_store(&w->in_call, CALL_NONE);
	atomic_store(&w->pend_counter, 0);
	atomic_store(&w->pend_posix, 0);
	for (j = 0; j < BATCH; j++)
		w->d[j].msg_len = SENTINEL;
	pid = fork();
	if (pid == 0) {
		/* Die with the test, wherever it stops. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != W->parent)
			_exit(1);
		seed();
		_exit(worker_main(i));
	}
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		pid = 0;
	}
	/* Never -1: kill(-1, ...) would signal every process we may. */
	w->pid = pid;
	return pid;
}

/* The parent's side */

struct tally {
	unsigned long kills, in_call[NCALLS];
	long counter_lo, counter_hi, posix_lo, posix_hi;
	unsigned long sem_kills;
	unsigned long recovered;	/* messages found on killed receivers */
};

static void kill_one(int i, struct tally *t)
{
	struct worker *w = &W->w[i];
	int call, status;
	long pend;

	if (w->pid <= 0)
		return;
	call = atomic_load(&w->in_call);
	atomic_store(&W->killed[w->pid], 1);
	kill(w->pid, SIGKILL);
	status = kt_wait(w->pid);
	if (status != 128 + SIGKILL)
		fail("%s %d ended with status %d before it was killed%s",
		     role_name[cast[i].role], i, status,
		     status == 128 + SIGALRM ? " (stuck: watchdog)" : "");
	t->kills++;
	t->in_call[call < NCALLS ? call : 0]++;
	switch (cast[i].role) {
	case MIXED_CONS:
		t->recovered += recover_consumer(w, Q_MIXED);
		break;
	case TYPED_CONS:
		t->recovered += recover_consumer(w, Q_TYPED);
		break;
	case SEM_WORKER:
		t->sem_kills++;
		pend = atomic_load(&w->pend_counter);
		if (pend < 0)
			t->counter_lo += pend;
		else
			t->counter_hi += pend;
		pend = atomic_load(&w->pend_posix);
		if (pend < 0)
			t->posix_lo += pend;
		else
			t->posix_hi += pend;
		break;
	default:
		break;
	}
	spawn(i);
}

/* Any worker; half the time one blocked in a call, if there is one. */
static int pick_victim(void)
{
	int blocked[NWORKERS], n = 0;
	size_t i;

	if (rnd_below(2))
		for (i = 0; i < NWORKERS; i++)
			if (atomic_load(&W->w[i].in_call) != CALL_NONE)
				blocked[n++] = i;
	return n ? blocked[rnd_below(n)] : (int)rnd_below(NWORKERS);
}

FIXTURE(chaos) {
	int dev;
	struct kipc_info base;
};

FIXTURE_SETUP(chaos)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, kt_info(self->dev, &self->base));
}

FIXTURE_TEARDOWN(chaos)
{
	close(self->dev);
}

/* After the test closed everything: the module's counters are back. */
static bool back_to_baseline(int dev, const struct kipc_info *base,
			     struct kipc_info *now)
{
	int i, t;

	for (i = 0; i < 5000; i++) {
		if (kt_info(dev, now))
			return false;
		for (t = 0; t < KIPC_TYPE_COUNT; t++)
			if (now->objects[t] != base->objects[t])
				break;
		if (t == KIPC_TYPE_COUNT && now->msgs == base->msgs &&
		    now->bytes == base->bytes)
			return true;
		usleep(1000);
	}
	return false;
}

#define EXPECT_BASELINE(dev, base) do {					\
	struct kipc_info __now;						\
	bool __ok = back_to_baseline((dev), (base), &__now);		\
	EXPECT_TRUE(__ok) TH_LOG("objects %llu/%llu, msgs %llu/%llu, bytes %llu/%llu", \
		(unsigned long long)__now.objects[0],			\
		(unsigned long long)(base)->objects[0],			\
		(unsigned long long)__now.msgs,				\
		(unsigned long long)(base)->msgs,			\
		(unsigned long long)__now.bytes,			\
		(unsigned long long)(base)->bytes);			\
} while (0)

static int map_ring(int fd, struct ring_view *v)
{
	struct kipc_ring_info info;
	struct kipc_ring_hdr *hdr;
	void *p;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, KIPC_IOC_RING_INFO, &info))
		return -errno;
	p = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	hdr = p;
	v->head = (_Atomic uint32_t *)&hdr->head;
	v->tail = (_Atomic uint32_t *)&hdr->tail;
	v->wake_data = (_Atomic uint32_t *)&hdr->wake_data;
	v->wake_room = (_Atomic uint32_t *)&hdr->wake_room;
	v->desc = (struct kipc_ring_desc *)((char *)p + info.desc_offset);
	v->slot = (unsigned char *)p + info.slot_offset;
	v->slots = info.slots;
	v->slot_size = info.slot_size;
	v->map_size = info.map_size;
	return 0;
}

static int open_world(int dev)
{
	struct kipc_ring_attr ring = {
		.slots = RING_SLOTS, .slot_size = RING_SLOT
	};
	struct kipc_region_attr region = { .size = REGION_SIZE };
	int32_t init[NSEMS] = { 1, TOKENS, COUNTER_START };
	FILE *f;
	void *p;
	int r;

	W->parent = getpid();
	f = fopen("/proc/sys/kernel/pid_max", "r");
	if (!f || fscanf(f, "%ld", &W->pid_max) != 1)
		return -1;
	fclose(f);
	W->killed = shared_alloc(W->pid_max);
	W->rec = shared_alloc(MAX_GIDS * sizeof(*W->rec));
	if (!W->killed || !W->rec)
		return -2;
	W->q[Q_MIXED] = kt_anon_queue(dev, MIXED_MSGS, MIXED_MSGSIZE);
	W->q[Q_TYPED] = kt_anon_queue(dev, TYPED_MSGS, TYPED_MSGSIZE);
	if (W->q[Q_MIXED] < 0 || W->q[Q_TYPED] < 0)
		return -3;
	for (r = 0; r < 2; r++) {
		W->ring[r] = kt_open(dev, KIPC_TYPE_RING, NULL,
				     KIPC_O_CREAT | KIPC_O_RDWR, 0600, &ring,
				     sizeof(ring), NULL);
		if (W->ring[r] < 0 || map_ring(W->ring[r], &W->rv[r]))
			return -4;
	}
	W->sem = kt_anon_sem(dev, NSEMS, 0);
	if (W->sem < 0 || kt_setall(W->sem, init, NSEMS))
		return -5;
	W->psem = kt_sem(dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1,
			 KIPC_SEM_POSIX, 0, NULL);
	if (W->psem < 0)
		return -6;
	W->pwords = kt_sem_map(W->psem, 1, PROT_READ | PROT_WRITE);
	if (!W->pwords)
		return -7;
	W->region = kt_open(dev, KIPC_TYPE_REGION, NULL,
			    KIPC_O_CREAT | KIPC_O_RDWR, 0600, &region,
			    sizeof(region), NULL);
	if (W->region < 0)
		return -8;
	p = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 W->region, 0);
	if (p == MAP_FAILED)
		return -9;
	W->rg = p;
	return 0;
}

static void close_world(void)
{
	int r;

	munmap(W->rg, REGION_SIZE);
	munmap((void *)W->pwords, sizeof(uint32_t));
	for (r = 0; r < 2; r++) {
		munmap((void *)W->rv[r].head, W->rv[r].map_size);
		close(W->ring[r]);
	}
	close(W->region);
	close(W->psem);
	close(W->sem);
	close(W->q[Q_MIXED]);
	close(W->q[Q_TYPED]);
	munmap(W->rec, MAX_GIDS * sizeof(*W->rec));
	munmap((void *)W->killed, W->pid_max);
}

/* Take what the workers left in queue @chan; how many, or -1. */
static long drain_queue(int chan)
{
	struct worker *w = &W->w[0];
	long n = 0;
	int ret;

	for (;;) {
		w->d[0] = (struct kipc_msg){
			.buf = (uintptr_t)w->buf[0], .len = MIXED_MSGSIZE,
			.msg_len = SENTINEL,
		};
		ret = kt_xfer(W->q[chan], KIPC_IOC_RECV, w->d, 1,
			      KIPC_F_NONBLOCK | KIPC_F_SYSV, NULL);
		if (ret == -ENOMSG)
			return n;
		if (ret != 1 || !consume_desc(w, chan, 0, 0, false))
			return -1;
		n++;
	}
}

static long drain_ring(int r)
{
	long n = 0;
	int ret;

	while ((ret = ring_take(r)) > 0)
		n++;
	return ret ? -1 : n;
}

/* No task waits on anything, as the objects and netlink tell. */
static void check_no_waiters(struct __test_metadata *_metadata)
{
	int fds[] = { W->q[0], W->q[1], W->ring[0], W->ring[1], W->sem,
		      W->psem, W->region };
	uint32_t ids[ARRAY_SIZE(fds)];
	struct knl_objs l = { 0 };
	struct kipc_stat st;
	struct knl_obj *o;
	struct knl k;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		ASSERT_EQ(0, kt_stat(fds[i], &st));
		ids[i] = st.id;
		if (st.type == KIPC_TYPE_QUEUE) {
			EXPECT_EQ(0, st.queue.recv_waiters) TH_LOG("object %zu", i);
			EXPECT_EQ(0, st.queue.send_waiters) TH_LOG("object %zu", i);
		} else if (st.type == KIPC_TYPE_RING) {
			EXPECT_EQ(0, st.ring.data_waiters) TH_LOG("object %zu", i);
			EXPECT_EQ(0, st.ring.room_waiters) TH_LOG("object %zu", i);
		} else if (st.type == KIPC_TYPE_SEM) {
			EXPECT_EQ(0, st.sem.waiters) TH_LOG("object %zu", i);
			EXPECT_EQ(0, st.sem.undos) TH_LOG("object %zu", i);
		} else {
			/* The parent's own mapping is the only one left. */
			EXPECT_EQ(1, st.region.nattch);
		}
	}
	ASSERT_EQ(0, knl_open(&k)) TH_LOG("kipc netlink family missing");
	ASSERT_EQ(0, knl_dump(&k, 0, &l));
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		o = knl_find(&l, ids[i]);
		ASSERT_NE(NULL, o) TH_LOG("object %u not in the dump", ids[i]);
		EXPECT_EQ(0, o->queue.recv_waiters + o->queue.send_waiters +
			     o->ring.data_waiters + o->ring.room_waiters + o->sem.waiters +
			     o->sem.undos) TH_LOG("object %u", ids[i]);
		if (o->has_region)
			EXPECT_EQ(1, o->region.nattch);
	}
	knl_objs_free(&l);
	knl_close(&k);
}

/*
 * The region's last commit is whole, counts every commit (a killed writer
 * may have flipped without counting), and pread() sees the mapping.
 */
static void check_region(struct __test_metadata *_metadata,
			 unsigned long writer_kills)
{
	static unsigned char copy[REGION_SIZE];
	const struct rcopy *c = &W->rg->copy[W->rg->cur & 1];
	long commits = W->region_commits;

	EXPECT_TRUE(region_consistent(c));
	EXPECT_LE(commits, c->gen);
	EXPECT_GE(commits + (long)writer_kills, c->gen);
	EXPECT_EQ(REGION_SIZE, pread(W->region, copy, REGION_SIZE, 0));
	EXPECT_EQ(0, memcmp(copy, W->rg, REGION_SIZE));
}

/* One run of the whole cast for KIPC_CHAOS_SECONDS, killing or not. */
static void chaos_run(struct __test_metadata *_metadata, int dev, bool kills)
{
	unsigned long delivered[NCHAN] = { 0 }, total = 0;
	unsigned long lost = 0, dup = 0, ghost = 0, pending = 0;
	struct kipc_stat st1, st2;
	struct tally t = { 0 };
	int64_t deadline;
	int32_t vals[NSEMS];
	long drained, want;
	uint32_t gid, n;
	size_t i;
	int status, chan;

	W = shared_alloc(sizeof(*W));
	ASSERT_NE(NULL, W);
	ASSERT_EQ(0, open_world(dev));
	seed();

	for (i = 0; i < NWORKERS; i++)
		ASSERT_LT(0, spawn(i));
	deadline = kt_now_ms() + 1000LL * chaos_seconds();
	while (kt_now_ms() < deadline) {
		if (!kills) {
			usleep(50000);
			continue;
		}
		usleep(10000 + rnd_below(60000));
		kill_one(pick_victim(), &t);
	}
	atomic_store(&W->stop, 1);
	for (i = 0; i < NWORKERS; i++) {
		if (W->w[i].pid <= 0)
			continue;	/* fork failed: already an error */
		status = kt_wait(W->w[i].pid);
		EXPECT_EQ(0, status) TH_LOG("%s %zu%s", role_name[cast[i].role], i,
					    status == 128 + SIGALRM ?
					    ": stuck (watchdog)" : "");
	}
	EXPECT_EQ(0, W->errors) TH_LOG("%ld errors, the first: %s",
				       (long)W->errors, W->first_error);

	/* Nobody is left waiting, and nobody holds undo. */
	check_no_waiters(_metadata);

	/* Queues: sent - received is what is left, and all of it is good. */
	for (chan = Q_MIXED; chan <= Q_TYPED; chan++) {
		ASSERT_EQ(0, kt_stat(W->q[chan], &st1));
		EXPECT_EQ(st1.queue.sent - st1.queue.received, st1.queue.msgs);
		drained = drain_queue(chan);
		EXPECT_EQ((long)st1.queue.msgs, drained) TH_LOG("chan %d: %s",
								chan, W->first_error);
		ASSERT_EQ(0, kt_stat(W->q[chan], &st2));
		EXPECT_EQ(0, st2.queue.msgs);
		EXPECT_EQ(0, st2.queue.bytes);
		EXPECT_EQ(st1.queue.sent, st2.queue.sent);
		EXPECT_EQ(st1.queue.received + drained, st2.queue.received);
	}
	for (chan = 0; chan < 2; chan++) {
		ASSERT_EQ(0, kt_stat(W->ring[chan], &st1));
		want = st1.ring.msgs;
		EXPECT_EQ(want, drain_ring(chan)) TH_LOG("ring %d: %s", chan,
							 W->first_error);
	}

	/* Every message: delivered once if sent, never if not. */
	n = gids_used();
	for (gid = 0; gid < n; gid++) {
		struct mrec *r = &W->rec[gid];
		int seen = r->seen;

		if (r->chan < NCHAN)
			delivered[r->chan] += seen == 1;
		dup += seen > 1;
		switch (r->status) {
		case ST_SENT:
			lost += !seen;
			break;
		case ST_PENDING:
			/* A killed sender's last: all or nothing. */
			pending++;
			break;
		default:
			ghost += seen != 0;
			break;
		}
	}
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, ghost);
	if (!kills)
		EXPECT_EQ(0, pending);
	EXPECT_EQ(0, W->errors) TH_LOG("%ld errors, the first: %s",
				       (long)W->errors, W->first_error);
	for (chan = 0; chan < NCHAN; chan++) {
		total += delivered[chan];
		if (chan <= Q_TYPED) {
			ASSERT_EQ(0, kt_stat(W->q[chan], &st2));
			EXPECT_EQ(delivered[chan], st2.queue.sent);
			EXPECT_EQ(delivered[chan], st2.queue.received);
		}
		if (kills) {
			EXPECT_LE(W->sent_ok[chan], delivered[chan]);
		} else {
			EXPECT_EQ(W->sent_ok[chan], delivered[chan])
				TH_LOG("chan %d", chan);
		}
	}

	/* Semaphores: undo gave everything back, and the rest adds up. */
	ASSERT_EQ(NSEMS, kt_getall(W->sem, vals, NSEMS));
	EXPECT_EQ(1, vals[S_MUTEX]);
	EXPECT_EQ(TOKENS, vals[S_TOKENS]);
	EXPECT_LE(COUNTER_START + W->counter_applied + t.counter_lo, vals[S_COUNTER]);
	EXPECT_GE(COUNTER_START + W->counter_applied + t.counter_hi, vals[S_COUNTER]);
	EXPECT_LE(W->posix_applied + t.posix_lo, kt_getval(W->psem, 0));
	EXPECT_GE(W->posix_applied + t.posix_hi, kt_getval(W->psem, 0));

	check_region(_metadata, kills ? t.sem_kills : 0);

	ksft_print_msg("messages stressed: %lu (mixed %lu, typed %lu, rings %lu + %lu), %lu expired or refused calls, %lu too small buffers\n",
		       total, delivered[Q_MIXED], delivered[Q_TYPED],
		       delivered[R_FIRST], delivered[R_FIRST + 1],
		       (unsigned long)W->expired, (unsigned long)W->rejected);
	ksft_print_msg("semaphore operations: %lu, region commits: %ld\n",
		       (unsigned long)W->sem_ops, (long)W->region_commits);
	if (kills) {
		ksft_print_msg("kills performed: %lu (in send %lu, recv %lu, semop %lu, ring wait %lu; %lu pending sends, %lu messages on killed receivers)\n",
			       t.kills, t.in_call[CALL_SEND],
			       t.in_call[CALL_RECV], t.in_call[CALL_SEM],
			       t.in_call[CALL_RING], pending, t.recovered);
		EXPECT_LT(0, t.kills);
	}
	/* The harness's child leaves with _exit(): flush what we told. */
	fflush(stdout);
	EXPECT_LT(0, total);

	close_world();
	munmap(W, sizeof(*W));
	W = NULL;
}

TEST_F_TIMEOUT(chaos, mixed_stress, 600)
{
	chaos_run(_metadata, self->dev, false);
	EXPECT_BASELINE(self->dev, &self->base);
}

TEST_F_TIMEOUT(chaos, random_sigkill, 600)
{
	chaos_run(_metadata, self->dev, true);
	EXPECT_BASELINE(self->dev, &self->base);
}

/*
 * Deterministic kills of each kind of waiter.  The world here is small:
 * the helpers above are not used.
 */

struct waiters {
	_Atomic int ready;
	_Atomic int64_t got[8];
};

static int recv_one(int q, int64_t type, struct waiters *s, int i)
{
	const struct kipc_timeout to = { .tv_sec = 20 };
	unsigned char buf[4096];
	struct kipc_msg m = { .buf = (uintptr_t)buf, .len = sizeof(buf),
			      .type = type };

	alarm(WATCHDOG_S);
	if (kt_recv_msg(q, &m, KIPC_F_SYSV | KIPC_F_TIMED, &to) < 0)
		return 1;
	atomic_store(&s->got[i], m.type);
	return 0;
}

static int send_big(int q, int64_t type)
{
	const struct kipc_timeout to = { .tv_sec = 20 };
	static unsigned char buf[4000];

	alarm(WATCHDOG_S);
	memset(buf, (int)type, sizeof(buf));
	return kt_send(q, buf, sizeof(buf), 0, type, KIPC_F_TIMED, &to) ? 1 : 0;
}

TEST_F_TIMEOUT(chaos, killed_queue_waiters_lose_nothing, 120)
{
	struct waiters *s = shared_alloc(sizeof(*s));
	unsigned char buf[4096], one = 1;
	struct kipc_stat st;
	uint32_t got = 0;
	pid_t pid[4];
	int q, i, ret;
	int64_t type;

	ASSERT_NE(NULL, s);
	q = kt_anon_queue(self->dev, 2, 4096);
	ASSERT_LE(0, q);

	/* Receivers of type 7 blocked, two of them killed. */
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(recv_one(q, i < 2 ? 7 : 8, s, i));
	}
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.recv_waiters == 4));
	for (i = 0; i < 2; i++) {
		kill(pid[i], SIGKILL);
		EXPECT_EQ(128 + SIGKILL, kt_wait(pid[i]));
	}
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.recv_waiters == 2));
	/* Nobody alive wants type 7: it must stay queued, not go to the dead. */
	ASSERT_EQ(0, kt_send(q, &one, 1, 0, 7, 0, NULL));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_EQ(1, st.queue.msgs);
	EXPECT_EQ(2, st.queue.recv_waiters);
	ASSERT_EQ(0, kt_send(q, &one, 1, 0, 8, 0, NULL));
	ASSERT_EQ(0, kt_send(q, &one, 1, 0, 8, 0, NULL));
	for (i = 2; i < 4; i++) {
		EXPECT_EQ(0, kt_wait(pid[i]));
		EXPECT_EQ(8, s->got[i]);
	}
	EXPECT_EQ(1, kt_recv(q, buf, sizeof(buf), NULL, 0,
			     KIPC_F_SYSV | KIPC_F_NONBLOCK, NULL));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_EQ(0, st.queue.msgs);
	EXPECT_EQ(0, st.queue.recv_waiters);

	/* Senders blocked on a full queue, two of them killed. */
	ASSERT_EQ(0, kt_send(q, &one, 1, 0, 1, 0, NULL));
	ASSERT_EQ(0, kt_send(q, &one, 1, 0, 1, 0, NULL));
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(send_big(q, 10 + i));
	}
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.send_waiters == 4));
	for (i = 0; i < 2; i++) {
		kill(pid[i], SIGKILL);
		EXPECT_EQ(128 + SIGKILL, kt_wait(pid[i]));
	}
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.send_waiters == 2));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(1, kt_recv(q, buf, sizeof(buf), NULL, 1,
				     KIPC_F_SYSV | KIPC_F_NONBLOCK, NULL));
	for (i = 2; i < 4; i++)
		EXPECT_EQ(0, kt_wait(pid[i]));
	/* Only the survivors' messages, whole. */
	for (i = 2; i < 4; i++) {
		ret = kt_recv(q, buf, sizeof(buf), NULL, 0,
			      KIPC_F_SYSV | KIPC_F_NONBLOCK, NULL);
		EXPECT_EQ(4000, ret);
		type = buf[0];
		EXPECT_TRUE(type == 12 || type == 13) TH_LOG("type %lld", (long long)type);
		EXPECT_EQ(0, memcmp(buf, buf + 1, 3999));
		got |= 1u << (type & 31);
	}
	EXPECT_EQ((1u << 12) | (1u << 13), got);
	EXPECT_EQ(-ENOMSG, kt_recv(q, buf, sizeof(buf), NULL, 0,
				   KIPC_F_SYSV | KIPC_F_NONBLOCK, NULL));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_EQ(0, st.queue.msgs);
	EXPECT_EQ(0, st.queue.send_waiters);
	EXPECT_EQ(st.queue.sent, st.queue.received);

	close(q);
	munmap(s, sizeof(*s));
	EXPECT_BASELINE(self->dev, &self->base);
}

/* Take @take of counter 0 with undo, then wait on counter 1 with undo. */
static int hold_and_wait(int fd, int32_t take)
{
	const struct kipc_timeout to = { .tv_sec = 20 };
	struct kipc_sembuf op = { .num = 0, .delta = -take,
				  .flags = KIPC_SEMOP_UNDO };

	alarm(WATCHDOG_S);
	if (take && kt_semop(fd, &op, 1, 0, NULL))
		return 1;
	op = (struct kipc_sembuf){ .num = 1, .delta = -1,
				   .flags = KIPC_SEMOP_UNDO };
	return kt_semop(fd, &op, 1, KIPC_F_TIMED, &to) ? 2 : 0;
}

static int ring_waiter(int fd, uint32_t events)
{
	struct kipc_ring_wait rw = {
		.events = events, .flags = KIPC_F_TIMED,
		.timeout = { .tv_sec = 20 },
	};

	alarm(WATCHDOG_S);
	return ioctl(fd, KIPC_IOC_RING_WAIT, &rw) == (int)events ? 0 : 1;
}

TEST_F_TIMEOUT(chaos, killed_sem_and_ring_waiters_leave_no_trace, 120)
{
	struct kipc_ring_attr attr = {
		.slots = 2, .slot_size = 64
	};
	struct ring_view v;
	struct kipc_stat st;
	int fd, ring, i;
	pid_t pid[4];

	/* Three hold a token each and wait with undo; two are killed. */
	fd = kt_anon_sem(self->dev, 2, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_setval(fd, 0, 3));
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		/* The last wants four tokens: it waits on counter 0. */
		if (pid[i] == 0)
			_exit(hold_and_wait(fd, i < 3 ? 1 : 4));
		if (i < 3)
			ASSERT_TRUE(kt_sem_until(kt_ncnt(fd, 1), i + 1));
	}
	ASSERT_TRUE(kt_sem_until(kt_ncnt(fd, 0), 1));
	EXPECT_EQ(0, kt_getval(fd, 0));
	for (i = 0; i < 2; i++) {
		kill(pid[i], SIGKILL);
		EXPECT_EQ(128 + SIGKILL, kt_wait(pid[i]));
	}
	kill(pid[3], SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid[3]));
	/* Their tokens are back; the waiters are gone. */
	EXPECT_EQ(2, kt_getval(fd, 0));
	EXPECT_EQ(1, kt_ncnt(fd, 1));
	EXPECT_EQ(0, kt_ncnt(fd, 0));
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(1, st.sem.waiters);
	EXPECT_EQ(1, st.sem.undos);
	/* The survivor gets counter 1, and its exit reverts both. */
	ASSERT_EQ(0, kt_sem1(fd, 1, 1, 0, 0, NULL));
	EXPECT_EQ(0, kt_wait(pid[2]));
	EXPECT_EQ(3, kt_getval(fd, 0));
	EXPECT_EQ(1, kt_getval(fd, 1));
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(0, st.sem.waiters);
	EXPECT_EQ(0, st.sem.undos);
	close(fd);

	/* Ring waiters for data, killed while a survivor waits; then for room. */
	ring = kt_open(self->dev, KIPC_TYPE_RING, NULL,
		       KIPC_O_CREAT | KIPC_O_RDWR, 0600, &attr, sizeof(attr), NULL);
	ASSERT_LE(0, ring);
	W = shared_alloc(sizeof(*W));
	ASSERT_NE(NULL, W);
	ASSERT_EQ(0, map_ring(ring, &v));
	for (i = 0; i < 3; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(ring_waiter(ring, KIPC_RING_DATA));
	}
	ASSERT_TRUE(kt_wait_until(ring, &st, st.ring.data_waiters == 3));
	EXPECT_EQ(1, *v.wake_data);
	for (i = 0; i < 2; i++) {
		kill(pid[i], SIGKILL);
		EXPECT_EQ(128 + SIGKILL, kt_wait(pid[i]));
	}
	ASSERT_TRUE(kt_wait_until(ring, &st, st.ring.data_waiters == 1));
	EXPECT_EQ(1, *v.wake_data);
	/* Post one by hand, as a producer does. */
	v.desc[0].len = 0;
	atomic_store_explicit(v.head, 1, memory_order_release);
	W->ring[0] = ring;
	EXPECT_EQ(0, ring_wake(0, v.wake_data, KIPC_RING_DATA));
	EXPECT_EQ(0, kt_wait(pid[2]));
	EXPECT_EQ(0, *v.wake_data);
	/* Fill it, and kill a producer waiting for room. */
	atomic_store_explicit(v.head, 2, memory_order_release);
	pid[0] = fork();
	ASSERT_LE(0, pid[0]);
	if (pid[0] == 0)
		_exit(ring_waiter(ring, KIPC_RING_ROOM));
	ASSERT_TRUE(kt_wait_until(ring, &st, st.ring.room_waiters == 1));
	EXPECT_EQ(1, *v.wake_room);
	kill(pid[0], SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid[0]));
	ASSERT_TRUE(kt_wait_until(ring, &st, st.ring.room_waiters == 0 &&
					     st.ring.data_waiters == 0));
	EXPECT_EQ(0, *v.wake_room);
	EXPECT_EQ(2, st.ring.msgs);
	/* A mapping held by a killed process goes with it. */
	pid[0] = fork();
	ASSERT_LE(0, pid[0]);
	if (pid[0] == 0) {
		close(ring);
		alarm(WATCHDOG_S);
		pause();
		_exit(0);
	}
	munmap((void *)v.head, v.map_size);
	close(ring);
	kill(pid[0], SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid[0]));
	munmap(W, sizeof(*W));
	W = NULL;
	EXPECT_BASELINE(self->dev, &self->base);
}

/*
 * A receive whose copy to user space faults puts its message back: a
 * receiver that blocked meanwhile must get it, not sleep beside it.
 */
static int recv_into(int q, void *buf, int secs)
{
	const struct kipc_timeout to = { .tv_sec = secs };
	struct kipc_msg m = { .buf = (uintptr_t)buf, .len = 64 };
	int ret;

	alarm(WATCHDOG_S);
	ret = kt_recv_msg(q, &m, KIPC_F_TIMED, &to);
	if (buf == kt_bad_ptr())
		return ret == -EFAULT ? 0 : 1;
	return ret == 1 && *(char *)buf == 'm' ? 0 : 2;
}

TEST_F_TIMEOUT(chaos, faulted_receive_hands_the_message_on, 60)
{
	static char buf[64];
	struct kipc_stat st;
	pid_t bad, good;
	int q;

	q = kt_anon_queue(self->dev, 4, 64);
	ASSERT_LE(0, q);
	bad = fork();
	ASSERT_LE(0, bad);
	if (bad == 0)
		_exit(recv_into(q, kt_bad_ptr(), 20));
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.recv_waiters == 1));
	good = fork();
	ASSERT_LE(0, good);
	if (good == 0)
		_exit(recv_into(q, buf, 20));
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.recv_waiters == 2));
	/*
	 * The first in line takes it, faults, and passes it on -- now, not
	 * when the other one's wait times out and it looks at the queue.
	 */
	ASSERT_EQ(0, kt_send(q, "m", 1, 0, 1, 0, NULL));
	EXPECT_EQ(0, kt_wait(bad));
	EXPECT_TRUE(kt_wait_until(q, &st, st.queue.msgs == 0 &&
					  st.queue.recv_waiters == 0))
		TH_LOG("a receiver waits beside a queued message");
	EXPECT_EQ(0, kt_wait(good));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_EQ(0, st.queue.msgs);
	EXPECT_EQ(1, st.queue.sent);
	EXPECT_EQ(1, st.queue.received);
	close(q);
	EXPECT_BASELINE(self->dev, &self->base);
}

/*
 * A task killed while blocked stays on its wait list until it runs again.
 * Keep it from running -- pinned to CPU 0 behind a SCHED_FIFO spinner --
 * and send it a message, or post the semaphore it waits on, meanwhile: a
 * task that will never return to user space must not take them.
 */
struct hog {
	_Atomic int running;
	_Atomic int stop;
};

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static pid_t start_hog(struct hog *h)
{
	struct sched_param sp = { .sched_priority = 1 };
	pid_t pid;
	int64_t end;

	atomic_store(&h->running, 0);
	atomic_store(&h->stop, 0);
	pid = fork();
	if (pid)
		return pid;
	alarm(WATCHDOG_S);
	if (pin(0) || sched_setscheduler(0, SCHED_FIFO, &sp))
		_exit(1);
	atomic_store(&h->running, 1);
	/* Far below RT throttling's 950 ms. */
	end = kt_now_ms() + 500;
	while (!atomic_load(&h->stop) && kt_now_ms() < end)
		;
	_exit(0);
}

/* The victim was killed, and is still blocked: it could not run. */
static bool still_blocked(pid_t victim, int fd, bool queue)
{
	struct kipc_stat st;
	int i;

	for (i = 0; i < 20; i++) {
		if (waitpid(victim, NULL, WNOHANG) != 0 || kt_stat(fd, &st))
			return false;
		if (queue ? st.queue.recv_waiters != 1 : st.sem.waiters != 1)
			return false;
		usleep(1000);
	}
	return true;
}

static int block_on(int fd, bool queue)
{
	const struct kipc_timeout to = { .tv_sec = 20 };
	char buf[64];

	alarm(WATCHDOG_S);
	if (pin(0))
		return 1;
	if (queue)
		return kt_recv(fd, buf, sizeof(buf), NULL, 0, KIPC_F_TIMED,
			       &to) < 0;
	return kt_sem1(fd, 0, -1, 0, KIPC_F_TIMED, &to) != 0;
}

TEST_F_TIMEOUT(chaos, dying_waiters_take_nothing, 120)
{
	struct hog *h = shared_alloc(sizeof(*h));
	struct kipc_stat st;
	int fd, kind, ret;
	pid_t victim, hog;
	char buf[64];

	if (!kt_is_root() || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs root (SCHED_FIFO) and two CPUs");
	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, pin(1));
	for (kind = 0; kind < 2; kind++) {
		bool queue = kind == 0;

		fd = queue ? kt_anon_queue(self->dev, 4, 64) :
			     kt_anon_sem(self->dev, 1, 0);
		ASSERT_LE(0, fd);
		victim = fork();
		ASSERT_LE(0, victim);
		if (victim == 0)
			_exit(block_on(fd, queue));
		if (queue) {
			ASSERT_TRUE(kt_wait_until(fd, &st, st.queue.recv_waiters == 1));
		} else {
			ASSERT_TRUE(kt_sem_until(kt_ncnt(fd, 0), 1));
		}
		hog = start_hog(h);
		ASSERT_LE(0, hog);
		while (!atomic_load(&h->running) && !waitpid(hog, NULL, WNOHANG))
			usleep(1000);
		ASSERT_TRUE(atomic_load(&h->running));
		kill(victim, SIGKILL);
		if (!still_blocked(victim, fd, queue)) {
			atomic_store(&h->stop, 1);
			kt_wait(hog);
			kt_wait(victim);
			SKIP(return, "the killed task ran: no window to test");
		}
		/* The victim is listed, with SIGKILL pending. */
		if (queue) {
			ASSERT_EQ(0, kt_send(fd, "m", 1, 0, 1, 0, NULL));
		} else {
			ASSERT_EQ(0, kt_sem1(fd, 0, 1, 0, 0, NULL));
		}
		atomic_store(&h->stop, 1);
		EXPECT_EQ(0, kt_wait(hog));
		EXPECT_EQ(128 + SIGKILL, kt_wait(victim));
		/* What it was offered is still there. */
		if (queue) {
			ret = kt_recv(fd, buf, sizeof(buf), NULL, 0,
				      KIPC_F_NONBLOCK, NULL);
			EXPECT_EQ(1, ret) TH_LOG("the dead receiver took the message");
			ASSERT_EQ(0, kt_stat(fd, &st));
			EXPECT_EQ(0, st.queue.recv_waiters);
			EXPECT_EQ(st.queue.sent, st.queue.received);
		} else {
			EXPECT_EQ(1, kt_getval(fd, 0)) TH_LOG("the dead waiter took the post");
			EXPECT_EQ(0, kt_ncnt(fd, 0));
		}
		close(fd);
	}
	munmap(h, sizeof(*h));
	EXPECT_BASELINE(self->dev, &self->base);
}

/* Long runs (KIPC_CHAOS_SECONDS) get a harness timeout to match. */
static void __attribute__((constructor)) chaos_timeouts(void)
{
	int t = chaos_seconds() * 2 + 300;

	if (_chaos_mixed_stress_object.timeout < t)
		_chaos_mixed_stress_object.timeout = t;
	if (_chaos_random_sigkill_object.timeout < t)
		_chaos_random_sigkill_object.timeout = t;
}

TEST_HARNESS_MAIN
