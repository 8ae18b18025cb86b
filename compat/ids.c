// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SysV ids, shared by every family: the table of this process's fds by
 * id, opening by key, and the parts of the *ctl(2) calls that are the
 * same for queues, semaphore sets and segments.
 *
 * Naming: a SysV key K is the kipc object named by the family's format
 * ("sysv.msg.%08x": K in hex), IPC_PRIVATE an anonymous persistent one.
 * SysV ids are kipc ids, stable across processes; each process opens an
 * id's fd lazily and keeps it (close-on-exec).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

/*
 * id -> fd.  Ids are small and dense (the kernel hands them out cyclically
 * from 1), so a growable array indexed by id would waste little; a hash
 * keeps it bounded regardless.
 */
#define ID_TABLE_SIZE	1024

/*
 * The kernel checks an fd's access when it is opened; SysV checks the
 * caller's credentials on every call.  So an entry records the effective
 * ids it was opened with, and a call made with others (a process that
 * dropped privileges after its first call) reopens the id, which checks
 * them again.
 */
struct id_entry {
	uint32_t id;
	enum kipc_type type;
	int fd;
	uid_t euid;
	gid_t egid;
	struct id_entry *next;
};

static struct id_entry *id_table[ID_TABLE_SIZE];
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_any_access(enum kipc_type type, const char *name, uint32_t id,
			   int flags, mode_t mode, const void *attr,
			   uint32_t *id_out)
{
	static const int modes[] = { KIPC_O_RDWR, KIPC_O_RDONLY, KIPC_O_WRONLY };
	unsigned int i;
	int fd = -1;

	/* SysV checks access per call, so take the widest the mode allows. */
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (name || (flags & KIPC_O_CREAT))
			fd = kipc_open(type, name, flags | modes[i], mode, attr,
				       id_out);
		else
			fd = kipc_open_id(type, id, flags | modes[i]);
		if (fd >= 0 || errno != EACCES)
			break;
	}
	return fd;
}

void id_forget(uint32_t id)
{
	struct id_entry **p, *e;
	int fd = -1;

	pthread_mutex_lock(&id_lock);
	for (p = &id_table[id % ID_TABLE_SIZE]; (e = *p); p = &e->next) {
		if (e->id == id) {
			*p = e->next;
			fd = e->fd;
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&id_lock);
	/* Ours no longer, then closed (close.c must not see it as ours). */
	if (fd >= 0) {
		fd_disown(fd);
		close_nocancel(fd);
	}
}

void id_remember(enum kipc_type type, uint32_t id, int fd)
{
	struct id_entry *e = malloc(sizeof(*e));

	if (!e)
		return;	/* the fd still works; it just isn't cached */
	e->id = id;
	e->type = type;
	e->fd = fd;
	fd_own(fd);
	e->euid = geteuid();
	e->egid = getegid();
	pthread_mutex_lock(&id_lock);
	e->next = id_table[id % ID_TABLE_SIZE];
	id_table[id % ID_TABLE_SIZE] = e;
	pthread_mutex_unlock(&id_lock);
}

/*
 * The program is closing fds in [@lo, @hi]: an entry with one of them
 * keeps its id and type (an id of another type is still EINVAL) and opens
 * a new fd on its next use (fd -1).
 */
void ids_fds_gone(int lo, int hi)
{
	struct id_entry *e;
	unsigned int i;

	pthread_mutex_lock(&id_lock);
	for (i = 0; i < ID_TABLE_SIZE; i++)
		for (e = id_table[i]; e; e = e->next)
			if (e->fd >= lo && e->fd <= hi) {
				fd_disown(e->fd);
				e->fd = -1;
			}
	pthread_mutex_unlock(&id_lock);
}

int id_fd(enum kipc_type type, int id)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	struct id_entry *e;
	int fd = -1, gone = 0;
	bool stale = false;

	if (id < 0) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&id_lock);
	for (e = id_table[id % ID_TABLE_SIZE]; e; e = e->next)
		if (e->id == (uint32_t)id) {
			fd = e->type == type ? e->fd : -2;
			gone = fd == -1;
			stale = e->euid != euid || e->egid != egid;
			break;
		}
	pthread_mutex_unlock(&id_lock);
	if (fd >= 0 && stale) {
		id_forget(id);
		fd = -1;
	}
	if (fd >= 0)
		return fd;
	if (fd == -2) {
		/* Ids are unique across types: an id of another type. */
		errno = EINVAL;
		return -1;
	}
	/* Not opened yet here, or closed by the program (close.c). */
	fd = open_any_access(type, NULL, id, KIPC_O_CLOEXEC, 0, NULL, NULL);
	if (fd < 0) {
		if (errno == ENOENT) {
			if (gone)
				id_forget(id);
			errno = EINVAL;
		}
		return -1;
	}
	if (gone)
		id_forget(id);
	id_remember(type, id, fd);
	return fd;
}

