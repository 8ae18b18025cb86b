// SPDX-License-Identifier: GPL-2.0
/*
 * kipc shared regions: a fixed number of bytes that any number of processes
 * map with mmap(), or read and write with pread()/pwrite() on the region fd.
 *
 * Backing.  Each region owns a shmem file, as a SysV shm segment does, so
 * its pages are swappable and charged to the memcg of whoever touches them.
 * mmap() on the region fd lets shmem set the VMA up through the VFS, as
 * ipc/shm.c does, then points it at a second file on the same inode (below);
 * our vm_operations wrap shmem's to count the mappings.
 *
 * Lifetime.  A VMA holds a reference on the region *file* it was mapped
 * through (in vm_private_data), and the file holds the object.  Unmapping
 * the last VMA after the last close therefore frees the region through
 * fput(), which defers the release until mmap_lock is dropped, so that the
 * release (kns->lock, the shmem file's own teardown) never nests inside
 * it.  The file also pins the module while any VMA runs on our
 * vm_operations.
 *
 * Locking.  obj.lock guards the size, the seals and the mapping counts, so
 * that mmap() (under mmap_lock, where it cannot wait for the mutex) checks
 * them and counts the new mapping in one step.  r->mutex serialises what
 * changes the contents or the shape: pwrite, resize and sealing.  It nests
 * outside mmap_lock, which a fault on a pwrite's user buffer takes.
 *
 * The seals are enforced here, on the region fd and in mmap(); like memfd,
 * KIPC_SEAL_WRITE does not wait for pages pinned (get_user_pages) through a
 * mapping that is gone.  There is no ->poll: a region fd is always ready,
 * as a regular file is.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "kipc.h"

/* Operations of all regions, KIPC_RSTATS_A_* of KIPC_STATS_A_REGION. */
static atomic64_t kpc_region_counters[KIPC_RSTATS_A_MAX + 1 -
				      KIPC_TSTATS_A_TYPE_BASE];

#define KIPC_SEALS_ALL	(KIPC_SEAL_SEAL | KIPC_SEAL_SHRINK | \
			 KIPC_SEAL_GROW | KIPC_SEAL_WRITE)

struct kpc_region {
	struct kpc_object obj;
	struct file *shm;		/* the pages, for the region's whole life */
	struct file *map_file;		/* our VMAs' vm_file, on shm's inode */
	/* shmem's, which ours forward to; set by every mmap, always the same */
	const struct vm_operations_struct *shm_vm_ops;
	struct mutex mutex;		/* pwrite, resize and sealing */

	/* Under obj.lock; size and seals change also under @mutex. */
	u64 size;
	u32 seals;
	unsigned long nattch;		/* VMAs */
	unsigned long nwritable;	/* VMAs that are or may become shared writable */
	ktime_t atime;
	ktime_t dtime;
	struct pid *lpid;
};

/*
 * The pages must not be mapped but through the region fd, or the mapping
 * would escape our checks and counts, and remap_file_pages() maps a VMA's
 * vm_file afresh.  So our VMAs do not point at the shmem file but at a
 * file of our own on the same inode (its mapping, for rmap, is shmem's),
 * whose ->mmap refuses.  The rest is what the kernel may call on a VMA's
 * file (msync, MADV_REMOVE), passed to the inode's own operations.  Each
 * such file holds a module reference through ->owner, dropped when it is
 * finally released, however late that is.
 */
static int kpc_map_mmap(struct file *file, struct vm_area_struct *vma)
{
	return -EPERM;
}

static long kpc_map_fallocate(struct file *file, int mode, loff_t offset,
			      loff_t len)
{
	const struct file_operations *fops = file_inode(file)->i_fop;

	if (!fops->fallocate)
		return -EOPNOTSUPP;
	return fops->fallocate(file, mode, offset, len);
}

static const struct file_operations kpc_map_fops = {
	.owner		= THIS_MODULE,
	.mmap		= kpc_map_mmap,
	.fsync		= noop_fsync,
	.fallocate	= kpc_map_fallocate,
};

static inline struct kpc_region *to_region(struct kpc_object *obj)
{
	return container_of(obj, struct kpc_region, obj);
}

static struct kpc_region *kpc_file_region(struct file *file)
{
	return to_region(kpc_file_object(file));
}

/* LAB(region): a mapping's region: what its VMA operations work on */
static struct kpc_region *kpc_vma_region(struct vm_area_struct *vma)
{
	return kpc_file_region(vma->vm_private_data);
}

