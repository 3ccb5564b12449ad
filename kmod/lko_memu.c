// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/lainmemu: the memory of one target process per open file, with the
 * semantics of /proc/<pid>/mem, and its map as struct vm_entry records.
 * Binary-compatible with the published lain.ko (docs/lainmemu.md).
 */
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "lainko.h"

/* Map records copied out per mmap_lock hold; bounds kernel memory use. */
#define MEMU_MAP_CHUNK	8

struct memu_file {
	struct mutex lock;		/* protects the fields below */
	struct task_struct *task;	/* referenced */
	struct mm_struct *mm;		/* mmgrab()ed */
	unsigned long map_cap;		/* the last GET_MAP_SZ answer */
};

static unsigned int memu_cmds[MEMU_NR_COUNT];

void lainmemu_init_cmds(unsigned int major)
{
	memu_cmds[MEMU_NR_OPEN_TGT] = MEMU_IOC_OPEN_TGT(major);
	memu_cmds[MEMU_NR_RELEASE_TGT] = MEMU_IOC_RELEASE_TGT(major);
	memu_cmds[MEMU_NR_GET_MAP] = MEMU_IOC_GET_MAP(major);
	memu_cmds[MEMU_NR_GET_MAP_SZ] = MEMU_IOC_GET_MAP_SZ(major);
}

static void memu_drop_target(struct memu_file *mf)
{
	if (mf->mm)
		mmdrop(mf->mm);
	if (mf->task)
		put_task_struct(mf->task);
	mf->mm = NULL;
	mf->task = NULL;
	mf->map_cap = 0;
}

/* A live reference on the target's address space, or NULL. */
static struct mm_struct *memu_get_mm(struct memu_file *mf)
{
	struct mm_struct *mm = NULL;

	mutex_lock(&mf->lock);
	if (mf->mm && mmget_not_zero(mf->mm))
		mm = mf->mm;
	mutex_unlock(&mf->lock);
	return mm;
}

static struct task_struct *memu_find_task(int nr)
{
	struct task_struct *task;
	struct pid *pid;

	if (nr <= 0)
		return NULL;
	pid = find_get_pid(nr);
	if (!pid)
		return NULL;
	/* Like lain.ko, only a thread-group leader can be a target. */
	task = get_pid_task(pid, PIDTYPE_TGID);
	put_pid(pid);
	return task;
}

/* The mm of @task if the caller may ptrace-attach to it, as mm_access(). */
static struct mm_struct *memu_access_mm(struct task_struct *task)
{
	struct mm_struct *mm;
	int err;

	err = down_read_killable(&task->signal->exec_update_lock);
	if (err)
		return ERR_PTR(err);

	mm = get_task_mm(task);
	if (!mm) {
		mm = ERR_PTR(-ESRCH);
	} else if (mm != current->mm &&
		   !lainko_syms.ptrace_may_access(task,
						  PTRACE_MODE_ATTACH_FSCREDS)) {
		mmput(mm);
		mm = ERR_PTR(-EACCES);
	}
	up_read(&task->signal->exec_update_lock);
	return mm;
}

static long memu_open_tgt(struct memu_file *mf, int nr)
{
	struct task_struct *task;
	struct mm_struct *mm;
	long err;

	task = memu_find_task(nr);
	if (!task)
		return -ESRCH;
	if (task->flags & PF_KTHREAD) {
		err = -EFAULT;
		goto err_task;
	}
	mm = memu_access_mm(task);
	if (IS_ERR(mm)) {
		err = PTR_ERR(mm);
		goto err_task;
	}
	mmgrab(mm);
	mmput(mm);

	mutex_lock(&mf->lock);
	memu_drop_target(mf);
	mf->task = task;
	mf->mm = mm;
	mutex_unlock(&mf->lock);
	return 0;

err_task:
	put_task_struct(task);
	return err;
}

static long memu_release_tgt(struct memu_file *mf)
{
	mutex_lock(&mf->lock);
	memu_drop_target(mf);
	mutex_unlock(&mf->lock);
	return 0;
}

static long memu_get_map_sz(struct memu_file *mf)
{
	struct mm_struct *mm = memu_get_mm(mf);
	unsigned long count;
	int err;

	if (!mm)
		return -ESRCH;
	err = mmap_read_lock_killable(mm);
	if (err) {
		mmput(mm);
		return err;
	}
	count = mm->map_count;
	mmap_read_unlock(mm);
	mmput(mm);

	count += 1;			/* the gate area */
	count += DIV_ROUND_UP(count, 10);	/* headroom for a growing map */

	mutex_lock(&mf->lock);
	mf->map_cap = count;
	mutex_unlock(&mf->lock);
	return count;
}

