// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/lainkmem: kernel memory by symbol name, through the MIOC_* ioctls
 * of docs/kmem.md.  Every access goes through the kernel's
 * fault-safe copy helpers; writes are refused on memory the kernel keeps
 * read-only, and need CAP_SYS_RAWIO outside of lockdown.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/pgtable.h>
#include <asm/processor.h>

#include "lainko.h"

struct kmem_hold {
	struct list_head node;
	struct module *mod;
	unsigned int count;
};

static LIST_HEAD(kmem_holds);
static DEFINE_MUTEX(kmem_holds_lock);

struct kmem_request {
	char modname[KMEM_MODMAXNAMELEN];
	char symname[KMEM_MODMAXNAMELEN + KMEM_MAXSYMNMLEN];
	bool scoped;
	unsigned long addr;
	void __user *buf;
	size_t len;
};

static bool kmem_is_write(unsigned int cmd)
{
	return cmd == MIOC_WRITEKSYM || cmd == MIOC_IWRITEKSYM;
}

static bool kmem_is_indirect(unsigned int cmd)
{
	return cmd == MIOC_IREADKSYM || cmd == MIOC_IWRITEKSYM;
}

/* Copy a user string of at most @max bytes with its NUL. */
static int kmem_copy_name(char *dst, const char __user *src, long max)
{
	long len;

	if (!src)
		return -EFAULT;
	len = strncpy_from_user(dst, src, max);
	if (len < 0)
		return -EFAULT;
	if (len == max)
		return -ENAMETOOLONG;
	return 0;
}

/* find_module() wants module_mutex or preemption off. */
static struct module *kmem_get_module(const char *name)
{
	struct module *mod;

	preempt_disable();
	mod = lainko_syms.find_module(name);
	if (mod && !try_module_get(mod))
		mod = NULL;
	preempt_enable();
	return mod;
}

static unsigned long kmem_lookup(struct kmem_request *req)
{
	char *colon;

	if (!req->scoped)
		return lainko_syms.kallsyms_lookup_name(req->symname);

	/* "module:symbol" restricts the search to that module. */
	colon = req->symname + strlen(req->modname);
	memmove(colon + 1, req->symname, strlen(req->symname) + 1);
	memcpy(req->symname, req->modname, strlen(req->modname));
	*colon = ':';
	if (lainko_syms.module_lookup_name)
		return lainko_syms.module_lookup_name(req->symname);
	return lainko_syms.kallsyms_lookup_name(req->symname);
}

static bool kmem_kernel_range(unsigned long addr, size_t len)
{
	unsigned int shift = 64 - boot_cpu_data.x86_virt_bits;
	unsigned long last = addr + len - 1;

	if (!len || last < addr || addr < TASK_SIZE_MAX + PAGE_SIZE)
		return false;
	/* Both ends canonical in the upper half (no hole in between). */
	return ((long)(addr << shift) >> shift) == (long)addr &&
	       ((long)(last << shift) >> shift) == (long)last;
}

static bool kmem_overlaps(unsigned long addr, unsigned long last,
			  unsigned long start, unsigned long end)
{
	return start < end && addr < end && last >= start;
}

/* Kernel text and read-only data, by the linker's section symbols. */
static bool kmem_in_ro_section(unsigned long addr, size_t len)
{
	const struct lainko_syms *s = &lainko_syms;
	unsigned long last = addr + len - 1;

	return kmem_overlaps(addr, last, s->text_start, s->text_end) ||
	       kmem_overlaps(addr, last, s->rodata_start, s->rodata_end) ||
	       kmem_overlaps(addr, last, s->inittext_start, s->inittext_end);
}

/* Every page mapped and writable in the kernel page tables. */
static bool kmem_pages_writable(unsigned long addr, size_t len)
{
	unsigned long page = addr & PAGE_MASK;
	unsigned long last = addr + len - 1;
	unsigned int level;
	pte_t *pte;

	for (;;) {
		pte = lookup_address(page, &level);
		if (!pte || !pte_present(*pte) || !pte_write(*pte))
			return false;
		if (page >= (last & PAGE_MASK))
			return true;
		page += PAGE_SIZE;
		cond_resched();
	}
}