/* END LAB */

/* Pages a mapping may cover: the size rounded up, as SysV shm does. */
static u64 kpc_region_pages(u64 size)
{
	return (size >> PAGE_SHIFT) + !!(size & ~PAGE_MASK);
}

/*
 * Validate a size and return the charge for it: whole pages, since that is
 * what the region can make resident.
 */
static int kpc_region_charge(u64 size, unsigned long *charge)
{
	u64 max = min_t(u64, READ_ONCE(kpc_limits.max_region_size),
			MAX_LFS_FILESIZE);
	u64 bytes;

	if (size > max)
		return -EINVAL;
	/* No wrap: size <= MAX_LFS_FILESIZE, well below U64_MAX. */
	bytes = kpc_region_pages(size) << PAGE_SHIFT;
	if (bytes > ULONG_MAX)
		return -EINVAL;
	*charge = bytes;
	return 0;
}

static u64 kpc_region_size(struct kpc_region *r)
{
	u64 size;

	/* A u64 may tear on 32-bit. */
	spin_lock(&r->obj.lock);
	size = r->size;
	spin_unlock(&r->obj.lock);
	return size;
}

/* LAB(region): the VMA operations: count the mappings, each holds the region */
/* The caller is the last to map or unmap; returns the pid to put. */
static struct pid *kpc_region_touch_locked(struct kpc_region *r, bool map)
{
	struct pid *old = r->lpid, *pid = task_tgid(current);

	if (map)
		r->atime = ktime_get_real();
	else
		r->dtime = ktime_get_real();
	if (old == pid)
		return NULL;
	r->lpid = get_pid(pid);
	return old;
}

/*
 * Whether a mapping can write the pages: shared and allowed to become
 * writable, even if not writable now.  VM_MAYWRITE never comes back once
 * cleared, so the answer is the same at open and at close.
 */
static bool kpc_vma_may_write_shared(struct vm_area_struct *vma)
{
	return (vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) ==
	       (VM_SHARED | VM_MAYWRITE);
}

static void kpc_region_count_locked(struct kpc_region *r, bool writable,
				    int delta)
{
	lockdep_assert_held(&r->obj.lock);
	r->nattch += delta;
	if (writable)
		r->nwritable += delta;
}

/* VMA operations */

/* A copy of a VMA: fork, split, mremap. */
static void kpc_region_vm_open(struct vm_area_struct *vma)
{
	struct kpc_region *r = kpc_vma_region(vma);
	struct pid *old;

	get_file(vma->vm_private_data);
	spin_lock(&r->obj.lock);
	kpc_region_count_locked(r, kpc_vma_may_write_shared(vma), 1);
	old = kpc_region_touch_locked(r, true);
	spin_unlock(&r->obj.lock);
	put_pid(old);
}

static void kpc_region_vm_close(struct vm_area_struct *vma)
{
	struct kpc_region *r = kpc_vma_region(vma);
	struct pid *old;

	spin_lock(&r->obj.lock);
	kpc_region_count_locked(r, kpc_vma_may_write_shared(vma), -1);
	old = kpc_region_touch_locked(r, false);
	spin_unlock(&r->obj.lock);
	put_pid(old);
	/* fput() defers the release, which must not run under mmap_lock. */
	fput(vma->vm_private_data);
}

static vm_fault_t kpc_region_fault(struct vm_fault *vmf)
{
	struct kpc_region *r = kpc_vma_region(vmf->vma);

	return READ_ONCE(r->shm_vm_ops)->fault(vmf);
}

static const struct vm_operations_struct kpc_region_vm_ops = {
	.open		= kpc_region_vm_open,
	.close		= kpc_region_vm_close,
	.fault		= kpc_region_fault,
	/* What shmem maps around a read fault with. */
	.map_pages	= filemap_map_pages,
};

/* END LAB */

/* File operations */

