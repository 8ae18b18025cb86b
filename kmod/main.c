// SPDX-License-Identifier: GPL-2.0
/*
 * kipc: kernel-managed IPC objects (message queues, shared regions,
 * semaphores) behind the /dev/kipc character device.
 *
 * The device fd is only a factory: KIPC_IOC_OPEN returns a new fd per
 * object, and every operation goes through that fd.  See
 * include/uapi/linux/kipc.h for the interface and docs/ for the design.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/uaccess.h>

#include "kipc.h"

struct kipc_limits kipc_limits = {
	.max_objects		= 65536,
	.max_user_objects	= 16384,
	.max_user_bytes		= 256UL << 20,
	.max_msgsize		= 1U << 20,
	.max_queue_msgs		= 65536,
	.max_queue_bytes	= 64UL << 20,
	.max_region_size	= 1UL << 30,
	.max_nsems		= 32000,
	.reap_interval_ms	= 5000,
};

module_param_named(max_objects, kipc_limits.max_objects, ulong, 0644);
MODULE_PARM_DESC(max_objects, "Objects of all users together (ENOSPC past it)");
module_param_named(max_user_objects, kipc_limits.max_user_objects, ulong, 0644);
MODULE_PARM_DESC(max_user_objects, "Objects one user may own (ENOSPC past it)");
module_param_named(max_user_bytes, kipc_limits.max_user_bytes, ulong, 0644);
MODULE_PARM_DESC(max_user_bytes, "Bytes one user may have reserved in queue memory and regions");
module_param_named(max_msgsize, kipc_limits.max_msgsize, uint, 0644);
MODULE_PARM_DESC(max_msgsize, "Largest max_msgsize a queue may be created with");
module_param_named(max_queue_msgs, kipc_limits.max_queue_msgs, uint, 0644);
MODULE_PARM_DESC(max_queue_msgs, "Largest max_msgs a queue may be created with");
module_param_named(max_queue_bytes, kipc_limits.max_queue_bytes, ulong, 0644);
MODULE_PARM_DESC(max_queue_bytes, "Largest max_bytes of a queue without CAP_SYS_RESOURCE");
module_param_named(max_region_size, kipc_limits.max_region_size, ulong, 0644);
MODULE_PARM_DESC(max_region_size, "Largest shared region in bytes");
module_param_named(max_nsems, kipc_limits.max_nsems, uint, 0644);
MODULE_PARM_DESC(max_nsems, "Most counters in one semaphore set");
module_param_named(reap_interval_ms, kipc_limits.reap_interval_ms, uint, 0644);
MODULE_PARM_DESC(reap_interval_ms, "How often objects of dead IPC namespaces are reaped");

static long kipc_dev_info(struct kipc_info __user *uinfo)
{
	struct kipc_info info;

	kipc_fill_info(&info);
	return copy_to_user(uinfo, &info, sizeof(info)) ? -EFAULT : 0;
}

static long kipc_dev_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KIPC_IOC_INFO:
		return kipc_dev_info(argp);
	case KIPC_IOC_OPEN:
		return kipc_open_object(argp);
	case KIPC_IOC_UNLINK:
		return kipc_unlink_object(argp);
	case KIPC_IOC_REMOVE_BY:
		return kipc_remove_by(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kipc_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= kipc_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= kipc_no_llseek,
};

static struct miscdevice kipc_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "kipc",
	.fops		= &kipc_dev_fops,
	/* Any user may create objects; each object checks its own access. */
	.mode		= 0666,
};

static int __init kipc_init(void)
{
	int ret;

	ret = kipc_queue_init();
	if (ret)
		return ret;
	ret = kipc_sem_init();
	if (ret)
		goto err_queue;
	ret = kipc_core_init();
	if (ret)
		goto err_sem;
	/* Before the device: objects send events from their creation on. */
	ret = kipc_netlink_init();
	if (ret)
		goto err_core;
	ret = misc_register(&kipc_misc);
	if (ret)
		goto err_netlink;
	pr_info("loaded, API version %d\n", KIPC_API_VERSION);
	return 0;

err_netlink:
	kipc_netlink_exit();
err_core:
	kipc_core_exit();
err_sem:
	kipc_sem_exit();
err_queue:
	kipc_queue_exit();
	return ret;
}

static void __exit kipc_exit(void)
{
	misc_deregister(&kipc_misc);
	/* First: undo's work may still free a set, which sends an event. */
	kipc_sem_exit();
	kipc_netlink_exit();
	kipc_core_exit();
	kipc_queue_exit();
}

module_init(kipc_init);
module_exit(kipc_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The kipc authors");
MODULE_DESCRIPTION("Kernel-managed IPC objects: message queues, shared regions, semaphores");
MODULE_VERSION(KIPC_VERSION);
