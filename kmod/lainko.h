/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lainko: process memory (/dev/lainmemu) and kernel symbol memory
 * (/dev/lainkmem) devices.  Internal declarations shared by the
 * module's translation units; the user-space interface is uapi/lainko.h.
 */
#ifndef _LAINKO_H
#define _LAINKO_H

#include <linux/fs.h>
#include <linux/types.h>

#include "uapi/lainko.h"

#define LAINKO_NAME		"lainko"
#define LAINKO_MEMU_MINOR	0
#define LAINKO_KMEM_MINOR	1
#define LAINKO_MINORS		2

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
