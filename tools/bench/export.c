// SPDX-License-Identifier: GPL-2.0
/* kipc-bench: The machine-readable results: JSON and CSV. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

static const char *res_status(const struct result *s)
{
	return s->skipped ? "skipped" : s->status ? "error" : "ok";
}

void write_json(const char *path)
{
	FILE *f = fopen(path, "w");
	struct utsname u;
	unsigned int i, mi;
	bool first = true;
	char cpus[32];

	if (!f)
		die("%s: %s", path, strerror(errno));
	uname(&u);
	fprintf(f, "{\n  \"meta\": {\"tool\": \"kipc-bench\", \"version\": 1, \"kernel\": ");
	json_str(f, u.release);
	fprintf(f, ", \"machine\": ");
	json_str(f, u.machine);
	fprintf(f, ", \"cpus\": %ld, \"in_vm\": %s, \"clocksource\": ",
		sysconf(_SC_NPROCESSORS_ONLN),
		getenv("KIPC_IN_VM") && !strcmp(getenv("KIPC_IN_VM"), "1") ? "true" : "false");
	json_str(f, clocksource());
	fprintf(f, ",\n    \"duration_s\": %g, \"warmup_s\": %g, \"repeats\": %u, \"depth\": %u, "
		"\"batch\": %u, \"producers\": %u, \"consumers\": %u, \"time\": %lld,\n",
		opt.duration, opt.warmup, opt.repeats, opt.depth, opt.batch,
		opt.producers, opt.consumers, (long long)time(NULL));
	fprintf(f, "    \"mechanisms\": [");
	for (i = 0, first = true; bench_mechs[i]; i++) {
		if ((bench_mechs[i]->flags & MECH_PLANNED) || !mech_selected(bench_mechs[i]))
			continue;
		fprintf(f, "%s", first ? "" : ", ");
		json_str(f, bench_mechs[i]->name);
		first = false;
	}
	fprintf(f, "],\n    \"planned\": [");
	for (i = 0, first = true; bench_mechs[i]; i++) {
		if (!(bench_mechs[i]->flags & MECH_PLANNED))
			continue;
		fprintf(f, "%s", first ? "" : ", ");
		json_str(f, bench_mechs[i]->name);
		first = false;
	}
	fprintf(f, "],\n    \"goals\": [");
	for (i = 0; i < ngoals; i++) {
		fprintf(f, "%s\n      {\"goal\": ", i ? "," : "");
		json_str(f, goals[i].what);
		fprintf(f, ", \"placement\": \"%s\", \"ratio\": ", placement_names[goals[i].pl]);
		json_num(f, goals[i].value);
		fprintf(f, ", \"target\": %g, \"target_is_max\": %s, \"verdict\": \"%s\"}",
			goals[i].target, goals[i].lower ? "true" : "false",
			goal_verdict(&goals[i]));
	}
	fprintf(f, "]\n  },\n  \"results\": [");
	first = true;
	for (i = 0; i < ncells; i++) {
		const struct cell *c = &cells[i];

		for (mi = 0; mi < c->nmechs; mi++) {
			const struct result *s = &c->sum[mi];

			fprintf(f, "%s\n    {\"workload\": \"%s\", \"size\": %zu, \"mech\": ",
				first ? "" : ",", workloads[c->wl].name, c->size);
			first = false;
			json_str(f, c->mechs[mi]->name);
			fprintf(f, ", \"kind\": \"%s\", \"status\": \"%s\", \"p50_ns\": ",
				c->mechs[mi]->flags & MECH_KIPC ? "kipc" : "stock",
				res_status(s));
			json_num(f, s->p50_ns);
			fprintf(f, ", \"p99_ns\": ");
			json_num(f, s->p99_ns);
			fprintf(f, ", \"msgs_per_s\": ");
			json_num(f, s->msgs_s);
			fprintf(f, ", \"bytes_per_s\": ");
			json_num(f, s->bytes_s);
			fprintf(f, ", \"ratio\": ");
			json_num(f, ratio(c, mi));
			fprintf(f, ", \"spread\": ");
			json_num(f, s->spread);
			fprintf(f, ", \"best_stock\": ");
			if (c->best_stock >= 0)
				json_str(f, c->mechs[c->best_stock]->name);
			else
				fputs("null", f);
			fprintf(f, ", \"placement\": \"%s\", \"cpus\": \"%s\", \"depth\": %u, "
				"\"batch\": %u, \"samples\": %llu, \"repeats\": %u, \"note\": ",
				placement_names[c->pl], fmt_cpus(c, cpus, sizeof(cpus)), s->depth,
				c->mechs[mi]->send_many ? opt.batch : 1,
				(unsigned long long)s->samples, opt.repeats);
			json_str(f, s->note);
			fputc('}', f);
		}
	}
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

static void csv_num(FILE *f, double v)
{
	if (!isnan(v) && !isinf(v))
		fprintf(f, "%.6g", v);
	fputc(',', f);
}

void write_csv(const char *path)
{
	FILE *f = fopen(path, "w");
	unsigned int i, mi;
	char cpus[32];
	const char *p;

	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "workload,size,placement,cpus,mech,kind,status,p50_ns,p99_ns,"
		"msgs_per_s,bytes_per_s,ratio,spread,best_stock,depth,batch,samples,note\n");
	for (i = 0; i < ncells; i++) {
		const struct cell *c = &cells[i];

		for (mi = 0; mi < c->nmechs; mi++) {
			const struct result *s = &c->sum[mi];

			fprintf(f, "%s,%zu,%s,\"%s\",%s,%s,%s,", workloads[c->wl].name,
				c->size, placement_names[c->pl],
				fmt_cpus(c, cpus, sizeof(cpus)), c->mechs[mi]->name,
				c->mechs[mi]->flags & MECH_KIPC ? "kipc" : "stock",
				res_status(s));
			csv_num(f, s->p50_ns);
			csv_num(f, s->p99_ns);
			csv_num(f, s->msgs_s);
			csv_num(f, s->bytes_s);
			csv_num(f, ratio(c, mi));
			csv_num(f, s->spread);
			fprintf(f, "%s,%u,%u,%llu,\"",
				c->best_stock >= 0 ? c->mechs[c->best_stock]->name : "",
				s->depth, c->mechs[mi]->send_many ? opt.batch : 1,
				(unsigned long long)s->samples);
			for (p = s->note; *p; p++) {
				if (*p == '"')
					fputc('"', f);
				fputc(*p, f);
			}
			fputs("\"\n", f);
		}
	}
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}
