/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink over a raw socket, for tests that build requests byte by
 * byte (malformed ones included) and look at replies byte by byte (padding,
 * attributes nobody asked for).  No libnl: every byte sent and received is
 * the test's own.  Functions return -errno, like kipc_test.h.
 */
#ifndef KIPC_RAWNL_H
#define KIPC_RAWNL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <linux/kipc.h>

#define RNL_BUFSIZE	65536

struct rnl {
	int fd;
	uint16_t family;		/* the kipc family's id */
	uint32_t seq;
	uint32_t portid;
	int timeout_ms;			/* for each reply */
};

/* A message under construction. */
struct rnl_msg {
	size_t len;
	uint8_t buf[8192];
};

static inline struct nlmsghdr *rnl_hdr(struct rnl_msg *m)
{
	return (struct nlmsghdr *)m->buf;
}

/* Start a message: netlink and genetlink headers. */
static inline void rnl_start(struct rnl *r, struct rnl_msg *m, uint16_t type,
			     uint16_t flags, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = rnl_hdr(m);
	struct genlmsghdr *g = NLMSG_DATA(nlh);

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = ++r->seq;
	g->cmd = cmd;
	g->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	nlh->nlmsg_len = m->len;
}

/* Append an attribute of @len payload bytes; false when full. */
static inline bool rnl_put(struct rnl_msg *m, uint16_t type, const void *data,
			   uint16_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);
	size_t total = NLA_ALIGN(NLA_HDRLEN + (size_t)len);

	if (m->len + total > sizeof(m->buf))
		return false;
	memset(a, 0, total);
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	m->len += total;
	rnl_hdr(m)->nlmsg_len = m->len;
	return true;
}

static inline bool rnl_put_u32(struct rnl_msg *m, uint16_t type, uint32_t v)
{
	return rnl_put(m, type, &v, sizeof(v));
}

static inline bool rnl_put_str(struct rnl_msg *m, uint16_t type, const char *s)
{
	return rnl_put(m, type, s, strlen(s) + 1);
}

/* Open a nest; rnl_nest_end() fixes its length. */
static inline size_t rnl_nest_start(struct rnl_msg *m, uint16_t type)
{
	size_t off = m->len;

	if (!rnl_put(m, type | NLA_F_NESTED, NULL, 0))
		return (size_t)-1;
	return off;
}

static inline void rnl_nest_end(struct rnl_msg *m, size_t off)
{
	if (off != (size_t)-1)
		((struct nlattr *)(m->buf + off))->nla_len = m->len - off;
}

static inline int rnl_send_raw(struct rnl *r, const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n;

	do {
		n = sendto(r->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return 0;
}

static inline int rnl_send(struct rnl *r, struct rnl_msg *m)
{
	return rnl_send_raw(r, m->buf, m->len);
}

/*
 * One datagram; -errno, or -ETIMEDOUT once the socket's timeout passes
 * (signals do not restart the clock).
 */
static inline ssize_t rnl_recv(struct rnl *r, void *buf, size_t len)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	struct timespec start, now;
	ssize_t n;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		n = recv(r->fd, buf, len, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = r->timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 +
					(now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
		poll(&pfd, 1, (int)left);
	}
}

/* Called for each data message of a reply; nonzero stops (and is returned). */
typedef int (*rnl_cb)(const struct nlmsghdr *nlh, void *arg);

/*
 * Read replies to request @seq until its acknowledgement, error or the end
 * of its dump.  Messages of other requests are skipped.  Returns the
 * kernel's -errno (0 for success), or -ETIMEDOUT / -EPROTO on trouble.
 */
static inline int rnl_wait(struct rnl *r, uint32_t seq, rnl_cb cb, void *arg)
{
	static __thread uint8_t buf[RNL_BUFSIZE];
	ssize_t n;

	for (;;) {
		struct nlmsghdr *nlh;
		int len;

		n = rnl_recv(r, buf, sizeof(buf));
		if (n < 0)
			return (int)n;
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(nlh), sizeof(int));
				return err;
			}
			if (cb) {
				int ret = cb(nlh, arg);

				if (ret)
					return ret;
			}
		}
	}
}

