// SPDX-License-Identifier: GPL-2.0
/*
 * The kipc generic netlink family: dumps and gets agree with what exists,
 * statistics, removal and its permissions, IPC namespace isolation, events
 * and their order, strict validation of malformed requests, dumps that span
 * many messages while objects come and go, and the kipcs(8) tool.
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"
#include "kipcnl.h"
#include "kipc_sem.h"

FIXTURE(nl) {
	int dev;
	struct knl k;
};

FIXTURE_SETUP(nl)
{
	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, knl_open(&self->k)) TH_LOG("kipc netlink family missing");
}

FIXTURE_TEARDOWN(nl)
{
	knl_close(&self->k);
	close(self->dev);
}

static pid_t name_pid;

static void __attribute__((constructor)) init_name_pid(void)
{
	name_pid = getpid();
}

/* A name no other test or run uses, the same in a test's children. */
static const char *uname_(const char *what)
{
	static char buf[4][64];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, sizeof(buf[0]), "nl-%s-%d", what, (int)name_pid);
	return b;
}

static int persist_queue(int dev, uint32_t *id)
{
	int fd = kt_queue(dev, NULL, KIPC_O_CREAT | KIPC_O_PERSIST | KIPC_O_RDWR,
			  0600, 1, 16, id);

	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

static int remove_id(int dev, uint32_t id)
{
	return kt_name_req(dev, KIPC_IOC_REMOVE_BY, KIPC_TYPE_QUEUE, NULL, id);
}

TEST_F(nl, dump_lists_what_exists)
{
	uint32_t nid = 0, aid = 0, pid_ = 0;
	struct knl_objs l = { 0 };
	struct knl_obj *o;
	int nq, aq;

	nq = kt_queue(self->dev, uname_("dump"), KIPC_O_CREAT | KIPC_O_EXCL |
		      KIPC_O_RDWR, 0640, 3, 100, &nid);
	ASSERT_LE(0, nq);
	aq = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 5, 64, &aid);
	ASSERT_LE(0, aq);
	ASSERT_EQ(0, persist_queue(self->dev, &pid_));

	ASSERT_EQ(0, knl_dump(&self->k, 0, &l));
	o = knl_find(&l, nid);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(KIPC_TYPE_QUEUE, o->type);
	EXPECT_TRUE(o->named);
	EXPECT_STREQ(uname_("dump"), o->name);
	EXPECT_EQ(KIPC_STAT_NAMED, o->flags);
	EXPECT_EQ(0640, o->mode);
	EXPECT_EQ(geteuid(), o->uid);
	EXPECT_EQ(geteuid(), o->cuid);
	EXPECT_EQ(getegid(), o->gid);
	EXPECT_EQ(getpid(), o->cpid);
	EXPECT_EQ(1, o->nfds);
	EXPECT_TRUE(o->has_queue);
	EXPECT_EQ(3, o->queue.max_msgs);
	EXPECT_EQ(100, o->queue.max_msgsize);
	EXPECT_EQ(300, o->queue.max_bytes);
	EXPECT_NE(0, o->ctime);

	o = knl_find(&l, aid);
	ASSERT_NE(NULL, o);
	EXPECT_FALSE(o->named);
	EXPECT_EQ(0, o->flags);
	EXPECT_EQ(1, o->nfds);
	EXPECT_EQ(5, o->queue.max_msgs);

	o = knl_find(&l, pid_);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(KIPC_STAT_PERSIST, o->flags);
	EXPECT_EQ(0, o->nfds);
	knl_objs_free(&l);

	/* Unlinked but open: listed without a name. */
	ASSERT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_QUEUE, uname_("dump")));
	ASSERT_EQ(0, knl_dump(&self->k, 0, &l));
	o = knl_find(&l, nid);
	ASSERT_NE(NULL, o);
	EXPECT_FALSE(o->named);
	EXPECT_EQ(0, o->flags);
	knl_objs_free(&l);

	/* Closed, removed: gone. */
	close(nq);
	close(aq);
	ASSERT_EQ(0, remove_id(self->dev, pid_));
	ASSERT_EQ(0, knl_dump(&self->k, 0, &l));
	EXPECT_EQ(NULL, knl_find(&l, nid));
	EXPECT_EQ(NULL, knl_find(&l, aid));
	EXPECT_EQ(NULL, knl_find(&l, pid_));
	knl_objs_free(&l);
}

TEST_F(nl, dump_filters_by_type)
{
	struct knl_objs l = { 0 };
	uint32_t id = 0;
	size_t i;
	int q;

	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, knl_dump(&self->k, KIPC_TYPE_QUEUE, &l));
	EXPECT_NE(NULL, knl_find(&l, id));
	for (i = 0; i < l.n; i++)
		EXPECT_EQ(KIPC_TYPE_QUEUE, l.v[i].type);
	knl_objs_free(&l);
	ASSERT_EQ(0, knl_dump(&self->k, KIPC_TYPE_SEM, &l));
	EXPECT_EQ(NULL, knl_find(&l, id));
	knl_objs_free(&l);
	close(q);
}

TEST_F(nl, get_agrees_with_stat_ioctl)
{
	struct kipc_stat st;
	struct knl_obj o;
	char buf[32] = "hello";
	uint32_t id = 0;
	int q;

	q = kt_queue(self->dev, uname_("get"), KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0600, 4, 32, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, buf, 5, 1, 1, 0, NULL));
	ASSERT_EQ(0, kt_send(q, buf, 7, 1, 1, 0, NULL));
	ASSERT_EQ(5, kt_recv(q, buf, sizeof(buf), NULL, 0, 0, NULL));

	ASSERT_EQ(0, knl_get(&self->k, 0, id, &o));
	ASSERT_EQ(0, kt_stat(q, &st));
	EXPECT_EQ(st.id, o.id);
	EXPECT_STREQ(st.name, o.name);
	EXPECT_EQ(st.mode, o.mode);
	EXPECT_EQ(st.flags, o.flags);
	EXPECT_EQ(st.cpid, o.cpid);
	EXPECT_EQ(st.nfds, o.nfds);
	EXPECT_EQ(st.ctime_ns, o.ctime);
	EXPECT_EQ(1, o.queue.msgs);
	EXPECT_EQ(7, o.queue.bytes);
	EXPECT_EQ(2, o.queue.sent);
	EXPECT_EQ(1, o.queue.received);
	EXPECT_EQ(getpid(), o.queue.lspid);
	EXPECT_EQ(getpid(), o.queue.lrpid);

	ASSERT_EQ(0, knl_get(&self->k, KIPC_TYPE_QUEUE, id, &o));
	EXPECT_EQ(-ENOENT, knl_get(&self->k, KIPC_TYPE_SEM, id, &o));
	EXPECT_EQ(-ENOENT, knl_get(&self->k, 0, INT32_MAX, &o));
	EXPECT_EQ(-ENOENT, knl_get(&self->k, 0, UINT32_MAX, &o));
	EXPECT_EQ(-ENOENT, knl_get(&self->k, 0, 0, &o));
	ASSERT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_QUEUE, uname_("get")));
	close(q);
}

struct stats {
	uint32_t version;
	uint64_t objects, max_objects, max_user_objects, user_objects;
	uint64_t q_objects, q_created, q_removed, q_sent, q_received, q_full;
	uint64_t r_objects, r_created, r_maps;
	uint64_t s_objects, s_created, s_ops, s_waits;
};

