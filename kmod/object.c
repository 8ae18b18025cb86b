// SPDX-License-Identifier: GPL-2.0
/*
 * kipc object core: namespaces, names and ids, permissions, per-user
 * accounting, object files, and the ioctls every object type shares.
 *
 * IPC namespaces.  kipc keeps its own struct kipc_ns per IPC namespace that
 * has kipc objects, holding one reference on the namespace (compat.h).
 * Holding it guarantees the pointer stays unique: a new namespace can never
 * reuse the address while our objects are tagged with it.  It keeps only
 * the memory: once nothing can enter the namespace again (no task in it, no
 * nsfs file or bind mount of it: kipc_ipc_ns_unused()), the reaper
 * unregisters every object in it (names and persistent ids go, exactly as
 * the stock IPC objects die with their namespace); objects still open
 * through fds live on anonymously, and the namespace reference goes with
 * the last of them.  The initial namespace never dies.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/time_namespace.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "kipc.h"

#define KIPC_O_VALID	(KIPC_O_ACCMODE | KIPC_O_CREAT | KIPC_O_EXCL | \
			 KIPC_O_NONBLOCK | KIPC_O_CLOEXEC | KIPC_O_BY_ID | \
			 KIPC_O_PERSIST | KIPC_O_SYSV)

struct kipc_counters kipc_counters;

static const struct kipc_type_ops *kipc_types[KIPC_TYPE_COUNT] = {
	[KIPC_TYPE_QUEUE] = &kipc_queue_ops,
	[KIPC_TYPE_REGION] = &kipc_region_ops,
	[KIPC_TYPE_SEM] = &kipc_sem_ops,
};

static LIST_HEAD(kipc_namespaces);
static DEFINE_MUTEX(kipc_ns_mutex);

#define KIPC_USER_HASH_BITS	6
static DEFINE_HASHTABLE(kipc_users, KIPC_USER_HASH_BITS);
static DEFINE_SPINLOCK(kipc_users_lock);

static void kipc_reap_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(kipc_reap_work, kipc_reap_work_fn);

/* Per-user accounting */

static struct kipc_user *kipc_user_find_locked(kuid_t uid)
{
	struct kipc_user *user;

	hash_for_each_possible(kipc_users, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

static struct kipc_user *kipc_user_get(kuid_t uid)
{
	struct kipc_user *user, *new;

	spin_lock(&kipc_users_lock);
	user = kipc_user_find_locked(uid);
	if (user)
		refcount_inc(&user->ref);
	spin_unlock(&kipc_users_lock);
	if (user)
		return user;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);

	spin_lock(&kipc_users_lock);
	user = kipc_user_find_locked(uid);
	if (user) {
		refcount_inc(&user->ref);
	} else {
		hash_add(kipc_users, &new->node, __kuid_val(uid));
		user = new;
		new = NULL;
	}
	spin_unlock(&kipc_users_lock);
	kfree(new);
	return user;
}

static void kipc_user_put(struct kipc_user *user)
{
	spin_lock(&kipc_users_lock);
	if (refcount_dec_and_test(&user->ref))
		hash_del(&user->node);
	else
		user = NULL;
	spin_unlock(&kipc_users_lock);
	kfree(user);
}

int kipc_user_charge(struct kipc_user *user, unsigned long bytes)
{
	unsigned long max = READ_ONCE(kipc_limits.max_user_bytes);

	if ((unsigned long)atomic_long_add_return(bytes, &user->bytes) > max &&
	    !capable(CAP_SYS_RESOURCE)) {
		atomic_long_sub(bytes, &user->bytes);
		return -ENOSPC;
	}
	atomic64_add(bytes, &kipc_counters.bytes);
	return 0;
}

void kipc_user_uncharge(struct kipc_user *user, unsigned long bytes)
{
	atomic_long_sub(bytes, &user->bytes);
	atomic64_sub(bytes, &kipc_counters.bytes);
}

static int kipc_user_charge_object(struct kipc_user *user, u32 type)
{
	unsigned long max_user = READ_ONCE(kipc_limits.max_user_objects);
	unsigned long max_all = READ_ONCE(kipc_limits.max_objects);
	bool over;

	over = (unsigned long)atomic_long_inc_return(&user->objects) > max_user;
	over |= (unsigned long)atomic64_inc_return(&kipc_counters.objects[0]) > max_all;
	if (over && !capable(CAP_SYS_RESOURCE)) {
		atomic_long_dec(&user->objects);
		atomic64_dec(&kipc_counters.objects[0]);
		return -ENOSPC;
	}
	atomic64_inc(&kipc_counters.objects[type]);
	return 0;
}

static void kipc_user_uncharge_object(struct kipc_user *user, u32 type)
{
	atomic_long_dec(&user->objects);
	atomic64_dec(&kipc_counters.objects[0]);
	atomic64_dec(&kipc_counters.objects[type]);
}

/* Namespaces */

static struct kipc_ns *kipc_ns_get(struct ipc_namespace *ipc_ns, bool create)
{
	struct kipc_ns *kns;

