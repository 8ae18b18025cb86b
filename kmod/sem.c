// SPDX-License-Identifier: GPL-2.0
/*
 * kipc semaphores: a set of counters with the semantics of SysV semop(2),
 * and, with KIPC_SEM_POSIX, a single counter with those of sem_post(3) and
 * sem_wait(3).
 *
 * Waiting.  A blocked operation array waits on one counter only: the one of
 * its first operation that cannot proceed, as SUSv4 defines semncnt and
 * semzcnt.  Nothing else can unblock it, so each counter keeps two FIFO lists
 * (lowering waiters and wait-for-zero waiters) and a change of a counter
 * retries only the waiters listed on it.  A waiter that then blocks on
 * another counter moves to that counter's list, placed by its arrival
 * sequence so that the order stays first come, first served.
 *
 * Hand-off.  Whoever changes a counter applies the operations of the waiters
 * it unblocks, under the set's lock, before waking them (as ipc/sem.c does):
 * a woken task never has to race for what it was woken for, a +1 wakes
 * exactly one -1 waiter, and the counter never shows a value that a waiter
 * could have taken.  Tasks are woken after the lock is dropped, in
 * batches of a fixed size (wake_q_add() is not exported): a task finding
 * grants still pending completes them before anything else, so nobody
 * overtakes a waiter between batches.
 *
 * Undo.  A module cannot hook exit_sem(), but do_exit() closes every fd of
 * the dying process through exit_files(), and ->flush runs for each in the
 * context of that process, after a SIGKILL too.  Undo records are therefore
 * kept per (process, set) and applied in ->flush when the process exits or
 * when it closes its last fd of the set.  The latter is a deviation from
 * SysV, where adjustments survive any close and exec, but without an fd the
 * process has no handle left to the set (and this is the only point at which
 * a module learns that).  A probe on sched_process_exit was the alternative;
 * it runs in atomic context, for every exit in the system, before the fds
 * are closed, and could not drop the last reference of a set, so ->flush
 * was chosen.  An operation in flight while its process closes the last fd
 * holds the record, and the adjustments are applied when it completes.
 * Processes sharing one fd table without being one thread group
 * (CLONE_FILES alone) are not told apart: only the one that closes the
 * table has its undo applied; the others' records live as long as the set.
 *
 * Fast path.  Once the set is mapped, each counter has a word in the
 * mapping, owned either by user space (the word is the value, and waits and
 * posts by one are a compare-and-swap) or by the kernel (KIPC_SEM_KERNEL is
 * set, the value lives in struct kipc_semc and the word is a snapshot).  The
 * kernel takes a counter over, atomically, when an operation in the kernel
 * touches it, and hands it back when nothing waits on it.  It reads the word
 * only when taking over, and then only as a value to clamp, so a malicious
 * writer of the mapping can change values as any writer can, but never the
 * kernel's state.
 */
#include <linux/bitmap.h>
#include <linux/fdtable.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kipc.h"

/* Operation arrays up to this size are copied onto the stack. */
#define KIPC_SEMOP_FAST		8

struct kipc_semc {
	/* The value, while the kernel owns the counter (always, unmapped). */
	int value;
	bool owned;
	u32 ncnt;			/* waiters on nwait */
	u32 zcnt;			/* waiters on zwait */
	struct list_head nwait;		/* blocked lowering it, by arrival */
	struct list_head zwait;		/* blocked until it is zero */
	struct pid *pid;		/* last process to operate on it */
};

/* One process's adjustments to one set, reverted when it lets go. */
struct kipc_sem_undo {
	struct rb_node node;		/* kipc_sem.undos, while linked */
	struct pid *pid;		/* the process (its tgid) */
	/* Calls in progress using it: it is neither applied nor freed. */
	unsigned int users;
	bool linked;
	/* The process let go while in use: apply when the last user ends. */
	bool orphan;
	int adj[];
};

struct kipc_sem {
	struct kipc_object obj;		/* obj.lock guards all below */
	u32 nsems;
	u32 flags;
	int max;
	ktime_t otime;
	u64 next_seq;
	unsigned int nundos;
	struct rb_root undos;
	/* Counters changed since their waiters were last retried. */
	unsigned long *dirty;
	/* Counters to consider handing back to user space. */
	unsigned long *touched;
	/* Set once mapped; never changes afterwards. */
	atomic_t *words;
	/* Counter 0 went up: poll waiters may want to know. */
	bool kick_poll;
	wait_queue_head_t poll_wq;
	struct kipc_semc sems[];
};

static inline struct kipc_sem *to_sem(struct kipc_object *obj)
{
	return container_of(obj, struct kipc_sem, obj);
}

/*
 * A task blocked in KIPC_IOC_SEM_OP.  It lives on the waiter's stack; a
 * waker takes it off its list and sets @done under the set's lock, and the
 * waiter reads the outcome only under the same lock.
 */
struct kipc_sem_waiter {
	struct list_head link;
	struct task_struct *task;
	const struct kipc_sembuf *sops;
	u32 nsops;
	u32 blocking;			/* index of the operation it waits on */
	/*
	 * Waiting for zero: the value its counter must have, not 0 when the
	 * array changed that counter before (e.g. -1, then wait for zero).
	 */
	s64 want;
	struct kipc_sem_undo *undo;
	struct pid *pid;		/* its process, reported as sempid */
	u64 seq;
	bool done;
	int result;
};

