/* A struct of known slots for the dissector (tests/backend/test_dissect.py,
 * tests/ui/test_dissect_dock.py): a pointer to the heap, a double, "hello",
 * a small int, two small int32s, two floats, zero, bytes of no pattern and
 * a pointer to code; and a page whose next page is unmapped (a dissection
 * across the end reads a hole). Prints one JSON line, then waits for the
 * end of its input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct blob {
    void *heap;        /* +0x00 pointer into [heap] */
    double speed;      /* +0x08 3.25 */
    char name[8];      /* +0x10 "hello" */
    int64_t small;     /* +0x18 42 */
    int32_t pair[2];   /* +0x20 7, -3 */
    float floats[2];   /* +0x28 1.5, -0.25 */
    uint64_t zero;     /* +0x30 0 */
    uint64_t hash;     /* +0x38 no pattern */
    void *code;        /* +0x40 pointer to main */
};

struct blob blob;

int main(void)
{
    blob.heap = malloc(64);
    memset(blob.heap, 0x11, 64);
    blob.speed = 3.25;
    strcpy(blob.name, "hello");
    blob.small = 42;
    blob.pair[0] = 7;
    blob.pair[1] = -3;
    blob.floats[0] = 1.5f;
    blob.floats[1] = -0.25f;
    blob.zero = 0;
    blob.hash = 0x9e3779b97f4a7c15ull;
    blob.code = (void *)&main;
    long page = sysconf(_SC_PAGESIZE);
    char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (two == MAP_FAILED)
        return 1;
    munmap(two + page, page);
    memset(two, 0, page);
    *(double *)(two + page - 16) = 2.5;
    printf("{\"blob\": %lu, \"heap\": %lu, \"main\": %lu, \"edge\": %lu}\n",
           (unsigned long)&blob, (unsigned long)blob.heap, (unsigned long)&main,
           (unsigned long)(two + page - 16));
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin))
        ;
    return 0;
}