	mutex_lock(&kipc_ns_mutex);
	list_for_each_entry(kns, &kipc_namespaces, node) {
		if (kns->ipc_ns == ipc_ns && !kns->dead) {
			kref_get(&kns->ref);
			goto out;
		}
	}
	if (!create) {
		kns = ERR_PTR(-ENOENT);
		goto out;
	}
	kns = kzalloc(sizeof(*kns), GFP_KERNEL);
	if (!kns) {
		kns = ERR_PTR(-ENOMEM);
		goto out;
	}
	kref_init(&kns->ref);
	mutex_init(&kns->lock);
	idr_init(&kns->ids);
	hash_init(kns->names);
	kns->ipc_ns = kipc_get_ipc_ns(ipc_ns);
	list_add(&kns->node, &kipc_namespaces);
	atomic64_inc(&kipc_counters.namespaces);
out:
	mutex_unlock(&kipc_ns_mutex);
	return kns;
}

struct kipc_ns *kipc_ns_current(bool create)
{
	return kipc_ns_get(current->nsproxy->ipc_ns, create);
}

/* Under kipc_ns_mutex, so that no lookup finds a namespace on its way out. */
static void kipc_ns_unlist(struct kref *ref)
{
	struct kipc_ns *kns = container_of(ref, struct kipc_ns, ref);

	list_del(&kns->node);
	atomic64_dec(&kipc_counters.namespaces);
}

void kipc_ns_put(struct kipc_ns *kns)
{
	bool last;

	mutex_lock(&kipc_ns_mutex);
	last = kref_put(&kns->ref, kipc_ns_unlist);
	mutex_unlock(&kipc_ns_mutex);
	if (!last)
		return;
	WARN_ON(!idr_is_empty(&kns->ids));
	idr_destroy(&kns->ids);
	kipc_put_ipc_ns(kns->ipc_ns);
	kfree(kns);
}

static u32 kipc_name_key(u32 type, const char *name)
{
	return full_name_hash(NULL, name, strlen(name)) ^ type;
}

static struct kipc_object *kipc_name_lookup(struct kipc_ns *kns, u32 type,
					    const char *name)
{
	struct kipc_object *obj;

	lockdep_assert_held(&kns->lock);
	hash_for_each_possible(kns->names, obj, name_node,
			       kipc_name_key(type, name))
		if (obj->type == type && !strcmp(obj->name, name))
			return obj;
	return NULL;
}

/* Objects */

void kipc_object_init(struct kipc_object *obj, const struct kipc_type_ops *ops,
		      u32 type)
{
	kref_init(&obj->ref);
	spin_lock_init(&obj->lock);
	INIT_HLIST_NODE(&obj->name_node);
	obj->ops = ops;
	obj->type = type;
}

void kipc_object_get(struct kipc_object *obj)
{
	kref_get(&obj->ref);
}

static void kipc_object_free(struct kref *ref)
{
	struct kipc_object *obj = container_of(ref, struct kipc_object, ref);
	struct kipc_ns *kns = obj->kns;
	struct kipc_user *user = obj->user;

	if (obj->id_listed) {
		mutex_lock(&kns->lock);
		idr_remove(&kns->ids, obj->id);
		mutex_unlock(&kns->lock);
	}
	if (obj->announced)
		kipc_event(obj, KIPC_EVENT_DESTROYED, 0);

	kipc_user_uncharge(user, obj->charge);
	kipc_user_uncharge_object(user, obj->type);
	kipc_user_put(user);
	put_pid(obj->cpid);
	obj->ops->free(obj);
	kipc_ns_put(kns);
}

void kipc_object_put(struct kipc_object *obj)
{
	kref_put(&obj->ref, kipc_object_free);
}

/*
 * Drop the name and the persistent registration.  Returns true when the
 * namespace's reference must be dropped, after kns->lock is released.
 */
static bool kipc_unregister_locked(struct kipc_object *obj)
{
	bool registered = obj->name || obj->persist;

	lockdep_assert_held(&obj->kns->lock);
	if (obj->name) {
		hash_del(&obj->name_node);
		kfree(obj->name);
		obj->name = NULL;
	}
	obj->persist = false;
	return registered;
}

static void kipc_registration_put(struct kipc_object *obj)
{
	kipc_object_put(obj);
	module_put(THIS_MODULE);
}

/*
 * IPC_RMID: unregister, make the id unreachable, and let the type wake its
 * waiters with EIDRM.  Files keep the object alive until they are closed.
 */
static int kipc_remove_locked(struct kipc_object *obj, bool *drop)
{
	lockdep_assert_held(&obj->kns->lock);
	if (obj->removed)
		return -EIDRM;
	/* Under kns->lock, so that listeners see one order per namespace. */
	kipc_event_locked(obj, KIPC_EVENT_REMOVED, 0);
	atomic64_inc(&kipc_counters.removed[obj->type]);
	*drop = kipc_unregister_locked(obj);
	if (obj->id_listed) {
		idr_remove(&obj->kns->ids, obj->id);
		obj->id_listed = false;
	}
	spin_lock(&obj->lock);
	obj->removed = true;
	spin_unlock(&obj->lock);
	return 0;
}

static void kipc_remove_finish(struct kipc_object *obj, bool drop)
{
	obj->ops->removed(obj);
	if (drop)
		kipc_registration_put(obj);
}

static bool kipc_is_owner(struct kipc_object *obj)
{
	kuid_t euid = current_euid();

	return uid_eq(euid, obj->uid) || uid_eq(euid, obj->cuid) ||
	       ns_capable(obj->kns->ipc_ns->user_ns, CAP_SYS_ADMIN);
}

/* IPC_RMID, by the owner only unless @anyone (kipc itself taking it back). */
static int kipc_remove(struct kipc_object *obj, bool anyone)
{
	struct kipc_ns *kns = obj->kns;
	bool drop = false;
	int ret;

	mutex_lock(&kns->lock);
	ret = (anyone || kipc_is_owner(obj)) ?
	      kipc_remove_locked(obj, &drop) : -EPERM;
	mutex_unlock(&kns->lock);
	if (!ret)
		kipc_remove_finish(obj, drop);
	return ret;
}

int kipc_remove_object(struct kipc_object *obj)
{
	return kipc_remove(obj, false);
}

/* ipcperms(): the owner, group or other bits, or CAP_IPC_OWNER. */
bool kipc_may_access(struct kipc_object *obj, int may)
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
 * A call on a KIPC_O_SYSV object: the caller's credentials now, as
 * ipcperms() checks them on every SysV call.  Others rely on the fd.
 */
int kipc_call_may(struct kipc_object *obj, int may)
{
	if (!obj->sysv || kipc_may_access(obj, may))
		return 0;
	return -EACCES;
}

static int kipc_open_may(u32 flags)
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

static struct file *kipc_object_file(struct kipc_object *obj, u32 flags)
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
 * kns->lock is dropped: its release takes kipc_ns_mutex, which comes first.
 */
static struct file *kipc_create_locked(struct kipc_ns *kns,
				       const struct kipc_type_ops *ops,
				       const struct kipc_open *req,
				       struct kipc_object **unmade)
{
	unsigned long charge = 0;
	struct kipc_object *obj;
	struct kipc_user *user;
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

