// SPDX-License-Identifier: GPL-2.0
/*
 * kipcs - show, remove and watch kipc objects, like ipcs(1) and ipcrm(1),
 * over the kipc generic netlink family (see kipcs(8)).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <linux/kipc.h>

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

static const char *prog = "kipcs";

static void __attribute__((format(printf, 1, 2))) warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Objects as the kernel reports them */

struct queue_info {
	uint64_t msgs, bytes, max_msgs, max_msgsize, max_bytes;
	uint64_t sent, received, send_waiters, recv_waiters;
	int64_t stime, rtime;
	int32_t lspid, lrpid, notify_pid;
};

struct region_info {
	uint64_t size, nattch, nwritable;
	uint32_t seals;
	int32_t lpid;
	int64_t atime, dtime;
};

struct sem_info {
	uint32_t nsems, flags, max_value, waiters, undos, mapped;
	int64_t otime;
};

struct object {
	uint32_t type, id;
	bool named;
	char name[KIPC_NAME_MAX + 1];
	uint32_t uid, gid, cuid, cgid, mode, flags, nfds;
	int32_t cpid;
	int64_t ctime;
	bool has_queue, has_region, has_sem;
	struct queue_info queue;
	struct region_info region;
	struct sem_info sem;
};

struct object_list {
	struct object *v;
	size_t n, cap;
};

static const char *type_name(uint32_t type)
{
	switch (type) {
	case KIPC_TYPE_QUEUE:
		return "queue";
	case KIPC_TYPE_REGION:
		return "region";
	case KIPC_TYPE_SEM:
		return "sem";
	default:
		return "unknown";
	}
}

/* Attribute readers that tolerate a short or missing attribute. */
static uint64_t attr_u64(struct nlattr *a)
{
	if (!a)
		return 0;
	if (nla_len(a) >= 8)
		return nla_get_u64(a);
	if (nla_len(a) >= 4)
		return nla_get_u32(a);
	return 0;
}

static uint32_t attr_u32(struct nlattr *a)
{
	return a && nla_len(a) >= 4 ? nla_get_u32(a) : 0;
}

static void parse_queue(struct nlattr *nest, struct queue_info *q)
{
	struct nlattr *tb[KIPC_QUEUE_A_MAX + 1];

	if (nla_parse_nested(tb, KIPC_QUEUE_A_MAX, nest, NULL))
		return;
	q->msgs = attr_u64(tb[KIPC_QUEUE_A_MSGS]);
	q->bytes = attr_u64(tb[KIPC_QUEUE_A_BYTES]);
	q->max_msgs = attr_u64(tb[KIPC_QUEUE_A_MAX_MSGS]);
	q->max_msgsize = attr_u64(tb[KIPC_QUEUE_A_MAX_MSGSIZE]);
	q->max_bytes = attr_u64(tb[KIPC_QUEUE_A_MAX_BYTES]);
	q->sent = attr_u64(tb[KIPC_QUEUE_A_SENT]);
	q->received = attr_u64(tb[KIPC_QUEUE_A_RECEIVED]);
	q->send_waiters = attr_u64(tb[KIPC_QUEUE_A_SEND_WAITERS]);
	q->recv_waiters = attr_u64(tb[KIPC_QUEUE_A_RECV_WAITERS]);
	q->stime = (int64_t)attr_u64(tb[KIPC_QUEUE_A_STIME]);
	q->rtime = (int64_t)attr_u64(tb[KIPC_QUEUE_A_RTIME]);
	q->lspid = (int32_t)attr_u32(tb[KIPC_QUEUE_A_LSPID]);
	q->lrpid = (int32_t)attr_u32(tb[KIPC_QUEUE_A_LRPID]);
	q->notify_pid = (int32_t)attr_u32(tb[KIPC_QUEUE_A_NOTIFY_PID]);
}

static void parse_region(struct nlattr *nest, struct region_info *r)
{
	struct nlattr *tb[KIPC_REGION_A_MAX + 1];

	if (nla_parse_nested(tb, KIPC_REGION_A_MAX, nest, NULL))
		return;
	r->size = attr_u64(tb[KIPC_REGION_A_SIZE]);
	r->nattch = attr_u64(tb[KIPC_REGION_A_NATTCH]);
	r->nwritable = attr_u64(tb[KIPC_REGION_A_NWRITABLE]);
	r->seals = attr_u32(tb[KIPC_REGION_A_SEALS]);
	r->lpid = (int32_t)attr_u32(tb[KIPC_REGION_A_LPID]);
	r->atime = (int64_t)attr_u64(tb[KIPC_REGION_A_ATIME]);
	r->dtime = (int64_t)attr_u64(tb[KIPC_REGION_A_DTIME]);
}

static void parse_sem(struct nlattr *nest, struct sem_info *m)
{
	struct nlattr *tb[KIPC_SEM_A_MAX + 1];

	if (nla_parse_nested(tb, KIPC_SEM_A_MAX, nest, NULL))
		return;
	m->nsems = attr_u32(tb[KIPC_SEM_A_NSEMS]);
	m->flags = attr_u32(tb[KIPC_SEM_A_FLAGS]);
	m->max_value = attr_u32(tb[KIPC_SEM_A_MAX_VALUE]);
	m->waiters = attr_u32(tb[KIPC_SEM_A_WAITERS]);
	m->undos = attr_u32(tb[KIPC_SEM_A_UNDOS]);
	m->mapped = attr_u32(tb[KIPC_SEM_A_MAPPED]);
	m->otime = (int64_t)attr_u64(tb[KIPC_SEM_A_OTIME]);
}

