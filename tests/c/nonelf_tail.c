/* A file mapping that is not ELF (a memfd of plain data, mapped rw-p)
 * with anonymous memory mapped right after it: that memory is no .bss of
 * the file (tests/backend/test_locations.py). Prints one JSON line
 * (file: where the memfd is mapped, tail: an address in the anonymous
 * mapping after it), then waits for stdin to close. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    int fd = memfd_create("notelf", 0);
    char data[8192];
    memset(data, 'A', sizeof data);
    if (fd < 0 || write(fd, data, sizeof data) != (ssize_t)sizeof data) return 1;
    /* reserve three pages, then put the file in the first two and
       anonymous memory in the third */
    char *base = mmap(NULL, 3 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return 1;
    if (mmap(base, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) != base)
        return 1;
    char *tail = mmap(base + 2 * page, page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (tail != base + 2 * page) return 1;
    printf("{\"file\": %lu, \"tail\": %lu}\n", (unsigned long)(uintptr_t)base,
           (unsigned long)(uintptr_t)(tail + 0x10));
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin))
        ;
    return 0;
}
