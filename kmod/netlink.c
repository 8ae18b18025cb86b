// SPDX-License-Identifier: GPL-2.0
/*
 * kipc generic netlink family "kipc": list and inspect objects, module
 * statistics, removal, and an events group, for kipcs(8).  The interface
 * is described in include/uapi/linux/kipc.h.
 *
 * Requests run in the context of the task that sends them (a dump's later
 * parts in the task that reads them), so they follow the device's rules:
 * the caller's IPC namespace decides what exists, and uids and pids are
 * translated into the caller's namespaces by the core's stat filling.
 *
 * Events.  Netlink multicast goes to every member of a group in one network
 * namespace and cannot be filtered per listener on all the kernels kipc
 * builds for, while kipc objects belong to IPC namespaces, which have no
 * relation to network namespaces.  So that no event tells anything across
 * IPC namespaces, the group takes CAP_SYS_ADMIN over the listener's network
 * namespace, and events are multicast in the initial network namespace
 * only: the only listeners are privileged over every namespace, may see all
 * of them, and get each event tagged with its IPC namespace and with pids
 * of the initial pid namespace.  The root of a container may join the group
 * in its own network namespace, but nothing is ever sent there.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ipc_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "kipc.h"

enum kipc_mcgrp {
	KIPC_MCGRP_EVENT,
};

static const struct genl_multicast_group kipc_mcgrps[] = {
	[KIPC_MCGRP_EVENT] = {
		.name = KIPC_GENL_MCGRP_EVENTS,
		.flags = KIPC_GENL_MCAST_PRIV,
	},
};

static struct genl_family kipc_genl_family;

/* Objects: the common attributes, then the type's nest. */