/* Send @m and wait for its outcome. */
static inline int rnl_xfer(struct rnl *r, struct rnl_msg *m, rnl_cb cb,
			   void *arg)
{
	int ret = rnl_send(r, m);

	if (ret)
		return ret;
	return rnl_wait(r, rnl_hdr(m)->nlmsg_seq, cb, arg);
}

struct rnl_family_arg {
	const char *name;
	int id;
};

static inline int rnl_family_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct rnl_family_arg *f = arg;
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	int len = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	const struct nlattr *a = (const void *)((const uint8_t *)g + GENL_HDRLEN);

	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID &&
		    a->nla_len >= NLA_HDRLEN + 2)
			f->id = *(const uint16_t *)((const uint8_t *)a + NLA_HDRLEN);
		len -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const uint8_t *)a + NLA_ALIGN(a->nla_len));
	}
	return 0;
}

/* Resolve a generic netlink family by name: its id, or -errno. */
static inline int rnl_resolve(struct rnl *r, const char *name)
{
	struct rnl_family_arg f = { .name = name, .id = -ENOENT };
	struct rnl_msg m;
	int ret;

	rnl_start(r, &m, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK,
		  CTRL_CMD_GETFAMILY, 1);
	rnl_put_str(&m, CTRL_ATTR_FAMILY_NAME, name);
	ret = rnl_xfer(r, &m, rnl_family_cb, &f);
	if (ret)
		return ret;
	return f.id;
}

/* A socket on the kipc family, with a receive timeout of @timeout_ms. */
static inline int rnl_open(struct rnl *r, int timeout_ms)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);
	int one = 1, ret;

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (r->fd < 0)
		return -errno;
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(r->fd, (struct sockaddr *)&sa, &salen)) {
		ret = -errno;
		close(r->fd);
		return ret;
	}
	/* Extended acks would only make error messages longer. */
	setsockopt(r->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	r->portid = sa.nl_pid;
	r->timeout_ms = timeout_ms;
	r->seq = (uint32_t)getpid() << 12;
	ret = rnl_resolve(r, KIPC_GENL_NAME);
	if (ret < 0) {
		close(r->fd);
		return ret;
	}
	r->family = (uint16_t)ret;
	return 0;
}

static inline void rnl_close(struct rnl *r)
{
	close(r->fd);
}

/* The payload of a genetlink message: its first attribute and length. */
static inline const struct nlattr *rnl_attrs(const struct nlmsghdr *nlh,
					     int *len)
{
	*len = (int)nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	return (const void *)((const uint8_t *)NLMSG_DATA(nlh) + GENL_HDRLEN);
}

#define rnl_for_each_attr(a, head, len, rem)				\
	for ((a) = (head), (rem) = (len);				\
	     (rem) >= NLA_HDRLEN && (a)->nla_len >= NLA_HDRLEN &&	\
	     (a)->nla_len <= (rem);					\
	     (rem) -= NLA_ALIGN((a)->nla_len),				\
	     (a) = (const void *)((const uint8_t *)(a) + NLA_ALIGN((a)->nla_len)))

