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
 * Undo.  Adjustments belong to an undo list, as in SysV: the threads of a
 * process share one, a process made by fork(), vfork() or clone() without
 * CLONE_SYSVSEM starts with none, one made with clone(CLONE_SYSVSEM) shares
 * its parent's.  A list holds a record per set, and the records are applied
 * once every process sharing the list has exited, whatever became of their
 * fds: closing them, exec, a thread with an fd table of its own or a
 * process sharing one (CLONE_FILES) change nothing.  A module has no
 * exit_sem(), so each process of a list is watched by an entry on the wait
 * queue its pidfd would sleep on, woken when its thread group has exited;
 * the last one out marks the list's records and queues their application
 * to a workqueue, since the wake-up runs under tasklist_lock with interrupts
 * off.  Until that work has run, an operation on a set applies the marked
 * records there first: whoever learnt of the exit (wait(), a pidfd) never
 * sees the set without its undo.  Records count in their set's charge,
 * against its owner's max_user_bytes.  A set that goes (its last fd closed,
 * no name) takes its records with it; a removed one keeps them, unapplied.
 * docs/architecture.md, "Semaphore undo", says why this design.
 *
 * Fast path.  Once the set is mapped, each counter has a word in the
 * mapping, owned either by user space (the word is the value, and waits and
 * posts by one are a compare-and-swap) or by the kernel (KIPC_SEM_KERNEL is
 * set, the value lives in struct kpc_semc and the word is a snapshot).  The
 * kernel takes a counter over, atomically, when an operation in the kernel
 * touches it, and hands it back when nothing waits on it.  It reads the word
 * only when taking over, and then only as a value to clamp, so a malicious
 * writer of the mapping can change values as any writer can, but never the
 * kernel's state.
 */
#include <linux/bitmap.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "kipc.h"

/* Operations of all sets, KIPC_SSTATS_A_* of KIPC_STATS_A_SEM. */
static atomic64_t kpc_sem_counters[KIPC_SSTATS_A_MAX + 1 -
				   KIPC_TSTATS_A_TYPE_BASE];

/* Operation arrays up to this size are copied onto the stack. */
#define KIPC_SEMOP_FAST		8

struct kpc_semc {
	/* The value, while the kernel owns the counter (always, unmapped). */
	int value;
	bool owned;
	u32 ncnt;			/* waiters on nwait */
	u32 zcnt;			/* waiters on zwait */
	struct list_head nwait;		/* blocked lowering it, by arrival */
	struct list_head zwait;		/* blocked until it is zero */
	struct pid *pid;		/* last process to operate on it */
};

/*
 * An undo list: what the processes sharing it did with undo, one record per
 * set.  Each of them is a member, watched until its thread group exits;
 * the records are applied when the last one has.
 */
struct kpc_undo_list {
	refcount_t ref;			/* one per member and per record */
	atomic_t live;			/* members whose process lives */
	/*
	 * Taken by the exit wake-up, with a wait queue's lock and maybe
	 * tasklist_lock held: interrupts off everywhere, nothing taken under.
	 */
	spinlock_t lock;
	struct list_head undos;		/* kpc_sem_undo.ul_link, under @lock */
	struct pid *exit_pid;		/* the last member, once all exited */
	/* Under kpc_undo_mutex. */
	struct list_head members;
	/* A member's SysV undo list: compared, never followed. */
	const void *sysv_id;
	struct hlist_node sysv_node;	/* kpc_undo_sysv, while members live */
};

#define KIPC_UNDO_EXITED	0

/* A process sharing an undo list, watched until its thread group exits. */
struct kpc_undo_member {
	struct hlist_node node;		/* kpc_undo_procs, RCU */
	struct list_head link;		/* ul->members */
	struct kpc_undo_list *ul;
	struct pid *pid;		/* its tgid */
	wait_queue_entry_t wait;	/* on kpc_pid_exit_wq(pid) */
	unsigned long flags;		/* KIPC_UNDO_EXITED */
	bool last;			/* the last member of @ul to exit */
	struct work_struct work;
	struct rcu_head rcu;
};

/*
 * Members and lists change under kpc_undo_mutex; the fast path finds the
 * calling process's member under RCU.  Nothing is taken under the mutex
 * but obj->lock-free leaves: wait queue locks and ul->lock.
 */
#define KIPC_UNDO_HASH_BITS	8
static DEFINE_MUTEX(kpc_undo_mutex);
static DEFINE_HASHTABLE(kpc_undo_procs, KIPC_UNDO_HASH_BITS);
static DEFINE_HASHTABLE(kpc_undo_sysv, KIPC_UNDO_HASH_BITS);
static struct workqueue_struct *kpc_undo_wq;

/*
 * One undo list's adjustments to one set.  The set's end frees it, or, once
 * its processes have exited, its list's work.
 */
struct kpc_sem_undo {
	struct rb_node node;		/* kpc_sem.undos, keyed by @ul */
	struct list_head ul_link;	/* ul->undos, under ul->lock */
	struct kpc_undo_list *ul;	/* referenced */
	/*
	 * Not referenced: the set's end takes the record off @ul first, or
	 * waits for the work that @claimed it (kpc_sem.undo_busy).
	 */
	struct kpc_sem *sem;
	/* Under the set's lock: the adjustments were applied (or dropped). */
	bool applied;
	/* The list's processes have all exited: to be applied at once. */
	bool doomed;
	/* Under ul->lock: the list's work frees it (and @held: puts @sem). */
	bool claimed;
	bool held;
	int adj[];
};

struct kpc_sem {
	struct kpc_object obj;		/* obj.lock guards all below */
	u32 nsems;
	u32 flags;
	int max;
	ktime_t otime;
	u64 next_seq;
	unsigned int nundos;		/* records not yet applied */
	struct rb_root undos;
	/* Records whose list died, not yet applied: see kpc_sem_reap(). */
	atomic_t doomed;
	/* Records the works of dead lists are finishing: the set waits. */
	atomic_t undo_busy;
	/* Counters changed since their waiters were last retried. */
	unsigned long *dirty;
	/* Counters to consider handing back to user space. */
	unsigned long *touched;
	/* Set once mapped; never changes afterwards. */
	atomic_t *words;
	/* Counter 0 went up: poll waiters may want to know. */
	bool kick_poll;
	wait_queue_head_t poll_wq;
	struct kpc_semc sems[];
};

static inline struct kpc_sem *to_sem(struct kpc_object *obj)
{
	return container_of(obj, struct kpc_sem, obj);
}

/*
 * A task blocked in KIPC_IOC_SEM_OP.  It lives on the waiter's stack; a
 * waker takes it off its list and sets @done under the set's lock, and the
 * waiter reads the outcome only under the same lock.
 */
