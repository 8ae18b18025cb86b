// SPDX-License-Identifier: GPL-2.0
/*
 * kipc message queues: one object serving both SysV selection (by type, in
 * arrival order) and POSIX order (highest priority first, FIFO within one).
 *
 * Every message sits on two lists: the arrival list, which SysV selection
 * walks, and the list of its priority bucket; buckets live in an rbtree
 * whose leftmost node is the highest priority, so a POSIX receive is O(1).
 *
 * The fast paths are those of ipc/msg.c and ipc/mqueue.c: a sender hands its
 * message straight to a waiting receiver without queueing it (pipelined
 * send), only one waiter is woken per message or per freed slot, and every
 * wake-up happens after the queue lock is dropped.  Payloads are copied
 * outside the lock, into messages from kipc's own memcg-accounted caches.
 *
 * A message keeps its room in the queue from the send that accepts it until
 * a receiver has copied it out: a receiver whose copy to user space faults
 * puts the message back where it was (by arrival sequence), and it still
 * fits, so a bad pointer loses nothing and the limits hold.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/math64.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kipc.h"

#define KIPC_QUEUE_DEFAULT_MSGS		10
#define KIPC_QUEUE_DEFAULT_MSGSIZE	8192

struct kpc_msg_seg {
	struct kpc_msg_seg *next;
	/* payload follows */
};

struct kpc_prio {
	struct rb_node node;
	struct list_head msgs;
	u32 prio;
};

struct kpc_qmsg {
	struct list_head arrival;	/* kpc_queue.msgs */
	struct list_head prio_link;	/* kpc_prio.msgs */
	struct kpc_prio *bucket;
	struct kpc_msg_seg *next;
	refcount_t ref;			/* the queue's (or receiver's) and peekers' */
	u32 prio;
	u32 len;
	s64 type;
	u64 seq;
	/* payload follows */
};

#define KIPC_MSG_SIZE		256
#define KIPC_MSG_INLINE		(KIPC_MSG_SIZE - sizeof(struct kpc_qmsg))
#define KIPC_SEG_SIZE		PAGE_SIZE
#define KIPC_SEG_INLINE		(KIPC_SEG_SIZE - sizeof(struct kpc_msg_seg))

/* Operations of all queues, KIPC_QSTATS_A_* of KIPC_STATS_A_QUEUE. */
static atomic64_t kpc_queue_counters[KIPC_QSTATS_A_MAX + 1 -
				     KIPC_TSTATS_A_TYPE_BASE];

static struct kmem_cache *kpc_msg_cache;
static struct kmem_cache *kpc_seg_cache;
static struct kmem_cache *kpc_prio_cache;

struct kpc_queue {
	struct kpc_object obj;		/* obj.lock guards all below */
	struct list_head msgs;
	struct rb_root_cached prios;
	struct kpc_prio *spare;	/* so inserting never allocates */
	struct list_head receivers;	/* struct kpc_qwaiter, FIFO */
	struct list_head senders;
	wait_queue_head_t poll_wq;

	u32 max_msgs;
	u32 max_msgsize;
	u64 max_bytes;
	u32 nmsgs;
	u64 bytes;
	/*
	 * Taken by receivers (or handed to them) and not yet copied out.
	 * Their room stays taken: a receive that faults puts its message
	 * back, which must not take the queue past its limits.
	 */
	u32 held_msgs;
	u64 held_bytes;
	u64 next_seq;

	u64 sent;
	u64 received;
	ktime_t stime;
	ktime_t rtime;
	struct pid *lspid;
	struct pid *lrpid;

	struct pid *notify_pid;		/* registered process, or NULL */
	u64 notify_exec_id;		/* its self_exec_id when it registered */
	u32 notify_how;
	u32 notify_signo;
	u64 notify_value;
};

static inline struct kpc_queue *to_queue(struct kpc_object *obj)
{
	return container_of(obj, struct kpc_queue, obj);
}

/*
 * A task blocked in send or receive.  It lives on the waiter's stack; a
 * waker removes it from its list and sets @done under the queue lock, and the
 * waiter reads the outcome only under the same lock.
 */
struct kpc_qwaiter {
	struct list_head link;
	struct task_struct *task;
	bool done;
	int result;			/* -errno, or 0 */
	struct kpc_qmsg *msg;		/* receive: the message handed over */
	u32 flags;			/* receive: KIPC_F_* selection */
	s64 type;
	u32 bufsize;
	u32 need;			/* send: payload bytes to fit */
};

/* Answer @w, to be woken once the lock is dropped. */
static void kpc_waiter_done(struct kpc_qwaiter *w, int result,
			    struct kpc_wake *wk)
{
	list_del_init(&w->link);
	w->result = result;
	w->done = true;
	kpc_wake_add(wk, w->task);
}

/* Messages */

static void kpc_qmsg_free(struct kpc_qmsg *msg)
{
	struct kpc_msg_seg *seg = msg->next, *next;

	while (seg) {
		next = seg->next;
		kmem_cache_free(kpc_seg_cache, seg);
		seg = next;
	}
	kmem_cache_free(kpc_msg_cache, msg);
}

static void kpc_qmsg_put(struct kpc_qmsg *msg)
{
	if (refcount_dec_and_test(&msg->ref))
		kpc_qmsg_free(msg);
}

static struct kpc_qmsg *kpc_qmsg_load(const void __user *src, u32 len)
{
	struct kpc_msg_seg **pseg;
	struct kpc_qmsg *msg;
	size_t chunk;

	msg = kmem_cache_alloc(kpc_msg_cache, GFP_KERNEL_ACCOUNT);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	msg->next = NULL;
	msg->len = len;
	refcount_set(&msg->ref, 1);

	chunk = min_t(size_t, len, KIPC_MSG_INLINE);
	if (copy_from_user(msg + 1, src, chunk))
		goto fault;
	src += chunk;
	len -= chunk;
	pseg = &msg->next;
	while (len) {
		struct kpc_msg_seg *seg;

		seg = kmem_cache_alloc(kpc_seg_cache, GFP_KERNEL_ACCOUNT);
		if (!seg) {
			kpc_qmsg_free(msg);
			return ERR_PTR(-ENOMEM);
		}
		seg->next = NULL;
		*pseg = seg;
		pseg = &seg->next;
		chunk = min_t(size_t, len, KIPC_SEG_INLINE);
		if (copy_from_user(seg + 1, src, chunk))
			goto fault;
		src += chunk;
		len -= chunk;
	}
	return msg;

fault:
	kpc_qmsg_free(msg);
	return ERR_PTR(-EFAULT);
}

static int kpc_qmsg_store(const struct kpc_qmsg *msg, void __user *dst,
			  u32 len)
{
	const struct kpc_msg_seg *seg = msg->next;
	size_t chunk;

	chunk = min_t(size_t, len, KIPC_MSG_INLINE);
	if (copy_to_user(dst, msg + 1, chunk))
		return -EFAULT;
	dst += chunk;
	len -= chunk;
	while (len && seg) {
		chunk = min_t(size_t, len, KIPC_SEG_INLINE);
		if (copy_to_user(dst, seg + 1, chunk))
			return -EFAULT;
		dst += chunk;
		len -= chunk;
		seg = seg->next;
	}
	return 0;
}

