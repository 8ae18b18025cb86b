// SPDX-License-Identifier: GPL-2.0
/*
 * kipc rings (KIPC_TYPE_RING): messages that live in memory shared by two
 * peers, who exchange them without system calls (see "Rings" in the UAPI
 * header).  A ring is an object type of its own, with its own file: only
 * mmap, poll and the ring ioctls apply to it.
 *
 * The kernel's part is small on purpose: it owns the pages, maps them, and
 * puts tasks to sleep until the ring's indices say a message or a slot is
 * there.  Everything it reads from the shared page may be garbage written by
 * a hostile peer, so it reads only the two indices, only to decide whether
 * somebody sleeps, and never uses them to address memory.  The only shared
 * words it writes are the wake flags, which tell the peers that somebody
 * sleeps and must be woken with KIPC_IOC_RING_WAKE.
 *
 * Flags and sleepers: a task registers on the ring's wait queue and sets
 * the flag under the wait queue's lock, and a wake-up clears the flag under
 * the same lock when it leaves the queue empty, so a flag is never clear
 * while somebody is registered.  The full barrier between setting the flag
 * and reading the indices pairs with the one a peer issues between storing
 * an index and reading the flag: one of the two sees the other's store.
 *
 * Lifetime: every open file and every mapping (through vma->vm_file) keep
 * the ring object alive; the pages go with the object.  obj.lock guards
 * nothing of the ring's own: its geometry is fixed at creation, and its
 * sleepers are on the two wait queues, under their own locks.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "kipc.h"

#define KIPC_RING_DEFAULT_SLOTS		16
#define KIPC_RING_DEFAULT_SLOT_SIZE	8192
#define KIPC_RING_SLOT_MIN		8
/* A state of the indices that no pair of honest peers can produce. */
#define KIPC_RING_BROKEN		0x80000000u

struct kpc_ring {
	struct kpc_object obj;
	struct page **pages;
	unsigned long npages;
	/* In the first page: the only shared memory the kernel looks at. */
	struct kipc_ring_hdr *hdr;
	u32 slots;
	u32 slot_size;
	u64 desc_offset;
	u64 slot_offset;
	u64 map_size;
	wait_queue_head_t data_wq;	/* waiting for a message */
	wait_queue_head_t room_wq;	/* waiting for a free slot */
};

static inline struct kpc_ring *to_ring(struct kpc_object *obj)
{
	return container_of(obj, struct kpc_ring, obj);
}

struct kpc_ring_geometry {
	u32 slots;
	u32 slot_size;
	u64 desc_offset;
	u64 slot_offset;
	u64 map_size;
};

/* Validate a ring's attributes and lay it out. */
static int kpc_ring_geometry(const struct kipc_ring_attr *a,
			     struct kpc_ring_geometry *g)
{
	u32 slots = a->slots ?: KIPC_RING_DEFAULT_SLOTS;
	u32 size = a->slot_size ?: KIPC_RING_DEFAULT_SLOT_SIZE;
	u64 bytes;

	if (!is_power_of_2(slots) || !is_power_of_2(size) ||
	    size < KIPC_RING_SLOT_MIN)
		return -EINVAL;
	if (slots > READ_ONCE(kpc_limits.max_queue_msgs) ||
	    size > READ_ONCE(kpc_limits.max_msgsize))
		return -EINVAL;
	/* Both are below 2^32: the product cannot overflow. */
	bytes = (u64)slots * size;
	if (bytes > READ_ONCE(kpc_limits.max_queue_bytes))
		return -EINVAL;

	g->slots = slots;
	g->slot_size = size;
	g->desc_offset = ALIGN(sizeof(struct kipc_ring_hdr), SMP_CACHE_BYTES);
	g->slot_offset = PAGE_ALIGN(g->desc_offset +
				    (u64)slots * sizeof(struct kipc_ring_desc));
	g->map_size = g->slot_offset + PAGE_ALIGN(bytes);
	/* Only an administrator's limits could get here on 32-bit. */
	if (g->map_size > (u64)LONG_MAX)
		return -EINVAL;
	return 0;
}