static void parse_object(struct nlattr **tb, struct object *o)
{
	memset(o, 0, sizeof(*o));
	o->type = attr_u32(tb[KIPC_A_TYPE]);
	o->id = attr_u32(tb[KIPC_A_ID]);
	if (tb[KIPC_A_NAME]) {
		o->named = true;
		snprintf(o->name, sizeof(o->name), "%.*s",
			 nla_len(tb[KIPC_A_NAME]),
			 (const char *)nla_data(tb[KIPC_A_NAME]));
	}
	o->uid = attr_u32(tb[KIPC_A_UID]);
	o->gid = attr_u32(tb[KIPC_A_GID]);
	o->cuid = attr_u32(tb[KIPC_A_CUID]);
	o->cgid = attr_u32(tb[KIPC_A_CGID]);
	o->mode = attr_u32(tb[KIPC_A_MODE]);
	o->flags = attr_u32(tb[KIPC_A_FLAGS]);
	o->nfds = attr_u32(tb[KIPC_A_NFDS]);
	o->cpid = (int32_t)attr_u32(tb[KIPC_A_CPID]);
	o->ctime = (int64_t)attr_u64(tb[KIPC_A_CTIME]);
	if (tb[KIPC_A_QUEUE]) {
		o->has_queue = true;
		parse_queue(tb[KIPC_A_QUEUE], &o->queue);
	}
	if (tb[KIPC_A_REGION]) {
		o->has_region = true;
		parse_region(tb[KIPC_A_REGION], &o->region);
	}
	if (tb[KIPC_A_SEM]) {
		o->has_sem = true;
		parse_sem(tb[KIPC_A_SEM], &o->sem);
	}
}

/* Netlink requests */

static struct nl_sock *sk;
static int family;

struct request {
	int err;			/* -errno from the kernel, or 0 */
	char msg[256];			/* its extended ack message */
	bool done;
	int (*handle)(struct nlattr **tb, void *arg);
	void *arg;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;
	struct nlattr *tb[KIPC_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KIPC_A_MAX, NULL) < 0)
		return NL_SKIP;
	return r->handle ? r->handle(tb, r->arg) : NL_OK;
}

/* The error, and the message of an extended ack if there is one. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct request *r = arg;
	struct nlattr *tb[NLMSGERR_ATTR_MSG + 1];
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
		    !nla_parse(tb, NLMSGERR_ATTR_MSG, (struct nlattr *)((char *)e + off),
			       len, NULL) && tb[NLMSGERR_ATTR_MSG])
			snprintf(r->msg, sizeof(r->msg), "%.*s",
				 nla_len(tb[NLMSGERR_ATTR_MSG]),
				 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	}
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

/* The end of a dump carries the dump's error, if it failed. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct request *r = arg;

	if (nlmsg_datalen(nlh) >= (int)sizeof(int))
		memcpy(&r->err, nlmsg_data(nlh), sizeof(int));
	r->done = true;
	return NL_STOP;
}

static void connect_kipc(void)
{
	int one = 1;

	sk = nl_socket_alloc();
	if (!sk)
		die("out of memory");
	if (genl_connect(sk))
		die("cannot open a generic netlink socket");
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	nl_socket_disable_auto_ack(sk);
	family = genl_ctrl_resolve(sk, KIPC_GENL_NAME);
	if (family < 0) {
		if (family == -NLE_OBJ_NOTFOUND)
			die("kipc module not loaded (no generic netlink family \"%s\")",
			    KIPC_GENL_NAME);
		die("cannot look up the kipc netlink family: %s",
		    nl_geterror(family));
	}
}

struct attr_u32 {
	int type;
	uint32_t value;
};

/*
 * Send one request and process its replies; returns 0 or -errno.  A dump
 * ends at NLMSG_DONE, anything else at its acknowledgement.
 */
static int request(uint8_t cmd, bool dump, const struct attr_u32 *attrs,
		   size_t nattrs, const char *name, struct request *r)
{
	struct nl_msg *msg;
	struct nl_cb *cb;
	size_t i;
	int ret;

	msg = nlmsg_alloc();
	cb = nl_cb_alloc(NL_CB_CUSTOM);
	if (!msg || !cb)
		die("out of memory");
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 dump ? NLM_F_DUMP : NLM_F_ACK, cmd, KIPC_GENL_VERSION))
		die("cannot build a netlink message");
	for (i = 0; i < nattrs; i++)
		if (nla_put_u32(msg, attrs[i].type, attrs[i].value))
			die("cannot build a netlink message");
	if (name && nla_put_string(msg, KIPC_A_NAME, name))
		die("cannot build a netlink message");

	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, r);

	r->err = 0;
	r->msg[0] = 0;
	r->done = false;
	ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		die("cannot send a netlink request: %s", nl_geterror(ret));
	while (!r->done) {
		ret = nl_recvmsgs(sk, cb);
		if (ret < 0 && !r->done)
			die("netlink receive failed: %s", nl_geterror(ret));
	}
	nl_cb_put(cb);
	return r->err;
}

