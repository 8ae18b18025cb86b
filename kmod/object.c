// SPDX-License-Identifier: GPL-2.0
/*
 * kipc object lifecycle: the type table, ids and names within a namespace,
 * references, unlinking and removal (IPC_RMID).  Creating and opening is in
 * open.c, what every object fd shares in file.c.
 *
 * An object is registered while it has a name or KIPC_O_PERSIST: the
 * registration holds a reference on the object and one on the module, and
 * goes with unlink, removal or the reaper (reap.c).  Its id stays listed
 * until removal or its release, without a reference: lookups take one with
 * kref_get_unless_zero() under kns->lock.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/uaccess.h>

#include "kipc.h"

/*
 * The type table, which main.c hands over at load: the core reaches each
 * type through its row and knows nothing else of it.
 */
static const struct kpc_type_ops *const *kpc_types;

void kpc_types_set(const struct kpc_type_ops *const *types)
{
	kpc_types = types;
}

/* The operations of @type, or NULL if there is no such type. */
const struct kpc_type_ops *kpc_type(u32 type)
{
	if (type == 0 || type >= KIPC_TYPE_COUNT)
		return NULL;
	return kpc_types[type];
}

static u32 kpc_name_key(u32 type, const char *name)
{
	return full_name_hash(NULL, name, strlen(name)) ^ type;
}

struct kpc_object *kpc_name_lookup(struct kpc_ns *kns, u32 type,
				   const char *name)
{
	struct kpc_object *obj;

	lockdep_assert_held(&kns->lock);
	hash_for_each_possible(kns->names, obj, name_node,
			       kpc_name_key(type, name))
		if (obj->type == type && !strcmp(obj->name, name))
			return obj;
	return NULL;
}

/* Give @obj the name @name (kmalloc()ed, now the object's). */
void kpc_name_add(struct kpc_object *obj, char *name)
{
	lockdep_assert_held(&obj->kns->lock);
	obj->name = name;
	hash_add(obj->kns->names, &obj->name_node, kpc_name_key(obj->type, name));
}

void kpc_object_init(struct kpc_object *obj, const struct kpc_type_ops *ops,
		     u32 type)
{
	kref_init(&obj->ref);
	spin_lock_init(&obj->lock);
	INIT_HLIST_NODE(&obj->name_node);
	obj->ops = ops;
	obj->type = type;
}

void kpc_object_get(struct kpc_object *obj)
{
	kref_get(&obj->ref);
}

static void kpc_object_free(struct kref *ref)
{
	struct kpc_object *obj = container_of(ref, struct kpc_object, ref);
	struct kpc_ns *kns = obj->kns;
	struct kpc_user *user = obj->user;

	if (obj->id_listed) {
		mutex_lock(&kns->lock);
		idr_remove(&kns->ids, obj->id);
		mutex_unlock(&kns->lock);
	}
	if (obj->announced)
		kpc_event(obj, KIPC_EVENT_DESTROYED, 0);

	kpc_user_uncharge(user, obj->charge);
	kpc_user_uncharge_object(user, obj->type);
	kpc_user_put(user);
	put_pid(obj->cpid);
	obj->ops->free(obj);
	kpc_ns_put(kns);
}

void kpc_object_put(struct kpc_object *obj)
{
	kref_put(&obj->ref, kpc_object_free);
}

/*
 * Drop the name and the persistent registration.  Returns true when the
 * namespace's reference must be dropped, after kns->lock is released.
 */
bool kpc_unregister_locked(struct kpc_object *obj)
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

void kpc_registration_put(struct kpc_object *obj)
{
	kpc_object_put(obj);
	module_put(THIS_MODULE);
}

/*
 * IPC_RMID: unregister, make the id unreachable, and let the type wake its
 * waiters with EIDRM.  Files keep the object alive until they are closed.
 */
static int kpc_remove_locked(struct kpc_object *obj, bool *drop)
{
	lockdep_assert_held(&obj->kns->lock);
	if (obj->removed)
		return -EIDRM;
	/* Under kns->lock, so that listeners see one order per namespace. */
	kpc_event_locked(obj, KIPC_EVENT_REMOVED, 0);
	atomic64_inc(&kpc_counters.removed[obj->type]);
	*drop = kpc_unregister_locked(obj);
	if (obj->id_listed) {
		idr_remove(&obj->kns->ids, obj->id);
		obj->id_listed = false;
	}
	spin_lock(&obj->lock);
	obj->removed = true;
	spin_unlock(&obj->lock);
	return 0;
}

static void kpc_remove_finish(struct kpc_object *obj, bool drop)
{
	obj->ops->removed(obj);
	if (drop)
		kpc_registration_put(obj);
}

bool kpc_is_owner(struct kpc_object *obj)
{
	kuid_t euid = current_euid();

	return uid_eq(euid, obj->uid) || uid_eq(euid, obj->cuid) ||
	       ns_capable(obj->kns->ipc_ns->user_ns, CAP_SYS_ADMIN);
}

