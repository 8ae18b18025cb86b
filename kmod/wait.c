// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting, for every object type: the deadline of a blocking call, and the
 * batch of tasks a waker wakes once it has dropped its lock (kipc.h).
 *
 * A wait ends as soon as a signal is pending, whatever that signal will do:
 * a stop (SIGSTOP, a ptrace stop, the freezer) as well, though it has no
 * handler.  Whether the call then starts over is up to what it returns.
 *
 * An untimed wait, or one with an absolute deadline, returns
 * -ERESTARTNOHAND: with no handler to run, the call is made again with the
 * same arguments, and so the same deadline, and nobody sees the stop; a
 * handler sees EINTR, SA_RESTART or not, as after msgrcv(2).
 *
 * A relative timeout cannot be made again with the same arguments: it would
 * start over, and a wait stopped every second would never time out.  System
 * calls keep the time left in current->restart_block (nanosleep, futex,
 * poll), which is no tool for a module: the restart calls a function
 * pointer after the ioctl has returned and dropped its file, with it the
 * pin on the module, and the block has no room for a file and an ioctl
 * argument.  Writing the time left back into the caller's struct, as
 * select(2) does, would make in-only (_IOW) ioctls write user memory,
 * surprise a caller who reuses its struct, and fail on read-only memory.
 * So an interrupted relative wait returns -EINTR, as semtimedop(2),
 * epoll_wait(2) and a socket with SO_RCVTIMEO do (sock_intr_errno(); see
 * "Interruption of system calls and library functions by stop signals" in
 * signal(7)).  A caller who wants stops to go unseen passes an absolute
 * CLOCK_MONOTONIC deadline: it restarts, and still ends in time.
 */
#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/time_namespace.h>

#include "kipc.h"

/*
 * An absolute CLOCK_MONOTONIC time from user space is on the caller's clock,
 * which its time namespace may shift from the host's that hrtimers run on.
 * clock_nanosleep(2) and futex(2) convert with timens_ktime_to_host(), which
 * calls a function modules cannot; timens_add_monotonic() gives the offset
 * (and nothing without CONFIG_TIME_NS).  As there, a time before the offset
 * has passed, and one that would overflow is as good as never.
 */
static ktime_t kpc_monotonic_to_host(ktime_t t)
{
	struct timespec64 ts = { };
	ktime_t offset;

	timens_add_monotonic(&ts);
	offset = timespec64_to_ktime(ts);
	if (offset < 0 && t > KTIME_MAX + offset)
		return KTIME_MAX;
	return t < offset ? 0 : t - offset;
}

int kpc_deadline_init(struct kpc_deadline *dl, u32 flags,
		      const struct kipc_timeout *to, bool file_nonblock)
{
	struct timespec64 ts;

	dl->nonblock = file_nonblock || (flags & KIPC_F_NONBLOCK);
	dl->timed = flags & KIPC_F_TIMED;
	dl->restart = true;
	dl->clock = CLOCK_MONOTONIC;
	if (!dl->timed)
		return (flags & KIPC_F_ABSTIME) ? -EINVAL : 0;

	if (to->reserved || to->tv_nsec < 0 || to->tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	ts.tv_sec = to->tv_sec;
	ts.tv_nsec = to->tv_nsec;
	if (flags & KIPC_F_ABSTIME) {
		if (to->clockid != CLOCK_MONOTONIC &&
		    to->clockid != CLOCK_REALTIME)
			return -EINVAL;
		dl->clock = to->clockid;
		/* A time before the epoch has simply passed. */
		dl->expires = ts.tv_sec < 0 ? 0 : timespec64_to_ktime(ts);
		if (dl->clock == CLOCK_MONOTONIC)
			dl->expires = kpc_monotonic_to_host(dl->expires);
	} else {
		if (ts.tv_sec < 0)
			return -EINVAL;
		dl->expires = ktime_add_safe(ktime_get(),
					     timespec64_to_ktime(ts));
		dl->restart = false;
	}
	return 0;
}

int kpc_deadline_sleep(struct kpc_deadline *dl)
{
	if (dl->timed) {
		ktime_t expires = dl->expires;

		if (!schedule_hrtimeout_range_clock(&expires,
						    current->timer_slack_ns,
						    HRTIMER_MODE_ABS,
						    dl->clock))
			return -ETIMEDOUT;
	} else {
		schedule();
	}
	if (signal_pending(current))
		return dl->restart ? -ERESTARTNOHAND : -EINTR;
	return 0;
}

void kpc_wake_add(struct kpc_wake *wk, struct task_struct *task)
{
	if (kpc_wake_full(wk)) {
		/* The waiter reads its outcome under the waker's lock. */
		wake_up_process(task);
		return;
	}
	get_task_struct(task);
	wk->task[wk->n++] = task;
}

void kpc_wake_run(struct kpc_wake *wk)
{
	unsigned int i;

	for (i = 0; i < wk->n; i++) {
		wake_up_process(wk->task[i]);
		put_task_struct(wk->task[i]);
	}
	wk->n = 0;
}
