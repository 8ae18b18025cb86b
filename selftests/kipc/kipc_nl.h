/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers over libnl-genl-3 for the kipc netlink selftests.  Like
 * kipc_test.h they return -errno, the kernel's own error for a request, so
 * that a test can assert the exact error: ASSERT_EQ(-EPERM, knl_remove(...)).
 */
#ifndef KIPC_NL_H
#define KIPC_NL_H

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kipc.h>

struct knl {
	struct nl_sock *sk;
	int family;
};

/* An object of a reply, with the attributes the tests look at. */
struct knl_obj {
	uint32_t type, id, uid, gid, cuid, cgid, mode, flags, nfds;
	int32_t cpid;
	int64_t ctime;
	bool named;
	char name[KIPC_NAME_MAX + 1];
	bool has_queue;
	uint64_t msgs, bytes, max_msgs, max_msgsize, max_bytes, sent, received;
	uint64_t recv_waiters, send_waiters;
	int32_t lspid, lrpid;
	bool has_region;
	uint64_t size, nattch, nwritable;
	uint32_t seals;
	int32_t lpid;
	int64_t atime, dtime;
	bool has_sem;
	uint32_t nsems, sem_flags, max_value, waiters, undos, mapped;
	int64_t otime;
};

struct knl_objs {
	struct knl_obj *v;
	size_t n, cap;
	size_t nmsgs;			/* netlink messages received */
	size_t bytes;			/* their total size */
	/* Called for each object as it arrives, e.g. to change things mid-dump. */
	void (*each)(struct knl_objs *l, void *arg);
	void *arg;
};

static inline uint64_t knl_u64(struct nlattr *a)
{
	if (!a)
		return 0;
	if (nla_len(a) >= 8)
		return nla_get_u64(a);
	return nla_len(a) >= 4 ? nla_get_u32(a) : 0;
}

static inline uint32_t knl_u32(struct nlattr *a)
{
	return a && nla_len(a) >= 4 ? nla_get_u32(a) : 0;
}

/* Open a socket on the family; -ENOENT if the module is not loaded. */
static inline int knl_open(struct knl *k)
{
	k->sk = nl_socket_alloc();
	if (!k->sk)
		return -ENOMEM;
	if (genl_connect(k->sk)) {
		nl_socket_free(k->sk);
		return -EIO;
	}
	nl_socket_disable_auto_ack(k->sk);
	k->family = genl_ctrl_resolve(k->sk, KIPC_GENL_NAME);
	if (k->family < 0) {
		nl_socket_free(k->sk);
		return -ENOENT;
	}
	return 0;
}

static inline void knl_close(struct knl *k)
{
	nl_socket_free(k->sk);
}

/* A request with its header; attributes are the caller's to add. */
static inline struct nl_msg *knl_msg(struct knl *k, uint8_t cmd, bool dump)
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

struct knl_req {
	int err;
	bool done;
	int (*handle)(struct nl_msg *msg, void *arg);
	void *arg;
};

static inline int knl_on_valid(struct nl_msg *msg, void *arg)
{
	struct knl_req *r = arg;

	return r->handle ? r->handle(msg, r->arg) : NL_OK;
}

static inline int knl_on_error(struct sockaddr_nl *nla, struct nlmsgerr *e,
			       void *arg)
{
	struct knl_req *r = arg;

	(void)nla;
	r->err = e->error;
	r->done = true;
	return NL_STOP;
}

static inline int knl_on_done(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct knl_req *r = arg;

	if (nlh->nlmsg_type == NLMSG_DONE &&
	    nlmsg_datalen(nlh) >= (int)sizeof(int))
		memcpy(&r->err, nlmsg_data(nlh), sizeof(int));
	r->done = true;
	return NL_STOP;
}

/*
 * Send @msg (freed here) and process the replies with @handle until the
 * acknowledgement or the end of the dump; the kernel's -errno, or 0.
 */
