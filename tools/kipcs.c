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
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kipcnl.h"

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

static const char *type_name(uint32_t type)
{
	switch (type) {
	case KIPC_TYPE_QUEUE:
		return "queue";
	case KIPC_TYPE_REGION:
		return "region";
	case KIPC_TYPE_SEM:
		return "sem";
	case KIPC_TYPE_RING:
		return "ring";
	default:
		return "unknown";
	}
}

/* Netlink requests: kipcnl (tools/lib), shared with the selftests */

static struct knl nl;

static void connect_kipc(void)
{
	int err = knl_open(&nl);

	if (err == -ENOENT)
		die("kipc module not loaded (no generic netlink family \"%s\")",
		    KIPC_GENL_NAME);
	if (err)
		die("cannot open a generic netlink socket: %s", strerror(-err));
}

/* The kernel's error for the last request, with its own words if any. */
static const char *req_error(int err)
{
	static char buf[512];

	if (nl.ext_msg[0])
		snprintf(buf, sizeof(buf), "%s (%s)", strerror(-err), nl.ext_msg);
	else
		snprintf(buf, sizeof(buf), "%s", strerror(-err));
	return buf;
}

static void dump_objects(uint32_t type, struct knl_objs *l)
{
	int err = knl_dump(&nl, type, l);

	if (err)
		die("cannot list objects: %s", req_error(err));
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

static const char *status(const struct knl_obj *o)
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

static void print_table(uint32_t type, const struct knl_objs *l, bool numeric)
{
	static const char *const titles[KIPC_TYPE_COUNT] = {
		[KIPC_TYPE_QUEUE] = "Message Queues",
		[KIPC_TYPE_REGION] = "Shared Regions",
		[KIPC_TYPE_SEM] = "Semaphores",
		[KIPC_TYPE_RING] = "Rings",
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
		const struct knl_obj *o = &l->v[i];
		const struct kipc_queue_stat *q = &o->queue;
		const struct kipc_region_stat *r = &o->region;
		const struct kipc_sem_stat *sm = &o->sem;

		if (o->type != type)
			continue;
		FMT(id, "%" PRIu32, o->id);
		FMT(perms, "%03" PRIo32, o->mode);
		FMT(nfds, "%" PRIu32, o->nfds);
		FMT(cpid, "%" PRId32, o->cpid);
		if (type == KIPC_TYPE_QUEUE)
			table_add(&t, id, user_name(o->uid, numeric), perms,
				  FMT(m, "%" PRIu64, (uint64_t)q->msgs),
				  FMT(b, "%" PRIu64, (uint64_t)q->bytes),
				  FMT(mm, "%" PRIu64, (uint64_t)q->max_msgs),
				  FMT(ms, "%" PRIu64, (uint64_t)q->max_msgsize), nfds, cpid,
				  FMT(ls, "%" PRId32, q->lspid),
				  FMT(lr, "%" PRId32, q->lrpid), status(o),
				  o->named ? o->name : "-");
		else if (type == KIPC_TYPE_REGION)
			table_add(&t, id, user_name(o->uid, numeric), perms,
				  FMT(b, "%" PRIu64, (uint64_t)r->size),
				  FMT(m, "%" PRIu64, (uint64_t)r->nattch),
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

static void print_json_object(const struct knl_obj *o)
{
	const struct kipc_queue_stat *q = &o->queue;

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
		       (uint64_t)q->msgs, (uint64_t)q->bytes, (uint64_t)q->max_msgs, (uint64_t)q->max_msgsize,
		       (uint64_t)q->max_bytes, (uint64_t)q->sent, (uint64_t)q->received, (uint64_t)q->send_waiters,
		       (uint64_t)q->recv_waiters, (int64_t)q->stime_ns, (int64_t)q->rtime_ns, q->lspid, q->lrpid,
		       q->notify_pid);
	if (o->has_region) {
		const struct kipc_region_stat *r = &o->region;

		printf(", \"region\": {\"size\": %" PRIu64 ", \"nattch\": %" PRIu64
		       ", \"nwritable\": %" PRIu64 ", \"seals\": %" PRIu32,
		       (uint64_t)r->size, (uint64_t)r->nattch, (uint64_t)r->nwritable, r->seals);
		printf(", \"seal_names\": [%s]", seals_str(r->seals, true));
		printf(", \"lpid\": %" PRId32 ", \"atime_ns\": %" PRId64
		       ", \"dtime_ns\": %" PRId64 "}",
		       r->lpid, (int64_t)r->atime_ns, (int64_t)r->dtime_ns);
	}
	if (o->has_sem) {
		const struct kipc_sem_stat *m = &o->sem;

		printf(", \"sem\": {\"nsems\": %" PRIu32 ", \"flags\": %" PRIu32
		       ", \"posix\": %s, \"max_value\": %" PRIu32
		       ", \"waiters\": %" PRIu32 ", \"undos\": %" PRIu32
		       ", \"mapped\": %s, \"otime_ns\": %" PRId64 "}",
		       m->nsems, m->flags,
		       m->flags & KIPC_SEM_POSIX ? "true" : "false",
		       m->max_value, m->waiters, m->undos,
		       m->mapped ? "true" : "false", (int64_t)m->otime_ns);
	}
	if (o->has_ring) {
		const struct kipc_ring_stat *g = &o->ring;

		printf(", \"ring\": {\"slots\": %" PRIu32 ", \"slot_size\": %" PRIu32
		       ", \"map_size\": %" PRIu64 ", \"msgs\": %" PRIu64
		       ", \"data_waiters\": %" PRIu64 ", \"room_waiters\": %" PRIu64 "}",
		       g->slots, g->slot_size, (uint64_t)g->map_size, (uint64_t)g->msgs,
		       (uint64_t)g->data_waiters, (uint64_t)g->room_waiters);
	}
	putchar('}');
}

static void print_detail(const struct knl_obj *o, bool numeric)
{
	const struct kipc_queue_stat *q = &o->queue;

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
		const struct kipc_region_stat *r = &o->region;

		printf("size: %" PRIu64 " bytes\n", (uint64_t)r->size);
		printf("attached: %" PRIu64 " mappings, %" PRIu64 " writable\n",
		       (uint64_t)r->nattch, (uint64_t)r->nwritable);
		printf("seals: %s\n", seals_str(r->seals, false));
		printf("last map: %s\n", time_str((int64_t)r->atime_ns));
		printf("last unmap: %s\n", time_str((int64_t)r->dtime_ns));
		printf("last pid: %" PRId32 "\n", r->lpid);
	}
	if (o->has_sem) {
		const struct kipc_sem_stat *m = &o->sem;

		printf("semaphores: %" PRIu32 "%s\n", m->nsems,
		       m->flags & KIPC_SEM_POSIX ? " (POSIX)" : "");
		printf("max value: %" PRIu32 "\n", m->max_value);
		printf("waiters: %" PRIu32 "\n", m->waiters);
		printf("undo records: %" PRIu32 "\n", m->undos);
		printf("mapped: %s\n", m->mapped ? "yes" : "no");
		printf("last operation: %s\n", time_str((int64_t)m->otime_ns));
	}
	if (o->has_ring) {
		const struct kipc_ring_stat *g = &o->ring;

		printf("slots: %" PRIu32 " of %" PRIu32 " bytes, mapping %" PRIu64
		       " bytes\n", g->slots, g->slot_size, (uint64_t)g->map_size);
		printf("messages: %" PRIu64 "\n", (uint64_t)g->msgs);
		printf("waiting for data: %" PRIu64 ", for room: %" PRIu64 "\n",
		       (uint64_t)g->data_waiters, (uint64_t)g->room_waiters);
	}
	if (!o->has_queue)
		return;
	printf("messages: %" PRIu64 " of %" PRIu64 "\n", (uint64_t)q->msgs, (uint64_t)q->max_msgs);
	printf("bytes: %" PRIu64 " of %" PRIu64 "\n", (uint64_t)q->bytes, (uint64_t)q->max_bytes);
	printf("max message size: %" PRIu64 "\n", (uint64_t)q->max_msgsize);
	printf("sent: %" PRIu64 ", received: %" PRIu64 "\n", (uint64_t)q->sent, (uint64_t)q->received);
	printf("waiting senders: %" PRIu64 ", receivers: %" PRIu64 "\n",
	       (uint64_t)q->send_waiters, (uint64_t)q->recv_waiters);
	printf("last send: %s, pid %" PRId32 "\n", time_str((int64_t)q->stime_ns), q->lspid);
	printf("last receive: %s, pid %" PRId32 "\n", time_str((int64_t)q->rtime_ns), q->lrpid);
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
	struct knl_objs l = { 0 };
	uint32_t id, t;
	size_t i;

	if (detail) {
		struct knl_obj obj;
		int err;

		if (!parse_id(detail, &id))
			die("invalid id '%s'", detail);
		err = knl_get(&nl, o->type, id, &obj);
		if (err == -ENOENT)
			die("no object with id %" PRIu32, id);
		if (err)
			die("cannot get object %" PRIu32 ": %s", id, req_error(err));
		if (o->json) {
			print_json_object(&obj);
			putchar('\n');
		} else {
			print_detail(&obj, o->numeric);
		}
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
	knl_objs_free(&l);
	return 0;
}

static int remove_one(const struct options *o, const char *arg)
{
	uint32_t type = o->type, id = 0;
	const char *name = NULL;
	int err;

	if (parse_id(arg, &id)) {
		/* by id, of -q, -m or -s's type if one is given */
	} else if (o->type) {
		name = arg;
	} else {
		/* Names are per type: find which type holds this one. */
		struct knl_objs l = { 0 };
		struct knl_obj *found = NULL;
		size_t i;

		dump_objects(0, &l);
		for (i = 0; i < l.n; i++) {
			if (!l.v[i].named || strcmp(l.v[i].name, arg))
				continue;
			if (found) {
				knl_objs_free(&l);
				warnx("%s: several objects have this name; choose one with -q, -m or -s",
				      arg);
				return 1;
			}
			found = &l.v[i];
		}
		if (!found) {
			knl_objs_free(&l);
			warnx("%s: no object of this name", arg);
			return 1;
		}
		id = found->id;
		type = found->type;
		knl_objs_free(&l);
	}

	err = knl_remove(&nl, type, id, name);
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
		warnx("%s: %s", arg, req_error(err));
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
	{ KIPC_STATS_A_RING, KIPC_TYPE_RING },
};

static int print_stats(struct nl_msg *msg, void *arg)
{
	const struct options *o = arg;
	struct nlattr *top[KIPC_A_MAX + 1];
	struct nlattr *tb[KIPC_STATS_A_MAX + 1];
	struct nlattr *tt[TSTATS_MAX + 1];
	bool first_type = true;
	size_t i, j;

	if (knl_attrs(msg, top) || !top[KIPC_A_STATS] ||
	    nla_parse_nested(tb, KIPC_STATS_A_MAX, top[KIPC_A_STATS], NULL))
		return NL_SKIP;
	printf(o->json ? "{\"version\": %" PRIu32 : "version: %" PRIu32 "\n",
	       knl_u32(tb[KIPC_STATS_A_VERSION]));
	for (i = 0; i < sizeof(stat_vals) / sizeof(stat_vals[0]); i++) {
		struct nlattr *a = tb[stat_vals[i].attr];

		if (a)
			printf(o->json ? ", \"%s\": %" PRIu64 : "%s: %" PRIu64 "\n",
			       stat_vals[i].key, knl_u64(a));
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
				       tstat_vals[j].key, knl_u64(a));
			else
				printf("%s.%s: %" PRIu64 "\n", tname,
				       tstat_vals[j].key, knl_u64(a));
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
	int err;

	err = knl_xfer(&nl, knl_msg(&nl, KIPC_CMD_STATS, false), print_stats, o);
	if (err)
		die("cannot get statistics: %s", req_error(err));
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

static void print_event(const struct knl_event *e, struct watch *w)
{
	char when[64];
	struct timespec now;
	struct tm tm;

	if (!w->o->all_ns && e->ipc_ns != w->ipc_ns)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (w->o->json) {
		printf("{\"time_ns\": %lld, \"event\": \"%s\", \"type\": \"%s\", \"id\": %" PRIu32
		       ", \"name\": ",
		       (long long)now.tv_sec * 1000000000LL + now.tv_nsec,
		       event_name(e->event), type_name(e->type), e->id);
		if (e->named)
			json_string(e->name);
		else
			printf("null");
		printf(", \"pid\": %" PRId32 ", \"ipc_ns\": %" PRIu32, e->pid, e->ipc_ns);
		if (e->has_waiters)
			printf(", \"waiters\": %" PRIu32, e->waiters);
		printf("}\n");
	} else {
		printf("%s.%03ld %-13s %-6s id=%" PRIu32, when, now.tv_nsec / 1000000,
		       event_name(e->event), type_name(e->type), e->id);
		if (e->named)
			printf(" name=%s", e->name);
		printf(" pid=%" PRId32, e->pid);
		if (e->has_waiters)
			printf(" waiters=%" PRIu32, e->waiters);
		if (w->o->all_ns)
			printf(" ipc_ns=%" PRIu32, e->ipc_ns);
		putchar('\n');
	}
	fflush(stdout);
	w->seen++;
	if (w->o->count > 0 && w->seen >= w->o->count)
		stop = 1;
}

static int cmd_watch(const struct options *o)
{
	struct watch w = { .o = o };
	struct knl_event e;
	struct sigaction sa;
	struct stat st;
	int err;

	if (stat("/proc/self/ns/ipc", &st) && !o->all_ns)
		die("cannot tell this IPC namespace (is /proc mounted?); use --all");
	w.ipc_ns = st.st_ino;

	err = knl_subscribe(&nl);
	if (err == -EPERM)
		die("watching events needs CAP_SYS_ADMIN (in the initial namespaces)");
	if (err == -ENOENT)
		die("the kipc module has no events group");
	if (err)
		die("cannot join the events group: %s", strerror(-err));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!stop) {
		err = knl_next_event(&nl, 0, -1, &e);
		if (!err)
			print_event(&e, &w);
		else if (err == -ENOBUFS)
			warnx("events were lost: the receive buffer overflowed");
		else if (err != -EINTR)
			die("netlink receive failed: %s", strerror(-err));
	}
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
	knl_close(&nl);
	return ret;
}