/* Tasks to wake once the lock is dropped. */
struct kipc_sem_wake {
	unsigned int n;
	struct task_struct *task[16];
};

static bool kipc_sem_wake_full(const struct kipc_sem_wake *wk)
{
	return wk->n == ARRAY_SIZE(wk->task);
}

static void kipc_sem_wake_add(struct kipc_sem_wake *wk,
			      struct kipc_sem_waiter *w, int result)
{
	w->result = result;
	w->done = true;
	get_task_struct(w->task);
	wk->task[wk->n++] = w->task;
}

static void kipc_sem_wake_run(struct kipc_sem_wake *wk)
{
	unsigned int i;

	for (i = 0; i < wk->n; i++) {
		wake_up_process(wk->task[i]);
		put_task_struct(wk->task[i]);
	}
	wk->n = 0;
}

static int kipc_sem_max(u32 flags)
{
	return (flags & KIPC_SEM_POSIX) ? KIPC_SEM_VALUE_MAX : KIPC_SEM_VMX;
}

static int kipc_sem_overflow(struct kipc_sem *s)
{
	return (s->flags & KIPC_SEM_POSIX) ? -EOVERFLOW : -ERANGE;
}

/* Counter ownership, for the mapped fast path; all under obj.lock. */

/* Take counter @i over from user space before reading or changing it. */
static void kipc_semc_acquire(struct kipc_sem *s, u32 i)
{
	struct kipc_semc *c = &s->sems[i];
	u32 old;

	if (c->owned)
		return;
	old = atomic_fetch_or(KIPC_SEM_KERNEL, &s->words[i]);
	/* The word is user memory: trust it as a value, no more. */
	c->value = min_t(u32, old & KIPC_SEM_VALUE_MASK, s->max);
	c->owned = true;
	__set_bit(i, s->touched);
}

/* Mirror a changed value into the mapping, for readers of the snapshot. */
static void kipc_semc_publish(struct kipc_sem *s, u32 i)
{
	if (s->words)
		atomic_set(&s->words[i], KIPC_SEM_KERNEL | s->sems[i].value);
}

static int kipc_semc_value(struct kipc_sem *s, u32 i)
{
	if (s->sems[i].owned)
		return s->sems[i].value;
	return min_t(u32, atomic_read(&s->words[i]) & KIPC_SEM_VALUE_MASK,
		     s->max);
}

static void kipc_semc_touch(struct kipc_sem *s, u32 i)
{
	if (s->words)
		__set_bit(i, s->touched);
}

/*
 * Hand the counters touched in this critical section back to user space,
 * unless a task waits on them: a wait or post in user space would not see
 * it.  Counter 0 also stays while someone polls, so that posts wake them.
 */
static void kipc_sem_release(struct kipc_sem *s)
{
	struct kipc_semc *c;
	unsigned long i;

	/* A removed set keeps every counter: the ioctl reports EIDRM. */
	if (!s->words || s->obj.removed)
		return;
	for_each_set_bit(i, s->touched, s->nsems) {
		__clear_bit(i, s->touched);
		c = &s->sems[i];
		if (!c->owned || c->ncnt || c->zcnt)
			continue;
		if (i == 0 && wq_has_sleeper(&s->poll_wq))
			continue;
		c->owned = false;
		/* Pairs with the user's acquiring compare-and-swap. */
		atomic_set_release(&s->words[i], c->value);
	}
}

static void kipc_semc_set_pid(struct kipc_semc *c, struct pid *pid)
{
	if (c->pid != pid) {
		put_pid(c->pid);
		c->pid = get_pid(pid);
	}
}

/* Set counter @i to @value, on behalf of process @pid. */
static void kipc_semc_set(struct kipc_sem *s, u32 i, int value,
			  struct pid *pid)
{
	struct kipc_semc *c = &s->sems[i];

	if (i == 0 && value > c->value)
		s->kick_poll = true;
	c->value = value;
	kipc_semc_publish(s, i);
	kipc_semc_set_pid(c, pid);
	__set_bit(i, s->dirty);
}

/*
 * Apply @sops as one step.  Returns 0 when applied, 1 when an operation
 * would block (its index in *@blocking), or -errno.  On anything but 0 the
 * counters and @un are as they were.  Operations are applied in order to the
 * counters themselves and taken back on failure, which also serves arrays
 * naming one counter more than once; only the kernel sees the intermediate
 * values, as the mapped words are written after success.
 */
static int kipc_sem_perform(struct kipc_sem *s, const struct kipc_sembuf *sops,
			    u32 nsops, struct kipc_sem_undo *un,
			    struct pid *pid, u32 *blocking)
{
	const struct kipc_sembuf *op;
	struct kipc_semc *c;
	int ret = 0;
	s64 val, adj;
	u32 i;

