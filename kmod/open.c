// SPDX-License-Identifier: GPL-2.0
/*
 * KIPC_IOC_OPEN: create an object, or open another file on one, by name or
 * by id.  A new object is made and entered into its namespace's tables
 * under kns->lock, so that the name check and the insertion are one step.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kipc.h"

#define KIPC_O_VALID	(KIPC_O_ACCMODE | KIPC_O_CREAT | KIPC_O_EXCL | \
			 KIPC_O_NONBLOCK | KIPC_O_CLOEXEC | KIPC_O_BY_ID | \
			 KIPC_O_PERSIST)

static int kpc_open_may(u32 flags)
{
	switch (flags & KIPC_O_ACCMODE) {
	case KIPC_O_RDONLY:
		return MAY_READ;
	case KIPC_O_WRONLY:
		return MAY_WRITE;
	default:
		return MAY_READ | MAY_WRITE;
	}
}

static struct file *kpc_object_file(struct kpc_object *obj, u32 flags)
{
	int f_flags = O_RDWR;
	struct file *file;

	if ((flags & KIPC_O_ACCMODE) == KIPC_O_RDONLY)
		f_flags = O_RDONLY;
	else if ((flags & KIPC_O_ACCMODE) == KIPC_O_WRONLY)
		f_flags = O_WRONLY;
	if (flags & KIPC_O_NONBLOCK)
		f_flags |= O_NONBLOCK;

	file = anon_inode_getfile(obj->ops->name, obj->ops->fops, obj, f_flags);
	if (!IS_ERR(file)) {
		file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
		atomic_inc(&obj->nfds);
	}
	return file;
}

/*
 * Create an object and its first file, under kns->lock so that the name
 * check and the insertion are one step.  The file owns the initial
 * reference: on any later failure, fput() undoes everything.  If no file
 * could be made, *@unmade is the object, for the caller to put once
 * kns->lock is dropped: its release takes kpc_ns_mutex, which comes first.
 */
static struct file *kpc_create_locked(struct kpc_ns *kns,
				      const struct kpc_type_ops *ops,
				       const struct kipc_open *req,
				       struct kpc_object **unmade)
{
	unsigned long charge = 0;
	struct kpc_object *obj;
	struct kpc_user *user;
	struct file *file;
	char *name = NULL;
	int ret, id;

	lockdep_assert_held(&kns->lock);
	ret = ops->check(req, &charge);
	if (ret)
		return ERR_PTR(ret);

	if (req->name[0]) {
		name = kstrdup(req->name, GFP_KERNEL_ACCOUNT);
		if (!name)
			return ERR_PTR(-ENOMEM);
	}

	user = kpc_user_get(current_euid());
	if (!user) {
		ret = -ENOMEM;
		goto err_name;
	}
	ret = kpc_user_charge_object(user, req->type);
	if (ret)
		goto err_user;
	ret = kpc_user_charge(user, charge);
	if (ret)
		goto err_uncharge_object;

	obj = ops->alloc(req);
	if (IS_ERR(obj)) {
		ret = PTR_ERR(obj);
		goto err_uncharge;
	}
	obj->kns = kns;
	kref_get(&kns->ref);
	obj->user = user;
	obj->charge = charge;
	obj->uid = current_euid();
	obj->cuid = obj->uid;
	obj->gid = current_egid();
	obj->cgid = obj->gid;
	obj->mode = req->mode & 0777;
	obj->cpid = get_pid(task_tgid(current));
	obj->ctime = ktime_get_real();

	/* From here on the object's own release path undoes the charges. */
	file = kpc_object_file(obj, req->flags);
	if (IS_ERR(file)) {
		kfree(name);
		*unmade = obj;
		return file;
	}

	id = idr_alloc_cyclic(&kns->ids, obj, 1, INT_MAX, GFP_KERNEL);
	if (id < 0) {
		ret = id;
		goto err_file;
	}
	obj->id = id;
	obj->id_listed = true;
	if (name)
		kpc_name_add(obj, name);
	else
		obj->persist = req->flags & KIPC_O_PERSIST;
	if (obj->name || obj->persist) {
		kpc_object_get(obj);
		__module_get(THIS_MODULE);
	}
	atomic64_inc(&kpc_counters.created[obj->type]);
	obj->announced = true;
	kpc_event_locked(obj, KIPC_EVENT_CREATED, 0);
	return file;

err_file:
	kfree(name);
	/* Unlisted now, so the deferred release does not take kns->lock twice. */
	if (obj->id_listed) {
		idr_remove(&kns->ids, obj->id);
		obj->id_listed = false;
	}
	fput(file);
	return ERR_PTR(ret);

err_uncharge:
	kpc_user_uncharge(user, charge);
err_uncharge_object:
	kpc_user_uncharge_object(user, req->type);
err_user:
	kpc_user_put(user);
err_name:
	kfree(name);
	return ERR_PTR(ret);
}