static int collect_object(struct nlattr **tb, void *arg)
{
	struct object_list *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die("out of memory");
	}
	parse_object(tb, &l->v[l->n++]);
	return NL_OK;
}

static const char *req_error(const struct request *r, int err)
{
	static char buf[512];

	if (r->msg[0])
		snprintf(buf, sizeof(buf), "%s (%s)", strerror(-err), r->msg);
	else
		snprintf(buf, sizeof(buf), "%s", strerror(-err));
	return buf;
}

static void dump_objects(uint32_t type, struct object_list *l)
{
	struct request r = { .handle = collect_object, .arg = l };
	struct attr_u32 a = { KIPC_A_TYPE, type };
	int err;

	err = request(KIPC_CMD_GET, true, &a, type ? 1 : 0, NULL, &r);
	if (err)
		die("cannot list objects: %s", req_error(&r, err));
}

/* Output helpers */

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *user_name(uint32_t uid, bool numeric)
{
	static char buf[32];
	struct passwd *pw = numeric ? NULL : getpwuid(uid);

	if (pw)
		return pw->pw_name;
	snprintf(buf, sizeof(buf), "%" PRIu32, uid);
	return buf;
}

static const char *group_name(uint32_t gid, bool numeric)
{
	static char buf[32];
	struct group *gr = numeric ? NULL : getgrgid(gid);

	if (gr)
		return gr->gr_name;
	snprintf(buf, sizeof(buf), "%" PRIu32, gid);
	return buf;
}

static const char *status(const struct object *o)
{
	if (o->flags & KIPC_STAT_REMOVED)
		return "removed";
	if (o->flags & KIPC_STAT_NAMED)
		return "named";
	if (o->flags & KIPC_STAT_PERSIST)
		return "persist";
	return "anon";
}

/* Region seals as memfd names them, "-" for none. */
static const char *seals_str(uint32_t seals, bool json)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ KIPC_SEAL_SEAL, "seal" },
		{ KIPC_SEAL_SHRINK, "shrink" },
		{ KIPC_SEAL_GROW, "grow" },
		{ KIPC_SEAL_WRITE, "write" },
	};
	static char buf[64];
	size_t i, len = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (seals & names[i].bit)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						json ? "%s\"%s\"" : "%s%s",
						len ? "," : "", names[i].name);
	if (!len && !json)
		return "-";
	return buf;
}

static const char *time_str(int64_t ns)
{
	static char buf[64];
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!ns)
		return "never";
	if (!localtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, sizeof(buf), "%" PRId64, ns);
	return buf;
}

/* An aligned table: cells collected per row, printed once widths are known. */
#define MAX_COLS	16

struct table {
	int ncols;
	const char *head[MAX_COLS];
	bool left[MAX_COLS];
	char **cells;			/* rows * ncols strings */
	size_t rows, cap;
};

static void table_add(struct table *t, ...)
{
	va_list ap;
	int i;

	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *));
		if (!t->cells)
			die("out of memory");
	}
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		char *s = strdup(va_arg(ap, const char *));

		if (!s)
			die("out of memory");
		t->cells[t->rows * t->ncols + i] = s;
	}
	va_end(ap);
	t->rows++;
}

static void table_print(struct table *t)
{
	size_t w[MAX_COLS], r;
	int i;

	for (i = 0; i < t->ncols; i++)
		w[i] = strlen(t->head[i]);
	for (r = 0; r < t->rows; r++)
		for (i = 0; i < t->ncols; i++) {
			size_t len = strlen(t->cells[r * t->ncols + i]);

			if (len > w[i])
				w[i] = len;
		}
	for (r = 0; r <= t->rows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + i] : t->head[i];

			if (i == t->ncols - 1 && t->left[i])
				fputs(s, stdout);	/* no trailing blanks */
			else if (t->left[i])
				printf("%-*s  ", (int)w[i], s);
			else
				printf("%*s%s", (int)w[i], s,
				       i == t->ncols - 1 ? "" : "  ");
		}
		putchar('\n');
	}
	for (r = 0; r < t->rows * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	t->cells = NULL;
	t->rows = t->cap = 0;
}

#define FMT(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__), buf)