	user = kipc_user_get(current_euid());
	if (!user) {
		ret = -ENOMEM;
		goto err_name;
	}
	ret = kipc_user_charge_object(user, req->type);
	if (ret)
		goto err_user;
	ret = kipc_user_charge(user, charge);
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
	obj->sysv = req->flags & KIPC_O_SYSV;
	obj->cpid = get_pid(task_tgid(current));
	obj->ctime = ktime_get_real();

	/* From here on the object's own release path undoes the charges. */
	file = kipc_object_file(obj, req->flags);
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
	if (name) {
		obj->name = name;
		hash_add(kns->names, &obj->name_node,
			 kipc_name_key(obj->type, name));
	} else {
		obj->persist = req->flags & KIPC_O_PERSIST;
	}
	if (obj->name || obj->persist) {
		kipc_object_get(obj);
		__module_get(THIS_MODULE);
	}
	atomic64_inc(&kipc_counters.created[obj->type]);
	obj->announced = true;
	kipc_event_locked(obj, KIPC_EVENT_CREATED, 0);
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
	kipc_user_uncharge(user, charge);
err_uncharge_object:
	kipc_user_uncharge_object(user, req->type);
err_user:
	kipc_user_put(user);
err_name:
	kfree(name);
	return ERR_PTR(ret);
}

/* Open another file on an object the caller holds a reference to. */
static struct file *kipc_open_existing(struct kipc_object *obj,
				       const struct kipc_open *req,
				       u32 __user *uid_out)
{
	struct file *file;

	if (!kipc_may_access(obj, kipc_open_may(req->flags)))
		return ERR_PTR(-EACCES);
	if (put_user(obj->id, uid_out))
		return ERR_PTR(-EFAULT);
	kipc_object_get(obj);
	file = kipc_object_file(obj, req->flags);
	if (IS_ERR(file))
		kipc_object_put(obj);
	return file;
}

static struct kipc_object *kipc_id_lookup(struct kipc_ns *kns, u32 type, u32 id)
{
	struct kipc_object *obj;

