/* A stand-in for the kmem device, for tests on machines without it.
 *
 * Preloaded (LD_PRELOAD) into a test process, it answers the six MIOC_*
 * requests on any descriptor open on the file named by $FAKE_KMEM_PATH, as
 * docs/kmem.md says the device does. The file itself is the "kernel
 * memory", so writes persist across processes. struct mioc_rksym is
 * declared here from the spec, so the C compiler checks the layout the
 * Python side builds. Every other ioctl goes to libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mioc_rksym {
    char *mirk_modname;
    char *mirk_symname;
    void *mirk_buf;
    size_t mirk_buflen;
};
_Static_assert(sizeof(struct mioc_rksym) == 32, "spec: 32 bytes");
_Static_assert(offsetof(struct mioc_rksym, mirk_symname) == 8, "spec: offset 8");
_Static_assert(offsetof(struct mioc_rksym, mirk_buf) == 16, "spec: offset 16");
_Static_assert(offsetof(struct mioc_rksym, mirk_buflen) == 24, "spec: offset 24");

#define MAXSYMNMLEN 512
#define MODMAXNAMELEN 56
#define MEM_SIZE 4096

struct fake_sym { const char *name; const char *module; long offset; int read_only; };
/* Offsets into the memory file. fake_ptr holds a pointer: the offset of fake_target. */
static const struct fake_sym syms[] = {
    {"fake_var", NULL, 0, 0},
    {"fake_ro", NULL, 64, 1},
    {"fake_ptr", NULL, 128, 0},
    {"fake_target", NULL, 256, 0},
    {"fake_var", "fakemod", 512, 0},   /* same name, in a module */
    {"mod_only", "fakemod", 576, 0},
};
static const char *modules[] = {"fakemod"};
static int holds[1];

static int is_fake(int fd)
{
    const char *want = getenv("FAKE_KMEM_PATH");
    char link[64], path[4096];
    ssize_t n;
    if (!want)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = 0;
    return strcmp(path, want) == 0;
}

static int fail(int err) { errno = err; return -1; }

static int module_index(const char *name)
{
    for (size_t i = 0; i < sizeof modules / sizeof *modules; i++)
        if (strcmp(modules[i], name) == 0)
            return (int)i;
    return -1;
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
    int mode = fcntl(fd, F_GETFL) & O_ACCMODE;
    if (req == 0x4D08 || req == 0x4D09) {
        const char *name = arg;
        int m;
        if (strnlen(name, MODMAXNAMELEN) >= MODMAXNAMELEN)
            return fail(ENAMETOOLONG);
        m = module_index(name);
        if (m < 0)
            return fail(EINVAL);
        if (req == 0x4D09) {
            if (holds[m] == 0)
                return fail(EINVAL);
            holds[m]--;
        } else {
            holds[m]++;
        }
        return 0;
    }
    struct mioc_rksym *r = arg;
    int write = req == 0x4D06 || req == 0x4D07;
    int indirect = req == 0x4D05 || req == 0x4D07;
    if (write && mode == O_RDONLY)
        return fail(EBADF);
    if (!write && mode == O_WRONLY)
        return fail(EBADF);
    if (strnlen(r->mirk_symname, MAXSYMNMLEN) >= MAXSYMNMLEN)
        return fail(ENAMETOOLONG);
    if (r->mirk_modname) {
        if (strnlen(r->mirk_modname, MODMAXNAMELEN) >= MODMAXNAMELEN)
            return fail(ENAMETOOLONG);
        if (module_index(r->mirk_modname) < 0)
            return fail(EINVAL);
    }
    const struct fake_sym *s = NULL;
    for (size_t i = 0; i < sizeof syms / sizeof *syms && !s; i++) {
        if (strcmp(syms[i].name, r->mirk_symname) != 0)
            continue;
        if (r->mirk_modname ? (syms[i].module && strcmp(syms[i].module, r->mirk_modname) == 0)
                            : 1)
            s = &syms[i];
    }
    if (!s)
        return fail(ENOENT);
    long where = s->offset;
    int read_only = s->read_only;
    if (indirect) {
        int64_t ptr;
        if (pread(fd, &ptr, 8, where) != 8)
            return fail(EFAULT);
        where = ptr;
        read_only = 0;
    }
    if (where < 0 || where + (long)r->mirk_buflen > MEM_SIZE)
        return fail(EFAULT);
    if (write) {
        if (read_only)
            return fail(EFAULT);
        if (pwrite(fd, r->mirk_buf, r->mirk_buflen, where) != (ssize_t)r->mirk_buflen)
            return fail(EFAULT);
    } else if (pread(fd, r->mirk_buf, r->mirk_buflen, where) != (ssize_t)r->mirk_buflen) {
        return fail(EFAULT);
    }
    return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
    static int (*real_ioctl)(int, unsigned long, ...);
    va_list ap;
    void *arg;
    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (req >= 0x4D04 && req <= 0x4D09 && is_fake(fd))
        return fake_ioctl(fd, req, arg);
    if (!real_ioctl)
        real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    return real_ioctl(fd, req, arg);
}
