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
 * Types.  This file names none: an object's nest is filled by its type's
 * rows of the UAPI's stat table (kpc_type_ops.nl_start and .nl_end), and
 * the STATS reply has one nest per type, with the type's counters.
 *
 * Events are the core's (event.c); this family only carries them, on its
 * events group, which takes CAP_SYS_ADMIN over the network namespace.
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

enum kpc_mcgrp {
	KIPC_MCGRP_EVENT,
};

static const struct genl_multicast_group kpc_mcgrps[] = {
	[KIPC_MCGRP_EVENT] = {
		.name = KIPC_GENL_MCGRP_EVENTS,
		.flags = KIPC_GENL_MCAST_PRIV,
	},
};

static struct genl_family kpc_genl_family;

/* Objects: the common attributes, then the type's nest. */

/*
 * The type's part of @st, as its nest of KIPC_A_<TYPE>: row i of its table
 * is attribute KPC_NL_FIRST + i, as wide as its field.
 */
static int kpc_nl_put_type(struct sk_buff *skb, const struct kipc_stat *st)
{
	const struct kpc_type_ops *ops = kpc_type(st->type);
	const void *base = st->reserved, *p;
	struct nlattr *nest;
	unsigned int i;
	int ret = 0;

	if (!ops)
		return 0;
	nest = nla_nest_start(skb, ops->nl_attr);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ops->nl_nfields && !ret; i++) {
		p = base + ops->nl_start[i];
		if (ops->nl_end[i] - ops->nl_start[i] == sizeof(u64))
			ret = nla_put_u64_64bit(skb, KPC_NL_FIRST + i,
						*(const u64 *)p, ops->nl_pad);
		else
			ret = nla_put_u32(skb, KPC_NL_FIRST + i, *(const u32 *)p);
	}
	if (ret) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kpc_nl_put_object(struct sk_buff *skb, u32 portid, u32 seq,
			     int flags, const struct kipc_stat *st)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &kpc_genl_family, flags,
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
	if (kpc_nl_put_type(skb, st))
		goto cancel;
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int kpc_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct kpc_object *obj = NULL;
	struct kipc_stat *st;
	struct kpc_ns *kns;
	struct sk_buff *msg;
	u32 type = 0;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KIPC_A_ID))
		return -EINVAL;
	if (attrs[KIPC_A_TYPE])
		type = nla_get_u32(attrs[KIPC_A_TYPE]);

	kns = kpc_ns_current(false);
	if (!IS_ERR(kns)) {
		obj = kpc_ns_find_object(kns, type, nla_get_u32(attrs[KIPC_A_ID]));
		kpc_ns_put(kns);
	}
	if (!obj) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[KIPC_A_ID],
				    "No such object in this IPC namespace");
		return -ENOENT;
	}

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		kpc_object_put(obj);
		return -ENOMEM;
	}
	kpc_object_fill_stat(obj, st);
	kpc_object_put(obj);

	ret = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (msg) {
		ret = kpc_nl_put_object(msg, info->snd_portid, info->snd_seq,
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
struct kpc_nl_dump {
	u32 next_id;
	u32 type;			/* only objects of this type; 0: all */
};

static int kpc_nl_get_start(struct netlink_callback *cb)
{
	struct kpc_nl_dump *ctx = (struct kpc_nl_dump *)cb->ctx;
	struct nlattr **attrs = kpc_genl_dump_attrs(cb);

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
static int kpc_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kpc_nl_dump *ctx = (struct kpc_nl_dump *)cb->ctx;
	struct kpc_object *obj;
	struct kipc_stat *st;
	struct kpc_ns *kns;
	int ret = 0;
	u32 id;

	kns = kpc_ns_current(false);
	if (IS_ERR(kns))
		return 0;		/* no kipc object in this namespace */
	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		kpc_ns_put(kns);
		return -ENOMEM;
	}

	id = ctx->next_id;
	while ((obj = kpc_ns_next_object(kns, &id))) {
		if (ctx->type && obj->type != ctx->type) {
			kpc_object_put(obj);
			ctx->next_id = id;
			continue;
		}
		kpc_object_fill_stat(obj, st);
		kpc_object_put(obj);
		ret = kpc_nl_put_object(skb, NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, NLM_F_MULTI, st);
		if (ret)
			break;		/* full: this object starts the next part */
		ctx->next_id = id;
	}
	kfree(st);
	kpc_ns_put(kns);
	/* An object too big for an empty message would loop forever. */
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

/* Statistics */

static int kpc_nl_put_type_stats(struct sk_buff *skb, u32 type)
{
	const struct kpc_type_ops *ops = kpc_type(type);
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, ops->nl_stats_attr);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, KIPC_TSTATS_A_OBJECTS,
			      atomic64_read(&kpc_counters.objects[type]),
			      KIPC_TSTATS_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_TSTATS_A_CREATED,
			      atomic64_read(&kpc_counters.created[type]),
			      KIPC_TSTATS_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPC_TSTATS_A_REMOVED,
			      atomic64_read(&kpc_counters.removed[type]),
			      KIPC_TSTATS_A_PAD))
		goto cancel;
	for (i = 0; i < ops->ncounters; i++)
		if (nla_put_u64_64bit(skb, KIPC_TSTATS_A_TYPE_BASE + i,
				      atomic64_read(&ops->counters[i]),
				      KIPC_TSTATS_A_PAD))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int kpc_nl_put_stats(struct sk_buff *skb, const struct kipc_info *ki)
{
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
	u32 type;

	nest = nla_nest_start(skb, KIPC_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, KIPC_STATS_A_VERSION, ki->version))
		goto cancel;
	for (i = 0; i < ARRAY_SIZE(vals); i++)
		if (nla_put_u64_64bit(skb, vals[i].attr, vals[i].value,
				      KIPC_STATS_A_PAD))
			goto cancel;
	for (type = 1; type < KIPC_TYPE_COUNT; type++)
		if (kpc_type(type) && kpc_nl_put_type_stats(skb, type))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int kpc_nl_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kipc_info ki;
	struct sk_buff *msg;
	void *hdr;

	kpc_reap_dead_namespaces();
	kpc_fill_info(&ki);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kpc_genl_family, 0,
				KIPC_CMD_STATS);
	if (!hdr || kpc_nl_put_stats(msg, &ki)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* Removal */

static int kpc_nl_remove_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	const char *name = NULL;
	struct kpc_ns *kns;
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

	kns = kpc_ns_current(false);
	if (IS_ERR(kns))
		return -ENOENT;
	/*
	 * The sender's rights, and also those of whoever opened the socket:
	 * a privileged program must not be tricked into writing a request
	 * to a socket it was handed (netlink_ns_capable() does the same).
	 * Only sockets the kernel made itself have no file.
	 */
	sock = NETLINK_CB(skb).sk->sk_socket;
	ret = kpc_remove_in_ns(kns, type, id, name, sock ? sock->file : NULL);
	kpc_ns_put(kns);
	if (ret == -ENOENT)
		GENL_SET_ERR_MSG(info, "No such object in this IPC namespace");
	return ret;
}

