/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Semaphore helpers for the selftests, over kipc_test.h: -errno returns,
 * and the user-space half of the mapped fast path (see KIPC_SEM_KERNEL in
 * the UAPI header).
 */
#ifndef KIPC_SEM_H
#define KIPC_SEM_H

#include <stdatomic.h>
#include <sys/mman.h>

#include "kipc_test.h"

static inline int kt_sem(int dev, const char *name, uint32_t flags,
			 uint32_t mode, uint32_t nsems, uint32_t semflags,
			 uint32_t value, uint32_t *id)
{
	struct kipc_sem_attr attr = {
		.nsems = nsems, .flags = semflags, .value = value,
	};

	return kt_open(dev, KIPC_TYPE_SEM, name, flags, mode, &attr,
		       sizeof(attr), id);
}

/* An anonymous read-write SysV-shaped set. */
static inline int kt_anon_sem(int dev, uint32_t nsems, uint32_t value)
{
	return kt_sem(dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, nsems, 0,
		      value, NULL);
}

static inline int kt_semop(int fd, const struct kipc_sembuf *ops,
			   uint32_t nops, uint32_t flags,
			   const struct kipc_timeout *to)
{
	struct kipc_semop req;

	memset(&req, 0, sizeof(req));
	req.ops = (uintptr_t)ops;
	req.nops = nops;
	req.flags = flags;
	if (to)
		req.timeout = *to;
	return kt_ret(ioctl(fd, KIPC_IOC_SEM_OP, &req));
}

/* One operation: counter @num by @delta with KIPC_SEMOP_* @opflags. */
static inline int kt_sem1(int fd, uint32_t num, int32_t delta,
			  uint32_t opflags, uint32_t flags,
			  const struct kipc_timeout *to)
{
	struct kipc_sembuf op = { .num = num, .delta = delta, .flags = opflags };

	return kt_semop(fd, &op, 1, flags, to);
}

static inline int kt_semval(int fd, uint32_t num, struct kipc_semval *v)
{
	memset(v, 0, sizeof(*v));
	v->num = num;
	return kt_ret(ioctl(fd, KIPC_IOC_SEM_GETVAL, v));
}

/* The value of counter @num, or -errno. */
static inline int kt_getval(int fd, uint32_t num)
{
	struct kipc_semval v;
	int ret = kt_semval(fd, num, &v);

	return ret ? ret : v.value;
}

static inline int kt_ncnt(int fd, uint32_t num)
{
	struct kipc_semval v;
	int ret = kt_semval(fd, num, &v);

	return ret ? ret : (int)v.ncnt;
}

static inline int kt_zcnt(int fd, uint32_t num)
{
	struct kipc_semval v;
	int ret = kt_semval(fd, num, &v);

	return ret ? ret : (int)v.zcnt;
}

static inline int kt_setval(int fd, uint32_t num, int32_t value)
{
	struct kipc_semval v = { .num = num, .value = value };

	return kt_ret(ioctl(fd, KIPC_IOC_SEM_SETVAL, &v));
}

static inline int kt_getall(int fd, int32_t *vals, uint32_t count)
{
	struct kipc_semall a = { .values = (uintptr_t)vals, .count = count };

	return kt_ret(ioctl(fd, KIPC_IOC_SEM_GETALL, &a));
}

static inline int kt_setall(int fd, const int32_t *vals, uint32_t count)
{
	struct kipc_semall a = { .values = (uintptr_t)vals, .count = count };

	return kt_ret(ioctl(fd, KIPC_IOC_SEM_SETALL, &a));
}

/* Poll @expr (an int) until it equals @want, up to ~5 s. */
#define kt_sem_until(expr, want) ({					\
	int __i, __ok = 0;						\
	for (__i = 0; __i < 5000; __i++) {				\
		if ((expr) == (want)) {					\
			__ok = 1;					\
			break;						\
		}							\
		usleep(1000);						\
	}								\
	__ok;								\
})

/* The mapped counter words of a set, or NULL. */
static inline _Atomic uint32_t *kt_sem_map(int fd, uint32_t nsems, int prot)
{
	void *p = mmap(NULL, nsems * sizeof(uint32_t), prot, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Lower a counter by one in user space: 0, -EAGAIN at zero, or -EBUSY when
 * the kernel holds the counter.
 */
static inline int kt_fast_trywait(_Atomic uint32_t *w)
{
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);

	while (!(v & KIPC_SEM_KERNEL) && v > 0)
		if (atomic_compare_exchange_weak_explicit(w, &v, v - 1,
							  memory_order_acquire,
							  memory_order_relaxed))
			return 0;
	return (v & KIPC_SEM_KERNEL) ? -EBUSY : -EAGAIN;
}

/* Raise a counter by one in user space: 0, or -EBUSY to use the ioctl. */
static inline int kt_fast_trypost(_Atomic uint32_t *w, uint32_t max)
{
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);

	while (!(v & KIPC_SEM_KERNEL) && v < max)
		if (atomic_compare_exchange_weak_explicit(w, &v, v + 1,
							  memory_order_release,
							  memory_order_relaxed))
			return 0;
	return -EBUSY;
}

/* sem_wait() and sem_post() over the fast path, falling back to the ioctl. */
static inline int kt_fast_wait(int fd, _Atomic uint32_t *words, uint32_t num)
{
	if (!kt_fast_trywait(&words[num]))
		return 0;
	return kt_sem1(fd, num, -1, 0, 0, NULL);
}

static inline int kt_fast_post(int fd, _Atomic uint32_t *words, uint32_t num,
			       uint32_t max)
{
	if (!kt_fast_trypost(&words[num], max))
		return 0;
	return kt_sem1(fd, num, 1, 0, 0, NULL);
}

#endif /* KIPC_SEM_H */
