/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernel versions kipc builds against (6.1 to 7.3)
 * and the kernel interfaces a module cannot call directly live here, so that
 * the rest of the code reads as if written for one kernel.
 *
 * KIPC_HAVE_* come from feature probes in kmod/Kbuild: of the kernel headers
 * for inline helpers and types, of Module.symvers for exports.  Each shim
 * names the kernel that brought the difference; the probe, not the version,
 * decides.
 */
#ifndef _KIPC_COMPAT_H
#define _KIPC_COMPAT_H

#include <linux/fs.h>
#include <linux/ipc_namespace.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/proc_ns.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/wait.h>
#include <net/genetlink.h>

/*
 * kipc pins each IPC namespace it has objects in, so that the namespace
 * pointer its objects are tagged with cannot be reused while they exist.
 * get_ipc_ns() is inline everywhere; put_ipc_ns() is exported by 6.12 but
 * not by 6.1.  There the namespace's nsfs operations drop the reference,
 * ->put being ipcns_put() -> put_ipc_ns(), as nsfs itself does.
 */
static inline struct ipc_namespace *kpc_get_ipc_ns(struct ipc_namespace *ns)
{
	return get_ipc_ns(ns);
}

static inline void kpc_put_ipc_ns(struct ipc_namespace *ns)
{
#ifdef KIPC_HAVE_PUT_IPC_NS
	put_ipc_ns(ns);
#else
	ns->ns.ops->put(&ns->ns);
#endif
}

/*
 * True once nothing can enter @ns again: no task runs in it and no nsfs
 * file or bind mount refers to it.  kipc's own reference (above) is one
 * that does not count as a use.
 *
 * 6.19 counts exactly those uses as the namespace's active references, kept
 * apart from the references that only keep its memory, like kipc's; the
 * initial namespaces are always active.  Before, there was one count: each
 * nsproxy and each nsfs inode held a reference, and so does kipc, so the
 * namespace was unused when kipc's was the only one left (6.18 renamed
 * ns_common.count to __ns_ref, read through ns_ref_read()).  Passing
 * holders there (a /proc/PID/ns lookup, an mqueue file of the namespace)
 * only delay the answer: none of them lets a task enter.
 */
static inline bool kpc_ipc_ns_unused(struct ipc_namespace *ns)
{
#if defined(KIPC_HAVE_NS_REF_ACTIVE)
	return !ns_ref_active_read(ns);
#elif defined(KIPC_HAVE_NS_REF_READ)
	return ns_ref_read(ns) == 1;
#else
	return refcount_read(&ns->ns.count) == 1;
#endif
}

#ifdef KIPC_HAVE_VM_FLAGS_SET
#define kpc_vm_flags_set(vma, flags)	vm_flags_set(vma, flags)
#define kpc_vm_flags_clear(vma, flags)	vm_flags_clear(vma, flags)
#else
#define kpc_vm_flags_set(vma, flags)	((vma)->vm_flags |= (flags))
#define kpc_vm_flags_clear(vma, flags)	((vma)->vm_flags &= ~(flags))
#endif

/*
 * A shmem file that commits its pages as they are touched, like memfd.
 * 7.x passes shmem_file_setup() the flags as a vma_flags_t of bit numbers.
 */
static inline struct file *kpc_shmem_file_setup(const char *name, loff_t size)
{
#ifdef KIPC_HAVE_SHMEM_VMA_FLAGS
	return shmem_file_setup(name, size, mk_vma_flags(VMA_NORESERVE_BIT));
#else
	return shmem_file_setup(name, size, VM_NORESERVE);
#endif
}

/*
 * Run @file's own mmap hook on @vma, from the mmap of a file stacked on it,
 * as ipc/shm.c does.  6.17 renamed call_mmap() to vfs_mmap(), which also
 * runs the ->mmap_prepare that shmem has instead of ->mmap from then on.
 */
static inline int kpc_vfs_mmap(struct file *file, struct vm_area_struct *vma)
{
#ifdef KIPC_HAVE_VFS_MMAP
	return vfs_mmap(file, vma);
#else
	return call_mmap(file, vma);
#endif
}

/* 6.12 dropped no_llseek(): a NULL ->llseek now means "cannot seek". */
#ifdef KIPC_HAVE_NO_LLSEEK
#define kpc_no_llseek	no_llseek
#else
#define kpc_no_llseek	NULL
#endif

/*
 * The request attributes of a generic netlink dump: 6.12 keeps a whole
 * struct genl_info per dump, 6.1 only the parsed attributes.
 */
#ifdef KIPC_HAVE_GENL_INFO_DUMP
#define kpc_genl_dump_attrs(cb)	(genl_info_dump(cb)->attrs)
#else
#define kpc_genl_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
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

static inline wait_queue_head_t *kpc_pid_exit_wq(struct pid *pid)
{
	return &pid->wait_pidfd;
}

/*
 * Has the thread group of @tgid exited, every thread of it?  The test of
 * pidfd_poll(), which does the same: thread_group_exited() was it, and
 * exported, up to 6.8; 6.9 open-coded it there and dropped the export.
 * Safe in any context: it only reads, under RCU.
 */
static inline bool kpc_thread_group_exited(struct pid *tgid)
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
static inline const void *kpc_sysvsem_id(struct task_struct *t)
{
#if defined(CONFIG_SYSVIPC) && defined(KIPC_HAVE_TASK_SYSVSEM)
	return READ_ONCE(t->sysvsem.undo_list);
#else
	return NULL;
#endif
}

#endif /* _KIPC_COMPAT_H */
