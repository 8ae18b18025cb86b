// SPDX-License-Identifier: GPL-2.0
/*
 * kipc limits and accounting: the module parameters, the module-wide
 * counters, and per-user quotas of objects and charged bytes.
 *
 * A user's record lives while an object charges it: each object holds a
 * reference (kpc_object.user), taken at creation and dropped as the object
 * is freed.  The table is under kpc_users_lock, a spinlock: nothing inside
 * sleeps, and the allocation of a new record happens outside it.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "kipc.h"

struct kpc_limits kpc_limits = {
	.max_objects		= 65536,
	.max_user_objects	= 16384,
	.max_user_bytes		= 256UL << 20,
	.max_msgsize		= 1U << 20,
	.max_queue_msgs		= 65536,
	.max_queue_bytes	= 64UL << 20,
	.max_region_size	= 1UL << 30,
	.max_nsems		= 32000,
	.reap_interval_ms	= 5000,
};

module_param_named(max_objects, kpc_limits.max_objects, ulong, 0644);
MODULE_PARM_DESC(max_objects, "Objects of all users together (ENOSPC past it)");
module_param_named(max_user_objects, kpc_limits.max_user_objects, ulong, 0644);
MODULE_PARM_DESC(max_user_objects, "Objects one user may own (ENOSPC past it)");
module_param_named(max_user_bytes, kpc_limits.max_user_bytes, ulong, 0644);
MODULE_PARM_DESC(max_user_bytes, "Bytes one user may have reserved in queue memory and regions");
module_param_named(max_msgsize, kpc_limits.max_msgsize, uint, 0644);
MODULE_PARM_DESC(max_msgsize, "Largest max_msgsize a queue may be created with");
module_param_named(max_queue_msgs, kpc_limits.max_queue_msgs, uint, 0644);
MODULE_PARM_DESC(max_queue_msgs, "Largest max_msgs a queue may be created with");
module_param_named(max_queue_bytes, kpc_limits.max_queue_bytes, ulong, 0644);
MODULE_PARM_DESC(max_queue_bytes, "Largest max_bytes of a queue without CAP_SYS_RESOURCE");
module_param_named(max_region_size, kpc_limits.max_region_size, ulong, 0644);
MODULE_PARM_DESC(max_region_size, "Largest shared region in bytes");
module_param_named(max_nsems, kpc_limits.max_nsems, uint, 0644);
MODULE_PARM_DESC(max_nsems, "Most counters in one semaphore set");
module_param_named(reap_interval_ms, kpc_limits.reap_interval_ms, uint, 0644);
MODULE_PARM_DESC(reap_interval_ms, "How often objects of dead IPC namespaces are reaped");

struct kpc_counters kpc_counters;

#define KIPC_USER_HASH_BITS	6
static DEFINE_HASHTABLE(kpc_users, KIPC_USER_HASH_BITS);
static DEFINE_SPINLOCK(kpc_users_lock);

static struct kpc_user *kpc_user_find_locked(kuid_t uid)
{
	struct kpc_user *user;

	hash_for_each_possible(kpc_users, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

struct kpc_user *kpc_user_get(kuid_t uid)
{
	struct kpc_user *user, *new;

	spin_lock(&kpc_users_lock);
	user = kpc_user_find_locked(uid);
	if (user)
		refcount_inc(&user->ref);
	spin_unlock(&kpc_users_lock);
	if (user)
		return user;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);

	spin_lock(&kpc_users_lock);
	user = kpc_user_find_locked(uid);
	if (user) {
		refcount_inc(&user->ref);
	} else {
		hash_add(kpc_users, &new->node, __kuid_val(uid));
		user = new;
		new = NULL;
	}
	spin_unlock(&kpc_users_lock);
	kfree(new);
	return user;
}

void kpc_user_put(struct kpc_user *user)
{
	spin_lock(&kpc_users_lock);
	if (refcount_dec_and_test(&user->ref))
		hash_del(&user->node);
	else
		user = NULL;
	spin_unlock(&kpc_users_lock);
	kfree(user);
}

int kpc_user_charge(struct kpc_user *user, unsigned long bytes)
{
	unsigned long max = READ_ONCE(kpc_limits.max_user_bytes);

	if ((unsigned long)atomic_long_add_return(bytes, &user->bytes) > max &&
	    !capable(CAP_SYS_RESOURCE)) {
		atomic_long_sub(bytes, &user->bytes);
		return -ENOSPC;
	}
	atomic64_add(bytes, &kpc_counters.bytes);
	return 0;
}

void kpc_user_uncharge(struct kpc_user *user, unsigned long bytes)
{
	atomic_long_sub(bytes, &user->bytes);
	atomic64_sub(bytes, &kpc_counters.bytes);
}

int kpc_user_charge_object(struct kpc_user *user, u32 type)
{
	unsigned long max_user = READ_ONCE(kpc_limits.max_user_objects);
	unsigned long max_all = READ_ONCE(kpc_limits.max_objects);
	bool over;

	over = (unsigned long)atomic_long_inc_return(&user->objects) > max_user;
	over |= (unsigned long)atomic64_inc_return(&kpc_counters.objects[0]) > max_all;
	if (over && !capable(CAP_SYS_RESOURCE)) {
		atomic_long_dec(&user->objects);
		atomic64_dec(&kpc_counters.objects[0]);
		return -ENOSPC;
	}
	atomic64_inc(&kpc_counters.objects[type]);
	return 0;
}

void kpc_user_uncharge_object(struct kpc_user *user, u32 type)
{
	atomic_long_dec(&user->objects);
	atomic64_dec(&kpc_counters.objects[0]);
	atomic64_dec(&kpc_counters.objects[type]);
}

/* Module-wide information, for KIPC_IOC_INFO and netlink. */
void kpc_fill_info(struct kipc_info *info)
{
	struct kpc_user *user;
	int i;

	memset(info, 0, sizeof(*info));
	info->version = KIPC_API_VERSION;
	for (i = 0; i < KIPC_TYPE_COUNT; i++)
		info->objects[i] = atomic64_read(&kpc_counters.objects[i]);
	info->msgs = atomic64_read(&kpc_counters.msgs);
	info->bytes = atomic64_read(&kpc_counters.bytes);
	info->namespaces = atomic64_read(&kpc_counters.namespaces);
	info->max_objects = READ_ONCE(kpc_limits.max_objects);
	info->max_user_objects = READ_ONCE(kpc_limits.max_user_objects);
	info->max_user_bytes = READ_ONCE(kpc_limits.max_user_bytes);
	info->max_msgsize = READ_ONCE(kpc_limits.max_msgsize);
	info->max_queue_msgs = READ_ONCE(kpc_limits.max_queue_msgs);
	info->max_queue_bytes = READ_ONCE(kpc_limits.max_queue_bytes);
	info->max_region_size = READ_ONCE(kpc_limits.max_region_size);
	info->max_nsems = READ_ONCE(kpc_limits.max_nsems);

	spin_lock(&kpc_users_lock);
	user = kpc_user_find_locked(current_euid());
	if (user) {
		info->user_objects = atomic_long_read(&user->objects);
		info->user_bytes = atomic_long_read(&user->bytes);
	}
	spin_unlock(&kpc_users_lock);
}

void kpc_user_exit(void)
{
	WARN_ON(!hash_empty(kpc_users));
}
