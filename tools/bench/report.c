// SPDX-License-Identifier: GPL-2.0
/* kipc-bench: The text report: a cell's summary over its rounds and its table. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "run.h"

/* --------------------------------------------------------- summary */

double res_key(const struct cell *c, const struct result *r)
{
	return workloads[c->wl].throughput ? r->msgs_s : r->p50_ns;
}

/* Ratio to the best stock mechanism: > 1 is better for throughput, < 1 for latency. */
double ratio(const struct cell *c, unsigned int mi)
{
	if (c->best_stock < 0 || c->sum[mi].status || c->sum[mi].skipped)
		return NAN;
	return res_key(c, &c->sum[mi]) / res_key(c, &c->sum[c->best_stock]);
}

void summarize(struct cell *c)
{
	double v[4][MAX_REPEATS];
	unsigned int mi, r, k;

	c->best_stock = -1;
	for (mi = 0; mi < c->nmechs; mi++) {
		struct result *s = &c->sum[mi];

		*s = c->rep[mi][0];
		for (r = 0; r < opt.repeats; r++) {
			const struct result *x = &c->rep[mi][r];

			if (x->status || x->skipped) {
				*s = *x;
				break;
			}
			v[0][r] = x->p50_ns;
			v[1][r] = x->p99_ns;
			v[2][r] = x->msgs_s;
			v[3][r] = x->bytes_s;
			if (x->samples < s->samples || !r)
				s->samples = x->samples;
		}
		if (r < opt.repeats)
			continue;
		s->p50_ns = median(v[0], opt.repeats);
		s->p99_ns = median(v[1], opt.repeats);
		s->msgs_s = median(v[2], opt.repeats);
		s->bytes_s = median(v[3], opt.repeats);
		s->spread = spread(workloads[c->wl].throughput ? v[2] : v[0], opt.repeats);
		if (c->mechs[mi]->flags & MECH_KIPC)
			continue;
		k = c->best_stock;
		if (c->best_stock < 0 ||
		    (workloads[c->wl].throughput ? res_key(c, s) > res_key(c, &c->sum[k]) :
						   res_key(c, s) < res_key(c, &c->sum[k])))
			c->best_stock = mi;
	}
}

/* ----------------------------------------------------------- output */

static const char *fmt_size(size_t size, char *buf, size_t len)
{
	if (size >= (1 << 20) && !(size % (1 << 20)))
		snprintf(buf, len, "%zu MiB", size >> 20);
	else if (size >= 1024 && !(size % 1024))
		snprintf(buf, len, "%zu KiB", size >> 10);
	else
		snprintf(buf, len, "%zu B", size);
	return buf;
}

static const char *fmt_si(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

static const char *fmt_us(double ns, char *buf, size_t len)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 100)
		snprintf(buf, len, "%.3f", ns / 1000);
	else if (ns < 10000)
		snprintf(buf, len, "%.2f", ns / 1000);
	else
		snprintf(buf, len, "%.1f", ns / 1000);
	return buf;
}

const char *fmt_cpus(const struct cell *c, char *buf, size_t len)
{
	if (c->pl == PL_ANY)
		snprintf(buf, len, "any");
	else if (c->pl == PL_ONE)
		snprintf(buf, len, "%d", c->cpu[0]);
	else
		snprintf(buf, len, "%d,%d", c->cpu[0], c->cpu[1]);
	return buf;
}

void cell_title(const struct cell *c, char *buf, size_t len)
{
	const struct workload *wl = &workloads[c->wl];
	char sz[32], cpus[32];

	fmt_cpus(c, cpus, sizeof(cpus));
	switch (wl->kind) {
	case MECH_MSG:
		if (c->wl == WL_MPMC)
			snprintf(buf, len, "%s %ux%u, %s, unpinned", wl->title,
				 opt.producers, opt.consumers,
				 fmt_size(c->size, sz, sizeof(sz)));
		else
			snprintf(buf, len, "%s, %s, %s (cpu %s)", wl->title,
				 fmt_size(c->size, sz, sizeof(sz)),
				 placement_names[c->pl], cpus);
		break;
	case MECH_SEM:
		snprintf(buf, len, "%s, %s (cpu %s)", wl->title,
			 placement_names[c->pl], cpus);
		break;
	case MECH_REGION:
		snprintf(buf, len, "%s, %s region (cpu %s)", wl->title,
			 fmt_size(c->size, sz, sizeof(sz)), cpus);
		break;
	}
}

