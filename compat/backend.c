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
#include <sys/stat.h>

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
		KIPC_DEVICE_PATH, strerror(errno));
	backend = BACKEND_NONE;
	return 0;
}

enum backend which(void)
{
	int saved = errno, err = 0;

	if (!atomic_load_explicit(&backend_chosen, memory_order_acquire)) {
		pthread_mutex_lock(&backend_lock);
		if (!atomic_load_explicit(&backend_chosen, memory_order_relaxed)) {
			if (choose_backend())
				err = errno;
			else
				atomic_store_explicit(&backend_chosen, true,
						      memory_order_release);
		}
		pthread_mutex_unlock(&backend_lock);
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
	FILE *f = fopen("/proc/self/status", "re");

	/* umask(2) can only be read by setting it: racy without /proc. */
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Umask: %o", &mask) == 1)
				break;
		fclose(f);
		return mask;
	}
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
