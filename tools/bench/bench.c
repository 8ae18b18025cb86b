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
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "bench.h"

#define MAX_WORKERS	16
#define MAX_SAMPLES	(256 * 1024)
#define MAX_REPEATS	21
#define MAX_CELL_MECHS	24
#define SEM_INNER	16	/* uncontended post/wait pairs per sample */
#define BW_CHUNK	65536	/* region bandwidth: bytes per memcpy */

/* ------------------------------------------------------------ options */

static struct {
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
} opt = {
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

enum wl_id {
	WL_RTT, WL_STREAM, WL_MPMC, WL_SEM, WL_SEM_RTT,
	WL_REGION_MAP, WL_REGION_TOUCH, WL_REGION_BW, WL_COUNT
};

enum placement { PL_SAME, PL_CROSS, PL_ANY, PL_ONE };

static const char *const placement_names[] = {
	[PL_SAME] = "same-core", [PL_CROSS] = "cross-core",
	[PL_ANY] = "any", [PL_ONE] = "one-core",
};

struct workload {
	const char *name;
	const char *title;
	enum mech_kind kind;
	bool throughput;	/* ranked by msgs/s, else by p50 latency */
	const char *unit;	/* what p50/p99 are of */
};

static const struct workload workloads[WL_COUNT] = {
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

static struct cell *cells;
static unsigned int ncells;
static int cpu_a = -1, cpu_b = -1;	/* the two CPUs for pinning */
static volatile sig_atomic_t interrupted;

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

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kipc-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ------------------------------------------------------- statistics */

static void swap_u64(uint64_t *a, uint64_t *b)
{
	uint64_t t = *a;

	*a = *b;
	*b = t;
}

/* The k-th smallest of v[0..n-1] (quickselect; reorders v). */
static uint64_t kth(uint64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint64_t pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap_u64(&v[i], &v[j]);
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

static void percentiles(uint64_t *v, size_t n, double *p50, double *p99)
{
	if (!n) {
		*p50 = *p99 = NAN;
		return;
	}
	*p99 = kth(v, n, (size_t)(0.99 * (n - 1)));
	*p50 = kth(v, n, (n - 1) / 2);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	double t[MAX_REPEATS];
	unsigned int i, m = 0;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			t[m++] = v[i];
	if (!m)
		return NAN;
	qsort(t, m, sizeof(t[0]), cmp_double);
	return m % 2 ? t[m / 2] : (t[m / 2 - 1] + t[m / 2]) / 2;
}

/* How far apart the rounds were: (max - min) / median; 0 for one round. */
static double spread(double *v, unsigned int n)
{
	double lo = INFINITY, hi = -INFINITY, mid = median(v, n);
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return isnan(mid) || mid <= 0 || hi < lo ? NAN : (hi - lo) / mid;
}

/* ---------------------------------------------------------- workers */

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

static int worker_fail(struct worker *w, int err, const char *what)
{
	struct wres *r = &w->ctl->w[w->role];

	r->err = err ? err : -EIO;
	snprintf(r->msg, sizeof(r->msg), "%s: %s", what, strerror(-r->err));
	return r->err;
}

static bool use_batch(const struct worker *w)
{
	return w->ctx->mech->send_many && w->ctx->batch > 1;
}

/*
 * Samples are timed with the CPU's time-stamp counter where there is one:
 * clock_gettime() is a system call when the clocksource has no vDSO (hpet,
 * as in many VMs), which would add a syscall to every sample.  The counter
 * is read on one pinned CPU only and calibrated against CLOCK_MONOTONIC over
 * the warm-up (for the deadline) and over the measurement (for the result).
 */
static inline uint64_t tick(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return now_ns();
#endif
}

#define MIN_WARMUP_NS	2000000	/* enough to calibrate the counter */

static void set_times(struct worker *w)
{
	int64_t warm = (int64_t)(opt.warmup * 1e9);

	w->ns0 = now_ns();
	w->tk0 = tick();
	w->t_warm_end = w->ns0 + (warm < MIN_WARMUP_NS ? MIN_WARMUP_NS : warm);
	w->t_end = w->t_warm_end + (int64_t)(opt.duration * 1e9);
}

/* Warm-up is over: measure for --duration from now, in ticks. */
static void meas_begin(struct worker *w)
{
	double per_ns;

	w->m_ns0 = now_ns();
	w->m_tk0 = tick();
	per_ns = w->m_ns0 > w->ns0 && w->m_tk0 > w->tk0 ?
		 (double)(w->m_tk0 - w->tk0) / (w->m_ns0 - w->ns0) : 1;
	w->tk_end = w->m_tk0 + (uint64_t)(opt.duration * 1e9 * per_ns);
	w->t_end = w->m_ns0 + (int64_t)(opt.duration * 1e9);
}

static struct msg_hdr *hdr(void *buf)
{
	return buf;
}

/* @n samples in ticks, each of @per operations: percentiles and rate. */
static void meas_end(struct worker *w, size_t n, unsigned int per)
{
	struct wres *r = &w->ctl->w[w->role];
	int64_t ns = now_ns();
	uint64_t tk = tick();
	double ns_per_tk = tk > w->m_tk0 ? (double)(ns - w->m_ns0) / (tk - w->m_tk0) : 1;

	r->count = n;
	r->rate = ns > w->m_ns0 ? (double)n * per * 1e9 / (ns - w->m_ns0) : NAN;
	percentiles(w->samples, n, &r->p50, &r->p99);
	r->p50 *= ns_per_tk / per;
	r->p99 *= ns_per_tk / per;
}

/* Ping-pong: role 0 sends on channel 0 and waits for the echo on 1. */
/* Send w->buf on @sch and receive the answer on @rch into it. */
static int exchange(struct worker *w, unsigned int sch, unsigned int rch)
{
	const struct bench_mech *m = w->ctx->mech;
	int ret;

	if (m->exchange)
		return m->exchange(w->ctx, sch, w->buf, rch, w->buf);
	ret = m->send(w->ctx, sch, w->buf);
	return ret ? ret : m->recv(w->ctx, rch, w->buf);
}

static int wl_rtt(struct worker *w)
{
	const struct bench_mech *m = w->ctx->mech;
	struct mech_ctx *ctx = w->ctx;
	uint64_t t0, t1;
	size_t n = 0;
	int ret;

	if (w->role == 1) {
		/* Reply to each request and wait for the next, until STOP. */
		ret = m->recv(ctx, 0, w->buf);
		while (!ret && hdr(w->buf)->phase != PH_STOP)
			ret = exchange(w, 1, 0);
		return ret ? WFAIL(w, ret, "reply") : 0;
	}
	hdr(w->buf)->phase = PH_WARM;
	set_times(w);
	do {
		ret = exchange(w, 0, 1);
		if (ret)
			return WFAIL(w, ret, "warm-up");
	} while (now_ns() < w->t_warm_end);
	hdr(w->buf)->phase = PH_MEAS;
	meas_begin(w);
	t1 = tick();
	do {
		t0 = t1;
		ret = exchange(w, 0, 1);
		if (ret)
			return WFAIL(w, ret, "exchange");
		t1 = tick();
		w->samples[n++] = t1 - t0;
	} while (t1 < w->tk_end && n < MAX_SAMPLES);
	meas_end(w, n, 1);
	hdr(w->buf)->phase = PH_STOP;
	ret = m->send(ctx, 0, w->buf);
	return ret ? WFAIL(w, ret, "send stop") : 0;
}

/* Send @n messages at w->buf, whatever the mechanism's batching. */
static int send_msgs(struct worker *w, unsigned int n)
{
	const struct bench_mech *m = w->ctx->mech;
	size_t size = w->ctx->size;
	char *p = w->buf;
	int ret;

	while (n) {
		if (use_batch(w)) {
			ret = m->send_many(w->ctx, 0, p, n);
			if (ret < 0)
				return ret;
			if (!ret)
				return -EIO;
		} else {
			ret = m->send(w->ctx, 0, p);
			if (ret)
				return ret;
			ret = 1;
		}
		n -= ret;
		p += ret * size;
	}
	return 0;
}

/*
 * Stream and producers x consumers: producers (roles below
 * opt.producers, or role 0 in a stream) send stamped messages until time is
 * up; the last producer to finish sends one STOP per consumer.  A consumer
 * counts the measured messages between the first of them and its STOP.
 */
static int wl_stream(struct worker *w, unsigned int nprod, unsigned int ncons)
{
	const struct bench_mech *m = w->ctx->mech;
	struct mech_ctx *ctx = w->ctx;
	struct wres *r = &w->ctl->w[w->role];
	unsigned int nb = use_batch(w) ? ctx->batch : 1;
	unsigned int i, k, check, stops;
	size_t size = ctx->size;
	uint64_t seq = 0;
	int64_t t = 0;
	int ret;

	if (w->role < (int)nprod) {
		uint32_t phase = PH_WARM;
		/* However slow the machine, send enough to measure something. */
		uint64_t meas = 0, min_meas = nb > 4 ? 2 * nb : 8;

		set_times(w);
		/* Reading the clock per call would cost as much as a small send. */
		check = nb > 1 || size >= 1024 ? 1 : 8;
		for (k = 0;; k++) {
			if (k % check == 0) {
				t = now_ns();
				if (t >= w->t_end && meas >= min_meas)
					break;
				if (t >= w->t_warm_end)
					phase = PH_MEAS;
			}
			for (i = 0; i < nb; i++) {
				struct msg_hdr *h = hdr(w->buf + i * size);

				h->phase = phase;
				h->from = w->role;
				h->seq = seq++;
			}
			ret = send_msgs(w, nb);
			if (ret)
				return WFAIL(w, ret, "send");
			if (phase == PH_MEAS)
				meas += nb;
		}
		r->count = seq;
		if (atomic_fetch_sub(&w->ctl->producers_left, 1) != 1)
			return 0;
		hdr(w->buf)->phase = PH_STOP;
		for (i = 0; i < ncons; i++) {
			ret = m->send(ctx, 0, w->buf);
			if (ret)
				return WFAIL(w, ret, "send stop");
		}
		return 0;
	}

	/*
	 * The window opens when the first call that brought measured
	 * messages returns; those are not counted, the ones after it are,
	 * up to the STOP: exact also when a call brings a whole batch.
	 */
	for (stops = 0; !stops;) {
		bool opened = r->t_first != 0;

		if (use_batch(w))
			ret = m->recv_many(ctx, 0, w->buf, nb);
		else if (!(ret = m->recv(ctx, 0, w->buf)))
			ret = 1;
		if (ret <= 0)
			return WFAIL(w, ret, "recv");
		for (i = 0; i < (unsigned int)ret; i++) {
			const struct msg_hdr *h = hdr(w->buf + i * size);

			if (h->phase == PH_MEAS) {
				if (opened)
					r->count++;
				else if (!r->t_first)
					r->t_first = now_ns();
			} else if (h->phase == PH_STOP) {
				stops++;
			} else if (h->phase != PH_WARM) {
				return WFAIL(w, -EPROTO, "bad message");
			}
		}
	}
	r->t_last = now_ns();
	/* A batch may have taken another consumer's STOP: hand it back. */
	hdr(w->buf)->phase = PH_STOP;
	while (--stops) {
		ret = m->send(ctx, 0, w->buf);
		if (ret)
			return WFAIL(w, ret, "resend stop");
	}
	return 0;
}

/* V on @a, then P on @b. */
static int post_wait(struct worker *w, unsigned int a, unsigned int b)
{
	int ret = w->ctx->mech->post(w->ctx, a);

	return ret ? ret : w->ctx->mech->wait(w->ctx, b);
}

static int wl_sem(struct worker *w)
{
	uint64_t t0, t1;
	unsigned int i;
	size_t n = 0;
	int ret = 0;

	set_times(w);
	do {
		ret = post_wait(w, 0, 0);
		if (ret)
			return WFAIL(w, ret, "warm-up");
	} while (now_ns() < w->t_warm_end);
	meas_begin(w);
	t1 = tick();
	do {
		t0 = t1;
		for (i = 0; i < SEM_INNER && !ret; i++)
			ret = post_wait(w, 0, 0);
		if (ret)
			return WFAIL(w, ret, "post/wait");
		t1 = tick();
		w->samples[n++] = t1 - t0;
	} while (t1 < w->tk_end && n < MAX_SAMPLES);
	meas_end(w, n, SEM_INNER);
	return 0;
}

static int wl_sem_rtt(struct worker *w)
{
	const struct bench_mech *m = w->ctx->mech;
	struct mech_ctx *ctx = w->ctx;
	uint64_t t0, t1;
	size_t n = 0;
	int ret;

	if (w->role == 1) {
		for (;;) {
			ret = m->wait(ctx, 0);
			if (ret)
				return WFAIL(w, ret, "wait");
			if (atomic_load(&w->ctl->stop))
				return 0;
			ret = m->post(ctx, 1);
			if (ret)
				return WFAIL(w, ret, "post");
		}
	}
	set_times(w);
	do {
		ret = post_wait(w, 0, 1);
		if (ret)
			return WFAIL(w, ret, "warm-up");
	} while (now_ns() < w->t_warm_end);
	meas_begin(w);
	t1 = tick();
	do {
		t0 = t1;
		ret = post_wait(w, 0, 1);
		if (ret)
			return WFAIL(w, ret, "post/wait");
		t1 = tick();
		w->samples[n++] = t1 - t0;
	} while (t1 < w->tk_end && n < MAX_SAMPLES);
	meas_end(w, n, 1);
	atomic_store(&w->ctl->stop, 1);
	ret = m->post(ctx, 0);
	return ret ? WFAIL(w, ret, "post stop") : 0;
}

/* Region workloads make their regions here, in the one worker. */
static int region_touch(struct worker *w)
{
	const struct bench_mech *m = w->ctx->mech;
	struct mech_ctx *ctx = w->ctx;
	struct wres *r = &w->ctl->w[w->role];
	size_t page = sysconf(_SC_PAGESIZE), npages = ctx->size / page, n = 0, i;
	bool measuring = false;
	uint64_t t0, t1;
	char *p;
	int ret;

	for (;;) {
		ret = m->setup(ctx);
		if (ret) {
			m->teardown(ctx);
			return WFAIL(w, ret, ctx->note[0] ? ctx->note : "setup");
		}
		p = m->map(ctx);
		if (!p) {
			ret = -errno;
			m->teardown(ctx);
			return WFAIL(w, ret, "map");
		}
		t0 = tick();
		for (i = 0; i < npages; i++)
			p[i * page] = 1;
		t1 = tick();
		m->unmap(ctx, p);
		m->teardown(ctx);
		if (measuring) {
			w->samples[n++] = t1 - t0;
			if (t1 >= w->tk_end || n == MAX_SAMPLES)
				break;
		} else if (now_ns() >= w->t_warm_end) {
			measuring = true;
			meas_begin(w);
		}
	}
	meas_end(w, n, npages);		/* per page: p50, p99 and rate */
	r->bytes_s = r->rate * page;
	return 0;
}

static int region_map(struct worker *w)
{
	const struct bench_mech *m = w->ctx->mech;
	struct mech_ctx *ctx = w->ctx;
	bool measuring = false;
	uint64_t t0, t1;
	size_t n = 0;
	void *p;
	int ret;

	t1 = tick();
	for (;;) {
		t0 = t1;
		p = m->map(ctx);
		if (!p)
			return WFAIL(w, -errno, "map");
		ret = m->unmap(ctx, p);
		if (ret)
			return WFAIL(w, ret, "unmap");
		t1 = tick();
		if (measuring) {
			w->samples[n++] = t1 - t0;
			if (t1 >= w->tk_end || n == MAX_SAMPLES)
				break;
		} else if (now_ns() >= w->t_warm_end) {
			measuring = true;
			meas_begin(w);
			t1 = tick();
		}
	}
	meas_end(w, n, 1);
	return 0;
}

/* Bandwidth: copy into a mapped, already faulted region. */
static int region_bw(struct worker *w)
{
	const struct bench_mech *m = w->ctx->mech;
	struct mech_ctx *ctx = w->ctx;
	struct wres *r = &w->ctl->w[w->role];
	size_t chunk = ctx->size < BW_CHUNK ? ctx->size : BW_CHUNK, off = 0, i;
	bool measuring = false;
	int64_t t = 0, start = 0;
	uint64_t bytes = 0;
	char *src, *p;

	src = malloc(BW_CHUNK);
	if (!src)
		return WFAIL(w, -ENOMEM, "malloc");
	p = m->map(ctx);
	if (!p) {
		free(src);
		return WFAIL(w, -errno, "map");
	}
	memset(src, 0x5a, BW_CHUNK);
	memset(p, 0, ctx->size);
	for (i = 0;; i++) {
		memcpy(p + off, src, chunk);
		off += chunk;
		if (off + chunk > ctx->size)
			off = 0;
		if (measuring)
			bytes += chunk;
		if (i % 16)
			continue;
		t = now_ns();
		if (measuring) {
			if (t >= w->t_end)
				break;
		} else if (t >= w->t_warm_end) {
			measuring = true;
			start = t;
			w->t_end = start + (int64_t)(opt.duration * 1e9);
		}
	}
	r->bytes_s = bytes * 1e9 / (t - start);
	r->rate = r->bytes_s / chunk;
	r->p50 = r->p99 = NAN;
	m->unmap(ctx, p);
	free(src);
	return 0;
}

static int wl_region(struct worker *w, enum wl_id wl)
{
	struct mech_ctx *ctx = w->ctx;
	int ret;

	set_times(w);
	if (wl == WL_REGION_TOUCH)
		return region_touch(w);
	ret = ctx->mech->setup(ctx);
	if (ret) {
		ctx->mech->teardown(ctx);
		return WFAIL(w, ret, ctx->note[0] ? ctx->note : "setup");
	}
	ret = wl == WL_REGION_MAP ? region_map(w) : region_bw(w);
	ctx->mech->teardown(ctx);
	return ret;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int worker_run(struct worker *w)
{
	const struct cell *c = w->cell;

	switch (c->wl) {
	case WL_RTT:
		return wl_rtt(w);
	case WL_STREAM:
		return wl_stream(w, 1, 1);
	case WL_MPMC:
		return wl_stream(w, opt.producers, opt.consumers);
	case WL_SEM:
		return wl_sem(w);
	case WL_SEM_RTT:
		return wl_sem_rtt(w);
	default:
		return wl_region(w, c->wl);
	}
}

/* The child side of a measurement; never returns. */
static void worker_main(struct worker *w, int ready_fd, int go_fd)
{
	const struct cell *c = w->cell;
	size_t bytes = BENCH_HEADROOM + (size_t)(w->ctx->batch + 1) * w->ctx->size;
	sigset_t all;
	char byte = 0;
	void *mem;
	int ret;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGINT, SIG_DFL);
	if (c->pl == PL_SAME || c->pl == PL_ONE)
		pin(c->cpu[0]);
	else if (c->pl == PL_CROSS)
		pin(c->cpu[w->role ? 1 : 0]);

	w->ctx->role = w->role;
	/* Touch everything now: page faults must not land in the samples. */
	if (posix_memalign(&mem, 4096, 64 + bytes) ||
	    !(w->samples = malloc(MAX_SAMPLES * sizeof(*w->samples)))) {
		worker_fail(w, -ENOMEM, "malloc");
		_exit(1);
	}
	memset(mem, 0, 64 + bytes);
	memset(w->samples, 0, MAX_SAMPLES * sizeof(*w->samples));
	w->buf = (char *)mem + 64;
	if (w->ctx->mech->attach) {
		ret = w->ctx->mech->attach(w->ctx);
		if (ret) {
			worker_fail(w, ret, "attach");
			_exit(1);
		}
	}
	if (write(ready_fd, &byte, 1) != 1 || read(go_fd, &byte, 1) != 0)
		_exit(1);
	close(ready_fd);
	close(go_fd);
	ret = worker_run(w);
	_exit(ret ? 1 : 0);
}

static unsigned int cell_nworkers(const struct cell *c)
{
	switch (c->wl) {
	case WL_RTT:
	case WL_STREAM:
	case WL_SEM_RTT:
		return 2;
	case WL_MPMC:
		return opt.producers + opt.consumers;
	default:
		return 1;
	}
}

static void kill_all(pid_t *pid, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (pid[i] > 0)
			kill(pid[i], SIGKILL);
}

/*
 * Wait for the workers until @deadline; a worker that fails takes the
 * others down with it (they would wait forever for its messages).
 */
static int reap(pid_t *pid, unsigned int n, int64_t deadline)
{
	unsigned int left = n, i;
	sigset_t chld;
	int status, ret = 0;
	pid_t p;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (left) {
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < n; i++) {
				if (pid[i] != p)
					continue;
				pid[i] = 0;
				left--;
				if (!WIFEXITED(status) || WEXITSTATUS(status)) {
					if (!ret)
						ret = WIFSIGNALED(status) ? -EINTR : -EIO;
					kill_all(pid, n);
				}
			}
		}
		if (!left)
			break;
		int64_t rest = deadline - now_ns();

		if (rest <= 0 || interrupted) {
			kill_all(pid, n);
			if (!ret)
				ret = interrupted ? -EINTR : -ETIMEDOUT;
			deadline = now_ns() + 5000000000LL;
			continue;
		}
		struct timespec ts = { rest / 1000000000, rest % 1000000000 };

		sigtimedwait(&chld, NULL, &ts);
	}
	return ret;
}

static void result_init(struct result *res)
{
	memset(res, 0, sizeof(*res));
	res->p50_ns = res->p99_ns = res->msgs_s = res->bytes_s = res->spread = NAN;
}

static void result_fail(struct result *res, int err, const char *msg)
{
	res->status = err ? err : -EIO;
	if (msg && msg[0])
		snprintf(res->note, sizeof(res->note), "%s", msg);
	else
		snprintf(res->note, sizeof(res->note), "%s", strerror(-res->status));
}

static void measure(struct cell *c, unsigned int mi, struct result *res)
{
	const struct bench_mech *m = c->mechs[mi];
	const struct workload *wl = &workloads[c->wl];
	unsigned int nw = cell_nworkers(c), i;
	struct mech_ctx ctx = {
		.mech = m,
		.size = c->size,
		.depth = opt.depth,
		.nchan = c->wl == WL_RTT || c->wl == WL_SEM_RTT ? 2 : 1,
		.batch = opt.batch,
		.multi = c->wl == WL_MPMC,
	};
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 };
	pid_t pid[MAX_WORKERS] = { 0 };
	struct worker w = { 0 };
	struct ctl *ctl;
	int64_t deadline;
	char byte;
	int ret;

	result_init(res);
	ctl = bench_shared_alloc(sizeof(*ctl));
	if (!ctl) {
		result_fail(res, -ENOMEM, "mmap");
		return;
	}
	atomic_init(&ctl->producers_left, c->wl == WL_MPMC ? opt.producers : 1);
	if (wl->kind != MECH_REGION) {
		ret = m->setup(&ctx);
		if (ret) {
			result_fail(res, ret, ctx.note);
			goto out;
		}
	}
	res->depth = wl->kind == MECH_MSG ? ctx.depth : 0;
	if (pipe(ready) < 0 || pipe(go) < 0) {
		result_fail(res, -errno, "pipe");
		goto out;
	}
	w.ctx = &ctx;
	w.ctl = ctl;
	w.cell = c;
	fflush(NULL);
	for (i = 0; i < nw; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			ret = -errno;
			pid[i] = 0;
			kill_all(pid, nw);
			reap(pid, nw, now_ns() + 5000000000LL);
			result_fail(res, ret, "fork");
			goto out;
		}
		if (!pid[i]) {
			close(ready[0]);
			close(go[1]);
			w.role = i;
			worker_main(&w, ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	ready[1] = go[0] = -1;
	/* Start them together once all are set up (or stop if one died). */
	for (i = 0; i < nw; i++) {
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };

		if (poll(&pfd, 1, 30000) != 1 || read(ready[0], &byte, 1) != 1)
			break;
	}
	close(go[1]);
	go[1] = -1;
	deadline = now_ns() + (int64_t)((opt.warmup + opt.duration) * 2e9) + 30000000000LL;
	ret = reap(pid, nw, deadline);
	for (i = 0; i < nw && !ret; i++)
		if (ctl->w[i].err)
			ret = ctl->w[i].err;
	if (ret) {
		for (i = 0; i < nw; i++)
			if (ctl->w[i].err)
				break;
		if (i < nw)
			result_fail(res, ctl->w[i].err, ctl->w[i].msg);
		else
			result_fail(res, ret, ret == -ETIMEDOUT ? "timed out" :
				    ret == -EINTR ? "interrupted" : "worker died");
		goto out;
	}

	if (wl->throughput && wl->kind == MECH_MSG) {
		unsigned int first = c->wl == WL_MPMC ? opt.producers : 1;
		int64_t t0 = INT64_MAX, t1 = 0;
		uint64_t count = 0;

		for (i = first; i < nw; i++) {
			if (!ctl->w[i].count)
				continue;
			count += ctl->w[i].count;
			if (ctl->w[i].t_first < t0)
				t0 = ctl->w[i].t_first;
			if (ctl->w[i].t_last > t1)
				t1 = ctl->w[i].t_last;
		}
		if (!count || t1 <= t0) {
			result_fail(res, -EIO, "no messages measured");
			goto out;
		}
		res->samples = count;
		res->msgs_s = count * 1e9 / (t1 - t0);
		res->bytes_s = res->msgs_s * c->size;
	} else {
		res->samples = ctl->w[0].count;
		res->p50_ns = ctl->w[0].p50;
		res->p99_ns = ctl->w[0].p99;
		res->msgs_s = ctl->w[0].rate;
		res->bytes_s = ctl->w[0].bytes_s;
		if (wl->kind == MECH_MSG)
			res->bytes_s = res->msgs_s * c->size * 2;
		else if (c->wl != WL_REGION_BW && c->wl != WL_REGION_TOUCH)
			res->bytes_s = NAN;
	}
	if (ctx.note[0])
		snprintf(res->note, sizeof(res->note), "%s", ctx.note);
out:
	if (wl->kind != MECH_REGION)
		m->teardown(&ctx);
	if (ready[0] >= 0)
		close(ready[0]);
	if (ready[1] >= 0)
		close(ready[1]);
	if (go[0] >= 0)
		close(go[0]);
	if (go[1] >= 0)
		close(go[1]);
	bench_shared_free(ctl, sizeof(*ctl));
}

/* ------------------------------------------------------------ plan */

static bool mech_selected(const struct bench_mech *m)
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

static void plan(void)
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

static void find_cpus(void)
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

/* --------------------------------------------------------- summary */

static double res_key(const struct cell *c, const struct result *r)
{
	return workloads[c->wl].throughput ? r->msgs_s : r->p50_ns;
}

/* Ratio to the best stock mechanism: > 1 is better for throughput, < 1 for latency. */
static double ratio(const struct cell *c, unsigned int mi)
{
	if (c->best_stock < 0 || c->sum[mi].status || c->sum[mi].skipped)
		return NAN;
	return res_key(c, &c->sum[mi]) / res_key(c, &c->sum[c->best_stock]);
}

static void summarize(struct cell *c)
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

static const char *fmt_cpus(const struct cell *c, char *buf, size_t len)
{
	if (c->pl == PL_ANY)
		snprintf(buf, len, "any");
	else if (c->pl == PL_ONE)
		snprintf(buf, len, "%d", c->cpu[0]);
	else
		snprintf(buf, len, "%d,%d", c->cpu[0], c->cpu[1]);
	return buf;
}

static void cell_title(const struct cell *c, char *buf, size_t len)
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

static void print_cell(FILE *f, const struct cell *c)
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

/* ---------------------------------------------------------- goals */

struct goal {
	const char *what;
	enum placement pl;
	double value;
	double target;
	bool lower;		/* the goal is value <= target */
	const char *vs;
};

static struct goal goals[32];
static unsigned int ngoals;

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
static void compute_goals(void)
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

static const char *goal_verdict(const struct goal *g)
{
	if (isnan(g->value))
		return "n/a";
	return (g->lower ? g->value <= g->target : g->value >= g->target) ?
		"met" : "MISSED";
}

static void print_goals(FILE *f)
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

static const char *clocksource(void)
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

static void print_header(FILE *f)
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

static void write_json(const char *path)
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

static void write_csv(const char *path)
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
