// SPDX-License-Identifier: GPL-2.0
/*
 * Helper for region_test: an unrelated process (exec'd, sharing no fd or
 * mapping with the test) that opens a region by name and maps it.
 *   region_peer NAME EXPECT REPLY
 * checks that the region starts with EXPECT, writes REPLY at offset 64
 * through its own shared mapping, and exits 0; 1-9 say what failed.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "kipc_test.h"

int main(int argc, char **argv)
{
	struct kipc_region_attr attr = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	int dev, fd;
	char *p;

	if (argc != 4)
		return 9;
	dev = kt_dev();
	if (dev < 0)
		return 1;
	fd = kt_open(dev, KIPC_TYPE_REGION, argv[1], KIPC_O_RDWR, 0, &attr,
		     sizeof(attr), NULL);
	if (fd < 0)
		return 2;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 3;
	if (memcmp(p, argv[2], strlen(argv[2])))
		return 4;
	memcpy(p + 64, argv[3], strlen(argv[3]) + 1);
	munmap(p, page);
	close(fd);
	close(dev);
	return 0;
}
