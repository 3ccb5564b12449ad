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
#include <linux/uaccess.h>
#include <asm/cpufeature.h>

#include "lainko.h"

struct lainko_syms lainko_syms;

#define LKO_ENDBR64	0xfa1e0ff3	/* f3 0f 1e fa */

static bool lko_is_endbr(unsigned long addr)
{
	u32 insn;

	return !copy_from_kernel_nofault(&insn, (void *)addr, sizeof(insn)) &&
	       insn == LKO_ENDBR64;
}

/*
 * With indirect branch tracking on, an indirect call must land on an
 * ENDBR64; the kernel removes it from functions whose address it never
 * takes. Refuse to load, saying why and what to do, rather than trap on
 * the first call.
 */
static int lko_check_callable(const char *name, unsigned long addr)
{
#ifdef CONFIG_X86_KERNEL_IBT
	if (cpu_feature_enabled(X86_FEATURE_IBT) && !lko_is_endbr(addr)) {
		pr_err("this kernel enforces indirect branch tracking (IBT) and %s, "
		       "which lainko calls indirectly, is not a valid indirect-call "
		       "target: refusing to load. To use lainko, boot with ibt=off "
		       "(add it to GRUB_CMDLINE_LINUX in /etc/default/grub, run "
		       "update-grub, reboot); without it, lainview works through "
		       "/proc (--backend procfs, --ksource kcore)\n", name);
		return -EOPNOTSUPP;
	}
#endif
	return 0;
}

#ifdef CONFIG_KPROBES
static unsigned long lko_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;

	if (register_kprobe(&kp) < 0)
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	/* Kprobes sit after a function's ENDBR64; the call must not. */
	if (addr && lko_is_endbr(addr - 4))
		addr -= 4;
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

static int lko_lookup_fn(const char *name, unsigned long *addr, bool required)
{
	int err = lko_lookup(name, addr, required);

	if (err || !*addr)
		return err;
	err = lko_check_callable(name, *addr);
	if (err && !required) {
		*addr = 0;
		err = 0;
	}
	return err;
}

#define LKO_FN(field, name, required)					\
	lko_lookup_fn(name, (unsigned long *)&lainko_syms.field, required)

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
	err = lko_check_callable("kallsyms_lookup_name", addr);
	if (err)
		return err;
	lainko_syms.kallsyms_lookup_name = (void *)addr;

	err = lko_resolve_functions();
	if (!err)
		err = lko_resolve_sections();
	return err;
}
