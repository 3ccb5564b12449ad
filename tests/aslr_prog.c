/* A tiny PIE program for the location tests: globals in .data and in a
 * .bss large enough to get its own anonymous mapping, with known values.
 * Prints their addresses as one JSON line, then waits for stdin to close. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int data_var = 0x1234abcd;
static char big_bss[1 << 16];
const char rodata_text[] = "RODATA-MARKER";

int main(void) {
    memcpy(big_bss + 0x8000, "BSS-MARKER", 10);
    printf("{\"pid\": %d, \"data\": %lu, \"bss\": %lu, \"rodata\": %lu}\n", getpid(),
           (unsigned long)&data_var, (unsigned long)(big_bss + 0x8000),
           (unsigned long)rodata_text);
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    return 0;
}
