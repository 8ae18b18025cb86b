// SPDX-License-Identifier: GPL-2.0
/*
 * kipc: kernel-managed IPC objects (message queues, shared regions,
 * semaphores, rings) behind the /dev/kipc character device.
 *
 * The device fd is only a factory: KIPC_IOC_OPEN returns a new fd per
 * object, and every operation goes through that fd.  See
 * include/uapi/linux/kipc.h for the interface and docs/ for the design.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "kipc.h"

/* The object types: a new type is one file and one row here. */
static const struct kpc_type_ops *const kpc_types[KIPC_TYPE_COUNT] = {
	[KIPC_TYPE_QUEUE]	= &kpc_queue_ops,
	[KIPC_TYPE_REGION]	= &kpc_region_ops,
	[KIPC_TYPE_SEM]		= &kpc_sem_ops,
	[KIPC_TYPE_RING]	= &kpc_ring_ops,
};

static long kpc_dev_info(struct kipc_info __user *uinfo)
{
	struct kipc_info info;

	/* No object of a namespace nobody can enter counts. */
	kpc_reap_dead_namespaces();
	kpc_fill_info(&info);
	return copy_to_user(uinfo, &info, sizeof(info)) ? -EFAULT : 0;
}

static long kpc_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KIPC_IOC_INFO:
		return kpc_dev_info(argp);
	case KIPC_IOC_OPEN:
		return kpc_open_object(argp);
	case KIPC_IOC_UNLINK:
		return kpc_unlink_object(argp);
	case KIPC_IOC_REMOVE_BY:
		return kpc_remove_by(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kpc_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= kpc_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= kpc_no_llseek,
};

static struct miscdevice kpc_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "kipc",
	.fops		= &kpc_dev_fops,
	/* Any user may create objects; each object checks its own access. */
	.mode		= 0666,
};

static void kpc_types_exit(unsigned int n)
{
	while (n-- > 1)
		if (kpc_types[n] && kpc_types[n]->exit)
			kpc_types[n]->exit();
}

static int __init kpc_init(void)
{
	unsigned int t;
	int ret;

	for (t = 1; t < KIPC_TYPE_COUNT; t++) {
		ret = kpc_types[t] && kpc_types[t]->init ? kpc_types[t]->init() : 0;
		if (ret) {
			kpc_types_exit(t);
			return ret;
		}
	}
	kpc_types_set(kpc_types);
	kpc_reap_start();
	/* Before the device: objects send events from their creation on. */
	ret = kpc_netlink_init();
	if (ret)
		goto err_reap;
	ret = misc_register(&kpc_misc);
	if (ret)
		goto err_netlink;
	pr_info("loaded, API version %d\n", KIPC_API_VERSION);
	return 0;

err_netlink:
	kpc_netlink_exit();
err_reap:
	kpc_reap_stop();
	kpc_types_exit(KIPC_TYPE_COUNT);
	return ret;
}

/*
 * Types go first: semaphore undo's work may still free a set, which sends
 * an event.  Once they are gone no object is left.
 */
static void __exit kpc_exit(void)
{
	misc_deregister(&kpc_misc);
	kpc_types_exit(KIPC_TYPE_COUNT);
	kpc_netlink_exit();
	kpc_reap_stop();
	kpc_ns_exit();
	kpc_user_exit();
}

module_init(kpc_init);
module_exit(kpc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kipc authors");
MODULE_DESCRIPTION("Kernel-managed IPC objects: message queues, shared regions, semaphores, rings");
MODULE_VERSION(KIPC_VERSION);