/* Queue structure, all under obj.lock */

static struct kpc_prio *kpc_prio_bucket(struct kpc_queue *q, u32 prio)
{
	struct rb_node **link = &q->prios.rb_root.rb_node, *parent = NULL;
	bool leftmost = true;
	struct kpc_prio *b;

	while (*link) {
		parent = *link;
		b = rb_entry(parent, struct kpc_prio, node);
		if (b->prio == prio)
			return b;
		/* Higher priorities sort left, so the leftmost is the next. */
		if (prio > b->prio) {
			link = &parent->rb_left;
		} else {
			link = &parent->rb_right;
			leftmost = false;
		}
	}
	b = q->spare;
	if (!b)
		return NULL;
	q->spare = NULL;
	b->prio = prio;
	INIT_LIST_HEAD(&b->msgs);
	rb_link_node(&b->node, parent, link);
	rb_insert_color_cached(&b->node, &q->prios, leftmost);
	return b;
}

/* Put @entry into @head ordered by sequence; new messages go to the tail. */
static void kpc_list_insert_seq(struct list_head *entry, struct list_head *head,
				u64 seq, size_t offset)
{
	struct list_head *pos;

	list_for_each_prev(pos, head) {
		const struct kpc_qmsg *m = (const void *)pos - offset;

		if (m->seq < seq)
			break;
	}
	list_add(entry, pos);
}

static int kpc_queue_insert(struct kpc_queue *q, struct kpc_qmsg *msg)
{
	struct kpc_prio *b = kpc_prio_bucket(q, msg->prio);

	if (!b)
		return -ENOMEM;
	msg->bucket = b;
	kpc_list_insert_seq(&msg->prio_link, &b->msgs, msg->seq,
			    offsetof(struct kpc_qmsg, prio_link));
	kpc_list_insert_seq(&msg->arrival, &q->msgs, msg->seq,
			    offsetof(struct kpc_qmsg, arrival));
	q->nmsgs++;
	q->bytes += msg->len;
	atomic64_inc(&kpc_counters.msgs);
	return 0;
}

static void kpc_queue_unlink(struct kpc_queue *q, struct kpc_qmsg *msg)
{
	struct kpc_prio *b = msg->bucket;

	list_del(&msg->arrival);
	list_del(&msg->prio_link);
	if (list_empty(&b->msgs)) {
		rb_erase_cached(&b->node, &q->prios);
		if (!q->spare)
			q->spare = b;
		else
			kmem_cache_free(kpc_prio_cache, b);
	}
	q->nmsgs--;
	q->bytes -= msg->len;
	atomic64_dec(&kpc_counters.msgs);
}

/* Room for one more message of @len bytes, counting those held. */
static bool kpc_queue_fits(const struct kpc_queue *q, u32 len)
{
	return q->nmsgs + q->held_msgs < q->max_msgs &&
	       q->bytes + q->held_bytes + len <= q->max_bytes;
}

static void kpc_queue_hold(struct kpc_queue *q, const struct kpc_qmsg *msg)
{
	q->held_msgs++;
	q->held_bytes += msg->len;
}

static void kpc_queue_unhold(struct kpc_queue *q, const struct kpc_qmsg *msg)
{
	q->held_msgs--;
	q->held_bytes -= msg->len;
}

static bool kpc_msg_matches(const struct kpc_qmsg *msg, u32 flags, s64 type)
{
	if (!(flags & KIPC_F_SYSV) || type == 0)
		return true;
	if (type > 0)
		return (flags & KIPC_F_EXCEPT) ? msg->type != type :
						 msg->type == type;
	return msg->type <= (type == S64_MIN ? S64_MAX : -type);
}

static struct kpc_qmsg *kpc_queue_find(struct kpc_queue *q, u32 flags,
				       s64 type)
{
	struct kpc_qmsg *msg, *best = NULL;
	struct rb_node *node;

	if (!(flags & KIPC_F_SYSV)) {
		node = rb_first_cached(&q->prios);
		if (!node)
			return NULL;
		return list_first_entry(&rb_entry(node, struct kpc_prio, node)->msgs,
					struct kpc_qmsg, prio_link);
	}
	if (type >= 0) {
		list_for_each_entry(msg, &q->msgs, arrival)
			if (kpc_msg_matches(msg, flags, type))
				return msg;
		return NULL;
	}
	/* type < 0: the lowest type not above -type, oldest among equals. */
	list_for_each_entry(msg, &q->msgs, arrival) {
		if (kpc_msg_matches(msg, flags, type) &&
		    (!best || msg->type < best->type)) {
			best = msg;
			if (best->type == 1)
				break;
		}
	}
	return best;
}

/*
 * Wake the first blocked sender whose message now fits.  One, not all (no
 * herd on a busy queue): so a woken sender that leaves room unused -- it
 * handed its message straight to a receiver, or needed less than was
 * freed -- must call this again as it leaves, or the next would sleep
 * beside free room.
 */
static void kpc_queue_wake_sender(struct kpc_queue *q,
				  struct kpc_wake *wk)
{
	struct kpc_qwaiter *w;

	/* Full by count: nobody fits, and a long list need not be walked. */
	if (!kpc_queue_fits(q, 0))
		return;
	list_for_each_entry(w, &q->senders, link) {
		if (kpc_queue_fits(q, w->need)) {
			kpc_waiter_done(w, 0, wk);
			return;
		}
	}
}

/*
 * Pipelined send: find a blocked receiver that takes @msg.  Receivers that
 * select it but cannot take it are answered on the way, as msgrcv() does.
 */
static struct kpc_qwaiter *kpc_queue_pick_receiver(struct kpc_queue *q,
						   const struct kpc_qmsg *msg,
						     struct kpc_wake *wk)
{
	struct kpc_qwaiter *w, *tmp;

	list_for_each_entry_safe(w, tmp, &q->receivers, link) {
		if (!kpc_msg_matches(msg, w->flags, w->type))
			continue;
		/*
		 * SIGKILLed, and still listed until it runs: it would take
		 * the message with it.  It leaves on its own.
		 */
		if (fatal_signal_pending(w->task))
			continue;
		if (w->flags & KIPC_F_PEEK) {
			kpc_waiter_done(w, 0, wk);	/* look again */
			continue;
		}
		if (msg->len > w->bufsize && !(w->flags & KIPC_F_NOERROR)) {
			kpc_waiter_done(w, (w->flags & KIPC_F_SYSV) ?
					 -E2BIG : -EMSGSIZE, wk);
			continue;
		}
		return w;
	}
	return NULL;
}

static void kpc_queue_poll_wake(struct kpc_queue *q)
{
	if (wq_has_sleeper(&q->poll_wq))
		wake_up_interruptible_poll(&q->poll_wq,
					   EPOLLIN | EPOLLRDNORM |
					   EPOLLOUT | EPOLLWRNORM);
}