static int parse_stats(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KIPC_A_MAX + 1], *s[KIPC_STATS_A_MAX + 1];
	struct nlattr *t[KIPC_QSTATS_A_MAX + 1];
	struct stats *st = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KIPC_A_MAX, NULL) < 0 ||
	    !tb[KIPC_A_STATS] ||
	    nla_parse_nested(s, KIPC_STATS_A_MAX, tb[KIPC_A_STATS], NULL) ||
	    !s[KIPC_STATS_A_QUEUE] ||
	    nla_parse_nested(t, KIPC_QSTATS_A_MAX, s[KIPC_STATS_A_QUEUE], NULL))
		return NL_SKIP;
	st->version = knl_u32(s[KIPC_STATS_A_VERSION]);
	st->objects = knl_u64(s[KIPC_STATS_A_OBJECTS]);
	st->max_objects = knl_u64(s[KIPC_STATS_A_MAX_OBJECTS]);
	st->max_user_objects = knl_u64(s[KIPC_STATS_A_MAX_USER_OBJECTS]);
	st->user_objects = knl_u64(s[KIPC_STATS_A_USER_OBJECTS]);
	st->q_objects = knl_u64(t[KIPC_TSTATS_A_OBJECTS]);
	st->q_created = knl_u64(t[KIPC_TSTATS_A_CREATED]);
	st->q_removed = knl_u64(t[KIPC_TSTATS_A_REMOVED]);
	st->q_sent = knl_u64(t[KIPC_QSTATS_A_SENT]);
	st->q_received = knl_u64(t[KIPC_QSTATS_A_RECEIVED]);
	st->q_full = knl_u64(t[KIPC_QSTATS_A_FULL]);
	if (!s[KIPC_STATS_A_REGION] ||
	    nla_parse_nested(t, KIPC_RSTATS_A_MAX, s[KIPC_STATS_A_REGION], NULL))
		return NL_SKIP;
	st->r_objects = knl_u64(t[KIPC_TSTATS_A_OBJECTS]);
	st->r_created = knl_u64(t[KIPC_TSTATS_A_CREATED]);
	st->r_maps = knl_u64(t[KIPC_RSTATS_A_MAPS]);
	if (!s[KIPC_STATS_A_SEM] ||
	    nla_parse_nested(t, KIPC_SSTATS_A_MAX, s[KIPC_STATS_A_SEM], NULL))
		return NL_SKIP;
	st->s_objects = knl_u64(t[KIPC_TSTATS_A_OBJECTS]);
	st->s_created = knl_u64(t[KIPC_TSTATS_A_CREATED]);
	st->s_ops = knl_u64(t[KIPC_SSTATS_A_OPS]);
	st->s_waits = knl_u64(t[KIPC_SSTATS_A_WAITS]);
	return NL_OK;
}

static int get_stats(struct knl *k, struct stats *st)
{
	memset(st, 0, sizeof(*st));
	return knl_xfer(k, knl_msg(k, KIPC_CMD_STATS, false), parse_stats, st);
}

TEST_F(nl, stats_count_objects_and_operations)
{
	struct stats a, b;
	struct kipc_info info;
	char buf[16] = "x";
	uint32_t id = 0;
	int q;

	ASSERT_EQ(0, get_stats(&self->k, &a));
	ASSERT_EQ(0, kt_info(self->dev, &info));
	EXPECT_EQ(KIPC_API_VERSION, a.version);
	EXPECT_EQ(info.max_objects, a.max_objects);
	EXPECT_EQ(info.max_user_objects, a.max_user_objects);

	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, buf, 1, 0, 1, 0, NULL));
	EXPECT_EQ(-EAGAIN, kt_send(q, buf, 1, 0, 1, KIPC_F_NONBLOCK, NULL));
	ASSERT_EQ(1, kt_recv(q, buf, sizeof(buf), NULL, 0, 0, NULL));
	ASSERT_EQ(0, get_stats(&self->k, &b));
	/* Other tests may run at once: counters only grow. */
	EXPECT_LE(a.q_created + 1, b.q_created);
	EXPECT_LE(a.q_sent + 1, b.q_sent);
	EXPECT_LE(a.q_received + 1, b.q_received);
	EXPECT_LE(a.q_full + 1, b.q_full);
	EXPECT_LE(1, b.q_objects);
	EXPECT_LE(b.q_objects, b.objects);
	EXPECT_LE(1, b.user_objects);

	ASSERT_EQ(0, kt_ret(ioctl(q, KIPC_IOC_REMOVE)));
	ASSERT_EQ(0, get_stats(&self->k, &a));
	EXPECT_LE(b.q_removed + 1, a.q_removed);
	close(q);
}

static int new_region(int dev, const char *name, uint64_t size, uint32_t seals,
		      uint32_t *id)
{
	struct kipc_region_attr attr = { .size = size, .seals = seals };
	uint32_t flags = KIPC_O_CREAT | KIPC_O_RDWR;

	if (name)
		flags |= KIPC_O_EXCL;
	return kt_open(dev, KIPC_TYPE_REGION, name, flags, 0600, &attr,
		       sizeof(attr), id);
}

/* A child that maps @fd shared and writable, then waits to be killed. */
static pid_t map_in_child(int fd, size_t len)
{
	int p[2];
	char c = 0;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);

		c = m == MAP_FAILED ? 'n' : 'y';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && (read(p[0], &c, 1) != 1 || c != 'y')) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

TEST_F(nl, region_dump_agrees_with_stat)
{
	struct kipc_stat st;
	struct knl_objs l = { 0 };
	struct knl_obj *o, g;
	uint32_t id = 0;
	pid_t child;
	int r;

	r = new_region(self->dev, uname_("reg"), 10000, KIPC_SEAL_GROW, &id);
	ASSERT_LE(0, r);
	child = map_in_child(r, 8192);
	ASSERT_LT(0, child);
	ASSERT_TRUE(kt_wait_until(r, &st, st.region.nattch == 1));

	ASSERT_EQ(0, knl_dump(&self->k, KIPC_TYPE_REGION, &l));
	o = knl_find(&l, id);
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, kt_stat(r, &st));
	EXPECT_EQ(KIPC_TYPE_REGION, o->type);
	EXPECT_STREQ(uname_("reg"), o->name);
	EXPECT_TRUE(o->has_region);
	EXPECT_FALSE(o->has_queue);
	EXPECT_FALSE(o->has_sem);
	EXPECT_EQ(10000, o->region.size);
	EXPECT_EQ(st.region.size, o->region.size);
	EXPECT_EQ(1, o->region.nattch);
	EXPECT_EQ(1, o->region.nwritable);
	EXPECT_EQ(st.region.nwritable, o->region.nwritable);
	EXPECT_EQ(KIPC_SEAL_GROW, o->region.seals);
	EXPECT_EQ(child, o->region.lpid);
	EXPECT_EQ(st.region.lpid, o->region.lpid);
	EXPECT_EQ(st.region.atime_ns, o->region.atime_ns);
	EXPECT_NE(0, o->region.atime_ns);
	EXPECT_EQ(0, o->region.dtime_ns);
	EXPECT_EQ(st.nfds, o->nfds);
	knl_objs_free(&l);

	/* The child's exit unmaps: nattch drops, the unmap time is set. */
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	ASSERT_TRUE(kt_wait_until(r, &st, st.region.nattch == 0));
	ASSERT_EQ(0, knl_get(&self->k, KIPC_TYPE_REGION, id, &g));
	EXPECT_EQ(0, g.region.nattch);
	EXPECT_EQ(0, g.region.nwritable);
	EXPECT_EQ(st.region.dtime_ns, g.region.dtime_ns);
	EXPECT_NE(0, g.region.dtime_ns);
	EXPECT_EQ(-ENOENT, knl_get(&self->k, KIPC_TYPE_SEM, id, &g));

	/* Removed, the region leaves the id table while its fd lives on. */
	ASSERT_EQ(0, kt_ret(ioctl(r, KIPC_IOC_REMOVE)));
	ASSERT_EQ(0, kt_stat(r, &st));
	EXPECT_TRUE(st.flags & KIPC_STAT_REMOVED);
	EXPECT_EQ(-ENOENT, knl_get(&self->k, 0, id, &g));
	ASSERT_EQ(0, knl_dump(&self->k, KIPC_TYPE_REGION, &l));
	EXPECT_EQ(NULL, knl_find(&l, id));
	knl_objs_free(&l);
	close(r);
}

