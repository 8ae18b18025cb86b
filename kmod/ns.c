// SPDX-License-Identifier: GPL-2.0
/*
 * kipc's state per IPC namespace.
 *
 * kipc keeps its own struct kpc_ns per IPC namespace that has kipc objects,
 * holding one reference on the namespace (compat.h).  Holding it guarantees
 * the pointer stays unique: a new namespace can never reuse the address
 * while our objects are tagged with it.  It keeps only the memory: once
 * nothing can enter the namespace again (no task in it, no nsfs file or bind
 * mount of it: kpc_ipc_ns_unused()), the reaper (reap.c) unregisters every
 * object in it (names and persistent ids go, exactly as the stock IPC
 * objects die with their namespace); objects still open through fds live
 * on anonymously, and the namespace reference goes with the last of them.
 * The initial namespace never dies.
 *
 * Lifetime: a struct kpc_ns is refcounted, one reference per object and
 * one per caller between kpc_ns_current() and kpc_ns_put().  The last put
 * unlists it under kpc_ns_mutex, so that no lookup finds it on its way out.
 */
#include <linux/nsproxy.h>
#include <linux/proc_ns.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "kipc.h"

static LIST_HEAD(kpc_namespaces);
static DEFINE_MUTEX(kpc_ns_mutex);

static struct kpc_ns *kpc_ns_get(struct ipc_namespace *ipc_ns, bool create)
{
	struct kpc_ns *kns;

	mutex_lock(&kpc_ns_mutex);
	list_for_each_entry(kns, &kpc_namespaces, node) {
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
	kns->ipc_ns = kpc_get_ipc_ns(ipc_ns);
	list_add(&kns->node, &kpc_namespaces);
	atomic64_inc(&kpc_counters.namespaces);
out:
	mutex_unlock(&kpc_ns_mutex);
	return kns;
}

struct kpc_ns *kpc_ns_current(bool create)
{
	return kpc_ns_get(current->nsproxy->ipc_ns, create);
}

/* Under kpc_ns_mutex, so that no lookup finds a namespace on its way out. */
static void kpc_ns_unlist(struct kref *ref)
{
	struct kpc_ns *kns = container_of(ref, struct kpc_ns, ref);

	list_del(&kns->node);
	atomic64_dec(&kpc_counters.namespaces);
}

void kpc_ns_put(struct kpc_ns *kns)
{
	bool last;

	mutex_lock(&kpc_ns_mutex);
	last = kref_put(&kns->ref, kpc_ns_unlist);
	mutex_unlock(&kpc_ns_mutex);
	if (!last)
		return;
	WARN_ON(!idr_is_empty(&kns->ids));
	idr_destroy(&kns->ids);
	kpc_put_ipc_ns(kns->ipc_ns);
	kfree(kns);
}

static bool kpc_ns_dead(struct kpc_ns *kns)
{
	/* Whatever the kernel counts for it, the initial namespace lives. */
	if (kns->ipc_ns->ns.inum == PROC_IPC_INIT_INO)
		return false;
	return kpc_ipc_ns_unused(kns->ipc_ns);
}

/*
 * A namespace nobody can enter any more, not yet claimed: marked dead, so
 * that no lookup returns it and no other reaper claims it, with a
 * reference for the caller.  NULL if there is none.
 */
struct kpc_ns *kpc_ns_claim_dead(void)
{
	struct kpc_ns *kns, *found = NULL;

	mutex_lock(&kpc_ns_mutex);
	list_for_each_entry(kns, &kpc_namespaces, node) {
		if (!kns->dead && kpc_ns_dead(kns)) {
			kns->dead = true;
			kref_get(&kns->ref);
			found = kns;
			break;
		}
	}
	mutex_unlock(&kpc_ns_mutex);
	return found;
}

void kpc_ns_exit(void)
{
	WARN_ON(!list_empty(&kpc_namespaces));
}