struct kpc_notification {
	struct pid *pid;
	u64 exec_id;
	u32 how;
	u32 signo;
	u64 value;
};

static void kpc_queue_take_notification(struct kpc_queue *q,
					struct kpc_notification *n)
{
	n->pid = q->notify_pid;
	n->exec_id = q->notify_exec_id;
	n->how = q->notify_how;
	n->signo = q->notify_signo;
	n->value = q->notify_value;
	q->notify_pid = NULL;
}

/*
 * mq_notify()'s signal is for the whole process, as ipc/mqueue.c sends it,
 * but no exported call sends a process-directed signal with a siginfo.  So
 * pick the thread complete_signal() would: one that does not block @signo
 * (a thread in sigwaitinfo() has it unblocked meanwhile), else the leader.
 *
 * Only to the program that registered: one that has exec()ed since did not
 * ask for the signal, and may be a setuid program that the sender could not
 * kill() (ipc/mqueue.c checks self_exec_id the same way).  Exec leaves one
 * thread, the leader, with the new count.
 */
static struct task_struct *kpc_notify_target(struct pid *pid, int signo,
					     u64 exec_id)
{
	struct task_struct *leader, *t, *target = NULL;

	rcu_read_lock();
	leader = pid_task(pid, PIDTYPE_TGID);
	if (leader && READ_ONCE(leader->self_exec_id) == exec_id) {
		target = leader;
		for_each_thread(leader, t) {
			if (!(t->flags & PF_EXITING) &&
			    !sigismember(&t->blocked, signo)) {
				target = t;
				break;
			}
		}
		get_task_struct(target);
	}
	rcu_read_unlock();
	return target;
}

/*
 * Every thread of the registrant has exited.  ->flush unregisters a
 * registrant that closes its fds as it exits, but one that shared its fd
 * table (CLONE_FILES) with a live process closed nothing, and its
 * registration would keep everyone else out with EBUSY.  Such a one counts
 * as none: it can take no signal, and nobody can unregister it.  Its
 * struct pid is not reused, so no later process can be taken for it.
 */
static bool kpc_notify_owner_dead(struct pid *pid)
{
	struct task_struct *leader;
	bool dead;

	rcu_read_lock();
	leader = pid_task(pid, PIDTYPE_TGID);
	/* A leader that exited first stays, a zombie, while threads live. */
	dead = !leader || !atomic_read(&leader->signal->live);
	rcu_read_unlock();
	return dead;
}

static void kpc_notification_deliver(struct kpc_notification *n)
{
	struct kernel_siginfo info;
	struct task_struct *task;

	if (!n->pid)
		return;
	task = n->how == KIPC_NOTIFY_SIGNAL ?
	       kpc_notify_target(n->pid, n->signo, n->exec_id) : NULL;
	if (task) {
		clear_siginfo(&info);
		info.si_signo = n->signo;
		info.si_code = SI_MESGQ;
		info.si_value.sival_ptr = (void __user *)(uintptr_t)n->value;
		/* The sender, as the registrant's pid namespace numbers it. */
		info.si_pid = task_tgid_nr_ns(current, ns_of_pid(n->pid));
		/*
		 * In the sender's own user namespace, as kill() puts it: the
		 * signal core maps si_uid from there into the receiver's.
		 * Mapped here already, it would be mapped twice.
		 */
		info.si_uid = from_kuid_munged(current_user_ns(), current_uid());
		/*
		 * No kill permission check: the registrant asked for this
		 * signal, from any sender (as do_send_sig_info() in
		 * ipc/mqueue.c); the exec check above keeps it to the program
		 * that asked.
		 */
		send_sig_info(n->signo, &info, task);
		put_task_struct(task);
	}
	put_pid(n->pid);
}

static void kpc_queue_note_send(struct kpc_queue *q)
{
	q->sent++;
	q->stime = ktime_get_coarse_real();
	if (q->lspid != task_tgid(current)) {
		put_pid(q->lspid);
		q->lspid = get_pid(task_tgid(current));
	}
}

static void kpc_queue_note_recv(struct kpc_queue *q)
{
	q->received++;
	q->rtime = ktime_get_coarse_real();
	if (q->lrpid != task_tgid(current)) {
		put_pid(q->lrpid);
		q->lrpid = get_pid(task_tgid(current));
	}
}

/* Send and receive */

/*
 * The one way a message enters the queue, from a sender or put back by a
 * receiver: @msg, which fits and has its sequence, goes straight to the
 * first blocked receiver that takes it, who holds its room from now on, or
 * else into the queue.  Returns 1 if handed over, 0 if queued, -ENOMEM if
 * no spare priority node was there.
 */
static int kpc_queue_place(struct kpc_queue *q, struct kpc_qmsg *msg,
			   struct kpc_wake *wk)
{
	struct kpc_qwaiter *r = kpc_queue_pick_receiver(q, msg, wk);

	if (!r)
		return kpc_queue_insert(q, msg);
	kpc_queue_hold(q, msg);
	r->msg = msg;
	kpc_waiter_done(r, 0, wk);
	return 1;
}

/*
 * Post @msg, never sleeping: 0, or -EAGAIN (no room), -ENOMEM (no spare
 * priority node), -EIDRM.  Room first, even for a receiver waiting for
 * this message (as msgsnd() does): the receiver holds the room until it
 * has copied the message out.
 */
static int kpc_queue_post_locked(struct kpc_queue *q, struct kpc_qmsg *msg,
				 struct kpc_wake *wk,
				 struct kpc_notification *note)
{
	int ret;

	if (q->obj.removed)
		return -EIDRM;
	if (!kpc_queue_fits(q, msg->len))
		return -EAGAIN;
	msg->seq = q->next_seq++;
	ret = kpc_queue_place(q, msg, wk);
	if (ret < 0)
		return ret;
	kpc_queue_note_send(q);
	/* Only a message queued into an empty queue notifies. */
	if (!ret && q->nmsgs == 1 && q->notify_pid)
		kpc_queue_take_notification(q, note);
	return 0;
}

static int kpc_queue_send_one(struct kpc_queue *q, struct kpc_qmsg *msg,
			      struct kpc_deadline *dl)
{
	/* LAB(queue): queue @msg or hand it over; else sleep for room */
	struct kpc_notification note = { };
	struct kpc_wake wk = { };
	struct kpc_prio *bucket = NULL;
	bool full = false, told = false;
	struct kpc_qwaiter self;
	int ret, err = 0;

	if (!READ_ONCE(q->spare))
		bucket = kmem_cache_alloc(kpc_prio_cache, GFP_KERNEL_ACCOUNT);

