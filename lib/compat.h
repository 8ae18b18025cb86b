/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to libkipc: what compat.c shares with compat_sem.c and
 * compat_shm.c.  Nothing here is exported (-fvisibility=hidden).
 */
#ifndef LIBKIPC_COMPAT_H
#define LIBKIPC_COMPAT_H

#include <dlfcn.h>
#include <sys/ipc.h>
#include <sys/types.h>

#include "kipc.h"

#define KIPC_EXPORT __attribute__((visibility("default")))

enum backend { BACKEND_UNKNOWN, BACKEND_KIPC, BACKEND_STOCK, BACKEND_NONE };

/*
 * The backend of this process, chosen once: kipc, the stock calls
 * (KIPC_FALLBACK=stock), or none (errno is then ENOSYS).
 */
enum backend which(void);

/* The stock definition of @name, behind ours in the lookup order. */
#define STOCK(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

mode_t current_umask(void);

/* O_* open flags -> KIPC_O_*, close-on-exec always. */
int open_flags(int oflag);

/*
 * SysV ids: sysv_get() opens or creates by key (name format @fmt) and
 * caches the fd; id_fd() finds or opens this process's fd for an id
 * (EINVAL: no such id of @type); id_forget() drops and closes it.
 */
int sysv_get(enum kipc_type type, const char *fmt, key_t key, int flg,
	     const void *attr);
int id_fd(enum kipc_type type, int id);
void id_forget(uint32_t id);

/* Cache @fd as this process's fd of @id (and own it). */
void id_remember(enum kipc_type type, uint32_t id, int fd);

/* Errors of a call on a SysV id, as the stock calls report them. */
int sysv_result(int id, int ret);

void fill_perm(struct ipc_perm *perm, const struct kipc_stat *st,
	       const char *fmt);

#endif /* LIBKIPC_COMPAT_H */
