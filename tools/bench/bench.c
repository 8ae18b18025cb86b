// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: measure kipc and the stock IPC mechanisms side by side.
 *
 * The run is a list of cells (workload, size, CPU placement).  Each cell is
 * measured for every mechanism that fits it, in rounds: one measurement of
 * each mechanism per round, --repeats rounds, so that drift in the machine
 * (other load, frequency, the host of a VM) hits all mechanisms alike.  A
 * cell reports the median over the rounds of each statistic, and every
 * mechanism's ratio to the best stock mechanism of the same cell.
 *
 * A measurement forks its worker processes, pins them, lets each warm up for
 * --warmup seconds and measure for --duration seconds, then collects their
 * results from a shared page.  The parent only sleeps meanwhile.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* ------------------------------------------------------------ options */

struct options opt = {
	.duration = 0.2,
	.warmup = -1,
	.repeats = 5,
	.depth = 64,
	.batch = 32,
	.producers = 2,
	.consumers = 2,
	.region_size = 1 << 20,
	.sizes = { 64, 4096, 65536 },
	.nsizes = 3,
	.rtt_sizes = { 64, 65536 },
	.nrtt_sizes = 2,
};

/* ---------------------------------------------------------- workloads */

const char *const placement_names[] = {
	[PL_SAME] = "same-core", [PL_CROSS] = "cross-core",
	[PL_ANY] = "any", [PL_ONE] = "one-core",
};

const struct workload workloads[WL_COUNT] = {
	[WL_RTT] = { "rtt", "round trip", MECH_MSG, false, "round trip" },
	[WL_STREAM] = { "stream", "one-way stream", MECH_MSG, true, NULL },
	[WL_MPMC] = { "mpmc", "producers x consumers", MECH_MSG, true, NULL },
	[WL_SEM] = { "sem", "semaphore post+wait, uncontended", MECH_SEM, false, "post+wait" },
	[WL_SEM_RTT] = { "sem-rtt", "semaphore ping-pong", MECH_SEM, false, "round trip" },
	[WL_REGION_MAP] = { "region-map", "region map+unmap", MECH_REGION, false, "map+unmap" },
	[WL_REGION_TOUCH] = { "region-touch", "region first touch", MECH_REGION, false, "page" },
	[WL_REGION_BW] = { "region-bw", "region write bandwidth", MECH_REGION, true, NULL },
};

/* --------------------------------------------------------- the run */

struct cell *cells;
unsigned int ncells;
int cpu_a = -1, cpu_b = -1;
volatile sig_atomic_t interrupted;

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kipc-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fputs("Usage: kipc-bench [OPTIONS]\n"
	      "Measure kipc and the stock IPC mechanisms on the same workloads.\n\n"
	      "  -d, --duration SEC      measuring time per measurement (default 0.2)\n"
	      "  -w, --warmup SEC        warm-up before each (default duration/4)\n"
	      "  -r, --repeats N         rounds; the median is reported (default 5)\n"
	      "  -s, --sizes LIST        stream sizes, e.g. 64,4k,64k (default)\n"
	      "      --rtt-sizes LIST    round-trip sizes (default 64,64k)\n"
	      "      --depth N           queue depth in messages (default 64)\n"
	      "      --batch N           messages per batched call, <= 64 (default 32)\n"
	      "      --producers N       producers in mpmc (default 2)\n"
	      "      --consumers N       consumers in mpmc (default 2)\n"
	      "      --region-size N     region workloads' size (default 1M)\n"
	      "  -m, --mech LIST         only these mechanisms (see --list)\n"
	      "  -W, --workloads LIST    rtt,stream,mpmc,sem,sem-rtt,region-map,\n"
	      "                          region-touch,region-bw (default all)\n"
	      "  -p, --placement LIST    same,cross (default both)\n"
	      "      --quick             a smoke run: everything once, briefly\n"
	      "      --json FILE         write the results as JSON\n"
	      "      --csv FILE          write the results as CSV\n"
	      "  -q, --quiet             no progress line\n"
	      "  -l, --list              list the mechanisms and exit\n"
	      "  -h, --help              this help\n", f);
}

static size_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k': case 'K':
		v *= 1024;
		end++;
		break;
	case 'm': case 'M':
		v *= 1024 * 1024;
		end++;
		break;
	}
	if ((*end && *end != ',') || v < 1 || v > (1 << 30))
		die("bad size '%s'", s);
	return (size_t)v;
}

