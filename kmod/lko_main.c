// SPDX-License-Identifier: GPL-2.0
/*
 * lainko: registration of the lainko class and its two character devices,
 * /dev/lainmemu (minor 0) and /dev/lainkmem (minor 1), on one dynamic major.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/version.h>

#include "lainko.h"

#ifndef CONFIG_X86_64
#error "lainko supports x86-64 only: its ABI is fixed for LP64 x86-64"
#endif

unsigned int lainko_major;

static dev_t lainko_devt;
static struct class *lainko_class;
static struct cdev lainmemu_cdev;
static struct cdev lainkmem_cdev;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define LKO_CLASS_CONST const
#else
#define LKO_CLASS_CONST
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static char *lainko_devnode(const struct device *dev, umode_t *mode)
#else
static char *lainko_devnode(struct device *dev, umode_t *mode)
#endif
{
	if (mode)
		*mode = 0600;
	return NULL;
}

static ssize_t major_show(LKO_CLASS_CONST struct class *cls,
			  LKO_CLASS_CONST struct class_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n", lainko_major);
}

/* The released module names it lainmemu_major, its design memu_major. */
static struct class_attribute lainko_attrs[] = {
	__ATTR(lainmemu_major, 0444, major_show, NULL),
	__ATTR(memu_major, 0444, major_show, NULL),
	__ATTR(kmem_major, 0444, major_show, NULL),
};

static void lainko_remove_attrs(int count)
{
	while (count-- > 0)
		class_remove_file(lainko_class, &lainko_attrs[count]);
}

static int lainko_create_class(void)
{
	int i, err;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	lainko_class = class_create(LAINKO_NAME);
#else
	lainko_class = class_create(THIS_MODULE, LAINKO_NAME);
#endif
	if (IS_ERR(lainko_class))
		return PTR_ERR(lainko_class);
	lainko_class->devnode = lainko_devnode;

	for (i = 0; i < ARRAY_SIZE(lainko_attrs); i++) {
		err = class_create_file(lainko_class, &lainko_attrs[i]);
		if (err)
			goto err_attrs;
	}
	return 0;

err_attrs:
	lainko_remove_attrs(i);
	class_destroy(lainko_class);
	return err;
}

static void lainko_destroy_class(void)
{
	lainko_remove_attrs(ARRAY_SIZE(lainko_attrs));
	class_destroy(lainko_class);
}

static int lainko_add_device(struct cdev *cdev,
			     const struct file_operations *fops,
			     unsigned int minor, const char *name)
{
	dev_t devt = MKDEV(lainko_major, minor);
	struct device *dev;
	int err;

	cdev_init(cdev, fops);
	cdev->owner = THIS_MODULE;
	err = cdev_add(cdev, devt, 1);
	if (err)
		return err;

	dev = device_create(lainko_class, NULL, devt, NULL, name);
	if (IS_ERR(dev)) {
		cdev_del(cdev);
		return PTR_ERR(dev);
	}
	return 0;
}

static void lainko_del_device(struct cdev *cdev, unsigned int minor)
{
	device_destroy(lainko_class, MKDEV(lainko_major, minor));
	cdev_del(cdev);
}

static int __init lainko_init(void)
{
	int err;

	err = lainko_resolve_symbols();
	if (err)
		return err;

	err = alloc_chrdev_region(&lainko_devt, 0, LAINKO_MINORS, LAINKO_NAME);
	if (err)
		return err;
	lainko_major = MAJOR(lainko_devt);
	lainmemu_init_cmds(lainko_major);

	err = lainko_create_class();
	if (err)
		goto err_region;
	err = lainko_add_device(&lainmemu_cdev, &lainmemu_fops,
				LAINKO_MEMU_MINOR, "lainmemu");
	if (err)
		goto err_class;
	err = lainko_add_device(&lainkmem_cdev, &lainkmem_fops,
				LAINKO_KMEM_MINOR, "lainkmem");
	if (err)
		goto err_memu;

	pr_info("loaded, major %u: /dev/lainmemu, /dev/lainkmem\n",
		lainko_major);
	return 0;

err_memu:
	lainko_del_device(&lainmemu_cdev, LAINKO_MEMU_MINOR);
err_class:
	lainko_destroy_class();
err_region:
	unregister_chrdev_region(lainko_devt, LAINKO_MINORS);
	return err;
}

static void __exit lainko_exit(void)
{
	lainko_del_device(&lainkmem_cdev, LAINKO_KMEM_MINOR);
	lainko_del_device(&lainmemu_cdev, LAINKO_MEMU_MINOR);
	lainko_destroy_class();
	unregister_chrdev_region(lainko_devt, LAINKO_MINORS);
	lainkmem_drop_holds();
}

module_init(lainko_init);
module_exit(lainko_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Process and kernel-symbol memory devices for lainview");
MODULE_VERSION("0.1.0");
