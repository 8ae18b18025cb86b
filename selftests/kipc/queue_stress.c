// SPDX-License-Identifier: GPL-2.0
/*
 * Many producers and consumers on one queue.  Every message carries its
 * producer, sequence number, length and a checksum of its payload.  The test
 * checks that each message arrives exactly once, intact, and that every
 * consumer sees each producer's messages in the order they were sent.
 *
 * KIPC_STRESS_MSGS sets the messages per producer (default 100000).
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

#define PRODUCERS	4
#define CONSUMERS	4
#define MAX_PAYLOAD	200
#define STOP		0xffffu

struct stress_msg {
	uint32_t producer;
	uint32_t seq;
	uint32_t len;
	uint32_t csum;
	unsigned char payload[MAX_PAYLOAD];
};

/* Shared between all processes of one run. */
struct ledger {
	_Atomic unsigned char *seen;	/* [producer][seq] delivery count */
	_Atomic long errors;
	_Atomic long received;
};

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* A consumer that hears nothing for this long reports a failure. */
static const struct kipc_timeout patience = { .tv_sec = 60 };

static unsigned long msgs_per_producer(void)
{
	const char *env = getenv("KIPC_STRESS_MSGS");

	return env ? strtoul(env, NULL, 0) : 100000;
}

static void fill(struct stress_msg *m, uint32_t producer, uint32_t seq)
{
	uint32_t i, x = producer * 2654435761u ^ seq;

	m->producer = producer;
	m->seq = seq;
	m->len = (seq * 37 + producer) % (MAX_PAYLOAD + 1);
	for (i = 0; i < m->len; i++) {
		x = x * 1103515245u + 12345u;
		m->payload[i] = x >> 16;
	}
	m->csum = fnv1a(m->payload, m->len);
}

static size_t wire_len(const struct stress_msg *m)
{
	return offsetof(struct stress_msg, payload) + m->len;
}

/* Check one received message; returns false on any inconsistency. */
static bool account(struct ledger *l, unsigned long per, const void *buf,
		    size_t n, uint32_t *last_seq)
{
	const struct stress_msg *m = buf;

	if (n < offsetof(struct stress_msg, payload) ||
	    m->producer >= PRODUCERS || m->seq >= per ||
	    n != wire_len(m) || fnv1a(m->payload, m->len) != m->csum)
		return false;
	/* Per producer, one consumer sees a strictly increasing subsequence. */
	if (last_seq[m->producer] != UINT32_MAX &&
	    m->seq <= last_seq[m->producer])
		return false;
	last_seq[m->producer] = m->seq;
	if (atomic_fetch_add(&l->seen[(size_t)m->producer * per + m->seq], 1))
		return false;
	atomic_fetch_add(&l->received, 1);
	return true;
}

FIXTURE(stress) {
	int dev;
	int q;
	unsigned long per;
	struct ledger *ledger;
};

FIXTURE_SETUP(stress)
{
	size_t seen_len;

	self->per = msgs_per_producer();
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	self->q = kt_anon_queue(self->dev, 64, sizeof(struct stress_msg));
	ASSERT_LE(0, self->q);
	self->ledger = mmap(NULL, sizeof(*self->ledger), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ledger);
	seen_len = PRODUCERS * self->per;
	self->ledger->seen = mmap(NULL, seen_len, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ledger->seen);
}

FIXTURE_TEARDOWN(stress)
{
	munmap((void *)self->ledger->seen, PRODUCERS * self->per);
	munmap(self->ledger, sizeof(*self->ledger));
	close(self->q);
	close(self->dev);
}

static void verify_ledger(struct __test_metadata *_metadata,
			  FIXTURE_DATA(stress) *self)
{
	unsigned long i, missing = 0, dup = 0;

	for (i = 0; i < PRODUCERS * self->per; i++) {
		unsigned char c = self->ledger->seen[i];

		missing += c == 0;
		dup += c > 1;
	}
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, self->ledger->errors);
	EXPECT_EQ(PRODUCERS * self->per, self->ledger->received);
}

static int produce_one_by_one(int q, uint32_t producer, unsigned long per)
{
	struct stress_msg m;
	uint32_t seq;

	for (seq = 0; seq < per; seq++) {
		fill(&m, producer, seq);
		if (kt_send(q, &m, wire_len(&m), 0, 1, 0, NULL))
			return 1;
	}
	return 0;
}

static int consume_one_by_one(int q, struct ledger *l, unsigned long per)
{
	uint32_t last[PRODUCERS];
	struct stress_msg m;
	int n;

	memset(last, 0xff, sizeof(last));
	for (;;) {
		n = kt_recv(q, &m, sizeof(m), NULL, 0, KIPC_F_TIMED, &patience);
		if (n < 0)
			return 1;
		if (n == sizeof(uint32_t) && m.producer == STOP)
			return 0;
		if (!account(l, per, &m, n, last))
			atomic_fetch_add(&l->errors, 1);
	}
}

#define BATCH 32

