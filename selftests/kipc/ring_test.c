// SPDX-License-Identifier: GPL-2.0
/*
 * kipc rings (KIPC_TYPE_RING): creation limits and accounting, the
 * mapping and its errors, the lock-free protocol through libkipc (order,
 * exactly-once delivery, wrap-around, full and empty edges), sleeping and
 * waking (timeouts, poll, epoll, removal, killed waiters), peer death, and
 * hostile values in the shared header.  One behaviour per test.
 *
 * KIPC_RING_MSGS sets the messages of the big stress test (default 1000000).
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"
#include "kipc.h"

static int ring_open_flags(int dev, uint32_t slots, uint32_t slot_size,
			   uint32_t flags)
{
	struct kipc_ring_attr a = {
		.slots = slots,
		.slot_size = slot_size,
	};

	return kt_open(dev, KIPC_TYPE_RING, NULL, KIPC_O_CREAT | flags, 0600,
		       &a, sizeof(a), NULL);
}

static int ring_open(int dev, uint32_t slots, uint32_t slot_size)
{
	return ring_open_flags(dev, slots, slot_size, KIPC_O_RDWR);
}

static int ring_info(int fd, struct kipc_ring_info *info)
{
	return kt_ret(ioctl(fd, KIPC_IOC_RING_INFO, info));
}

/* KIPC_IOC_RING_WAIT with a relative timeout in ms (< 0: none). */
static int ring_wait(int fd, uint32_t events, uint32_t flags, long ms)
{
	struct kipc_ring_wait w = { .events = events, .flags = flags };

	if (ms >= 0) {
		w.flags |= KIPC_F_TIMED;
		w.timeout = kt_rel_ms(ms);
	}
	return kt_ret(ioctl(fd, KIPC_IOC_RING_WAIT, &w));
}

static int poll_events(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) < 0 ? -errno : p.revents;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* A self-checking message: its sequence number, length and checksum. */
struct smsg {
	uint32_t seq;
	uint32_t len;
	uint32_t csum;
	unsigned char payload[];
};

static size_t smsg_fill(void *buf, uint32_t seq, size_t max)
{
	struct smsg *m = buf;
	size_t room = max - sizeof(*m);
	uint32_t i, x = seq * 2654435761u;

	m->seq = seq;
	m->len = (seq * 37u) % (room + 1);
	for (i = 0; i < m->len; i++) {
		x = x * 1103515245u + 12345u;
		m->payload[i] = x >> 16;
	}
	m->csum = fnv1a(m->payload, m->len) ^ seq;
	return sizeof(*m) + m->len;
}

/* The sequence number of a well-formed message, or -1. */
static long smsg_check(const void *buf, size_t n)
{
	const struct smsg *m = buf;

	if (n < sizeof(*m) || n != sizeof(*m) + m->len ||
	    (fnv1a(m->payload, m->len) ^ m->seq) != m->csum)
		return -1;
	return m->seq;
}

static uint64_t info_objects(int dev)
{
	struct kipc_info info;

	if (kt_info(dev, &info))
		return ~0ull;
	return info.objects[KIPC_TYPE_RING];
}

/* Objects of every type: a ring and a queue together. */
static uint64_t info_all_objects(int dev)
{
	struct kipc_info info;

	if (kt_info(dev, &info))
		return ~0ull;
	return info.objects[0];
}

static uint64_t info_user_bytes(int dev)
{
	struct kipc_info info;

	if (kt_info(dev, &info))
		return ~0ull;
	return info.user_bytes;
}

FIXTURE(ring) {
	int dev;
	int fd;
	struct kipc_ring r;
	uint64_t objects;
};

FIXTURE_SETUP(ring)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	self->objects = info_objects(self->dev);
	self->fd = ring_open(self->dev, 8, 256);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kipc_ring_attach(&self->r, self->fd));
}

FIXTURE_TEARDOWN(ring)
{
	kipc_ring_detach(&self->r);
	close(self->fd);
	/* Nothing outlives its last fd and mapping. */
	EXPECT_EQ(self->objects, info_objects(self->dev));
	close(self->dev);
}

/* Creation */

TEST(creation_checks_the_geometry)
{
	struct kipc_ring_attr a = { .slots = 8, .slot_size = 64 };
	struct kipc_ring_info ri;
	struct kipc_info info;
	int dev = kt_dev(), fd;

	ASSERT_LE(0, dev);
	ASSERT_EQ(0, kt_info(dev, &info));
	EXPECT_EQ(-EINVAL, ring_open(dev, 3, 64));
	EXPECT_EQ(-EINVAL, ring_open(dev, 8, 100));
	EXPECT_EQ(-EINVAL, ring_open(dev, 8, 4));
	EXPECT_EQ(-EINVAL, ring_open(dev, 2 * info.max_queue_msgs, 64));
	EXPECT_EQ(-EINVAL, ring_open(dev, 8, 2 * info.max_msgsize));
	EXPECT_EQ(-EINVAL, ring_open(dev, 65536, 65536));	/* 4 GiB */
	a.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, kt_open(dev, KIPC_TYPE_RING, NULL,
				   KIPC_O_CREAT | KIPC_O_RDWR, 0600, &a,
				   sizeof(a), NULL));
	a.reserved[0] = 0;
	a.reserved[1] = 0x80;
	EXPECT_EQ(-EINVAL, kt_open(dev, KIPC_TYPE_RING, NULL,
				   KIPC_O_CREAT | KIPC_O_RDWR, 0600, &a,
				   sizeof(a), NULL));
	a.reserved[1] = 0;
	/* Nor does the rest of the open request's attributes. */
	{
		uint64_t big[4] = { 0, 0, 0, 1 };

		memcpy(big, &a, sizeof(a));
		EXPECT_EQ(-EINVAL, kt_open(dev, KIPC_TYPE_RING, NULL,
					   KIPC_O_CREAT | KIPC_O_RDWR, 0600,
					   big, sizeof(big), NULL));
	}

	/* 0 and 0 are the defaults; 1 slot and 8 bytes the smallest ring. */
	fd = ring_open(dev, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ring_info(fd, &ri));
	EXPECT_EQ(16, ri.slots);
	EXPECT_EQ(8192, ri.slot_size);
	close(fd);
	fd = ring_open(dev, 1, 8);
	ASSERT_LE(0, fd);
	close(fd);
	close(dev);
}

