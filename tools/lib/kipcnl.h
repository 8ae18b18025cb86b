/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipcnl: a small client of the kipc generic netlink family over
 * libnl-genl-3, shared by kipcs(8) and the selftests (netlink_test,
 * chaos_test).  A static library of the tree's own, not part of libkipc:
 * nothing here is installed.  selftests/kipc/kipc_rawnl.h stays apart on
 * purpose: it builds malformed requests byte by byte, which this does not.
 *
 * Every call returns 0 or -errno, the kernel's own error for a request,
 * so that a test can assert the exact error and a tool can word it:
 * ASSERT_EQ(-EPERM, knl_remove(...)).  The kernel's extended ack message
 * of the last failed request, if it sent one, is in knl.ext_msg.
 */
#ifndef KIPCNL_H
#define KIPCNL_H

#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kipc.h>

struct knl {
	struct nl_sock *sk;
	int family;
	char ext_msg[256];		/* the last error's extended ack */
};

/* Open a socket on the family: -ENOENT if the module is not loaded. */
int knl_open(struct knl *k);
void knl_close(struct knl *k);

/* A request with its header; attributes are the caller's to add. */
struct nl_msg *knl_msg(struct knl *k, uint8_t cmd, bool dump);

/*
 * Send @msg (freed here, NULL is -ENOMEM) and pass each reply to @handle
 * (NULL: ignore them) until the acknowledgement or the end of the dump.
 * Returns the kernel's -errno, or 0; -EPROTO if the exchange broke off.
 */
int knl_xfer(struct knl *k, struct nl_msg *msg,
	     int (*handle)(struct nl_msg *msg, void *arg), void *arg);

/* The top-level attributes of a reply into @tb: 0, or -EINVAL. */
int knl_attrs(struct nl_msg *msg, struct nlattr *tb[KIPC_A_MAX + 1]);

/* Attribute readers that take a short or missing attribute as 0. */
static inline uint64_t knl_u64(const struct nlattr *a)
{
	if (!a)
		return 0;
	if (nla_len(a) >= 8)
		return nla_get_u64((struct nlattr *)a);
	return nla_len(a) >= 4 ? nla_get_u32((struct nlattr *)a) : 0;
}

static inline uint32_t knl_u32(const struct nlattr *a)
{
	return a && nla_len(a) >= 4 ? nla_get_u32((struct nlattr *)a) : 0;
}

/*
 * An object as KIPC_CMD_GET reports it; its type's part, parsed by the
 * rows of <linux/kipc_stat.h>, in the struct of the UAPI, if has_<type>.
 */
struct knl_obj {
	uint32_t type, id, uid, gid, cuid, cgid, mode, flags, nfds;
	int32_t cpid;
	int64_t ctime;
	bool named;
	char name[KIPC_NAME_MAX + 1];
	bool has_queue, has_region, has_sem, has_ring;
	struct kipc_queue_stat queue;
	struct kipc_region_stat region;
	struct kipc_sem_stat sem;
	struct kipc_ring_stat ring;
};

void knl_parse_obj(struct nlattr **tb, struct knl_obj *o);

/* A dump's objects, and what it took. */
struct knl_objs {
	struct knl_obj *v;
	size_t n, cap;
	size_t nmsgs;			/* netlink messages received */
	size_t bytes;			/* their total size */
	/* Called for each object as it arrives, e.g. to change things mid-dump. */
	void (*each)(struct knl_objs *l, void *arg);
	void *arg;
};

/* A knl_xfer() handler that appends each object to a struct knl_objs. */
int knl_collect(struct nl_msg *msg, void *arg);
void knl_objs_free(struct knl_objs *l);
struct knl_obj *knl_find(struct knl_objs *l, uint32_t id);

/* Dump the objects of the caller's namespace (of @type, unless 0). */
int knl_dump(struct knl *k, uint32_t type, struct knl_objs *l);

/* Get one object (of @type, unless 0): 0 and @o filled, or -errno. */
int knl_get(struct knl *k, uint32_t type, uint32_t id, struct knl_obj *o);

/* Remove by @name within @type, or with a NULL @name by @id. */
int knl_remove(struct knl *k, uint32_t type, uint32_t id, const char *name);

/* Join the events group: 0, -EPERM, or -ENOENT without one. */
int knl_subscribe(struct knl *k);

struct knl_event {
	uint32_t event, type, id, ipc_ns, waiters;
	int32_t pid;
	bool named, has_waiters;
	char name[KIPC_NAME_MAX + 1];
};

/*
 * The next event, waiting up to @ms (-1: for ever); with @id nonzero,
 * events of other objects are skipped.  0; -ETIMEDOUT; -EINTR (a signal);
 * -ENOBUFS when events were lost to a full receive buffer.
 */
int knl_next_event(struct knl *k, uint32_t id, int ms, struct knl_event *e);

#endif /* KIPCNL_H */