static void print_table(uint32_t type, const struct object_list *l, bool numeric)
{
	static const char *const titles[KIPC_TYPE_COUNT] = {
		[KIPC_TYPE_QUEUE] = "Message Queues",
		[KIPC_TYPE_REGION] = "Shared Regions",
		[KIPC_TYPE_SEM] = "Semaphores",
	};
	char id[16], perms[8], nfds[16], cpid[16], m[24], b[24], mm[24], ms[24];
	char ls[16], lr[16], ns[16], w[16], u[16];
	struct table t = { 0 };
	size_t i;

	printf("------ kipc %s --------\n", titles[type]);
	if (type == KIPC_TYPE_QUEUE) {
		static const char *const head[] = {
			"ID", "OWNER", "PERMS", "MSGS", "BYTES", "MAX-MSGS",
			"MSGSIZE", "NFDS", "CPID", "LSPID", "LRPID", "STATUS",
			"NAME",
		};

		t.ncols = 13;
		memcpy(t.head, head, sizeof(head));
	} else if (type == KIPC_TYPE_REGION) {
		static const char *const head[] = {
			"ID", "OWNER", "PERMS", "BYTES", "NATTCH", "SEALS",
			"NFDS", "CPID", "LPID", "STATUS", "NAME",
		};

		t.ncols = 11;
		memcpy(t.head, head, sizeof(head));
		t.left[5] = true;
	} else if (type == KIPC_TYPE_SEM) {
		static const char *const head[] = {
			"ID", "OWNER", "PERMS", "NSEMS", "WAITERS", "UNDOS",
			"NFDS", "CPID", "STATUS", "NAME",
		};

		t.ncols = 10;
		memcpy(t.head, head, sizeof(head));
	} else {
		static const char *const head[] = {
			"ID", "OWNER", "PERMS", "NFDS", "CPID", "STATUS", "NAME",
		};

		t.ncols = 7;
		memcpy(t.head, head, sizeof(head));
	}
	t.left[1] = true;
	t.left[t.ncols - 2] = true;
	t.left[t.ncols - 1] = true;

	for (i = 0; i < l->n; i++) {
		const struct object *o = &l->v[i];
		const struct queue_info *q = &o->queue;
		const struct region_info *r = &o->region;
		const struct sem_info *sm = &o->sem;

		if (o->type != type)
			continue;
		FMT(id, "%" PRIu32, o->id);
		FMT(perms, "%03" PRIo32, o->mode);
		FMT(nfds, "%" PRIu32, o->nfds);
		FMT(cpid, "%" PRId32, o->cpid);
		if (type == KIPC_TYPE_QUEUE)
			table_add(&t, id, user_name(o->uid, numeric), perms,
				  FMT(m, "%" PRIu64, q->msgs),
				  FMT(b, "%" PRIu64, q->bytes),
				  FMT(mm, "%" PRIu64, q->max_msgs),
				  FMT(ms, "%" PRIu64, q->max_msgsize), nfds, cpid,
				  FMT(ls, "%" PRId32, q->lspid),
				  FMT(lr, "%" PRId32, q->lrpid), status(o),
				  o->named ? o->name : "-");
		else if (type == KIPC_TYPE_REGION)
			table_add(&t, id, user_name(o->uid, numeric), perms,
				  FMT(b, "%" PRIu64, r->size),
				  FMT(m, "%" PRIu64, r->nattch),
				  seals_str(r->seals, false), nfds, cpid,
				  FMT(ls, "%" PRId32, r->lpid), status(o),
				  o->named ? o->name : "-");
		else if (type == KIPC_TYPE_SEM)
			table_add(&t, id, user_name(o->uid, numeric), perms,
				  FMT(ns, "%" PRIu32, sm->nsems),
				  FMT(w, "%" PRIu32, sm->waiters),
				  FMT(u, "%" PRIu32, sm->undos), nfds, cpid,
				  status(o), o->named ? o->name : "-");
		else
			table_add(&t, id, user_name(o->uid, numeric), perms, nfds,
				  cpid, status(o), o->named ? o->name : "-");
	}
	table_print(&t);
	putchar('\n');
}

static void print_json_object(const struct object *o)
{
	const struct queue_info *q = &o->queue;

	printf("{\"type\": \"%s\", \"id\": %" PRIu32 ", \"name\": ",
	       type_name(o->type), o->id);
	if (o->named)
		json_string(o->name);
	else
		printf("null");
	printf(", \"uid\": %" PRIu32 ", \"gid\": %" PRIu32
	       ", \"cuid\": %" PRIu32 ", \"cgid\": %" PRIu32
	       ", \"mode\": %" PRIu32 ", \"status\": \"%s\", \"flags\": %" PRIu32
	       ", \"cpid\": %" PRId32 ", \"nfds\": %" PRIu32
	       ", \"ctime_ns\": %" PRId64,
	       o->uid, o->gid, o->cuid, o->cgid, o->mode, status(o), o->flags,
	       o->cpid, o->nfds, o->ctime);
	if (o->has_queue)
		printf(", \"queue\": {\"msgs\": %" PRIu64 ", \"bytes\": %" PRIu64
		       ", \"max_msgs\": %" PRIu64 ", \"max_msgsize\": %" PRIu64
		       ", \"max_bytes\": %" PRIu64 ", \"sent\": %" PRIu64
		       ", \"received\": %" PRIu64 ", \"send_waiters\": %" PRIu64
		       ", \"recv_waiters\": %" PRIu64 ", \"stime_ns\": %" PRId64
		       ", \"rtime_ns\": %" PRId64 ", \"lspid\": %" PRId32
		       ", \"lrpid\": %" PRId32 ", \"notify_pid\": %" PRId32 "}",
		       q->msgs, q->bytes, q->max_msgs, q->max_msgsize,
		       q->max_bytes, q->sent, q->received, q->send_waiters,
		       q->recv_waiters, q->stime, q->rtime, q->lspid, q->lrpid,
		       q->notify_pid);
	if (o->has_region) {
		const struct region_info *r = &o->region;

		printf(", \"region\": {\"size\": %" PRIu64 ", \"nattch\": %" PRIu64
		       ", \"nwritable\": %" PRIu64 ", \"seals\": %" PRIu32,
		       r->size, r->nattch, r->nwritable, r->seals);
		printf(", \"seal_names\": [%s]", seals_str(r->seals, true));
		printf(", \"lpid\": %" PRId32 ", \"atime_ns\": %" PRId64
		       ", \"dtime_ns\": %" PRId64 "}",
		       r->lpid, r->atime, r->dtime);
	}
	if (o->has_sem) {
		const struct sem_info *m = &o->sem;

		printf(", \"sem\": {\"nsems\": %" PRIu32 ", \"flags\": %" PRIu32
		       ", \"posix\": %s, \"max_value\": %" PRIu32
		       ", \"waiters\": %" PRIu32 ", \"undos\": %" PRIu32
		       ", \"mapped\": %s, \"otime_ns\": %" PRId64 "}",
		       m->nsems, m->flags,
		       m->flags & KIPC_SEM_POSIX ? "true" : "false",
		       m->max_value, m->waiters, m->undos,
		       m->mapped ? "true" : "false", m->otime);
	}
	putchar('}');
}