TEST(info_describes_the_mapping)
{
	long page = sysconf(_SC_PAGESIZE);
	struct kipc_ring_info ri;
	struct kipc_stat st;
	int dev = kt_dev(), fd;

	ASSERT_LE(0, dev);
	fd = ring_open(dev, 64, 128);
	ASSERT_LE(0, fd);
	memset(&ri, 0xa5, sizeof(ri));
	ASSERT_EQ(0, ring_info(fd, &ri));
	EXPECT_EQ(64, ri.slots);
	EXPECT_EQ(128, ri.slot_size);
	EXPECT_LE(sizeof(struct kipc_ring_hdr), ri.desc_offset);
	EXPECT_EQ(0, ri.slot_offset % page);
	EXPECT_LE(ri.desc_offset + 64 * sizeof(struct kipc_ring_desc),
		  ri.slot_offset);
	EXPECT_EQ(ri.slot_offset + ((64 * 128 + page - 1) / page) * page,
		  ri.map_size);
	EXPECT_EQ(0, ri.reserved[0] | ri.reserved[1] | ri.reserved[2] |
		     ri.reserved[3]);

	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(KIPC_TYPE_RING, st.type);
	EXPECT_EQ(64, st.ring.slots);
	EXPECT_EQ(128, st.ring.slot_size);
	EXPECT_EQ(ri.map_size, st.ring.map_size);
	EXPECT_EQ(0, st.ring.msgs);
	close(fd);
	close(dev);
}

TEST(creator_is_charged_the_ring_until_it_goes)
{
	int dev = kt_dev(), fd;
	struct kipc_ring_info ri;
	uint64_t bytes, objects;

	ASSERT_LE(0, dev);
	bytes = info_user_bytes(dev);
	objects = info_objects(dev);
	fd = ring_open(dev, 256, 4096);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ring_info(fd, &ri));
	EXPECT_EQ(bytes + ri.map_size, info_user_bytes(dev));
	EXPECT_EQ(objects + 1, info_objects(dev));
	close(fd);
	EXPECT_EQ(bytes, info_user_bytes(dev));
	EXPECT_EQ(objects, info_objects(dev));
	close(dev);
}

/* The mapping */

TEST(mapping_keeps_the_ring_alive_after_close)
{
	int dev = kt_dev(), fd;
	struct kipc_ring_info ri;
	struct kipc_ring_hdr *hdr;
	uint64_t bytes, objects;

	ASSERT_LE(0, dev);
	bytes = info_user_bytes(dev);
	objects = info_objects(dev);
	fd = ring_open(dev, 4, 64);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ring_info(fd, &ri));
	hdr = mmap(NULL, ri.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, hdr);
	close(fd);
	/* The mapping alone holds the object, and its memory. */
	EXPECT_EQ(objects + 1, info_objects(dev));
	EXPECT_EQ(bytes + ri.map_size, info_user_bytes(dev));
	hdr->head = 42;
	EXPECT_EQ(42, hdr->head);
	EXPECT_EQ(0, munmap(hdr, ri.map_size));
	EXPECT_EQ(objects, info_objects(dev));
	EXPECT_EQ(bytes, info_user_bytes(dev));
	close(dev);
}

TEST(attached_ring_outlives_the_callers_fd)
{
	int dev = kt_dev(), fd, other;
	struct kipc_ring r;
	uint64_t objects;
	char buf[16];
	pid_t pid;

	ASSERT_LE(0, dev);
	objects = info_all_objects(dev);
	fd = ring_open(dev, 4, 64);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kipc_ring_attach(&r, fd));
	close(fd);
	/* The number is reused; wake-ups must still reach the ring. */
	other = kt_anon_queue(dev, 4, 64);
	ASSERT_EQ(fd, other);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		r.spin = 0;
		_exit(kipc_ring_recv(&r, buf, sizeof(buf), NULL, 0,
				     &(struct timespec){ .tv_sec = 10 }) == 3 ? 0 : 1);
	}
	while (!r.hdr->wake_data)
		usleep(1000);
	ASSERT_EQ(0, kipc_ring_try_send(&r, "abc", 3, 7));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(objects + 2, info_all_objects(dev));
	EXPECT_EQ(0, kipc_ring_detach(&r));
	EXPECT_EQ(objects + 1, info_all_objects(dev));
	close(other);
	close(dev);
}

TEST(mmap_rejects_what_it_cannot_map)
{
	long page = sysconf(_SC_PAGESIZE);
	int dev = kt_dev(), fd, ro, wo, plain;
	struct kipc_ring_info ri;
	void *p;

	ASSERT_LE(0, dev);
	kt_unlink(dev, KIPC_TYPE_RING, "ring_test.mmap");
	{
		struct kipc_ring_attr a = { .slots = 4, .slot_size = 4096 };

		fd = kt_open(dev, KIPC_TYPE_RING, "ring_test.mmap",
			     KIPC_O_CREAT | KIPC_O_EXCL | KIPC_O_RDWR, 0600,
			     &a, sizeof(a), NULL);
	}
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ring_info(fd, &ri));