static int produce_batched(int q, uint32_t producer, unsigned long per)
{
	static struct stress_msg m[BATCH];
	struct kipc_msg d[BATCH];
	unsigned long seq = 0;
	int i, n, sent;

	while (seq < per) {
		n = per - seq < BATCH ? per - seq : BATCH;
		for (i = 0; i < n; i++) {
			fill(&m[i], producer, seq + i);
			d[i] = (struct kipc_msg){ .buf = (uintptr_t)&m[i],
						  .len = wire_len(&m[i]),
						  .type = 1 };
		}
		for (i = 0; i < n; i += sent) {
			sent = kt_xfer(q, KIPC_IOC_SEND, d + i, n - i, 0, NULL);
			if (sent <= 0)
				return 1;
		}
		seq += n;
	}
	return 0;
}

static int consume_batched(int q, struct ledger *l, unsigned long per)
{
	static struct stress_msg m[BATCH];
	struct kipc_msg d[BATCH];
	uint32_t last[PRODUCERS];
	int i, n;

	memset(last, 0xff, sizeof(last));
	for (;;) {
		int stops = 0;

		for (i = 0; i < BATCH; i++)
			d[i] = (struct kipc_msg){ .buf = (uintptr_t)&m[i],
						  .len = sizeof(m[i]) };
		n = kt_xfer(q, KIPC_IOC_RECV, d, BATCH, KIPC_F_TIMED, &patience);
		if (n <= 0)
			return 1;
		for (i = 0; i < n; i++) {
			if (d[i].len == sizeof(uint32_t) && m[i].producer == STOP)
				stops++;
			else if (!account(l, per, &m[i], d[i].len, last))
				atomic_fetch_add(&l->errors, 1);
		}
		if (!stops)
			continue;
		/* One stop is ours; hand the others back to their consumers. */
		while (--stops > 0) {
			uint32_t stop = STOP;

			if (kt_send(q, &stop, sizeof(stop), 0, 1, 0, NULL))
				return 1;
		}
		return 0;
	}
}

static void run(struct __test_metadata *_metadata, FIXTURE_DATA(stress) *self,
		int (*produce)(int, uint32_t, unsigned long),
		int (*consume)(int, struct ledger *, unsigned long))
{
	pid_t prod[PRODUCERS], cons[CONSUMERS];
	uint32_t stop = STOP;
	int i;

	for (i = 0; i < CONSUMERS; i++) {
		cons[i] = fork();
		ASSERT_LE(0, cons[i]);
		if (cons[i] == 0)
			_exit(consume(self->q, self->ledger, self->per));
	}
	for (i = 0; i < PRODUCERS; i++) {
		prod[i] = fork();
		ASSERT_LE(0, prod[i]);
		if (prod[i] == 0)
			_exit(produce(self->q, i, self->per));
	}
	for (i = 0; i < PRODUCERS; i++)
		EXPECT_EQ(0, kt_wait(prod[i]));
	/* FIFO: the stops arrive after every message sent before them. */
	for (i = 0; i < CONSUMERS; i++)
		ASSERT_EQ(0, kt_send(self->q, &stop, sizeof(stop), 0, 1, 0, NULL));
	for (i = 0; i < CONSUMERS; i++)
		EXPECT_EQ(0, kt_wait(cons[i]));
	verify_ledger(_metadata, self);
}

TEST_F_TIMEOUT(stress, exactly_once_in_order_4x4, 600)
{
	run(_metadata, self, produce_one_by_one, consume_one_by_one);
}

TEST_F_TIMEOUT(stress, batched_exactly_once_in_order_4x4, 600)
{
	run(_metadata, self, produce_batched, consume_batched);
}

/* SysV selection: consumer i takes only producer i's type, in exact order. */
static int consume_own_type(int q, struct ledger *l, unsigned long per,
			    uint32_t producer)
{
	uint32_t last[PRODUCERS];
	struct stress_msg m;
	unsigned long k;
	int n;

	memset(last, 0xff, sizeof(last));
	for (k = 0; k < per; k++) {
		n = kt_recv(q, &m, sizeof(m), NULL, producer + 1,
			    KIPC_F_SYSV | KIPC_F_TIMED, &patience);
		if (n < 0)
			return 1;
		if (m.producer != producer || m.seq != k ||
		    !account(l, per, &m, n, last))
			atomic_fetch_add(&l->errors, 1);
	}
	return 0;
}

static int produce_typed(int q, uint32_t producer, unsigned long per)
{
	struct stress_msg m;
	uint32_t seq;

	for (seq = 0; seq < per; seq++) {
		fill(&m, producer, seq);
		if (kt_send(q, &m, wire_len(&m), seq % 8, producer + 1, 0, NULL))
			return 1;
	}
	return 0;
}

TEST_F_TIMEOUT(stress, sysv_types_route_each_producer_in_order, 600)
{
	pid_t prod[PRODUCERS], cons[PRODUCERS];
	int i;

	for (i = 0; i < PRODUCERS; i++) {
		cons[i] = fork();
		ASSERT_LE(0, cons[i]);
		if (cons[i] == 0)
			_exit(consume_own_type(self->q, self->ledger, self->per, i));
	}
	for (i = 0; i < PRODUCERS; i++) {
		prod[i] = fork();
		ASSERT_LE(0, prod[i]);
		if (prod[i] == 0)
			_exit(produce_typed(self->q, i, self->per));
	}
	for (i = 0; i < PRODUCERS; i++) {
		EXPECT_EQ(0, kt_wait(prod[i]));
		EXPECT_EQ(0, kt_wait(cons[i]));
	}
	verify_ledger(_metadata, self);
}

TEST_HARNESS_MAIN