	spin_lock(&q->obj.lock);
	for (;;) {
		if (!q->spare && bucket) {
			q->spare = bucket;
			bucket = NULL;
		}
		ret = kpc_queue_post_locked(q, msg, &wk, &note);
		if (ret == -ENOMEM) {
			/* Other senders took the spare node: get one. */
			spin_unlock(&q->obj.lock);
			bucket = kmem_cache_alloc(kpc_prio_cache,
						  GFP_KERNEL_ACCOUNT);
			spin_lock(&q->obj.lock);
			if (bucket)
				continue;
			break;
		}
		if (ret != -EAGAIN)
			break;
		if (err) {
			ret = err;
			break;
		}
		full = true;
		if (dl->nonblock) {
			ret = -EAGAIN;
			break;
		}
		/* Tell listeners before the first sleep, and unlocked. */
		if (!told && kpc_event_wanted()) {
			told = true;
			spin_unlock(&q->obj.lock);
			kpc_event(&q->obj, KIPC_EVENT_QUEUE_FULL, 0);
			spin_lock(&q->obj.lock);
			continue;
		}

		self.task = current;
		self.done = false;
		self.need = msg->len;
		list_add_tail(&self.link, &q->senders);
		__set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&q->obj.lock);

		err = kpc_deadline_sleep(dl);

		spin_lock(&q->obj.lock);
		if (!self.done)
			list_del(&self.link);
		else if (self.result)
			err = self.result;
	}
	/* We may have been woken for room we did not use: pass it on. */
	kpc_queue_wake_sender(q, &wk);
	spin_unlock(&q->obj.lock);

	kpc_wake_run(&wk);
	if (!ret)
		kpc_queue_poll_wake(q);
	kpc_notification_deliver(&note);
	if (full) {
		kpc_count(kpc_queue_counters, KIPC_QSTATS_A_FULL);
		if (!told)
			kpc_event(&q->obj, KIPC_EVENT_QUEUE_FULL, 0);
	}
	if (bucket)
		kmem_cache_free(kpc_prio_cache, bucket);
	return ret;
	/* END LAB: return -ENOSYS; */
}

/*
 * A batch moves through the queue lock in chunks: descriptors and payloads
 * are copied in before the lock is taken, once per chunk, and the queue
 * side (hand-offs, inserts, wake-ups) is done in one lock hold.
 */
#define KIPC_XFER_CHUNK		16

/*
 * Post as many of @msgs as go without sleeping, in one lock hold.  Returns
 * how many went; *@err says why the next did not (0: all went).
 */
static unsigned int kpc_queue_post_many(struct kpc_queue *q,
					struct kpc_qmsg **msgs,
					 unsigned int n, int *err)
{
	struct kpc_notification note = { };
	struct kpc_wake wk = { };
	unsigned int i;

	*err = 0;
	spin_lock(&q->obj.lock);
	for (i = 0; i < n; i++) {
		*err = kpc_queue_post_locked(q, msgs[i], &wk, &note);
		if (*err)
			break;
	}
	spin_unlock(&q->obj.lock);

	kpc_wake_run(&wk);
	if (i)
		kpc_queue_poll_wake(q);
	kpc_notification_deliver(&note);
	return i;
}

/*
 * A receiver takes @msg off the queue.  Its room stays held, and is freed
 * (and a sender woken for it) once the message is copied out.
 */
static void kpc_queue_take(struct kpc_queue *q, struct kpc_qmsg *msg)
{
	kpc_queue_unlink(q, msg);
	kpc_queue_hold(q, msg);
	kpc_queue_note_recv(q);
}

/* What a receive copied out, to free with kpc_queue_release(). */
struct kpc_qrelease {
	u32 msgs;
	u64 bytes;
};

/*
 * The messages of @rel are copied out: free their room.  A sender for each,
 * as each would have been woken had its room been freed alone.
 */
static void kpc_queue_release(struct kpc_queue *q,
			      const struct kpc_qrelease *rel)
{
	struct kpc_wake wk = { };
	u32 i;

	if (!rel->msgs)
		return;
	spin_lock(&q->obj.lock);
	q->held_msgs -= rel->msgs;
	q->held_bytes -= rel->bytes;
	for (i = 0; i < rel->msgs; i++)
		kpc_queue_wake_sender(q, &wk);
	spin_unlock(&q->obj.lock);
	kpc_wake_run(&wk);
	kpc_queue_poll_wake(q);
}

/*
 * Take (or, with KIPC_F_PEEK, reference) the message a receive selects.
 * Returns the message, with one reference for the caller; one taken holds
 * its room until kpc_queue_deliver() and kpc_queue_release().
 */
static struct kpc_qmsg *kpc_queue_recv_one(struct kpc_queue *q, u32 flags,
					   s64 type, u32 bufsize,
					     struct kpc_deadline *dl)
{
	/* LAB(queue): take a message, or sleep until one is handed over */
	struct kpc_qwaiter self;
	struct kpc_qmsg *msg;
	int ret, err = 0;

	spin_lock(&q->obj.lock);
	for (;;) {
		if (q->obj.removed) {
			ret = -EIDRM;
			break;
		}
		/* Killed since the call began: take nothing it cannot keep. */
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		msg = kpc_queue_find(q, flags, type);
		if (msg) {
			if (msg->len > bufsize && !(flags & KIPC_F_NOERROR)) {
				ret = (flags & KIPC_F_SYSV) ? -E2BIG : -EMSGSIZE;
				break;
			}
			if (flags & KIPC_F_PEEK)
				refcount_inc(&msg->ref);
			else
				kpc_queue_take(q, msg);
			ret = 0;
			break;
		}
		if (err) {
			ret = err;
			break;
		}
		if (dl->nonblock) {
			ret = (flags & KIPC_F_SYSV) ? -ENOMSG : -EAGAIN;
			break;
		}

		self.task = current;
		self.done = false;
		self.msg = NULL;
		self.flags = flags;
		self.type = type;
		self.bufsize = bufsize;
		list_add_tail(&self.link, &q->receivers);
		__set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&q->obj.lock);

		err = kpc_deadline_sleep(dl);

		spin_lock(&q->obj.lock);
		if (!self.done) {
			list_del(&self.link);
		} else if (self.msg) {
			msg = self.msg;
			kpc_queue_note_recv(q);
			ret = 0;
			break;
		} else if (self.result) {
			ret = self.result;
			break;
		}
	}
	spin_unlock(&q->obj.lock);

	if (ret)
		return ERR_PTR(ret);
	return msg;
	/* END LAB: return ERR_PTR(-ENOSYS); */
}

/*
 * Take up to @n more messages, selected by the descriptors @m, without
 * sleeping and in one lock hold.  Returns how many were taken; *@err says
 * why the next was not (0: all were).
 */
static unsigned int kpc_queue_take_many(struct kpc_queue *q, u32 flags,
					const struct kipc_msg *m,
					 struct kpc_qmsg **msgs,
					 unsigned int n, int *err)
{
	struct kpc_qmsg *msg;
	unsigned int i;

	*err = 0;
	spin_lock(&q->obj.lock);
	for (i = 0; i < n; i++) {
		if (q->obj.removed) {
			*err = -EIDRM;
			break;
		}
		/* Killed since the call began: take nothing it cannot keep. */
		if (fatal_signal_pending(current)) {
			*err = -EINTR;
			break;
		}
		if ((flags & KIPC_F_POSIX_SIZE) && m[i].len < q->max_msgsize) {
			*err = -EMSGSIZE;
			break;
		}
		msg = kpc_queue_find(q, flags, m[i].type);
		if (!msg) {
			*err = (flags & KIPC_F_SYSV) ? -ENOMSG : -EAGAIN;
			break;
		}
		if (msg->len > m[i].len && !(flags & KIPC_F_NOERROR)) {
			*err = (flags & KIPC_F_SYSV) ? -E2BIG : -EMSGSIZE;
			break;
		}
		kpc_queue_take(q, msg);
		msgs[i] = msg;
	}
	spin_unlock(&q->obj.lock);
	return i;
}