#define MAP(len, prot, flags, f, off) \
	mmap(NULL, (len), (prot), (flags), (f), (off))
	errno = 0;
	EXPECT_EQ(MAP_FAILED, MAP(ri.map_size - page, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, MAP(ri.map_size + page, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, MAP(ri.map_size - page, PROT_READ, MAP_SHARED, fd, page));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, MAP(ri.map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, MAP(ri.map_size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);

	/* A read-only fd may watch, not write; a write-only fd may not map. */
	ro = kt_open(dev, KIPC_TYPE_RING, "ring_test.mmap", KIPC_O_RDONLY, 0,
		     NULL, 0, NULL);
	ASSERT_LE(0, ro);
	wo = kt_open(dev, KIPC_TYPE_RING, "ring_test.mmap", KIPC_O_WRONLY, 0,
		     NULL, 0, NULL);
	ASSERT_LE(0, wo);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, MAP(ri.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	EXPECT_EQ(EACCES, errno);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, MAP(ri.map_size, PROT_READ, MAP_SHARED, wo, 0));
	EXPECT_EQ(EACCES, errno);
	p = MAP(ri.map_size, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_NE(0, mprotect(p, page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, munmap(p, ri.map_size));
	/* Nor may it wake the peers: it cannot have moved an index. */
	EXPECT_EQ(-1, ioctl(ro, KIPC_IOC_RING_WAKE, KIPC_RING_DATA));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, ioctl(wo, KIPC_IOC_RING_WAKE, KIPC_RING_DATA | KIPC_RING_ROOM));

	/* Exactly the size: it cannot grow, but may shrink. */
	p = MAP(ri.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(MAP_FAILED, mremap(p, ri.map_size, ri.map_size + page, 0));
	EXPECT_EQ(0, munmap((char *)p + page, ri.map_size - page));
	EXPECT_EQ(0, munmap(p, page));
#undef MAP

	/* An ordinary queue has nothing to map. */
	plain = kt_anon_queue(dev, 4, 64);
	ASSERT_LE(0, plain);
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, page, PROT_READ, MAP_SHARED, plain, 0));
	EXPECT_EQ(ENODEV, errno);

	close(plain);
	close(wo);
	close(ro);
	EXPECT_EQ(0, kt_unlink(dev, KIPC_TYPE_RING, "ring_test.mmap"));
	close(fd);
	close(dev);
}

TEST(mapping_is_shared_with_other_mappings_and_children)
{
	int dev = kt_dev(), fd;
	struct kipc_ring a, b;
	char buf[8];
	pid_t pid;

	ASSERT_LE(0, dev);
	fd = ring_open(dev, 4, 64);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kipc_ring_attach(&a, fd));
	ASSERT_EQ(0, kipc_ring_attach(&b, fd));
	EXPECT_NE(a.hdr, b.hdr);
	ASSERT_EQ(0, kipc_ring_try_send(&a, "one", 3, 1));
	EXPECT_EQ(3, kipc_ring_try_recv(&b, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(kipc_ring_try_send(&a, "two", 3, 2) ? 1 : 0);
	ASSERT_EQ(0, kt_wait(pid));
	EXPECT_EQ(3, kipc_ring_try_recv(&b, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	/* Pages dropped from one mapping come back with the ring in them. */
	ASSERT_EQ(0, kipc_ring_try_send(&a, "three", 5, 3));
	ASSERT_EQ(0, madvise(b.hdr, b.map_size, MADV_DONTNEED));
	EXPECT_EQ(5, kipc_ring_try_recv(&b, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, memcmp(buf, "three", 5));
	kipc_ring_detach(&a);
	kipc_ring_detach(&b);
	close(fd);
	close(dev);
}

/* The queue interface of a ring */

TEST(message_calls_fail_on_a_ring)
{
	int dev = kt_dev(), fd, plain;
	struct kipc_notify n = { .how = KIPC_NOTIFY_NONE };
	struct kipc_sendrecv sr;
	struct kipc_msg m, rm;
	struct kipc_set set = { .valid = KIPC_SET_MAX_BYTES, .max_bytes = 1 };
	struct kipc_stat st;
	struct kipc_ring r;
	char buf[64] = "x";

	ASSERT_LE(0, dev);
	fd = ring_open(dev, 4, 64);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTTY, kt_send(fd, buf, 1, 0, 1, KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(-ENOTTY, kt_recv(fd, buf, sizeof(buf), NULL, 0,
				   KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(-EINVAL, kt_ret(write(fd, buf, 1)));
	EXPECT_EQ(-EINVAL, kt_ret(read(fd, buf, sizeof(buf))));
	EXPECT_EQ(-ENOTTY, kt_ret(ioctl(fd, KIPC_IOC_NOTIFY, &n)));
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(fd, KIPC_IOC_SET, &set)));

	/* A plain queue sends nothing if the reply would come from a ring. */
	plain = kt_anon_queue(dev, 4, 64);
	ASSERT_LE(0, plain);
	memset(&sr, 0, sizeof(sr));
	m = (struct kipc_msg){ .buf = (uintptr_t)buf, .len = 1, .type = 1 };
	rm = (struct kipc_msg){ .buf = (uintptr_t)buf, .len = sizeof(buf) };
	sr.send = (struct kipc_xfer){ .msgs = (uintptr_t)&m, .count = 1 };
	sr.recv = (struct kipc_xfer){ .msgs = (uintptr_t)&rm, .count = 1 };
	sr.recv_fd = fd;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(plain, KIPC_IOC_SENDRECV, &sr)));
	ASSERT_EQ(0, kt_stat(plain, &st));
	EXPECT_EQ(0, st.queue.msgs);
	sr.recv_fd = plain;
	EXPECT_EQ(-ENOTTY, kt_ret(ioctl(fd, KIPC_IOC_SENDRECV, &sr)));

	/* And the ring calls are not for plain queues. */
	EXPECT_EQ(-ENOTTY, kt_ret(ioctl(plain, KIPC_IOC_RING_WAKE, KIPC_RING_DATA)));
	EXPECT_EQ(-ENOTTY, ring_wait(plain, KIPC_RING_DATA, KIPC_F_NONBLOCK, -1));
	EXPECT_EQ(-1, kipc_ring_attach(&r, plain));
	EXPECT_EQ(ENODEV, errno);

	close(plain);
	close(fd);
	close(dev);
}

/* The protocol, through libkipc */

TEST_F(ring, messages_keep_data_tag_and_order)
{
	unsigned char in[256], out[256];
	uint32_t tag, i;
	ssize_t n;

	for (i = 0; i < 1000; i++) {
		size_t len = smsg_fill(in, i, (i % 245) + sizeof(struct smsg));

		ASSERT_EQ(0, kipc_ring_try_send(&self->r, in, len, i * 3));
		memset(out, 0, sizeof(out));
		n = kipc_ring_try_recv(&self->r, out, sizeof(out), &tag);
		ASSERT_EQ((ssize_t)len, n);
		ASSERT_EQ(i, smsg_check(out, n));
		ASSERT_EQ(i * 3, tag);
	}
	/* Several in flight come out in order. */
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, kipc_ring_try_send(&self->r, &i, sizeof(i), i));
	for (i = 0; i < 8; i++) {
		uint32_t v;

		ASSERT_EQ(sizeof(v), kipc_ring_try_recv(&self->r, &v, sizeof(v), &tag));
		EXPECT_EQ(i, v);
		EXPECT_EQ(i, tag);
	}
}

TEST_F(ring, zero_copy_works_in_place)
{
	unsigned char *w, *w2;
	const unsigned char *p;
	uint32_t tag;
	size_t len;

	w = kipc_ring_reserve(&self->r);
	ASSERT_NE(NULL, w);
	EXPECT_EQ(self->r.data, w);
	/* Nothing is visible before the commit; reserving again is the same slot. */
	memcpy(w, "hello", 5);
	EXPECT_EQ(NULL, kipc_ring_peek(&self->r, &len, NULL));
	EXPECT_EQ(EAGAIN, errno);
	w2 = kipc_ring_reserve(&self->r);
	EXPECT_EQ(w, w2);
	ASSERT_EQ(0, kipc_ring_commit(&self->r, 5, 42));

	p = kipc_ring_peek(&self->r, &len, &tag);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(w, p);
	EXPECT_EQ(5, len);
	EXPECT_EQ(42, tag);
	EXPECT_EQ(0, memcmp(p, "hello", 5));
	/* Peeking does not take it. */
	EXPECT_EQ(p, kipc_ring_peek(&self->r, &len, NULL));
	ASSERT_EQ(0, kipc_ring_release(&self->r));
	EXPECT_EQ(NULL, kipc_ring_peek(&self->r, &len, NULL));
	EXPECT_EQ(-1, kipc_ring_release(&self->r));
	EXPECT_EQ(EAGAIN, errno);

	/* The next slot follows. */
	w = kipc_ring_reserve(&self->r);
	EXPECT_EQ(self->r.data + self->r.slot_size, w);
	EXPECT_EQ(-1, kipc_ring_commit(&self->r, self->r.slot_size + 1, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, kipc_ring_commit(&self->r, self->r.slot_size, 0));
	p = kipc_ring_peek(&self->r, &len, NULL);
	EXPECT_EQ(w, p);
	EXPECT_EQ(self->r.slot_size, len);
	EXPECT_EQ(0, kipc_ring_release(&self->r));
}

TEST_F(ring, full_and_empty_edges)
{
	char buf[256];
	uint32_t i;
	size_t len;

	EXPECT_EQ(KIPC_RING_ROOM, kipc_ring_ready(&self->r));
	EXPECT_EQ(POLLOUT, poll_events(self->fd));
	EXPECT_EQ(-1, kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(EAGAIN, errno);

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, kipc_ring_try_send(&self->r, &i, sizeof(i), 0));
		EXPECT_EQ(i == 7 ? POLLIN : POLLIN | POLLOUT,
			  poll_events(self->fd));
	}
	EXPECT_EQ(KIPC_RING_DATA, kipc_ring_ready(&self->r));
	EXPECT_EQ(-1, kipc_ring_try_send(&self->r, &i, sizeof(i), 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(NULL, kipc_ring_reserve(&self->r));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, kipc_ring_commit(&self->r, 4, 0));
	EXPECT_EQ(EAGAIN, errno);

	/* One out makes room for exactly one. */
	EXPECT_EQ(4, kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(KIPC_RING_DATA | KIPC_RING_ROOM, kipc_ring_ready(&self->r));
	ASSERT_EQ(0, kipc_ring_try_send(&self->r, &i, sizeof(i), 0));
	EXPECT_EQ(-1, kipc_ring_try_send(&self->r, &i, sizeof(i), 0));

	for (i = 1; i <= 8; i++) {
		uint32_t v;

		ASSERT_EQ(4, kipc_ring_try_recv(&self->r, &v, sizeof(v), NULL));
		EXPECT_EQ(i, v);
	}
	EXPECT_EQ(NULL, kipc_ring_peek(&self->r, &len, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(POLLOUT, poll_events(self->fd));
	EXPECT_EQ(KIPC_RING_ROOM, kipc_ring_ready(&self->r));
}

TEST(one_slot_ring_alternates)
{
	int dev = kt_dev(), fd, i;
	struct kipc_ring r;
	char c;

	ASSERT_LE(0, dev);
	fd = ring_open(dev, 1, 8);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kipc_ring_attach(&r, fd));
	for (i = 0; i < 100; i++) {
		c = (char)i;
		ASSERT_EQ(0, kipc_ring_try_send(&r, &c, 1, 0));
		ASSERT_EQ(-1, kipc_ring_try_send(&r, &c, 1, 0));
		ASSERT_EQ(EAGAIN, errno);
		ASSERT_EQ(1, kipc_ring_try_recv(&r, &c, 1, NULL));
		ASSERT_EQ((char)i, c);
		ASSERT_EQ(-1, kipc_ring_try_recv(&r, &c, 1, NULL));
	}
	kipc_ring_detach(&r);
	close(fd);
	close(dev);
}

TEST_F(ring, message_sizes_are_checked)
{
	char big[512], out[512];

	memset(big, 'b', sizeof(big));
	EXPECT_EQ(-1, kipc_ring_try_send(&self->r, big, 257, 0));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, kipc_ring_try_send(&self->r, big, 256, 0));
	ASSERT_EQ(0, kipc_ring_try_send(&self->r, big, 0, 9));
	/* Too long for the buffer: it stays for a bigger one. */
	EXPECT_EQ(-1, kipc_ring_try_recv(&self->r, out, 255, NULL));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(256, kipc_ring_try_recv(&self->r, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(big, out, 256));
	EXPECT_EQ(0, kipc_ring_try_recv(&self->r, out, 0, NULL));
}

TEST_F(ring, indices_wrap_around_2_to_the_32)
{
	unsigned char in[256], out[256];
	uint32_t i, start = UINT32_MAX - 20;
	ssize_t n;

	/* Both peers agree on where they are: just before the wrap. */
	self->r.hdr->head = start;
	self->r.hdr->tail = start;
	kipc_ring_detach(&self->r);
	ASSERT_EQ(0, kipc_ring_attach(&self->r, self->fd));
	EXPECT_EQ(POLLOUT, poll_events(self->fd));

	for (i = 0; i < 1000; i++) {
		size_t len = smsg_fill(in, i, sizeof(in));

		/* Keep the ring half full, to cross the wrap while not empty. */
		ASSERT_EQ(0, kipc_ring_try_send(&self->r, in, len, i));
		if (i < 4)
			continue;
		n = kipc_ring_try_recv(&self->r, out, sizeof(out), NULL);
		ASSERT_EQ(i - 4, smsg_check(out, n));
		ASSERT_EQ(POLLIN | POLLOUT, poll_events(self->fd));
	}
	EXPECT_EQ(start + 1000, self->r.hdr->head);
	EXPECT_LT(self->r.hdr->head, start);
}

/* Sleeping and waking */

TEST_F(ring, wait_validates_and_times_out)
{
	int64_t t0;
	struct kipc_ring_wait w = { .events = KIPC_RING_DATA };
	int flags;

	EXPECT_EQ(-EINVAL, ring_wait(self->fd, 0, 0, 0));
	EXPECT_EQ(-EINVAL, ring_wait(self->fd, 4, 0, 0));
	EXPECT_EQ(-EINVAL, ring_wait(self->fd, KIPC_RING_DATA, KIPC_F_PEEK, 0));
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(self->fd, KIPC_IOC_RING_WAKE, 4)));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(self->fd, KIPC_IOC_RING_WAIT, kt_bad_ptr())));
	EXPECT_EQ(-EFAULT, kt_ret(ioctl(self->fd, KIPC_IOC_RING_INFO, kt_bad_ptr())));
	w.flags = KIPC_F_TIMED;
	w.timeout.tv_nsec = 1000000000;
	EXPECT_EQ(-EINVAL, kt_ret(ioctl(self->fd, KIPC_IOC_RING_WAIT, &w)));

	/* What holds is returned at once. */
	EXPECT_EQ(KIPC_RING_ROOM, ring_wait(self->fd, KIPC_RING_ROOM, 0, -1));
	EXPECT_EQ(KIPC_RING_ROOM, ring_wait(self->fd, KIPC_RING_DATA | KIPC_RING_ROOM, 0, -1));
	EXPECT_EQ(-EAGAIN, ring_wait(self->fd, KIPC_RING_DATA, KIPC_F_NONBLOCK, -1));

	t0 = kt_now_ms();
	EXPECT_EQ(-ETIMEDOUT, ring_wait(self->fd, KIPC_RING_DATA, 0, 100));
	EXPECT_LE(95, kt_now_ms() - t0);
	/* The waiter went, and took its wake-up request with it. */
	EXPECT_EQ(0, self->r.hdr->wake_data);

	/* A deadline in the past, on either clock. */
	w.flags = KIPC_F_TIMED | KIPC_F_ABSTIME;
	w.timeout = (struct kipc_timeout){ .tv_sec = 1, .clockid = CLOCK_REALTIME };
	EXPECT_EQ(-ETIMEDOUT, kt_ret(ioctl(self->fd, KIPC_IOC_RING_WAIT, &w)));
	w.timeout = kt_abs_ms(CLOCK_MONOTONIC, 50);
	EXPECT_EQ(-ETIMEDOUT, kt_ret(ioctl(self->fd, KIPC_IOC_RING_WAIT, &w)));

	/* O_NONBLOCK on the fd: no sleeping, and the library says so. */
	flags = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, ring_wait(self->fd, KIPC_RING_DATA, 0, 1000));
	self->r.spin = 0;
	EXPECT_EQ(-1, kipc_ring_recv(&self->r, &w, sizeof(w), NULL, 0, NULL));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags));

	/* The library's own timeouts. */
	t0 = kt_now_ms();
	EXPECT_EQ(-1, kipc_ring_recv(&self->r, &w, sizeof(w), NULL, 0,
				     &(struct timespec){ .tv_nsec = 100000000 }));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_LE(95, kt_now_ms() - t0);
	EXPECT_EQ(-1, kipc_ring_recv(&self->r, &w, sizeof(w), NULL,
				     KIPC_F_NONBLOCK, NULL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, kipc_ring_recv(&self->r, &w, sizeof(w), NULL, KIPC_F_SYSV,
				     NULL));
	EXPECT_EQ(EINVAL, errno);
}

static void sigusr1(int sig)
{
}

TEST_F(ring, signal_interrupts_a_wait)
{
	struct sigaction sa = { .sa_handler = sigusr1 };
	struct kipc_stat st;
	pid_t pid;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret = ring_wait(self->fd, KIPC_RING_DATA, 0, 10000);

		_exit(ret == -EINTR ? 0 : 1);
	}
	ASSERT_TRUE(kt_wait_until(self->fd, &st, st.ring.data_waiters == 1));
	kill(pid, SIGUSR1);
	EXPECT_EQ(0, kt_wait(pid));
}