	for (i = 0; i < nsops; i++) {
		op = &sops[i];
		c = &s->sems[op->num];
		kipc_semc_acquire(s, op->num);
		val = (s64)c->value + op->delta;
		if (op->delta ? val < 0 : c->value != 0) {
			*blocking = i;
			ret = (op->flags & KIPC_SEMOP_NOWAIT) ? -EAGAIN : 1;
			break;
		}
		if (val > s->max) {
			ret = kipc_sem_overflow(s);
			break;
		}
		if (op->flags & KIPC_SEMOP_UNDO) {
			adj = (s64)un->adj[op->num] - op->delta;
			if (adj < -(s64)s->max - 1 || adj > s->max) {
				ret = -ERANGE;
				break;
			}
			un->adj[op->num] = adj;
		}
		c->value = val;
	}

	if (ret) {
		while (i--) {
			op = &sops[i];
			s->sems[op->num].value -= op->delta;
			if (op->flags & KIPC_SEMOP_UNDO)
				un->adj[op->num] += op->delta;
		}
		return ret;
	}

	for (i = 0; i < nsops; i++) {
		op = &sops[i];
		c = &s->sems[op->num];
		kipc_semc_set_pid(c, pid);
		if (!op->delta)
			continue;
		kipc_semc_publish(s, op->num);
		__set_bit(op->num, s->dirty);
		if (op->num == 0 && op->delta > 0)
			s->kick_poll = true;
	}
	s->otime = ktime_get_real();
	return 0;
}

/* Waiter lists */

static struct list_head *kipc_sem_wait_list(struct kipc_sem *s,
					    const struct kipc_sembuf *op)
{
	struct kipc_semc *c = &s->sems[op->num];

	return op->delta ? &c->nwait : &c->zwait;
}

/* List @w on the counter of its operation @blocking, in arrival order. */
static void kipc_sem_enqueue(struct kipc_sem *s, struct kipc_sem_waiter *w,
			     u32 blocking)
{
	const struct kipc_sembuf *op = &w->sops[blocking];
	struct list_head *head = kipc_sem_wait_list(s, op), *pos;
	u32 i;

	w->blocking = blocking;
	w->want = 0;
	for (i = 0; i < blocking; i++)
		if (w->sops[i].num == op->num)
			w->want -= w->sops[i].delta;
	list_for_each_prev(pos, head)
		if (list_entry(pos, struct kipc_sem_waiter, link)->seq < w->seq)
			break;
	list_add(&w->link, pos);
	if (op->delta)
		s->sems[op->num].ncnt++;
	else
		s->sems[op->num].zcnt++;
}

static void kipc_sem_dequeue(struct kipc_sem *s, struct kipc_sem_waiter *w)
{
	const struct kipc_sembuf *op = &w->sops[w->blocking];

	list_del(&w->link);
	if (op->delta)
		s->sems[op->num].ncnt--;
	else
		s->sems[op->num].zcnt--;
	kipc_semc_touch(s, op->num);
}

/* Retry a waiter whose counter changed: complete it, or move it. */
static void kipc_sem_retry(struct kipc_sem *s, struct kipc_sem_waiter *w,
			   struct kipc_sem_wake *wk)
{
	u32 blocking;
	int ret;

	ret = kipc_sem_perform(s, w->sops, w->nsops, w->undo, w->pid,
			       &blocking);
	if (ret > 0) {
		if (blocking != w->blocking) {
			kipc_sem_dequeue(s, w);
			kipc_sem_enqueue(s, w, blocking);
		}
		return;
	}
	kipc_sem_dequeue(s, w);
	kipc_sem_wake_add(wk, w, ret);
}

/*
 * A waiter with SIGKILL pending never returns to user space: what it was
 * granted would be lost (a post taken by a dead sem_wait()).  It is left
 * alone until it runs and unlinks itself.
 */
static bool kipc_sem_dying(const struct kipc_sem_waiter *w)
{
	return fatal_signal_pending(w->task);
}

/*
 * Retry the waiters of every changed counter, until no change is left:
 * a completed waiter may change further counters.  Each pass either
 * completes a waiter or clears a counter, so this ends.  Returns false,
 * with the counter at hand still marked, when @wk has no room left.
 */
static bool kipc_sem_update(struct kipc_sem *s, struct kipc_sem_wake *wk)
{
	struct kipc_sem_waiter *w, *tmp;
	struct kipc_semc *c;
	unsigned long i;

	/*
	 * Removal's sweep owns every waiter: a retry now could complete an
	 * operation on the removed set, or move a waiter onto a counter the
	 * sweep has passed, where it would sleep for good.
	 */
	if (s->obj.removed) {
		bitmap_zero(s->dirty, s->nsems);
		return true;
	}
	while ((i = find_first_bit(s->dirty, s->nsems)) < s->nsems) {
		__clear_bit(i, s->dirty);
		c = &s->sems[i];
		list_for_each_entry_safe(w, tmp, &c->zwait, link) {
			if (c->value != w->want || kipc_sem_dying(w))
				continue;
			if (kipc_sem_wake_full(wk))
				goto full;
			kipc_sem_retry(s, w, wk);
		}
		list_for_each_entry_safe(w, tmp, &c->nwait, link) {
			/*
			 * Whether a lowering proceeds is monotonic in the
			 * value, and each of these failed at a value >= 0.
			 */
			if (c->value == 0)
				break;
			if (kipc_sem_dying(w))
				continue;
			if (kipc_sem_wake_full(wk))
				goto full;
			kipc_sem_retry(s, w, wk);
		}
	}
	return true;
full:
	__set_bit(i, s->dirty);
	return false;
}

