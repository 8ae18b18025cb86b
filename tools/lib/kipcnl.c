// SPDX-License-Identifier: GPL-2.0
/* kipcnl: see kipcnl.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kipcnl.h"

/* Older libc headers lack the extended ack's names. */
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED		0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS		0x200
#endif
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG	1
#endif

int knl_open(struct knl *k)
{
	int one = 1;

	memset(k, 0, sizeof(*k));
	k->sk = nl_socket_alloc();
	if (!k->sk)
		return -ENOMEM;
	if (genl_connect(k->sk)) {
		nl_socket_free(k->sk);
		return -EIO;
	}
	/* Best effort: the kernel's own words for a refused request. */
	setsockopt(nl_socket_get_fd(k->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	nl_socket_disable_auto_ack(k->sk);
	k->family = genl_ctrl_resolve(k->sk, KIPC_GENL_NAME);
	if (k->family < 0) {
		nl_socket_free(k->sk);
		return -ENOENT;
	}
	return 0;
}

void knl_close(struct knl *k)
{
	nl_socket_free(k->sk);
	k->sk = NULL;
}

struct nl_msg *knl_msg(struct knl *k, uint8_t cmd, bool dump)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, k->family, 0,
				dump ? NLM_F_DUMP : NLM_F_ACK, cmd,
				KIPC_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

int knl_attrs(struct nl_msg *msg, struct nlattr *tb[KIPC_A_MAX + 1])
{
	return genlmsg_parse(nlmsg_hdr(msg), 0, tb, KIPC_A_MAX, NULL) < 0 ?
	       -EINVAL : 0;
}

struct knl_req {
	struct knl *k;
	int err;
	bool done;
	int (*handle)(struct nl_msg *msg, void *arg);
	void *arg;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct knl_req *r = arg;

	return r->handle ? r->handle(msg, r->arg) : NL_OK;
}

/* The error, and the message of an extended ack if there is one. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MSG + 1];
	struct knl_req *r = arg;
	size_t off = sizeof(*e);
	int len;

	(void)nla;
	r->err = e->error;
	r->done = true;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - NLMSG_HDRLEN;
		len = (int)(nlh->nlmsg_len - NLMSG_HDRLEN - off);
		if (len > 0 &&
		    !nla_parse(tb, NLMSGERR_ATTR_MSG,
			       (struct nlattr *)((char *)e + off), len, NULL) &&
		    tb[NLMSGERR_ATTR_MSG])
			snprintf(r->k->ext_msg, sizeof(r->k->ext_msg), "%.*s",
				 nla_len(tb[NLMSGERR_ATTR_MSG]),
				 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	}
	return NL_STOP;
}

/* An ack, or the end of a dump, which carries the dump's error. */
static int on_done(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct knl_req *r = arg;

	if (nlh->nlmsg_type == NLMSG_DONE &&
	    nlmsg_datalen(nlh) >= (int)sizeof(int))
		memcpy(&r->err, nlmsg_data(nlh), sizeof(int));
	r->done = true;
	return NL_STOP;
}

int knl_xfer(struct knl *k, struct nl_msg *msg,
	     int (*handle)(struct nl_msg *msg, void *arg), void *arg)
{
	struct knl_req r = { .k = k, .handle = handle, .arg = arg };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_CUSTOM);
	int ret;

	k->ext_msg[0] = '\0';
	if (!cb || !msg) {
		nlmsg_free(msg);
		nl_cb_put(cb);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &r);
	ret = nl_send_auto(k->sk, msg);
	nlmsg_free(msg);
	while (ret >= 0 && !r.done)
		ret = nl_recvmsgs(k->sk, cb);
	nl_cb_put(cb);
	if (!r.done)
		return -EPROTO;
	return r.err;
}

/* A nested attribute of @tb into @nest: true if it is there and parses. */
static bool nested(struct nlattr *a, int max, struct nlattr **nest)
{
	return a && !nla_parse_nested(nest, max, a, NULL);
}

/* Into a field of its width: 4 or 8 bytes, signed or not alike. */
static void knl_field(const struct nlattr *a, void *field, size_t size)
{
	uint64_t v = knl_u64(a);
	uint32_t w = (uint32_t)v;

	if (size == sizeof(v))
		memcpy(field, &v, size);
	else
		memcpy(field, &w, sizeof(w));
}

#define KNL_FIELD(nest, st, attr, field) \
	knl_field(nest[attr], &(st)->field, sizeof((st)->field))

void knl_parse_obj(struct nlattr **tb, struct knl_obj *o)
{
	struct nlattr *q[KIPC_QUEUE_A_MAX + 1];
	struct nlattr *r[KIPC_REGION_A_MAX + 1];
	struct nlattr *m[KIPC_SEM_A_MAX + 1];
	struct nlattr *g[KIPC_RING_A_MAX + 1];

	memset(o, 0, sizeof(*o));
	o->type = knl_u32(tb[KIPC_A_TYPE]);
	o->id = knl_u32(tb[KIPC_A_ID]);
	o->uid = knl_u32(tb[KIPC_A_UID]);
	o->gid = knl_u32(tb[KIPC_A_GID]);
	o->cuid = knl_u32(tb[KIPC_A_CUID]);
	o->cgid = knl_u32(tb[KIPC_A_CGID]);
	o->mode = knl_u32(tb[KIPC_A_MODE]);
	o->flags = knl_u32(tb[KIPC_A_FLAGS]);
	o->nfds = knl_u32(tb[KIPC_A_NFDS]);
	o->cpid = (int32_t)knl_u32(tb[KIPC_A_CPID]);
	o->ctime = (int64_t)knl_u64(tb[KIPC_A_CTIME]);
	if (tb[KIPC_A_NAME]) {
		o->named = true;
		snprintf(o->name, sizeof(o->name), "%.*s",
			 nla_len(tb[KIPC_A_NAME]),
			 (const char *)nla_data(tb[KIPC_A_NAME]));
	}
	o->has_queue = nested(tb[KIPC_A_QUEUE], KIPC_QUEUE_A_MAX, q);
	if (o->has_queue) {
#define KIPC_QUEUE_FIELD(attr, field) \
		KNL_FIELD(q, &o->queue, KIPC_QUEUE_A_##attr, field);
#include <linux/kipc_stat.h>
	}
	o->has_region = nested(tb[KIPC_A_REGION], KIPC_REGION_A_MAX, r);
	if (o->has_region) {
#define KIPC_REGION_FIELD(attr, field) \
		KNL_FIELD(r, &o->region, KIPC_REGION_A_##attr, field);
#include <linux/kipc_stat.h>
	}
	o->has_sem = nested(tb[KIPC_A_SEM], KIPC_SEM_A_MAX, m);
	if (o->has_sem) {
#define KIPC_SEM_FIELD(attr, field) \
		KNL_FIELD(m, &o->sem, KIPC_SEM_A_##attr, field);
#include <linux/kipc_stat.h>
	}
	o->has_ring = nested(tb[KIPC_A_RING], KIPC_RING_A_MAX, g);
	if (o->has_ring) {
#define KIPC_RING_FIELD(attr, field) \
		KNL_FIELD(g, &o->ring, KIPC_RING_A_##attr, field);
#include <linux/kipc_stat.h>
	}
}

int knl_collect(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KIPC_A_MAX + 1];
	struct knl_objs *l = arg;

	if (knl_attrs(msg, tb))
		return NL_SKIP;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();	/* a dump of our own objects: nothing to save */
	}
	knl_parse_obj(tb, &l->v[l->n++]);
	l->nmsgs++;
	l->bytes += nlmsg_hdr(msg)->nlmsg_len;
	if (l->each)
		l->each(l, l->arg);
	return NL_OK;
}

void knl_objs_free(struct knl_objs *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct knl_obj *knl_find(struct knl_objs *l, uint32_t id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

int knl_dump(struct knl *k, uint32_t type, struct knl_objs *l)
{
	struct nl_msg *msg = knl_msg(k, KIPC_CMD_GET, true);

	if (msg && type)
		nla_put_u32(msg, KIPC_A_TYPE, type);
	return knl_xfer(k, msg, knl_collect, l);
}

int knl_get(struct knl *k, uint32_t type, uint32_t id, struct knl_obj *o)
{
	struct nl_msg *msg = knl_msg(k, KIPC_CMD_GET, false);
	struct knl_objs l = { 0 };
	int ret;

	if (msg) {
		nla_put_u32(msg, KIPC_A_ID, id);
		if (type)
			nla_put_u32(msg, KIPC_A_TYPE, type);
	}
	ret = knl_xfer(k, msg, knl_collect, &l);
	if (!ret && l.n != 1)
		ret = -EPROTO;
	if (!ret)
		*o = l.v[0];
	knl_objs_free(&l);
	return ret;
}

int knl_remove(struct knl *k, uint32_t type, uint32_t id, const char *name)
{
	struct nl_msg *msg = knl_msg(k, KIPC_CMD_REMOVE, false);

	if (msg) {
		if (type)
			nla_put_u32(msg, KIPC_A_TYPE, type);
		if (name)
			nla_put_string(msg, KIPC_A_NAME, name);
		else
			nla_put_u32(msg, KIPC_A_ID, id);
	}
	return knl_xfer(k, msg, NULL, NULL);
}

int knl_subscribe(struct knl *k)
{
	int grp = genl_ctrl_resolve_grp(k->sk, KIPC_GENL_NAME,
					KIPC_GENL_MCGRP_EVENTS);
	int ret;

	if (grp < 0)
		return -ENOENT;
	ret = nl_socket_add_membership(k->sk, grp);
	if (ret == -NLE_PERM)
		return -EPERM;
	if (ret < 0)
		return -EIO;
	nl_socket_disable_seq_check(k->sk);
	/* Room for a burst: events that do not fit are lost (ENOBUFS). */
	nl_socket_set_buffer_size(k->sk, 1 << 20, 0);
	return 0;
}

struct knl_event_buf {
	struct knl_event ev;
	bool got;
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KIPC_A_MAX + 1];
	struct knl_event_buf *b = arg;
	struct knl_event *e = &b->ev;

	if (knl_attrs(msg, tb) || !tb[KIPC_A_EVENT] ||
	    genlmsg_hdr(nlmsg_hdr(msg))->cmd != KIPC_CMD_EVENT)
		return NL_SKIP;
	memset(e, 0, sizeof(*e));
	e->event = knl_u32(tb[KIPC_A_EVENT]);
	e->type = knl_u32(tb[KIPC_A_TYPE]);
	e->id = knl_u32(tb[KIPC_A_ID]);
	e->ipc_ns = knl_u32(tb[KIPC_A_IPC_NS]);
	e->has_waiters = tb[KIPC_A_WAITERS];
	e->waiters = knl_u32(tb[KIPC_A_WAITERS]);
	e->pid = (int32_t)knl_u32(tb[KIPC_A_PID]);
	if (tb[KIPC_A_NAME]) {
		e->named = true;
		snprintf(e->name, sizeof(e->name), "%.*s",
			 nla_len(tb[KIPC_A_NAME]),
			 (const char *)nla_data(tb[KIPC_A_NAME]));
	}
	b->got = true;
	return NL_STOP;
}

int knl_next_event(struct knl *k, uint32_t id, int ms, struct knl_event *e)
{
	struct knl_event_buf b;
	struct nl_cb *cb = nl_cb_alloc(NL_CB_CUSTOM);
	struct pollfd pfd = { .fd = nl_socket_get_fd(k->sk), .events = POLLIN };
	int ret = -ETIMEDOUT, n;

	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &b);
	for (;;) {
		b.got = false;
		n = poll(&pfd, 1, ms);
		if (n < 0) {
			ret = errno == EINTR ? -EINTR : -EIO;
			break;
		}
		if (!n)
			break;
		n = nl_recvmsgs(k->sk, cb);
		if (n == -NLE_NOMEM || n == -NLE_MSG_OVERFLOW) {
			ret = -ENOBUFS;
			break;
		}
		if (n < 0 && n != -NLE_AGAIN && n != -NLE_INTR && !b.got) {
			ret = -EIO;
			break;
		}
		if (b.got && (!id || b.ev.id == id)) {
			*e = b.ev;
			ret = 0;
			break;
		}
	}
	nl_cb_put(cb);
	return ret;
}