static void memu_copy_name(char *dst, const char *name)
{
	strscpy(dst, name, MEMU_PATH_LEN);
}

static void memu_file_name(struct vm_area_struct *vma, char *dst)
{
	char *path = d_path(&vma->vm_file->f_path, dst, MEMU_PATH_LEN);

	if (IS_ERR(path))
		dst[0] = '\0';
	else
		memmove(dst, path, strlen(path) + 1);
}

/* The pseudo-name /proc/<pid>/maps shows for an area without a file. */
static void memu_anon_name(struct vm_area_struct *vma, char *dst)
{
	struct mm_struct *mm = vma->vm_mm;
	const char *name = NULL;

	if (vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	if (!name && !mm)
		name = "[vdso]";
	if (!name && vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk)
		name = "[heap]";
	if (!name && vma->vm_start <= mm->start_stack &&
	    vma->vm_end >= mm->start_stack)
		name = "[stack]";
	if (name) {
		memu_copy_name(dst, name);
		return;
	}
#ifdef CONFIG_ANON_VMA_NAME
	if (vma->anon_name)
		snprintf(dst, MEMU_PATH_LEN, "[anon:%s]", vma->anon_name->name);
#endif
}

static void memu_fill_entry(struct memu_vm_entry *ent,
			    struct vm_area_struct *vma)
{
	memset(ent, 0, sizeof(*ent));
	ent->vm_start = vma->vm_start;
	ent->vm_end = vma->vm_end;
	ent->file_off = vma->vm_pgoff;
	ent->prot = vma->vm_flags;
	if (vma->vm_file)
		memu_file_name(vma, ent->file_path);
	else
		memu_anon_name(vma, ent->file_path);
}

struct memu_map_walk {
	unsigned long next;	/* where the next chunk starts */
	bool areas_done;
	bool gate_done;
};

/* Fill up to @max records from the areas at or after walk->next. */
static int memu_fill_chunk(struct mm_struct *mm, struct memu_map_walk *walk,
			   struct memu_vm_entry *ents, int max)
{
	struct vm_area_struct *vma;
	int n = 0, err;

	err = mmap_read_lock_killable(mm);
	if (err)
		return err;

	if (!walk->areas_done) {
		VMA_ITERATOR(vmi, mm, walk->next);

		walk->areas_done = true;
		for_each_vma(vmi, vma) {
			if (n == max) {
				walk->areas_done = false;
				break;
			}
			memu_fill_entry(&ents[n++], vma);
			walk->next = vma->vm_end;
		}
	}
	if (walk->areas_done && !walk->gate_done && n < max) {
		walk->gate_done = true;
		vma = lainko_syms.get_gate_vma ?
		      lainko_syms.get_gate_vma(mm) : NULL;
		if (vma)
			memu_fill_entry(&ents[n++], vma);
	}
	mmap_read_unlock(mm);
	return n;
}

static long memu_walk_map(struct mm_struct *mm, char __user *ubuf,
			  unsigned long cap)
{
	struct memu_map_walk walk = { 0 };
	struct memu_vm_entry *ents;
	unsigned long done = 0;
	long ret = 0;
	int n;

	ents = kvmalloc_array(MEMU_MAP_CHUNK, sizeof(*ents), GFP_KERNEL);
	if (!ents)
		return -ENOMEM;

	while (done < cap && !walk.gate_done) {
		n = memu_fill_chunk(mm, &walk, ents,
				    min_t(unsigned long, cap - done,
					  MEMU_MAP_CHUNK));
		if (n < 0) {
			ret = n;
			break;
		}
		if (copy_to_user(ubuf + done * sizeof(*ents), ents,
				 n * sizeof(*ents))) {
			ret = -EFAULT;
			break;
		}
		done += n;
	}
	kvfree(ents);
	return ret ? ret : done;
}

static long memu_get_map(struct memu_file *mf, char __user *ubuf)
{
	struct mm_struct *mm = memu_get_mm(mf);
	unsigned long cap;
	long ret;

	if (!mm)
		return -ESRCH;
	mutex_lock(&mf->lock);
	cap = mf->map_cap;
	mutex_unlock(&mf->lock);

	ret = cap ? memu_walk_map(mm, ubuf, cap) : -ENOMEM;
	mmput(mm);
	return ret;
}

static long memu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct memu_file *mf = file->private_data;
	struct memu_ioctl_arg karg;
	unsigned int nr = _IOC_NR(cmd);

	if (cmd >= MIOC_FIRST && cmd <= MIOC_LAST)
		return -ENXIO;
	if (nr >= ARRAY_SIZE(memu_cmds) || cmd != memu_cmds[nr])
		return -ENOTTY;
	if (copy_from_user(&karg, (void __user *)arg, sizeof(karg)))
		return -EFAULT;

	switch (nr) {
	case MEMU_NR_OPEN_TGT:
		return memu_open_tgt(mf, karg.target_pid);
	case MEMU_NR_RELEASE_TGT:
		return memu_release_tgt(mf);
	case MEMU_NR_GET_MAP:
		return memu_get_map(mf, u64_to_user_ptr(karg.u_buf));
	case MEMU_NR_GET_MAP_SZ:
		return memu_get_map_sz(mf);
	default:
		return -ENOTTY;
	}
}