/*
 * Complete every waiter that the changes so far unblock, waking them in
 * batches with the lock dropped in between.  Meanwhile other tasks may
 * take the lock: they settle first too, so none of them takes what a
 * waiter is owed.
 */
static void kipc_sem_settle(struct kipc_sem *s, struct kipc_sem_wake *wk)
	__must_hold(&s->obj.lock)
{
	while (!kipc_sem_update(s, wk)) {
		spin_unlock(&s->obj.lock);
		kipc_sem_wake_run(wk);
		spin_lock(&s->obj.lock);
	}
}

/* Undo records */

static struct kipc_sem_undo *kipc_sem_undo_find(struct kipc_sem *s,
						struct pid *pid)
{
	struct rb_node *node = s->undos.rb_node;
	struct kipc_sem_undo *un;

	while (node) {
		un = rb_entry(node, struct kipc_sem_undo, node);
		if ((uintptr_t)pid < (uintptr_t)un->pid)
			node = node->rb_left;
		else if ((uintptr_t)pid > (uintptr_t)un->pid)
			node = node->rb_right;
		else
			return un;
	}
	return NULL;
}

static void kipc_sem_undo_insert(struct kipc_sem *s, struct kipc_sem_undo *un)
{
	struct rb_node **link = &s->undos.rb_node, *parent = NULL;
	struct kipc_sem_undo *cur;

	while (*link) {
		parent = *link;
		cur = rb_entry(parent, struct kipc_sem_undo, node);
		if ((uintptr_t)un->pid < (uintptr_t)cur->pid)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&un->node, parent, link);
	rb_insert_color(&un->node, &s->undos);
	un->linked = true;
	s->nundos++;
}

static struct kipc_sem_undo *kipc_sem_undo_alloc(struct kipc_sem *s)
{
	struct kipc_sem_undo *un;

	un = kvzalloc(struct_size(un, adj, s->nsems), GFP_KERNEL_ACCOUNT);
	if (un)
		un->pid = get_pid(task_tgid(current));
	return un;
}

static void kipc_sem_undo_free(struct kipc_sem_undo *un)
{
	if (un) {
		put_pid(un->pid);
		kvfree(un);
	}
}

/*
 * The process of @un let go of the set: revert its adjustments, clamped to
 * the counters' range as exit_sem() does, and unlink the record.  The caller
 * frees it unless it is still in use.
 */
static void kipc_sem_undo_apply(struct kipc_sem *s, struct kipc_sem_undo *un)
{
	s64 val;
	u32 i;

	if (!s->obj.removed) {
		for (i = 0; i < s->nsems; i++) {
			if (!un->adj[i])
				continue;
			kipc_semc_acquire(s, i);
			val = clamp_t(s64, (s64)s->sems[i].value + un->adj[i],
				      0, s->max);
			kipc_semc_set(s, i, val, un->pid);
			un->adj[i] = 0;
		}
		s->otime = ktime_get_real();
	}
	rb_erase(&un->node, &s->undos);
	un->linked = false;
	un->orphan = false;
	s->nundos--;
}

/* SETVAL and SETALL: the new value replaces what undo would restore. */
static void kipc_sem_undo_clear(struct kipc_sem *s, int num)
{
	struct kipc_sem_undo *un;
	struct rb_node *node;

	for (node = rb_first(&s->undos); node; node = rb_next(node)) {
		un = rb_entry(node, struct kipc_sem_undo, node);
		if (num < 0)
			memset(un->adj, 0, s->nsems * sizeof(un->adj[0]));
		else
			un->adj[num] = 0;
	}
}

/*
 * End one call's use of @un.  Returns the record if the caller must free
 * it, after dropping the lock.
 */
static struct kipc_sem_undo *kipc_sem_undo_put(struct kipc_sem *s,
					       struct kipc_sem_undo *un)
{
	if (--un->users)
		return NULL;
	if (un->orphan && un->linked)
		kipc_sem_undo_apply(s, un);
	return un->linked ? NULL : un;
}

static const struct file_operations kipc_sem_fops;

static int kipc_sem_fd_match(const void *obj, struct file *file,
			     unsigned int fd)
{
	return file->f_op == &kipc_sem_fops && file->private_data == obj;
}

/*
 * Does the calling process still have an fd of @s?  A process in exit has
 * none left: exit_files() detaches the table before closing it.
 */
static bool kipc_sem_has_fd(struct kipc_sem *s)
{
	struct files_struct *files = current->files;

	if ((current->flags & PF_EXITING) || !files)
		return false;
	return iterate_fd(files, 0, kipc_sem_fd_match, &s->obj);
}

/* The end of a critical section that may have changed counters. */
static void kipc_sem_unlock(struct kipc_sem *s, struct kipc_sem_wake *wk)
	__releases(&s->obj.lock)
{
	bool kick;

	kipc_sem_settle(s, wk);
	kipc_sem_release(s);
	kick = s->kick_poll && kipc_semc_value(s, 0) > 0;
	s->kick_poll = false;
	spin_unlock(&s->obj.lock);

	kipc_sem_wake_run(wk);
	if (kick && wq_has_sleeper(&s->poll_wq))
		wake_up_interruptible_poll(&s->poll_wq, EPOLLIN | EPOLLRDNORM);
}