static int kpc_ring_check(const struct kipc_open *req, unsigned long *charge)
{
	const struct kipc_ring_attr *a = &req->ring;
	struct kpc_ring_geometry g;
	unsigned int i;
	int ret;

	if (a->reserved[0] || a->reserved[1])
		return -EINVAL;
	for (i = sizeof(*a) / sizeof(u64); i < ARRAY_SIZE(req->reserved); i++)
		if (req->reserved[i])
			return -EINVAL;
	ret = kpc_ring_geometry(a, &g);
	if (!ret)
		*charge = g.map_size;
	return ret;
}

static void kpc_ring_free_pages(struct kpc_ring *r)
{
	unsigned long i;

	if (r->pages) {
		/* Mappings hold their own references to the pages. */
		for (i = 0; i < r->npages && r->pages[i]; i++)
			__free_page(r->pages[i]);
		kvfree(r->pages);
	}
}

static struct kpc_object *kpc_ring_alloc(const struct kipc_open *req)
{
	struct kpc_ring_geometry g;
	struct kpc_ring *r;
	unsigned long i;
	int ret;

	ret = kpc_ring_geometry(&req->ring, &g);
	if (ret)
		return ERR_PTR(ret);
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	kpc_object_init(&r->obj, &kpc_ring_ops, KIPC_TYPE_RING);
	r->slots = g.slots;
	r->slot_size = g.slot_size;
	r->desc_offset = g.desc_offset;
	r->slot_offset = g.slot_offset;
	r->map_size = g.map_size;
	init_waitqueue_head(&r->data_wq);
	init_waitqueue_head(&r->room_wq);

	/*
	 * Pages of our own rather than vmalloc_user(): they are charged to
	 * the creator's memory cgroup, and the kernel needs a mapping of the
	 * header page only.  Zeroed: they go to user space.
	 */
	r->npages = g.map_size >> PAGE_SHIFT;
	r->pages = kvcalloc(r->npages, sizeof(*r->pages), GFP_KERNEL_ACCOUNT);
	if (!r->pages)
		goto err;
	for (i = 0; i < r->npages; i++) {
		r->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					 __GFP_NOWARN);
		if (!r->pages[i])
			goto err;
		cond_resched();
	}
	r->hdr = page_address(r->pages[0]);
	return &r->obj;

err:
	kpc_ring_free_pages(r);
	kfree(r);
	return ERR_PTR(-ENOMEM);
}

static void kpc_ring_free(struct kpc_object *obj)
{
	struct kpc_ring *r = to_ring(obj);

	kpc_ring_free_pages(r);
	kfree(r);
}

/*
 * Whether the ring holds a message (KIPC_RING_DATA) and has a free slot
 * (KIPC_RING_ROOM), from one consistent reading of the indices: head is
 * read again after tail, and if it did not move, the pair existed at the
 * moment tail was read.  Honest peers keep head - tail within [0, slots] at
 * every instant, so a consistent pair outside it is KIPC_RING_BROKEN.
 */
static u32 kpc_ring_state(const struct kpc_ring *r, u32 *fill)
{
	const struct kipc_ring_hdr *hdr = r->hdr;
	u32 head, tail, n;
	int i;

	for (i = 0; i < 4; i++) {
		head = READ_ONCE(hdr->head);
		smp_rmb();	/* head, then tail, then head again */
		tail = READ_ONCE(hdr->tail);
		smp_rmb();	/* as above */
		if (READ_ONCE(hdr->head) != head)
			continue;
		n = head - tail;
		if (n > r->slots)
			return KIPC_RING_BROKEN;
		if (fill)
			*fill = n;
		return (n ? KIPC_RING_DATA : 0) | (n < r->slots ? KIPC_RING_ROOM : 0);
	}
	/*
	 * The producer posts faster than we can look, so there is a message.
	 * Room is not promised: the only task that waits for room while head
	 * moves is a producer on a ring somebody else writes to.
	 */
	if (fill)
		*fill = 1;
	return KIPC_RING_DATA;
}