static int kipc_nl_put_queue(struct sk_buff *skb, const struct kipc_stat *st)
{
	const struct kipc_queue_stat *qs = &st->queue;
	struct nlattr *nest;

	nest = nla_nest_start(skb, KIPC_A_QUEUE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, KIPC_QUEUE_A_MSGS, qs->msgs, KIPC_QUEUE_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_QUEUE_A_BYTES, qs->bytes, KIPC_QUEUE_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_QUEUE_A_MAX_MSGS, qs->max_msgs,
			      KIPC_QUEUE_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_QUEUE_A_MAX_MSGSIZE, qs->max_msgsize,
			      KIPC_QUEUE_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_QUEUE_A_MAX_BYTES, qs->max_bytes,
			      KIPC_QUEUE_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_QUEUE_A_SENT, qs->sent, KIPC_QUEUE_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_QUEUE_A_RECEIVED, qs->received,
			      KIPC_QUEUE_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_QUEUE_A_SEND_WAITERS, qs->send_waiters,
			      KIPC_QUEUE_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_QUEUE_A_RECV_WAITERS, qs->recv_waiters,
			      KIPC_QUEUE_A_PAD) ||
	    nla_put_s64(skb, KIPC_QUEUE_A_STIME, qs->stime_ns, KIPC_QUEUE_A_PAD) ||
	    nla_put_s64(skb, KIPC_QUEUE_A_RTIME, qs->rtime_ns, KIPC_QUEUE_A_PAD) ||
	    nla_put_s32(skb, KIPC_QUEUE_A_LSPID, qs->lspid) ||
	    nla_put_s32(skb, KIPC_QUEUE_A_LRPID, qs->lrpid) ||
	    nla_put_s32(skb, KIPC_QUEUE_A_NOTIFY_PID, qs->notify_pid)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kipc_nl_put_region(struct sk_buff *skb, const struct kipc_stat *st)
{
	const struct kipc_region_stat *rs = &st->region;
	struct nlattr *nest;

	nest = nla_nest_start(skb, KIPC_A_REGION);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, KIPC_REGION_A_SIZE, rs->size,
			      KIPC_REGION_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_REGION_A_NATTCH, rs->nattch,
			      KIPC_REGION_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_REGION_A_NWRITABLE, rs->nwritable,
			      KIPC_REGION_A_PAD) ||
	    nla_put_u32(skb, KIPC_REGION_A_SEALS, rs->seals) ||
	    nla_put_s32(skb, KIPC_REGION_A_LPID, rs->lpid) ||
	    nla_put_s64(skb, KIPC_REGION_A_ATIME, rs->atime_ns,
			KIPC_REGION_A_PAD) ||
	    nla_put_s64(skb, KIPC_REGION_A_DTIME, rs->dtime_ns,
			KIPC_REGION_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kipc_nl_put_sem(struct sk_buff *skb, const struct kipc_stat *st)
{
	const struct kipc_sem_stat *ss = &st->sem;
	struct nlattr *nest;

	nest = nla_nest_start(skb, KIPC_A_SEM);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, KIPC_SEM_A_NSEMS, ss->nsems) ||
	    nla_put_u32(skb, KIPC_SEM_A_FLAGS, ss->flags) ||
	    nla_put_u32(skb, KIPC_SEM_A_MAX_VALUE, ss->max_value) ||
	    nla_put_u32(skb, KIPC_SEM_A_WAITERS, ss->waiters) ||
	    nla_put_u32(skb, KIPC_SEM_A_UNDOS, ss->undos) ||
	    nla_put_u32(skb, KIPC_SEM_A_MAPPED, ss->mapped) ||
	    nla_put_s64(skb, KIPC_SEM_A_OTIME, ss->otime_ns, KIPC_SEM_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* Each type's part of struct kipc_stat, as its nest of KIPC_A_<TYPE>. */
static int (*const kipc_nl_put_type[KIPC_TYPE_COUNT])(struct sk_buff *skb,
						       const struct kipc_stat *st) = {
	[KIPC_TYPE_QUEUE] = kipc_nl_put_queue,
	[KIPC_TYPE_REGION] = kipc_nl_put_region,
	[KIPC_TYPE_SEM] = kipc_nl_put_sem,
};

static int kipc_nl_put_object(struct sk_buff *skb, u32 portid, u32 seq,
			      int flags, const struct kipc_stat *st)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &kipc_genl_family, flags,
			  KIPC_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, KIPC_A_TYPE, st->type) ||
	    nla_put_u32(skb, KIPC_A_ID, st->id) ||
	    ((st->flags & KIPC_STAT_NAMED) &&
	     nla_put_string(skb, KIPC_A_NAME, st->name)) ||
	    nla_put_u32(skb, KIPC_A_UID, st->uid) ||
	    nla_put_u32(skb, KIPC_A_GID, st->gid) ||
	    nla_put_u32(skb, KIPC_A_CUID, st->cuid) ||
	    nla_put_u32(skb, KIPC_A_CGID, st->cgid) ||
	    nla_put_u32(skb, KIPC_A_MODE, st->mode) ||
	    nla_put_u32(skb, KIPC_A_FLAGS, st->flags) ||
	    nla_put_s32(skb, KIPC_A_CPID, st->cpid) ||
	    nla_put_u32(skb, KIPC_A_NFDS, st->nfds) ||
	    nla_put_s64(skb, KIPC_A_CTIME, st->ctime_ns, KIPC_A_PAD))
		goto cancel;
	if (st->type < KIPC_TYPE_COUNT && kipc_nl_put_type[st->type] &&
	    kipc_nl_put_type[st->type](skb, st))
		goto cancel;
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int kipc_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct kipc_object *obj = NULL;
	struct kipc_stat *st;
	struct kipc_ns *kns;
	struct sk_buff *msg;
	u32 type = 0;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KIPC_A_ID))
		return -EINVAL;
	if (attrs[KIPC_A_TYPE])
		type = nla_get_u32(attrs[KIPC_A_TYPE]);

	kns = kipc_ns_current(false);
	if (!IS_ERR(kns)) {
		obj = kipc_ns_find_object(kns, type, nla_get_u32(attrs[KIPC_A_ID]));
		kipc_ns_put(kns);
	}
	if (!obj) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[KIPC_A_ID],
				    "No such object in this IPC namespace");
		return -ENOENT;
	}

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		kipc_object_put(obj);
		return -ENOMEM;
	}
	kipc_object_fill_stat(obj, st);
	kipc_object_put(obj);

	ret = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (msg) {
		ret = kipc_nl_put_object(msg, info->snd_portid, info->snd_seq,
					 0, st);
		if (ret)
			nlmsg_free(msg);
		else
			ret = genlmsg_reply(msg, info);
	}
	kfree(st);
	return ret;
}

