/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc internals shared by the device, the core and the object types.
 * Kernel-internal names start with kpc_ (KPC_): the kipc_ names are the
 * UAPI's, and libkipc's, so that each means one thing.
 *
 * Locking, outermost first:
 *   kpc_ns_mutex   the list of namespaces that have kipc objects (ns.c)
 *   kns->lock      (mutex) one namespace's id table and name table
 *   obj->lock      (spinlock) one object's state: permissions, counters,
 *                  the type's queues and wait lists
 * Nothing sleeps under obj->lock; user copies happen outside it.
 *
 * Lifetime: struct kpc_object is refcounted.  Each open file holds a
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
struct kpc_object;

/* Module parameters: the global limits (kmod/main.c). */
struct kpc_limits {
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

extern struct kpc_limits kpc_limits;

/*
 * Module-wide counters, reported by KIPC_IOC_INFO and netlink.  Those of
 * one type's operations live in the type's own file (kpc_type_ops).
 */
struct kpc_counters {
	atomic64_t objects[KIPC_TYPE_COUNT];	/* [0]: all types */
	atomic64_t msgs;
	atomic64_t bytes;
	atomic64_t namespaces;
	/* Since the module loaded, per type; [0] unused. */
	atomic64_t created[KIPC_TYPE_COUNT];
	atomic64_t removed[KIPC_TYPE_COUNT];
};

extern struct kpc_counters kpc_counters;

/*
 * A type's operation counters: KIPC_TSTATS_A_TYPE_BASE + i of its
 * KIPC_STATS_A_<TYPE> nest is counters[i].
 */
#define kpc_count_add(counters, attr, n) \
	atomic64_add(n, &(counters)[(attr) - KIPC_TSTATS_A_TYPE_BASE])
#define kpc_count(counters, attr)	kpc_count_add(counters, attr, 1)

/* Per-user accounting: object count and charged bytes against quotas. */
struct kpc_user {
	struct hlist_node node;
	kuid_t uid;
	refcount_t ref;
	atomic_long_t objects;
	atomic_long_t bytes;
};

int kpc_user_charge(struct kpc_user *user, unsigned long bytes);
void kpc_user_uncharge(struct kpc_user *user, unsigned long bytes);

/* The kipc state of one IPC namespace. */
#define KIPC_NAME_HASH_BITS	9

struct kpc_ns {
	struct list_head node;		/* kpc_namespaces, under kpc_ns_mutex */
	struct ipc_namespace *ipc_ns;	/* referenced while this exists */
	struct kref ref;		/* one per object */
	struct mutex lock;
	struct idr ids;
	DECLARE_HASHTABLE(names, KIPC_NAME_HASH_BITS);
	bool dead;			/* the namespace has no users left */
};

/*
 * A type's stat in its netlink nest: the rows of <linux/kipc_stat.h>, made
 * into two arrays, where each field starts and ends in struct kipc_stat's
 * type union.  Row i is attribute KPC_NL_FIRST + i, as the UAPI numbers
 * them (after _UNSPEC and _PAD); signed or not, a field goes as its bits.
 */
#define KPC_NL_FIRST	2

/*
 * An object type: one file, one row of kpc_types[] (object.c).  The core
 * calls these and knows nothing else of the type.
 */
struct kpc_type_ops {
	const char *name;		/* anon inode name, e.g. "kipc-queue" */
	const struct file_operations *fops;
	/* Module load and unload, before any object and after the last. */
	int (*init)(void);
	void (*exit)(void);
	/* Validate the type-specific part of an open request; set charge. */
	int (*check)(const struct kipc_open *req, unsigned long *charge);
	struct kpc_object *(*alloc)(const struct kipc_open *req);
	/* Called once, without locks, after the object is marked removed. */
	void (*removed)(struct kpc_object *obj);
	void (*free)(struct kpc_object *obj);
	/* Fill the type's part of a stat, under obj->lock. */
	void (*stat)(struct kpc_object *obj, struct kipc_stat *st);
	/* Type-specific part of KIPC_IOC_SET; takes the locks it needs. */
	int (*set)(struct kpc_object *obj, const struct kipc_set *set);

	/* Netlink: the stat's nest in a GET reply, from the UAPI table ... */
	u16 nl_attr;			/* KIPC_A_<TYPE> */
	u16 nl_pad;			/* KIPC_<TYPE>_A_PAD */
	const u16 *nl_start, *nl_end;	/* per row: KPC_NL_FIRST + i */
	unsigned int nl_nfields;
	/* ... and the type's nest of KIPC_CMD_STATS, with its counters. */
	u16 nl_stats_attr;		/* KIPC_STATS_A_<TYPE> */
	atomic64_t *counters;
	unsigned int ncounters;
};

struct kpc_object {
	struct kref ref;
	const struct kpc_type_ops *ops;
	struct kpc_ns *kns;
	struct kpc_user *user;		/* charged for this object */
	unsigned long charge;		/* bytes charged to @user */
	u32 type;
	u32 id;

