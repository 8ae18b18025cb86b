// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkipc's semaphore fast path: the user-space half of the ownership
 * protocol of KIPC_SEM_KERNEL in <linux/kipc.h>.
 *
 * A word without KIPC_SEM_KERNEL is the counter's value and ours to change
 * by compare-and-swap; with it, the kernel holds the value (a task sleeps on
 * the counter, someone polls it, or the set is gone) and only the ioctl may
 * change it.  The kernel sets the bit atomically before it reads a value, so
 * a compare-and-swap that succeeds was never overtaken by the kernel, and
 * one that fails re-reads the word and decides again.  The words are shared
 * with every process that maps the set, trusted ones or not: a word is only
 * ever used as a value here, never as an index or a size.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kipc.h"
#include "spin.h"

#define KIPC_EXPORT __attribute__((visibility("default")))

KIPC_EXPORT int kipc_semmap_attach(struct kipc_semmap *m, int fd)
{
	struct kipc_stat st;
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (kipc_stat(fd, &st) < 0)
		return -1;
	if (st.type != KIPC_TYPE_SEM || !st.sem.nsems) {
		errno = ENODEV;
		return -1;
	}
	m->nsems = st.sem.nsems;
	m->max_value = st.sem.max_value;
	m->map_size = ((size_t)m->nsems * sizeof(uint32_t) + page - 1) &
		      ~((size_t)page - 1);
	p = mmap(NULL, m->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	/* As kipc_ring_attach(): the caller's fd may be closed and reused. */
	m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (m->fd < 0) {
		err = errno;
		munmap(p, m->map_size);
		errno = err;
		return -1;
	}
	m->words = p;
	m->spin = KIPC_SEMMAP_SPIN;
	m->spin_now = KIPC_SEMMAP_SPIN;
	return 0;
}

KIPC_EXPORT int kipc_semmap_detach(struct kipc_semmap *m)
{
	if (m->words)
		munmap(m->words, m->map_size);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	return 0;
}

/* 0 taken, 1 zero (spin or sleep), -1 the kernel owns it. */
static int try_take(uint32_t *word)
{
	uint32_t v = __atomic_load_n(word, __ATOMIC_RELAXED);

	for (;;) {
		if (v & KIPC_SEM_KERNEL)
			return -1;
		if (!v)
			return 1;
		if (__atomic_compare_exchange_n(word, &v, v - 1, true,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 0;
	}
}

KIPC_EXPORT int kipc_semmap_wait(struct kipc_semmap *m, unsigned int num,
				 int flags, clockid_t clock,
				 const struct timespec *timeout)
{
	struct kipc_sembuf op = { .num = num, .delta = -1 };
	unsigned int i, budget;
	int ret;

	if (num >= m->nsems) {
		errno = EFBIG;
		return -1;
	}
	budget = spin_budget(m->spin_now, m->spin);
	for (i = 0;; i++) {
		ret = try_take(&m->words[num]);
		if (!ret) {
			if (i)
				spin_learn(&m->spin_now, &m->spin_sleeps,
					   m->spin, i, false);
			return 0;
		}
		if (ret < 0)
			break;
		if (i >= budget) {
			spin_learn(&m->spin_now, &m->spin_sleeps, m->spin, i,
				   true);
			break;
		}
		if (!(i & 15))
			cpu_relax();
	}
	/* The kernel re-checks under its lock: a post in between is seen. */
	return kipc_semop(m->fd, &op, 1, flags, clock, timeout);
}

KIPC_EXPORT int kipc_semmap_post(struct kipc_semmap *m, unsigned int num)
{
	struct kipc_sembuf op = { .num = num, .delta = 1 };
	uint32_t v;

	if (num >= m->nsems) {
		errno = EFBIG;
		return -1;
	}
	v = __atomic_load_n(&m->words[num], __ATOMIC_RELAXED);
	while (!(v & KIPC_SEM_KERNEL) && v < m->max_value)
		if (__atomic_compare_exchange_n(&m->words[num], &v, v + 1, true,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return 0;
	/* Someone sleeps on it, or it is at the limit: the kernel says which. */
	return kipc_semop(m->fd, &op, 1, 0, CLOCK_MONOTONIC, NULL);
}