	lockdep_assert_held(&kns->lock);
	if (id > INT_MAX)
		return NULL;
	obj = idr_find(&kns->ids, id);
	if (!obj || (type && obj->type != type) || obj->removed)
		return NULL;
	return obj;
}

/* The object @id (of @type, unless 0), with a reference; NULL if none. */
struct kipc_object *kipc_ns_find_object(struct kipc_ns *kns, u32 type, u32 id)
{
	struct kipc_object *obj;

	mutex_lock(&kns->lock);
	obj = kipc_id_lookup(kns, type, id);
	if (obj && !kref_get_unless_zero(&obj->ref))
		obj = NULL;
	mutex_unlock(&kns->lock);
	return obj;
}

/*
 * Walk a namespace's objects in id order: the listed object with the lowest
 * id at or above *@id, with a reference, and *@id moved past it; NULL at the
 * end.  Only the cursor carries over between calls, so a walk that drops
 * the lock (a netlink dump spanning messages) neither repeats nor skips an
 * object that stays listed throughout, whatever else comes and goes.
 */
struct kipc_object *kipc_ns_next_object(struct kipc_ns *kns, u32 *id)
{
	struct kipc_object *obj;
	int next;

	mutex_lock(&kns->lock);
	for (;;) {
		if (*id > INT_MAX) {
			obj = NULL;
			break;
		}
		next = *id;
		obj = idr_get_next(&kns->ids, &next);
		if (!obj)
			break;
		*id = (u32)next + 1;
		/* A dying object leaves the table in its own release. */
		if (kref_get_unless_zero(&obj->ref))
			break;
	}
	mutex_unlock(&kns->lock);
	return obj;
}

static int kipc_check_name(const char *name, size_t size)
{
	size_t len = strnlen(name, size);

	if (len == size)
		return -ENAMETOOLONG;
	if (strchr(name, '/'))
		return -EINVAL;
	return len;
}

long kipc_open_object(struct kipc_open __user *uarg)
{
	struct kipc_object *obj, *unmade = NULL;
	const struct kipc_type_ops *ops;
	struct kipc_open *req;
	struct kipc_ns *kns;
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
	if (req->type == 0 || req->type >= KIPC_TYPE_COUNT ||
	    !kipc_types[req->type])
		goto out_free;
	ops = kipc_types[req->type];
	if ((req->flags & ~KIPC_O_VALID) ||
	    (req->flags & KIPC_O_ACCMODE) == KIPC_O_ACCMODE ||
	    (req->mode & ~0777))
		goto out_free;
	namelen = kipc_check_name(req->name, sizeof(req->name));
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

	kns = kipc_ns_current(req->flags & KIPC_O_CREAT);
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
		obj = kipc_id_lookup(kns, req->type, req->id);
	} else if (namelen) {
		obj = kipc_name_lookup(kns, req->type, req->name);
		if (obj && (req->flags & KIPC_O_CREAT) &&
		    (req->flags & KIPC_O_EXCL)) {
			obj = NULL;
			file = ERR_PTR(-EEXIST);
		} else if (!obj && (req->flags & KIPC_O_CREAT)) {
			file = kipc_create_locked(kns, ops, req, &unmade);
		}
	} else {
		file = kipc_create_locked(kns, ops, req, &unmade);
	}
	if (obj && !kref_get_unless_zero(&obj->ref))
		obj = NULL;
	mutex_unlock(&kns->lock);

