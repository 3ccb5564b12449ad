/* A pointer chain with known memory, for the pointer-path tests of the
 * watch list and the pointer-scan dock.
 *
 *   pointer_chain
 *
 * A global in .bss (g_player) points to a heap "player"; its field at
 * +0x18 points to a heap "inventory", whose field at +0x8 is a u32 value
 * (1000). Prints one JSON line: the addresses of the global, the player,
 * the inventory and the value. Commands on stdin, one per line, each
 * answered by one JSON line of the same shape:
 *   move      a new inventory (another heap block, the old one zeroed and
 *             kept, so the address really changes), pointed to from +0x18
 *   break     the global points to 0x10 (not mapped): the chain breaks at
 *             level 2 (its second pointer, at 0x10+0x18, is not mapped)
 *   fix       the global points to the player again
 *   set N     the value becomes N
 *   peek      (the same line, nothing changed)
 * Exits when stdin closes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inventory { uint64_t pad; uint32_t value; uint32_t pad2; uint64_t more[6]; };
struct player { uint64_t a, b, c; struct inventory *inventory; uint64_t d[4]; };

struct player *g_player = 0;              /* in .bss: the static base */
static struct inventory *current;
static struct player *player;

static void report(void) {
    printf("{\"global\": %lu, \"player\": %lu, \"inventory\": %lu, \"value\": %lu, "
           "\"number\": %u}\n",
           (unsigned long)&g_player, (unsigned long)player, (unsigned long)current,
           (unsigned long)&current->value, current->value);
    fflush(stdout);
}

int main(void) {
    player = g_player = calloc(1, sizeof *g_player);
    current = calloc(1, sizeof *current);
    current->value = 1000;
    player->inventory = current;
    report();
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        if (!strncmp(line, "move", 4)) {
            struct inventory *next = calloc(1, sizeof *next);
            *next = *current;
            memset(current, 0, sizeof *current);   /* the old block stays allocated */
            current = next;
            player->inventory = current;
        } else if (!strncmp(line, "break", 5)) {
            g_player = (struct player *)0x10;
        } else if (!strncmp(line, "fix", 3)) {
            g_player = player;
        } else if (!strncmp(line, "set ", 4)) {
            current->value = (uint32_t)strtoul(line + 4, 0, 0);
        }
        report();
    }
    return 0;
}
