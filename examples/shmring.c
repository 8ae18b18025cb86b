// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A ring buffer in a kipc shared region, guarded by a kipc semaphore set:
 * the classic bounded buffer with counters "free slots" and "used slots".
 * The parent writes records into the ring, a forked child reads them back
 * and checks them.  One producer and one consumer need no lock besides the
 * two counters: each side owns its own index.
 *
 *   shmring [COUNT]
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kipc.h>

#define SLOTS	16

enum { SEM_FREE, SEM_USED };

struct ring {
	uint64_t slot[SLOTS];
};

/* Counter @num by @delta, waiting as long as it takes. */
static int sem_op(int sem, unsigned int num, int delta)
{
	struct kipc_sembuf op = { .num = num, .delta = delta };

	while (kipc_semop(sem, &op, 1, 0, CLOCK_MONOTONIC, NULL)) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

static uint64_t record(unsigned int i)
{
	return (uint64_t)i * 2654435761u;
}

static int consume(struct ring *r, int sem, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		uint64_t v;

		if (sem_op(sem, SEM_USED, -1))
			return 2;
		v = r->slot[i % SLOTS];
		if (sem_op(sem, SEM_FREE, 1))
			return 2;
		if (v != record(i)) {
			fprintf(stderr, "shmring: record %u is %llx\n", i,
				(unsigned long long)v);
			return 3;
		}
	}
	printf("consumer: %u records checked\n", count);
	fflush(stdout);	/* the child leaves with _exit() */
	return 0;
}

int main(int argc, char **argv)
{
	struct kipc_region_attr rattr = { .size = sizeof(struct ring) };
	struct kipc_sem_attr sattr = { .nsems = 2 };
	int32_t init[2] = { [SEM_FREE] = SLOTS, [SEM_USED] = 0 };
	unsigned int i, count = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000;
	int flags = KIPC_O_CREAT | KIPC_O_RDWR | KIPC_O_CLOEXEC;
	int region, sem, status;
	struct ring *r;
	pid_t pid;

	region = kipc_region_open(NULL, flags, 0600, &rattr);
	sem = kipc_sem_open(NULL, flags, 0600, &sattr);
	if (region < 0 || sem < 0 || kipc_sem_setall(sem, init, 2)) {
		fprintf(stderr, "shmring: cannot set up: %s\n", strerror(errno));
		return 1;
	}
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, region, 0);
	if (r == MAP_FAILED) {
		perror("shmring: mmap");
		return 1;
	}
	/* The mapping keeps the region; the fd is no longer needed. */
	close(region);
	pid = fork();
	if (pid < 0) {
		perror("shmring: fork");
		return 1;
	}
	if (pid == 0)
		_exit(consume(r, sem, count));
	for (i = 0; i < count; i++) {
		if (sem_op(sem, SEM_FREE, -1))
			return 1;
		r->slot[i % SLOTS] = record(i);
		if (sem_op(sem, SEM_USED, 1))
			return 1;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "shmring: consumer failed\n");
		return 1;
	}
	printf("producer: %u records through %d slots\n", count, SLOTS);
	munmap(r, sizeof(*r));
	close(sem);
	return 0;
}