/* A child that receives one message with a blocking call and checks it. */
static int blocking_receiver(struct kipc_ring *r, const char *want)
{
	char buf[64];
	ssize_t n;

	r->spin = 0;
	n = kipc_ring_recv(r, buf, sizeof(buf), NULL, 0,
			   &(struct timespec){ .tv_sec = 10 });
	return n == (ssize_t)strlen(want) && !memcmp(buf, want, n) ? 0 : 1;
}

TEST_F(ring, sleeping_consumer_is_woken_by_a_post)
{
	struct kipc_stat st;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(blocking_receiver(&self->r, "wake up"));
	ASSERT_TRUE(kt_wait_until(self->fd, &st, st.ring.data_waiters == 1));
	/* The kernel asks the producer for a wake-up ... */
	EXPECT_EQ(1, self->r.hdr->wake_data);
	ASSERT_EQ(0, kipc_ring_try_send(&self->r, "wake up", 7, 0));
	EXPECT_EQ(0, kt_wait(pid));
	/* ... which cleared the request once nobody waited. */
	EXPECT_EQ(0, self->r.hdr->wake_data);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ(0, st.ring.data_waiters);
}

TEST_F(ring, sleeping_producer_is_woken_by_a_take)
{
	struct kipc_stat st;
	uint32_t i;
	pid_t pid;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, kipc_ring_try_send(&self->r, &i, sizeof(i), 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		self->r.spin = 0;
		_exit(kipc_ring_send(&self->r, &i, sizeof(i), 0, 0,
				     &(struct timespec){ .tv_sec = 10 }) ? 1 : 0);
	}
	ASSERT_TRUE(kt_wait_until(self->fd, &st, st.ring.room_waiters == 1));
	EXPECT_EQ(1, self->r.hdr->wake_room);
	EXPECT_EQ(8, st.ring.msgs);
	ASSERT_EQ(4, kipc_ring_try_recv(&self->r, &i, sizeof(i), NULL));
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, self->r.hdr->wake_room);
	for (i = 1; i <= 8; i++) {
		uint32_t v;

		ASSERT_EQ(4, kipc_ring_try_recv(&self->r, &v, sizeof(v), NULL));
		EXPECT_EQ(i, v);
	}
}