	if (unmade)
		kipc_object_put(unmade);
	/*
	 * A new object's id goes out with kns->lock dropped: a fault on the
	 * caller's memory can take long (userfaultfd, FUSE) and would hold up
	 * the whole namespace.  Without room for the id, no object: it is
	 * removed as IPC_RMID would (somebody may have found it meanwhile),
	 * and its file goes.
	 */
	if (!obj && !IS_ERR(file) &&
	    put_user(kipc_file_object(file)->id, &uarg->id)) {
		kipc_remove(kipc_file_object(file), true);
		fput(file);
		file = ERR_PTR(-EFAULT);
	}

	/* Outside the lock: our reference may turn out to be the last. */
	if (obj) {
		file = kipc_open_existing(obj, req, &uarg->id);
		kipc_object_put(obj);
	}

	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto out_ns;
	}
	fd_install(fd, file);
	ret = fd;
out_ns:
	kipc_ns_put(kns);
out_free:
	kfree(req);
	return ret;
}

static struct kipc_name_req *kipc_name_req_copy(struct kipc_name_req __user *uarg)
{
	struct kipc_name_req *req;
	int namelen;

	req = memdup_user(uarg, sizeof(*req));
	if (IS_ERR(req))
		return req;
	namelen = kipc_check_name(req->name, sizeof(req->name));
	if (namelen < 0) {
		kfree(req);
		return ERR_PTR(namelen);
	}
	if (req->type == 0 || req->type >= KIPC_TYPE_COUNT ||
	    (req->flags & ~KIPC_O_BY_ID) || req->reserved ||
	    (!(req->flags & KIPC_O_BY_ID) && !namelen)) {
		kfree(req);
		return ERR_PTR(-EINVAL);
	}
	return req;
}

/* POSIX unlink: the name goes, the object lives while files are open. */
long kipc_unlink_object(struct kipc_name_req __user *uarg)
{
	struct kipc_name_req *req;
	struct kipc_object *obj;
	struct kipc_ns *kns;
	bool drop = false;
	long ret;

	req = kipc_name_req_copy(uarg);
	if (IS_ERR(req))
		return PTR_ERR(req);
	ret = -EINVAL;
	if (req->flags & KIPC_O_BY_ID)
		goto out_free;
	kns = kipc_ns_current(false);
	if (IS_ERR(kns)) {
		ret = PTR_ERR(kns);
		goto out_free;
	}
	mutex_lock(&kns->lock);
	obj = kipc_name_lookup(kns, req->type, req->name);
	if (!obj)
		ret = -ENOENT;
	else if (!kipc_is_owner(obj))
		ret = -EACCES;
	else
		ret = 0;
	if (!ret) {
		kipc_event_locked(obj, KIPC_EVENT_UNLINKED, 0);
		drop = kipc_unregister_locked(obj);
	}
	mutex_unlock(&kns->lock);
	if (drop)
		kipc_registration_put(obj);
	kipc_ns_put(kns);
out_free:
	kfree(req);
	return ret;
}