/* The process closed an fd of the set: is it letting go of the set? */
static void kipc_sem_let_go(struct kipc_sem *s)
{
	struct kipc_sem_undo *un, *dead = NULL;
	struct kipc_sem_wake wk = { };
	struct pid *pid = task_tgid(current);

	spin_lock(&s->obj.lock);
	un = s->nundos ? kipc_sem_undo_find(s, pid) : NULL;
	spin_unlock(&s->obj.lock);
	if (!un || kipc_sem_has_fd(s))
		return;

	spin_lock(&s->obj.lock);
	kipc_sem_settle(s, &wk);
	un = kipc_sem_undo_find(s, pid);
	if (un && un->users) {
		un->orphan = true;
	} else if (un) {
		kipc_sem_undo_apply(s, un);
		dead = un;
	}
	kipc_sem_unlock(s, &wk);
	kipc_sem_undo_free(dead);
}

/* Operations */

/*
 * Sleep until our operation is applied for us.  @wk holds the waiters our
 * settle already granted: they are woken as we let go of the lock, not
 * when we return, which may be never if they are what we wait for.
 */
static int kipc_sem_wait(struct kipc_sem *s, const struct kipc_sembuf *sops,
			 u32 nsops, struct kipc_sem_undo *un, u32 blocking,
			 struct kipc_deadline *dl, struct kipc_sem_wake *wk)
{
	struct kipc_sem_waiter self = {
		.task = current,
		.sops = sops,
		.nsops = nsops,
		.undo = un,
		.pid = task_tgid(current),
		.seq = s->next_seq++,
	};
	int err;

	kipc_sem_enqueue(s, &self, blocking);
	for (;;) {
		/* Our counter stays ours while we are listed on it. */
		kipc_sem_release(s);
		__set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&s->obj.lock);
		kipc_sem_wake_run(wk);

		err = kipc_deadline_sleep(dl);

		spin_lock(&s->obj.lock);
		/* Applied on our behalf: success, even with a signal pending. */
		if (self.done)
			return self.result;
		if (err) {
			kipc_sem_dequeue(s, &self);
			return err;
		}
	}
}

static int kipc_sem_do(struct kipc_sem *s, const struct kipc_sembuf *sops,
		       u32 nsops, bool undo, struct kipc_deadline *dl)
{
	struct kipc_sem_undo *un = NULL, *fresh = NULL, *dead = NULL;
	struct pid *pid = task_tgid(current);
	struct kipc_sem_wake wk = { };
	bool recheck = false;
	u32 blocking;
	int ret;

	spin_lock(&s->obj.lock);
	if (undo) {
		un = kipc_sem_undo_find(s, pid);
		if (!un) {
			spin_unlock(&s->obj.lock);
			fresh = kipc_sem_undo_alloc(s);
			if (!fresh)
				return -ENOMEM;
			spin_lock(&s->obj.lock);
			un = kipc_sem_undo_find(s, pid);
			if (!un) {
				kipc_sem_undo_insert(s, fresh);
				un = fresh;
				fresh = NULL;
				recheck = true;
			}
		}
		if (un->orphan) {
			/*
			 * Our last fd went while another call used the record;
			 * we use the set again (through a new fd), so it is
			 * ours to keep, not to apply when that call ends.
			 */
			un->orphan = false;
			recheck = true;
		}
		un->users++;
	}

	kipc_sem_settle(s, &wk);
	if (s->obj.removed) {
		ret = -EIDRM;
	} else {
		atomic64_inc(&kipc_counters.sem_ops);
		ret = kipc_sem_perform(s, sops, nsops, un, pid, &blocking);
		if (ret > 0 && !dl->nonblock)
			atomic64_inc(&kipc_counters.sem_waits);
		if (ret > 0)
			ret = dl->nonblock ? -EAGAIN :
			      kipc_sem_wait(s, sops, nsops, un, blocking, dl,
					    &wk);
	}

	/*
	 * A new (or revived) record counts on a later close of our last fd
	 * to be applied.  If that close came while we were on the way here,
	 * it found nothing to do: apply the record when we are done with it
	 * instead.  The check needs the record in the tree (so that a close
	 * after it finds it) and cannot run under the spinlock.
	 */
	if (recheck) {
		bool orphan;

		kipc_sem_unlock(s, &wk);
		orphan = !kipc_sem_has_fd(s);
		spin_lock(&s->obj.lock);
		un->orphan |= orphan;
	}
	if (un)
		dead = kipc_sem_undo_put(s, un);
	kipc_sem_unlock(s, &wk);
	kipc_sem_undo_free(fresh);
	kipc_sem_undo_free(dead);
	return ret;
}

