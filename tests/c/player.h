/* The structures tests/c/struct_target.c holds; tests read them back with
 * `lainview read --type 'struct player' --c-header tests/c/player.h`. */
#include <stdint.h>

enum kind { KIND_NONE, KIND_SWORD = 3, KIND_SHIELD };

struct item {
    int32_t count;
    char name[12];
    enum kind kind;
};

struct stats {
    uint8_t str:4, dex:4;
    uint16_t level:10;
    int16_t mood:6;      /* negative: grumpy */
};

struct player {
    char name[16];
    int32_t hp;
    float pos[3];
    struct stats stats;
    union { uint32_t raw; float speed; } u;
    struct item inv[3];
    struct item *held;       /* a heap item */
    struct item *nothing;    /* NULL */
    enum kind favourite;
    double gold;
};