/* kipc_is_owner() for the credentials @file was opened with. */
static bool kipc_file_is_owner(struct kipc_object *obj, const struct file *file)
{
	kuid_t euid = file->f_cred->euid;

	return uid_eq(euid, obj->uid) || uid_eq(euid, obj->cuid) ||
	       file_ns_capable(file, obj->kns->ipc_ns->user_ns, CAP_SYS_ADMIN);
}

/*
 * IPC_RMID without an fd: of @name within @type, or with a NULL @name of
 * @id (of @type, unless 0).  With an @opener, whoever opened that file
 * must be allowed as well as the caller.
 */
int kipc_remove_in_ns(struct kipc_ns *kns, u32 type, u32 id, const char *name,
		      const struct file *opener)
{
	struct kipc_object *obj;
	bool drop = false;
	int ret;

	mutex_lock(&kns->lock);
	if (name)
		obj = kipc_name_lookup(kns, type, name);
	else
		obj = kipc_id_lookup(kns, type, id);
	if (!obj || !kref_get_unless_zero(&obj->ref)) {
		mutex_unlock(&kns->lock);
		return -ENOENT;
	}
	if (!kipc_is_owner(obj) || (opener && !kipc_file_is_owner(obj, opener)))
		ret = -EPERM;
	else
		ret = kipc_remove_locked(obj, &drop);
	mutex_unlock(&kns->lock);
	if (!ret)
		kipc_remove_finish(obj, drop);
	kipc_object_put(obj);
	return ret;
}

long kipc_remove_by(struct kipc_name_req __user *uarg)
{
	struct kipc_name_req *req;
	struct kipc_ns *kns;
	long ret;

	req = kipc_name_req_copy(uarg);
	if (IS_ERR(req))
		return PTR_ERR(req);
	kns = kipc_ns_current(false);
	if (IS_ERR(kns)) {
		ret = PTR_ERR(kns);
		goto out_free;
	}
	ret = kipc_remove_in_ns(kns, req->type, req->id,
				(req->flags & KIPC_O_BY_ID) ? NULL : req->name,
				NULL);
	kipc_ns_put(kns);
out_free:
	kfree(req);
	return ret;
}

/* Shared object ioctls */

/*
 * A snapshot of @obj as the calling task sees it (uids in its user
 * namespace, pids in its pid namespace), for KIPC_IOC_STAT and netlink.
 * Every byte of @st is written: unused ones are zero.
 */
void kipc_object_fill_stat(struct kipc_object *obj, struct kipc_stat *st)
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

static long kipc_object_stat(struct kipc_object *obj,
			     struct kipc_stat __user *ust)
{
	struct kipc_stat *st;
	long ret = 0;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	kipc_object_fill_stat(obj, st);
	if (copy_to_user(ust, st, sizeof(*st)))
		ret = -EFAULT;
	kfree(st);
	return ret;
}

static long kipc_object_set(struct kipc_object *obj,
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
	if (kipc_removed(obj))
		return -EIDRM;
	if (!kipc_is_owner(obj))
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

long kipc_object_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kipc_object *obj = kipc_file_object(file);
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KIPC_IOC_STAT:
		return kipc_object_stat(obj, argp);
	case KIPC_IOC_SET:
		return kipc_object_set(obj, argp);
	case KIPC_IOC_REMOVE:
		return kipc_remove_object(obj);
	default:
		return -ENOTTY;
	}
}

int kipc_object_release(struct inode *inode, struct file *file)
{
	struct kipc_object *obj = kipc_file_object(file);

	atomic_dec(&obj->nfds);
	kipc_object_put(obj);
	return 0;
}

