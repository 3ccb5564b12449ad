/* A scan target with known memory, for tests/test_cli_scan.py.
 *
 *   scan_target N [BIG [AREAS]]
 *
 * maps one private page holding N/1000 as f32 (offset 0) and f64 (8),
 * "name=N" in UTF-8 (32) and N in UTF-16LE (128); one MAP_SHARED page
 * holding N as i32 at offset 64 (how emulators hold guest RAM); and, with
 * BIG, BIG bytes of untouched private memory; with AREAS, that many
 * one-page areas (every other page read-only, so the kernel cannot merge
 * them). Prints their addresses as
 * one JSON line, then waits until stdin closes. N never appears in its
 * binary form anywhere else a default scan looks.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
    size_t big = argc > 2 ? strtoull(argv[2], 0, 0) : 0;
    unsigned char *priv = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
    unsigned char *shared = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
    int32_t n = (int32_t)strtol(argv[1], 0, 0);
    *(int32_t *)(shared + 64) = n;
    float f = (float)n / 1000.0f;        /* 1123 -> 1.123f */
    memcpy(priv, &f, 4);
    double d = (double)n / 1000.0;
    memcpy(priv + 8, &d, 8);
    const char *text = argv[1];           /* the digits as text, UTF-8 and UTF-16LE */
    size_t len = strlen(text);
    memcpy(priv + 32, "name=", 5); memcpy(priv + 37, text, len);
    for (size_t i = 0; i < len; i++) { priv[128 + 2 * i] = text[i]; priv[129 + 2 * i] = 0; }
    unsigned char *bulk = big ? mmap(NULL, big, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) : 0;
    long areas = argc > 3 ? strtol(argv[3], 0, 0) : 0, page = sysconf(_SC_PAGESIZE);
    unsigned char *many = areas ? mmap(NULL, areas * page, PROT_READ|PROT_WRITE,
                                       MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) : 0;
    for (long i = 1; i < areas; i += 2)
        if (mprotect(many + i * page, page, PROT_READ)) { perror("mprotect"); return 1; }
    printf("{\"private\": %lu, \"shared\": %lu, \"bulk\": %lu}\n",
           (unsigned long)priv, (unsigned long)shared, (unsigned long)bulk);
    fflush(stdout);
    char buf[64];
    while (fgets(buf, sizeof buf, stdin)) {}
    return 0;
}
