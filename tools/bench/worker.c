// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: The workloads, as each worker process runs them: round trips, streams,
 * producers x consumers, semaphores and regions, timed by tick().
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "run.h"

/* ---------------------------------------------------------- workers */


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
void worker_main(struct worker *w, int ready_fd, int go_fd)
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