/*
 * A receiver could not deliver @msg: put it back where it was.  Its room
 * was held meanwhile, so it fits.  Receivers that blocked meanwhile did
 * not see it, so the first that selects it takes it, as from a sender, and
 * holds the room in turn.
 */
static void kpc_queue_requeue(struct kpc_queue *q, struct kpc_qmsg *msg)
{
	struct kpc_wake wk = { };
	struct kpc_prio *bucket;
	bool lost;

	/* Rare path, and the message must not be lost for want of a node. */
	bucket = kmem_cache_alloc(kpc_prio_cache, GFP_KERNEL | __GFP_NOFAIL);
	spin_lock(&q->obj.lock);
	if (!q->spare) {
		q->spare = bucket;
		bucket = NULL;
	}
	/* Its room, held until now, goes with it (to a receiver: held again). */
	kpc_queue_unhold(q, msg);
	/* Removed (its messages are gone), or no node: never. */
	lost = q->obj.removed || kpc_queue_place(q, msg, &wk) < 0;
	if (!lost)
		q->received--;
	spin_unlock(&q->obj.lock);
	if (lost)
		kpc_qmsg_put(msg);
	kpc_wake_run(&wk);
	if (bucket)
		kmem_cache_free(kpc_prio_cache, bucket);
	kpc_queue_poll_wake(q);
}

/*
 * Deliver a received message into @m's buffer and report it back; note its
 * room in @rel for kpc_queue_release(), or put it back if that faults.
 */
static int kpc_queue_deliver(struct kpc_queue *q, struct kpc_qmsg *msg,
			     struct kipc_msg *m, u32 flags,
			      struct kipc_msg __user *um,
			      struct kpc_qrelease *rel)
{
	u32 len = min(msg->len, m->len);
	int ret;

	m->flags = len < msg->len ? KIPC_MSG_TRUNCATED : 0;
	m->len = len;
	m->msg_len = msg->len;
	m->prio = msg->prio;
	m->type = msg->type;
	ret = kpc_qmsg_store(msg, u64_to_user_ptr(m->buf), len);
	if (!ret && um && copy_to_user(um, m, sizeof(*m)))
		ret = -EFAULT;
	if (flags & KIPC_F_PEEK) {
		kpc_qmsg_put(msg);
	} else if (ret) {
		kpc_queue_requeue(q, msg);
	} else {
		rel->msgs++;
		rel->bytes += msg->len;
		kpc_qmsg_put(msg);
	}
	return ret;
}

static int kpc_queue_check_msg(struct kpc_queue *q, const struct kipc_msg *m)
{
	if (m->len > q->max_msgsize)
		return -EMSGSIZE;
	if (m->type <= 0 || m->prio > KIPC_PRIO_MAX)
		return -EINVAL;
	return 0;
}

/*
 * Copy @n descriptors of a batch.  Those before an unreadable one still
 * count: returns how many were copied, with *@ret = -EFAULT if not all.
 */
static u32 kpc_xfer_copy_descs(struct kipc_msg *m,
			       const struct kipc_msg __user *um, u32 n,
				int *ret)
{
	unsigned long left = copy_from_user(m, um, n * sizeof(*m));

	if (left) {
		*ret = -EFAULT;
		n -= DIV_ROUND_UP(left, sizeof(*m));
	}
	return n;
}

static long kpc_queue_do_send(struct file *file, const struct kipc_xfer *xfer)
{
	struct kpc_queue *q = to_queue(kpc_file_object(file));
	struct kpc_qmsg *msgs[KIPC_XFER_CHUNK];
	struct kipc_msg m[KIPC_XFER_CHUNK];
	struct kipc_msg __user *umsgs;
	struct kpc_deadline dl;
	u32 i, k, n;
	int ret, err;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = kpc_call_may(&q->obj, MAY_WRITE);
	if (ret)
		return ret;
	if (xfer->count > KIPC_XFER_MAX ||
	    (xfer->flags & ~(KIPC_F_NONBLOCK | KIPC_F_TIMED | KIPC_F_ABSTIME)))
		return -EINVAL;
	ret = kpc_deadline_init(&dl, xfer->flags, &xfer->timeout,
				file->f_flags & O_NONBLOCK);
	if (ret)
		return ret;

	umsgs = u64_to_user_ptr(xfer->msgs);
	for (i = 0; i < xfer->count && !ret;) {
		n = kpc_xfer_copy_descs(m, &umsgs[i],
					min_t(u32, xfer->count - i,
					      KIPC_XFER_CHUNK), &ret);
		/* Load the chunk; a bad message ends the batch before it. */
		for (k = 0; k < n; k++) {
			err = kpc_queue_check_msg(q, &m[k]);
			if (err) {
				ret = err;
				break;
			}
			msgs[k] = kpc_qmsg_load(u64_to_user_ptr(m[k].buf),
						m[k].len);
			if (IS_ERR(msgs[k])) {
				ret = PTR_ERR(msgs[k]);
				break;
			}
			msgs[k]->prio = m[k].prio;
			msgs[k]->type = m[k].type;
		}
		n = k;
		/* All that fit at once; sleep only for the one that did not. */
		for (k = 0; k < n;) {
			k += kpc_queue_post_many(q, msgs + k, n - k, &err);
			if (!err)
				break;
			if (err != -EAGAIN && err != -ENOMEM) {
				ret = err;
				break;
			}
			err = kpc_queue_send_one(q, msgs[k], &dl);
			if (err) {
				ret = err;
				break;
			}
			k++;
		}
		i += k;
		while (k < n)
			kpc_qmsg_put(msgs[k++]);
	}
	kpc_count_add(kpc_queue_counters, KIPC_QSTATS_A_SENT, i);
	return i ? (long)i : ret;
}

/* Everything a receive checks before it looks at the queue. */
static int kpc_queue_recv_check(struct file *file, const struct kipc_xfer *xfer,
				struct kpc_deadline *dl)
{
	struct kpc_queue *q = to_queue(kpc_file_object(file));
	int ret;

	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	ret = kpc_call_may(&q->obj, MAY_READ);
	if (ret)
		return ret;
	if (xfer->count > KIPC_XFER_MAX ||
	    (xfer->flags & ~(KIPC_F_NONBLOCK | KIPC_F_TIMED | KIPC_F_ABSTIME |
			     KIPC_F_NOERROR | KIPC_F_EXCEPT | KIPC_F_SYSV |
			     KIPC_F_PEEK | KIPC_F_POSIX_SIZE)))
		return -EINVAL;
	return kpc_deadline_init(dl, xfer->flags, &xfer->timeout,
				  file->f_flags & O_NONBLOCK);
}