/* The family */

#define KIPC_NL_TYPE_POLICY \
	NLA_POLICY_RANGE(NLA_U32, 1, KIPC_TYPE_COUNT - 1)

static const struct nla_policy kpc_get_policy[KIPC_A_ID + 1] = {
	[KIPC_A_TYPE]	= KIPC_NL_TYPE_POLICY,
	[KIPC_A_ID]	= { .type = NLA_U32 },
};

static const struct nla_policy kpc_remove_policy[KIPC_A_NAME + 1] = {
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
static const struct nla_policy kpc_stats_policy[KIPC_A_MAX + 1] = {
	[KIPC_A_UNSPEC ... KIPC_A_MAX] = { .type = NLA_REJECT },
};

static const struct genl_ops kpc_genl_ops[] = {
	{
		.cmd		= KIPC_CMD_GET,
		.doit		= kpc_nl_get_doit,
		.start		= kpc_nl_get_start,
		.dumpit		= kpc_nl_get_dumpit,
		.policy		= kpc_get_policy,
		.maxattr	= ARRAY_SIZE(kpc_get_policy) - 1,
	},
	{
		.cmd		= KIPC_CMD_STATS,
		.doit		= kpc_nl_stats_doit,
		.policy		= kpc_stats_policy,
		.maxattr	= ARRAY_SIZE(kpc_stats_policy) - 1,
	},
	{
		.cmd		= KIPC_CMD_REMOVE,
		.doit		= kpc_nl_remove_doit,
		.policy		= kpc_remove_policy,
		.maxattr	= ARRAY_SIZE(kpc_remove_policy) - 1,
	},
};

static struct genl_family kpc_genl_family __ro_after_init = {
	.name		= KIPC_GENL_NAME,
	.version	= KIPC_GENL_VERSION,
	.maxattr	= KIPC_A_MAX,
	/* Visibility is by IPC namespace, whatever the network namespace. */
	.netnsok	= true,
	/* The handlers lock what they touch; no need for genl_mutex. */
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= kpc_genl_ops,
	.n_ops		= ARRAY_SIZE(kpc_genl_ops),
	/* Every command is new: strict header and attribute validation. */
	.resv_start_op	= KIPC_CMD_UNSPEC + 1,
	.mcgrps		= kpc_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(kpc_mcgrps),
};

int kpc_netlink_init(void)
{
	int ret;

	ret = genl_register_family(&kpc_genl_family);
	if (!ret)
		kpc_event_attach(&kpc_genl_family, KIPC_MCGRP_EVENT);
	return ret;
}

void kpc_netlink_exit(void)
{
	kpc_event_detach();
	genl_unregister_family(&kpc_genl_family);
}