static inline const void *rnl_data(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static inline int rnl_payload_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/*
 * Checking replies of the kipc family.  The lengths every attribute must
 * have (0 for a nest or a string), per attribute space; -1: not allowed.
 */
#define RNL_STR		0xfffe
#define RNL_NEST	0xfffd
#define RNL_NO		0

static inline uint16_t rnl_kipc_attr_len(int space, int type)
{
	switch (space) {
	case 0:		/* KIPC_A_* */
		switch (type) {
		case KIPC_A_PAD:	return 0xffff;
		case KIPC_A_TYPE: case KIPC_A_ID: case KIPC_A_UID:
		case KIPC_A_GID: case KIPC_A_CUID: case KIPC_A_CGID:
		case KIPC_A_MODE: case KIPC_A_FLAGS: case KIPC_A_CPID:
		case KIPC_A_NFDS: case KIPC_A_EVENT: case KIPC_A_PID:
		case KIPC_A_IPC_NS: case KIPC_A_WAITERS:
			return 4;
		case KIPC_A_CTIME:	return 8;
		case KIPC_A_NAME:	return RNL_STR;
		case KIPC_A_QUEUE: case KIPC_A_REGION: case KIPC_A_SEM:
		case KIPC_A_STATS: case KIPC_A_RING:
			return RNL_NEST;
		}
		return RNL_NO;
	case KIPC_A_QUEUE:
		if (type == KIPC_QUEUE_A_PAD)
			return 0xffff;
		if (type >= KIPC_QUEUE_A_MSGS && type <= KIPC_QUEUE_A_RTIME)
			return 8;
		if (type >= KIPC_QUEUE_A_LSPID && type <= KIPC_QUEUE_A_NOTIFY_PID)
			return 4;
		return RNL_NO;
	case KIPC_A_REGION:
		if (type == KIPC_REGION_A_PAD)
			return 0xffff;
		if (type >= KIPC_REGION_A_SIZE && type <= KIPC_REGION_A_NWRITABLE)
			return 8;
		if (type == KIPC_REGION_A_SEALS || type == KIPC_REGION_A_LPID)
			return 4;
		if (type == KIPC_REGION_A_ATIME || type == KIPC_REGION_A_DTIME)
			return 8;
		return RNL_NO;
	case KIPC_A_SEM:
		if (type == KIPC_SEM_A_PAD)
			return 0xffff;
		if (type >= KIPC_SEM_A_NSEMS && type <= KIPC_SEM_A_MAPPED)
			return 4;
		if (type == KIPC_SEM_A_OTIME)
			return 8;
		return RNL_NO;
	case KIPC_A_RING:
		if (type == KIPC_RING_A_PAD)
			return 0xffff;
		if (type == KIPC_RING_A_SLOTS || type == KIPC_RING_A_SLOT_SIZE)
			return 4;
		if (type >= KIPC_RING_A_MAP_SIZE && type <= KIPC_RING_A_ROOM_WAITERS)
			return 8;
		return RNL_NO;
	case KIPC_A_STATS:
		if (type == KIPC_STATS_A_PAD)
			return 0xffff;
		if (type == KIPC_STATS_A_VERSION)
			return 4;
		if (type >= KIPC_STATS_A_OBJECTS && type <= KIPC_STATS_A_USER_BYTES)
			return 8;
		if (type >= KIPC_STATS_A_QUEUE && type <= KIPC_STATS_A_RING)
			return RNL_NEST;
		return RNL_NO;
	case 0x100 + KIPC_STATS_A_QUEUE:
	case 0x100 + KIPC_STATS_A_REGION:
	case 0x100 + KIPC_STATS_A_SEM:
	case 0x100 + KIPC_STATS_A_RING:
		if (type == KIPC_TSTATS_A_PAD)
			return 0xffff;
		if (type >= KIPC_TSTATS_A_OBJECTS && type <= KIPC_TSTATS_A_REMOVED)
			return 8;
		if (space == 0x100 + KIPC_STATS_A_QUEUE &&
		    type >= KIPC_TSTATS_A_TYPE_BASE && type <= KIPC_QSTATS_A_MAX)
			return 8;
		if (space == 0x100 + KIPC_STATS_A_REGION &&
		    type >= KIPC_TSTATS_A_TYPE_BASE && type <= KIPC_RSTATS_A_MAX)
			return 8;
		if (space == 0x100 + KIPC_STATS_A_SEM &&
		    type >= KIPC_TSTATS_A_TYPE_BASE && type <= KIPC_SSTATS_A_MAX)
			return 8;
		return RNL_NO;
	}
	return RNL_NO;
}

/* Looks like a kernel address: the top 16 bits all ones, the rest not. */
static inline bool rnl_kernel_ptr_like(uint64_t v)
{
	return (v >> 48) == 0xffff && v != UINT64_MAX &&
	       (v & 0xffffffff00000000ull) != 0xffffffff00000000ull;
}

/*
 * Walk the attributes of @space at @a: every one known and of its length,
 * every padding byte zero, no value shaped like a kernel pointer.  Returns
 * 0, or -1 with the reason in @why.
 */
static inline int rnl_check_attrs(int space, const struct nlattr *head, int len,
				  char *why, size_t whylen)
{
	const struct nlattr *a;
	int rem;

	rnl_for_each_attr(a, head, len, rem) {
		int type = a->nla_type & NLA_TYPE_MASK;
		int plen = rnl_payload_len(a);
		uint16_t want = rnl_kipc_attr_len(space, type);
		const uint8_t *p = rnl_data(a);
		int i;

		if (want == RNL_NO) {
			snprintf(why, whylen, "space %#x: unknown attribute %d",
				 space, type);
			return -1;
		}
		if (!!(a->nla_type & NLA_F_NESTED) != (want == RNL_NEST)) {
			snprintf(why, whylen, "space %#x: attribute %d nest flag",
				 space, type);
			return -1;
		}
		for (i = a->nla_len; i < NLA_ALIGN(a->nla_len) && i < rem; i++)
			if (((const uint8_t *)a)[i]) {
				snprintf(why, whylen,
					 "space %#x: attribute %d: padding byte %d is %#x",
					 space, type, i,
					 ((const uint8_t *)a)[i]);
				return -1;
			}
		if (want == RNL_NEST) {
			if (rnl_check_attrs(space ? 0x100 + type : type, rnl_data(a),
					    plen, why, whylen))
				return -1;
			continue;
		}
		if (want == RNL_STR) {
			if (plen < 1 || plen > KIPC_NAME_MAX + 1 || p[plen - 1] ||
			    strlen((const char *)p) != (size_t)plen - 1) {
				snprintf(why, whylen, "space %#x: bad string %d",
					 space, type);
				return -1;
			}
			continue;
		}
		if (want == 0xffff) {		/* padding attribute */
			if (plen != 0) {
				snprintf(why, whylen, "space %#x: pad of %d bytes",
					 space, plen);
				return -1;
			}
			continue;
		}
		if (plen != want) {
			snprintf(why, whylen, "space %#x: attribute %d has %d bytes",
				 space, type, plen);
			return -1;
		}
		if (want == 8) {
			uint64_t v;

			memcpy(&v, p, 8);
			if (rnl_kernel_ptr_like(v)) {
				snprintf(why, whylen,
					 "space %#x: attribute %d = %#llx",
					 space, type, (unsigned long long)v);
				return -1;
			}
		}
	}
	if (rem != 0 && rem >= NLA_HDRLEN) {
		snprintf(why, whylen, "space %#x: %d bytes left over", space, rem);
		return -1;
	}
	return 0;
}

/* A reply of the kipc family: known command, clean attributes. */
static inline int rnl_check_kipc_reply(const struct rnl *r,
				       const struct nlmsghdr *nlh,
				       char *why, size_t whylen)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const struct nlattr *a;
	int len;

	if (nlh->nlmsg_type != r->family ||
	    nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
		snprintf(why, whylen, "message type %u, length %u",
			 nlh->nlmsg_type, nlh->nlmsg_len);
		return -1;
	}
	if ((g->cmd != KIPC_CMD_GET && g->cmd != KIPC_CMD_STATS) ||
	    g->reserved) {
		snprintf(why, whylen, "command %u, reserved %u", g->cmd,
			 g->reserved);
		return -1;
	}
	a = rnl_attrs(nlh, &len);
	return rnl_check_attrs(0, a, len, why, whylen);
}

/*
 * KIPC_CMD_REMOVE over a socket of its own: by @type and @name, or by @id
 * when @name is NULL.  0 or -errno, as the kernel acked it.
 */
static inline int rnl_remove(uint32_t type, uint32_t id, const char *name)
{
	struct rnl nl;
	struct rnl_msg m;
	int ret = rnl_open(&nl, 5000);

	if (ret)
		return ret;
	rnl_start(&nl, &m, nl.family, NLM_F_REQUEST | NLM_F_ACK,
		  KIPC_CMD_REMOVE, KIPC_GENL_VERSION);
	if (name) {
		rnl_put_u32(&m, KIPC_A_TYPE, type);
		rnl_put_str(&m, KIPC_A_NAME, name);
	} else {
		rnl_put_u32(&m, KIPC_A_ID, id);
	}
	ret = rnl_xfer(&nl, &m, NULL, NULL);
	rnl_close(&nl);
	return ret;
}

#endif /* KIPC_RAWNL_H */
