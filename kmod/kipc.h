/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc internals shared by the device, the object core and the object types.
 *
 * Locking, outermost first:
 *   kipc_ns_mutex   the list of namespaces that have kipc objects
 *   kns->lock       (mutex) one namespace's id table and name table
 *   obj->lock       (spinlock) one object's state: permissions, counters,
 *                   the type's queues and wait lists
 * Nothing sleeps under obj->lock; user copies happen outside it.
 *
 * Lifetime: struct kipc_object is refcounted.  Each open file holds a
 * reference, and so does the namespace while the object is registered
 * (named, or KIPC_O_PERSIST).  The id table entry holds no reference: a
 * lookup by id takes one with kref_get_unless_zero() under kns->lock, and
 * the release path removes the id under the same lock.
 */
#ifndef _KIPC_INTERNAL_H
#define _KIPC_INTERNAL_H

#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/kipc.h>

#include "compat.h"

struct ipc_namespace;
struct kipc_object;

/* Module parameters: the global limits (kmod/main.c). */
struct kipc_limits {
	unsigned long max_objects;
	unsigned long max_user_objects;
	unsigned long max_user_bytes;
	unsigned int max_msgsize;
	unsigned int max_queue_msgs;
	unsigned long max_queue_bytes;
	unsigned long max_region_size;
	unsigned int max_nsems;
	unsigned int reap_interval_ms;
};

extern struct kipc_limits kipc_limits;

/* Module-wide counters, reported by KIPC_IOC_INFO and netlink. */
struct kipc_counters {
	atomic64_t objects[KIPC_TYPE_COUNT];
	atomic64_t msgs;
	atomic64_t bytes;
	atomic64_t namespaces;
	/* Since the module loaded, per type; [0] unused. */
	atomic64_t created[KIPC_TYPE_COUNT];
	atomic64_t removed[KIPC_TYPE_COUNT];
	/* Queue operations. */
	atomic64_t queue_sent;
	atomic64_t queue_received;
	atomic64_t queue_full;
	/* Region mmap()s, semaphore operations and those that blocked. */
	atomic64_t region_maps;
	atomic64_t sem_ops;
	atomic64_t sem_waits;
};

extern struct kipc_counters kipc_counters;

/* Per-user accounting: object count and charged bytes against quotas. */
struct kipc_user {
	struct hlist_node node;
	kuid_t uid;
	refcount_t ref;
	atomic_long_t objects;
	atomic_long_t bytes;
};

int kipc_user_charge(struct kipc_user *user, unsigned long bytes);
void kipc_user_uncharge(struct kipc_user *user, unsigned long bytes);

/* The kipc state of one IPC namespace. */
#define KIPC_NAME_HASH_BITS	9

struct kipc_ns {
	struct list_head node;		/* kipc_namespaces, under kipc_ns_mutex */
	struct ipc_namespace *ipc_ns;	/* referenced while this exists */
	struct kref ref;		/* one per object */
	struct mutex lock;
	struct idr ids;
	DECLARE_HASHTABLE(names, KIPC_NAME_HASH_BITS);
	bool dead;			/* the namespace has no users left */
};

struct kipc_type_ops {
	const char *name;		/* anon inode name, e.g. "kipc-queue" */
	const struct file_operations *fops;
	/* Validate the type-specific part of an open request; set charge. */
	int (*check)(const struct kipc_open *req, unsigned long *charge);
	struct kipc_object *(*alloc)(const struct kipc_open *req);
	/* Called once, without locks, after the object is marked removed. */
	void (*removed)(struct kipc_object *obj);
	void (*free)(struct kipc_object *obj);
	/* Fill the type's part of a stat, under obj->lock. */
	void (*stat)(struct kipc_object *obj, struct kipc_stat *st);
	/* Type-specific part of KIPC_IOC_SET; takes the locks it needs. */
	int (*set)(struct kipc_object *obj, const struct kipc_set *set);
};

struct kipc_object {
	struct kref ref;
	const struct kipc_type_ops *ops;
	struct kipc_ns *kns;
	struct kipc_user *user;		/* charged for this object */
	unsigned long charge;		/* bytes charged to @user */
	u32 type;
	u32 id;

	/* Under kns->lock. */
	struct hlist_node name_node;
	char *name;			/* NULL once unlinked or if anonymous */
	bool persist;			/* registered without a name */
	bool sysv;			/* KIPC_O_SYSV: checks every call */
	/*
	 * The id maps to this object.  Written only by holders of a
	 * reference, so the release path may read it without the lock.
	 */
	bool id_listed;
	/*
	 * Created successfully: event listeners heard of it, so they hear of
	 * its end too.  A failed creation goes silently, as it may be freed
	 * under kns->lock.
	 */
	bool announced;