/* Without a sleeper, the fast path must not enter the kernel at all. */
static int no_ioctl_allowed(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

TEST_F(ring, uncontended_traffic_makes_no_system_call)
{
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[64];
		int i;

		if (no_ioctl_allowed())
			_exit(2);
		for (i = 0; i < 10000; i++) {
			if (kipc_ring_try_send(&self->r, &i, sizeof(i), 0) ||
			    kipc_ring_send(&self->r, &i, sizeof(i), 0, 0, NULL) ||
			    kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL) != 4 ||
			    kipc_ring_recv(&self->r, buf, sizeof(buf), NULL, 0, NULL) != 4)
				_exit(1);
		}
		_exit(0);
	}
	/* 128 + SIGSYS if the library called ioctl(). */
	EXPECT_EQ(0, kt_wait(pid));
}

TEST_F(ring, poll_and_epoll_follow_the_indices)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(EPOLL_CLOEXEC), round;
	char buf[64];
	pid_t pid;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	/* An epoll registration keeps asking the producer for wake-ups. */
	for (round = 0; round < 3; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			usleep(50000);
			_exit(kipc_ring_try_send(&self->r, "x", 1, 0) ? 1 : 0);
		}
		ASSERT_EQ(1, epoll_wait(ep, &out, 1, 10000));
		EXPECT_EQ(EPOLLIN, out.events);
		EXPECT_EQ(0, kt_wait(pid));
		ASSERT_EQ(1, kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL));
		EXPECT_EQ(0, epoll_wait(ep, &out, 1, 0));
	}
	close(ep);

	/* poll(2) for room on a full ring, freed by another process. */
	while (!kipc_ring_try_send(&self->r, "y", 1, 0))
		;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(50000);
		_exit(kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL) == 1 ? 0 : 1);
	}
	{
		struct pollfd p = { .fd = self->fd, .events = POLLOUT };

		ASSERT_EQ(1, poll(&p, 1, 10000));
		EXPECT_EQ(POLLOUT, p.revents);
	}
	EXPECT_EQ(0, kt_wait(pid));
}