/* A dump's position, in cb->ctx: zeroed when the dump starts. */
struct kipc_nl_dump {
	u32 next_id;
	u32 type;			/* only objects of this type; 0: all */
};

static int kipc_nl_get_start(struct netlink_callback *cb)
{
	struct kipc_nl_dump *ctx = (struct kipc_nl_dump *)cb->ctx;
	struct nlattr **attrs = kipc_genl_dump_attrs(cb);

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	/* The policy is shared with the do request, which takes an id. */
	if (attrs[KIPC_A_ID]) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[KIPC_A_ID],
				    "A dump takes no id");
		return -EINVAL;
	}
	if (attrs[KIPC_A_TYPE])
		ctx->type = nla_get_u32(attrs[KIPC_A_TYPE]);
	return 0;
}

/*
 * One message per object, resuming at the id after the last one sent: the
 * core's walk takes a reference on each object and no lock is held while
 * the message is built.
 */
static int kipc_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kipc_nl_dump *ctx = (struct kipc_nl_dump *)cb->ctx;
	struct kipc_object *obj;
	struct kipc_stat *st;
	struct kipc_ns *kns;
	int ret = 0;
	u32 id;

	kns = kipc_ns_current(false);
	if (IS_ERR(kns))
		return 0;		/* no kipc object in this namespace */
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		kipc_ns_put(kns);
		return -ENOMEM;
	}

	id = ctx->next_id;
	while ((obj = kipc_ns_next_object(kns, &id))) {
		if (ctx->type && obj->type != ctx->type) {
			kipc_object_put(obj);
			ctx->next_id = id;
			continue;
		}
		kipc_object_fill_stat(obj, st);
		kipc_object_put(obj);
		ret = kipc_nl_put_object(skb, NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI, st);
		if (ret)
			break;		/* full: this object starts the next part */
		ctx->next_id = id;
	}
	kfree(st);
	kipc_ns_put(kns);
	/* An object too big for an empty message would loop forever. */
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

/* Statistics */