static void print_detail(const struct object *o, bool numeric)
{
	const struct queue_info *q = &o->queue;

	printf("kipc %s id: %" PRIu32 "\n", type_name(o->type), o->id);
	printf("name: %s\n", o->named ? o->name : "(none)");
	printf("status: %s\n", status(o));
	printf("owner: uid=%" PRIu32 "(%s)", o->uid, user_name(o->uid, numeric));
	printf(" gid=%" PRIu32 "(%s)\n", o->gid, group_name(o->gid, numeric));
	printf("creator: uid=%" PRIu32 "(%s)", o->cuid, user_name(o->cuid, numeric));
	printf(" gid=%" PRIu32 "(%s) pid=%" PRId32 "\n", o->cgid,
	       group_name(o->cgid, numeric), o->cpid);
	printf("mode: %04" PRIo32 "\n", o->mode);
	printf("open fds: %" PRIu32 "\n", o->nfds);
	printf("changed: %s\n", time_str(o->ctime));
	if (o->has_region) {
		const struct region_info *r = &o->region;

		printf("size: %" PRIu64 " bytes\n", r->size);
		printf("attached: %" PRIu64 " mappings, %" PRIu64 " writable\n",
		       r->nattch, r->nwritable);
		printf("seals: %s\n", seals_str(r->seals, false));
		printf("last map: %s\n", time_str(r->atime));
		printf("last unmap: %s\n", time_str(r->dtime));
		printf("last pid: %" PRId32 "\n", r->lpid);
	}
	if (o->has_sem) {
		const struct sem_info *m = &o->sem;

		printf("semaphores: %" PRIu32 "%s\n", m->nsems,
		       m->flags & KIPC_SEM_POSIX ? " (POSIX)" : "");
		printf("max value: %" PRIu32 "\n", m->max_value);
		printf("waiters: %" PRIu32 "\n", m->waiters);
		printf("undo records: %" PRIu32 "\n", m->undos);
		printf("mapped: %s\n", m->mapped ? "yes" : "no");
		printf("last operation: %s\n", time_str(m->otime));
	}
	if (!o->has_queue)
		return;
	printf("messages: %" PRIu64 " of %" PRIu64 "\n", q->msgs, q->max_msgs);
	printf("bytes: %" PRIu64 " of %" PRIu64 "\n", q->bytes, q->max_bytes);
	printf("max message size: %" PRIu64 "\n", q->max_msgsize);
	printf("sent: %" PRIu64 ", received: %" PRIu64 "\n", q->sent, q->received);
	printf("waiting senders: %" PRIu64 ", receivers: %" PRIu64 "\n",
	       q->send_waiters, q->recv_waiters);
	printf("last send: %s, pid %" PRId32 "\n", time_str(q->stime), q->lspid);
	printf("last receive: %s, pid %" PRId32 "\n", time_str(q->rtime), q->lrpid);
	if (q->notify_pid)
		printf("notify pid: %" PRId32 "\n", q->notify_pid);
}

/* Commands */

struct options {
	uint32_t type;			/* 0: all types */
	bool json;
	bool numeric;
	bool all_ns;
	long count;
};

static bool parse_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v == 0 || v > INT_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

static int cmd_list(const struct options *o, const char *detail)
{
	struct object_list l = { 0 };
	uint32_t id, t;
	size_t i;

	if (detail) {
		struct attr_u32 a[2] = { { KIPC_A_ID, 0 }, { KIPC_A_TYPE, o->type } };
		struct request r = { .handle = collect_object, .arg = &l };
		int err;

		if (!parse_id(detail, &id))
			die("invalid id '%s'", detail);
		a[0].value = id;
		err = request(KIPC_CMD_GET, false, a, o->type ? 2 : 1, NULL, &r);
		if (err == -ENOENT)
			die("no object with id %" PRIu32, id);
		if (err || l.n != 1)
			die("cannot get object %" PRIu32 ": %s", id,
			    req_error(&r, err ? err : -EPROTO));
		if (o->json) {
			print_json_object(&l.v[0]);
			putchar('\n');
		} else {
			print_detail(&l.v[0], o->numeric);
		}
		free(l.v);
		return 0;
	}

	dump_objects(o->type, &l);
	if (o->json) {
		putchar('[');
		for (i = 0; i < l.n; i++) {
			printf(i ? ",\n " : "");
			print_json_object(&l.v[i]);
		}
		printf("]\n");
	} else {
		for (t = KIPC_TYPE_QUEUE; t < KIPC_TYPE_COUNT; t++)
			if (!o->type || o->type == t)
				print_table(t, &l, o->numeric);
	}
	free(l.v);
	return 0;
}