static long kipc_sem_op(struct file *file, struct kipc_semop __user *uarg)
{
	struct kipc_sem *s = to_sem(kipc_file_object(file));
	struct kipc_sembuf fast[KIPC_SEMOP_FAST], *sops = fast;
	bool alter = false, undo = false;
	struct kipc_deadline dl;
	struct kipc_semop req;
	long ret;
	u32 i;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~(KIPC_F_NONBLOCK | KIPC_F_TIMED | KIPC_F_ABSTIME) ||
	    !req.nops)
		return -EINVAL;
	if (req.nops > KIPC_SEMOP_MAX)
		return -E2BIG;
	ret = kipc_deadline_init(&dl, req.flags, &req.timeout,
				 file->f_flags & O_NONBLOCK);
	if (ret)
		return ret;

	if (req.nops > ARRAY_SIZE(fast)) {
		sops = kmalloc_array(req.nops, sizeof(*sops), GFP_KERNEL);
		if (!sops)
			return -ENOMEM;
	}
	ret = -EFAULT;
	if (copy_from_user(sops, u64_to_user_ptr(req.ops),
			   req.nops * sizeof(*sops)))
		goto out;

	for (i = 0; i < req.nops; i++) {
		const struct kipc_sembuf *op = &sops[i];

		ret = -EINVAL;
		if (op->reserved ||
		    (op->flags & ~(KIPC_SEMOP_UNDO | KIPC_SEMOP_NOWAIT)))
			goto out;
		ret = -EFBIG;
		if (op->num >= s->nsems)
			goto out;
		ret = kipc_sem_overflow(s);
		if (op->delta > s->max)
			goto out;
		/* Past the maximum, a decrement could never proceed. */
		ret = -ERANGE;
		if (op->delta < -s->max)
			goto out;
		alter |= op->delta != 0;
		undo |= op->flags & KIPC_SEMOP_UNDO;
	}
	ret = -EBADF;
	if (!(file->f_mode & (alter ? FMODE_WRITE : FMODE_READ)))
		goto out;

	ret = kipc_sem_do(s, sops, req.nops, undo, &dl);
out:
	if (sops != fast)
		kfree(sops);
	return ret;
}

static long kipc_sem_getval(struct file *file, struct kipc_semval __user *uarg)
{
	struct kipc_sem *s = to_sem(kipc_file_object(file));
	struct kipc_semval v;
	struct kipc_semc *c;
	long ret = 0;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (v.num >= s->nsems)
		return -EINVAL;
	c = &s->sems[v.num];

	spin_lock(&s->obj.lock);
	if (s->obj.removed) {
		ret = -EIDRM;
	} else {
		v.value = kipc_semc_value(s, v.num);
		v.ncnt = c->ncnt;
		v.zcnt = c->zcnt;
		v.pid = pid_vnr(c->pid);
	}
	spin_unlock(&s->obj.lock);
	v.reserved = 0;
	if (!ret && copy_to_user(uarg, &v, sizeof(v)))
		ret = -EFAULT;
	return ret;
}

static long kipc_sem_setval(struct file *file,
			    const struct kipc_semval __user *uarg)
{
	struct kipc_sem *s = to_sem(kipc_file_object(file));
	struct kipc_sem_wake wk = { };
	struct kipc_semval v;
	long ret = 0;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (v.num >= s->nsems || v.reserved)
		return -EINVAL;
	if (v.value < 0 || v.value > s->max)
		return -ERANGE;

	spin_lock(&s->obj.lock);
	/* Grants still owed from earlier changes come before ours. */
	kipc_sem_settle(s, &wk);
	if (s->obj.removed) {
		ret = -EIDRM;
	} else {
		kipc_semc_acquire(s, v.num);
		kipc_semc_set(s, v.num, v.value, task_tgid(current));
		kipc_sem_undo_clear(s, v.num);
		s->obj.ctime = ktime_get_real();
	}
	kipc_sem_unlock(s, &wk);
	return ret;
}

static long kipc_sem_getall(struct file *file, struct kipc_semall __user *uarg)
{
	struct kipc_sem *s = to_sem(kipc_file_object(file));
	struct kipc_semall req;
	long ret = s->nsems;
	s32 *vals;
	u32 i;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved || req.count < s->nsems)
		return -EINVAL;
	vals = kvmalloc_array(s->nsems, sizeof(*vals), GFP_KERNEL);
	if (!vals)
		return -ENOMEM;

	spin_lock(&s->obj.lock);
	if (s->obj.removed)
		ret = -EIDRM;
	else
		for (i = 0; i < s->nsems; i++)
			vals[i] = kipc_semc_value(s, i);
	spin_unlock(&s->obj.lock);

	if (ret > 0 && copy_to_user(u64_to_user_ptr(req.values), vals,
				    s->nsems * sizeof(*vals)))
		ret = -EFAULT;
	kvfree(vals);
	return ret;
}

static long kipc_sem_setall(struct file *file,
			    const struct kipc_semall __user *uarg)
{
	struct kipc_sem *s = to_sem(kipc_file_object(file));
	struct pid *pid = task_tgid(current);
	struct kipc_sem_wake wk = { };
	struct kipc_semall req;
	long ret = 0;
	s32 *vals;
	u32 i;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved || req.count != s->nsems)
		return -EINVAL;
	vals = kvmalloc_array(s->nsems, sizeof(*vals), GFP_KERNEL);
	if (!vals)
		return -ENOMEM;
	if (copy_from_user(vals, u64_to_user_ptr(req.values),
			   s->nsems * sizeof(*vals))) {
		ret = -EFAULT;
		goto out;
	}
	for (i = 0; i < s->nsems; i++) {
		if (vals[i] < 0 || vals[i] > s->max) {
			ret = -ERANGE;
			goto out;
		}
	}

	spin_lock(&s->obj.lock);
	kipc_sem_settle(s, &wk);
	if (s->obj.removed) {
		ret = -EIDRM;
	} else {
		for (i = 0; i < s->nsems; i++) {
			kipc_semc_acquire(s, i);
			kipc_semc_set(s, i, vals[i], pid);
		}
		kipc_sem_undo_clear(s, -1);
		s->obj.ctime = ktime_get_real();
	}
	kipc_sem_unlock(s, &wk);
