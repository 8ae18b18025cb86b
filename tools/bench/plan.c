// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: The plan: which cells (workload, size, placement) run, with which
 * mechanisms, on which two CPUs.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

/* ------------------------------------------------------------ plan */

bool mech_selected(const struct bench_mech *m)
{
	const char *p = opt.mechs;
	size_t len = strlen(m->name);

	if (!p)
		return true;
	while (*p) {
		if (!strncmp(p, m->name, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return false;
}

static bool mech_fits(const struct bench_mech *m, enum wl_id wl, size_t size)
{
	if (m->flags & MECH_PLANNED || m->kind != workloads[wl].kind)
		return false;
	if (!mech_selected(m))
		return false;
	if (wl == WL_RTT && (m->flags & MECH_BATCHED))
		return false;
	if (wl == WL_MPMC && (!(m->flags & MECH_MULTI) ||
			      (m->multi_max && size > m->multi_max)))
		return false;
	return true;
}

static void add_cell(enum wl_id wl, size_t size, enum placement pl)
{
	struct cell *c;
	unsigned int i;

	if (!(opt.workloads & (1u << wl)))
		return;
	if ((pl == PL_SAME || pl == PL_CROSS) && !(opt.placements & (1u << pl)))
		return;
	if (pl == PL_CROSS && cpu_b < 0)
		return;
	cells = realloc(cells, (ncells + 1) * sizeof(*cells));
	if (!cells)
		die("out of memory");
	c = &cells[ncells];
	memset(c, 0, sizeof(*c));
	c->wl = wl;
	c->size = size;
	c->pl = pl;
	c->cpu[0] = pl == PL_ANY ? -1 : cpu_a;
	c->cpu[1] = pl == PL_CROSS ? cpu_b : pl == PL_SAME ? cpu_a : -1;
	c->best_stock = -1;
	for (i = 0; bench_mechs[i]; i++)
		if (mech_fits(bench_mechs[i], wl, size) && c->nmechs < MAX_CELL_MECHS)
			c->mechs[c->nmechs++] = bench_mechs[i];
	if (c->nmechs)
		ncells++;
}

void plan(void)
{
	static const enum placement two[] = { PL_SAME, PL_CROSS };
	unsigned int i, j;

	for (j = 0; j < 2; j++)
		for (i = 0; i < opt.nrtt_sizes; i++)
			add_cell(WL_RTT, opt.rtt_sizes[i], two[j]);
	for (j = 0; j < 2; j++)
		for (i = 0; i < opt.nsizes; i++)
			add_cell(WL_STREAM, opt.sizes[i], two[j]);
	add_cell(WL_MPMC, opt.sizes[0], PL_ANY);
	add_cell(WL_SEM, 0, PL_ONE);
	for (j = 0; j < 2; j++)
		add_cell(WL_SEM_RTT, 0, two[j]);
	add_cell(WL_REGION_MAP, opt.region_size, PL_ONE);
	add_cell(WL_REGION_TOUCH, opt.region_size, PL_ONE);
	add_cell(WL_REGION_BW, opt.region_size, PL_ONE);
}

void find_cpus(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (cpu_a < 0)
			cpu_a = i;
		else if (cpu_b < 0)
			cpu_b = i;
	}
}