static long kpc_queue_do_recv(struct file *file, const struct kipc_xfer *xfer)
{
	struct kpc_queue *q = to_queue(kpc_file_object(file));
	struct kpc_qmsg *msgs[KIPC_XFER_CHUNK];
	struct kipc_msg m[KIPC_XFER_CHUNK];
	struct kipc_msg __user *umsgs;
	struct kpc_deadline dl;
	u32 i, j, k, n;
	int ret, err;

	ret = kpc_queue_recv_check(file, xfer, &dl);
	if (ret)
		return ret;

	umsgs = u64_to_user_ptr(xfer->msgs);
	for (i = 0; i < xfer->count && !ret;) {
		struct kpc_qrelease rel = { };

		/* A peek of several would see the same message again. */
		n = (xfer->flags & KIPC_F_PEEK) ? 1 :
		    min_t(u32, xfer->count - i, KIPC_XFER_CHUNK);
		n = kpc_xfer_copy_descs(m, &umsgs[i], n, &ret);
		k = 0;
		/* Block for the first message only (MSG_WAITFORONE). */
		if (!i && n) {
			if ((xfer->flags & KIPC_F_POSIX_SIZE) &&
			    m[0].len < q->max_msgsize)
				return -EMSGSIZE;
			msgs[0] = kpc_queue_recv_one(q, xfer->flags, m[0].type,
						     m[0].len, &dl);
			if (IS_ERR(msgs[0]))
				return PTR_ERR(msgs[0]);
			k = 1;
		}
		if (k < n) {
			k += kpc_queue_take_many(q, xfer->flags, m + k, msgs + k,
						  n - k, &err);
			if (err)
				ret = err;
		}
		for (j = 0; j < k; j++) {
			err = kpc_queue_deliver(q, msgs[j], &m[j], xfer->flags,
						&umsgs[i], &rel);
			if (err) {
				/* Unread messages go back, in their order. */
				while (++j < k)
					kpc_queue_requeue(q, msgs[j]);
				ret = err;
				k = j;
				break;
			}
			i++;
		}
		/* Once a chunk: senders may refill while we take the next. */
		kpc_queue_release(q, &rel);
		if (xfer->flags & KIPC_F_PEEK)
			break;
	}
	if (!(xfer->flags & KIPC_F_PEEK))
		kpc_count_add(kpc_queue_counters, KIPC_QSTATS_A_RECEIVED, i);
	return i ? (long)i : ret;
}

static long kpc_queue_send(struct file *file, struct kipc_xfer __user *uarg)
{
	struct kipc_xfer xfer;

	if (copy_from_user(&xfer, uarg, sizeof(xfer)))
		return -EFAULT;
	return kpc_queue_do_send(file, &xfer);
}

static long kpc_queue_recv(struct file *file, struct kipc_xfer __user *uarg)
{
	struct kipc_xfer xfer;

	if (copy_from_user(&xfer, uarg, sizeof(xfer)))
		return -EFAULT;
	return kpc_queue_do_recv(file, &xfer);
}

static const struct file_operations kpc_queue_fops;

/*
 * Send on this queue, then receive on another, in one call: a request/reply
 * exchange costs one system call per side instead of two, as binder's
 * transaction does.
 */
static long kpc_queue_sendrecv(struct file *file,
			       struct kipc_sendrecv __user *uarg)
{
	struct kipc_sendrecv sr;
	struct kpc_deadline dl;
	struct file *rfile;
	long sent, ret;

	if (copy_from_user(&sr, uarg, sizeof(sr)))
		return -EFAULT;
	if (sr.reserved)
		return -EINVAL;
	rfile = fget(sr.recv_fd);
	if (!rfile)
		return -EBADF;
	ret = -EINVAL;
	if (rfile->f_op != &kpc_queue_fops)
		goto out;
	/*
	 * Checked before sending, which must not happen if the receive can't;
	 * the receive's deadline starts when it does.
	 */
	ret = kpc_queue_recv_check(rfile, &sr.recv, &dl);
	if (ret)
		goto out;

	sent = kpc_queue_do_send(file, &sr.send);
	if (sent < 0) {
		ret = sent;
		goto out;
	}
	ret = -EFAULT;
	if (put_user((u32)sent, &uarg->sent))
		goto out;
	/* A partial send is reported in @sent; nothing is received then. */
	ret = sent < sr.send.count ? 0 : kpc_queue_do_recv(rfile, &sr.recv);
	/* The request went: a restart would send it again. */
	if (ret == -ERESTARTNOHAND)
		ret = -EINTR;
out:
	fput(rfile);
	return ret;
}

static long kpc_queue_notify(struct file *file,
			     const struct kipc_notify __user *uarg)
{
	struct kpc_queue *q = to_queue(kpc_file_object(file));
	struct pid *old = NULL;
	struct kipc_notify n;
	long ret = 0;

	if (copy_from_user(&n, uarg, sizeof(n)))
		return -EFAULT;
	if (n.how > KIPC_NOTIFY_NONE ||
	    (n.how == KIPC_NOTIFY_SIGNAL && (!n.signo || !valid_signal(n.signo))))
		return -EINVAL;

	spin_lock(&q->obj.lock);
	if (q->obj.removed) {
		ret = -EIDRM;
	} else if (n.how == KIPC_NOTIFY_OFF) {
		if (q->notify_pid == task_tgid(current)) {
			old = q->notify_pid;
			q->notify_pid = NULL;
		}
	} else if (q->notify_pid && !kpc_notify_owner_dead(q->notify_pid)) {
		ret = -EBUSY;
	} else {
		old = q->notify_pid;		/* a dead registrant's */
		q->notify_pid = get_pid(task_tgid(current));
		q->notify_exec_id = current->self_exec_id;
		q->notify_how = n.how;
		q->notify_signo = n.signo;
		q->notify_value = n.value;
	}
	spin_unlock(&q->obj.lock);
	put_pid(old);
	return ret;
}

static long kpc_queue_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KIPC_IOC_SEND:
		return kpc_queue_send(file, argp);
	case KIPC_IOC_RECV:
		return kpc_queue_recv(file, argp);
	case KIPC_IOC_NOTIFY:
		return kpc_queue_notify(file, argp);
	case KIPC_IOC_SENDRECV:
		return kpc_queue_sendrecv(file, argp);
	default:
		return kpc_object_ioctl(file, cmd, arg);
	}
}

/* write(2) sends one message of priority 0, type 1. */
static ssize_t kpc_queue_write(struct file *file, const char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct kpc_queue *q = to_queue(kpc_file_object(file));
	struct kpc_deadline dl;
	struct kpc_qmsg *msg;
	int ret;

	if (len > q->max_msgsize)
		return -EMSGSIZE;
	ret = kpc_deadline_init(&dl, 0, NULL, file->f_flags & O_NONBLOCK);
	if (ret)
		return ret;
	msg = kpc_qmsg_load(buf, len);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	msg->prio = 0;
	msg->type = 1;
	ret = kpc_queue_send_one(q, msg, &dl);
	if (ret) {
		kpc_qmsg_put(msg);
		return ret;
	}
	kpc_count(kpc_queue_counters, KIPC_QSTATS_A_SENT);
	return len;
}