int id_get(enum kipc_type type, const char *fmt, key_t key, int flg,
	   const void *attr)
{
	char name[32];
	uint32_t id = 0;
	int flags = KIPC_O_CLOEXEC, fd;

	/* The object checks every call, as SysV does (kmod: KIPC_O_SYSV). */
	if (flg & IPC_CREAT)
		flags |= KIPC_O_CREAT | KIPC_O_SYSV;
	if (flg & IPC_EXCL)
		flags |= KIPC_O_EXCL;
	if (key == IPC_PRIVATE) {
		flags |= KIPC_O_CREAT | KIPC_O_PERSIST | KIPC_O_SYSV;
		fd = open_any_access(type, NULL, 0, flags, flg & 0777, attr, &id);
	} else {
		snprintf(name, sizeof(name), fmt, (unsigned int)key);
		fd = open_any_access(type, name, 0, flags, flg & 0777, attr, &id);
	}
	if (fd < 0)
		return -1;
	/* A cached fd of ours for the same id is as good: keep one. */
	id_forget(id);
	id_remember(type, id, fd);
	return id;
}

int id_result(int id, int ret)
{
	/* A stale id whose object was removed: EIDRM as the kernel reports it. */
	if (ret < 0 && errno == EIDRM)
		id_forget(id);
	if (ret < 0 && errno == EBADF)
		errno = EACCES;
	return ret;
}

int id_remove(int id, int fd)
{
	if (kipc_remove(fd)) {
		/* Someone removed it first: the id is simply stale. */
		if (errno == EIDRM) {
			id_forget(id);
			errno = EINVAL;
		}
		return -1;
	}
	id_forget(id);
	return 0;
}

static key_t key_of(const struct kipc_stat *st, const char *fmt)
{
	unsigned int key;

	if ((st->flags & KIPC_STAT_NAMED) && sscanf(st->name, fmt, &key) == 1)
		return (key_t)key;
	return IPC_PRIVATE;
}

int id_stat(int id, int fd, const char *fmt, struct kipc_stat *st,
	    struct ipc_perm *perm)
{
	int fl = fcntl(fd, F_GETFL);

	/* IPC_STAT needs read permission: an fd opened for reading. */
	if (fl >= 0 && (fl & O_ACCMODE) == O_WRONLY) {
		errno = EACCES;
		return -1;
	}
	if (kipc_stat(fd, st))
		return id_result(id, -1);
	if (st->flags & KIPC_STAT_REMOVED) {
		id_forget(id);
		errno = EINVAL;
		return -1;
	}
	memset(perm, 0, sizeof(*perm));
	perm->__key = key_of(st, fmt);
	perm->uid = st->uid;
	perm->gid = st->gid;
	perm->cuid = st->cuid;
	perm->cgid = st->cgid;
	perm->mode = st->mode;
	return 0;
}

int id_set(int id, int fd, const struct ipc_perm *perm, struct kipc_set *set)
{
	set->valid |= KIPC_SET_UID | KIPC_SET_GID | KIPC_SET_MODE;
	set->uid = perm->uid;
	set->gid = perm->gid;
	set->mode = perm->mode & 0777;
	return id_result(id, kipc_set(fd, set));
}
