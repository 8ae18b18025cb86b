// SPDX-License-Identifier: GPL-2.0
/*
 * kipc events: an object's creation, unlinking, removal and end, a queue
 * found full, waiters woken by a removal; multicast on the netlink family's
 * events group (the UAPI header lists them).
 *
 * Netlink multicast goes to every member of a group in one network
 * namespace and cannot be filtered per listener on all the kernels kipc
 * builds for, while kipc objects belong to IPC namespaces, which have no
 * relation to network namespaces.  So that no event tells anything across
 * IPC namespaces, the group takes CAP_SYS_ADMIN over the listener's network
 * namespace (netlink.c), and events are multicast in the initial network
 * namespace only: the only listeners are privileged over every namespace,
 * may see all of them, and get each event tagged with its IPC namespace and
 * with pids of the initial pid namespace.  The root of a container may join
 * the group in its own network namespace, but nothing is ever sent there.
 */
#include <linux/ipc_namespace.h>
#include <linux/sched.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "kipc.h"

/*
 * The family and group events go out through, set while the family is
 * registered.  Events are the core's: netlink.c only carries them, and
 * attaches before the device exists and detaches once it is gone, while
 * no object is left to send one.
 */
static struct genl_family *kpc_event_family;
static unsigned int kpc_event_group;

void kpc_event_attach(struct genl_family *family, unsigned int group)
{
	kpc_event_group = group;
	WRITE_ONCE(kpc_event_family, family);
}

void kpc_event_detach(void)
{
	WRITE_ONCE(kpc_event_family, NULL);
}

bool kpc_event_wanted(void)
{
	struct genl_family *family = READ_ONCE(kpc_event_family);

	return family && genl_has_listeners(family, &init_net, kpc_event_group);
}

void kpc_event_locked(struct kpc_object *obj, u32 event, u32 waiters)
{
	/* Kernel threads (the reaper, delayed fput) are nobody's doing. */
	pid_t pid = (current->flags & PF_KTHREAD) ? 0 : task_tgid_nr(current);
	struct genl_family *family = READ_ONCE(kpc_event_family);
	struct sk_buff *skb;
	void *hdr;

	lockdep_assert_held(&obj->kns->lock);
	if (!family || !genl_has_listeners(family, &init_net, kpc_event_group))
		return;
	skb = genlmsg_new(7 * nla_total_size(sizeof(u32)) +
			  nla_total_size(KIPC_NAME_MAX + 1), GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, family, 0, KIPC_CMD_EVENT);
	if (!hdr ||
	    nla_put_u32(skb, KIPC_A_EVENT, event) ||
	    nla_put_u32(skb, KIPC_A_TYPE, obj->type) ||
	    nla_put_u32(skb, KIPC_A_ID, obj->id) ||
	    nla_put_s32(skb, KIPC_A_PID, pid) ||
	    nla_put_u32(skb, KIPC_A_IPC_NS, obj->kns->ipc_ns->ns.inum) ||
	    (obj->name && nla_put_string(skb, KIPC_A_NAME, obj->name)) ||
	    (waiters && nla_put_u32(skb, KIPC_A_WAITERS, waiters))) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	/* Lost events (a full listener) are for the listener to notice. */
	genlmsg_multicast_netns(family, &init_net, skb, 0, kpc_event_group,
				GFP_KERNEL);
}

void kpc_event(struct kpc_object *obj, u32 event, u32 waiters)
{
	if (!kpc_event_wanted())
		return;
	mutex_lock(&obj->kns->lock);
	kpc_event_locked(obj, event, waiters);
	mutex_unlock(&obj->kns->lock);
}