/* One table line, without trailing blanks. */
static void __attribute__((format(printf, 2, 3))) line(FILE *f, const char *fmt, ...)
{
	char buf[512];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	len = strlen(buf);
	while (len && buf[len - 1] == ' ')
		buf[--len] = '\0';
	fprintf(f, "%s\n", buf);
}

void print_cell(FILE *f, const struct cell *c)
{
	const struct workload *wl = &workloads[c->wl];
	char title[160], a[32], b[32], d[32];
	unsigned int mi;

	cell_title(c, title, sizeof(title));
	fprintf(f, "\n== %s\n", title);
	if (wl->throughput)
		line(f, "   %-16s %10s %10s %8s %7s %6s  %s", "mechanism",
			c->wl == WL_REGION_BW ? "chunks/s" : "msgs/s", "MB/s",
			"ratio", "spread", wl->kind == MECH_MSG ? "depth" : "", "");
	else
		line(f, "   %-16s %10s %10s %10s %8s %7s  %s", "mechanism",
			"p50 us", "p99 us", "ops/s", "ratio", "spread", "");
	for (mi = 0; mi < c->nmechs; mi++) {
		const struct result *s = &c->sum[mi];
		const char *mark = (int)mi == c->best_stock ? "*" :
				   (c->mechs[mi]->flags & MECH_KIPC) ? ">" : " ";
		char r[32], sp[16];

		if (isnan(s->spread))
			snprintf(sp, sizeof(sp), "-");
		else
			snprintf(sp, sizeof(sp), "%.0f%%", s->spread * 100);
		if (s->skipped || s->status) {
			line(f, " %s %-16s %s: %s", mark, c->mechs[mi]->name,
				s->skipped ? "skipped" : "error", s->note);
			continue;
		}
		if (isnan(ratio(c, mi)))
			snprintf(r, sizeof(r), "-");
		else
			snprintf(r, sizeof(r), "%.2fx", ratio(c, mi));
		if (wl->throughput) {
			if (wl->kind == MECH_MSG)
				snprintf(d, sizeof(d), "%u", s->depth);
			else
				d[0] = '\0';
			line(f, " %s %-16s %10s %10.1f %8s %7s %6s  %s", mark,
				c->mechs[mi]->name, fmt_si(s->msgs_s, a, sizeof(a)),
				s->bytes_s / 1e6, r, sp, d, s->note);
		} else {
			line(f, " %s %-16s %10s %10s %10s %8s %7s  %s", mark,
				c->mechs[mi]->name, fmt_us(s->p50_ns, a, sizeof(a)),
				fmt_us(s->p99_ns, b, sizeof(b)),
				fmt_si(s->msgs_s, d, sizeof(d)), r, sp, s->note);
		}
	}
}

const char *clocksource(void)
{
	static char buf[64];
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");

	strcpy(buf, "unknown");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	return buf;
}

void print_header(FILE *f)
{
	struct utsname u;
	const char *vm = getenv("KIPC_IN_VM");

	uname(&u);
	fprintf(f, "kipc-bench: kernel %s, %ld cpus%s, clocksource %s; %.3gs per measurement "
		"after %.3gs warm-up, median of %u rounds; queue depth %u, batch %u\n",
		u.release, sysconf(_SC_NPROCESSORS_ONLN),
		vm && !strcmp(vm, "1") ? " (VM)" : "", clocksource(), opt.duration, opt.warmup,
		opt.repeats, opt.depth, opt.batch);
	fprintf(f, "ratio: to the best stock mechanism (*) of the table; latency: lower is "
		"better, throughput: higher is better.  > marks kipc.\n"
		"spread: (max - min) / median over the rounds; a large one means a noisy "
		"machine, not a slow mechanism.\n");
}