/* LAB(ring): register a waiter and set the wake flag; unregister it */
/* Register @wait on @wq, and tell the peers through @flag to wake it. */
static void kpc_ring_wait_add(wait_queue_head_t *wq,
			      struct wait_queue_entry *wait, u32 *flag)
{
	spin_lock_irq(&wq->lock);
	if (list_empty(&wait->entry))
		__add_wait_queue(wq, wait);
	WRITE_ONCE(*flag, 1);
	spin_unlock_irq(&wq->lock);
}

static void kpc_ring_wait_del(wait_queue_head_t *wq,
			      struct wait_queue_entry *wait, u32 *flag)
{
	/* A wake-up unlinks the entry, and clears the flag if it was the last. */
	if (list_empty_careful(&wait->entry))
		return;
	spin_lock_irq(&wq->lock);
	list_del_init(&wait->entry);
	if (list_empty(&wq->head))
		WRITE_ONCE(*flag, 0);
	spin_unlock_irq(&wq->lock);
}

/* END LAB */

/*
 * After a poll_wait() on @wq: ask the peers for wake-ups if anybody waits
 * there, the poller if it registered.  A poll that will not wait (a zero
 * timeout, a second pass) registers nothing, and the flag then stays as the
 * waiters already on @wq left it, so no peer is asked to call in for
 * nobody; there is no need to know which kind of poll this is.
 */
static void kpc_ring_poll_flag(wait_queue_head_t *wq, u32 *flag)
{
	spin_lock_irq(&wq->lock);
	if (!list_empty(&wq->head))
		WRITE_ONCE(*flag, 1);
	spin_unlock_irq(&wq->lock);
}

/* LAB(ring): wake the waiters of @wq; clear the flag if none is left */
static void kpc_ring_wake_wq(wait_queue_head_t *wq, u32 *flag, __poll_t key)
{
	unsigned long irqflags;

	spin_lock_irqsave(&wq->lock, irqflags);
	__wake_up_locked_key(wq, TASK_NORMAL, poll_to_key(key));
	/* Pollers and epoll stay registered: they keep the flag set. */
	if (list_empty(&wq->head))
		WRITE_ONCE(*flag, 0);
	spin_unlock_irqrestore(&wq->lock, irqflags);
}

/* END LAB */

static long kpc_ring_wake(struct kpc_ring *r, unsigned long events)
{
	/* LAB(ring): wake the tasks that wait for @events */
	if (events & ~(unsigned long)(KIPC_RING_DATA | KIPC_RING_ROOM))
		return -EINVAL;
	if (events & KIPC_RING_DATA)
		kpc_ring_wake_wq(&r->data_wq, &r->hdr->wake_data,
				 EPOLLIN | EPOLLRDNORM);
	if (events & KIPC_RING_ROOM)
		kpc_ring_wake_wq(&r->room_wq, &r->hdr->wake_room,
				 EPOLLOUT | EPOLLWRNORM);
	return 0;
	/* END LAB: return -ENOSYS; */
}

static long kpc_ring_wait(struct kpc_ring *r, struct file *file,
			  struct kipc_ring_wait __user *uarg)
{
	/* LAB(ring): sleep until the indices show what @uarg asks for */
	DEFINE_WAIT(data_wait);
	DEFINE_WAIT(room_wait);
	struct kipc_ring_wait w;
	struct kpc_deadline dl;
	long ret, err = 0;
	u32 state;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (!w.events || (w.events & ~(KIPC_RING_DATA | KIPC_RING_ROOM)) ||
	    (w.flags & ~(KIPC_F_NONBLOCK | KIPC_F_TIMED | KIPC_F_ABSTIME)))
		return -EINVAL;
	ret = kpc_deadline_init(&dl, w.flags, &w.timeout,
				file->f_flags & O_NONBLOCK);
	if (ret)
		return ret;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (w.events & KIPC_RING_DATA)
			kpc_ring_wait_add(&r->data_wq, &data_wait,
					  &r->hdr->wake_data);
		if (w.events & KIPC_RING_ROOM)
			kpc_ring_wait_add(&r->room_wq, &room_wait,
					  &r->hdr->wake_room);
		/* Pairs with the peer's barrier between its index and flag. */
		smp_mb();

