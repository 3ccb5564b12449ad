/* Heap-like memory right after a program's .bss, for the pointer
 * scanner's .bss rule (tests/backend/test_pointer_scan.py).
 *
 * The .bss (g_bss, more than a page, so the kernel maps it as an anonymous
 * area after the file's writable page) ends at `end`. An anonymous mapping
 * is placed at the next page (MAP_FIXED_NOREPLACE): the kernel merges it
 * into the .bss area, so the map shows one anonymous area after the file.
 * An object there (tail) holds, at +0x10, a pointer to a heap object whose
 * +0x8 holds the value; a global in .data points to the tail object:
 *   g_root (.data) -> tail, tail+0x10 -> obj, obj+0x8 = value
 * The only static path is g_root->+0x10->+0x8; tail+0x10 is no static base.
 *
 * Prints one JSON line (addresses), then blocks reading stdin until EOF
 * or "exit"; "churn" starts a thread that maps and unmaps a page every
 * millisecond (a map that never holds still), answering "ok".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define VALUE 0x5eed1234abcdLL

extern char end;                      /* the linker's end of .bss */
static volatile char g_bss[3 * 4096]; /* .bss larger than a page */
__attribute__((section(".data"))) void *g_root;

struct obj { uint64_t tag; int64_t value; uint64_t pad[6]; };
struct tail { uint64_t a, b; struct obj *link; uint64_t pad[5]; };

static void *churn(void *arg) {
    (void)arg;
    for (;;) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        usleep(1000);
        if (p != MAP_FAILED) munmap(p, 4096);
        usleep(1000);
    }
    return NULL;
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t after = ((uintptr_t)&end + page - 1) & ~(uintptr_t)(page - 1);
    void *m = mmap((void *)after, 16 * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m == MAP_FAILED || (uintptr_t)m != after) {
        fprintf(stderr, "cannot map right after .bss at %#lx\n", (unsigned long)after);
        return 1;
    }
    g_bss[0] = 1;
    struct obj *o = calloc(1, sizeof *o);
    o->value = VALUE;
    struct tail *t = (struct tail *)((char *)m + 0x100);
    t->link = o;
    g_root = t;
    printf("{\"value\": %lu, \"tail\": %lu, \"root\": %lu, \"end\": %lu, \"mapped\": %lu}\n",
           (unsigned long)(uintptr_t)&o->value, (unsigned long)(uintptr_t)t,
           (unsigned long)(uintptr_t)&g_root, (unsigned long)(uintptr_t)&end,
           (unsigned long)after);
    fflush(stdout);
    char line[64];
    pthread_t churner;
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "exit", 4) == 0) break;
        if (strncmp(line, "churn", 5) == 0) {   /* the map changes every millisecond */
            pthread_create(&churner, NULL, churn, NULL);
            printf("ok\n");
            fflush(stdout);
        }
    }
    return 0;
}