/* read(2) receives one message in POSIX order; EMSGSIZE if it won't fit. */
static ssize_t kpc_queue_read(struct file *file, char __user *buf,
			      size_t len, loff_t *ppos)
{
	struct kpc_queue *q = to_queue(kpc_file_object(file));
	struct kpc_qrelease rel = { };
	struct kpc_deadline dl;
	struct kpc_qmsg *msg;
	struct kipc_msg m = {
		.buf = (uintptr_t)buf,
		.len = min_t(size_t, len, U32_MAX),
	};
	int ret;

	ret = kpc_deadline_init(&dl, 0, NULL, file->f_flags & O_NONBLOCK);
	if (ret)
		return ret;
	msg = kpc_queue_recv_one(q, 0, 0, m.len, &dl);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	ret = kpc_queue_deliver(q, msg, &m, 0, NULL, &rel);
	kpc_queue_release(q, &rel);
	if (ret)
		return ret;
	kpc_count(kpc_queue_counters, KIPC_QSTATS_A_RECEIVED);
	return m.len;
}

static __poll_t kpc_queue_poll(struct file *file, poll_table *wait)
{
	struct kpc_queue *q = to_queue(kpc_file_object(file));
	__poll_t mask = 0;

	poll_wait(file, &q->poll_wq, wait);
	spin_lock(&q->obj.lock);
	if (q->obj.removed)
		mask = EPOLLERR | EPOLLHUP;
	if (q->nmsgs)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (kpc_queue_fits(q, 0))
		mask |= EPOLLOUT | EPOLLWRNORM;
	spin_unlock(&q->obj.lock);
	return mask;
}

/* Like mq_notify: a registrant closing any fd of the queue unregisters. */
static int kpc_queue_flush(struct file *file, fl_owner_t id)
{
	struct kpc_queue *q = to_queue(kpc_file_object(file));
	struct pid *old = NULL;

	spin_lock(&q->obj.lock);
	if (q->notify_pid == task_tgid(current)) {
		old = q->notify_pid;
		q->notify_pid = NULL;
	}
	spin_unlock(&q->obj.lock);
	put_pid(old);
	return 0;
}

static const struct file_operations kpc_queue_fops = {
	.owner		= THIS_MODULE,
	.read		= kpc_queue_read,
	.write		= kpc_queue_write,
	.poll		= kpc_queue_poll,
	.unlocked_ioctl	= kpc_queue_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.flush		= kpc_queue_flush,
	.release	= kpc_object_release,
	.llseek		= kpc_no_llseek,
};

/* Object type operations */

/*
 * The memory a queue's messages can take at most, which is what its creator
 * is charged.  Payload bytes alone would let a queue of many tiny messages,
 * or of messages just past the inline part, pin many times its max_bytes:
 * every message takes a KIPC_MSG_SIZE header holding its first
 * KIPC_MSG_INLINE bytes, and maybe a priority bucket; the rest of it goes in
 * page-sized segments.  The segments are bounded both by every message
 * being as large as it may be, and by max_bytes spread over as many
 * segments as possible: a message of len > KIPC_MSG_INLINE takes fewer than
 * len / KIPC_SEG_INLINE + 1 of them.
 */
static u64 kpc_queue_charge(u32 msgs, u32 msgsize, u64 bytes)
{
	u64 segs = 0, big;

	if (msgsize > KIPC_MSG_INLINE) {
		segs = (u64)msgs * DIV_ROUND_UP(msgsize - KIPC_MSG_INLINE,
						KIPC_SEG_INLINE);
		big = min_t(u64, msgs, div64_u64(bytes, KIPC_MSG_INLINE + 1));
		segs = min(segs, div64_u64(bytes, KIPC_SEG_INLINE) + big);
	}
	return (u64)msgs * (KIPC_MSG_SIZE + sizeof(struct kpc_prio)) +
	       segs * KIPC_SEG_SIZE;
}

static int kpc_queue_check(const struct kipc_open *req, unsigned long *charge)
{
	const struct kipc_queue_attr *a = &req->queue;
	u32 msgs = a->max_msgs ?: KIPC_QUEUE_DEFAULT_MSGS;
	u32 msgsize = a->max_msgsize ?: KIPC_QUEUE_DEFAULT_MSGSIZE;
	u64 bytes = a->max_bytes ?: (u64)msgs * msgsize;
	unsigned int i;

	for (i = sizeof(*a) / sizeof(u64); i < ARRAY_SIZE(req->reserved); i++)
		if (req->reserved[i])
			return -EINVAL;
	if (a->reserved || a->flags)
		return -EINVAL;
	if (msgsize > READ_ONCE(kpc_limits.max_msgsize) ||
	    msgs > READ_ONCE(kpc_limits.max_queue_msgs) ||
	    bytes > READ_ONCE(kpc_limits.max_queue_bytes))
		return -EINVAL;
	bytes = kpc_queue_charge(msgs, msgsize, bytes);
	if (bytes > ULONG_MAX)
		return -EINVAL;
	*charge = bytes;
	return 0;
}

static struct kpc_object *kpc_queue_alloc(const struct kipc_open *req)
{
	const struct kipc_queue_attr *a = &req->queue;
	struct kpc_queue *q;

	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return ERR_PTR(-ENOMEM);
	kpc_object_init(&q->obj, &kpc_queue_ops, KIPC_TYPE_QUEUE);
	INIT_LIST_HEAD(&q->msgs);
	q->prios = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&q->receivers);
	INIT_LIST_HEAD(&q->senders);
	init_waitqueue_head(&q->poll_wq);
	q->max_msgs = a->max_msgs ?: KIPC_QUEUE_DEFAULT_MSGS;
	q->max_msgsize = a->max_msgsize ?: KIPC_QUEUE_DEFAULT_MSGSIZE;
	q->max_bytes = a->max_bytes ?: (u64)q->max_msgs * q->max_msgsize;
	return &q->obj;
}

static void kpc_queue_drain(struct list_head *msgs)
{
	struct kpc_qmsg *msg, *tmp;

	list_for_each_entry_safe(msg, tmp, msgs, arrival) {
		list_del(&msg->arrival);
		kpc_qmsg_put(msg);
	}
}

static void kpc_queue_clear_locked(struct kpc_queue *q,
				   struct list_head *drained)
{
	struct rb_node *node;

	while ((node = rb_first_cached(&q->prios))) {
		rb_erase_cached(node, &q->prios);
		kmem_cache_free(kpc_prio_cache,
				rb_entry(node, struct kpc_prio, node));
	}
	atomic64_sub(q->nmsgs, &kpc_counters.msgs);
	list_splice_init(&q->msgs, drained);
	q->nmsgs = 0;
	q->bytes = 0;
}