static inline int knl_xfer(struct knl *k, struct nl_msg *msg,
			   int (*handle)(struct nl_msg *msg, void *arg),
			   void *arg)
{
	struct knl_req r = { .handle = handle, .arg = arg };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_CUSTOM);
	int ret;

	if (!cb || !msg) {
		nlmsg_free(msg);
		nl_cb_put(cb);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, knl_on_valid, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, knl_on_done, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, knl_on_done, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, knl_on_error, &r);
	ret = nl_send_auto(k->sk, msg);
	nlmsg_free(msg);
	while (ret >= 0 && !r.done)
		ret = nl_recvmsgs(k->sk, cb);
	nl_cb_put(cb);
	if (!r.done)
		return -EPROTO;
	return r.err;
}

static inline void knl_parse_obj(struct nlattr **tb, struct knl_obj *o)
{
	struct nlattr *q[KIPC_QUEUE_A_MAX + 1];
	struct nlattr *r[KIPC_REGION_A_MAX + 1];
	struct nlattr *m[KIPC_SEM_A_MAX + 1];

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
		strncpy(o->name, nla_data(tb[KIPC_A_NAME]), KIPC_NAME_MAX);
	}
	if (tb[KIPC_A_QUEUE] &&
	    !nla_parse_nested(q, KIPC_QUEUE_A_MAX, tb[KIPC_A_QUEUE], NULL)) {
		o->has_queue = true;
		o->msgs = knl_u64(q[KIPC_QUEUE_A_MSGS]);
		o->bytes = knl_u64(q[KIPC_QUEUE_A_BYTES]);
		o->max_msgs = knl_u64(q[KIPC_QUEUE_A_MAX_MSGS]);
		o->max_msgsize = knl_u64(q[KIPC_QUEUE_A_MAX_MSGSIZE]);
		o->max_bytes = knl_u64(q[KIPC_QUEUE_A_MAX_BYTES]);
		o->sent = knl_u64(q[KIPC_QUEUE_A_SENT]);
		o->received = knl_u64(q[KIPC_QUEUE_A_RECEIVED]);
		o->send_waiters = knl_u64(q[KIPC_QUEUE_A_SEND_WAITERS]);
		o->recv_waiters = knl_u64(q[KIPC_QUEUE_A_RECV_WAITERS]);
		o->lspid = (int32_t)knl_u32(q[KIPC_QUEUE_A_LSPID]);
		o->lrpid = (int32_t)knl_u32(q[KIPC_QUEUE_A_LRPID]);
	}
	if (tb[KIPC_A_REGION] &&
	    !nla_parse_nested(r, KIPC_REGION_A_MAX, tb[KIPC_A_REGION], NULL)) {
		o->has_region = true;
		o->size = knl_u64(r[KIPC_REGION_A_SIZE]);
		o->nattch = knl_u64(r[KIPC_REGION_A_NATTCH]);
		o->nwritable = knl_u64(r[KIPC_REGION_A_NWRITABLE]);
		o->seals = knl_u32(r[KIPC_REGION_A_SEALS]);
		o->lpid = (int32_t)knl_u32(r[KIPC_REGION_A_LPID]);
		o->atime = (int64_t)knl_u64(r[KIPC_REGION_A_ATIME]);
		o->dtime = (int64_t)knl_u64(r[KIPC_REGION_A_DTIME]);
	}
	if (tb[KIPC_A_SEM] &&
	    !nla_parse_nested(m, KIPC_SEM_A_MAX, tb[KIPC_A_SEM], NULL)) {
		o->has_sem = true;
		o->nsems = knl_u32(m[KIPC_SEM_A_NSEMS]);
		o->sem_flags = knl_u32(m[KIPC_SEM_A_FLAGS]);
		o->max_value = knl_u32(m[KIPC_SEM_A_MAX_VALUE]);
		o->waiters = knl_u32(m[KIPC_SEM_A_WAITERS]);
		o->undos = knl_u32(m[KIPC_SEM_A_UNDOS]);
		o->mapped = knl_u32(m[KIPC_SEM_A_MAPPED]);
		o->otime = (int64_t)knl_u64(m[KIPC_SEM_A_OTIME]);
	}
}