static int kmem_read_range(unsigned long addr, void __user *ubuf, size_t len)
{
	char *page = (char *)__get_free_page(GFP_KERNEL);
	size_t chunk;
	int err = 0;

	if (!page)
		return -ENOMEM;
	while (len) {
		chunk = min_t(size_t, len, PAGE_SIZE - offset_in_page(addr));
		if (copy_from_kernel_nofault(page, (void *)addr, chunk) ||
		    copy_to_user(ubuf, page, chunk)) {
			err = -EFAULT;
			break;
		}
		addr += chunk;
		ubuf += chunk;
		len -= chunk;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	free_page((unsigned long)page);
	return err;
}

/* The whole source is copied in first, so a bad buffer writes nothing. */
static int kmem_write_range(unsigned long addr, const void __user *ubuf,
			    size_t len)
{
	void *data;
	int err = 0;

	if (kmem_in_ro_section(addr, len) || !kmem_pages_writable(addr, len))
		return -EFAULT;
	data = kvmalloc(len, GFP_KERNEL | __GFP_NOWARN);
	if (!data)
		return -ENOMEM;
	if (copy_from_user(data, ubuf, len))
		err = -EFAULT;
	else if (lainko_syms.copy_to_kernel_nofault((void *)addr, data, len))
		err = -EFAULT;
	kvfree(data);
	return err;
}

static int kmem_check_access(struct file *file, unsigned int cmd)
{
	if (kmem_is_write(cmd)) {
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		if (!capable(CAP_SYS_RAWIO))
			return -EPERM;
		if (security_locked_down(LOCKDOWN_DEV_MEM))
			return -EPERM;
		return 0;
	}
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (security_locked_down(LOCKDOWN_KCORE))
		return -EPERM;
	return 0;
}

static int kmem_get_request(struct kmem_request *req, void __user *arg)
{
	struct mioc_rksym rk;
	int err;

	if (copy_from_user(&rk, arg, sizeof(rk)))
		return -EFAULT;
	req->scoped = rk.mirk_modname != 0;
	if (req->scoped) {
		err = kmem_copy_name(req->modname,
				     u64_to_user_ptr(rk.mirk_modname),
				     KMEM_MODMAXNAMELEN);
		if (err)
			return err;
	}
	err = kmem_copy_name(req->symname, u64_to_user_ptr(rk.mirk_symname),
			     KMEM_MAXSYMNMLEN);
	if (err)
		return err;
	req->buf = u64_to_user_ptr(rk.mirk_buf);
	req->len = rk.mirk_buflen;
	return 0;
}

/* Resolve the address the request operates on. */
static int kmem_resolve(struct kmem_request *req, unsigned int cmd)
{
	unsigned long ptr;

	req->addr = kmem_lookup(req);
	if (!req->addr)
		return -ENOENT;
	if (!kmem_is_indirect(cmd))
		return 0;
	if (!kmem_kernel_range(req->addr, sizeof(ptr)) ||
	    copy_from_kernel_nofault(&ptr, (void *)req->addr, sizeof(ptr)))
		return -EFAULT;
	req->addr = ptr;
	return 0;
}

static int kmem_transfer(struct kmem_request *req, unsigned int cmd)
{
	int err = kmem_resolve(req, cmd);

	if (err)
		return err;
	if (!req->len)
		return 0;
	if (!kmem_kernel_range(req->addr, req->len))
		return -EFAULT;
	if (kmem_is_write(cmd))
		return kmem_write_range(req->addr, req->buf, req->len);
	return kmem_read_range(req->addr, req->buf, req->len);
}

static long kmem_symbol_ioctl(struct file *file, unsigned int cmd,
			      void __user *arg)
{
	struct module *mod = NULL;
	struct kmem_request *req;
	long err;

	err = kmem_check_access(file, cmd);
	if (err)
		return err;
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	err = kmem_get_request(req, arg);
	if (err)
		goto out;
	if (req->scoped) {
		/* Held for the transfer, so the module cannot go meanwhile. */
		mod = kmem_get_module(req->modname);
		if (!mod) {
			err = -EINVAL;
			goto out;
		}
	}
	err = kmem_transfer(req, cmd);
	if (mod)
		module_put(mod);
out:
	kfree(req);
	return err;
}

static struct kmem_hold *kmem_find_hold(struct module *mod)
{
	struct kmem_hold *hold;

	list_for_each_entry(hold, &kmem_holds, node)
		if (hold->mod == mod)
			return hold;
	return NULL;
}

static long kmem_lock(struct module *mod)
{
	struct kmem_hold *hold;

	mutex_lock(&kmem_holds_lock);
	hold = kmem_find_hold(mod);
	if (!hold) {
		hold = kzalloc(sizeof(*hold), GFP_KERNEL);
		if (!hold) {
			mutex_unlock(&kmem_holds_lock);
			return -ENOMEM;
		}
		hold->mod = mod;
		list_add(&hold->node, &kmem_holds);
	}
	/* The reference taken by the lookup becomes the hold. */
	hold->count++;
	mutex_unlock(&kmem_holds_lock);
	return 0;
}

static long kmem_unlock(struct module *mod)
{
	struct kmem_hold *hold;
	long err = 0;

	mutex_lock(&kmem_holds_lock);
	hold = kmem_find_hold(mod);
	if (!hold) {
		err = -EINVAL;
	} else {
		module_put(mod);
		if (--hold->count == 0) {
			list_del(&hold->node);
			kfree(hold);
		}
	}
	mutex_unlock(&kmem_holds_lock);
	return err;
}

static long kmem_hold_ioctl(unsigned int cmd, const char __user *uname)
{
	char name[KMEM_MODMAXNAMELEN];
	struct module *mod;
	long err;

	err = kmem_copy_name(name, uname, sizeof(name));
	if (err)
		return err;
	mod = kmem_get_module(name);
	if (!mod)
		return -EINVAL;
	if (cmd == MIOC_LOCKSYM) {
		err = kmem_lock(mod);
		if (!err)
			return 0;
	} else {
		err = kmem_unlock(mod);
	}
	module_put(mod);
	return err;
}

static long kmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (iminor(file_inode(file)) != LAINKO_KMEM_MINOR)
		return -ENXIO;

	switch (cmd) {
	case MIOC_READKSYM:
	case MIOC_IREADKSYM:
	case MIOC_WRITEKSYM:
	case MIOC_IWRITEKSYM:
		return kmem_symbol_ioctl(file, cmd, (void __user *)arg);
	case MIOC_LOCKSYM:
	case MIOC_UNLOCKSYM:
		return kmem_hold_ioctl(cmd, (const char __user *)arg);
	default:
		return -EINVAL;
	}
}

void lainkmem_drop_holds(void)
{
	struct kmem_hold *hold, *tmp;

	mutex_lock(&kmem_holds_lock);
	list_for_each_entry_safe(hold, tmp, &kmem_holds, node) {
		while (hold->count--)
			module_put(hold->mod);
		list_del(&hold->node);
		kfree(hold);
	}
	mutex_unlock(&kmem_holds_lock);
}

const struct file_operations lainkmem_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= kmem_ioctl,
};
