/* A pointer chain for the pointer scanner's tests (tests/ptrscan_support.py).
 *
 * A global in .data points to a heap object (obj1); obj1+0x18 points to a
 * second heap object (obj2); obj2+0x8 holds the value. Decoys near every
 * level point into the chain in run "1" and elsewhere in any other run, so
 * a rescan against another run must drop them:
 *   g_decoy_value -> obj2          (path g_decoy_value -> +0x8)
 *   g_decoy_obj   -> obj1          (path g_decoy_obj -> +0x18 -> +0x8)
 *   obj1+0x20     -> obj2          (path g_root -> +0x20 -> +0x8)
 *   obj1+0x10     -> obj2 - 0x10   (path g_root -> +0x10 -> +0x18)
 * A thread keeps a pointer to obj2 in a local variable of its stack and
 * blocks in read(): the thread-stack base case. A line "spin" makes it
 * spin on a CPU instead (its stack pointer is then not reported), until
 * the end.
 *
 * Prints one JSON line (addresses), then blocks reading stdin; a line
 * "exit" (or EOF) ends it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VALUE 0x5eed1234abcdLL

struct obj1 { uint64_t a, b, near, link, decoy, pad[3]; };
struct obj2 { uint64_t tag; int64_t value; uint64_t pad[6]; };

__attribute__((section(".data"))) struct obj1 *g_root;
__attribute__((section(".data"))) void *g_decoy_value;
__attribute__((section(".data"))) void *g_decoy_obj;

static int g_pipe[2];
static volatile int g_stop;

static void *stack_holder(void *arg) {
    volatile struct obj2 *local[4] = {0, (struct obj2 *)arg, 0, 0};
    char c;
    /* Blocks until main writes: the kernel reports this thread's sp. */
    while (read(g_pipe[0], &c, 1) == 1 && c == 's') {
        while (!g_stop) { }
    }
    return (void *)local[1];
}

int main(int argc, char **argv) {
    int first = argc < 2 || strcmp(argv[1], "1") == 0;
    /* Some heap noise first, different per run, so addresses differ. */
    void *noise[64];
    for (int i = 0; i < 64; i++) noise[i] = malloc(32 + 16 * (i % 7));
    struct obj1 *o1 = calloc(1, sizeof *o1);
    struct obj2 *o2 = calloc(1, sizeof *o2);
    struct obj2 *other = calloc(1, sizeof *other);
    struct obj1 *other1 = calloc(1, sizeof *other1);
    other1->link = (uint64_t)(uintptr_t)other;
    o2->value = VALUE;
    other->value = VALUE;   /* holds the same value: a value rescan must not keep it */
    o1->link = (uint64_t)(uintptr_t)o2;
    g_root = o1;
    if (first) {
        g_decoy_value = o2;
        g_decoy_obj = o1;
        o1->decoy = (uint64_t)(uintptr_t)o2;
        o1->near = (uint64_t)(uintptr_t)o2 - 0x10;
    } else {
        g_decoy_value = other1;
        g_decoy_obj = other1;
        o1->decoy = 0;
        o1->near = 0;
    }
    if (pipe(g_pipe) != 0) return 1;
    pthread_t thread;
    pthread_create(&thread, NULL, stack_holder, o2);
    usleep(1000);
    printf("{\"value\": %lu, \"obj1\": %lu, \"obj2\": %lu, \"root\": %lu, "
           "\"decoy_value\": %lu, \"decoy_obj\": %lu, \"other\": %lu}\n",
           (unsigned long)(uintptr_t)&o2->value, (unsigned long)(uintptr_t)o1,
           (unsigned long)(uintptr_t)o2, (unsigned long)(uintptr_t)&g_root,
           (unsigned long)(uintptr_t)&g_decoy_value, (unsigned long)(uintptr_t)&g_decoy_obj,
           (unsigned long)(uintptr_t)&other->value);
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "exit", 4) == 0) break;
        if (strncmp(line, "spin", 4) == 0) {
            if (write(g_pipe[1], "s", 1) < 0) return 1;
            printf("{}\n");
            fflush(stdout);
        }
    }
    g_stop = 1;
    if (write(g_pipe[1], "x", 1) < 0) return 1;
    pthread_join(thread, NULL);
    for (int i = 0; i < 64; i++) free(noise[i]);
    return 0;
}
