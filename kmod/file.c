// SPDX-License-Identifier: GPL-2.0
/*
 * What every object fd shares, whatever its type: permission checks, and
 * the ioctls KIPC_IOC_STAT, KIPC_IOC_SET and KIPC_IOC_REMOVE, which a
 * type's unlocked_ioctl hands on to kpc_object_ioctl(), and the release
 * of the file's reference on its object.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kipc.h"

/* ipcperms(): the owner, group or other bits, or CAP_IPC_OWNER. */
bool kpc_may_access(struct kpc_object *obj, int may)
{
	kuid_t euid = current_euid();
	unsigned int need = 0, granted;

	if (may & MAY_READ)
		need |= 4;
	if (may & MAY_WRITE)
		need |= 2;

	spin_lock(&obj->lock);
	granted = obj->mode;
	if (uid_eq(euid, obj->cuid) || uid_eq(euid, obj->uid))
		granted >>= 6;
	else if (in_group_p(obj->cgid) || in_group_p(obj->gid))
		granted >>= 3;
	spin_unlock(&obj->lock);

	if (!(need & ~granted & 7))
		return true;
	return ns_capable(obj->kns->ipc_ns->user_ns, CAP_IPC_OWNER);
}

/*
 * A snapshot of @obj as the calling task sees it (uids in its user
 * namespace, pids in its pid namespace), for KIPC_IOC_STAT and netlink.
 * Every byte of @st is written: unused ones are zero.
 */
void kpc_object_fill_stat(struct kpc_object *obj, struct kipc_stat *st)
{
	struct user_namespace *user_ns = current_user_ns();

	memset(st, 0, sizeof(*st));
	mutex_lock(&obj->kns->lock);
	if (obj->name) {
		strscpy(st->name, obj->name, sizeof(st->name));
		st->flags |= KIPC_STAT_NAMED;
	}
	if (obj->persist)
		st->flags |= KIPC_STAT_PERSIST;
	mutex_unlock(&obj->kns->lock);

	st->type = obj->type;
	st->id = obj->id;
	st->cpid = pid_vnr(obj->cpid);
	st->nfds = atomic_read(&obj->nfds);

	spin_lock(&obj->lock);
	if (obj->removed)
		st->flags |= KIPC_STAT_REMOVED;
	st->uid = from_kuid_munged(user_ns, obj->uid);
	st->gid = from_kgid_munged(user_ns, obj->gid);
	st->cuid = from_kuid_munged(user_ns, obj->cuid);
	st->cgid = from_kgid_munged(user_ns, obj->cgid);
	st->mode = obj->mode;
	st->ctime_ns = ktime_to_ns(obj->ctime);
	obj->ops->stat(obj, st);
	spin_unlock(&obj->lock);
}

static long kpc_object_stat(struct kpc_object *obj,
			    struct kipc_stat __user *ust)
{
	struct kipc_stat *st;
	long ret = 0;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	kpc_object_fill_stat(obj, st);
	if (copy_to_user(ust, st, sizeof(*st)))
		ret = -EFAULT;
	kfree(st);
	return ret;
}

static long kpc_object_set(struct kpc_object *obj,
			   const struct kipc_set __user *uset)
{
	struct user_namespace *user_ns = current_user_ns();
	kuid_t uid = INVALID_UID;
	kgid_t gid = INVALID_GID;
	struct kipc_set set;
	int ret;

	if (copy_from_user(&set, uset, sizeof(set)))
		return -EFAULT;
	if (set.valid & ~(KIPC_SET_UID | KIPC_SET_GID | KIPC_SET_MODE |
			  KIPC_SET_MAX_BYTES))
		return -EINVAL;
	if ((set.valid & KIPC_SET_MODE) && (set.mode & ~0777))
		return -EINVAL;
	if (set.valid & KIPC_SET_UID) {
		uid = make_kuid(user_ns, set.uid);
		if (!uid_valid(uid))
			return -EINVAL;
	}
	if (set.valid & KIPC_SET_GID) {
		gid = make_kgid(user_ns, set.gid);
		if (!gid_valid(gid))
			return -EINVAL;
	}
	if (kpc_removed(obj))
		return -EIDRM;
	if (!kpc_is_owner(obj))
		return -EPERM;
	if (obj->ops->set) {
		ret = obj->ops->set(obj, &set);
		if (ret)
			return ret;
	} else if (set.valid & KIPC_SET_MAX_BYTES) {
		return -EINVAL;
	}

	spin_lock(&obj->lock);
	if (set.valid & KIPC_SET_UID)
		obj->uid = uid;
	if (set.valid & KIPC_SET_GID)
		obj->gid = gid;
	if (set.valid & KIPC_SET_MODE)
		obj->mode = set.mode;
	obj->ctime = ktime_get_real();
	spin_unlock(&obj->lock);
	return 0;
}

long kpc_object_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kpc_object *obj = kpc_file_object(file);
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KIPC_IOC_STAT:
		return kpc_object_stat(obj, argp);
	case KIPC_IOC_SET:
		return kpc_object_set(obj, argp);
	case KIPC_IOC_REMOVE:
		return kpc_remove(obj, false);
	default:
		return -ENOTTY;
	}
}

int kpc_object_release(struct inode *inode, struct file *file)
{
	struct kpc_object *obj = kpc_file_object(file);

	atomic_dec(&obj->nfds);
	kpc_object_put(obj);
	return 0;
}