static unsigned int parse_sizes(const char *s, size_t *v, unsigned int max)
{
	unsigned int n = 0;

	for (;;) {
		if (n == max)
			die("too many sizes");
		v[n] = parse_size(s);
		if (v[n] < MIN_SIZE)
			die("sizes must be at least %zu bytes", MIN_SIZE);
		n++;
		s = strchr(s, ',');
		if (!s)
			return n;
		s++;
	}
}

static unsigned int parse_uint(const char *s, unsigned int min, unsigned int max,
			       const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || end == s || v < min || v > max)
		die("%s must be %u..%u", what, min, max);
	return v;
}

static double parse_secs(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || end == s || v < 0 || v > 3600)
		die("bad %s '%s'", what, s);
	return v;
}

static unsigned int parse_list(const char *s, const char *const *names, unsigned int n,
			       const char *what)
{
	unsigned int mask = 0, i;
	size_t len;

	while (*s) {
		len = strcspn(s, ",");
		for (i = 0; i < n; i++)
			if (names[i] && strlen(names[i]) == len && !strncmp(s, names[i], len))
				break;
		if (i == n)
			die("unknown %s '%.*s'", what, (int)len, s);
		mask |= 1u << i;
		s += len;
		if (*s)
			s++;
	}
	return mask;
}

