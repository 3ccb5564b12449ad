// SPDX-License-Identifier: GPL-2.0
/*
 * Load-time lookup of kernel symbols the module needs but the kernel does
 * not export.  kallsyms_lookup_name() itself stopped being exported in 5.7,
 * so its address is taken from a kprobe registered on it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/printk.h>

#include "lainko.h"

struct lainko_syms lainko_syms;

#ifdef CONFIG_KPROBES
static unsigned long lko_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;

	if (register_kprobe(&kp) < 0)
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return addr;
}
#else
static unsigned long lko_find_kallsyms(void)
{
	return 0;
}
#endif

static int lko_lookup(const char *name, unsigned long *addr, bool required)
{
	*addr = lainko_syms.kallsyms_lookup_name(name);
	if (*addr || !required)
		return 0;
	pr_err("cannot resolve kernel symbol %s, refusing to load\n", name);
	return -ENOENT;
}

#define LKO_FN(field, name, required)					\
	lko_lookup(name, (unsigned long *)&lainko_syms.field, required)

static int lko_resolve_functions(void)
{
	int err;

	err = LKO_FN(ptrace_may_access, "ptrace_may_access", true);
	if (!err)
		err = LKO_FN(access_remote_vm, "access_remote_vm", true);
	if (!err)
		err = LKO_FN(find_module, "find_module", true);
	if (!err)
		err = LKO_FN(copy_to_kernel_nofault,
			     "copy_to_kernel_nofault", true);
	if (!err)
		err = LKO_FN(get_gate_vma, "get_gate_vma", false);
	if (!err)
		err = LKO_FN(module_lookup_name,
			     "module_kallsyms_lookup_name", false);
	return err;
}

static int lko_resolve_sections(void)
{
	struct lainko_syms *s = &lainko_syms;
	int err;

	err = lko_lookup("_stext", &s->text_start, true);
	if (!err)
		err = lko_lookup("_etext", &s->text_end, true);
	if (!err)
		err = lko_lookup("__start_rodata", &s->rodata_start, true);
	if (!err)
		err = lko_lookup("__end_rodata", &s->rodata_end, true);
	if (!err)
		err = lko_lookup("_sinittext", &s->inittext_start, false);
	if (!err)
		err = lko_lookup("_einittext", &s->inittext_end, false);
	return err;
}

int lainko_resolve_symbols(void)
{
	unsigned long addr = lko_find_kallsyms();
	int err;

	if (!addr) {
		pr_err("cannot find kallsyms_lookup_name (needs CONFIG_KPROBES), refusing to load\n");
		return -ENOENT;
	}
	lainko_syms.kallsyms_lookup_name = (void *)addr;

	err = lko_resolve_functions();
	if (!err)
		err = lko_resolve_sections();
	return err;
}