/* IPC_RMID, by the owner only unless @anyone (kipc itself taking it back). */
int kpc_remove(struct kpc_object *obj, bool anyone)
{
	struct kpc_ns *kns = obj->kns;
	bool drop = false;
	int ret;

	mutex_lock(&kns->lock);
	ret = (anyone || kpc_is_owner(obj)) ?
	      kpc_remove_locked(obj, &drop) : -EPERM;
	mutex_unlock(&kns->lock);
	if (!ret)
		kpc_remove_finish(obj, drop);
	return ret;
}

struct kpc_object *kpc_id_lookup(struct kpc_ns *kns, u32 type, u32 id)
{
	struct kpc_object *obj;

	lockdep_assert_held(&kns->lock);
	if (id > INT_MAX)
		return NULL;
	obj = idr_find(&kns->ids, id);
	if (!obj || (type && obj->type != type) || obj->removed)
		return NULL;
	return obj;
}

/* The object @id (of @type, unless 0), with a reference; NULL if none. */
struct kpc_object *kpc_ns_find_object(struct kpc_ns *kns, u32 type, u32 id)
{
	struct kpc_object *obj;

	mutex_lock(&kns->lock);
	obj = kpc_id_lookup(kns, type, id);
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
struct kpc_object *kpc_ns_next_object(struct kpc_ns *kns, u32 *id)
{
	struct kpc_object *obj;
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

/* The length of a name from user space, or why it is no name. */
int kpc_check_name(const char *name, size_t size)
{
	size_t len = strnlen(name, size);

	if (len == size)
		return -ENAMETOOLONG;
	if (strchr(name, '/'))
		return -EINVAL;
	return len;
}

static struct kipc_name_req *kpc_name_req_copy(struct kipc_name_req __user *uarg)
{
	struct kipc_name_req *req;
	int namelen;

	req = memdup_user(uarg, sizeof(*req));
	if (IS_ERR(req))
		return req;
	namelen = kpc_check_name(req->name, sizeof(req->name));
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
long kpc_unlink_object(struct kipc_name_req __user *uarg)
{
	struct kipc_name_req *req;
	struct kpc_object *obj;
	struct kpc_ns *kns;
	bool drop = false;
	long ret;

	req = kpc_name_req_copy(uarg);
	if (IS_ERR(req))
		return PTR_ERR(req);
	ret = -EINVAL;
	if (req->flags & KIPC_O_BY_ID)
		goto out_free;
	kns = kpc_ns_current(false);
	if (IS_ERR(kns)) {
		ret = PTR_ERR(kns);
		goto out_free;
	}
	mutex_lock(&kns->lock);
	obj = kpc_name_lookup(kns, req->type, req->name);
	if (!obj)
		ret = -ENOENT;
	else if (!kpc_is_owner(obj))
		ret = -EACCES;
	else
		ret = 0;
	if (!ret) {
		kpc_event_locked(obj, KIPC_EVENT_UNLINKED, 0);
		drop = kpc_unregister_locked(obj);
	}
	mutex_unlock(&kns->lock);
	if (drop)
		kpc_registration_put(obj);
	kpc_ns_put(kns);
out_free:
	kfree(req);
	return ret;
}

/* kpc_is_owner() for the credentials @file was opened with. */
static bool kpc_file_is_owner(struct kpc_object *obj, const struct file *file)
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
int kpc_remove_in_ns(struct kpc_ns *kns, u32 type, u32 id, const char *name,
		     const struct file *opener)
{
	struct kpc_object *obj;
	bool drop = false;
	int ret;

	mutex_lock(&kns->lock);
	if (name)
		obj = kpc_name_lookup(kns, type, name);
	else
		obj = kpc_id_lookup(kns, type, id);
	if (!obj || !kref_get_unless_zero(&obj->ref)) {
		mutex_unlock(&kns->lock);
		return -ENOENT;
	}
	if (!kpc_is_owner(obj) || (opener && !kpc_file_is_owner(obj, opener)))
		ret = -EPERM;
	else
		ret = kpc_remove_locked(obj, &drop);
	mutex_unlock(&kns->lock);
	if (!ret)
		kpc_remove_finish(obj, drop);
	kpc_object_put(obj);
	return ret;
}

long kpc_remove_by(struct kipc_name_req __user *uarg)
{
	struct kipc_name_req *req;
	struct kpc_ns *kns;
	long ret;

	req = kpc_name_req_copy(uarg);
	if (IS_ERR(req))
		return PTR_ERR(req);
	kns = kpc_ns_current(false);
	if (IS_ERR(kns)) {
		ret = PTR_ERR(kns);
		goto out_free;
	}
	ret = kpc_remove_in_ns(kns, req->type, req->id,
			       (req->flags & KIPC_O_BY_ID) ? NULL : req->name,
			       NULL);
	kpc_ns_put(kns);
out_free:
	kfree(req);
	return ret;
}