static int remove_one(const struct options *o, const char *arg)
{
	struct attr_u32 a[2];
	struct request r = { 0 };
	const char *name = NULL;
	size_t n = 0;
	uint32_t id;
	int err;

	if (parse_id(arg, &id)) {
		a[n++] = (struct attr_u32){ KIPC_A_ID, id };
		if (o->type)
			a[n++] = (struct attr_u32){ KIPC_A_TYPE, o->type };
	} else if (o->type) {
		a[n++] = (struct attr_u32){ KIPC_A_TYPE, o->type };
		name = arg;
	} else {
		/* Names are per type: find which type holds this one. */
		struct object_list l = { 0 };
		struct object *found = NULL;
		size_t i;

		dump_objects(0, &l);
		for (i = 0; i < l.n; i++) {
			if (!l.v[i].named || strcmp(l.v[i].name, arg))
				continue;
			if (found) {
				free(l.v);
				warnx("%s: several objects have this name; choose one with -q, -m or -s",
				      arg);
				return 1;
			}
			found = &l.v[i];
		}
		if (!found) {
			free(l.v);
			warnx("%s: no object of this name", arg);
			return 1;
		}
		a[n++] = (struct attr_u32){ KIPC_A_ID, found->id };
		a[n++] = (struct attr_u32){ KIPC_A_TYPE, found->type };
		free(l.v);
	}

	err = request(KIPC_CMD_REMOVE, false, a, n, name, &r);
	switch (err) {
	case 0:
		return 0;
	case -ENOENT:
		warnx("%s: no such object", arg);
		break;
	case -EPERM:
		warnx("%s: permission denied: only the owner, the creator or CAP_SYS_ADMIN may remove it",
		      arg);
		break;
	default:
		warnx("%s: %s", arg, req_error(&r, err));
		break;
	}
	return 1;
}

static int cmd_rm(const struct options *o, int argc, char **argv)
{
	int i, ret = 0;

	if (!argc)
		die("rm: which object? (kipcs rm ID|NAME...)");
	for (i = 0; i < argc; i++)
		ret |= remove_one(o, argv[i]);
	return ret;
}

/* Statistics */

struct stat_val {
	int attr;
	const char *key;
};

struct tstat_val {
	int attr;
	const char *key;
	uint32_t type;			/* numbers of one type only; 0: of all */
};

static const struct stat_val stat_vals[] = {
	{ KIPC_STATS_A_OBJECTS, "objects" },
	{ KIPC_STATS_A_MSGS, "msgs" },
	{ KIPC_STATS_A_BYTES, "bytes" },
	{ KIPC_STATS_A_NAMESPACES, "namespaces" },
	{ KIPC_STATS_A_USER_OBJECTS, "user_objects" },
	{ KIPC_STATS_A_USER_BYTES, "user_bytes" },
	{ KIPC_STATS_A_MAX_OBJECTS, "max_objects" },
	{ KIPC_STATS_A_MAX_USER_OBJECTS, "max_user_objects" },
	{ KIPC_STATS_A_MAX_USER_BYTES, "max_user_bytes" },
	{ KIPC_STATS_A_MAX_MSGSIZE, "max_msgsize" },
	{ KIPC_STATS_A_MAX_QUEUE_MSGS, "max_queue_msgs" },
	{ KIPC_STATS_A_MAX_QUEUE_BYTES, "max_queue_bytes" },
	{ KIPC_STATS_A_MAX_REGION_SIZE, "max_region_size" },
	{ KIPC_STATS_A_MAX_NSEMS, "max_nsems" },
};

static const struct tstat_val tstat_vals[] = {
	{ KIPC_TSTATS_A_OBJECTS, "objects", 0 },
	{ KIPC_TSTATS_A_CREATED, "created", 0 },
	{ KIPC_TSTATS_A_REMOVED, "removed", 0 },
	{ KIPC_QSTATS_A_SENT, "sent", KIPC_TYPE_QUEUE },
	{ KIPC_QSTATS_A_RECEIVED, "received", KIPC_TYPE_QUEUE },
	{ KIPC_QSTATS_A_FULL, "full", KIPC_TYPE_QUEUE },
	{ KIPC_RSTATS_A_MAPS, "maps", KIPC_TYPE_REGION },
	{ KIPC_SSTATS_A_OPS, "ops", KIPC_TYPE_SEM },
	{ KIPC_SSTATS_A_WAITS, "waits", KIPC_TYPE_SEM },
};

/* The highest attribute of any type's statistics nest. */
#define TSTATS_MAX	(KIPC_TSTATS_A_TYPE_BASE + 15)

static const struct {
	int attr;
	uint32_t type;
} stat_types[] = {
	{ KIPC_STATS_A_QUEUE, KIPC_TYPE_QUEUE },
	{ KIPC_STATS_A_REGION, KIPC_TYPE_REGION },
	{ KIPC_STATS_A_SEM, KIPC_TYPE_SEM },
};