static void *blocked_semop(void *arg)
{
	/* Counter 1 holds 0: lowering it waits. */
	return (void *)(long)kt_sem1(*(int *)arg, 1, -1, 0, 0, NULL);
}

TEST_F(nl, sem_dump_agrees_with_stat)
{
	struct kipc_stat st;
	struct knl_objs l = { 0 };
	struct knl_obj *o, g;
	uint32_t id = 0, pid_ = 0;
	pthread_t th;
	void *ret;
	int s, p;

	s = kt_sem(self->dev, uname_("sem"), KIPC_O_CREAT | KIPC_O_EXCL |
		   KIPC_O_RDWR, 0600, 5, 0, 0, &id);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, kt_sem1(s, 0, 2, KIPC_SEMOP_UNDO, 0, NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_semop, &s));
	ASSERT_TRUE(kt_wait_until(s, &st, st.sem.waiters == 1));

	ASSERT_EQ(0, knl_dump(&self->k, KIPC_TYPE_SEM, &l));
	o = knl_find(&l, id);
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, kt_stat(s, &st));
	EXPECT_EQ(KIPC_TYPE_SEM, o->type);
	EXPECT_STREQ(uname_("sem"), o->name);
	EXPECT_TRUE(o->has_sem);
	EXPECT_FALSE(o->has_region);
	EXPECT_EQ(5, o->sem.nsems);
	EXPECT_EQ(0, o->sem.flags);
	EXPECT_EQ(KIPC_SEM_VMX, o->sem.max_value);
	EXPECT_EQ(1, o->sem.waiters);
	EXPECT_EQ(1, o->sem.undos);
	EXPECT_EQ(st.sem.undos, o->sem.undos);
	EXPECT_EQ(0, o->sem.mapped);
	EXPECT_EQ(st.sem.otime_ns, o->sem.otime_ns);
	EXPECT_NE(0, o->sem.otime_ns);
	knl_objs_free(&l);
	EXPECT_EQ(-ENOENT, knl_get(&self->k, KIPC_TYPE_REGION, id, &g));

	/* Removal sends the waiter away; the set stays until closed. */
	ASSERT_EQ(0, knl_remove(&self->k, KIPC_TYPE_SEM, 0, uname_("sem")));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(-EIDRM, (long)ret);
	ASSERT_EQ(0, kt_stat(s, &st));
	EXPECT_TRUE(st.flags & KIPC_STAT_REMOVED);
	EXPECT_EQ(0, st.sem.waiters);
	EXPECT_EQ(-ENOENT, knl_get(&self->k, KIPC_TYPE_SEM, id, &g));
	ASSERT_EQ(0, knl_dump(&self->k, 0, &l));
	EXPECT_EQ(NULL, knl_find(&l, id));
	knl_objs_free(&l);
	close(s);

	/* A POSIX semaphore: one counter, its own maximum. */
	p = kt_sem(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1,
		   KIPC_SEM_POSIX, 3, &pid_);
	ASSERT_LE(0, p);
	ASSERT_EQ(0, knl_get(&self->k, 0, pid_, &g));
	EXPECT_EQ(1, g.sem.nsems);
	EXPECT_EQ(KIPC_SEM_POSIX, g.sem.flags);
	EXPECT_EQ(KIPC_SEM_VALUE_MAX, g.sem.max_value);
	EXPECT_EQ(0, g.sem.otime_ns);
	close(p);
}

TEST_F(nl, stats_count_region_maps_and_sem_ops)
{
	struct kipc_timeout to = kt_rel_ms(1);
	struct stats a, b;
	uint32_t rid = 0;
	void *m;
	int r, s;

	ASSERT_EQ(0, get_stats(&self->k, &a));
	r = new_region(self->dev, NULL, 4096, 0, &rid);
	ASSERT_LE(0, r);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, r, 0);
	ASSERT_NE(MAP_FAILED, m);
	s = kt_anon_sem(self->dev, 1, 1);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, kt_sem1(s, 0, -1, 0, 0, NULL));
	EXPECT_EQ(-ETIMEDOUT, kt_sem1(s, 0, -1, 0, KIPC_F_TIMED, &to));
	EXPECT_EQ(-EAGAIN, kt_sem1(s, 0, -1, 0, KIPC_F_NONBLOCK, NULL));

	ASSERT_EQ(0, get_stats(&self->k, &b));
	/* Other tests may run at once: counters only grow. */
	EXPECT_LE(a.r_created + 1, b.r_created);
	EXPECT_LE(a.r_maps + 1, b.r_maps);
	EXPECT_LE(1, b.r_objects);
	EXPECT_LE(a.s_created + 1, b.s_created);
	EXPECT_LE(a.s_ops + 3, b.s_ops);
	EXPECT_LE(a.s_waits + 1, b.s_waits);
	EXPECT_LE(1, b.s_objects);
	EXPECT_LE(b.r_objects + b.s_objects, b.objects);
	munmap(m, 4096);
	close(r);
	close(s);
}

TEST_F(nl, remove_by_id_and_by_name)
{
	char buf[4];
	struct knl_obj o;
	uint32_t id = 0, id2 = 0;
	int q;

	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, knl_remove(&self->k, 0, id, NULL));
	EXPECT_EQ(-ENOENT, knl_get(&self->k, 0, id, &o));
	EXPECT_EQ(-EIDRM, kt_send(q, buf, 1, 0, 1, 0, NULL));
	EXPECT_EQ(-ENOENT, knl_remove(&self->k, 0, id, NULL));
	close(q);

	q = kt_queue(self->dev, uname_("rm"), KIPC_O_CREAT | KIPC_O_EXCL, 0600,
		     1, 16, &id2);
	ASSERT_LE(0, q);
	close(q);
	EXPECT_EQ(-ENOENT, knl_remove(&self->k, KIPC_TYPE_SEM, 0, uname_("rm")));
	EXPECT_EQ(-ENOENT, knl_remove(&self->k, KIPC_TYPE_SEM, id2, NULL));
	ASSERT_EQ(0, knl_remove(&self->k, KIPC_TYPE_QUEUE, 0, uname_("rm")));
	EXPECT_EQ(-ENOENT, knl_get(&self->k, 0, id2, &o));
	EXPECT_EQ(-ENOENT, kt_queue(self->dev, uname_("rm"), 0, 0, 0, 0, NULL));
}

/* Send a REMOVE of @id on a fresh socket; -errno. */
static int remove_fresh(uint32_t id)
{
	struct knl k;
	int ret = knl_open(&k);

	if (ret)
		return ret;
	ret = knl_remove(&k, 0, id, NULL);
	knl_close(&k);
	return ret;
}

TEST_F(nl, remove_needs_owner_creator_or_admin)
{
	struct knl_obj o;
	uint32_t id = 0;
	pid_t pid;
	int q;

	if (!kt_is_root())
		SKIP(return, "needs root to act as a second user");
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0666, 1, 16, &id);
	ASSERT_LE(0, q);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct knl k;

		if (kt_become_nobody())
			_exit(10);
		if (knl_open(&k))
			_exit(11);
		/* Visible to everyone in the namespace, removable by few. */
		if (knl_get(&k, 0, id, &o))
			_exit(12);
		_exit(knl_remove(&k, 0, id, NULL) == -EPERM ? 0 : 13);
	}
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_EQ(0, knl_get(&self->k, 0, id, &o));

	/* The new owner may, though not the creator. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kipc_set set = { .valid = KIPC_SET_UID, .uid = 65534 };

		if (ioctl(q, KIPC_IOC_SET, &set))
			_exit(10);
		if (kt_become_nobody())
			_exit(11);
		_exit(remove_fresh(id) == 0 ? 0 : 12);
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(-ENOENT, knl_get(&self->k, 0, id, &o));
	close(q);
}

/*
 * A request written by root to a socket an unprivileged user opened is
 * judged by the opener too, the way netlink_capable() judges capabilities.
 */