struct kpc_sem_waiter {
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
	struct kpc_sem_undo *undo;
	struct pid *pid;		/* its process, reported as sempid */
	u64 seq;
	bool done;
	int result;
};

/* Answer @w, to be woken once the set's lock is dropped. */
static void kpc_sem_wake_add(struct kpc_wake *wk, struct kpc_sem_waiter *w,
			     int result)
{
	w->result = result;
	w->done = true;
	kpc_wake_add(wk, w->task);
}

static int kpc_sem_max(u32 flags)
{
	return (flags & KIPC_SEM_POSIX) ? KIPC_SEM_VALUE_MAX : KIPC_SEM_VMX;
}

static int kpc_sem_overflow(struct kpc_sem *s)
{
	return (s->flags & KIPC_SEM_POSIX) ? -EOVERFLOW : -ERANGE;
}

/* Counter ownership, for the mapped fast path; all under obj.lock. */

/* Take counter @i over from user space before reading or changing it. */
static void kpc_semc_acquire(struct kpc_sem *s, u32 i)
{
	struct kpc_semc *c = &s->sems[i];
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
static void kpc_semc_publish(struct kpc_sem *s, u32 i)
{
	if (s->words)
		atomic_set(&s->words[i], KIPC_SEM_KERNEL | s->sems[i].value);
}

static int kpc_semc_value(struct kpc_sem *s, u32 i)
{
	if (s->sems[i].owned)
		return s->sems[i].value;
	return min_t(u32, atomic_read(&s->words[i]) & KIPC_SEM_VALUE_MASK,
		     s->max);
}

static void kpc_semc_touch(struct kpc_sem *s, u32 i)
{
	if (s->words)
		__set_bit(i, s->touched);
}

/*
 * Hand the counters touched in this critical section back to user space,
 * unless a task waits on them: a wait or post in user space would not see
 * it.  Counter 0 also stays while someone polls, so that posts wake them.
 */
static void kpc_sem_release(struct kpc_sem *s)
{
	struct kpc_semc *c;
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

static void kpc_semc_set_pid(struct kpc_semc *c, struct pid *pid)
{
	if (c->pid != pid) {
		put_pid(c->pid);
		c->pid = get_pid(pid);
	}
}

/* Set counter @i to @value, on behalf of process @pid. */
static void kpc_semc_set(struct kpc_sem *s, u32 i, int value,
			 struct pid *pid)
{
	struct kpc_semc *c = &s->sems[i];

	if (i == 0 && value > c->value)
		s->kick_poll = true;
	c->value = value;
	kpc_semc_publish(s, i);
	kpc_semc_set_pid(c, pid);
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
static int kpc_sem_perform(struct kpc_sem *s, const struct kipc_sembuf *sops,
			   u32 nsops, struct kpc_sem_undo *un,
			    struct pid *pid, u32 *blocking)
{
	/* LAB(sem): apply all of @sops or none: 0, 1 to block, or -errno */
	const struct kipc_sembuf *op;
	struct kpc_semc *c;
	int ret = 0;
	s64 val, adj;
	u32 i;

	for (i = 0; i < nsops; i++) {
		op = &sops[i];
		c = &s->sems[op->num];
		kpc_semc_acquire(s, op->num);
		val = (s64)c->value + op->delta;
		if (op->delta ? val < 0 : c->value != 0) {
			*blocking = i;
			ret = (op->flags & KIPC_SEMOP_NOWAIT) ? -EAGAIN : 1;
			break;
		}
		if (val > s->max) {
			ret = kpc_sem_overflow(s);
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
		kpc_semc_set_pid(c, pid);
		if (!op->delta)
			continue;
		kpc_semc_publish(s, op->num);
		__set_bit(op->num, s->dirty);
		if (op->num == 0 && op->delta > 0)
			s->kick_poll = true;
	}
	s->otime = ktime_get_real();
	return 0;
	/* END LAB: return -ENOSYS; */
}

/* Waiter lists */

static struct list_head *kpc_sem_wait_list(struct kpc_sem *s,
					   const struct kipc_sembuf *op)
{
	struct kpc_semc *c = &s->sems[op->num];

	return op->delta ? &c->nwait : &c->zwait;
}

/* List @w on the counter of its operation @blocking, in arrival order. */
static void kpc_sem_enqueue(struct kpc_sem *s, struct kpc_sem_waiter *w,
			    u32 blocking)
{
	const struct kipc_sembuf *op = &w->sops[blocking];
	struct list_head *head = kpc_sem_wait_list(s, op), *pos;
	u32 i;

	w->blocking = blocking;
	w->want = 0;
	for (i = 0; i < blocking; i++)
		if (w->sops[i].num == op->num)
			w->want -= w->sops[i].delta;
	list_for_each_prev(pos, head)
		if (list_entry(pos, struct kpc_sem_waiter, link)->seq < w->seq)
			break;
	list_add(&w->link, pos);
	if (op->delta)
		s->sems[op->num].ncnt++;
	else
		s->sems[op->num].zcnt++;
}

static void kpc_sem_dequeue(struct kpc_sem *s, struct kpc_sem_waiter *w)
{
	const struct kipc_sembuf *op = &w->sops[w->blocking];

	list_del(&w->link);
	if (op->delta)
		s->sems[op->num].ncnt--;
	else
		s->sems[op->num].zcnt--;
	kpc_semc_touch(s, op->num);
}

/* Retry a waiter whose counter changed: complete it, or move it. */
static void kpc_sem_retry(struct kpc_sem *s, struct kpc_sem_waiter *w,
			  struct kpc_wake *wk)
{
	u32 blocking;
	int ret;

	ret = kpc_sem_perform(s, w->sops, w->nsops, w->undo, w->pid,
			      &blocking);
	if (ret > 0) {
		if (blocking != w->blocking) {
			kpc_sem_dequeue(s, w);
			kpc_sem_enqueue(s, w, blocking);
		}
		return;
	}
	kpc_sem_dequeue(s, w);
	kpc_sem_wake_add(wk, w, ret);
}

/*
 * A waiter with SIGKILL pending never returns to user space: what it was
 * granted would be lost (a post taken by a dead sem_wait()).  It is left
 * alone until it runs and unlinks itself.
 */
static bool kpc_sem_dying(const struct kpc_sem_waiter *w)
{
	return fatal_signal_pending(w->task);
}

/*
 * Retry the waiters of every changed counter, until no change is left:
 * a completed waiter may change further counters.  Each pass either
 * completes a waiter or clears a counter, so this ends.  Returns false,
 * with the counter at hand still marked, when @wk has no room left.
 */
static bool kpc_sem_update(struct kpc_sem *s, struct kpc_wake *wk)
{
	struct kpc_sem_waiter *w, *tmp;
	struct kpc_semc *c;
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
			if (c->value != w->want || kpc_sem_dying(w))
				continue;
			if (kpc_wake_full(wk))
				goto full;
			kpc_sem_retry(s, w, wk);
		}
		list_for_each_entry_safe(w, tmp, &c->nwait, link) {
			/*
			 * Whether a lowering proceeds is monotonic in the
			 * value, and each of these failed at a value >= 0.
			 */
			if (c->value == 0)
				break;
			if (kpc_sem_dying(w))
				continue;
			if (kpc_wake_full(wk))
				goto full;
			kpc_sem_retry(s, w, wk);
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
static void kpc_sem_settle(struct kpc_sem *s, struct kpc_wake *wk)
	__must_hold(&s->obj.lock)
{
	while (!kpc_sem_update(s, wk)) {
		spin_unlock(&s->obj.lock);
		kpc_wake_run(wk);
		spin_lock(&s->obj.lock);
	}
}

/* The end of a critical section that may have changed counters. */
static void kpc_sem_unlock(struct kpc_sem *s, struct kpc_wake *wk)
	__releases(&s->obj.lock)
{
	bool kick;

	kpc_sem_settle(s, wk);
	kpc_sem_release(s);
	kick = s->kick_poll && kpc_semc_value(s, 0) > 0;
	s->kick_poll = false;
	spin_unlock(&s->obj.lock);

	kpc_wake_run(wk);
	if (kick && wq_has_sleeper(&s->poll_wq))
		wake_up_interruptible_poll(&s->poll_wq, EPOLLIN | EPOLLRDNORM);
}

/* Undo records */

static size_t kpc_sem_undo_size(const struct kpc_sem *s)
{
	const struct kpc_sem_undo *un = NULL;

	return struct_size(un, adj, s->nsems);
}

static struct kpc_sem_undo *kpc_sem_undo_find(struct kpc_sem *s,
					      struct kpc_undo_list *ul)
{
	struct rb_node *node = s->undos.rb_node;
	struct kpc_sem_undo *un;

	while (node) {
		un = rb_entry(node, struct kpc_sem_undo, node);
		if ((uintptr_t)ul < (uintptr_t)un->ul)
			node = node->rb_left;
		else if ((uintptr_t)ul > (uintptr_t)un->ul)
			node = node->rb_right;
		else
			return un;
	}
	return NULL;
}

static void kpc_sem_undo_insert(struct kpc_sem *s, struct kpc_sem_undo *un)
{
	struct rb_node **link = &s->undos.rb_node, *parent = NULL;
	struct kpc_sem_undo *cur;

	while (*link) {
		parent = *link;
		cur = rb_entry(parent, struct kpc_sem_undo, node);
		if ((uintptr_t)un->ul < (uintptr_t)cur->ul)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&un->node, parent, link);
	rb_insert_color(&un->node, &s->undos);
	s->nundos++;
}

/*
 * A record is memory its set's owner pays for, in the set's charge (which
 * the object core returns whole when the set is freed), until its list's
 * processes have exited.  The exit wake-up returns it, where no lock can
 * be taken: a set's charge changes atomically, only while a reference
 * holds the set, and never under kns->lock.
 */
static void kpc_sem_charge_add(struct kpc_sem *s, long bytes)
{
	unsigned long old = READ_ONCE(s->obj.charge);

	while (!try_cmpxchg(&s->obj.charge, &old, old + bytes))
		;
}

static int kpc_sem_charge(struct kpc_sem *s, size_t bytes)
{
	int ret = kpc_user_charge(s->obj.user, bytes);

	if (!ret)
		kpc_sem_charge_add(s, bytes);
	return ret;
}

static void kpc_sem_uncharge(struct kpc_sem *s, size_t bytes)
{
	kpc_user_uncharge(s->obj.user, bytes);
	kpc_sem_charge_add(s, -(long)bytes);
}

/* A new record of @ul's for @s, charged; not linked anywhere yet. */
static struct kpc_sem_undo *kpc_sem_undo_new(struct kpc_sem *s,
					     struct kpc_undo_list *ul)
{
	size_t size = kpc_sem_undo_size(s);
	struct kpc_sem_undo *un;
	int ret;

	un = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!un)
		return ERR_PTR(-ENOMEM);
	ret = kpc_sem_charge(s, size);
	if (ret) {
		kvfree(un);
		return ERR_PTR(ret);
	}
	un->ul = ul;
	un->sem = s;
	INIT_LIST_HEAD(&un->ul_link);
	return un;
}

/* A record kpc_sem_undo_link() did not take. */
static void kpc_sem_undo_discard(struct kpc_sem *s, struct kpc_sem_undo *un)
{
	if (un) {
		kpc_sem_uncharge(s, kpc_sem_undo_size(s));
		kvfree(un);
	}
}

static void kpc_undo_list_put(struct kpc_undo_list *ul);

/*
 * Under the set's lock: a record joins the set and its list.  The caller's
 * process is a live member of the list, so the list is not dying.
 */
static void kpc_sem_undo_link(struct kpc_sem *s, struct kpc_sem_undo *un)
{
	struct kpc_undo_list *ul = un->ul;
	unsigned long flags;

	kpc_sem_undo_insert(s, un);
	refcount_inc(&ul->ref);
	spin_lock_irqsave(&ul->lock, flags);
	WARN_ON_ONCE(ul->exit_pid);
	list_add_tail(&un->ul_link, &ul->undos);
	spin_unlock_irqrestore(&ul->lock, flags);
}

/*
 * Revert the adjustments of @un, clamped to the counters' range as
 * exit_sem() does, on behalf of @pid (the last process of its list).
 */
static void kpc_sem_undo_apply(struct kpc_sem *s, struct kpc_sem_undo *un,
			       struct pid *pid)
{
	/* LAB(sem): revert the adjustments of @un, clamped to the range */
	s64 val;
	u32 i;

	if (s->obj.removed)
		return;
	for (i = 0; i < s->nsems; i++) {
		if (!un->adj[i])
			continue;
		kpc_semc_acquire(s, i);
		val = clamp_t(s64, (s64)s->sems[i].value + un->adj[i], 0,
			      s->max);
		kpc_semc_set(s, i, val, pid);
		un->adj[i] = 0;
	}
	s->otime = ktime_get_real();
	/* END LAB */
}

/* Under the set's lock: apply a doomed record, once. */
static void kpc_sem_undo_retire(struct kpc_sem *s, struct kpc_sem_undo *un)
{
	kpc_sem_undo_apply(s, un, un->ul->exit_pid);
	un->applied = true;
	s->nundos--;
	atomic_dec(&s->doomed);
}

/*
 * Under the set's lock, first thing: apply the records whose processes
 * have all exited, before their list's work gets round to it (the work
 * frees them).  Returns true if counters may have changed, for the caller
 * to settle.
 */
static bool kpc_sem_reap(struct kpc_sem *s)
{
	struct kpc_sem_undo *un;
	struct rb_node *node;

	/* Pairs with kpc_undo_member_exited(): the count, then the marks. */
	if (likely(!atomic_read_acquire(&s->doomed)))
		return false;
	for (node = rb_first(&s->undos); node; node = rb_next(node)) {
		un = rb_entry(node, struct kpc_sem_undo, node);
		if (READ_ONCE(un->doomed) && !un->applied)
			kpc_sem_undo_retire(s, un);
	}
	return true;
}

/* Take the set's lock, with the undo of exited processes applied. */
static bool kpc_sem_lock(struct kpc_sem *s)
	__acquires(&s->obj.lock)
{
	spin_lock(&s->obj.lock);
	return kpc_sem_reap(s);
}

/*
 * A reader's critical section: reaping may have changed counters, which
 * owed grants then settle, before the reader looks.
 */
static bool kpc_sem_lock_read(struct kpc_sem *s, struct kpc_wake *wk)
	__acquires(&s->obj.lock)
{
	bool changed = kpc_sem_lock(s);

	if (changed)
		kpc_sem_settle(s, wk);
	return changed;
}

static void kpc_sem_unlock_read(struct kpc_sem *s, struct kpc_wake *wk,
				bool changed)
	__releases(&s->obj.lock)
{
	if (changed)
		kpc_sem_unlock(s, wk);
	else
		spin_unlock(&s->obj.lock);
}

/* SETVAL and SETALL: the new value replaces what undo would restore. */
static void kpc_sem_undo_clear(struct kpc_sem *s, int num)
{
	struct kpc_sem_undo *un;
	struct rb_node *node;

	for (node = rb_first(&s->undos); node; node = rb_next(node)) {
		un = rb_entry(node, struct kpc_sem_undo, node);
		if (num < 0)
			memset(un->adj, 0, s->nsems * sizeof(un->adj[0]));
		else
			un->adj[num] = 0;
	}
}

/*
 * The list of @un is dead and its work has claimed the record: apply it if
 * no operation on the set did yet, and free it.  The set may be on its way
 * out meanwhile, but its memory waits for us (undo_busy).
 */
static void kpc_sem_undo_finish(struct kpc_sem *s, struct kpc_sem_undo *un)
{
	struct kpc_undo_list *ul = un->ul;
	struct kpc_wake wk = { };
	bool held = un->held;

	kpc_sem_lock(s);
	/* Grants owed from earlier changes come before ours. */
	kpc_sem_settle(s, &wk);
	if (!un->applied)
		kpc_sem_undo_retire(s, un);
	rb_erase(&un->node, &s->undos);
	kpc_sem_unlock(s, &wk);
	kvfree(un);
	kpc_undo_list_put(ul);

	if (held) {
		atomic_dec(&s->undo_busy);
		kpc_object_put(&s->obj);
	} else if (atomic_dec_and_test(&s->undo_busy)) {
		/* The address only: kpc_sem_free() may free @s at once. */
		wake_up_var(&s->undo_busy);
	}
}

/* Undo lists */

static void kpc_undo_list_put(struct kpc_undo_list *ul)
{
	if (!refcount_dec_and_test(&ul->ref))
		return;
	WARN_ON(!list_empty(&ul->undos) || !list_empty(&ul->members));
	put_pid(ul->exit_pid);
	kfree(ul);
}

/*
 * The last process of @ul exited: apply its records, from process context.
 * Those the exit wake-up did not claim are of sets on their way out, which
 * free them.
 */
static void kpc_undo_list_apply(struct kpc_undo_list *ul)
{
	struct kpc_sem_undo *un, *tmp;
	LIST_HEAD(mine);

	spin_lock_irq(&ul->lock);
	list_for_each_entry_safe(un, tmp, &ul->undos, ul_link)
		if (un->claimed)
			list_move_tail(&un->ul_link, &mine);
	spin_unlock_irq(&ul->lock);

	list_for_each_entry_safe(un, tmp, &mine, ul_link) {
		kpc_sem_undo_finish(un->sem, un);
		cond_resched();
	}
}

/* Under kpc_undo_mutex, or RCU for the process calling. */
static struct kpc_undo_member *kpc_undo_member_find(struct pid *tgid)
{
	struct kpc_undo_member *m;

	hash_for_each_possible_rcu(kpc_undo_procs, m, node,
				   (unsigned long)tgid,
				   lockdep_is_held(&kpc_undo_mutex))
		if (m->pid == tgid)
			return m;
	return NULL;
}

static void kpc_undo_list_key(struct kpc_undo_list *ul, const void *id)
{
	lockdep_assert_held(&kpc_undo_mutex);
	/* kpc_undo_current() reads it without the mutex. */
	WRITE_ONCE(ul->sysv_id, id);
	hash_add(kpc_undo_sysv, &ul->sysv_node, (unsigned long)id);
}

/*
 * A member's process has exited, every thread of it: from the wake-up, in
 * atomic context, or when it was found gone as it was added.  The last one
 * of its list marks the records, so that the next operation on each set
 * applies them, returns their charge, and claims them for its work, which
 * applies what is left and frees them.  All of it before the parent can
 * learn of the exit: the wake-up comes first.
 */
static void kpc_undo_member_exited(struct kpc_undo_member *m)
{
	struct kpc_undo_list *ul = m->ul;
	struct kpc_sem_undo *un;
	unsigned long flags;

	if (test_and_set_bit(KIPC_UNDO_EXITED, &m->flags))
		return;
	if (atomic_dec_and_test(&ul->live)) {
		m->last = true;
		spin_lock_irqsave(&ul->lock, flags);
		ul->exit_pid = get_pid(m->pid);
		list_for_each_entry(un, &ul->undos, ul_link) {
			struct kpc_sem *s = un->sem;

			WRITE_ONCE(un->doomed, true);
			/*
			 * A set on its way out takes the record and its
			 * charge along.  Held a moment, a live one cannot:
			 * the work claims the record, which the set's memory
			 * waits for, and the charge returns now.  Ours can be
			 * the last reference only if everybody else let go in
			 * these few instructions: the work puts it.
			 */
			if (kref_get_unless_zero(&s->obj.ref)) {
				un->claimed = true;
				atomic_inc(&s->undo_busy);
				kpc_sem_uncharge(s, kpc_sem_undo_size(s));
				if (!refcount_dec_not_one(&s->obj.ref.refcount))
					un->held = true;
			}
			/* Pairs with kpc_sem_reap(): the mark, then the count. */
			smp_mb__before_atomic();
			atomic_inc(&s->doomed);
		}
		spin_unlock_irqrestore(&ul->lock, flags);
	}
	queue_work(kpc_undo_wq, &m->work);
}

/*
 * The wake-up of a pidfd's wait queue: the task exited, or (on a tgid) its
 * whole thread group.  Called under the queue's lock, from the exiting task
 * with tasklist_lock held and interrupts off: no sleeping, and only locks
 * that are irq-safe everywhere.  Other wake-ups (a thread of the group, a
 * ptracer's notification, later calls) are let by.
 */
static int kpc_undo_wake(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct kpc_undo_member *m = container_of(wait, struct kpc_undo_member,
						  wait);

	if (!kpc_thread_group_exited(m->pid))
		return 0;
	/* As autoremove_wake_function(): the entry stays self-linked. */
	list_del_init(&wait->entry);
	kpc_undo_member_exited(m);
	return 0;
}

/* Under kpc_undo_mutex: the member no longer belongs to its list. */
static void kpc_undo_member_unlink(struct kpc_undo_member *m)
{
	lockdep_assert_held(&kpc_undo_mutex);
	hash_del_rcu(&m->node);
	list_del(&m->link);
	/* Nobody joins a list whose processes are all gone. */
	if (!atomic_read(&m->ul->live))
		hash_del(&m->ul->sysv_node);
}

static void kpc_undo_member_work(struct work_struct *work)
{
	struct kpc_undo_member *m = container_of(work,
						  struct kpc_undo_member,
						  work);
	struct kpc_undo_list *ul = m->ul;
	bool last = m->last;

	mutex_lock(&kpc_undo_mutex);
	kpc_undo_member_unlink(m);
	mutex_unlock(&kpc_undo_mutex);
	put_pid(m->pid);
	kfree_rcu(m, rcu);
	if (last)
		kpc_undo_list_apply(ul);
	kpc_undo_list_put(ul);
}

/*
 * Under kpc_undo_mutex: @m makes the process @tgid a member of @ul, whose
 * @live already counts it, and watches for its exit.  Another process than
 * ours may have exited before the entry was on its queue: then it counts
 * out at once.
 */
static void kpc_undo_member_add(struct kpc_undo_list *ul,
				struct kpc_undo_member *m, struct pid *tgid)
{
	wait_queue_head_t *wq = kpc_pid_exit_wq(tgid);

	lockdep_assert_held(&kpc_undo_mutex);
	m->ul = ul;
	m->pid = get_pid(tgid);
	INIT_WORK(&m->work, kpc_undo_member_work);
	init_waitqueue_func_entry(&m->wait, kpc_undo_wake);
	refcount_inc(&ul->ref);
	list_add_tail(&m->link, &ul->members);
	hash_add_rcu(kpc_undo_procs, &m->node, (unsigned long)tgid);
	/* First on the queue: the set is settled before pidfd pollers run. */
	add_wait_queue_priority(wq, &m->wait);
	if (kpc_thread_group_exited(tgid)) {
		remove_wait_queue(wq, &m->wait);
		kpc_undo_member_exited(m);
	}
}

/* Under RCU: does a thread of @p's group share the SysV undo list @id? */
static bool kpc_undo_group_shares(struct task_struct *p, const void *id)
{
	struct task_struct *t;

	for_each_thread(p, t)
		if (kpc_sysvsem_id(t) == id)
			return true;
	return false;
}

/*
 * Under kpc_undo_mutex: a live list keyed @id, our SysV undo list, that a
 * live member really shares, with @live counting us already.  @id is live
 * as long as we run, so a member's thread holding the same pointer holds
 * the same list, never a new one at a reused address.
 */
static struct kpc_undo_list *kpc_undo_list_find_shared(const void *id)
{
	struct kpc_undo_member *m;
	struct kpc_undo_list *ul;
	struct task_struct *task;
	bool shared;

	hash_for_each_possible(kpc_undo_sysv, ul, sysv_node, (unsigned long)id) {
		if (ul->sysv_id != id)
			continue;
		shared = false;
		rcu_read_lock();
		list_for_each_entry(m, &ul->members, link) {
			task = pid_task(m->pid, PIDTYPE_PID);
			if (task && kpc_undo_group_shares(task, id)) {
				shared = true;
				break;
			}
		}
		rcu_read_unlock();
		if (shared && atomic_inc_not_zero(&ul->live))
			return ul;
	}
	return NULL;
}

/*
 * The tgid of our parent process, referenced, if it shares our SysV undo
 * list @id: we were made by clone(CLONE_SYSVSEM) (or it by ours).
 */
static struct pid *kpc_undo_parent_sharing(const void *id)
{
	struct task_struct *parent;
	struct pid *pid = NULL;

	rcu_read_lock();
	parent = rcu_dereference(current->real_parent);
	if (!same_thread_group(parent, current) &&
	    kpc_undo_group_shares(parent, id))
		pid = get_pid(task_tgid(parent));
	rcu_read_unlock();
	return pid;
}

/*
 * The slow path of kpc_undo_current(): the calling process has no list,
 * or got a SysV undo list since its list was made.  It joins the list of a
 * process it shares a SysV undo list with (CLONE_SYSVSEM): one that kipc
 * knows by that list, or its parent's.  Otherwise it gets a new list, which
 * a parent sharing its SysV list joins too.
 */
static struct kpc_undo_list *kpc_undo_attach(void)
{
	const void *id = kpc_sysvsem_id(current);
	struct pid *tgid = task_tgid(current), *ppid = NULL;
	struct kpc_undo_member *self, *peer, *m;
	struct kpc_undo_list *ul, *fresh;

	self = kzalloc(sizeof(*self), GFP_KERNEL_ACCOUNT);
	peer = kzalloc(sizeof(*peer), GFP_KERNEL_ACCOUNT);
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!self || !peer || !fresh) {
		ul = ERR_PTR(-ENOMEM);
		goto out_free;
	}
	refcount_set(&fresh->ref, 1);
	spin_lock_init(&fresh->lock);
	INIT_LIST_HEAD(&fresh->undos);
	INIT_LIST_HEAD(&fresh->members);
	INIT_HLIST_NODE(&fresh->sysv_node);

	mutex_lock(&kpc_undo_mutex);
	m = kpc_undo_member_find(tgid);
	if (m) {
		/* Another thread made it, or we got a SysV list since. */
		ul = m->ul;
		if (id && !ul->sysv_id)
			kpc_undo_list_key(ul, id);
		goto out_unlock;
	}

	ul = id ? kpc_undo_list_find_shared(id) : NULL;
	if (!ul && id) {
		ppid = kpc_undo_parent_sharing(id);
		m = ppid ? kpc_undo_member_find(ppid) : NULL;
		if (m) {
			/* A parent in its last moments shares nothing more. */
			if (atomic_inc_not_zero(&m->ul->live))
				ul = m->ul;
			put_pid(ppid);
			ppid = NULL;
		}
	}
	if (!ul) {
		ul = fresh;
		fresh = NULL;
		atomic_set(&ul->live, ppid ? 2 : 1);
	}
	if (id && !ul->sysv_id)
		kpc_undo_list_key(ul, id);
	kpc_undo_member_add(ul, self, tgid);
	self = NULL;
	if (ppid) {
		kpc_undo_member_add(ul, peer, ppid);
		peer = NULL;
	}
	/* The members hold the new list now. */
	if (!fresh)
		refcount_dec(&ul->ref);
out_unlock:
	mutex_unlock(&kpc_undo_mutex);
	put_pid(ppid);
out_free:
	kfree(self);
	kfree(peer);
	kfree(fresh);
	return ul;
}

/*
 * The undo list of the calling process, made on first use.  No reference is
 * taken: the process is a member as long as it runs, and its membership
 * holds the list.
 */
static struct kpc_undo_list *kpc_undo_current(void)
{
	struct kpc_undo_member *m;
	struct kpc_undo_list *ul = NULL;

	rcu_read_lock();
	m = kpc_undo_member_find(task_tgid(current));
	if (m && (READ_ONCE(m->ul->sysv_id) || !kpc_sysvsem_id(current)))
		ul = m->ul;
	rcu_read_unlock();
	return ul ?: kpc_undo_attach();
}

/* Operations */

/*
 * Sleep until our operation is applied for us.  @wk holds the waiters our
 * settle already granted: they are woken as we let go of the lock, not
 * when we return, which may be never if they are what we wait for.
 */
static int kpc_sem_wait(struct kpc_sem *s, const struct kipc_sembuf *sops,
			u32 nsops, struct kpc_sem_undo *un, u32 blocking,
			 struct kpc_deadline *dl, struct kpc_wake *wk)
{
	/* LAB(sem): sleep until a waker applies our operations for us */
	struct kpc_sem_waiter self = {
		.task = current,
		.sops = sops,
		.nsops = nsops,
		.undo = un,
		.pid = task_tgid(current),
		.seq = s->next_seq++,
	};
	int err;

	kpc_sem_enqueue(s, &self, blocking);
	for (;;) {
		/* Our counter stays ours while we are listed on it. */
		kpc_sem_release(s);
		__set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&s->obj.lock);
		kpc_wake_run(wk);

		err = kpc_deadline_sleep(dl);

		spin_lock(&s->obj.lock);
		/* Applied on our behalf: success, even with a signal pending. */
		if (self.done)
			return self.result;
		if (err) {
			kpc_sem_dequeue(s, &self);
			return err;
		}
	}
	/* END LAB: return -ENOSYS; */
}

static int kpc_sem_do(struct kpc_sem *s, const struct kipc_sembuf *sops,
		      u32 nsops, bool undo, struct kpc_deadline *dl)
{
	struct kpc_sem_undo *un = NULL, *fresh = NULL;
	struct pid *pid = task_tgid(current);
	struct kpc_undo_list *ul = NULL;
	struct kpc_wake wk = { };
	u32 blocking;
	int ret;

	if (undo) {
		ul = kpc_undo_current();
		if (IS_ERR(ul))
			return PTR_ERR(ul);
	}

	kpc_sem_lock(s);
	if (ul) {
		un = kpc_sem_undo_find(s, ul);
		if (!un) {
			/* The first undo of our list on this set. */
			spin_unlock(&s->obj.lock);
			fresh = kpc_sem_undo_new(s, ul);
			if (IS_ERR(fresh))
				return PTR_ERR(fresh);
			kpc_sem_lock(s);
			/* Another thread of ours may have been quicker. */
			un = kpc_sem_undo_find(s, ul);
			if (!un) {
				kpc_sem_undo_link(s, fresh);
				un = fresh;
				fresh = NULL;
			}
		}
	}

	kpc_sem_settle(s, &wk);
	if (s->obj.removed) {
		ret = -EIDRM;
	} else {
		kpc_count(kpc_sem_counters, KIPC_SSTATS_A_OPS);
		ret = kpc_sem_perform(s, sops, nsops, un, pid, &blocking);
		if (ret > 0 && !dl->nonblock)
			kpc_count(kpc_sem_counters, KIPC_SSTATS_A_WAITS);
		if (ret > 0)
			ret = dl->nonblock ? -EAGAIN :
			      kpc_sem_wait(s, sops, nsops, un, blocking, dl,
					   &wk);
	}
	kpc_sem_unlock(s, &wk);
	kpc_sem_undo_discard(s, fresh);
	return ret;
}

static long kpc_sem_op(struct file *file, struct kipc_semop __user *uarg)
{
	struct kpc_sem *s = to_sem(kpc_file_object(file));
	struct kipc_sembuf fast[KIPC_SEMOP_FAST], *sops = fast;
	bool alter = false, undo = false;
	struct kpc_deadline dl;
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
	ret = kpc_deadline_init(&dl, req.flags, &req.timeout,
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
		ret = kpc_sem_overflow(s);
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
	ret = kpc_call_may(&s->obj, alter ? MAY_WRITE : MAY_READ);
	if (ret)
		goto out;

	ret = kpc_sem_do(s, sops, req.nops, undo, &dl);
out:
	if (sops != fast)
		kfree(sops);
	return ret;
}

static long kpc_sem_getval(struct file *file, struct kipc_semval __user *uarg)
{
	struct kpc_sem *s = to_sem(kpc_file_object(file));
	struct kpc_wake wk = { };
	struct kipc_semval v;
	struct kpc_semc *c;
	bool changed;
	long ret = 0;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (kpc_call_may(&s->obj, MAY_READ))
		return -EACCES;
	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (v.num >= s->nsems)
		return -EINVAL;
	c = &s->sems[v.num];

	changed = kpc_sem_lock_read(s, &wk);
	if (s->obj.removed) {
		ret = -EIDRM;
	} else {
		v.value = kpc_semc_value(s, v.num);
		v.ncnt = c->ncnt;
		v.zcnt = c->zcnt;
		v.pid = pid_vnr(c->pid);
	}
	kpc_sem_unlock_read(s, &wk, changed);
	v.reserved = 0;
	if (!ret && copy_to_user(uarg, &v, sizeof(v)))
		ret = -EFAULT;
	return ret;
}

static long kpc_sem_setval(struct file *file,
			   const struct kipc_semval __user *uarg)
{
	struct kpc_sem *s = to_sem(kpc_file_object(file));
	struct kpc_wake wk = { };
	struct kipc_semval v;
	long ret = 0;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (kpc_call_may(&s->obj, MAY_WRITE))
		return -EACCES;
	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (v.num >= s->nsems || v.reserved)
		return -EINVAL;
	if (v.value < 0 || v.value > s->max)
		return -ERANGE;

	kpc_sem_lock(s);
	/* Grants still owed from earlier changes come before ours. */
	kpc_sem_settle(s, &wk);
	if (s->obj.removed) {
		ret = -EIDRM;
	} else {
		kpc_semc_acquire(s, v.num);
		kpc_semc_set(s, v.num, v.value, task_tgid(current));
		kpc_sem_undo_clear(s, v.num);
		s->obj.ctime = ktime_get_real();
	}
	kpc_sem_unlock(s, &wk);
	return ret;
}

static long kpc_sem_getall(struct file *file, struct kipc_semall __user *uarg)
{
	struct kpc_sem *s = to_sem(kpc_file_object(file));
	struct kpc_wake wk = { };
	struct kipc_semall req;
	long ret = s->nsems;
	bool changed;
	s32 *vals;
	u32 i;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (kpc_call_may(&s->obj, MAY_READ))
		return -EACCES;
	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved || req.count < s->nsems)
		return -EINVAL;
	vals = kvmalloc_array(s->nsems, sizeof(*vals), GFP_KERNEL);
	if (!vals)
		return -ENOMEM;

	changed = kpc_sem_lock_read(s, &wk);
	if (s->obj.removed)
		ret = -EIDRM;
	else
		for (i = 0; i < s->nsems; i++)
			vals[i] = kpc_semc_value(s, i);
	kpc_sem_unlock_read(s, &wk, changed);

	if (ret > 0 && copy_to_user(u64_to_user_ptr(req.values), vals,
				    s->nsems * sizeof(*vals)))
		ret = -EFAULT;
	kvfree(vals);
	return ret;
}

static long kpc_sem_setall(struct file *file,
			   const struct kipc_semall __user *uarg)
{
	struct kpc_sem *s = to_sem(kpc_file_object(file));
	struct pid *pid = task_tgid(current);
	struct kpc_wake wk = { };
	struct kipc_semall req;
	long ret = 0;
	s32 *vals;
	u32 i;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (kpc_call_may(&s->obj, MAY_WRITE))
		return -EACCES;
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

	kpc_sem_lock(s);
	kpc_sem_settle(s, &wk);
	if (s->obj.removed) {
		ret = -EIDRM;
	} else {
		for (i = 0; i < s->nsems; i++) {
			kpc_semc_acquire(s, i);
			kpc_semc_set(s, i, vals[i], pid);
		}
		kpc_sem_undo_clear(s, -1);
		s->obj.ctime = ktime_get_real();
	}
	kpc_sem_unlock(s, &wk);
out:
	kvfree(vals);
	return ret;
}

static long kpc_sem_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KIPC_IOC_SEM_OP:
		return kpc_sem_op(file, argp);
	case KIPC_IOC_SEM_GETVAL:
		return kpc_sem_getval(file, argp);
	case KIPC_IOC_SEM_SETVAL:
		return kpc_sem_setval(file, argp);
	case KIPC_IOC_SEM_GETALL:
		return kpc_sem_getall(file, argp);
	case KIPC_IOC_SEM_SETALL:
		return kpc_sem_setall(file, argp);
	default:
		return kpc_object_ioctl(file, cmd, arg);
	}
}