TEST_F(ring, removal_wakes_sleepers_with_eidrm)
{
	struct kipc_stat st;
	pid_t pid[3];
	int i;

	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(ring_wait(self->fd, KIPC_RING_DATA, 0, 10000) ==
			      -EIDRM ? 0 : 1);
	}
	/* And one that polls for nothing but hang-ups. */
	pid[2] = fork();
	ASSERT_LE(0, pid[2]);
	if (pid[2] == 0) {
		struct pollfd p = { .fd = self->fd };

		_exit(poll(&p, 1, 10000) == 1 && p.revents == (POLLERR | POLLHUP) ?
		      0 : 1);
	}
	ASSERT_TRUE(kt_wait_until(self->fd, &st, st.ring.data_waiters == 3));
	ASSERT_EQ(0, kt_ret(ioctl(self->fd, KIPC_IOC_REMOVE)));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, kt_wait(pid[i]));
	EXPECT_EQ(POLLERR | POLLHUP, poll_events(self->fd));
	EXPECT_EQ(-EIDRM, ring_wait(self->fd, KIPC_RING_ROOM, 0, -1));
	/* The memory stays mapped: removal takes nothing from under a peer. */
	EXPECT_EQ(0, kipc_ring_try_send(&self->r, "z", 1, 0));
	/* But no new peer maps it, as with a removed region. */
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->r.map_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EIDRM, errno);
}