/*
 * Blocking calls
 *
 * A wait ends as soon as a signal is pending, whatever that signal will do:
 * a stop (SIGSTOP, a ptrace stop, the freezer) as well, though it has no
 * handler.  Whether the call then starts over is up to what it returns.
 *
 * An untimed wait, or one with an absolute deadline, returns
 * -ERESTARTNOHAND: with no handler to run, the call is made again with the
 * same arguments, and so the same deadline, and nobody sees the stop; a
 * handler sees EINTR, SA_RESTART or not, as after msgrcv(2).
 *
 * A relative timeout cannot be made again with the same arguments: it would
 * start over, and a wait stopped every second would never time out.  System
 * calls keep the time left in current->restart_block (nanosleep, futex,
 * poll), which is no tool for a module: the restart calls a function
 * pointer after the ioctl has returned and dropped its file, with it the
 * pin on the module, and the block has no room for a file and an ioctl
 * argument.  Writing the time left back into the caller's struct, as
 * select(2) does, would make in-only (_IOW) ioctls write user memory,
 * surprise a caller who reuses its struct, and fail on read-only memory.
 * So an interrupted relative wait returns -EINTR, as semtimedop(2),
 * epoll_wait(2) and a socket with SO_RCVTIMEO do (sock_intr_errno(); see
 * "Interruption of system calls and library functions by stop signals" in
 * signal(7)).  A caller who wants stops to go unseen passes an absolute
 * CLOCK_MONOTONIC deadline: it restarts, and still ends in time.
 */

/*
 * An absolute CLOCK_MONOTONIC time from user space is on the caller's clock,
 * which its time namespace may shift from the host's that hrtimers run on.
 * clock_nanosleep(2) and futex(2) convert with timens_ktime_to_host(), which
 * calls a function modules cannot; timens_add_monotonic() gives the offset
 * (and nothing without CONFIG_TIME_NS).  As there, a time before the offset
 * has passed, and one that would overflow is as good as never.
 */
static ktime_t kipc_monotonic_to_host(ktime_t t)
{
	struct timespec64 ts = { };
	ktime_t offset;

	timens_add_monotonic(&ts);
	offset = timespec64_to_ktime(ts);
	if (offset < 0 && t > KTIME_MAX + offset)
		return KTIME_MAX;
	return t < offset ? 0 : t - offset;
}