/* One page at a time through a bounce page, as /proc/<pid>/mem does. */
static ssize_t memu_rw(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos, bool write)
{
	unsigned int flags = FOLL_FORCE | (write ? FOLL_WRITE : 0);
	struct mm_struct *mm = memu_get_mm(file->private_data);
	unsigned long addr = *ppos;
	ssize_t copied = 0;
	char *page;
	int len;

	if (!mm)
		return -ESRCH;
	page = (char *)__get_free_page(GFP_KERNEL);
	if (!page) {
		mmput(mm);
		return -ENOMEM;
	}

	while (count > 0) {
		len = min_t(size_t, count, PAGE_SIZE);
		if (write && copy_from_user(page, buf, len)) {
			copied = copied ? copied : -EFAULT;
			break;
		}
		len = lainko_syms.access_remote_vm(mm, addr, page, len, flags);
		if (!len) {
			copied = copied ? copied : -EIO;
			break;
		}
		if (!write && copy_to_user(buf, page, len)) {
			copied = copied ? copied : -EFAULT;
			break;
		}
		buf += len;
		addr += len;
		copied += len;
		count -= len;
		if (fatal_signal_pending(current))
			break;
	}
	*ppos = addr;

	free_page((unsigned long)page);
	mmput(mm);
	return copied;
}

static ssize_t memu_read(struct file *file, char __user *buf, size_t count,
			 loff_t *ppos)
{
	return memu_rw(file, buf, count, ppos, false);
}

static ssize_t memu_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	return memu_rw(file, (char __user *)buf, count, ppos, true);
}

/*
 * The position is a target address; SEEK_END has no meaning.  As in
 * drivers/char/mem.c, a position in the errno range is refused: user
 * space would read the returned offset as -errno.
 */
static loff_t memu_llseek(struct file *file, loff_t offset, int whence)
{
	switch (whence) {
	case SEEK_CUR:
		offset += file->f_pos;
		fallthrough;
	case SEEK_SET:
		if ((unsigned long long)offset >= -MAX_ERRNO)
			return -EOVERFLOW;
		break;
	default:
		return -EINVAL;
	}
	file->f_pos = offset;
	force_successful_syscall_return();
	return offset;
}

static int memu_open(struct inode *inode, struct file *file)
{
	struct memu_file *mf = kzalloc(sizeof(*mf), GFP_KERNEL);

	if (!mf)
		return -ENOMEM;
	mutex_init(&mf->lock);
	file->private_data = mf;
#ifdef FMODE_UNSIGNED_OFFSET
	/* Addresses above 2^63 are valid positions (FOP_ flag since 6.12). */
	file->f_mode |= FMODE_UNSIGNED_OFFSET;
#endif
	return 0;
}

static int memu_release(struct inode *inode, struct file *file)
{
	struct memu_file *mf = file->private_data;

	memu_drop_target(mf);
	mutex_destroy(&mf->lock);
	kfree(mf);
	return 0;
}

const struct file_operations lainmemu_fops = {
	.owner		= THIS_MODULE,
#ifdef FOP_UNSIGNED_OFFSET
	.fop_flags	= FOP_UNSIGNED_OFFSET,
#endif
	.open		= memu_open,
	.release	= memu_release,
	.llseek		= memu_llseek,
	.read		= memu_read,
	.write		= memu_write,
	.unlocked_ioctl	= memu_ioctl,
};
