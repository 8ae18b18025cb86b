// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench: One measurement: fork the workers, start them together, collect their
 * results from a shared page, and reap them whatever happens.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

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

void result_init(struct result *res)
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

void measure(struct cell *c, unsigned int mi, struct result *res)
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