static int kpc_region_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* LAB(region): map the region's shmem pages, counting the mapping */
	struct kpc_region *r = kpc_file_region(file);
	bool shared = vma->vm_flags & VM_SHARED;
	bool sealed = false;
	struct pid *old;
	u64 pages;
	int ret;

	/* shmat() of a SysV segment checks the caller, not only the fd. */
	ret = kpc_call_may(&r->obj, (vma->vm_flags & VM_WRITE) ?
			   MAY_READ | MAY_WRITE : MAY_READ);
	if (ret)
		return ret;
	spin_lock(&r->obj.lock);
	pages = kpc_region_pages(r->size);
	if (r->obj.removed) {
		ret = -EIDRM;
	} else if (vma->vm_pgoff > pages ||
		   vma_pages(vma) > pages - vma->vm_pgoff) {
		ret = -ENXIO;
	} else if (shared && (r->seals & KIPC_SEAL_WRITE)) {
		if (vma->vm_flags & VM_WRITE)
			ret = -EPERM;
		else
			sealed = true;
	}
	if (!ret)
		kpc_region_count_locked(r, shared && !sealed &&
					(vma->vm_flags & VM_MAYWRITE), 1);
	spin_unlock(&r->obj.lock);
	if (ret)
		return ret;

	/* Sealed: mprotect() may not make this mapping writable later. */
	if (sealed)
		kpc_vm_flags_clear(vma, VM_MAYWRITE);
	/* mremap() may not grow the mapping past the end of the region. */
	kpc_vm_flags_set(vma, VM_DONTEXPAND);

	ret = kpc_vfs_mmap(r->shm, vma);
	if (ret) {
		spin_lock(&r->obj.lock);
		kpc_region_count_locked(r, kpc_vma_may_write_shared(vma), -1);
		spin_unlock(&r->obj.lock);
		return ret;
	}
	vma_set_file(vma, r->map_file);
	WRITE_ONCE(r->shm_vm_ops, vma->vm_ops);
	vma->vm_private_data = get_file(file);
	vma->vm_ops = &kpc_region_vm_ops;

	spin_lock(&r->obj.lock);
	old = kpc_region_touch_locked(r, true);
	spin_unlock(&r->obj.lock);
	put_pid(old);
	kpc_count(kpc_region_counters, KIPC_RSTATS_A_MAPS);
	return 0;
	/* END LAB: return -ENOSYS; */
}

static ssize_t kpc_region_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct kpc_region *r = kpc_file_region(iocb->ki_filp);
	struct kiocb kiocb;
	ssize_t ret;
	u64 size;

	if (kpc_removed(&r->obj))
		return -EIDRM;
	if (iocb->ki_pos < 0)
		return -EINVAL;
	size = kpc_region_size(r);
	if (iocb->ki_pos >= size || !iov_iter_count(to))
		return 0;
	iov_iter_truncate(to, size - iocb->ki_pos);

	init_sync_kiocb(&kiocb, r->shm);
	kiocb.ki_pos = iocb->ki_pos;
	ret = r->shm->f_op->read_iter(&kiocb, to);
	if (ret > 0)
		iocb->ki_pos = kiocb.ki_pos;
	return ret;
}

/*
 * The size is fixed: a write stops at the end (EFBIG from there on) and never
 * grows the region; KIPC_IOC_REGION_RESIZE does.
 */
static ssize_t kpc_region_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct kpc_region *r = kpc_file_region(iocb->ki_filp);
	struct kiocb kiocb;
	ssize_t ret = 0;
	u64 size;

	if (iocb->ki_pos < 0)
		return -EINVAL;
	if (mutex_lock_interruptible(&r->mutex))
		return -ERESTARTSYS;
	spin_lock(&r->obj.lock);
	size = r->size;
	if (r->obj.removed)
		ret = -EIDRM;
	else if (r->seals & KIPC_SEAL_WRITE)
		ret = -EPERM;
	else if (iov_iter_count(from) && iocb->ki_pos >= size)
		ret = -EFBIG;
	spin_unlock(&r->obj.lock);
	if (ret || !iov_iter_count(from))
		goto out;
	iov_iter_truncate(from, size - iocb->ki_pos);

	init_sync_kiocb(&kiocb, r->shm);
	kiocb.ki_pos = iocb->ki_pos;
	file_start_write(r->shm);
	ret = r->shm->f_op->write_iter(&kiocb, from);
	file_end_write(r->shm);
	if (ret > 0)
		iocb->ki_pos = kiocb.ki_pos;
out:
	mutex_unlock(&r->mutex);
	return ret;
}

static loff_t kpc_region_llseek(struct file *file, loff_t offset, int whence)
{
	struct kpc_region *r = kpc_file_region(file);

	return generic_file_llseek_size(file, offset, whence, MAX_LFS_FILESIZE,
					kpc_region_size(r));
}

