// SPDX-License-Identifier: GPL-2.0
/*
 * The reaper: the objects of IPC namespaces nobody can enter any more lose
 * their names and persistent ids, as stock IPC objects die with their
 * namespace (ns.c says how a namespace is found dead).  It runs every
 * reap_interval_ms, and before module-wide information is reported, so
 * that the counts include no object of a dead namespace.
 *
 * It takes kns->lock for one object at a time and drops the registration's
 * reference outside it: the last put of an object takes kpc_ns_mutex, which
 * comes before kns->lock.
 */
#include <linux/workqueue.h>

#include "kipc.h"

static void kpc_reap_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(kpc_reap_work, kpc_reap_work_fn);

static void kpc_reap_ns(struct kpc_ns *kns)
{
	struct kpc_object *obj;
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
		drop = kpc_unregister_locked(obj);
		idr_remove(&kns->ids, obj->id);
		obj->id_listed = false;
		mutex_unlock(&kns->lock);
		if (drop)
			kpc_registration_put(obj);
		kpc_object_put(obj);
	}
}

void kpc_reap_dead_namespaces(void)
{
	struct kpc_ns *kns;

	while ((kns = kpc_ns_claim_dead())) {
		kpc_reap_ns(kns);
		kpc_ns_put(kns);
	}
}

static void kpc_reap_work_fn(struct work_struct *work)
{
	unsigned int ms = READ_ONCE(kpc_limits.reap_interval_ms);

	kpc_reap_dead_namespaces();
	schedule_delayed_work(&kpc_reap_work, msecs_to_jiffies(max(ms, 100U)));
}

void kpc_reap_start(void)
{
	schedule_delayed_work(&kpc_reap_work, 0);
}

void kpc_reap_stop(void)
{
	cancel_delayed_work_sync(&kpc_reap_work);
}