		if (kpc_removed(&r->obj)) {
			ret = -EIDRM;
			break;
		}
		state = kpc_ring_state(r, NULL);
		if (state & KIPC_RING_BROKEN) {
			ret = -EPROTO;
			break;
		}
		if (state & w.events) {
			ret = state & w.events;
			break;
		}
		if (err) {
			ret = err;
			break;
		}
		if (dl.nonblock) {
			ret = -EAGAIN;
			break;
		}
		err = kpc_deadline_sleep(&dl);
	}
	__set_current_state(TASK_RUNNING);
	kpc_ring_wait_del(&r->data_wq, &data_wait, &r->hdr->wake_data);
	kpc_ring_wait_del(&r->room_wq, &room_wait, &r->hdr->wake_room);
	return ret;
	/* END LAB: return -ENOSYS; */
}

static long kpc_ring_info(struct kpc_ring *r,
			  struct kipc_ring_info __user *uarg)
{
	struct kipc_ring_info info;

	memset(&info, 0, sizeof(info));
	info.slots = r->slots;
	info.slot_size = r->slot_size;
	info.map_size = r->map_size;
	info.desc_offset = r->desc_offset;
	info.slot_offset = r->slot_offset;
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long kpc_ring_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct kpc_ring *r = to_ring(kpc_file_object(file));

	switch (cmd) {
	case KIPC_IOC_RING_INFO:
		return kpc_ring_info(r, (void __user *)arg);
	case KIPC_IOC_RING_WAIT:
		return kpc_ring_wait(r, file, (void __user *)arg);
	case KIPC_IOC_RING_WAKE:
		/* Only a peer can have moved an index; a reader just watches. */
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return kpc_ring_wake(r, arg);
	default:
		return kpc_object_ioctl(file, cmd, arg);
	}
}

static __poll_t kpc_ring_poll(struct file *file, poll_table *wait)
{
	struct kpc_ring *r = to_ring(kpc_file_object(file));
	__poll_t want = poll_requested_events(wait);
	__poll_t mask = 0;
	u32 state;

	/*
	 * Register only for what the caller asks, so that an epoll watching
	 * for messages does not make the consumer call in after every take.
	 */
	if (want & (EPOLLIN | EPOLLRDNORM)) {
		poll_wait(file, &r->data_wq, wait);
		kpc_ring_poll_flag(&r->data_wq, &r->hdr->wake_data);
	}
	if (want & (EPOLLOUT | EPOLLWRNORM)) {
		poll_wait(file, &r->room_wq, wait);
		kpc_ring_poll_flag(&r->room_wq, &r->hdr->wake_room);
	}
	/* Asking for neither, it still hears of removal. */
	if (!(want & (EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM)))
		poll_wait(file, &r->data_wq, wait);
	/* Flags before indices, as in kpc_ring_wait(). */
	smp_mb();
	if (kpc_removed(&r->obj))
		return EPOLLERR | EPOLLHUP;
	state = kpc_ring_state(r, NULL);
	if (state & KIPC_RING_BROKEN)
		return EPOLLERR;
	if (state & KIPC_RING_DATA)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (state & KIPC_RING_ROOM)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* LAB(ring): serve a page dropped from the mapping: the VMA operations */
/*
 * The pages are mapped when the mapping is made; this serves them again to
 * a task that dropped them (madvise(MADV_DONTNEED)).  vm_private_data stays
 * valid as long as the vma, which holds the file and so the ring.
 */
static vm_fault_t kpc_ring_fault(struct vm_fault *vmf)
{
	struct kpc_ring *r = vmf->vma->vm_private_data;

	if (vmf->pgoff >= r->npages)
		return VM_FAULT_SIGBUS;
	vmf->page = r->pages[vmf->pgoff];
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct kpc_ring_vm_ops = {
	.fault		= kpc_ring_fault,
};

/* END LAB */

/*
 * The mapping holds the file (vma->vm_file), and so the ring and its
 * pages, until it goes.
 */
static int kpc_ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* LAB(ring): map the ring pages into @vma, all of them, if it may */
	struct kpc_ring *r = to_ring(kpc_file_object(file));

	/* As for a region: a removed ring takes no new peers. */
	if (kpc_removed(&r->obj))
		return -EIDRM;
	/* All of it or nothing: the peers compute addresses from the info. */
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != r->map_size)
		return -EINVAL;
	/*
	 * A private copy would silently stop seeing the peer.  (MAP_SHARED
	 * of a read-only fd has VM_MAYSHARE without VM_SHARED.)
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	kpc_vm_flags_clear(vma, VM_MAYEXEC);
	kpc_vm_flags_set(vma, VM_DONTEXPAND);
	vma->vm_ops = &kpc_ring_vm_ops;
	vma->vm_private_data = r;
	return vm_map_pages_zero(vma, r->pages, r->npages);
	/* END LAB: return -ENOSYS; */
}

