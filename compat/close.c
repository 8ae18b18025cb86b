// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The descriptors the layer keeps for itself, and the calls that close
 * them behind its back.
 *
 * The layer caches fds: one per SysV id a process uses (ids.c) and one per
 * sem_open() handle (sem.c); libkipc caches its /dev/kipc fd.  A daemon
 * closes every fd it did not open itself (a close() loop, closefrom(),
 * close_range(), or dup2() of /dev/null over each), and the numbers are
 * then reused by whatever it opens next.  An fd of ours acted on after that
 * would be an unrelated file, or worse another kipc object's fd.  So
 * close(), closefrom(), close_range(), dup2() and dup3() are interposed:
 * when they are about to close an fd of ours, the cache entries holding it
 * are marked gone (the call itself still closes it, as the program asked),
 * and the next use of the id or handle opens a new fd.  The cost for other
 * fds is one bit test.  libkipc checks its cached /dev/kipc fd with fstat()
 * on each use instead (kipc_device(3)).
 *
 * Not seen: an fd closed by the raw system call (syscall(SYS_close)),
 * bypassing libc; kipc_compat(7) lists it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

#include "compat.h"

/* One bit per fd below OWNED_MAX; above it, a count of ours. */
#define OWNED_MAX	65536
#define WORD_BITS	(8 * sizeof(unsigned long))

static _Atomic unsigned long owned[OWNED_MAX / WORD_BITS];
static atomic_int owned_high;

void fd_own(int fd)
{
	if (fd < 0)
		return;
	if (fd >= OWNED_MAX)
		atomic_fetch_add(&owned_high, 1);
	else
		atomic_fetch_or(&owned[fd / WORD_BITS], 1UL << (fd % WORD_BITS));
}

void fd_disown(int fd)
{
	if (fd < 0)
		return;
	if (fd >= OWNED_MAX)
		atomic_fetch_sub(&owned_high, 1);
	else
		atomic_fetch_and(&owned[fd / WORD_BITS],
				 ~(1UL << (fd % WORD_BITS)));
}

/* Could an fd in [@lo, @hi] be ours? */
static bool owned_in(unsigned int lo, unsigned int hi)
{
	unsigned int fd;

	if (hi >= OWNED_MAX && atomic_load(&owned_high) > 0)
		return true;
	if (lo >= OWNED_MAX)
		return false;
	if (hi >= OWNED_MAX)
		hi = OWNED_MAX - 1;
	for (fd = lo; fd <= hi; fd++) {
		unsigned long w = atomic_load_explicit(&owned[fd / WORD_BITS],
						       memory_order_relaxed);

		if (!w) {
			fd |= WORD_BITS - 1;	/* the next word */
			continue;
		}
		if (w & (1UL << (fd % WORD_BITS)))
			return true;
	}
	return false;
}

/* Ours in [@lo, @hi] are about to be closed: forget them. */
static void fds_gone(unsigned int lo, unsigned int hi)
{
	int saved = errno;

	if (!owned_in(lo, hi))
		return;
	if (hi > INT_MAX)
		hi = INT_MAX;
	ids_fds_gone(lo, hi);
	ksem_fds_gone(lo, hi);
	errno = saved;
}

KIPC_EXPORT int close(int fd)
{
	if (fd >= 0)
		fds_gone(fd, fd);
	return stock()->close(fd);
}

/* closefrom and close_range are glibc 2.34's: absent, the system call. */
KIPC_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	/* CLOEXEC only marks them (ours already are); UNSHARE closes. */
	if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last)
		fds_gone(first, last);
	if (!stock()->close_range)
		return syscall(SYS_close_range, first, last, flags);
	return stock()->close_range(first, last, flags);
}

KIPC_EXPORT void closefrom(int lowfd)
{
	if (lowfd < 0)
		return;
	fds_gone(lowfd, UINT_MAX);
	if (stock()->closefrom)
		stock()->closefrom(lowfd);
	else
		syscall(SYS_close_range, lowfd, ~0U, 0);
}

KIPC_EXPORT int dup2(int oldfd, int newfd)
{
	if (newfd >= 0 && newfd != oldfd)
		fds_gone(newfd, newfd);
	return stock()->dup2(oldfd, newfd);
}

KIPC_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (newfd >= 0 && newfd != oldfd)
		fds_gone(newfd, newfd);
	return stock()->dup3(oldfd, newfd, flags);
}
