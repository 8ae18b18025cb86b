// SPDX-License-Identifier: GPL-2.0
/* kipc-bench: The goals: the ratios kipc is built to reach, each with its verdict. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

/* ---------------------------------------------------------- goals */


struct goal goals[32];
unsigned int ngoals;

static const struct cell *find_cell(enum wl_id wl, size_t size, enum placement pl)
{
	unsigned int i;

	for (i = 0; i < ncells; i++)
		if (cells[i].wl == wl && cells[i].size == size && cells[i].pl == pl)
			return &cells[i];
	return NULL;
}

static const struct result *find_res(const struct cell *c, const char *mech)
{
	unsigned int mi;

	for (mi = 0; c && mi < c->nmechs; mi++)
		if (!strcmp(c->mechs[mi]->name, mech))
			return c->sum[mi].status || c->sum[mi].skipped ? NULL : &c->sum[mi];
	return NULL;
}

static void add_goal(const char *what, enum placement pl, const struct result *a,
		     const struct result *b, bool thr, double target, bool lower,
		     const char *vs)
{
	struct goal *g = &goals[ngoals++];

	g->what = what;
	g->pl = pl;
	g->value = a && b ? (thr ? a->msgs_s / b->msgs_s : a->p50_ns / b->p50_ns) : NAN;
	g->target = target;
	g->lower = lower;
	g->vs = vs;
}

/* The best kipc result of @c (MECH_KIPC), or NULL. */
static const struct result *best_kipc(const struct cell *c)
{
	const struct result *best = NULL, *r;
	unsigned int mi;

	for (mi = 0; c && mi < c->nmechs; mi++) {
		if (!(c->mechs[mi]->flags & MECH_KIPC))
			continue;
		r = find_res(c, c->mechs[mi]->name);
		if (r && (!best || (workloads[c->wl].throughput ?
				    res_key(c, r) > res_key(c, best) :
				    res_key(c, r) < res_key(c, best))))
			best = r;
	}
	return best;
}

static const struct result *best_stock(const struct cell *c)
{
	return c && c->best_stock >= 0 ? &c->sum[c->best_stock] : NULL;
}

static const char *best_stock_name(const struct cell *c)
{
	return c && c->best_stock >= 0 ? c->mechs[c->best_stock]->name : "-";
}

/*
 * The goals of the issues that asked for the benchmark (the comparison) and
 * for the ring mode, each as a ratio within this run.
 */
void compute_goals(void)
{
	static const enum placement two[] = { PL_SAME, PL_CROSS };
	const struct cell *c, *c64;
	unsigned int j;

	ngoals = 0;
	for (j = 0; j < 2; j++) {
		c = find_cell(WL_RTT, 64, two[j]);
		if (!c)
			continue;
		add_goal("64 B round trip p50, best kipc / best stock", two[j],
			 best_kipc(c), best_stock(c), false, 0.8, true,
			 best_stock_name(c));
		add_goal("64 B round trip p50, kipc-sendrecv / best stock", two[j],
			 find_res(c, "kipc-sendrecv"), best_stock(c), false, 0.8,
			 true, best_stock_name(c));
	}
	for (j = 0; j < 2; j++) {
		c = find_cell(WL_STREAM, 64, two[j]);
		if (c)
			add_goal("64 B stream, kipc-batch / pipe", two[j],
				 find_res(c, "kipc-batch"), find_res(c, "pipe"),
				 true, 3.0, false, "pipe");
	}
	for (j = 0; j < 2; j++) {
		const struct result *q, *bq;

		c = find_cell(WL_STREAM, 65536, two[j]);
		if (!c)
			continue;
		add_goal("64 KiB stream, best kipc / sysv-msg", two[j],
			 best_kipc(c), find_res(c, "sysv-msg"), true, 1.5, false,
			 "sysv-msg");
		q = find_res(c, "kipc-queue");
		bq = find_res(c, "kipc-batch");
		if (!q || (bq && bq->msgs_s > q->msgs_s))
			q = bq;
		add_goal("64 KiB stream, kipc queue / sysv-msg", two[j], q,
			 find_res(c, "sysv-msg"), true, 1.5, false, "sysv-msg");
	}
	for (j = 0; j < 2; j++) {
		c = find_cell(WL_SEM_RTT, 0, two[j]);
		if (c)
			add_goal("semaphore ping-pong p50, best kipc / sysv-sem",
				 two[j], best_kipc(c), find_res(c, "sysv-sem"),
				 false, 0.7, true, "sysv-sem");
	}
	c = find_cell(WL_REGION_BW, opt.region_size, PL_ONE);
	if (c)
		add_goal("region bandwidth, kipc-region / sysv-shm", PL_ONE,
			 find_res(c, "kipc-region"), find_res(c, "sysv-shm"),
			 true, 0.95, false, "sysv-shm");

	/* Ring mode. */
	c = find_cell(WL_RTT, 64, PL_CROSS);
	if (c)
		add_goal("64 B round trip p50, kipc-ring-zc / best stock", PL_CROSS,
			 find_res(c, "kipc-ring-zc"), best_stock(c), false, 0.01,
			 true, best_stock_name(c));
	for (j = 0; j < 2; j++) {
		c64 = find_cell(WL_RTT, 64, two[j]);
		c = find_cell(WL_RTT, 65536, two[j]);
		if (c && c64)
			add_goal("64 KiB / 64 B round trip p50, kipc-ring-zc", two[j],
				 find_res(c, "kipc-ring-zc"),
				 find_res(c64, "kipc-ring-zc"), false, 1.2, true,
				 "itself");
	}
	for (j = 0; j < 2; j++) {
		c = find_cell(WL_STREAM, 64, two[j]);
		if (c)
			add_goal("64 B stream, kipc-ring / posix-mq", two[j],
				 find_res(c, "kipc-ring"), find_res(c, "posix-mq"),
				 true, 10.0, false, "posix-mq");
	}
}

const char *goal_verdict(const struct goal *g)
{
	if (isnan(g->value))
		return "n/a";
	return (g->lower ? g->value <= g->target : g->value >= g->target) ?
		"met" : "MISSED";
}

void print_goals(FILE *f)
{
	unsigned int i;

	if (!ngoals)
		return;
	fprintf(f, "\n== goals (ratios within this run)\n");
	for (i = 0; i < ngoals; i++) {
		const struct goal *g = &goals[i];
		char v[32];

		if (isnan(g->value))
			snprintf(v, sizeof(v), "-");
		else
			snprintf(v, sizeof(v), "%.3gx", g->value);
		fprintf(f, "   %-50s %-10s %7s  goal %s %gx  %s", g->what,
			placement_names[g->pl], v, g->lower ? "<=" : ">=", g->target,
			goal_verdict(g));
		fprintf(f, " (vs %s)\n", g->vs);
	}
}
