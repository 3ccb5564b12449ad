/* A code target with named, non-inlined functions, for tests/backend/test_disasm.py
 * and tests/backend/test_module_symbols.py.
 *
 *   code_target
 *
 * prints one JSON line with the run-time addresses of its functions and of
 * its global `counter`, then waits until stdin closes. The functions branch,
 * call each other and reach `counter` RIP-relative (in a PIE build), so a
 * disassembly shows every kind of link.
 */
#include <stdio.h>

volatile long counter = 7;
static volatile long hidden_total;          /* a local symbol: only in .symtab */

__attribute__((noinline)) long lv_add(long a, long b) {
    return a + b;
}

__attribute__((noinline)) long lv_bump(long by) {
    counter = lv_add(counter, by);
    return counter;
}

__attribute__((noinline)) static long lv_loop(long n) {
    long total = 0;
    for (long i = 0; i < n; i++) {
        if (i & 1)
            total += lv_bump(i);
        else
            total -= i;
    }
    hidden_total = total;
    return total;
}

int main(void) {
    lv_loop(3);
    printf("{\"lv_add\": %lu, \"lv_bump\": %lu, \"lv_loop\": %lu, \"counter\": %lu}\n",
           (unsigned long)&lv_add, (unsigned long)&lv_bump, (unsigned long)&lv_loop,
           (unsigned long)&counter);
    fflush(stdout);
    while (getchar() != EOF) {}
    return 0;
}