TEST_F(nl, remove_judges_the_socket_opener_too)
{
	struct knl k = { 0 };
	struct knl_obj o;
	int sv[2], fd, q;
	uint32_t id = 0;
	pid_t pid;

	if (!kt_is_root())
		SKIP(return, "needs root to act as a second user");
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_become_nobody())
			_exit(10);
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
		_exit(fd < 0 || kt_send_fd(sv[1], fd) ? 11 : 0);
	}
	fd = kt_recv_fd(sv[0]);
	EXPECT_EQ(0, kt_wait(pid));
	ASSERT_LE(0, fd);

	k.sk = nl_socket_alloc();
	ASSERT_NE(NULL, k.sk);
	ASSERT_EQ(0, nl_socket_set_fd(k.sk, NETLINK_GENERIC, fd));
	nl_socket_disable_auto_ack(k.sk);
	k.family = genl_ctrl_resolve(k.sk, KIPC_GENL_NAME);
	ASSERT_LT(0, k.family);
	EXPECT_EQ(-EPERM, knl_remove(&k, 0, id, NULL));
	EXPECT_EQ(0, knl_get(&self->k, 0, id, &o));
	knl_close(&k);
	close(sv[0]);
	close(sv[1]);
	close(q);
}

/* Exit status of a check in a fresh IPC namespace. */
enum { NS_OK, NS_UNSHARE = 20, NS_SEEN, NS_GET, NS_REMOVE, NS_OWN, NS_IO };

TEST_F(nl, ipc_namespaces_see_only_their_own)
{
	struct knl_objs l = { 0 };
	uint32_t id = 0, child_id = 0;
	int sync[2], done[2];
	char c = 0;
	pid_t pid;
	int q;

	if (!kt_is_root())
		SKIP(return, "needs CAP_SYS_ADMIN for a new IPC namespace");
	q = kt_queue(self->dev, uname_("ns"), KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0666, 1, 16, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, pipe(sync));
	ASSERT_EQ(0, pipe(done));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct knl k;
		struct knl_obj o;
		uint32_t cid = 0;
		int dev;

		if (unshare(CLONE_NEWIPC))
			_exit(NS_UNSHARE);
		if (knl_open(&k))
			_exit(NS_IO);
		if (knl_dump(&k, 0, &l) || l.n)
			_exit(NS_SEEN);
		if (knl_get(&k, 0, id, &o) != -ENOENT)
			_exit(NS_GET);
		if (knl_remove(&k, 0, id, NULL) != -ENOENT ||
		    knl_remove(&k, KIPC_TYPE_QUEUE, 0, uname_("ns")) != -ENOENT)
			_exit(NS_REMOVE);
		/* The device resolves the namespace per call, like netlink. */
		dev = kt_dev();
		if (dev < 0 || kt_queue(dev, uname_("ns"), KIPC_O_CREAT |
					KIPC_O_EXCL, 0600, 1, 16, &cid) < 0)
			_exit(NS_IO);
		if (knl_dump(&k, 0, &l) || l.n != 1 || l.v[0].id != cid ||
		    strcmp(l.v[0].name, uname_("ns")))
			_exit(NS_OWN);
		if (write(sync[1], &cid, sizeof(cid)) != sizeof(cid) ||
		    read(done[0], &c, 1) != 1)
			_exit(NS_IO);
		_exit(NS_OK);
	}
	close(sync[1]);
	close(done[0]);
	if (read(sync[0], &child_id, sizeof(child_id)) == sizeof(child_id)) {
		size_t i, named = 0;

		/* The same name lives in both namespaces; we see only ours. */
		ASSERT_EQ(0, knl_dump(&self->k, 0, &l));
		for (i = 0; i < l.n; i++)
			named += !strcmp(l.v[i].name, uname_("ns"));
		EXPECT_EQ(1, named);
		EXPECT_NE(NULL, knl_find(&l, id));
		knl_objs_free(&l);
	}
	EXPECT_EQ(1, write(done[1], &c, 1));
	EXPECT_EQ(NS_OK, kt_wait(pid));
	close(sync[0]);
	close(done[1]);
	ASSERT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_QUEUE, uname_("ns")));
	close(q);
}

/* Events */

FIXTURE(ev) {
	int dev;
	struct knl k;
	bool listening;
};

FIXTURE_SETUP(ev)
{
	int ret;

	self->dev = kt_dev();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, knl_open(&self->k));
	ret = knl_subscribe(&self->k);
	/* events_need_cap_sys_admin checks the refusal itself. */
	if (ret == -EPERM && !kt_is_root())
		return;
	ASSERT_EQ(0, ret);
	self->listening = true;
}

#define NEED_LISTENER() do {						\
	if (!self->listening)						\
		SKIP(return, "events need CAP_SYS_ADMIN");		\
} while (0)

FIXTURE_TEARDOWN(ev)
{
	knl_close(&self->k);
	close(self->dev);
}

static unsigned long own_ipc_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/ipc", &st) ? 0 : st.st_ino;
}

#define EXPECT_EVENT(k, id, what, e) do {					\
	ASSERT_EQ(0, knl_next_event(k, id, 5000, e));			\
	EXPECT_EQ(what, (e)->event);						\
	EXPECT_EQ(id, (e)->id);							\
	EXPECT_EQ(KIPC_TYPE_QUEUE, (e)->type);				\
} while (0)

#define EXPECT_EVENT_OF(k, type_, id, what, e) do {				\
	ASSERT_EQ(0, knl_next_event(k, id, 5000, e));			\
	EXPECT_EQ(what, (e)->event);						\
	EXPECT_EQ(id, (e)->id);							\
	EXPECT_EQ(type_, (e)->type);						\
} while (0)

TEST_F(ev, create_unlink_destroy_in_order)
{
	struct knl_event e;
	uint32_t id = 0;
	int q;

	NEED_LISTENER();

	q = kt_queue(self->dev, uname_("ev"), KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_unlink(self->dev, KIPC_TYPE_QUEUE, uname_("ev")));
	close(q);

	EXPECT_EVENT(&self->k, id, KIPC_EVENT_CREATED, &e);
	EXPECT_TRUE(e.named);
	EXPECT_STREQ(uname_("ev"), e.name);
	EXPECT_EQ(getpid(), e.pid);
	EXPECT_EQ(own_ipc_ns(), e.ipc_ns);
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_UNLINKED, &e);
	EXPECT_STREQ(uname_("ev"), e.name);
	EXPECT_EQ(getpid(), e.pid);
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_DESTROYED, &e);
	EXPECT_FALSE(e.named);
}

static void *blocked_recv(void *arg)
{
	char buf[16];

	return (void *)(long)kt_recv(*(int *)arg, buf, sizeof(buf), NULL, 0,
				     0, NULL);
}

TEST_F(ev, remove_wakes_waiters_then_destroys)
{
	struct kipc_stat st;
	struct knl_event e;
	pthread_t th;
	uint32_t id = 0;
	void *ret;
	int q;

	NEED_LISTENER();

	q = kt_queue(self->dev, uname_("rmw"), KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_recv, &q));
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.recv_waiters == 1));
	ASSERT_EQ(0, kt_ret(ioctl(q, KIPC_IOC_REMOVE)));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(-EIDRM, (long)ret);
	close(q);

	EXPECT_EVENT(&self->k, id, KIPC_EVENT_CREATED, &e);
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_REMOVED, &e);
	EXPECT_STREQ(uname_("rmw"), e.name);
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_WAITERS_WOKEN, &e);
	EXPECT_EQ(1, e.waiters);
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_DESTROYED, &e);
}