static const struct file_operations kpc_ring_fops = {
	.owner		= THIS_MODULE,
	.poll		= kpc_ring_poll,
	.mmap		= kpc_ring_mmap,
	.unlocked_ioctl	= kpc_ring_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= kpc_object_release,
	.llseek		= kpc_no_llseek,
};

/* IPC_RMID: sleepers and pollers find the object removed. */
static void kpc_ring_removed(struct kpc_object *obj)
{
	struct kpc_ring *r = to_ring(obj);

	wake_up_all(&r->data_wq);
	wake_up_all(&r->room_wq);
}

static unsigned int kpc_ring_count_waiters(wait_queue_head_t *wq)
{
	struct wait_queue_entry *wait;
	unsigned long irqflags;
	unsigned int n = 0;

	spin_lock_irqsave(&wq->lock, irqflags);
	list_for_each_entry(wait, &wq->head, entry)
		n++;
	spin_unlock_irqrestore(&wq->lock, irqflags);
	return n;
}

/* Under obj->lock, which only the wait queues' locks nest in. */
static void kpc_ring_stat(struct kpc_object *obj, struct kipc_stat *st)
{
	struct kpc_ring *r = to_ring(obj);
	struct kipc_ring_stat *rs = &st->ring;
	u32 fill = 0;

	/* A snapshot for the curious; 0 if the peers broke the indices. */
	kpc_ring_state(r, &fill);
	rs->slots = r->slots;
	rs->slot_size = r->slot_size;
	rs->map_size = r->map_size;
	rs->msgs = fill;
	rs->data_waiters = kpc_ring_count_waiters(&r->data_wq);
	rs->room_waiters = kpc_ring_count_waiters(&r->room_wq);
}

/* The stat's netlink nest, by the rows of <linux/kipc_stat.h>. */
static const u16 kpc_ring_nl_start[] = {
#define KIPC_RING_FIELD(attr, field)	offsetof(struct kipc_ring_stat, field),
#include <linux/kipc_stat.h>
};

static const u16 kpc_ring_nl_end[] = {
#define KIPC_RING_FIELD(attr, field)	offsetofend(struct kipc_ring_stat, field),
#include <linux/kipc_stat.h>
};

const struct kpc_type_ops kpc_ring_ops = {
	.name		= "kipc-ring",
	.fops		= &kpc_ring_fops,
	.check		= kpc_ring_check,
	.alloc		= kpc_ring_alloc,
	.removed	= kpc_ring_removed,
	.free		= kpc_ring_free,
	.stat		= kpc_ring_stat,
	.nl_attr	= KIPC_A_RING,
	.nl_pad		= KIPC_RING_A_PAD,
	.nl_start	= kpc_ring_nl_start,
	.nl_end		= kpc_ring_nl_end,
	.nl_nfields	= ARRAY_SIZE(kpc_ring_nl_start),
	.nl_stats_attr	= KIPC_STATS_A_RING,
};