/* Readable when a decrement of counter 0 by one would not block. */
static __poll_t kpc_sem_poll(struct file *file, poll_table *wait)
{
	struct kpc_sem *s = to_sem(kpc_file_object(file));
	struct kpc_wake wk = { };
	__poll_t mask = 0;
	bool changed;

	poll_wait(file, &s->poll_wq, wait);
	changed = kpc_sem_lock_read(s, &wk);
	if (s->obj.removed) {
		mask = EPOLLERR | EPOLLHUP;
	} else {
		/* Posts in user space would not wake us: keep counter 0. */
		kpc_semc_acquire(s, 0);
		if (s->sems[0].value > 0)
			mask = EPOLLIN | EPOLLRDNORM;
	}
	kpc_sem_unlock_read(s, &wk, changed);
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
static vm_fault_t kpc_sem_fault(struct vm_fault *vmf)
{
	struct kpc_sem *s = vmf->vma->vm_private_data;
	size_t size = PAGE_ALIGN(s->nsems * sizeof(u32));

	if (vmf->pgoff >= size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	vmf->page = vmalloc_to_page((void *)s->words +
				    (vmf->pgoff << PAGE_SHIFT));
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct kpc_sem_vm_ops = {
	.fault		= kpc_sem_fault,
};

static int kpc_sem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kpc_sem *s = to_sem(kpc_file_object(file));
	size_t size = PAGE_ALIGN(s->nsems * sizeof(u32));
	struct kpc_wake wk = { };
	atomic_t *words;
	bool changed;
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
	if (kpc_removed(&s->obj))
		return -EIDRM;

	words = READ_ONCE(s->words);
	if (!words) {
		words = vmalloc_user(size);
		if (!words)
			return -ENOMEM;
		changed = kpc_sem_lock_read(s, &wk);
		if (s->words) {
			kpc_sem_unlock_read(s, &wk, changed);
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
			kpc_sem_release(s);
			kpc_sem_unlock_read(s, &wk, changed);
		}
	}
	vma->vm_ops = &kpc_sem_vm_ops;
	vma->vm_private_data = s;
	return remap_vmalloc_range(vma, words, 0);
}

static const struct file_operations kpc_sem_fops = {
	.owner		= THIS_MODULE,
	.poll		= kpc_sem_poll,
	.unlocked_ioctl	= kpc_sem_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= kpc_sem_mmap,
	.release	= kpc_object_release,
	.llseek		= kpc_no_llseek,
};

/* Object type operations */

static size_t kpc_sem_size(u32 nsems)
{
	struct kpc_sem *s = NULL;

	return struct_size(s, sems, nsems);
}

static int kpc_sem_check(const struct kipc_open *req, unsigned long *charge)
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
	if (!nsems || nsems > READ_ONCE(kpc_limits.max_nsems))
		return -EINVAL;
	if (a->value > kpc_sem_max(a->flags))
		return -EINVAL;
	/*
	 * The counters, and the page(s) a mapping would need: charged now,
	 * as ->mmap runs under mmap_lock and must not take kns->lock, which
	 * serialises changes of the charge and is held over user copies.
	 */
	*charge = kpc_sem_size(nsems) + 2 * BITS_TO_LONGS(nsems) * sizeof(long) +
		  PAGE_ALIGN(nsems * sizeof(u32));
	return 0;
}

static struct kpc_object *kpc_sem_alloc(const struct kipc_open *req)
{
	const struct kipc_sem_attr *a = &req->sem;
	u32 nsems = a->nsems ?: 1, i;
	struct kpc_sem *s;

	s = kvzalloc(kpc_sem_size(nsems), GFP_KERNEL_ACCOUNT);
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
	kpc_object_init(&s->obj, &kpc_sem_ops, KIPC_TYPE_SEM);
	s->nsems = nsems;
	s->flags = a->flags;
	s->max = kpc_sem_max(a->flags);
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
static void kpc_sem_removed(struct kpc_object *obj)
{
	struct kpc_sem *s = to_sem(obj);
	struct kpc_wake wk = { };
	struct kpc_sem_waiter *w;
	unsigned int woken = 0;
	struct kpc_semc *c;
	u32 i = 0;

	/* Send fast-path users to the ioctl, and its EIDRM. */
	spin_lock(&s->obj.lock);
	if (s->words)
		for (i = 0; i < s->nsems; i++)
			kpc_semc_acquire(s, i);
	spin_unlock(&s->obj.lock);

	/* No task joins a removed set: wake them in batches, unlocked. */
	i = 0;
	do {
		spin_lock(&s->obj.lock);
		for (; i < s->nsems && !kpc_wake_full(&wk); i++) {
			c = &s->sems[i];
			while (!kpc_wake_full(&wk)) {
				w = list_first_entry_or_null(&c->nwait,
							     struct kpc_sem_waiter,
							     link);
				if (!w)
					w = list_first_entry_or_null(&c->zwait,
								     struct kpc_sem_waiter,
								     link);
				if (!w)
					break;
				kpc_sem_dequeue(s, w);
				kpc_sem_wake_add(&wk, w, -EIDRM);
				woken++;
			}
			if (kpc_wake_full(&wk))
				break;
		}
		spin_unlock(&s->obj.lock);
		kpc_wake_run(&wk);
	} while (i < s->nsems);

	wake_up_interruptible_poll(&s->poll_wq, EPOLLERR | EPOLLHUP);
	if (woken)
		kpc_event(obj, KIPC_EVENT_WAITERS_WOKEN, woken);
}

static void kpc_sem_free(struct kpc_object *obj)
{
	struct kpc_sem *s = to_sem(obj);
	struct kpc_sem_undo *un, *tmp;
	struct kpc_undo_list *ul;
	u32 i;

	/*
	 * Nobody can see the counters any more: the records go unapplied.
	 * The works of lists that died before we did finish theirs first
	 * (no more can start: the exit wake-up claims only from live sets).
	 * The others' lists learn of it under ul->lock, after which no exit
	 * wake-up touches the set; the charge returns with the set's.
	 */
	wait_var_event(&s->undo_busy, !atomic_read(&s->undo_busy));
	rbtree_postorder_for_each_entry_safe(un, tmp, &s->undos, node) {
		ul = un->ul;
		spin_lock_irq(&ul->lock);
		list_del(&un->ul_link);
		spin_unlock_irq(&ul->lock);
		kvfree(un);
		kpc_undo_list_put(ul);
	}
	for (i = 0; i < s->nsems; i++)
		put_pid(s->sems[i].pid);
	vfree(s->words);
	bitmap_free(s->dirty);
	bitmap_free(s->touched);
	kvfree(s);
}

static void kpc_sem_stat(struct kpc_object *obj, struct kipc_stat *st)
{
	struct kpc_sem *s = to_sem(obj);
	struct kipc_sem_stat *ss = &st->sem;
	u32 i;

	ss->nsems = s->nsems;
	ss->flags = s->flags;
	ss->otime_ns = ktime_to_ns(s->otime);
	ss->max_value = s->max;
	for (i = 0; i < s->nsems; i++)
		ss->waiters += s->sems[i].ncnt + s->sems[i].zcnt;
	/* Records of exited processes are as good as applied. */
	ss->undos = s->nundos - atomic_read(&s->doomed);
	ss->mapped = !!s->words;
}

static int kpc_sem_init(void)
{
	/* Unbound: applying a list's records may take a while. */
	kpc_undo_wq = alloc_workqueue("kipc_undo", WQ_UNBOUND, 0);
	return kpc_undo_wq ? 0 : -ENOMEM;
}

/*
 * Module unload: no set exists any more (each pins the module), so no list
 * has records, but processes that used undo may still be watched, and the
 * wake-up is code of ours on their wait queues.  Off they come; a member
 * whose exit was noticed meanwhile is dropped by its work, which the
 * workqueue's destruction waits for.
 */
static void kpc_sem_exit(void)
{
	struct kpc_undo_member *m;
	struct kpc_undo_list *ul;
	struct hlist_node *tmp;
	unsigned int bkt;

	mutex_lock(&kpc_undo_mutex);
	hash_for_each_safe(kpc_undo_procs, bkt, tmp, m, node) {
		if (!test_bit(KIPC_UNDO_EXITED, &m->flags))
			remove_wait_queue(kpc_pid_exit_wq(m->pid), &m->wait);
		if (test_and_set_bit(KIPC_UNDO_EXITED, &m->flags))
			continue;
		ul = m->ul;
		atomic_dec(&ul->live);
		kpc_undo_member_unlink(m);
		put_pid(m->pid);
		kfree(m);
		kpc_undo_list_put(ul);
	}
	mutex_unlock(&kpc_undo_mutex);
	destroy_workqueue(kpc_undo_wq);
	WARN_ON(!hash_empty(kpc_undo_procs) || !hash_empty(kpc_undo_sysv));
}

/* The stat's netlink nest, by the rows of <linux/kipc_stat.h>. */
static const u16 kpc_sem_nl_start[] = {
#define KIPC_SEM_FIELD(attr, field)	offsetof(struct kipc_sem_stat, field),
#include <linux/kipc_stat.h>
};

static const u16 kpc_sem_nl_end[] = {
#define KIPC_SEM_FIELD(attr, field)	offsetofend(struct kipc_sem_stat, field),
#include <linux/kipc_stat.h>
};

const struct kpc_type_ops kpc_sem_ops = {
	.name		= "kipc-sem",
	.fops		= &kpc_sem_fops,
	.init		= kpc_sem_init,
	.exit		= kpc_sem_exit,
	.check		= kpc_sem_check,
	.alloc		= kpc_sem_alloc,
	.removed	= kpc_sem_removed,
	.free		= kpc_sem_free,
	.stat		= kpc_sem_stat,
	.nl_attr	= KIPC_A_SEM,
	.nl_pad		= KIPC_SEM_A_PAD,
	.nl_start	= kpc_sem_nl_start,
	.nl_end		= kpc_sem_nl_end,
	.nl_nfields	= ARRAY_SIZE(kpc_sem_nl_start),
	.nl_stats_attr	= KIPC_STATS_A_SEM,
	.counters	= kpc_sem_counters,
	.ncounters	= ARRAY_SIZE(kpc_sem_counters),
};
