/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Spin-then-sleep, shared by rings and mapped semaphores (internal).
 *
 * Spinning wins when the peer runs on another CPU and answers within the
 * spin; when it shares our CPU (or is slow) every spin is time taken from
 * the very task we wait for.  So the budget adapts: a wait that ends while
 * spinning keeps (or raises) it, one that has to sleep halves it, and every
 * SPIN_REPROBE sleeps the full budget is tried once again, in case the peer
 * has moved to another CPU.
 */
#ifndef LIBKIPC_SPIN_H
#define LIBKIPC_SPIN_H

#include <stdbool.h>
#include <stdint.h>

#define SPIN_REPROBE	128

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* This wait's budget: never above @max, the caller's setting. */
static inline unsigned int spin_budget(uint32_t now, unsigned int max)
{
	return now < max ? now : max;
}

/* Learn from a wait that spun @used times and then did (not) sleep. */
static inline void spin_learn(uint32_t *now, uint32_t *sleeps,
			      unsigned int max, unsigned int used, bool slept)
{
	uint64_t want;

	if (!slept) {
		want = 2 * (uint64_t)used + 64;
		if (want > *now)
			*now = want < max ? want : max;
		return;
	}
	*now /= 2;
	if (++*sleeps % SPIN_REPROBE == 0)
		*now = max;
}

#endif /* LIBKIPC_SPIN_H */
