/* A target holding known structures (tests/c/player.h): a global struct
 * player with a nested struct, an array of structs, a union, bitfields, an
 * enum and a pointer to a heap struct. Prints
 * {"player": ADDRESS, "heap": ADDRESS, "size": sizeof(struct player)}
 * as one JSON line, then waits until stdin closes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "player.h"

struct player player = {
    .name = "lain", .hp = 1234, .pos = {1.5f, -2.25f, 100.0f},
    .stats = {.str = 9, .dex = 15, .level = 777, .mood = -5},
    .u = {.speed = 0.5f},
    .inv = {{1, "apple", KIND_NONE}, {2, "sword", KIND_SWORD}, {7, "shield", KIND_SHIELD}},
    .favourite = KIND_SHIELD, .gold = 1e9 + 0.25,
};

int main(void) {
    struct item *heap = malloc(sizeof *heap);
    heap->count = 42;
    strcpy(heap->name, "heap sword");
    heap->kind = KIND_SWORD;
    player.held = heap;
    printf("{\"player\": %lu, \"heap\": %lu, \"size\": %zu}\n",
           (unsigned long)&player, (unsigned long)heap, sizeof(struct player));
    fflush(stdout);
    char buf[64];
    while (fgets(buf, sizeof buf, stdin)) {}
    return 0;
}