	/* Under obj->lock; written also under kns->lock where noted. */
	spinlock_t lock;
	bool removed;			/* also under kns->lock */
	kuid_t uid, cuid;
	kgid_t gid, cgid;
	umode_t mode;
	struct pid *cpid;
	ktime_t ctime;
	atomic_t nfds;
};

static inline bool kipc_removed(struct kipc_object *obj)
{
	return READ_ONCE(obj->removed);
}

extern const struct kipc_type_ops kipc_queue_ops;
extern const struct kipc_type_ops kipc_region_ops;
extern const struct kipc_type_ops kipc_sem_ops;

/* object.c */
struct kipc_ns *kipc_ns_current(bool create);
void kipc_ns_put(struct kipc_ns *kns);
struct kipc_object *kipc_ns_next_object(struct kipc_ns *kns, u32 *id);
struct kipc_object *kipc_ns_find_object(struct kipc_ns *kns, u32 type, u32 id);
int kipc_remove_in_ns(struct kipc_ns *kns, u32 type, u32 id, const char *name,
		      const struct file *opener);
void kipc_object_fill_stat(struct kipc_object *obj, struct kipc_stat *st);
void kipc_object_init(struct kipc_object *obj, const struct kipc_type_ops *ops,
		      u32 type);
void kipc_object_get(struct kipc_object *obj);
void kipc_object_put(struct kipc_object *obj);
long kipc_open_object(struct kipc_open __user *uarg);
long kipc_unlink_object(struct kipc_name_req __user *uarg);
long kipc_remove_by(struct kipc_name_req __user *uarg);
int kipc_remove_object(struct kipc_object *obj);
long kipc_object_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int kipc_object_release(struct inode *inode, struct file *file);
bool kipc_may_access(struct kipc_object *obj, int may);
int kipc_call_may(struct kipc_object *obj, int may);
void kipc_fill_info(struct kipc_info *info);
void kipc_reap_dead_namespaces(void);
int kipc_core_init(void);
void kipc_core_exit(void);

/* A blocking call's deadline, decoded from struct kipc_timeout. */
struct kipc_deadline {
	bool nonblock;
	bool timed;
	bool restart;			/* made again, it would end the same */
	clockid_t clock;
	ktime_t expires;		/* absolute, on @clock (the host's) */
};

int kipc_deadline_init(struct kipc_deadline *dl, u32 flags,
		       const struct kipc_timeout *to, bool file_nonblock);
/*
 * Sleep in TASK_INTERRUPTIBLE, set by the caller, until woken, the deadline
 * passes (-ETIMEDOUT) or a signal arrives: -ERESTARTNOHAND, or -EINTR for a
 * relative timeout, which a restart would start over (object.c says why).
 * A call that had an effect before it slept (SENDRECV's send) turns
 * -ERESTARTNOHAND into -EINTR: a restart would repeat the effect.
 */
int kipc_deadline_sleep(struct kipc_deadline *dl);

/* netlink.c */
int kipc_netlink_init(void);
void kipc_netlink_exit(void);
bool kipc_event_wanted(void);
/* Multicast an event about @obj: under kns->lock, or taking it. */
void kipc_event_locked(struct kipc_object *obj, u32 event, u32 waiters);
void kipc_event(struct kipc_object *obj, u32 event, u32 waiters);

/* queue.c */
int kipc_queue_init(void);
void kipc_queue_exit(void);

/* sem.c */
int kipc_sem_init(void);
void kipc_sem_exit(void);
/* ring.c: the shared-memory ring of a KIPC_QUEUE_RING queue */
struct kipc_ring;
struct vm_area_struct;

int kipc_ring_check(const struct kipc_queue_attr *a, unsigned long *charge);
struct kipc_ring *kipc_ring_alloc(const struct kipc_queue_attr *a);
void kipc_ring_free(struct kipc_ring *r);
void kipc_ring_removed(struct kipc_ring *r);
int kipc_ring_mmap(struct kipc_ring *r, struct vm_area_struct *vma);
__poll_t kipc_ring_poll(struct kipc_object *obj, struct kipc_ring *r,
			struct file *file, struct poll_table_struct *wait);
long kipc_ring_ioctl(struct kipc_object *obj, struct kipc_ring *r,
		     struct file *file, unsigned int cmd, unsigned long arg);
void kipc_ring_stat(struct kipc_ring *r, struct kipc_queue_stat *qs);

static inline struct kipc_object *kipc_file_object(struct file *file)
{
	return file->private_data;
}

#endif /* _KIPC_INTERNAL_H */