out:
	kvfree(vals);
	return ret;
}

static long kipc_sem_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KIPC_IOC_SEM_OP:
		return kipc_sem_op(file, argp);
	case KIPC_IOC_SEM_GETVAL:
		return kipc_sem_getval(file, argp);
	case KIPC_IOC_SEM_SETVAL:
		return kipc_sem_setval(file, argp);
	case KIPC_IOC_SEM_GETALL:
		return kipc_sem_getall(file, argp);
	case KIPC_IOC_SEM_SETALL:
		return kipc_sem_setall(file, argp);
	default:
		return kipc_object_ioctl(file, cmd, arg);
	}
}

/* Readable when a decrement of counter 0 by one would not block. */
static __poll_t kipc_sem_poll(struct file *file, poll_table *wait)
{
	struct kipc_sem *s = to_sem(kipc_file_object(file));
	__poll_t mask = 0;

	poll_wait(file, &s->poll_wq, wait);
	spin_lock(&s->obj.lock);
	if (s->obj.removed) {
		mask = EPOLLERR | EPOLLHUP;
	} else {
		/* Posts in user space would not wake us: keep counter 0. */
		kipc_semc_acquire(s, 0);
		if (s->sems[0].value > 0)
			mask = EPOLLIN | EPOLLRDNORM;
	}
	spin_unlock(&s->obj.lock);
	return mask;
}

/*
 * The words are mapped whole when the mapping is made; this serves a page
 * again to a task that dropped it (madvise(MADV_DONTNEED)), which would
 * otherwise fault with SIGBUS.  vm_pgoff is 0 at mmap and follows the pages
 * through a split or mremap(), so vmf->pgoff is the page within the words.
 * vm_private_data stays valid as long as the vma, which holds the file and
 * so the set; s->words never changes once set.
 */