static int print_stats(struct nlattr **top, void *arg)
{
	const struct options *o = arg;
	struct nlattr *tb[KIPC_STATS_A_MAX + 1];
	struct nlattr *tt[TSTATS_MAX + 1];
	bool first_type = true;
	size_t i, j;

	if (!top[KIPC_A_STATS] ||
	    nla_parse_nested(tb, KIPC_STATS_A_MAX, top[KIPC_A_STATS], NULL))
		return NL_SKIP;
	printf(o->json ? "{\"version\": %" PRIu32 : "version: %" PRIu32 "\n",
	       attr_u32(tb[KIPC_STATS_A_VERSION]));
	for (i = 0; i < sizeof(stat_vals) / sizeof(stat_vals[0]); i++) {
		struct nlattr *a = tb[stat_vals[i].attr];

		if (a)
			printf(o->json ? ", \"%s\": %" PRIu64 : "%s: %" PRIu64 "\n",
			       stat_vals[i].key, attr_u64(a));
	}
	if (o->json)
		printf(", \"types\": {");
	for (i = 0; i < sizeof(stat_types) / sizeof(stat_types[0]); i++) {
		const char *tname = type_name(stat_types[i].type);
		bool first = true;

		if (!tb[stat_types[i].attr] ||
		    nla_parse_nested(tt, TSTATS_MAX, tb[stat_types[i].attr],
				     NULL))
			continue;
		if (o->json)
			printf("%s\"%s\": {", first_type ? "" : ", ", tname);
		first_type = false;
		for (j = 0; j < sizeof(tstat_vals) / sizeof(tstat_vals[0]); j++) {
			struct nlattr *a = tt[tstat_vals[j].attr];

			/* Numbers past the common ones belong to one type. */
			if (!a || (tstat_vals[j].type &&
				   stat_types[i].type != tstat_vals[j].type))
				continue;
			if (o->json)
				printf("%s\"%s\": %" PRIu64, first ? "" : ", ",
				       tstat_vals[j].key, attr_u64(a));
			else
				printf("%s.%s: %" PRIu64 "\n", tname,
				       tstat_vals[j].key, attr_u64(a));
			first = false;
		}
		if (o->json)
			putchar('}');
	}
	if (o->json)
		printf("}}\n");
	return NL_OK;
}

static int cmd_stats(struct options *o)
{
	struct request r = { .handle = print_stats, .arg = o };
	int err;

	err = request(KIPC_CMD_STATS, false, NULL, 0, NULL, &r);
	if (err)
		die("cannot get statistics: %s", req_error(&r, err));
	return 0;
}

/* Events */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct watch {
	const struct options *o;
	unsigned long ipc_ns;		/* ours, from /proc/self/ns/ipc */
	long seen;
};

static const char *event_name(uint32_t ev)
{
	static const char *const names[] = {
		[KIPC_EVENT_CREATED] = "created",
		[KIPC_EVENT_UNLINKED] = "unlinked",
		[KIPC_EVENT_REMOVED] = "removed",
		[KIPC_EVENT_DESTROYED] = "destroyed",
		[KIPC_EVENT_QUEUE_FULL] = "queue-full",
		[KIPC_EVENT_WAITERS_WOKEN] = "waiters-woken",
	};

	if (ev < sizeof(names) / sizeof(names[0]) && names[ev])
		return names[ev];
	return "unknown";
}

static int print_event(struct nlattr **tb, void *arg)
{
	struct watch *w = arg;
	uint32_t ns = attr_u32(tb[KIPC_A_IPC_NS]);
	char when[64];
	struct timespec now;
	struct tm tm;

	if (!tb[KIPC_A_EVENT] || (!w->o->all_ns && ns != w->ipc_ns))
		return NL_OK;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (w->o->json) {
		printf("{\"time_ns\": %lld, \"event\": \"%s\", \"type\": \"%s\", \"id\": %" PRIu32
		       ", \"name\": ",
		       (long long)now.tv_sec * 1000000000LL + now.tv_nsec,
		       event_name(attr_u32(tb[KIPC_A_EVENT])),
		       type_name(attr_u32(tb[KIPC_A_TYPE])), attr_u32(tb[KIPC_A_ID]));
		if (tb[KIPC_A_NAME])
			json_string(nla_data(tb[KIPC_A_NAME]));
		else
			printf("null");
		printf(", \"pid\": %" PRId32 ", \"ipc_ns\": %" PRIu32,
		       (int32_t)attr_u32(tb[KIPC_A_PID]), ns);
		if (tb[KIPC_A_WAITERS])
			printf(", \"waiters\": %" PRIu32, attr_u32(tb[KIPC_A_WAITERS]));
		printf("}\n");
	} else {
		printf("%s.%03ld %-13s %-6s id=%" PRIu32, when, now.tv_nsec / 1000000,
		       event_name(attr_u32(tb[KIPC_A_EVENT])),
		       type_name(attr_u32(tb[KIPC_A_TYPE])), attr_u32(tb[KIPC_A_ID]));
		if (tb[KIPC_A_NAME])
			printf(" name=%s", (const char *)nla_data(tb[KIPC_A_NAME]));
		printf(" pid=%" PRId32, (int32_t)attr_u32(tb[KIPC_A_PID]));
		if (tb[KIPC_A_WAITERS])
			printf(" waiters=%" PRIu32, attr_u32(tb[KIPC_A_WAITERS]));
		if (w->o->all_ns)
			printf(" ipc_ns=%" PRIu32, ns);
		putchar('\n');
	}
	fflush(stdout);
	w->seen++;
	if (w->o->count > 0 && w->seen >= w->o->count)
		stop = 1;
	return NL_OK;
}