int kipc_deadline_init(struct kipc_deadline *dl, u32 flags,
		       const struct kipc_timeout *to, bool file_nonblock)
{
	struct timespec64 ts;

	dl->nonblock = file_nonblock || (flags & KIPC_F_NONBLOCK);
	dl->timed = flags & KIPC_F_TIMED;
	dl->restart = true;
	dl->clock = CLOCK_MONOTONIC;
	if (!dl->timed)
		return (flags & KIPC_F_ABSTIME) ? -EINVAL : 0;

	if (to->reserved || to->tv_nsec < 0 || to->tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	ts.tv_sec = to->tv_sec;
	ts.tv_nsec = to->tv_nsec;
	if (flags & KIPC_F_ABSTIME) {
		if (to->clockid != CLOCK_MONOTONIC &&
		    to->clockid != CLOCK_REALTIME)
			return -EINVAL;
		dl->clock = to->clockid;
		/* A time before the epoch has simply passed. */
		dl->expires = ts.tv_sec < 0 ? 0 : timespec64_to_ktime(ts);
		if (dl->clock == CLOCK_MONOTONIC)
			dl->expires = kipc_monotonic_to_host(dl->expires);
	} else {
		if (ts.tv_sec < 0)
			return -EINVAL;
		dl->expires = ktime_add_safe(ktime_get(),
					     timespec64_to_ktime(ts));
		dl->restart = false;
	}
	return 0;
}

int kipc_deadline_sleep(struct kipc_deadline *dl)
{
	if (dl->timed) {
		ktime_t expires = dl->expires;

		if (!schedule_hrtimeout_range_clock(&expires,
						    current->timer_slack_ns,
						    HRTIMER_MODE_ABS,
						    dl->clock))
			return -ETIMEDOUT;
	} else {
		schedule();
	}
	if (signal_pending(current))
		return dl->restart ? -ERESTARTNOHAND : -EINTR;
	return 0;
}

/* Module-wide information */

void kipc_fill_info(struct kipc_info *info)
{
	struct kipc_user *user;
	int i;

	kipc_reap_dead_namespaces();

	memset(info, 0, sizeof(*info));
	info->version = KIPC_API_VERSION;
	for (i = 0; i < KIPC_TYPE_COUNT; i++)
		info->objects[i] = atomic64_read(&kipc_counters.objects[i]);
	info->msgs = atomic64_read(&kipc_counters.msgs);
	info->bytes = atomic64_read(&kipc_counters.bytes);
	info->namespaces = atomic64_read(&kipc_counters.namespaces);
	info->max_objects = READ_ONCE(kipc_limits.max_objects);
	info->max_user_objects = READ_ONCE(kipc_limits.max_user_objects);
	info->max_user_bytes = READ_ONCE(kipc_limits.max_user_bytes);
	info->max_msgsize = READ_ONCE(kipc_limits.max_msgsize);
	info->max_queue_msgs = READ_ONCE(kipc_limits.max_queue_msgs);
	info->max_queue_bytes = READ_ONCE(kipc_limits.max_queue_bytes);
	info->max_region_size = READ_ONCE(kipc_limits.max_region_size);
	info->max_nsems = READ_ONCE(kipc_limits.max_nsems);

	spin_lock(&kipc_users_lock);
	user = kipc_user_find_locked(current_euid());
	if (user) {
		info->user_objects = atomic_long_read(&user->objects);
		info->user_bytes = atomic_long_read(&user->bytes);
	}
	spin_unlock(&kipc_users_lock);
}

/* Reaping the objects of namespaces nobody can enter any more */

static bool kipc_ns_dead(struct kipc_ns *kns)
{
	/* Whatever the kernel counts for it, the initial namespace lives. */
	if (kns->ipc_ns->ns.inum == PROC_IPC_INIT_INO)
		return false;
	return kipc_ipc_ns_unused(kns->ipc_ns);
}

static void kipc_reap_ns(struct kipc_ns *kns)
{
	struct kipc_object *obj;
	bool drop;
	int id = 0;

	for (;;) {
		mutex_lock(&kns->lock);
		obj = idr_get_next(&kns->ids, &id);
		if (!obj) {
			mutex_unlock(&kns->lock);
			break;
		}
		id = obj->id + 1;
		/* A dying object leaves the table in its own release. */
		if (!kref_get_unless_zero(&obj->ref)) {
			mutex_unlock(&kns->lock);
			continue;
		}
		drop = kipc_unregister_locked(obj);
		idr_remove(&kns->ids, obj->id);
		obj->id_listed = false;
		mutex_unlock(&kns->lock);
		if (drop)
			kipc_registration_put(obj);
		kipc_object_put(obj);
	}
}

void kipc_reap_dead_namespaces(void)
{
	struct kipc_ns *kns, *found;

	do {
		found = NULL;
		mutex_lock(&kipc_ns_mutex);
		list_for_each_entry(kns, &kipc_namespaces, node) {
			if (!kns->dead && kipc_ns_dead(kns)) {
				kns->dead = true;
				kref_get(&kns->ref);
				found = kns;
				break;
			}
		}
		mutex_unlock(&kipc_ns_mutex);
		if (found) {
			kipc_reap_ns(found);
			kipc_ns_put(found);
		}
	} while (found);
}

static void kipc_reap_work_fn(struct work_struct *work)
{
	unsigned int ms = READ_ONCE(kipc_limits.reap_interval_ms);

	kipc_reap_dead_namespaces();
	schedule_delayed_work(&kipc_reap_work, msecs_to_jiffies(max(ms, 100U)));
}

int kipc_core_init(void)
{
	schedule_delayed_work(&kipc_reap_work, 0);
	return 0;
}

void kipc_core_exit(void)
{
	cancel_delayed_work_sync(&kipc_reap_work);
	WARN_ON(!list_empty(&kipc_namespaces));
	WARN_ON(!hash_empty(kipc_users));
}