static vm_fault_t kipc_sem_fault(struct vm_fault *vmf)
{
	struct kipc_sem *s = vmf->vma->vm_private_data;
	size_t size = PAGE_ALIGN(s->nsems * sizeof(u32));

	if (vmf->pgoff >= size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	vmf->page = vmalloc_to_page((void *)s->words +
				    (vmf->pgoff << PAGE_SHIFT));
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct kipc_sem_vm_ops = {
	.fault		= kipc_sem_fault,
};

static int kipc_sem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kipc_sem *s = to_sem(kipc_file_object(file));
	size_t size = PAGE_ALIGN(s->nsems * sizeof(u32));
	atomic_t *words;
	u32 i;

	/*
	 * do_mmap() already refused what the fd's mode does not allow.  A
	 * private copy of the words would only detach its writer's view.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start > size)
		return -EINVAL;
	/* Like every other operation on a removed set. */
	if (kipc_removed(&s->obj))
		return -EIDRM;

	words = READ_ONCE(s->words);
	if (!words) {
		words = vmalloc_user(size);
		if (!words)
			return -ENOMEM;
		spin_lock(&s->obj.lock);
		if (s->words) {
			spin_unlock(&s->obj.lock);
			vfree(words);
			words = s->words;
		} else {
			/* Start kernel-owned; hand back what nobody waits on. */
			for (i = 0; i < s->nsems; i++) {
				atomic_set(&words[i], KIPC_SEM_KERNEL |
					   s->sems[i].value);
				__set_bit(i, s->touched);
			}
			WRITE_ONCE(s->words, words);
			kipc_sem_release(s);
			spin_unlock(&s->obj.lock);
		}
	}
	vma->vm_ops = &kipc_sem_vm_ops;
	vma->vm_private_data = s;
	return remap_vmalloc_range(vma, words, 0);
}

/*
 * Every close of an fd, in the closing process: an exiting process, or one
 * that closed its last fd of the set, has its undo applied.
 */
static int kipc_sem_flush(struct file *file, fl_owner_t id)
{
	kipc_sem_let_go(to_sem(kipc_file_object(file)));
	return 0;
}

static const struct file_operations kipc_sem_fops = {
	.owner		= THIS_MODULE,
	.poll		= kipc_sem_poll,
	.unlocked_ioctl	= kipc_sem_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= kipc_sem_mmap,
	.flush		= kipc_sem_flush,
	.release	= kipc_object_release,
	.llseek		= kipc_no_llseek,
};

/* Object type operations */

static size_t kipc_sem_size(u32 nsems)
{
	struct kipc_sem *s = NULL;

	return struct_size(s, sems, nsems);
}

static int kipc_sem_check(const struct kipc_open *req, unsigned long *charge)
{
	const struct kipc_sem_attr *a = &req->sem;
	u32 nsems = a->nsems;
	unsigned int i;

	for (i = sizeof(*a) / sizeof(u64); i < ARRAY_SIZE(req->reserved); i++)
		if (req->reserved[i])
			return -EINVAL;
	if (a->reserved || (a->flags & ~KIPC_SEM_POSIX))
		return -EINVAL;
	if ((a->flags & KIPC_SEM_POSIX) && nsems <= 1)
		nsems = 1;
	else if (a->flags & KIPC_SEM_POSIX)
		return -EINVAL;
	if (!nsems || nsems > READ_ONCE(kipc_limits.max_nsems))
		return -EINVAL;
	if (a->value > kipc_sem_max(a->flags))
		return -EINVAL;
	/*
	 * The counters, and the page(s) a mapping would need: charged now,
	 * as ->mmap runs under mmap_lock and must not take kns->lock, which
	 * serialises changes of the charge and is held over user copies.
	 */
	*charge = kipc_sem_size(nsems) + 2 * BITS_TO_LONGS(nsems) * sizeof(long) +
		  PAGE_ALIGN(nsems * sizeof(u32));
	return 0;
}

static struct kipc_object *kipc_sem_alloc(const struct kipc_open *req)
{
	const struct kipc_sem_attr *a = &req->sem;
	u32 nsems = a->nsems ?: 1, i;
	struct kipc_sem *s;

	s = kvzalloc(kipc_sem_size(nsems), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->dirty = bitmap_zalloc(nsems, GFP_KERNEL_ACCOUNT);
	s->touched = bitmap_zalloc(nsems, GFP_KERNEL_ACCOUNT);
	if (!s->dirty || !s->touched) {
		bitmap_free(s->dirty);
		bitmap_free(s->touched);
		kvfree(s);
		return ERR_PTR(-ENOMEM);
	}
	kipc_object_init(&s->obj, &kipc_sem_ops, KIPC_TYPE_SEM);
	s->nsems = nsems;
	s->flags = a->flags;
	s->max = kipc_sem_max(a->flags);
	s->undos = RB_ROOT;
	init_waitqueue_head(&s->poll_wq);
	for (i = 0; i < nsems; i++) {
		s->sems[i].value = a->value;
		s->sems[i].owned = true;
		INIT_LIST_HEAD(&s->sems[i].nwait);
		INIT_LIST_HEAD(&s->sems[i].zwait);
	}
	return &s->obj;
}

/* IPC_RMID: every blocked task leaves with EIDRM. */
static void kipc_sem_removed(struct kipc_object *obj)
{
	struct kipc_sem *s = to_sem(obj);
	struct kipc_sem_wake wk = { };
	struct kipc_sem_waiter *w;
	unsigned int woken = 0;
	struct kipc_semc *c;
	u32 i = 0;

	/* Send fast-path users to the ioctl, and its EIDRM. */
	spin_lock(&s->obj.lock);
	if (s->words)
		for (i = 0; i < s->nsems; i++)
			kipc_semc_acquire(s, i);
	spin_unlock(&s->obj.lock);

	/* No task joins a removed set: wake them in batches, unlocked. */
	i = 0;
	do {
		spin_lock(&s->obj.lock);
		for (; i < s->nsems && wk.n < ARRAY_SIZE(wk.task); i++) {
			c = &s->sems[i];
			while (wk.n < ARRAY_SIZE(wk.task)) {
				w = list_first_entry_or_null(&c->nwait,
							     struct kipc_sem_waiter,
							     link);
				if (!w)
					w = list_first_entry_or_null(&c->zwait,
								     struct kipc_sem_waiter,
								     link);
				if (!w)
					break;
				kipc_sem_dequeue(s, w);
				kipc_sem_wake_add(&wk, w, -EIDRM);
				woken++;
			}
			if (wk.n == ARRAY_SIZE(wk.task))
				break;
		}
		spin_unlock(&s->obj.lock);
		kipc_sem_wake_run(&wk);
	} while (i < s->nsems);

	wake_up_interruptible_poll(&s->poll_wq, EPOLLERR | EPOLLHUP);
	if (woken)
		kipc_event(obj, KIPC_EVENT_WAITERS_WOKEN, woken);
}

static void kipc_sem_free(struct kipc_object *obj)
{
	struct kipc_sem *s = to_sem(obj);
	struct kipc_sem_undo *un, *tmp;
	u32 i;

	rbtree_postorder_for_each_entry_safe(un, tmp, &s->undos, node)
		kipc_sem_undo_free(un);
	for (i = 0; i < s->nsems; i++)
		put_pid(s->sems[i].pid);
	vfree(s->words);
	bitmap_free(s->dirty);
	bitmap_free(s->touched);
	kvfree(s);
}

static void kipc_sem_stat(struct kipc_object *obj, struct kipc_stat *st)
{
	struct kipc_sem *s = to_sem(obj);
	struct kipc_sem_stat *ss = &st->sem;
	u32 i;

	ss->nsems = s->nsems;
	ss->flags = s->flags;
	ss->otime_ns = ktime_to_ns(s->otime);
	ss->max_value = s->max;
	for (i = 0; i < s->nsems; i++)
		ss->waiters += s->sems[i].ncnt + s->sems[i].zcnt;
	ss->undos = s->nundos;
	ss->mapped = !!s->words;
}

const struct kipc_type_ops kipc_sem_ops = {
	.name		= "kipc-sem",
	.fops		= &kipc_sem_fops,
	.check		= kipc_sem_check,
	.alloc		= kipc_sem_alloc,
	.removed	= kipc_sem_removed,
	.free		= kipc_sem_free,
	.stat		= kipc_sem_stat,
};