static void list_mechs(void)
{
	static const char *const kinds[] = { "msg", "sem", "region" };
	unsigned int i;

	for (i = 0; bench_mechs[i]; i++) {
		const struct bench_mech *m = bench_mechs[i];

		printf("%-16s %-6s %-5s %-9s %s\n", m->name, kinds[m->kind],
		       m->flags & MECH_KIPC ? "kipc" : "stock",
		       m->flags & MECH_PLANNED ? "planned" : "available", m->desc);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void progress(unsigned int done, unsigned int total, const struct cell *c,
		     const struct bench_mech *m, unsigned int rep)
{
	char title[160];

	if (!opt.progress)
		return;
	cell_title(c, title, sizeof(title));
	fprintf(stderr, "\r\033[K[%3u/%u] %s: %s, round %u/%u", done + 1, total,
		title, m->name, rep + 1, opt.repeats);
	fflush(stderr);
}

int main(int argc, char **argv)
{
	static const char *const wl_names[WL_COUNT] = {
		"rtt", "stream", "mpmc", "sem", "sem-rtt", "region-map",
		"region-touch", "region-bw",
	};
	static const char *const pl_names[] = { "same", "cross" };
	enum {
		O_RTT_SIZES = 256, O_DEPTH, O_BATCH, O_PRODUCERS, O_CONSUMERS,
		O_REGION_SIZE, O_QUICK, O_JSON, O_CSV,
	};
	static const struct option lopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "repeats", required_argument, NULL, 'r' },
		{ "sizes", required_argument, NULL, 's' },
		{ "rtt-sizes", required_argument, NULL, O_RTT_SIZES },
		{ "depth", required_argument, NULL, O_DEPTH },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "producers", required_argument, NULL, O_PRODUCERS },
		{ "consumers", required_argument, NULL, O_CONSUMERS },
		{ "region-size", required_argument, NULL, O_REGION_SIZE },
		{ "mech", required_argument, NULL, 'm' },
		{ "workloads", required_argument, NULL, 'W' },
		{ "placement", required_argument, NULL, 'p' },
		{ "quick", no_argument, NULL, O_QUICK },
		{ "json", required_argument, NULL, O_JSON },
		{ "csv", required_argument, NULL, O_CSV },
		{ "quiet", no_argument, NULL, 'q' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned int total, done = 0, i, r, mi;
	struct sigaction sa = { .sa_handler = on_signal };
	bool quick = false;
	sigset_t chld;
	int o;

	opt.workloads = (1u << WL_COUNT) - 1;
	opt.placements = (1u << PL_SAME) | (1u << PL_CROSS);
	while ((o = getopt_long(argc, argv, "d:w:r:s:m:W:p:qlh", lopts, NULL)) != -1) {
		switch (o) {
		case 'd':
			opt.duration = parse_secs(optarg, "duration");
			if (opt.duration <= 0)
				die("duration must be > 0");
			break;
		case 'w':
			opt.warmup = parse_secs(optarg, "warm-up");
			break;
		case 'r':
			opt.repeats = parse_uint(optarg, 1, MAX_REPEATS, "repeats");
			break;
		case 's':
			opt.nsizes = parse_sizes(optarg, opt.sizes, 16);
			break;
		case O_RTT_SIZES:
			opt.nrtt_sizes = parse_sizes(optarg, opt.rtt_sizes, 16);
			break;
		case O_DEPTH:
			opt.depth = parse_uint(optarg, 1, 65536, "depth");
			break;
		case O_BATCH:
			opt.batch = parse_uint(optarg, 1, BENCH_MAX_BATCH, "batch");
			break;
		case O_PRODUCERS:
			opt.producers = parse_uint(optarg, 1, MAX_WORKERS / 2, "producers");
			break;
		case O_CONSUMERS:
			opt.consumers = parse_uint(optarg, 1, MAX_WORKERS / 2, "consumers");
			break;
		case O_REGION_SIZE:
			opt.region_size = parse_size(optarg);
			break;
		case 'm':
			opt.mechs = optarg;
			for (i = 0; bench_mechs[i] && !mech_selected(bench_mechs[i]); i++)
				;
			if (!bench_mechs[i])
				die("no known mechanism in '%s' (see --list)", optarg);
			break;
		case 'W':
			opt.workloads = parse_list(optarg, wl_names, WL_COUNT, "workload");
			break;
		case 'p':
			opt.placements = parse_list(optarg, pl_names, 2, "placement");
			break;
		case O_QUICK:
			quick = true;
			break;
		case O_JSON:
			opt.json = optarg;
			break;
		case O_CSV:
			opt.csv = optarg;
			break;
		case 'q':
			opt.quiet = true;
			break;
		case 'l':
			list_mechs();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
	if (quick) {
		opt.duration = 0.02;
		opt.warmup = 0.005;
		opt.repeats = 1;
		opt.sizes[0] = 64;
		opt.nsizes = 1;
		opt.rtt_sizes[0] = 64;
		opt.nrtt_sizes = 1;
		opt.placements = 1u << PL_SAME;
		opt.region_size = 64 * 1024;
	}
	if (opt.warmup < 0)
		opt.warmup = opt.duration / 4;
	if (opt.batch > opt.depth)
		opt.batch = opt.depth;
	opt.progress = !opt.quiet && isatty(STDERR_FILENO);

	/* SIGCHLD is waited for with sigtimedwait, never delivered. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A reader gone mid-run must fail a write, not kill the writer. */
	signal(SIGPIPE, SIG_IGN);

	find_cpus();
	plan();
	if (!ncells)
		die("nothing to measure with these options");
	print_header(stdout);
	if (cpu_b < 0 && (opt.placements & (1u << PL_CROSS)))
		printf("note: one CPU only, cross-core runs skipped\n");
	fflush(stdout);

	for (total = 0, i = 0; i < ncells; i++)
		total += cells[i].nmechs * opt.repeats;
	for (i = 0; i < ncells && !interrupted; i++) {
		struct cell *c = &cells[i];
		const char *why[MAX_CELL_MECHS];

		for (mi = 0; mi < c->nmechs; mi++)
			why[mi] = c->mechs[mi]->probe ? c->mechs[mi]->probe() : NULL;
		/* Rounds: A B C .. A B C .., not A A .. B B .. */
		for (r = 0; r < opt.repeats && !interrupted; r++) {
			for (mi = 0; mi < c->nmechs && !interrupted; mi++) {
				struct result *res = &c->rep[mi][r];

				progress(done++, total, c, c->mechs[mi], r);
				if (why[mi]) {
					result_init(res);
					res->skipped = true;
					snprintf(res->note, sizeof(res->note), "%s", why[mi]);
					continue;
				}
				measure(c, mi, res);
			}
		}
		if (interrupted) {
			ncells = i;
			break;
		}
		summarize(c);
		if (opt.progress)
			fputs("\r\033[K", stderr);
		print_cell(stdout, c);
		fflush(stdout);
	}
	compute_goals();
	print_goals(stdout);
	if (opt.json)
		write_json(opt.json);
	if (opt.csv)
		write_csv(opt.csv);
	if (interrupted) {
		fprintf(stderr, "kipc-bench: interrupted\n");
		return 130;
	}
	return 0;
}