TEST_F(ring, killed_waiter_leaves_nothing_behind)
{
	struct kipc_stat st;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(ring_wait(self->fd, KIPC_RING_DATA, 0, -1));
	ASSERT_TRUE(kt_wait_until(self->fd, &st, st.ring.data_waiters == 1));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ(0, st.ring.data_waiters);
	EXPECT_EQ(0, self->r.hdr->wake_data);

	/* The next sleeper is woken as usual. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(blocking_receiver(&self->r, "next"));
	ASSERT_TRUE(kt_wait_until(self->fd, &st, st.ring.data_waiters == 1));
	ASSERT_EQ(0, kipc_ring_try_send(&self->r, "next", 4, 0));
	EXPECT_EQ(0, kt_wait(pid));
}

/* Streams between processes */

static unsigned long ring_msgs(void)
{
	const char *env = getenv("KIPC_RING_MSGS");

	return env ? strtoul(env, NULL, 0) : 1000000;
}

struct ledger {
	_Atomic long last;			/* the last message recorded */
	_Atomic unsigned char seen[];		/* per message: times recorded */
};

static struct ledger *ledger_new(unsigned long n)
{
	struct ledger *l = mmap(NULL, sizeof(*l) + n, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return l == MAP_FAILED ? NULL : l;
}

/* Send @n self-checking messages from @first, alternating both APIs. */
static int producer(int fd, unsigned long first, unsigned long n,
		    unsigned int spin)
{
	const struct timespec patience = { .tv_sec = 60 };
	unsigned char buf[256];
	struct kipc_ring r;
	unsigned long seq;

	if (kipc_ring_attach(&r, fd))
		return 10;
	r.spin = spin;
	for (seq = first; seq < first + n; seq++) {
		if (seq & 1) {
			size_t len = smsg_fill(buf, seq, r.slot_size);

			if (kipc_ring_send(&r, buf, len, seq, 0, &patience))
				return 11;
		} else {
			void *p;

			while (!(p = kipc_ring_reserve(&r)))
				if (errno != EAGAIN ||
				    kipc_ring_wait(&r, KIPC_RING_ROOM, 0,
						   &patience) < 0)
					return 12;
			if (kipc_ring_commit(&r, smsg_fill(p, seq, r.slot_size), seq))
				return 13;
		}
	}
	return 0;
}

/*
 * Take messages up to the last of @n, checking order and contents, and
 * record each in @l before taking it off the ring: a consumer killed in
 * between hands it to its successor again, which the ledger shows.
 */
static int consumer(int fd, struct ledger *l, unsigned long n,
		    unsigned int spin)
{
	const struct timespec patience = { .tv_sec = 60 };
	struct kipc_ring r;
	long expect = -1;

	if (kipc_ring_attach(&r, fd))
		return 20;
	r.spin = spin;
	for (;;) {
		const unsigned char *p;
		unsigned char copy[256];
		uint32_t tag;
		size_t len;
		long seq;

		p = kipc_ring_peek(&r, &len, &tag);
		if (!p) {
			if (errno != EAGAIN ||
			    kipc_ring_wait(&r, KIPC_RING_DATA, 0, &patience) < 0)
				return 21;
			continue;
		}
		memcpy(copy, p, len);
		seq = smsg_check(copy, len);
		if (seq < 0 || (unsigned long)seq >= n || (uint32_t)seq != tag)
			return 22;
		/* In order, or the one a killed predecessor left behind. */
		if (expect >= 0 && seq != expect)
			return 23;
		if (expect < 0 && seq != atomic_load(&l->last) + 1 &&
		    seq != atomic_load(&l->last))
			return 24;
		atomic_fetch_add(&l->seen[seq], 1);
		atomic_store(&l->last, seq);
		expect = seq + 1;
		if (kipc_ring_release(&r))
			return 25;
		if ((unsigned long)seq == n - 1)
			return 0;
	}
}

static void check_ledger(struct __test_metadata *_metadata,
			 struct ledger *l, unsigned long n, unsigned long dups)
{
	unsigned long i, missing = 0, twice = 0;

	for (i = 0; i < n; i++) {
		missing += l->seen[i] == 0;
		twice += l->seen[i] - (l->seen[i] > 0);
	}
	EXPECT_EQ(0, missing);
	EXPECT_GE(dups, twice);
}

static void stream(struct __test_metadata *_metadata, unsigned long n,
		   uint32_t slots, unsigned int spin)
{
	int dev = kt_dev(), fd;
	struct ledger *l;
	uint64_t objects;
	pid_t prod, cons;
	int64_t t0;

	ASSERT_LE(0, dev);
	objects = info_objects(dev);
	l = ledger_new(n);
	ASSERT_NE(NULL, l);
	l->last = -1;
	fd = ring_open(dev, slots, 256);
	ASSERT_LE(0, fd);
	cons = fork();
	ASSERT_LE(0, cons);
	if (cons == 0)
		_exit(consumer(fd, l, n, spin));
	t0 = kt_now_ms();
	prod = fork();
	ASSERT_LE(0, prod);
	if (prod == 0)
		_exit(producer(fd, 0, n, spin));
	EXPECT_EQ(0, kt_wait(prod));
	EXPECT_EQ(0, kt_wait(cons));
	t0 = kt_now_ms() - t0;
	TH_LOG("%lu messages in %lld ms", n, (long long)t0);
	check_ledger(_metadata, l, n, 0);
	close(fd);
	munmap(l, sizeof(*l) + n);
	EXPECT_EQ(objects, info_objects(dev));
	close(dev);
}

/* The long multi-process tests. */
FIXTURE(streams) {
};

FIXTURE_SETUP(streams)
{
}

FIXTURE_TEARDOWN(streams)
{
}

TEST_F_TIMEOUT(streams, million_messages_in_order_exactly_once, 600)
{
	stream(_metadata, ring_msgs(), 256, KIPC_RING_SPIN);
}

/* No spinning: every empty or full ring sleeps, so a lost wake-up shows. */
TEST_F_TIMEOUT(streams, sleeping_peers_lose_no_wake_up, 600)
{
	stream(_metadata, ring_msgs() / 50, 4, 0);
}

TEST_F_TIMEOUT(streams, killed_consumer_loses_no_message, 600)
{
	unsigned long n = ring_msgs() / 10, i;
	int dev = kt_dev(), fd;
	struct ledger *l;
	pid_t prod, cons;

	ASSERT_LE(0, dev);
	l = ledger_new(n);
	ASSERT_NE(NULL, l);
	l->last = -1;
	fd = ring_open(dev, 16, 256);
	ASSERT_LE(0, fd);
	prod = fork();
	ASSERT_LE(0, prod);
	if (prod == 0)
		_exit(producer(fd, 0, n, KIPC_RING_SPIN));

	/* Kill consumers at arbitrary points, each replaced by a fresh one. */
	for (i = 1; i <= 4; i++) {
		cons = fork();
		ASSERT_LE(0, cons);
		if (cons == 0)
			_exit(consumer(fd, l, n, i & 1 ? KIPC_RING_SPIN : 0));
		while (atomic_load(&l->last) < (long)(i * n / 5))
			usleep(1000);
		kill(cons, SIGKILL);
		ASSERT_EQ(128 + SIGKILL, kt_wait(cons));
	}
	cons = fork();
	ASSERT_LE(0, cons);
	if (cons == 0)
		_exit(consumer(fd, l, n, KIPC_RING_SPIN));
	EXPECT_EQ(0, kt_wait(prod));
	EXPECT_EQ(0, kt_wait(cons));
	/* Each killed consumer may hand its last message on again. */
	check_ledger(_metadata, l, n, 4);
	close(fd);
	munmap(l, sizeof(*l) + n);
	close(dev);
}

TEST_F(ring, consumer_killed_holding_a_message_leaves_it)
{
	int pipefd[2];
	size_t len;
	pid_t pid;
	char c;

	ASSERT_EQ(0, kipc_ring_try_send(&self->r, "first", 5, 1));
	ASSERT_EQ(0, kipc_ring_try_send(&self->r, "second", 6, 2));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_ring r;

		/* Its own attachment, as a separate consumer process would. */
		if (kipc_ring_attach(&r, self->fd) ||
		    !kipc_ring_peek(&r, &len, NULL))
			_exit(1);
		write(pipefd[1], "p", 1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, kt_wait(pid));
	close(pipefd[0]);
	close(pipefd[1]);

	/* The next consumer starts with the message the dead one held. */
	{
		char buf[16] = "";
		uint32_t tag;

		ASSERT_EQ(5, kipc_ring_try_recv(&self->r, buf, sizeof(buf), &tag));
		EXPECT_EQ(1, tag);
		ASSERT_EQ(6, kipc_ring_try_recv(&self->r, buf, sizeof(buf), &tag));
		EXPECT_EQ(2, tag);
	}
}

TEST_F_TIMEOUT(streams, killed_producer_leaves_no_trace, 600)
{
	unsigned long n = ring_msgs() / 10, done;
	int dev = kt_dev(), fd;
	struct kipc_ring r;
	struct ledger *l;
	pid_t prod, cons;

	ASSERT_LE(0, dev);
	l = ledger_new(n);
	ASSERT_NE(NULL, l);
	l->last = -1;
	fd = ring_open(dev, 16, 256);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kipc_ring_attach(&r, fd));
	cons = fork();
	ASSERT_LE(0, cons);
	if (cons == 0)
		_exit(consumer(fd, l, n, KIPC_RING_SPIN));
	prod = fork();
	ASSERT_LE(0, prod);
	if (prod == 0)
		_exit(producer(fd, 0, n, KIPC_RING_SPIN));
	while (atomic_load(&l->last) < (long)(n / 2))
		usleep(1000);
	kill(prod, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, kt_wait(prod));

	/* head is the whole producer state: the successor goes on from it. */
	done = r.hdr->head;
	ASSERT_GE(n, done);
	prod = fork();
	ASSERT_LE(0, prod);
	if (prod == 0)
		_exit(producer(fd, done, n - done, KIPC_RING_SPIN));
	EXPECT_EQ(0, kt_wait(prod));
	EXPECT_EQ(0, kt_wait(cons));
	check_ledger(_metadata, l, n, 0);
	kipc_ring_detach(&r);
	close(fd);
	munmap(l, sizeof(*l) + n);
	close(dev);
}

/* Hostile peers */

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* What the kernel must answer for @head and @tail on a ring of 8 slots. */
static void check_answers(struct __test_metadata *_metadata, int fd,
			  uint32_t head, uint32_t tail)
{
	uint32_t n = head - tail;
	int want_poll, want_wait, got;

	if (n > 8) {
		want_poll = POLLERR;
		want_wait = -EPROTO;
	} else {
		want_poll = (n ? POLLIN : 0) | (n < 8 ? POLLOUT : 0);
		want_wait = (n ? KIPC_RING_DATA : 0) | (n < 8 ? KIPC_RING_ROOM : 0);
		if (!want_wait)
			want_wait = -EAGAIN;
	}
	got = poll_events(fd);
	EXPECT_EQ(want_poll, got) {
		TH_LOG("head %u tail %u", head, tail);
	}
	got = ring_wait(fd, KIPC_RING_DATA | KIPC_RING_ROOM, KIPC_F_NONBLOCK, -1);
	EXPECT_EQ(want_wait, got) {
		TH_LOG("head %u tail %u", head, tail);
	}
}

TEST_F(ring, hostile_indices_get_sane_answers)
{
	static const uint32_t cases[][2] = {
		{ 9, 0 }, { 0, 1 }, { UINT32_MAX, 0 }, { 0, UINT32_MAX },
		{ 0x80000000u, 0 }, { 8, 0 }, { 7, 0 }, { 3, 3 },
		{ 2, UINT32_MAX - 5 }, { 100, UINT32_MAX - 5 },
	};
	struct kipc_ring_hdr *hdr = self->r.hdr;
	uint32_t s = 0x9e3779b9u, i, tag;
	struct kipc_stat st;
	char buf[512];
	size_t len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hdr->head = cases[i][0];
		hdr->tail = cases[i][1];
		check_answers(_metadata, self->fd, hdr->head, hdr->tail);
	}
	for (i = 0; i < 2000; i++) {
		hdr->head = xorshift(&s);
		/* Half of them near each other, the interesting region. */
		hdr->tail = i & 1 ? xorshift(&s) : hdr->head - (xorshift(&s) % 12);
		hdr->wake_data = xorshift(&s);
		hdr->wake_room = xorshift(&s);
		check_answers(_metadata, self->fd, hdr->head, hdr->tail);
		ASSERT_EQ(0, kt_stat(self->fd, &st));
		ASSERT_GE(8, st.ring.msgs);
	}

	/* A broken ring fails waits at once rather than sleep for ever. */
	hdr->head = 100;
	hdr->tail = 0;
	EXPECT_EQ(-EPROTO, ring_wait(self->fd, KIPC_RING_DATA, 0, -1));
	EXPECT_EQ(-EPROTO, ring_wait(self->fd, KIPC_RING_ROOM, 0, -1));
	/* The library refuses too, without touching anything out of range. */
	EXPECT_EQ(-1, kipc_ring_try_send(&self->r, "x", 1, 0));
	EXPECT_EQ(EPROTO, errno);
	EXPECT_EQ(-1, kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(EPROTO, errno);
	EXPECT_EQ(-1, kipc_ring_ready(&self->r));
	EXPECT_EQ(EPROTO, errno);

	/* A full ring as the producer sees it: waiting for room times out. */
	hdr->head = 8;
	hdr->tail = 0;
	EXPECT_EQ(-ETIMEDOUT, ring_wait(self->fd, KIPC_RING_ROOM, 0, 20));

	/* Lying descriptors: the message is skipped and reported. */
	hdr->head = 2;
	hdr->tail = 0;
	self->r.desc[0].len = 0xffffffffu;
	self->r.desc[1].len = 257;
	EXPECT_EQ(NULL, kipc_ring_peek(&self->r, &len, &tag));
	EXPECT_EQ(EBADMSG, errno);
	EXPECT_EQ(-1, kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(EBADMSG, errno);
	EXPECT_EQ(-1, kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL));
	EXPECT_EQ(EBADMSG, errno);
	EXPECT_EQ(2, hdr->tail);

	/* Repaired, it is a ring again. */
	hdr->head = hdr->tail = 12345;
	kipc_ring_detach(&self->r);
	ASSERT_EQ(0, kipc_ring_attach(&self->r, self->fd));
	ASSERT_EQ(0, kipc_ring_try_send(&self->r, "ok", 2, 0));
	EXPECT_EQ(2, kipc_ring_try_recv(&self->r, buf, sizeof(buf), NULL));
}

struct scribbler {
	struct kipc_ring_hdr *hdr;
	atomic_bool stop;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint32_t x = 12345;

	while (!atomic_load(&s->stop)) {
		__atomic_store_n(&s->hdr->head, xorshift(&x), __ATOMIC_RELAXED);
		__atomic_store_n(&s->hdr->tail, xorshift(&x) % 16, __ATOMIC_RELAXED);
		__atomic_store_n(&s->hdr->wake_data, xorshift(&x) & 1, __ATOMIC_RELAXED);
		__atomic_store_n(&s->hdr->wake_room, xorshift(&x) & 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F(ring, scribbling_peer_cannot_hang_waiters)
{
	struct scribbler s = { .hdr = self->r.hdr };
	int64_t t0 = kt_now_ms(), t;
	pthread_t th;
	int i, ret;

	ASSERT_EQ(0, pthread_create(&th, NULL, scribble, &s));
	for (i = 0; i < 300; i++) {
		t = kt_now_ms();
		ret = ring_wait(self->fd, i & 1 ? KIPC_RING_DATA : KIPC_RING_ROOM,
				0, 5);
		EXPECT_TRUE(ret == -ETIMEDOUT || ret == -EPROTO || ret > 0) {
			TH_LOG("wait returned %d", ret);
		}
		EXPECT_GT(2000, kt_now_ms() - t);
		ret = poll_events(self->fd);
		EXPECT_EQ(0, ret & ~(POLLIN | POLLOUT | POLLERR));
		kt_ret(ioctl(self->fd, KIPC_IOC_RING_WAKE,
			     KIPC_RING_DATA | KIPC_RING_ROOM));
	}
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	EXPECT_GT(60000, kt_now_ms() - t0);
}

TEST_HARNESS_MAIN
