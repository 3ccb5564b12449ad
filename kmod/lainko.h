/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lainko: process memory (/dev/lainmemu) and kernel symbol memory
 * (/dev/lainkmem) devices.  Internal declarations shared by the
 * module's translation units.
 */
#ifndef _LAINKO_H
#define _LAINKO_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define LAINKO_NAME		"lainko"
#define LAINKO_MEMU_MINOR	0
#define LAINKO_KMEM_MINOR	1
#define LAINKO_MINORS		2

/* lainmemu ABI (docs/lainmemu.md); the ioctl type is the major. */
#define MEMU_NR_OPEN_TGT	0
#define MEMU_NR_RELEASE_TGT	1
#define MEMU_NR_GET_MAP		2
#define MEMU_NR_GET_MAP_SZ	3
#define MEMU_PATH_LEN		4096

struct memu_ioctl_arg {
	char __user *u_buf;
	int target_pid;
};

struct memu_vm_entry {
	unsigned long vm_start;
	unsigned long vm_end;
	unsigned long file_off;
	unsigned long prot;
	char file_path[MEMU_PATH_LEN];
};

/* kmem ABI (docs/kmem.md). */
#define MIOC_READKSYM		0x4D04
#define MIOC_IREADKSYM		0x4D05
#define MIOC_WRITEKSYM		0x4D06
#define MIOC_IWRITEKSYM		0x4D07
#define MIOC_LOCKSYM		0x4D08
#define MIOC_UNLOCKSYM		0x4D09
#define MIOC_FIRST		MIOC_READKSYM
#define MIOC_LAST		MIOC_UNLOCKSYM
#define KMEM_MAXSYMNMLEN	512
#define KMEM_MODMAXNAMELEN	56

struct mioc_rksym {
	const char __user *mirk_modname;
	const char __user *mirk_symname;
	void __user *mirk_buf;
	size_t mirk_buflen;
};

struct mm_struct;
struct module;
struct task_struct;
struct vm_area_struct;

/* Kernel functions and addresses that are not exported, found at load. */
struct lainko_syms {
	unsigned long (*kallsyms_lookup_name)(const char *name);
	unsigned long (*module_lookup_name)(const char *name);
	bool (*ptrace_may_access)(struct task_struct *task, unsigned int mode);
	int (*access_remote_vm)(struct mm_struct *mm, unsigned long addr,
				void *buf, int len, unsigned int gup_flags);
	struct vm_area_struct *(*get_gate_vma)(struct mm_struct *mm);
	struct module *(*find_module)(const char *name);
	long (*copy_to_kernel_nofault)(void *dst, const void *src, size_t size);
	unsigned long text_start, text_end;
	unsigned long rodata_start, rodata_end;
	unsigned long inittext_start, inittext_end;
};

extern struct lainko_syms lainko_syms;
extern unsigned int lainko_major;

int lainko_resolve_symbols(void);

extern const struct file_operations lainmemu_fops;
void lainmemu_init_cmds(unsigned int major);

extern const struct file_operations lainkmem_fops;
void lainkmem_drop_holds(void);

#endif /* _LAINKO_H */
