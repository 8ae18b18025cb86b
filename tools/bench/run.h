/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc-bench's own parts, shared by its files (bench.h is the mechanisms'
 * interface).  One file per topic:
 *   bench.c    options, the run's state, main
 *   plan.c     which cells and mechanisms run, on which CPUs
 *   measure.c  one measurement: fork, start, collect, reap
 *   worker.c   the workloads, as a worker process runs them
 *   stats.c    medians, percentiles, spread
 *   report.c   a cell's summary and its table
 *   goals.c    the ratios kipc aims for, with verdicts
 *   export.c   JSON and CSV
 */
#ifndef KIPC_BENCH_RUN_H
#define KIPC_BENCH_RUN_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "bench.h"

#define MAX_WORKERS	16
#define MAX_SAMPLES	(256 * 1024)
#define MAX_REPEATS	21
#define MAX_CELL_MECHS	24
#define SEM_INNER	16	/* uncontended post/wait pairs per sample */
#define BW_CHUNK	65536	/* region bandwidth: bytes per memcpy */


/* ------------------------------------------------------------ options */

struct options {
	double duration;
	double warmup;
	unsigned int repeats;
	unsigned int depth;
	unsigned int batch;
	unsigned int producers;
	unsigned int consumers;
	size_t region_size;
	size_t sizes[16];
	unsigned int nsizes;
	size_t rtt_sizes[16];
	unsigned int nrtt_sizes;
	unsigned int workloads;		/* bit per enum wl_id */
	unsigned int placements;	/* bit per enum placement */
	const char *mechs;		/* comma list, or NULL: all */
	const char *json;
	const char *csv;
	bool quiet;
	bool progress;
};

extern struct options opt;

/* ---------------------------------------------------------- workloads */

enum wl_id {
	WL_RTT, WL_STREAM, WL_MPMC, WL_SEM, WL_SEM_RTT,
	WL_REGION_MAP, WL_REGION_TOUCH, WL_REGION_BW, WL_COUNT
};

enum placement { PL_SAME, PL_CROSS, PL_ANY, PL_ONE };

struct workload {
	const char *name;
	const char *title;
	enum mech_kind kind;
	bool throughput;	/* ranked by msgs/s, else by p50 latency */
	const char *unit;	/* what p50/p99 are of */
};


extern const char *const placement_names[];
extern const struct workload workloads[WL_COUNT];

/* --------------------------------------------------------- the run */

struct result {
	int status;		/* 0, or -errno */
	bool skipped;		/* not run: the mechanism is unavailable */
	unsigned int depth;
	double p50_ns, p99_ns, msgs_s, bytes_s;	/* NAN: not measured */
	double spread;		/* (max - min) / median of the headline over rounds */
	uint64_t samples;
	char note[160];
};

struct cell {
	enum wl_id wl;
	size_t size;
	enum placement pl;
	int cpu[2];
	const struct bench_mech *mechs[MAX_CELL_MECHS];
	unsigned int nmechs;
	struct result rep[MAX_CELL_MECHS][MAX_REPEATS];
	struct result sum[MAX_CELL_MECHS];	/* medians over the repeats */
	int best_stock;		/* index into mechs, or -1 */
};

extern struct cell *cells;
extern unsigned int ncells;
extern int cpu_a, cpu_b;	/* the two CPUs for pinning */
extern volatile sig_atomic_t interrupted;

/* Per-worker results, in memory shared with the parent. */
struct wres {
	int err;
	char msg[128];
	uint64_t count;		/* messages (stream) or samples */
	int64_t t_first, t_last;
	double p50, p99;
	double rate;		/* per second, workload specific */
	double bytes_s;
};

struct ctl {
	atomic_int producers_left;
	atomic_int stop;
	struct wres w[MAX_WORKERS];
};

/* Messages carry this header in their first bytes. */
struct msg_hdr {
	uint32_t phase;
	uint32_t from;
	uint64_t seq;
};

#define MIN_SIZE	sizeof(struct msg_hdr)
_Static_assert(sizeof(struct msg_hdr) == BENCH_MSG_HDR, "bench.h is wrong");

enum { PH_WARM = 1, PH_MEAS, PH_STOP };

/* A worker process's state; worker.c runs it. */
struct worker {
	struct mech_ctx *ctx;
	struct ctl *ctl;
	const struct cell *cell;
	int role;
	char *buf;		/* BENCH_HEADROOM bytes in front are ours */
	uint64_t *samples;
	int64_t t_warm_end, t_end;	/* ns */
	/* Sample clock: tick() at the start of warm-up and of measuring. */
	int64_t ns0, m_ns0;
	uint64_t tk0, m_tk0, tk_end;
};

#define WFAIL(w, err, what) worker_fail(w, err, what)

/* A goal (goals.c): a ratio kipc aims for, and the measured one. */
struct goal {
	const char *what;
	enum placement pl;
	double value;
	double target;
	bool lower;		/* the goal is value <= target */
	const char *vs;
};

extern struct goal goals[32];
extern unsigned int ngoals;

int64_t now_ns(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* stats.c */
void percentiles(uint64_t *v, size_t n, double *p50, double *p99);
double median(double *v, unsigned int n);
double spread(double *v, unsigned int n);

/* plan.c */
bool mech_selected(const struct bench_mech *m);
void plan(void);
void find_cpus(void);

/* measure.c, worker.c */
void result_init(struct result *res);
void measure(struct cell *c, unsigned int mi, struct result *res);
void worker_main(struct worker *w, int ready_fd, int go_fd);

/* report.c */
double res_key(const struct cell *c, const struct result *r);
double ratio(const struct cell *c, unsigned int mi);
void summarize(struct cell *c);
const char *fmt_cpus(const struct cell *c, char *buf, size_t len);
void cell_title(const struct cell *c, char *buf, size_t len);
void print_cell(FILE *f, const struct cell *c);
const char *clocksource(void);
void print_header(FILE *f);

/* goals.c */
void compute_goals(void);
const char *goal_verdict(const struct goal *g);
void print_goals(FILE *f);

/* export.c */
void write_json(const char *path);
void write_csv(const char *path);

#endif /* KIPC_BENCH_RUN_H */