/* IPC_RMID: every blocked task leaves with EIDRM; the messages go now. */
static void kpc_queue_removed(struct kpc_object *obj)
{
	struct kpc_queue *q = to_queue(obj);
	struct kpc_qwaiter *w, *tmp;
	struct kpc_wake wk = { };
	unsigned int woken = 0;
	struct pid *notify;
	LIST_HEAD(drained);

	spin_lock(&q->obj.lock);
	list_for_each_entry_safe(w, tmp, &q->receivers, link) {
		kpc_waiter_done(w, -EIDRM, &wk);
		woken++;
	}
	list_for_each_entry_safe(w, tmp, &q->senders, link) {
		kpc_waiter_done(w, -EIDRM, &wk);
		woken++;
	}
	kpc_queue_clear_locked(q, &drained);
	notify = q->notify_pid;
	q->notify_pid = NULL;
	spin_unlock(&q->obj.lock);

	kpc_wake_run(&wk);
	put_pid(notify);
	kpc_queue_drain(&drained);
	kpc_queue_poll_wake(q);
	if (woken)
		kpc_event(obj, KIPC_EVENT_WAITERS_WOKEN, woken);
}

static void kpc_queue_free(struct kpc_object *obj)
{
	struct kpc_queue *q = to_queue(obj);
	LIST_HEAD(drained);

	/* A receive in progress holds a file, and so the queue. */
	WARN_ON_ONCE(q->held_msgs || q->held_bytes);
	kpc_queue_clear_locked(q, &drained);
	kpc_queue_drain(&drained);
	if (q->spare)
		kmem_cache_free(kpc_prio_cache, q->spare);
	put_pid(q->lspid);
	put_pid(q->lrpid);
	put_pid(q->notify_pid);
	kfree(q);
}

static unsigned int kpc_list_count(const struct list_head *head)
{
	const struct list_head *pos;
	unsigned int n = 0;

	list_for_each(pos, head)
		n++;
	return n;
}

static void kpc_queue_stat(struct kpc_object *obj, struct kipc_stat *st)
{
	struct kpc_queue *q = to_queue(obj);
	struct kipc_queue_stat *qs = &st->queue;

	qs->msgs = q->nmsgs;
	qs->bytes = q->bytes;
	qs->max_msgs = q->max_msgs;
	qs->max_msgsize = q->max_msgsize;
	qs->max_bytes = q->max_bytes;
	qs->sent = q->sent;
	qs->received = q->received;
	qs->send_waiters = kpc_list_count(&q->senders);
	qs->recv_waiters = kpc_list_count(&q->receivers);
	qs->stime_ns = ktime_to_ns(q->stime);
	qs->rtime_ns = ktime_to_ns(q->rtime);
	qs->lspid = pid_vnr(q->lspid);
	qs->lrpid = pid_vnr(q->lrpid);
	qs->notify_pid = q->notify_pid && !kpc_notify_owner_dead(q->notify_pid) ?
			 pid_vnr(q->notify_pid) : 0;
}

/* SysV msg_qbytes: raising it past the module limit takes CAP_SYS_RESOURCE. */
static int kpc_queue_set(struct kpc_object *obj, const struct kipc_set *set)
{
	struct kpc_queue *q = to_queue(obj);
	struct kpc_wake wk = { };
	u64 new = set->max_bytes, queued, charge;
	int ret = 0;

	if (!(set->valid & KIPC_SET_MAX_BYTES))
		return 0;
	if (new > READ_ONCE(kpc_limits.max_queue_bytes) &&
	    !capable(CAP_SYS_RESOURCE))
		return -EPERM;

	/* kns->lock serialises changes of the charge. */
	mutex_lock(&obj->kns->lock);
	/*
	 * Lowering: the new limit first, so that no message comes in beyond
	 * it, and the charge still covers what is queued above it.
	 */
	spin_lock(&q->obj.lock);
	q->max_bytes = min(q->max_bytes, new);
	queued = q->bytes + q->held_bytes;
	spin_unlock(&q->obj.lock);
	charge = kpc_queue_charge(q->max_msgs, q->max_msgsize,
				  max(new, queued));
	if (charge > ULONG_MAX)
		ret = -EINVAL;
	else if (charge > obj->charge)
		ret = kpc_user_charge(obj->user, charge - obj->charge);
	else
		kpc_user_uncharge(obj->user, obj->charge - charge);
	if (!ret) {
		obj->charge = charge;
		spin_lock(&q->obj.lock);
		q->max_bytes = new;
		kpc_queue_wake_sender(q, &wk);
		spin_unlock(&q->obj.lock);
	}
	mutex_unlock(&obj->kns->lock);
	kpc_wake_run(&wk);
	/* A raised limit is room for pollers too. */
	if (!ret)
		kpc_queue_poll_wake(q);
	return ret;
}

static void kpc_queue_exit(void)
{
	kmem_cache_destroy(kpc_msg_cache);
	kmem_cache_destroy(kpc_seg_cache);
	kmem_cache_destroy(kpc_prio_cache);
}

static int kpc_queue_init(void)
{
	kpc_msg_cache = kmem_cache_create_usercopy("kipc_msg", KIPC_MSG_SIZE, 0,
						   SLAB_ACCOUNT,
						   sizeof(struct kpc_qmsg),
						   KIPC_MSG_INLINE, NULL);
	kpc_seg_cache = kmem_cache_create_usercopy("kipc_msg_seg", KIPC_SEG_SIZE,
						   0, SLAB_ACCOUNT,
						   sizeof(struct kpc_msg_seg),
						   KIPC_SEG_INLINE, NULL);
	kpc_prio_cache = KMEM_CACHE(kpc_prio, SLAB_ACCOUNT);
	if (!kpc_msg_cache || !kpc_seg_cache || !kpc_prio_cache) {
		kpc_queue_exit();
		return -ENOMEM;
	}
	return 0;
}

/* The stat's netlink nest, by the rows of <linux/kipc_stat.h>. */
static const u16 kpc_queue_nl_start[] = {
#define KIPC_QUEUE_FIELD(attr, field)	offsetof(struct kipc_queue_stat, field),
#include <linux/kipc_stat.h>
};

static const u16 kpc_queue_nl_end[] = {
#define KIPC_QUEUE_FIELD(attr, field)	offsetofend(struct kipc_queue_stat, field),
#include <linux/kipc_stat.h>
};

const struct kpc_type_ops kpc_queue_ops = {
	.name		= "kipc-queue",
	.fops		= &kpc_queue_fops,
	.init		= kpc_queue_init,
	.exit		= kpc_queue_exit,
	.check		= kpc_queue_check,
	.alloc		= kpc_queue_alloc,
	.removed	= kpc_queue_removed,
	.free		= kpc_queue_free,
	.stat		= kpc_queue_stat,
	.set		= kpc_queue_set,
	.nl_attr	= KIPC_A_QUEUE,
	.nl_pad		= KIPC_QUEUE_A_PAD,
	.nl_start	= kpc_queue_nl_start,
	.nl_end		= kpc_queue_nl_end,
	.nl_nfields	= ARRAY_SIZE(kpc_queue_nl_start),
	.nl_stats_attr	= KIPC_STATS_A_QUEUE,
	.counters	= kpc_queue_counters,
	.ncounters	= ARRAY_SIZE(kpc_queue_counters),
};