TEST_F(ev, region_create_remove_destroy)
{
	struct kipc_region_attr attr = { .size = 4096 };
	struct knl_event e;
	uint32_t id = 0;
	int r;

	NEED_LISTENER();

	r = kt_open(self->dev, KIPC_TYPE_REGION, uname_("evr"), KIPC_O_CREAT |
		    KIPC_O_EXCL | KIPC_O_RDWR, 0600, &attr, sizeof(attr), &id);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, kt_ret(ioctl(r, KIPC_IOC_REMOVE)));
	close(r);

	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_REGION, id, KIPC_EVENT_CREATED, &e);
	EXPECT_STREQ(uname_("evr"), e.name);
	EXPECT_EQ(getpid(), e.pid);
	EXPECT_EQ(own_ipc_ns(), e.ipc_ns);
	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_REGION, id, KIPC_EVENT_REMOVED, &e);
	EXPECT_STREQ(uname_("evr"), e.name);
	EXPECT_EQ(0, e.waiters);
	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_REGION, id, KIPC_EVENT_DESTROYED, &e);
	EXPECT_FALSE(e.named);
}

static void *blocked_sem_wait(void *arg)
{
	return (void *)(long)kt_sem1(*(int *)arg, 0, -1, 0, 0, NULL);
}

TEST_F(ev, sem_remove_wakes_waiters_then_destroys)
{
	struct kipc_stat st;
	struct knl_event e;
	pthread_t th[2];
	uint32_t id = 0;
	void *ret;
	int s, i;

	NEED_LISTENER();

	s = kt_sem(self->dev, uname_("evs"), KIPC_O_CREAT | KIPC_O_EXCL |
		   KIPC_O_RDWR, 0600, 2, 0, 0, &id);
	ASSERT_LE(0, s);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, blocked_sem_wait, &s));
	ASSERT_TRUE(kt_wait_until(s, &st, st.sem.waiters == 2));
	ASSERT_EQ(0, kt_ret(ioctl(s, KIPC_IOC_REMOVE)));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		EXPECT_EQ(-EIDRM, (long)ret);
	}
	close(s);

	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_SEM, id, KIPC_EVENT_CREATED, &e);
	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_SEM, id, KIPC_EVENT_REMOVED, &e);
	EXPECT_STREQ(uname_("evs"), e.name);
	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_SEM, id, KIPC_EVENT_WAITERS_WOKEN, &e);
	EXPECT_EQ(2, e.waiters);
	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_SEM, id, KIPC_EVENT_DESTROYED, &e);
}

TEST_F(ev, sem_remove_without_waiters_wakes_nobody)
{
	struct knl_event e;
	uint32_t id = 0;
	int s;

	NEED_LISTENER();

	s = kt_sem(self->dev, uname_("evn"), KIPC_O_CREAT | KIPC_O_EXCL |
		   KIPC_O_RDWR, 0600, 1, 0, 0, &id);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, kt_ret(ioctl(s, KIPC_IOC_REMOVE)));
	close(s);

	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_SEM, id, KIPC_EVENT_CREATED, &e);
	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_SEM, id, KIPC_EVENT_REMOVED, &e);
	/* No waiters-woken event in between. */
	EXPECT_EVENT_OF(&self->k, KIPC_TYPE_SEM, id, KIPC_EVENT_DESTROYED, &e);
}

static void *blocked_send(void *arg)
{
	return (void *)(long)kt_send(*(int *)arg, "x", 1, 0, 1, 0, NULL);
}

TEST_F(ev, full_queue_is_reported)
{
	struct kipc_stat st;
	struct knl_event e;
	char buf[16];
	pthread_t th;
	uint32_t id = 0;
	void *ret;
	int q;

	NEED_LISTENER();

	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	ASSERT_EQ(0, kt_send(q, "a", 1, 0, 1, 0, NULL));
	EXPECT_EQ(-EAGAIN, kt_send(q, "b", 1, 0, 1, KIPC_F_NONBLOCK, NULL));
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_CREATED, &e);
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_QUEUE_FULL, &e);
	EXPECT_EQ(getpid(), e.pid);

	/* A sender that blocks is reported once, before it sleeps. */
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_send, &q));
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_QUEUE_FULL, &e);
	ASSERT_TRUE(kt_wait_until(q, &st, st.queue.send_waiters == 1));
	ASSERT_EQ(1, kt_recv(q, buf, sizeof(buf), NULL, 0, 0, NULL));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(0, (long)ret);
	close(q);
	EXPECT_EVENT(&self->k, id, KIPC_EVENT_DESTROYED, &e);
}

TEST_F(ev, events_of_other_namespaces_are_tagged)
{
	struct knl_event e;
	int dev, q, status;
	uint32_t id = 0;
	pid_t pid;

	NEED_LISTENER();

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (unshare(CLONE_NEWIPC))
			_exit(1);
		dev = kt_dev();
		q = kt_queue(dev, uname_("other"), KIPC_O_CREAT, 0600, 1, 16, &id);
		_exit(q < 0 ? 2 : 0);
	}
	status = kt_wait(pid);
	ASSERT_EQ(0, status);
	/* The first event of a queue of that name: its creation. */
	do {
		ASSERT_EQ(0, knl_next_event(&self->k, 0, 5000, &e));
	} while (strcmp(e.name, uname_("other")));
	EXPECT_EQ(KIPC_EVENT_CREATED, e.event);
	EXPECT_NE(0, e.ipc_ns);
	EXPECT_NE(own_ipc_ns(), e.ipc_ns);
}

TEST(events_need_cap_sys_admin)
{
	struct knl k;
	pid_t pid;

	if (!kt_is_root()) {
		ASSERT_EQ(0, knl_open(&k));
		EXPECT_EQ(-EPERM, knl_subscribe(&k));
		knl_close(&k);
		return;
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_become_nobody() || knl_open(&k))
			_exit(10);
		_exit(knl_subscribe(&k) == -EPERM ? 0 : 11);
	}
	EXPECT_EQ(0, kt_wait(pid));
}

/* Malformed requests */

struct raw_attr {
	uint16_t type;
	uint16_t len;			/* payload bytes */
	const void *data;
};

/* A request of @cmd with the given attributes, however wrong; -errno. */
static int raw_request(struct knl *k, uint8_t cmd, bool dump,
		       const struct raw_attr *a, size_t n)
{
	struct nl_msg *msg = knl_msg(k, cmd, dump);
	size_t i;

	if (!msg)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (nla_put(msg, a[i].type, a[i].len, a[i].data)) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
	return knl_xfer(k, msg, NULL, NULL);
}

/* Expect @err from a request of @cmd with the attributes that follow. */
#define BAD(cmd, dump, err, ...) do {					\
	const struct raw_attr a_[] = { __VA_ARGS__ };			\
	EXPECT_EQ(err, raw_request(&self->k, cmd, dump, a_,		\
				   sizeof(a_) / sizeof(a_[0])));	\
} while (0)