static int kipc_nl_put_type_stats(struct sk_buff *skb, int attr, u32 type)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, attr);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, KIPC_TSTATS_A_OBJECTS,
			      atomic64_read(&kipc_counters.objects[type]),
			      KIPC_TSTATS_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_TSTATS_A_CREATED,
			      atomic64_read(&kipc_counters.created[type]),
			      KIPC_TSTATS_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_TSTATS_A_REMOVED,
			      atomic64_read(&kipc_counters.removed[type]),
			      KIPC_TSTATS_A_PAD))
		goto cancel;

	switch (type) {
	case KIPC_TYPE_QUEUE:
		if (nla_put_u64_64bit(skb, KIPC_QSTATS_A_SENT,
				      atomic64_read(&kipc_counters.queue_sent),
				      KIPC_TSTATS_A_PAD) ||
		    nla_put_u64_64bit(skb, KIPC_QSTATS_A_RECEIVED,
				      atomic64_read(&kipc_counters.queue_received),
				      KIPC_TSTATS_A_PAD) ||
		    nla_put_u64_64bit(skb, KIPC_QSTATS_A_FULL,
				      atomic64_read(&kipc_counters.queue_full),
				      KIPC_TSTATS_A_PAD))
			goto cancel;
		break;
	case KIPC_TYPE_REGION:
		if (nla_put_u64_64bit(skb, KIPC_RSTATS_A_MAPS,
				      atomic64_read(&kipc_counters.region_maps),
				      KIPC_TSTATS_A_PAD))
			goto cancel;
		break;
	case KIPC_TYPE_SEM:
		if (nla_put_u64_64bit(skb, KIPC_SSTATS_A_OPS,
				      atomic64_read(&kipc_counters.sem_ops),
				      KIPC_TSTATS_A_PAD) ||
		    nla_put_u64_64bit(skb, KIPC_SSTATS_A_WAITS,
				      atomic64_read(&kipc_counters.sem_waits),
				      KIPC_TSTATS_A_PAD))
			goto cancel;
		break;
	}
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int kipc_nl_put_stats(struct sk_buff *skb, const struct kipc_info *ki)
{
	static const struct {
		int attr;
		u32 type;
	} types[] = {
		{ KIPC_STATS_A_QUEUE, KIPC_TYPE_QUEUE },
		{ KIPC_STATS_A_REGION, KIPC_TYPE_REGION },
		{ KIPC_STATS_A_SEM, KIPC_TYPE_SEM },
	};
	const struct {
		int attr;
		u64 value;
	} vals[] = {
		{ KIPC_STATS_A_OBJECTS, ki->objects[0] },
		{ KIPC_STATS_A_MSGS, ki->msgs },
		{ KIPC_STATS_A_BYTES, ki->bytes },
		{ KIPC_STATS_A_NAMESPACES, ki->namespaces },
		{ KIPC_STATS_A_MAX_OBJECTS, ki->max_objects },
		{ KIPC_STATS_A_MAX_USER_OBJECTS, ki->max_user_objects },
		{ KIPC_STATS_A_MAX_USER_BYTES, ki->max_user_bytes },
		{ KIPC_STATS_A_MAX_MSGSIZE, ki->max_msgsize },
		{ KIPC_STATS_A_MAX_QUEUE_MSGS, ki->max_queue_msgs },
		{ KIPC_STATS_A_MAX_QUEUE_BYTES, ki->max_queue_bytes },
		{ KIPC_STATS_A_MAX_REGION_SIZE, ki->max_region_size },
		{ KIPC_STATS_A_MAX_NSEMS, ki->max_nsems },
		{ KIPC_STATS_A_USER_OBJECTS, ki->user_objects },
		{ KIPC_STATS_A_USER_BYTES, ki->user_bytes },
	};
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, KIPC_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, KIPC_STATS_A_VERSION, ki->version))
		goto cancel;
	for (i = 0; i < ARRAY_SIZE(vals); i++)
		if (nla_put_u64_64bit(skb, vals[i].attr, vals[i].value,
				      KIPC_STATS_A_PAD))
			goto cancel;
	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (kipc_nl_put_type_stats(skb, types[i].attr, types[i].type))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int kipc_nl_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kipc_info ki;
	struct sk_buff *msg;
	void *hdr;

	kipc_fill_info(&ki);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kipc_genl_family, 0,
				KIPC_CMD_STATS);
	if (!hdr || kipc_nl_put_stats(msg, &ki)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Removal */

static int kipc_nl_remove_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	const char *name = NULL;
	struct kipc_ns *kns;
	struct socket *sock;
	u32 type = 0, id = 0;
	int ret;

	if (!attrs[KIPC_A_ID] == !attrs[KIPC_A_NAME]) {
		GENL_SET_ERR_MSG(info, "Exactly one of id and name is required");
		return -EINVAL;
	}
	if (attrs[KIPC_A_TYPE])
		type = nla_get_u32(attrs[KIPC_A_TYPE]);
	if (attrs[KIPC_A_ID]) {
		id = nla_get_u32(attrs[KIPC_A_ID]);
	} else {
		/* Names are unique only within a type. */
		if (GENL_REQ_ATTR_CHECK(info, KIPC_A_TYPE))
			return -EINVAL;
		name = nla_data(attrs[KIPC_A_NAME]);
		if (!*name || strchr(name, '/')) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[KIPC_A_NAME],
					    "Invalid object name");
			return -EINVAL;
		}
	}

	kns = kipc_ns_current(false);
	if (IS_ERR(kns))
		return -ENOENT;
	/*
	 * The sender's rights, and also those of whoever opened the socket:
	 * a privileged program must not be tricked into writing a request
	 * to a socket it was handed (netlink_ns_capable() does the same).
	 * Only sockets the kernel made itself have no file.
	 */
	sock = NETLINK_CB(skb).sk->sk_socket;
	ret = kipc_remove_in_ns(kns, type, id, name, sock ? sock->file : NULL);
	kipc_ns_put(kns);
	if (ret == -ENOENT)
		GENL_SET_ERR_MSG(info, "No such object in this IPC namespace");
	return ret;
}

/* Events */

bool kipc_event_wanted(void)
{
	return genl_has_listeners(&kipc_genl_family, &init_net,
				  KIPC_MCGRP_EVENT);
}

