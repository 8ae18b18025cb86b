// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkipc rings: the user-space half of the protocol in <linux/kipc.h>.
 *
 * Every index read from the shared header may be garbage written by a
 * broken or hostile peer, so every slot address is masked into the ring and
 * every descriptor length checked against the slot size: a bad peer can
 * garble its own messages, never make this process touch memory outside the
 * mapping.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kipc.h"
#include "spin.h"

#define KIPC_EXPORT __attribute__((visibility("default")))

#define load_relaxed(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)

KIPC_EXPORT int kipc_ring_create(const char *name, int flags, mode_t mode,
				 uint32_t slots, uint32_t slot_size)
{
	struct kipc_ring_attr attr = {
		.slots = slots,
		.slot_size = slot_size,
	};

	return kipc_open(KIPC_TYPE_RING, name, flags, mode, &attr, NULL);
}

KIPC_EXPORT int kipc_ring_attach(struct kipc_ring *r, int fd)
{
	struct kipc_ring_info info;
	unsigned char *p;
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (ioctl(fd, KIPC_IOC_RING_INFO, &info) < 0) {
		if (errno == ENOTTY)
			errno = ENODEV;
		return -1;
	}
	if (info.map_size > SIZE_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	p = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	/*
	 * Our own fd for the wake-ups, so that closing (and reusing) the
	 * caller's can never aim one at an unrelated file.
	 */
	r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (r->fd < 0) {
		err = errno;
		munmap(p, info.map_size);
		errno = err;
		return -1;
	}
	r->hdr = (struct kipc_ring_hdr *)p;
	r->desc = (struct kipc_ring_desc *)(p + info.desc_offset);
	r->data = p + info.slot_offset;
	r->map_size = info.map_size;
	r->slots = info.slots;
	r->slot_size = info.slot_size;
	r->spin = KIPC_RING_SPIN;
	r->spin_now = KIPC_RING_SPIN;
	r->peer_head = load_acquire(&r->hdr->head);
	r->peer_tail = load_acquire(&r->hdr->tail);
	return 0;
}

KIPC_EXPORT int kipc_ring_detach(struct kipc_ring *r)
{
	int ret = 0;

	if (r->hdr)
		ret = munmap(r->hdr, r->map_size);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	return ret;
}

KIPC_EXPORT int kipc_ring_wake(struct kipc_ring *r, unsigned int events)
{
	return ioctl(r->fd, KIPC_IOC_RING_WAKE, (unsigned long)events);
}

/*
 * Store our index, then read the flag the kernel sets before it reads the
 * indices to decide whether to sleep: a sequentially consistent store and
 * load, so that one side sees the other's store (see the UAPI header).
 */
static void publish(struct kipc_ring *r, uint32_t *index, uint32_t value,
		    const uint32_t *flag, unsigned int event)
{
	__atomic_store_n(index, value, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(flag, __ATOMIC_SEQ_CST))
		kipc_ring_wake(r, event);
}

static unsigned char *slot(const struct kipc_ring *r, uint32_t index)
{
	return r->data + (size_t)(index & (r->slots - 1)) * r->slot_size;
}

/* Producer: is there a free slot at @head?  The cached tail first. */
static int has_room(struct kipc_ring *r, uint32_t head)
{
	uint32_t used = head - r->peer_tail;

	if (used < r->slots)
		return 0;
	r->peer_tail = load_acquire(&r->hdr->tail);
	used = head - r->peer_tail;
	if (used < r->slots)
		return 0;
	errno = used == r->slots ? EAGAIN : EPROTO;
	return -1;
}

/* Consumer: is there a message at @tail?  The cached head first. */
static int has_data(struct kipc_ring *r, uint32_t tail)
{
	uint32_t n = r->peer_head - tail;

	if (n - 1 < r->slots)
		return 0;
	r->peer_head = load_acquire(&r->hdr->head);
	n = r->peer_head - tail;
	if (n - 1 < r->slots)
		return 0;
	errno = n ? EPROTO : EAGAIN;
	return -1;
}

KIPC_EXPORT void *kipc_ring_reserve(struct kipc_ring *r)
{
	uint32_t head = load_relaxed(&r->hdr->head);

	return has_room(r, head) ? NULL : slot(r, head);
}

KIPC_EXPORT int kipc_ring_commit(struct kipc_ring *r, size_t len, uint32_t tag)
{
	uint32_t head = load_relaxed(&r->hdr->head);
	struct kipc_ring_desc *d;

	if (len > r->slot_size) {
		errno = EMSGSIZE;
		return -1;
	}
	if (has_room(r, head))
		return -1;
	d = &r->desc[head & (r->slots - 1)];
	d->len = len;
	d->tag = tag;
	publish(r, &r->hdr->head, head + 1, &r->hdr->wake_data, KIPC_RING_DATA);
	return 0;
}

KIPC_EXPORT int kipc_ring_try_send(struct kipc_ring *r, const void *buf,
				   size_t len, uint32_t tag)
{
	void *p;

	if (len > r->slot_size) {
		errno = EMSGSIZE;
		return -1;
	}
	p = kipc_ring_reserve(r);
	if (!p)
		return -1;
	memcpy(p, buf, len);
	return kipc_ring_commit(r, len, tag);
}

KIPC_EXPORT const void *kipc_ring_peek(struct kipc_ring *r, size_t *len,
				       uint32_t *tag)
{
	uint32_t tail = load_relaxed(&r->hdr->tail);
	const struct kipc_ring_desc *d;
	uint32_t n;

	if (has_data(r, tail))
		return NULL;
	d = &r->desc[tail & (r->slots - 1)];
	/* Read once: the producer may rewrite it under our feet. */
	n = load_relaxed(&d->len);
	if (n > r->slot_size) {
		errno = EBADMSG;
		return NULL;
	}
	*len = n;
	if (tag)
		*tag = load_relaxed(&d->tag);
	return slot(r, tail);
}

KIPC_EXPORT int kipc_ring_release(struct kipc_ring *r)
{
	uint32_t tail = load_relaxed(&r->hdr->tail);

	if (has_data(r, tail))
		return -1;
	publish(r, &r->hdr->tail, tail + 1, &r->hdr->wake_room, KIPC_RING_ROOM);
	return 0;
}

KIPC_EXPORT ssize_t kipc_ring_try_recv(struct kipc_ring *r, void *buf,
				       size_t len, uint32_t *tag)
{
	const void *p;
	size_t n;

	p = kipc_ring_peek(r, &n, tag);
	if (!p) {
		/* A message nobody can read: skip it, and say so. */
		if (errno == EBADMSG) {
			kipc_ring_release(r);
			errno = EBADMSG;
		}
		return -1;
	}
	if (n > len) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(buf, p, n);
	if (kipc_ring_release(r))
		return -1;
	return n;
}

/*
 * A consistent reading of the indices, as the kernel makes it: head again
 * after tail, and if it did not move, the pair existed when tail was read.
 */
KIPC_EXPORT int kipc_ring_ready(struct kipc_ring *r)
{
	uint32_t head, tail, n;
	int i;

	for (i = 0; i < 4; i++) {
		head = load_acquire(&r->hdr->head);
		tail = load_acquire(&r->hdr->tail);
		if (load_acquire(&r->hdr->head) != head)
			continue;
		n = head - tail;
		if (n > r->slots) {
			errno = EPROTO;
			return -1;
		}
		return (n ? KIPC_RING_DATA : 0) | (n < r->slots ? KIPC_RING_ROOM : 0);
	}
	return KIPC_RING_DATA;
}

KIPC_EXPORT int kipc_ring_wait(struct kipc_ring *r, unsigned int events,
			       int flags, const struct timespec *timeout)
{
	struct kipc_ring_wait w;
	unsigned int i, budget;
	int ready;

	if (!events || (events & ~(KIPC_RING_DATA | KIPC_RING_ROOM)) ||
	    (flags & ~(KIPC_F_NONBLOCK | KIPC_F_ABSTIME))) {
		errno = EINVAL;
		return -1;
	}
	budget = spin_budget(r->spin_now, r->spin);
	for (i = 0;;) {
		uint32_t head, tail;

		ready = kipc_ring_ready(r);
		if (ready < 0)
			return -1;
		if (ready & events) {
			if (i)
				spin_learn(&r->spin_now, &r->spin_sleeps,
					   r->spin, i, false);
			return ready & events;
		}
		if (i >= budget)
			break;
		/*
		 * Until an index moves, the answer stays the same.  A pause
		 * costs more than a peer usually takes to answer (over 100
		 * cycles on recent x86, a trip through QEMU's global lock
		 * under TCG), so look a few times between pauses.
		 */
		head = load_relaxed(&r->hdr->head);
		tail = load_relaxed(&r->hdr->tail);
		do {
			if (!(i & 15))
				cpu_relax();
		} while (++i < budget && load_relaxed(&r->hdr->head) == head &&
			 load_relaxed(&r->hdr->tail) == tail);
	}
	if (flags & KIPC_F_NONBLOCK) {
		errno = EAGAIN;
		return -1;
	}
	spin_learn(&r->spin_now, &r->spin_sleeps, r->spin, i, true);

	memset(&w, 0, sizeof(w));
	w.events = events;
	if (timeout) {
		w.flags = KIPC_F_TIMED | (flags & KIPC_F_ABSTIME);
		w.timeout.tv_sec = timeout->tv_sec;
		w.timeout.tv_nsec = timeout->tv_nsec;
		w.timeout.clockid = CLOCK_MONOTONIC;
	}
	return ioctl(r->fd, KIPC_IOC_RING_WAIT, &w);
}

/* A relative timeout becomes absolute once, so that retries do not stretch it. */
static const struct timespec *deadline(const struct timespec *timeout,
				       int flags, struct timespec *abs)
{
	if (!timeout || (flags & KIPC_F_ABSTIME))
		return timeout;
	clock_gettime(CLOCK_MONOTONIC, abs);
	abs->tv_sec += timeout->tv_sec;
	abs->tv_nsec += timeout->tv_nsec;
	if (abs->tv_nsec >= 1000000000L) {
		abs->tv_sec++;
		abs->tv_nsec -= 1000000000L;
	}
	return abs;
}

static int check_flags(int flags)
{
	if (flags & ~(KIPC_F_NONBLOCK | KIPC_F_ABSTIME)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

KIPC_EXPORT int kipc_ring_send(struct kipc_ring *r, const void *buf,
			       size_t len, uint32_t tag, int flags,
			       const struct timespec *timeout)
{
	const struct timespec *until;
	struct timespec abs;

	if (check_flags(flags))
		return -1;
	until = deadline(timeout, flags, &abs);
	for (;;) {
		if (!kipc_ring_try_send(r, buf, len, tag))
			return 0;
		if (errno != EAGAIN || (flags & KIPC_F_NONBLOCK))
			return -1;
		if (kipc_ring_wait(r, KIPC_RING_ROOM,
				   until ? KIPC_F_ABSTIME : 0, until) < 0)
			return -1;
	}
}

KIPC_EXPORT ssize_t kipc_ring_recv(struct kipc_ring *r, void *buf, size_t len,
				   uint32_t *tag, int flags,
				   const struct timespec *timeout)
{
	const struct timespec *until;
	struct timespec abs;
	ssize_t n;

	if (check_flags(flags))
		return -1;
	until = deadline(timeout, flags, &abs);
	for (;;) {
		n = kipc_ring_try_recv(r, buf, len, tag);
		if (n >= 0)
			return n;
		if (errno != EAGAIN || (flags & KIPC_F_NONBLOCK))
			return -1;
		if (kipc_ring_wait(r, KIPC_RING_DATA,
				   until ? KIPC_F_ABSTIME : 0, until) < 0)
			return -1;
	}
}
