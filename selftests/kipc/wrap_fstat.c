// SPDX-License-Identifier: GPL-2.0
/*
 * A library preloaded ahead of the compatibility layer that does what
 * fakeroot's libfakeroot does: its fstat() wrapper makes a SysV IPC call
 * (libfakeroot asks faked over a message queue) before calling on.  Should
 * the layer call fstat() through the PLT while it holds a lock of its own,
 * the wrapper's IPC call waits for that lock for ever.  preload_test.sh
 * runs a program with LD_PRELOAD=libwrap_fstat.so:libkipc-preload.so.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/msg.h>
#include <sys/stat.h>

static __thread int depth;

int fstat(int fd, struct stat *st)
{
	static int (*next)(int, struct stat *);
	struct msqid_ds ds;
	int ret;

	if (!next)
		next = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, "fstat");
	if (!depth++)
		msgctl(0, IPC_STAT, &ds);	/* any IPC call; its result is not used */
	ret = next(fd, st);
	depth--;
	return ret;
}