TEST_F(nl, malformed_requests_fail_with_einval)
{
	static const uint32_t one = 1, queue = KIPC_TYPE_QUEUE;
	static const uint32_t bad_type = KIPC_TYPE_COUNT;
	static const uint64_t wide = 1;
	static const uint8_t narrow = 1;
	static const char nonul[3] = { 'a', 'b', 'c' };
	char longname[KIPC_NAME_MAX + 2];
	struct knl_obj o;
	uint32_t id = 0;
	int q;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);

	/* Unknown attributes: beyond the family, beyond the command, unused. */
	BAD(KIPC_CMD_GET, false, -EINVAL, { KIPC_A_ID, 4, &id }, { 200, 4, &one });
	BAD(KIPC_CMD_GET, false, -EINVAL, { KIPC_A_ID, 4, &id },
	    { KIPC_A_MODE, 4, &one });
	BAD(KIPC_CMD_REMOVE, false, -EINVAL, { KIPC_A_ID, 4, &id },
	    { KIPC_A_MODE, 4, &one });
	BAD(KIPC_CMD_GET, false, -EINVAL, { KIPC_A_ID, 4, &id },
	    { KIPC_A_UNSPEC, 4, &one });
	BAD(KIPC_CMD_STATS, false, -EINVAL, { KIPC_A_TYPE, 4, &queue });

	/* Wrong types: lengths, a nest flag, strings without their NUL. */
	BAD(KIPC_CMD_GET, false, -EINVAL, { KIPC_A_ID, 1, &narrow });
	BAD(KIPC_CMD_GET, false, -EINVAL, { KIPC_A_ID, 8, &wide });
	BAD(KIPC_CMD_REMOVE, false, -EINVAL, { KIPC_A_ID, 8, &wide });
	BAD(KIPC_CMD_GET, false, -EINVAL, { KIPC_A_ID | NLA_F_NESTED, 4, &id });
	BAD(KIPC_CMD_REMOVE, false, -EINVAL, { KIPC_A_TYPE, 4, &queue },
	    { KIPC_A_NAME, 3, nonul });
	BAD(KIPC_CMD_REMOVE, false, -EINVAL, { KIPC_A_TYPE, 4, &queue },
	    { KIPC_A_NAME, sizeof(longname), longname });
	BAD(KIPC_CMD_REMOVE, false, -EINVAL, { KIPC_A_TYPE, 4, &queue },
	    { KIPC_A_NAME, 1, "" });
	BAD(KIPC_CMD_REMOVE, false, -EINVAL, { KIPC_A_TYPE, 4, &queue },
	    { KIPC_A_NAME, 4, "a/b" });

	/* Missing or conflicting required attributes. */
	EXPECT_EQ(-EINVAL, raw_request(&self->k, KIPC_CMD_GET, false, NULL, 0));
	EXPECT_EQ(-EINVAL, raw_request(&self->k, KIPC_CMD_REMOVE, false, NULL, 0));
	BAD(KIPC_CMD_GET, false, -EINVAL, { KIPC_A_TYPE, 4, &queue });
	BAD(KIPC_CMD_REMOVE, false, -EINVAL, { KIPC_A_NAME, 4, "abc" });
	BAD(KIPC_CMD_REMOVE, false, -EINVAL, { KIPC_A_ID, 4, &id },
	    { KIPC_A_NAME, 4, "abc" });
	/* A dump lists everything: an id makes no sense there. */
	BAD(KIPC_CMD_GET, true, -EINVAL, { KIPC_A_ID, 4, &id });

	/* Out of range, and commands that do not exist. */
	BAD(KIPC_CMD_GET, false, -ERANGE, { KIPC_A_ID, 4, &id },
	    { KIPC_A_TYPE, 4, &bad_type });
	BAD(KIPC_CMD_GET, true, -ERANGE, { KIPC_A_TYPE, 4, &bad_type });
	EXPECT_EQ(-EOPNOTSUPP, raw_request(&self->k, KIPC_CMD_EVENT, false, NULL, 0));
	EXPECT_EQ(-EOPNOTSUPP, raw_request(&self->k, 99, false, NULL, 0));

	/* None of it changed anything. */
	EXPECT_EQ(0, knl_get(&self->k, 0, id, &o));
	close(q);
}

/*
 * STATS takes no attribute, and any user may send it: each attribute of the
 * family, and ones past it, must be refused by its policy (7.x parsed an op
 * without a policy of its own past the end of the core's stand-in).
 */
TEST_F(nl, stats_rejects_every_attribute)
{
	static const uint32_t one = 1;
	struct stats st;
	uint16_t type;

	for (type = KIPC_A_UNSPEC; type <= KIPC_A_MAX + 2; type++)
		BAD(KIPC_CMD_STATS, false, -EINVAL, { type, 4, &one });
	BAD(KIPC_CMD_STATS, false, -EINVAL, { 1000, 4, &one });
	BAD(KIPC_CMD_STATS, false, -EINVAL,
	    { (uint16_t)NLA_TYPE_MASK, 4, &one });
	BAD(KIPC_CMD_STATS, false, -EINVAL,
	    { KIPC_A_STATS | NLA_F_NESTED, 0, NULL });
	EXPECT_EQ(0, get_stats(&self->k, &st));
}

