/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernel versions kipc builds against (6.1 to 6.12)
 * and the kernel interfaces a module cannot call directly live here, so that
 * the rest of the code reads as if written for one kernel.
 */
#ifndef _KIPC_COMPAT_H
#define _KIPC_COMPAT_H

#include <linux/ipc_namespace.h>
#include <linux/pid.h>
#include <linux/proc_ns.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/wait.h>
#include <net/genetlink.h>

/*
 * put_ipc_ns() is not exported, but every IPC namespace carries its nsfs
 * operations, whose ->put is ipcns_put() -> put_ipc_ns().  Dropping our
 * reference through it frees the namespace exactly as nsfs would.
 */
static inline struct ipc_namespace *kipc_get_ipc_ns(struct ipc_namespace *ns)
{
	return get_ipc_ns(ns);
}

static inline void kipc_put_ipc_ns(struct ipc_namespace *ns)
{
	ns->ns.ops->put(&ns->ns);
}

/* True when the only reference left on @ns is the one kipc holds. */
static inline bool kipc_ipc_ns_orphaned(struct ipc_namespace *ns)
{
	return refcount_read(&ns->ns.count) == 1;
}

/* KIPC_HAVE_* come from feature probes of the kernel headers in kmod/Kbuild. */
#ifdef KIPC_HAVE_VM_FLAGS_SET
#define kipc_vm_flags_set(vma, flags)	vm_flags_set(vma, flags)
#define kipc_vm_flags_clear(vma, flags)	vm_flags_clear(vma, flags)
#else
#define kipc_vm_flags_set(vma, flags)	((vma)->vm_flags |= (flags))
#define kipc_vm_flags_clear(vma, flags)	((vma)->vm_flags &= ~(flags))
#endif

/* 6.12 dropped no_llseek(): a NULL ->llseek now means "cannot seek". */
#ifdef KIPC_HAVE_NO_LLSEEK
#define kipc_no_llseek	no_llseek
#else
#define kipc_no_llseek	NULL
#endif

/*
 * The request attributes of a generic netlink dump: 6.12 keeps a whole
 * struct genl_info per dump, 6.1 only the parsed attributes.
 */
#ifdef KIPC_HAVE_GENL_INFO_DUMP
#define kipc_genl_dump_attrs(cb)	(genl_info_dump(cb)->attrs)
#else
#define kipc_genl_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

/*
 * Joining a multicast group with CAP_SYS_ADMIN over the network namespace;
 * kernels before GENL_MCAST_CAP_SYS_ADMIN (6.7, and its stable backports)
 * offer CAP_NET_ADMIN as the nearest.
 */
#ifdef GENL_MCAST_CAP_SYS_ADMIN
#define KIPC_GENL_MCAST_PRIV		GENL_MCAST_CAP_SYS_ADMIN
#else
#define KIPC_GENL_MCAST_PRIV		GENL_UNS_ADMIN_PERM
#endif

/*
 * Process exit, for semaphore undo (kmod/sem.c).  A module has no
 * exit_sem(); what it can do is wait where a pidfd's poll() waits:
 * struct pid's wait_pidfd.  do_notify_pidfd() wakes it when the task exits
 * and, on the pid of a thread-group leader, again when the whole group has
 * (5.3 to 7.3).  The field is internal but is what pidfds are made of.
 */
#ifndef KIPC_HAVE_PID_WAIT_PIDFD
#error "kipc needs struct pid's wait_pidfd (pidfd poll, Linux 5.3 and later)"
#endif

static inline wait_queue_head_t *kipc_pid_exit_wq(struct pid *pid)
{
	return &pid->wait_pidfd;
}

/*
 * Has the thread group of @tgid exited, every thread of it?  The test of
 * pidfd_poll(), which does the same: thread_group_exited() was it, and
 * exported, up to 6.8; 6.9 open-coded it there and dropped the export.
 * Safe in any context: it only reads, under RCU.
 */
static inline bool kipc_thread_group_exited(struct pid *tgid)
{
	struct task_struct *task;
	bool exited;

	rcu_read_lock();
	task = pid_task(tgid, PIDTYPE_PID);
	exited = !task ||
		 (READ_ONCE(task->exit_state) && thread_group_empty(task));
	rcu_read_unlock();
	return exited;
}

/*
 * The SysV undo list @t shares (what clone(CLONE_SYSVSEM) shares), as an
 * identity only: compared, never followed, so it may be read from any task
 * under RCU.  NULL when the task has none yet.  task_struct's sysvsem is
 * internal, unchanged from 2.6 to 7.3; without it (or CONFIG_SYSVIPC) kipc
 * cannot tell that two processes share a list and treats each as its own.
 */
static inline const void *kipc_sysvsem_id(struct task_struct *t)
{
#if defined(CONFIG_SYSVIPC) && defined(KIPC_HAVE_TASK_SYSVSEM)
	return READ_ONCE(t->sysvsem.undo_list);
#else
	return NULL;
#endif
}

#endif /* _KIPC_COMPAT_H */