	/* Under kns->lock. */
	struct hlist_node name_node;
	char *name;			/* NULL once unlinked or if anonymous */
	bool persist;			/* registered without a name */
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

static inline bool kpc_removed(struct kpc_object *obj)
{
	return READ_ONCE(obj->removed);
}

/* The types, one file each: queue.c, region.c, sem.c, ring.c. */
extern const struct kpc_type_ops kpc_queue_ops;
extern const struct kpc_type_ops kpc_region_ops;
extern const struct kpc_type_ops kpc_sem_ops;
extern const struct kpc_type_ops kpc_ring_ops;

/* object.c: the type table, and an object's life: ids, names, removal */
void kpc_types_set(const struct kpc_type_ops *const *types);
const struct kpc_type_ops *kpc_type(u32 type);
void kpc_object_init(struct kpc_object *obj, const struct kpc_type_ops *ops,
		     u32 type);
void kpc_object_get(struct kpc_object *obj);
void kpc_object_put(struct kpc_object *obj);
int kpc_check_name(const char *name, size_t size);
void kpc_name_add(struct kpc_object *obj, char *name);
struct kpc_object *kpc_name_lookup(struct kpc_ns *kns, u32 type,
				   const char *name);
struct kpc_object *kpc_id_lookup(struct kpc_ns *kns, u32 type, u32 id);
bool kpc_unregister_locked(struct kpc_object *obj);
void kpc_registration_put(struct kpc_object *obj);
bool kpc_is_owner(struct kpc_object *obj);
/* IPC_RMID, by the owner only unless @anyone (kipc itself taking it back). */
int kpc_remove(struct kpc_object *obj, bool anyone);
struct kpc_object *kpc_ns_next_object(struct kpc_ns *kns, u32 *id);
struct kpc_object *kpc_ns_find_object(struct kpc_ns *kns, u32 type, u32 id);
int kpc_remove_in_ns(struct kpc_ns *kns, u32 type, u32 id, const char *name,
		     const struct file *opener);
long kpc_unlink_object(struct kipc_name_req __user *uarg);
long kpc_remove_by(struct kipc_name_req __user *uarg);

/* open.c */
long kpc_open_object(struct kipc_open __user *uarg);

/* file.c: what every object fd shares: stat, set, remove, release */
void kpc_object_fill_stat(struct kpc_object *obj, struct kipc_stat *st);
long kpc_object_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int kpc_object_release(struct inode *inode, struct file *file);
bool kpc_may_access(struct kpc_object *obj, int may);

static inline struct kpc_object *kpc_file_object(struct file *file)
{
	return file->private_data;
}

/* ns.c: kipc's state per IPC namespace, and the reaper of dead ones */
struct kpc_ns *kpc_ns_current(bool create);
void kpc_ns_put(struct kpc_ns *kns);
struct kpc_ns *kpc_ns_claim_dead(void);
void kpc_ns_exit(void);

/* reap.c: the objects of dead namespaces lose their names and ids */
void kpc_reap_dead_namespaces(void);
void kpc_reap_start(void);
void kpc_reap_stop(void);

/* user.c: per-user quotas, and the module-wide information */
struct kpc_user *kpc_user_get(kuid_t uid);
void kpc_user_put(struct kpc_user *user);
int kpc_user_charge(struct kpc_user *user, unsigned long bytes);
void kpc_user_uncharge(struct kpc_user *user, unsigned long bytes);
int kpc_user_charge_object(struct kpc_user *user, u32 type);
void kpc_user_uncharge_object(struct kpc_user *user, u32 type);
void kpc_fill_info(struct kipc_info *info);
void kpc_user_exit(void);

/* wait.c: deadlines of blocking calls, and waking tasks after unlocking */
struct kpc_deadline {
	bool nonblock;
	bool timed;
	bool restart;			/* made again, it would end the same */
	clockid_t clock;
	ktime_t expires;		/* absolute, on @clock (the host's) */
};

int kpc_deadline_init(struct kpc_deadline *dl, u32 flags,
		      const struct kipc_timeout *to, bool file_nonblock);
/*
 * Sleep in TASK_INTERRUPTIBLE, set by the caller, until woken, the deadline
 * passes (-ETIMEDOUT) or a signal arrives: -ERESTARTNOHAND, or -EINTR for a
 * relative timeout, which a restart would start over (wait.c says why).
 * A call that had an effect before it slept (SENDRECV's send) turns
 * -ERESTARTNOHAND into -EINTR: a restart would repeat the effect.
 */
int kpc_deadline_sleep(struct kpc_deadline *dl);

/*
 * Tasks to wake once a spinlock is dropped: a waker decides under the lock
 * whom it wakes, records the outcome in the waiter (which reads it under
 * the same lock), and wakes it after unlocking, so that the woken task does
 * not spin on the lock its waker still holds.  wake_q_add() would do, but
 * is not exported.  A full batch wakes the next task at once, still under
 * the lock: that is safe (the task reads its outcome only under the lock)
 * and only costs the woken task a short spin.  A waker that must keep the
 * order of its wake-ups (sem.c) checks kpc_wake_full() first, and drains
 * the batch with kpc_wake_run() before going on.
 */
#define KPC_WAKE_BATCH		16

struct kpc_wake {
	unsigned int n;
	struct task_struct *task[KPC_WAKE_BATCH];
};

static inline bool kpc_wake_full(const struct kpc_wake *wk)
{
	return wk->n == KPC_WAKE_BATCH;
}

void kpc_wake_add(struct kpc_wake *wk, struct task_struct *task);
void kpc_wake_run(struct kpc_wake *wk);

/* event.c: lifecycle events, multicast through the netlink family */
struct genl_family;

bool kpc_event_wanted(void);
/* Multicast an event about @obj: under kns->lock, or taking it. */
void kpc_event_locked(struct kpc_object *obj, u32 event, u32 waiters);
void kpc_event(struct kpc_object *obj, u32 event, u32 waiters);
void kpc_event_attach(struct genl_family *family, unsigned int group);
void kpc_event_detach(void);

/* netlink.c */
int kpc_netlink_init(void);
void kpc_netlink_exit(void);

#endif /* _KIPC_INTERNAL_H */
