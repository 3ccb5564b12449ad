/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lainko: the user-space interface of /dev/lainmemu and /dev/lainkmem.
 * docs/lainmemu.md and docs/kmem.md describe it; x86-64 (LP64) only.
 * Pointers travel as __u64 (u64_to_user_ptr() in the module): the same
 * bytes as the pointers and longs of the published lain.ko.
 */
#ifndef _UAPI_LAINKO_H
#define _UAPI_LAINKO_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * lainmemu.  The ioctl type byte is the device's major number (read it
 * from /sys/class/lainko/lainmemu_major); the size field says 8 although
 * every call passes a struct memu_ioctl_arg of 16 bytes.
 */
#define MEMU_NR_OPEN_TGT	0
#define MEMU_NR_RELEASE_TGT	1
#define MEMU_NR_GET_MAP		2
#define MEMU_NR_GET_MAP_SZ	3
#define MEMU_NR_COUNT		4

#define MEMU_IOC_OPEN_TGT(major)	_IOC(_IOC_WRITE, (major) & 0xff, MEMU_NR_OPEN_TGT, 8)
#define MEMU_IOC_RELEASE_TGT(major)	_IOC(_IOC_NONE, (major) & 0xff, MEMU_NR_RELEASE_TGT, 0)
#define MEMU_IOC_GET_MAP(major)		\
	_IOC(_IOC_READ | _IOC_WRITE, (major) & 0xff, MEMU_NR_GET_MAP, 8)
#define MEMU_IOC_GET_MAP_SZ(major)	_IOC(_IOC_WRITE, (major) & 0xff, MEMU_NR_GET_MAP_SZ, 8)

#define MEMU_PATH_LEN		4096

/* The argument of every lainmemu call: 16 bytes. */
struct memu_ioctl_arg {
	__u64 u_buf;		/* GET_MAP: array of struct memu_vm_entry */
	__s32 target_pid;	/* OPEN_TGT: the target's pid */
	__u32 __pad;
};

/* One memory area: 4128 bytes. */
struct memu_vm_entry {
	__u64 vm_start;
	__u64 vm_end;
	__u64 file_off;		/* in pages: the kernel's vm_pgoff */
	__u64 prot;		/* the raw vm_flags */
	char file_path[MEMU_PATH_LEN];
};

/* lainkmem: kernel memory by symbol name. */
#define MIOC_READKSYM		0x4D04	/* struct mioc_rksym * */
#define MIOC_IREADKSYM		0x4D05	/* struct mioc_rksym * */
#define MIOC_WRITEKSYM		0x4D06	/* struct mioc_rksym * */
#define MIOC_IWRITEKSYM		0x4D07	/* struct mioc_rksym * */
#define MIOC_LOCKSYM		0x4D08	/* char *: module name */
#define MIOC_UNLOCKSYM		0x4D09	/* char *: module name */
#define MIOC_FIRST		MIOC_READKSYM
#define MIOC_LAST		MIOC_UNLOCKSYM

#define KMEM_MAXSYMNMLEN	512
#define KMEM_MODMAXNAMELEN	56

/* 32 bytes. */
struct mioc_rksym {
	__u64 mirk_modname;	/* const char *: module, or 0 for any */
	__u64 mirk_symname;	/* const char *: symbol name */
	__u64 mirk_buf;		/* void *: data to read into or write from */
	__u64 mirk_buflen;	/* bytes to transfer */
};

#endif /* _UAPI_LAINKO_H */