static inline int knl_collect(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KIPC_A_MAX + 1];
	struct knl_objs *l = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KIPC_A_MAX, NULL) < 0)
		return NL_SKIP;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	knl_parse_obj(tb, &l->v[l->n++]);
	l->nmsgs++;
	l->bytes += nlmsg_hdr(msg)->nlmsg_len;
	if (l->each)
		l->each(l, l->arg);
	return NL_OK;
}

static inline void knl_objs_free(struct knl_objs *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Dump the objects of the caller's namespace (of @type, unless 0). */
static inline int knl_dump(struct knl *k, uint32_t type, struct knl_objs *l)
{
	struct nl_msg *msg = knl_msg(k, KIPC_CMD_GET, true);

	if (msg && type)
		nla_put_u32(msg, KIPC_A_TYPE, type);
	return knl_xfer(k, msg, knl_collect, l);
}

static inline struct knl_obj *knl_find(struct knl_objs *l, uint32_t id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

/* Get one object: 0 and @o filled, or -errno. */
static inline int knl_get(struct knl *k, uint32_t type, uint32_t id,
			  struct knl_obj *o)
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

/* Remove by @name within @type, or with a NULL @name by @id. */
static inline int knl_remove(struct knl *k, uint32_t type, uint32_t id,
			     const char *name)
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

/* Join the events group: 0 or -errno. */
static inline int knl_subscribe(struct knl *k)
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
	return 0;
}

struct knl_event {
	uint32_t event, type, id, ipc_ns, waiters;
	int32_t pid;
	bool named;
	char name[KIPC_NAME_MAX + 1];
};

struct knl_event_buf {
	struct knl_event ev;
	bool got;
};

static inline int knl_on_event(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KIPC_A_MAX + 1];
	struct knl_event_buf *b = arg;
	struct knl_event *e = &b->ev;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KIPC_A_MAX, NULL) < 0 ||
	    genlmsg_hdr(nlmsg_hdr(msg))->cmd != KIPC_CMD_EVENT)
		return NL_SKIP;
	memset(e, 0, sizeof(*e));
	e->event = knl_u32(tb[KIPC_A_EVENT]);
	e->type = knl_u32(tb[KIPC_A_TYPE]);
	e->id = knl_u32(tb[KIPC_A_ID]);
	e->ipc_ns = knl_u32(tb[KIPC_A_IPC_NS]);
	e->waiters = knl_u32(tb[KIPC_A_WAITERS]);
	e->pid = (int32_t)knl_u32(tb[KIPC_A_PID]);
	if (tb[KIPC_A_NAME]) {
		e->named = true;
		strncpy(e->name, nla_data(tb[KIPC_A_NAME]), KIPC_NAME_MAX);
	}
	b->got = true;
	return NL_STOP;
}

/*
 * The next event, waiting up to @ms; with @id nonzero, events of other
 * objects are skipped.  0, or -ETIMEDOUT.
 */
static inline int knl_next_event(struct knl *k, uint32_t id, int ms,
				 struct knl_event *e)
{
	struct knl_event_buf b;
	struct nl_cb *cb = nl_cb_alloc(NL_CB_CUSTOM);
	struct pollfd pfd = { .fd = nl_socket_get_fd(k->sk), .events = POLLIN };
	int ret = -ETIMEDOUT;

	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, knl_on_event, &b);
	for (;;) {
		b.got = false;
		if (poll(&pfd, 1, ms) <= 0)
			break;
		if (nl_recvmsgs(k->sk, cb) < 0 && !b.got) {
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

#endif /* KIPC_NL_H */