static int cmd_watch(const struct options *o)
{
	struct watch w = { .o = o };
	struct request r = { .handle = print_event, .arg = &w };
	struct sigaction sa;
	struct pollfd pfd;
	struct stat st;
	struct nl_cb *cb;
	int grp, ret;

	if (stat("/proc/self/ns/ipc", &st) && !o->all_ns)
		die("cannot tell this IPC namespace (is /proc mounted?); use --all");
	w.ipc_ns = st.st_ino;

	grp = genl_ctrl_resolve_grp(sk, KIPC_GENL_NAME, KIPC_GENL_MCGRP_EVENTS);
	if (grp < 0)
		die("the kipc module has no events group: %s", nl_geterror(grp));
	ret = nl_socket_add_membership(sk, grp);
	if (ret == -NLE_PERM)
		die("watching events needs CAP_SYS_ADMIN (in the initial namespaces)");
	if (ret < 0)
		die("cannot join the events group: %s", nl_geterror(ret));
	nl_socket_disable_seq_check(sk);
	nl_socket_set_buffer_size(sk, 1 << 20, 0);

	cb = nl_cb_alloc(NL_CB_CUSTOM);
	if (!cb)
		die("out of memory");
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &r);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	pfd.fd = nl_socket_get_fd(sk);
	pfd.events = POLLIN;
	while (!stop) {
		ret = poll(&pfd, 1, -1);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		ret = nl_recvmsgs(sk, cb);
		if (ret == -NLE_NOMEM || ret == -NLE_MSG_OVERFLOW)
			warnx("events were lost: the receive buffer overflowed");
		else if (ret < 0 && ret != -NLE_AGAIN && ret != -NLE_INTR)
			die("netlink receive failed: %s", nl_geterror(ret));
	}
	nl_cb_put(cb);
	return 0;
}

static bool is_command(const char *s)
{
	return !strcmp(s, "list") || !strcmp(s, "rm") || !strcmp(s, "watch") ||
	       !strcmp(s, "stats");
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-q|-m|-s] [-n] [--json] [-i ID]   list objects, or show one\n"
		"       %s rm [-q|-m|-s] ID|NAME...           remove objects (IPC_RMID)\n"
		"       %s watch [--count N] [--all] [--json] print events as they happen\n"
		"       %s stats [--json]                     module-wide statistics\n"
		"\n"
		"  -q, --queues      message queues only\n"
		"  -m, --regions     shared regions only\n"
		"  -s, --semaphores  semaphore sets only\n"
		"  -i, --id ID       details of one object\n"
		"  -n, --numeric     numeric user and group ids\n"
		"  -j, --json        JSON output\n"
		"  -c, --count N     watch: stop after N events\n"
		"  -A, --all         watch: events of every IPC namespace\n"
		"  -h, --help        this help\n",
		prog, prog, prog, prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "queues", no_argument, NULL, 'q' },
		{ "regions", no_argument, NULL, 'm' },
		{ "semaphores", no_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { 0 };
	const char *detail = NULL, *cmd = "list";
	char *end;
	int c, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A command may come before the options ("kipcs rm -q 3") ... */
	if (argc > 1 && is_command(argv[1])) {
		cmd = argv[1];
		argv++;
		argc--;
	}
	while ((c = getopt_long(argc, argv, "qmsi:njc:Ah", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o.type = KIPC_TYPE_QUEUE;
			break;
		case 'm':
			o.type = KIPC_TYPE_REGION;
			break;
		case 's':
			o.type = KIPC_TYPE_SEM;
			break;
		case 'i':
			detail = optarg;
			break;
		case 'n':
			o.numeric = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'c':
			errno = 0;
			o.count = strtol(optarg, &end, 10);
			if (errno || *end || o.count <= 0)
				die("invalid count '%s'", optarg);
			break;
		case 'A':
			o.all_ns = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	/* ... or after them ("kipcs -q rm 3"). */
	if (!strcmp(cmd, "list") && argc) {
		if (!is_command(argv[0])) {
			warnx("unknown command '%s'", argv[0]);
			usage(stderr);
			return 2;
		}
		cmd = argv[0];
		argv++;
		argc--;
	}
	if (strcmp(cmd, "rm") && argc) {
		warnx("unexpected argument '%s'", argv[0]);
		usage(stderr);
		return 2;
	}

	connect_kipc();
	if (!strcmp(cmd, "rm"))
		ret = cmd_rm(&o, argc, argv);
	else if (!strcmp(cmd, "watch"))
		ret = cmd_watch(&o);
	else if (!strcmp(cmd, "stats"))
		ret = cmd_stats(&o);
	else
		ret = cmd_list(&o, detail);
	nl_socket_free(sk);
	return ret;
}
