// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which backend a process uses, and the stock calls behind ours.
 *
 * Never a silent fallback: when /dev/kipc cannot be used every routed call
 * fails with ENOSYS after one line on stderr, unless KIPC_FALLBACK=stock
 * asks for the kernel's own implementation.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compat.h"

static enum backend backend;
static atomic_bool backend_chosen;
static pthread_mutex_t backend_lock = PTHREAD_MUTEX_INITIALIZER;

static struct stock_calls stock_calls;
static pthread_once_t stock_once = PTHREAD_ONCE_INIT;

static void resolve_stock(void)
{
	/* RTLD_NEXT: the definition behind this library, libc's. */
#define STOCK_RESOLVE(name) \
	stock_calls.name = (__typeof__(&name))dlsym(RTLD_NEXT, #name);
	STOCK_CALLS(STOCK_RESOLVE)
#undef STOCK_RESOLVE
}

const struct stock_calls *stock(void)
{
	int saved = errno;

	pthread_once(&stock_once, resolve_stock);
	errno = saved;
	return &stock_calls;
}

/*
 * Why the device cannot be used: libkipc reports a missing module as
 * ENOSYS, but the notice should name the cause (ENOENT: no device node;
 * ENXIO, ENODEV: no driver behind it; EACCES...), which one more open
 * tells.
 */
static int device_error(void)
{
	int fd = open(KIPC_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return ENOSYS;
}

/*
 * Chosen once, on first use, unless the open fails for want of a
 * descriptor or memory (EMFILE, ENFILE, ENOMEM): that says nothing of the
 * module, so the call fails with that errno and the next one tries again.
 */
static int choose_backend(void)
{
	const char *fallback = getenv("KIPC_FALLBACK");

	if (kipc_device() >= 0) {
		backend = BACKEND_KIPC;
		return 0;
	}
	if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
		return -1;
	if (fallback && !strcmp(fallback, "stock")) {
		backend = BACKEND_STOCK;
		return 0;
	}
	fprintf(stderr, "libkipc-compat: %s unavailable (%s); IPC calls fail with ENOSYS (KIPC_FALLBACK=stock uses the kernel's own)\n",
		KIPC_DEVICE_PATH, strerror(device_error()));
	backend = BACKEND_NONE;
	return 0;
}

enum backend which(void)
{
	int saved = errno, err = 0, cs;

	if (!atomic_load_explicit(&backend_chosen, memory_order_acquire)) {
		/* Its open and its notice are no cancellation points of ours. */
		cs = nocancel_begin();
		pthread_mutex_lock(&backend_lock);
		if (!atomic_load_explicit(&backend_chosen, memory_order_relaxed)) {
			if (choose_backend())
				err = errno;
			else
				atomic_store_explicit(&backend_chosen, true,
						      memory_order_release);
		}
		pthread_mutex_unlock(&backend_lock);
		nocancel_end(cs);
		if (err) {
			errno = err;
			return BACKEND_NONE;
		}
	}
	errno = backend == BACKEND_NONE ? ENOSYS : saved;
	return backend;
}

mode_t current_umask(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	char line[128];
	mode_t mask = 022;
	int cs = nocancel_begin();
	FILE *f = fopen("/proc/self/status", "re");

	/* umask(2) can only be read by setting it: racy without /proc. */
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Umask: %o", &mask) == 1)
				break;
		fclose(f);
		nocancel_end(cs);
		return mask;
	}
	nocancel_end(cs);
	pthread_mutex_lock(&lock);
	mask = umask(0);
	umask(mask);
	pthread_mutex_unlock(&lock);
	return mask;
}

const char *posix_obj_name(const char *name, size_t max)
{
	if (!name) {
		errno = EINVAL;
		return NULL;
	}
	while (*name == '/')
		name++;
	if (strlen(name) > max) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!*name || strchr(name, '/')) {
		errno = EINVAL;
		return NULL;
	}
	return name;
}

int open_flags(int oflag)
{
	int flags = KIPC_O_CLOEXEC;

	switch (oflag & O_ACCMODE) {
	case O_WRONLY:
		flags |= KIPC_O_WRONLY;
		break;
	case O_RDWR:
		flags |= KIPC_O_RDWR;
		break;
	}
	if (oflag & O_CREAT)
		flags |= KIPC_O_CREAT;
	if (oflag & O_EXCL)
		flags |= KIPC_O_EXCL;
	if (oflag & O_NONBLOCK)
		flags |= KIPC_O_NONBLOCK;
	return flags;
}

int cancel_enter(void)
{
	int saved = errno, old;

	/* Acts at once on a cancel already pending, as glibc's do. */
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
	errno = saved;
	return old;
}

void cancel_leave(int old)
{
	int saved = errno;

	pthread_setcanceltype(old, NULL);
	errno = saved;
}

int nocancel_begin(void)
{
	int saved = errno, old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	errno = saved;
	return old;
}

void nocancel_end(int old)
{
	int saved = errno;

	pthread_setcancelstate(old, NULL);
	errno = saved;
}

void close_nocancel(int fd)
{
	int cs = nocancel_begin();

	close(fd);
	nocancel_end(cs);
}

/*
 * process_vm_readv() and _writev() on ourselves copy or fail with EFAULT,
 * as a system call's copy_from_user() does.  Where they are refused
 * (a seccomp filter: ENOSYS or EPERM), a plain copy.
 */
static int copy_self(void *dst, const void *src, size_t len, bool out)
{
	struct iovec local = { .iov_base = out ? (void *)src : dst,
			       .iov_len = len };
	struct iovec remote = { .iov_base = out ? dst : (void *)src,
				.iov_len = len };
	ssize_t n;

	if (!len)
		return 0;
	n = out ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0) :
		  process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		memcpy(dst, src, len);
		return 0;
	}
	errno = EFAULT;
	return -1;
}

int copy_in(void *dst, const void *src, size_t len)
{
	return copy_self(dst, src, len, false);
}

int copy_out(void *dst, const void *src, size_t len)
{
	return copy_self(dst, src, len, true);
}