/*
 * Only while nothing is mapped, so that no mapping ever reaches past the end.
 * A shrink publishes the new size before truncating and a grow after
 * extending, so an mmap() racing with us sees a size that stays valid.
 *
 * Any writer may resize, as any writer may ftruncate() a POSIX shm object,
 * and the creator pays: the charge is the object's, for its whole life, as
 * a filesystem quota bills a file's owner for what any writer adds.
 * Billing the writer would pin its quota in an object it cannot free, and
 * following KIPC_SET_UID would let an owner hand its bill to a user who
 * never agreed.  The creator keeps others from growing it with the mode
 * bits or KIPC_SEAL_GROW; vfs_truncate() holds the writer to its own
 * RLIMIT_FSIZE, as ftruncate() does.
 */
static long kpc_region_resize(struct file *file, const u64 __user *usize)
{
	struct kpc_region *r = kpc_file_region(file);
	struct kpc_object *obj = &r->obj;
	unsigned long charge;
	u64 size, old;
	long ret;

	if (get_user(size, usize))
		return -EFAULT;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = kpc_region_charge(size, &charge);
	if (ret)
		return ret;
	if (mutex_lock_interruptible(&r->mutex))
		return -ERESTARTSYS;

	spin_lock(&obj->lock);
	old = r->size;
	if (obj->removed)
		ret = -EIDRM;
	else if ((size > old && (r->seals & KIPC_SEAL_GROW)) ||
		 (size < old && (r->seals & KIPC_SEAL_SHRINK)))
		ret = -EPERM;
	else if (size != old && r->nattch)
		ret = -EBUSY;
	else if (size < old)
		r->size = size;
	spin_unlock(&obj->lock);
	if (ret || size == old)
		goto out;

	/* @mutex serialises changes of the charge. */
	if (charge > obj->charge)
		ret = kpc_user_charge(obj->user, charge - obj->charge);
	if (!ret) {
		ret = vfs_truncate(&r->shm->f_path, size);
		if (ret && charge > obj->charge)
			kpc_user_uncharge(obj->user, charge - obj->charge);
	}
	if (!ret && charge < obj->charge)
		kpc_user_uncharge(obj->user, obj->charge - charge);

	spin_lock(&obj->lock);
	r->size = ret ? old : size;
	spin_unlock(&obj->lock);
	if (!ret)
		obj->charge = charge;
out:
	mutex_unlock(&r->mutex);
	return ret;
}

static long kpc_region_add_seals(struct file *file, const u32 __user *useals)
{
	struct kpc_region *r = kpc_file_region(file);
	long ret = 0;
	u32 seals;

	if (get_user(seals, useals))
		return -EFAULT;
	if (seals & ~KIPC_SEALS_ALL)
		return -EINVAL;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	/* Taken so that no pwrite that passed the seal check is still going. */
	if (mutex_lock_interruptible(&r->mutex))
		return -ERESTARTSYS;
	spin_lock(&r->obj.lock);
	if (r->obj.removed)
		ret = -EIDRM;
	else if (r->seals & KIPC_SEAL_SEAL)
		ret = -EPERM;
	else if ((seals & KIPC_SEAL_WRITE) && r->nwritable)
		ret = -EBUSY;
	else
		r->seals |= seals;
	spin_unlock(&r->obj.lock);
	mutex_unlock(&r->mutex);
	return ret;
}

static long kpc_region_get_seals(struct file *file, u32 __user *useals)
{
	struct kpc_region *r = kpc_file_region(file);
	u32 seals;

	spin_lock(&r->obj.lock);
	seals = r->seals;
	spin_unlock(&r->obj.lock);
	return put_user(seals, useals);
}

static long kpc_region_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KIPC_IOC_REGION_RESIZE:
		return kpc_region_resize(file, argp);
	case KIPC_IOC_REGION_ADD_SEALS:
		return kpc_region_add_seals(file, argp);
	case KIPC_IOC_REGION_GET_SEALS:
		return kpc_region_get_seals(file, argp);
	default:
		return kpc_object_ioctl(file, cmd, arg);
	}
}

static const struct file_operations kpc_region_fops = {
	.owner		= THIS_MODULE,
	.read_iter	= kpc_region_read_iter,
	.write_iter	= kpc_region_write_iter,
	.mmap		= kpc_region_mmap,
	.unlocked_ioctl	= kpc_region_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= kpc_object_release,
	.llseek		= kpc_region_llseek,
};

/* Object type operations */

