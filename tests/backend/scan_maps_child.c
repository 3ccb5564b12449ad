/* A target whose map the scanner tests change between steps.
 *
 *   scan_maps_child PAGES [ALT]
 *
 * maps PAGES pages read-write (private, anonymous) at one base, prints the
 * base address in hex and the page size, then answers commands on stdin,
 * one per line, each with "ok" (or "err ERRNO"):
 *
 *   poke OFF HEX         write the bytes HEX at base + OFF (hex offset)
 *   fill OFF LEN BYTE    memset (hex numbers)
 *   stripe OFF STEP N HEX  write HEX at base + OFF + i * STEP for i < N (hex numbers)
 *   prot OFF LEN MODE    mprotect; MODE is rw, r or none
 *   unmap OFF LEN        munmap
 *   map OFF LEN          mmap MAP_FIXED read-write zero pages back
 *   exit
 *
 * With ALT = 1 every other page is made read-only at start, so the kernel
 * cannot merge them: PAGES areas.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned char *base;

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(int argc, char **argv)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = argc > 1 ? strtoul(argv[1], NULL, 0) : 4;
    int alt = argc > 2 && atoi(argv[2]);
    base = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return 1;
    if (alt)
        for (size_t i = 1; i < pages; i += 2)
            if (mprotect(base + i * page, page, PROT_READ)) return 1;
    printf("%lx %ld\n", (unsigned long)base, page);
    fflush(stdout);
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        char cmd[16], arg[8];
        unsigned long off = 0, len = 0, byte = 0;
        int rc = 0;
        if (sscanf(line, "%15s", cmd) != 1) continue;
        if (!strcmp(cmd, "exit")) break;
        if (!strcmp(cmd, "poke")) {
            int n = 0;
            sscanf(line, "%*s %lx %n", &off, &n);
            for (char *h = line + n; hexval(h[0]) >= 0 && hexval(h[1]) >= 0; h += 2)
                base[off++] = (unsigned char)(hexval(h[0]) * 16 + hexval(h[1]));
        } else if (!strcmp(cmd, "stripe")) {
            unsigned long step = 0, n = 0;
            int at = 0;
            sscanf(line, "%*s %lx %lx %lx %n", &off, &step, &n, &at);
            unsigned char bytes[64];
            size_t len = 0;
            for (char *h = line + at; len < sizeof bytes && hexval(h[0]) >= 0 && hexval(h[1]) >= 0; h += 2)
                bytes[len++] = (unsigned char)(hexval(h[0]) * 16 + hexval(h[1]));
            for (unsigned long i = 0; i < n; i++)
                memcpy(base + off + i * step, bytes, len);
        } else if (!strcmp(cmd, "fill")) {
            sscanf(line, "%*s %lx %lx %lx", &off, &len, &byte);
            memset(base + off, (int)byte, len);
        } else if (!strcmp(cmd, "prot")) {
            sscanf(line, "%*s %lx %lx %7s", &off, &len, arg);
            int prot = !strcmp(arg, "rw") ? PROT_READ | PROT_WRITE
                     : !strcmp(arg, "r") ? PROT_READ : PROT_NONE;
            rc = mprotect(base + off, len, prot);
        } else if (!strcmp(cmd, "unmap")) {
            sscanf(line, "%*s %lx %lx", &off, &len);
            rc = munmap(base + off, len);
        } else if (!strcmp(cmd, "map")) {
            sscanf(line, "%*s %lx %lx", &off, &len);
            rc = mmap(base + off, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED;
        }
        if (rc) printf("err %d\n", errno);
        else printf("ok\n");
        fflush(stdout);
    }
    return 0;
}
