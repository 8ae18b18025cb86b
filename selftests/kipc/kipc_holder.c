// SPDX-License-Identifier: GPL-2.0
/*
 * Helper for rmmod_test.sh: holds kipc objects the way a user would.
 *   kipc_holder fd            create an anonymous queue, print "ready",
 *                             and keep its fd until stdin reaches EOF
 *   kipc_holder ringmap       the same with a ring that it maps and then
 *                             holds through the mapping alone
 *   kipc_holder undo          use SEM_UNDO on an anonymous semaphore set,
 *                             close it (the set goes), print "ready" and
 *                             live on until stdin reaches EOF: kipc still
 *                             watches for its exit, which must not pin it
 *   kipc_holder named NAME    create a named queue and exit (it persists)
 *   kipc_holder unlink NAME   unlink it
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "kipc_test.h"

/* An anonymous ring, mapped, with every fd on it closed. */
static int hold_ring_mapping(int dev)
{
	struct kipc_ring_attr a = { 0 };
	struct kipc_ring_info info;
	int q;

	q = kt_open(dev, KIPC_TYPE_RING, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
		    0600, &a, sizeof(a), NULL);
	if (q < 0 || ioctl(q, KIPC_IOC_RING_INFO, &info) ||
	    mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, q,
		 0) == MAP_FAILED)
		return -1;
	close(q);
	return 0;
}

/* An undo list, and a set that went with its record. */
static int hold_undo_list(int dev)
{
	struct kipc_sem_attr a = { .nsems = 1 };
	struct kipc_sembuf op = { .delta = 1, .flags = KIPC_SEMOP_UNDO };
	struct kipc_semop req = { .ops = (uintptr_t)&op, .nops = 1 };
	int s;

	s = kt_open(dev, KIPC_TYPE_SEM, NULL, KIPC_O_CREAT | KIPC_O_RDWR,
		    0600, &a, sizeof(a), NULL);
	if (s < 0 || ioctl(s, KIPC_IOC_SEM_OP, &req))
		return -1;
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	int dev = kt_dev(), q;
	char c;

	if (dev < 0 || argc < 2)
		return 2;
	if (!strcmp(argv[1], "fd") || !strcmp(argv[1], "ringmap") ||
	    !strcmp(argv[1], "undo")) {
		if (!strcmp(argv[1], "fd"))
			q = kt_anon_queue(dev, 0, 0);
		else if (!strcmp(argv[1], "ringmap"))
			q = hold_ring_mapping(dev);
		else
			q = hold_undo_list(dev);
		if (q < 0)
			return 1;
		close(dev);
		printf("ready\n");
		fflush(stdout);
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	if (argc < 3)
		return 2;
	if (!strcmp(argv[1], "named"))
		return kt_queue(dev, argv[2], KIPC_O_CREAT, 0600, 0, 0, NULL) < 0;
	if (!strcmp(argv[1], "unlink"))
		return kt_unlink(dev, KIPC_TYPE_QUEUE, argv[2]) != 0;
	return 2;
}