/* Bytes that are not attributes at all, after a valid header. */
static int garbage_request(struct knl *k, uint8_t cmd, const void *data,
			   size_t len, uint8_t reserved)
{
	struct nl_msg *msg = knl_msg(k, cmd, false);

	if (!msg)
		return -ENOMEM;
	genlmsg_hdr(nlmsg_hdr(msg))->reserved = reserved;
	if (len && nlmsg_append(msg, (void *)data, len, NLMSG_ALIGNTO)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return knl_xfer(k, msg, NULL, NULL);
}

TEST_F(nl, garbage_is_rejected_and_harmless)
{
	/* An attribute claiming more bytes than the message holds. */
	static const uint16_t overlong[4] = { 40, KIPC_A_ID, 0, 0 };
	static const uint16_t tiny[2] = { 2, KIPC_A_ID };
	unsigned int seed = 12345, i, j;
	uint8_t buf[64];
	struct knl_obj o;
	uint32_t id = 0;
	int q, ret;

	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	EXPECT_EQ(-EINVAL, garbage_request(&self->k, KIPC_CMD_GET, overlong,
					   sizeof(overlong), 0));
	EXPECT_EQ(-EINVAL, garbage_request(&self->k, KIPC_CMD_GET, tiny,
					   sizeof(tiny), 0));
	/* The reserved byte of the genetlink header must be zero. */
	EXPECT_EQ(-EINVAL, garbage_request(&self->k, KIPC_CMD_STATS, NULL, 0, 1));

	/* Random bytes to every command: errors, never a crash or a hang. */
	for (i = 0; i < 3000; i++) {
		size_t len = rand_r(&seed) % sizeof(buf);
		uint8_t cmd = rand_r(&seed) % (KIPC_CMD_MAX + 2);

		for (j = 0; j < len; j++)
			buf[j] = rand_r(&seed);
		/* Mostly plausible attribute headers, to get past the first one. */
		if (len >= 4 && (i & 1)) {
			buf[0] = len;
			buf[1] = 0;
			buf[2] = rand_r(&seed) % (KIPC_A_MAX + 2);
			buf[3] = 0;
		}
		ret = garbage_request(&self->k, cmd, buf, len, 0);
		/* Only the odd valid request may succeed; none may remove ours. */
		if (ret != 0 && ret != -EINVAL && ret != -ERANGE &&
		    ret != -ENOENT && ret != -EOPNOTSUPP)
			ASSERT_EQ(-EINVAL, ret) TH_LOG("request %u, cmd %u", i, cmd);
	}
	EXPECT_EQ(0, knl_get(&self->k, 0, id, &o));
	close(q);
}

/* Big dumps */

#define MANY	10000

struct churn {
	int dev;
	uint32_t *ids;			/* sorted */
	size_t n;
	bool changed;
	uint32_t removed[100];
	uint32_t added[100];
};

/*
 * After the first part of the dump: remove objects it has not reached yet
 * and add new ones, before the kernel builds the next part.
 */
static void churn_mid_dump(struct knl_objs *l, void *arg)
{
	struct churn *c = arg;
	size_t i;

	if (c->changed || l->n < 100)
		return;
	c->changed = true;
	for (i = 0; i < 100; i++) {
		c->removed[i] = c->ids[c->n - 1 - 10 * i];
		if (remove_id(c->dev, c->removed[i]))
			c->removed[i] = 0;
		if (persist_queue(c->dev, &c->added[i]))
			c->added[i] = 0;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool in(const uint32_t *v, size_t n, uint32_t id)
{
	return bsearch(&id, v, n, sizeof(*v), cmp_u32);
}

TEST_F_TIMEOUT(nl, dump_of_10000_spans_messages_and_survives_churn, 300)
{
	struct churn c = { .dev = self->dev };
	struct knl_objs l = { 0 };
	size_t i, ours, gone, extra;
	uint32_t *seen;
	int ret = 0;

	c.ids = calloc(MANY, sizeof(*c.ids));
	ASSERT_NE(NULL, c.ids);
	for (c.n = 0; c.n < MANY; c.n++) {
		ret = persist_queue(self->dev, &c.ids[c.n]);
		if (ret)
			break;
	}
	ASSERT_EQ(0, ret) TH_LOG("created %zu objects", c.n);
	qsort(c.ids, c.n, sizeof(*c.ids), cmp_u32);

	/* A plain dump: everything, once, in id order, over many messages. */
	ASSERT_EQ(0, knl_dump(&self->k, KIPC_TYPE_QUEUE, &l));
	for (i = 1; i < l.n; i++)
		ASSERT_LT(l.v[i - 1].id, l.v[i].id);
	for (ours = 0, i = 0; i < l.n; i++)
		ours += in(c.ids, c.n, l.v[i].id);
	EXPECT_EQ(MANY, ours);
	/* Dump parts are at most a few pages; this is megabytes. */
	EXPECT_LT(64 * 1024, l.bytes);
	knl_objs_free(&l);

	/* A dump while objects ahead of it go and new ones come. */
	l.each = churn_mid_dump;
	l.arg = &c;
	ASSERT_EQ(0, knl_dump(&self->k, KIPC_TYPE_QUEUE, &l));
	ASSERT_TRUE(c.changed);
	seen = calloc(l.n, sizeof(*seen));
	ASSERT_NE(NULL, seen);
	for (i = 0; i < l.n; i++) {
		seen[i] = l.v[i].id;
		if (i)
			ASSERT_LT(l.v[i - 1].id, l.v[i].id);
	}
	qsort(c.removed, 100, sizeof(c.removed[0]), cmp_u32);
	for (ours = gone = 0, i = 0; i < c.n; i++) {
		if (in(c.removed, 100, c.ids[i]))
			gone += in(seen, l.n, c.ids[i]);
		else
			ours += in(seen, l.n, c.ids[i]);
	}
	EXPECT_EQ(MANY - 100, ours);
	EXPECT_EQ(0, gone);
	/* New ones may or may not appear (their ids may wrap), but only once. */
	for (extra = 0, i = 0; i < 100; i++)
		extra += c.added[i] && in(seen, l.n, c.added[i]);
	EXPECT_GE(100, extra);
	knl_objs_free(&l);
	free(seen);

	for (i = 0; i < c.n; i++)
		if (!in(c.removed, 100, c.ids[i]))
			EXPECT_EQ(0, remove_id(self->dev, c.ids[i]));
	for (i = 0; i < 100; i++)
		if (c.added[i])
			EXPECT_EQ(0, remove_id(self->dev, c.added[i]));
	free(c.ids);
}

/* kipcs(8) */

static const char *kipcs_path(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;

	if (getenv("KIPCS"))
		return getenv("KIPCS");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return "kipcs";
	exe[n] = 0;
	snprintf(path, sizeof(path), "%s/../../tools/kipcs", dirname(exe));
	return path;
}

/* Run kipcs with @args; its stdout in @out, and its exit status. */
static int run_kipcs(const char *args, char *out, size_t size)
{
	char cmd[PATH_MAX + 256];
	size_t n = 0, r;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", kipcs_path(), args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n < size - 1 && (r = fread(out + n, 1, size - 1 - n, f)) > 0)
		n += r;
	out[n] = 0;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The table line of object @id: starts with the id after blanks. */
static const char *table_line(const char *out, uint32_t id)
{
	char want[16];
	const char *p = out;
	size_t len;

	len = snprintf(want, sizeof(want), "%u ", id);
	while (p && *p) {
		const char *s = p + strspn(p, " ");

		if (!strncmp(s, want, len))
			return p;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

TEST_F_TIMEOUT(nl, kipcs_lists_shows_and_removes, 60)
{
	char *out = malloc(1 << 20), want[300];
	const char *line;
	struct knl_obj o;
	uint32_t id = 0;
	int q;

	ASSERT_NE(NULL, out);
	if (access(kipcs_path(), X_OK))
		ASSERT_EQ(0, -errno) TH_LOG("no kipcs at %s: run make", kipcs_path());
	q = kt_queue(self->dev, uname_("tool"), KIPC_O_CREAT | KIPC_O_EXCL |
		     KIPC_O_RDWR, 0640, 7, 99, &id);
	ASSERT_LE(0, q);
	close(q);

	ASSERT_EQ(0, run_kipcs("-q", out, 1 << 20)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "Message Queues"));
	EXPECT_EQ(NULL, strstr(out, "Semaphores"));
	line = table_line(out, id);
	ASSERT_NE(NULL, line) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "%.*s", (int)strcspn(line, "\n"), line);
	EXPECT_NE(NULL, strstr(want, " 640 "));
	EXPECT_NE(NULL, strstr(want, " named "));
	/* The name is the last column: no padding after it. */
	EXPECT_STREQ(uname_("tool"), strrchr(want, ' ') + 1) TH_LOG("%s", want);

	ASSERT_EQ(0, run_kipcs("--json", out, 1 << 20));
	EXPECT_EQ('[', out[0]);
	snprintf(want, sizeof(want),
		 "{\"type\": \"queue\", \"id\": %u, \"name\": \"%s\", \"uid\": %u",
		 id, uname_("tool"), geteuid());
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"max_msgs\": 7, \"max_msgsize\": 99"));

	snprintf(want, sizeof(want), "-i %u", id);
	ASSERT_EQ(0, run_kipcs(want, out, 1 << 20));
	snprintf(want, sizeof(want), "kipc queue id: %u\nname: %s\n", id,
		 uname_("tool"));
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);

	ASSERT_EQ(0, run_kipcs("stats --json", out, 1 << 20));
	EXPECT_NE(NULL, strstr(out, "{\"version\": 2, \"objects\": "));

	snprintf(want, sizeof(want), "rm %s", uname_("tool"));
	ASSERT_EQ(0, run_kipcs(want, out, 1 << 20)) TH_LOG("%s", out);
	EXPECT_EQ(-ENOENT, knl_get(&self->k, 0, id, &o));
	EXPECT_EQ(1, run_kipcs(want, out, 1 << 20));
	EXPECT_NE(NULL, strstr(out, "no object of this name")) TH_LOG("%s", out);
	/* Options may come before the command, too. */
	snprintf(want, sizeof(want), "-q rm %u", id);
	EXPECT_EQ(1, run_kipcs(want, out, 1 << 20));
	EXPECT_NE(NULL, strstr(out, "no such object")) TH_LOG("%s", out);
	EXPECT_EQ(2, run_kipcs("bogus", out, 1 << 20));
	free(out);
}

/* The whole table line of @id, in @line. */
static bool table_row(const char *out, uint32_t id, char *line, size_t size)
{
	const char *p = table_line(out, id);

	if (!p)
		return false;
	snprintf(line, size, "%.*s", (int)strcspn(p, "\n"), p);
	return true;
}

TEST_F_TIMEOUT(nl, kipcs_shows_regions_and_semaphores, 60)
{
	char *out = malloc(1 << 20), want[300], row[300];
	uint32_t rid = 0, sid = 0;
	pid_t child;
	int r, s;

	ASSERT_NE(NULL, out);
	if (access(kipcs_path(), X_OK))
		ASSERT_EQ(0, -errno) TH_LOG("no kipcs at %s: run make", kipcs_path());
	r = new_region(self->dev, uname_("toolr"), 5000,
		       KIPC_SEAL_GROW | KIPC_SEAL_SHRINK, &rid);
	ASSERT_LE(0, r);
	s = kt_sem(self->dev, uname_("tools"), KIPC_O_CREAT | KIPC_O_EXCL |
		   KIPC_O_RDWR, 0640, 3, 0, 1, &sid);
	ASSERT_LE(0, s);
	child = map_in_child(r, 4096);
	ASSERT_LT(0, child);

	ASSERT_EQ(0, run_kipcs("-m", out, 1 << 20)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "Shared Regions"));
	EXPECT_EQ(NULL, strstr(out, "Message Queues"));
	EXPECT_EQ(NULL, strstr(out, "Semaphores"));
	EXPECT_NE(NULL, strstr(out, " BYTES "));
	EXPECT_NE(NULL, strstr(out, " NATTCH "));
	ASSERT_TRUE(table_row(out, rid, row, sizeof(row))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(row, " 5000 ")) TH_LOG("%s", row);
	EXPECT_NE(NULL, strstr(row, " 1 ")) TH_LOG("%s", row);
	EXPECT_NE(NULL, strstr(row, " shrink,grow ")) TH_LOG("%s", row);
	EXPECT_STREQ(uname_("toolr"), strrchr(row, ' ') + 1) TH_LOG("%s", row);
	EXPECT_FALSE(table_row(out, sid, row, sizeof(row)));

	ASSERT_EQ(0, run_kipcs("-s", out, 1 << 20)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "Semaphores"));
	EXPECT_EQ(NULL, strstr(out, "Shared Regions"));
	EXPECT_NE(NULL, strstr(out, " NSEMS "));
	EXPECT_NE(NULL, strstr(out, " WAITERS "));
	ASSERT_TRUE(table_row(out, sid, row, sizeof(row))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(row, " 640 ")) TH_LOG("%s", row);
	EXPECT_NE(NULL, strstr(row, " 3 ")) TH_LOG("%s", row);
	EXPECT_STREQ(uname_("tools"), strrchr(row, ' ') + 1) TH_LOG("%s", row);

	ASSERT_EQ(0, run_kipcs("--json", out, 1 << 20));
	snprintf(want, sizeof(want),
		 "{\"type\": \"region\", \"id\": %u, \"name\": \"%s\"",
		 rid, uname_("toolr"));
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"region\": {\"size\": 5000, \"nattch\": 1, "
			       "\"nwritable\": 1, \"seals\": 6, "
			       "\"seal_names\": [\"shrink\",\"grow\"]"))
		TH_LOG("%s", out);
	snprintf(want, sizeof(want), "\"lpid\": %d, \"atime_ns\": ", (int)child);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	snprintf(want, sizeof(want),
		 "{\"type\": \"sem\", \"id\": %u, \"name\": \"%s\"",
		 sid, uname_("tools"));
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"sem\": {\"nsems\": 3, \"flags\": 0, "
			       "\"posix\": false, \"max_value\": 32767, "
			       "\"waiters\": 0, \"undos\": 0, \"mapped\": false, "
			       "\"otime_ns\": 0}")) TH_LOG("%s", out);

	snprintf(want, sizeof(want), "-m --json -i %u", rid);
	ASSERT_EQ(0, run_kipcs(want, out, 1 << 20)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"region\": {\"size\": 5000,"));
	snprintf(want, sizeof(want), "-i %u", rid);
	ASSERT_EQ(0, run_kipcs(want, out, 1 << 20));
	snprintf(want, sizeof(want), "kipc region id: %u\nname: %s\n", rid,
		 uname_("toolr"));
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "size: 5000 bytes\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "attached: 1 mappings, 1 writable\n"));
	EXPECT_NE(NULL, strstr(out, "seals: shrink,grow\n"));
	snprintf(want, sizeof(want), "-i %u", sid);
	ASSERT_EQ(0, run_kipcs(want, out, 1 << 20));
	EXPECT_NE(NULL, strstr(out, "semaphores: 3\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "waiters: 0\n")) TH_LOG("%s", out);
	/* -s and an id of another type: no such semaphore set. */
	snprintf(want, sizeof(want), "-s -i %u", rid);
	EXPECT_EQ(1, run_kipcs(want, out, 1 << 20));

	ASSERT_EQ(0, run_kipcs("stats --json", out, 1 << 20));
	EXPECT_NE(NULL, strstr(out, "\"region\": {\"objects\": ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"maps\": ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"ops\": ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"waits\": ")) TH_LOG("%s", out);
	ASSERT_EQ(0, run_kipcs("stats", out, 1 << 20));
	EXPECT_NE(NULL, strstr(out, "\nsem.ops: ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\nregion.maps: ")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "region.sent")) TH_LOG("%s", out);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	snprintf(want, sizeof(want), "-m rm %s", uname_("toolr"));
	EXPECT_EQ(0, run_kipcs(want, out, 1 << 20)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "-s rm %u", sid);
	EXPECT_EQ(0, run_kipcs(want, out, 1 << 20)) TH_LOG("%s", out);
	EXPECT_EQ(-EIDRM, kt_sem1(s, 0, -1, 0, 0, NULL));
	close(r);
	close(s);
	free(out);
}