static int kpc_region_check(const struct kipc_open *req, unsigned long *charge)
{
	const struct kipc_region_attr *a = &req->region;
	unsigned int i;

	for (i = sizeof(*a) / sizeof(u64); i < ARRAY_SIZE(req->reserved); i++)
		if (req->reserved[i])
			return -EINVAL;
	if (a->reserved || (a->seals & ~KIPC_SEALS_ALL))
		return -EINVAL;
	return kpc_region_charge(a->size, charge);
}

static struct kpc_object *kpc_region_alloc(const struct kipc_open *req)
{
	const struct kipc_region_attr *a = &req->region;
	struct file *shm, *map_file;
	struct kpc_region *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	/* Without reserve: the byte quota already bounds what it may hold. */
	shm = kpc_shmem_file_setup("kipc-region", a->size);
	if (IS_ERR(shm)) {
		kfree(r);
		/*
		 * Failing to allocate the inode is ENOSPC on 6.1, but ENOSPC
		 * is kipc's quota error, and shmem's internal mount has no
		 * inode or size limit to run out of: it means no memory.
		 */
		if (PTR_ERR(shm) == -ENOSPC)
			return ERR_PTR(-ENOMEM);
		return ERR_CAST(shm);
	}
	/* Past 2 GiB, as memfd_create() does for its file. */
	shm->f_flags |= O_LARGEFILE;

	/*
	 * On shm's inode, and so on its mapping, with its own reference to
	 * the inode and to the module (which alloc_file_pseudo() leaves to
	 * its caller, and the file's release drops through ->owner).
	 */
	ihold(file_inode(shm));
	__module_get(THIS_MODULE);
	map_file = alloc_file_pseudo(file_inode(shm), shm->f_path.mnt,
				     "kipc-region", O_RDWR, &kpc_map_fops);
	if (IS_ERR(map_file)) {
		module_put(THIS_MODULE);
		iput(file_inode(shm));
		fput(shm);
		kfree(r);
		return ERR_CAST(map_file);
	}

	kpc_object_init(&r->obj, &kpc_region_ops, KIPC_TYPE_REGION);
	mutex_init(&r->mutex);
	r->shm = shm;
	r->map_file = map_file;
	r->size = a->size;
	r->seals = a->seals;
	return &r->obj;
}

/* SysV deferred destroy: existing mappings keep working until unmapped. */
static void kpc_region_removed(struct kpc_object *obj)
{
}

static void kpc_region_free(struct kpc_object *obj)
{
	struct kpc_region *r = to_region(obj);

	/* Every VMA holds a file, and so the object. */
	WARN_ON_ONCE(r->nattch);
	fput(r->map_file);
	fput(r->shm);
	put_pid(r->lpid);
	mutex_destroy(&r->mutex);
	kfree(r);
}

static void kpc_region_stat(struct kpc_object *obj, struct kipc_stat *st)
{
	struct kpc_region *r = to_region(obj);
	struct kipc_region_stat *rs = &st->region;

	rs->size = r->size;
	rs->nattch = r->nattch;
	rs->nwritable = r->nwritable;
	rs->seals = r->seals;
	rs->lpid = pid_vnr(r->lpid);
	rs->atime_ns = ktime_to_ns(r->atime);
	rs->dtime_ns = ktime_to_ns(r->dtime);
}

/* The stat's netlink nest, by the rows of <linux/kipc_stat.h>. */
static const u16 kpc_region_nl_start[] = {
#define KIPC_REGION_FIELD(attr, field)	offsetof(struct kipc_region_stat, field),
#include <linux/kipc_stat.h>
};

static const u16 kpc_region_nl_end[] = {
#define KIPC_REGION_FIELD(attr, field)	offsetofend(struct kipc_region_stat, field),
#include <linux/kipc_stat.h>
};

const struct kpc_type_ops kpc_region_ops = {
	.name		= "kipc-region",
	.fops		= &kpc_region_fops,
	.check		= kpc_region_check,
	.alloc		= kpc_region_alloc,
	.removed	= kpc_region_removed,
	.free		= kpc_region_free,
	.stat		= kpc_region_stat,
	.nl_attr	= KIPC_A_REGION,
	.nl_pad		= KIPC_REGION_A_PAD,
	.nl_start	= kpc_region_nl_start,
	.nl_end		= kpc_region_nl_end,
	.nl_nfields	= ARRAY_SIZE(kpc_region_nl_start),
	.nl_stats_attr	= KIPC_STATS_A_REGION,
	.counters	= kpc_region_counters,
	.ncounters	= ARRAY_SIZE(kpc_region_counters),
};