void kipc_event_locked(struct kipc_object *obj, u32 event, u32 waiters)
{
	/* Kernel threads (the reaper, delayed fput) are nobody's doing. */
	pid_t pid = (current->flags & PF_KTHREAD) ? 0 : task_tgid_nr(current);
	struct sk_buff *skb;
	void *hdr;

	lockdep_assert_held(&obj->kns->lock);
	if (!kipc_event_wanted())
		return;
	skb = genlmsg_new(7 * nla_total_size(sizeof(u32)) +
			  nla_total_size(KIPC_NAME_MAX + 1), GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &kipc_genl_family, 0, KIPC_CMD_EVENT);
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
	genlmsg_multicast_netns(&kipc_genl_family, &init_net, skb, 0,
				KIPC_MCGRP_EVENT, GFP_KERNEL);
}

void kipc_event(struct kipc_object *obj, u32 event, u32 waiters)
{
	if (!kipc_event_wanted())
		return;
	mutex_lock(&obj->kns->lock);
	kipc_event_locked(obj, event, waiters);
	mutex_unlock(&obj->kns->lock);
}

/* The family */

#define KIPC_NL_TYPE_POLICY \
	NLA_POLICY_RANGE(NLA_U32, KIPC_TYPE_QUEUE, KIPC_TYPE_COUNT - 1)

static const struct nla_policy kipc_get_policy[KIPC_A_ID + 1] = {
	[KIPC_A_TYPE]	= KIPC_NL_TYPE_POLICY,
	[KIPC_A_ID]	= { .type = NLA_U32 },
};

static const struct nla_policy kipc_remove_policy[KIPC_A_NAME + 1] = {
	[KIPC_A_TYPE]	= KIPC_NL_TYPE_POLICY,
	[KIPC_A_ID]	= { .type = NLA_U32 },
	[KIPC_A_NAME]	= { .type = NLA_NUL_STRING, .len = KIPC_NAME_MAX },
};

/*
 * STATS takes no attribute.  It still gets a policy of its own, as every op
 * does, rejecting each of the family's attributes: an op without one is
 * parsed against whatever the core substitutes, which 7.x sized for one
 * attribute while parsing up to the family's maxattr, reading past it.
 */
static const struct nla_policy kipc_stats_policy[KIPC_A_MAX + 1] = {
	[KIPC_A_UNSPEC ... KIPC_A_MAX] = { .type = NLA_REJECT },
};

static const struct genl_ops kipc_genl_ops[] = {
	{
		.cmd		= KIPC_CMD_GET,
		.doit		= kipc_nl_get_doit,
		.start		= kipc_nl_get_start,
		.dumpit		= kipc_nl_get_dumpit,
		.policy		= kipc_get_policy,
		.maxattr	= ARRAY_SIZE(kipc_get_policy) - 1,
	},
	{
		.cmd		= KIPC_CMD_STATS,
		.doit		= kipc_nl_stats_doit,
		.policy		= kipc_stats_policy,
		.maxattr	= ARRAY_SIZE(kipc_stats_policy) - 1,
	},
	{
		.cmd		= KIPC_CMD_REMOVE,
		.doit		= kipc_nl_remove_doit,
		.policy		= kipc_remove_policy,
		.maxattr	= ARRAY_SIZE(kipc_remove_policy) - 1,
	},
};

static struct genl_family kipc_genl_family __ro_after_init = {
	.name		= KIPC_GENL_NAME,
	.version	= KIPC_GENL_VERSION,
	.maxattr	= KIPC_A_MAX,
	/* Visibility is by IPC namespace, whatever the network namespace. */
	.netnsok	= true,
	/* The handlers lock what they touch; no need for genl_mutex. */
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= kipc_genl_ops,
	.n_ops		= ARRAY_SIZE(kipc_genl_ops),
	/* Every command is new: strict header and attribute validation. */
	.resv_start_op	= KIPC_CMD_UNSPEC + 1,
	.mcgrps		= kipc_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(kipc_mcgrps),
};

int kipc_netlink_init(void)
{
	return genl_register_family(&kipc_genl_family);
}

void kipc_netlink_exit(void)
{
	genl_unregister_family(&kipc_genl_family);
}