TEST_F_TIMEOUT(nl, kipcs_rm_refuses_strangers, 60)
{
	char out[4096], cmd[64];
	struct knl_obj o;
	uint32_t id = 0;
	pid_t pid;
	int q;

	if (!kt_is_root())
		SKIP(return, "needs root to act as a second user");
	q = kt_queue(self->dev, NULL, KIPC_O_CREAT | KIPC_O_RDWR, 0600, 1, 16, &id);
	ASSERT_LE(0, q);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (kt_become_nobody())
			_exit(10);
		snprintf(cmd, sizeof(cmd), "rm %u", id);
		if (run_kipcs(cmd, out, sizeof(out)) != 1)
			_exit(11);
		_exit(strstr(out, "permission denied") ? 0 : 12);
	}
	EXPECT_EQ(0, kt_wait(pid));
	EXPECT_EQ(0, knl_get(&self->k, 0, id, &o));
	close(q);
}

TEST_F_TIMEOUT(nl, kipcs_watch_prints_events, 60)
{
	char out[4096] = "", cmd[PATH_MAX + 64];
	struct pollfd pfd;
	size_t n = 0;
	int p[2], i, q, status;
	pid_t pid;

	if (!kt_is_root())
		SKIP(return, "events need CAP_SYS_ADMIN");
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		snprintf(cmd, sizeof(cmd), "%s", kipcs_path());
		execl(cmd, "kipcs", "watch", "--json", "--count", "2", NULL);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	/* Make events until the watcher, once it listens, has seen two. */
	for (i = 0; i < 200; i++) {
		q = kt_anon_queue(self->dev, 1, 16);
		ASSERT_LE(0, q);
		close(q);
		if (poll(&pfd, 1, 50) > 0) {
			ssize_t r = read(p[0], out + n, sizeof(out) - 1 - n);

			if (r <= 0)
				break;
			n += r;
			out[n] = 0;
		}
	}
	close(p[0]);
	status = kt_wait(pid);
	EXPECT_EQ(0, status);
	EXPECT_NE(NULL, strstr(out, "\"event\": \"created\", \"type\": \"queue\""))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"event\": \"destroyed\""));
}

TEST_HARNESS_MAIN