/* Open another file on an object the caller holds a reference to. */
static struct file *kpc_open_existing(struct kpc_object *obj,
				      const struct kipc_open *req,
				       u32 __user *uid_out)
{
	struct file *file;

	if (!kpc_may_access(obj, kpc_open_may(req->flags)))
		return ERR_PTR(-EACCES);
	if (put_user(obj->id, uid_out))
		return ERR_PTR(-EFAULT);
	kpc_object_get(obj);
	file = kpc_object_file(obj, req->flags);
	if (IS_ERR(file))
		kpc_object_put(obj);
	return file;
}

long kpc_open_object(struct kipc_open __user *uarg)
{
	struct kpc_object *obj, *unmade = NULL;
	const struct kpc_type_ops *ops;
	struct kipc_open *req;
	struct kpc_ns *kns;
	struct file *file;
	int fd, namelen;
	long ret;

	req = kmalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(req, uarg, sizeof(*req)))
		goto out_free;

	ret = -EINVAL;
	ops = kpc_type(req->type);
	if (!ops)
		goto out_free;
	if ((req->flags & ~KIPC_O_VALID) ||
	    (req->flags & KIPC_O_ACCMODE) == KIPC_O_ACCMODE ||
	    (req->mode & ~0777))
		goto out_free;
	namelen = kpc_check_name(req->name, sizeof(req->name));
	if (namelen < 0) {
		ret = namelen;
		goto out_free;
	}
	if (req->flags & KIPC_O_BY_ID) {
		if (namelen || (req->flags & (KIPC_O_CREAT | KIPC_O_PERSIST)))
			goto out_free;
	} else if (namelen) {
		if (req->flags & KIPC_O_PERSIST)
			goto out_free;
	} else if (!(req->flags & KIPC_O_CREAT)) {
		goto out_free;
	}

	kns = kpc_ns_current(req->flags & KIPC_O_CREAT);
	if (IS_ERR(kns)) {
		ret = PTR_ERR(kns);
		goto out_free;
	}

	fd = get_unused_fd_flags((req->flags & KIPC_O_CLOEXEC) ? O_CLOEXEC : 0);
	if (fd < 0) {
		ret = fd;
		goto out_ns;
	}

	obj = NULL;
	file = ERR_PTR(-ENOENT);
	mutex_lock(&kns->lock);
	if (req->flags & KIPC_O_BY_ID) {
		obj = kpc_id_lookup(kns, req->type, req->id);
	} else if (namelen) {
		obj = kpc_name_lookup(kns, req->type, req->name);
		if (obj && (req->flags & KIPC_O_CREAT) &&
		    (req->flags & KIPC_O_EXCL)) {
			obj = NULL;
			file = ERR_PTR(-EEXIST);
		} else if (!obj && (req->flags & KIPC_O_CREAT)) {
			file = kpc_create_locked(kns, ops, req, &unmade);
		}
	} else {
		file = kpc_create_locked(kns, ops, req, &unmade);
	}
	if (obj && !kref_get_unless_zero(&obj->ref))
		obj = NULL;
	mutex_unlock(&kns->lock);

	if (unmade)
		kpc_object_put(unmade);
	/*
	 * A new object's id goes out with kns->lock dropped: a fault on the
	 * caller's memory can take long (userfaultfd, FUSE) and would hold up
	 * the whole namespace.  Without room for the id, no object: it is
	 * removed as IPC_RMID would (somebody may have found it meanwhile),
	 * and its file goes.
	 */
	if (!obj && !IS_ERR(file) &&
	    put_user(kpc_file_object(file)->id, &uarg->id)) {
		kpc_remove(kpc_file_object(file), true);
		fput(file);
		file = ERR_PTR(-EFAULT);
	}

	/* Outside the lock: our reference may turn out to be the last. */
	if (obj) {
		file = kpc_open_existing(obj, req, &uarg->id);
		kpc_object_put(obj);
	}

	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto out_ns;
	}
	fd_install(fd, file);
	ret = fd;
out_ns:
	kpc_ns_put(kns);
out_free:
	kfree(req);
	return ret;
}
