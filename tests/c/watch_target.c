/* A watchpoint target with known code, for tests/backend/test_watchpoints.py.
 *
 *   watch_target
 *
 * loops forever: writer_one() and writer_two() write the global `watched`,
 * reader() reads it, then `progress` counts the round. All three are
 * separate, never inlined functions. Prints one JSON line with the
 * addresses of `watched`, `progress` and the functions; then reads
 * commands on stdin: "thread" starts a thread that loops calling
 * late_writer() (another writer of `watched`) and answers "started";
 * end of input exits.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile int32_t watched;
volatile uint64_t progress;
volatile int64_t sink;

__attribute__((noinline)) void writer_one(int32_t v) { watched = v; }
__attribute__((noinline)) void writer_two(int32_t v) { watched = v + 1; }
__attribute__((noinline)) int32_t reader(void) { return watched; }
__attribute__((noinline)) void late_writer(int32_t v) { watched = v - 1; }

static void pause_a_little(void) {
    struct timespec ts = {0, 200000};      /* 0.2 ms: a few thousand hits a second */
    nanosleep(&ts, NULL);
}

static void *main_loop(void *arg) {
    (void)arg;
    for (int32_t i = 0;; i++) {
        writer_one(i);
        writer_two(i);
        sink += reader();
        progress++;
        pause_a_little();
    }
    return NULL;
}

static void *late_loop(void *arg) {
    (void)arg;
    for (int32_t i = 0;; i++) {
        late_writer(i);
        pause_a_little();
    }
    return NULL;
}

int main(void) {
    pthread_t worker, late;
    pthread_create(&worker, NULL, main_loop, NULL);
    printf("{\"watched\": %lu, \"progress\": %lu, \"writer_one\": %lu, \"writer_two\": %lu, "
           "\"reader\": %lu, \"late_writer\": %lu}\n",
           (unsigned long)&watched, (unsigned long)&progress, (unsigned long)writer_one,
           (unsigned long)writer_two, (unsigned long)reader, (unsigned long)late_writer);
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "thread", 6) == 0) {
            pthread_create(&late, NULL, late_loop, NULL);
            printf("started\n");
            fflush(stdout);
        }
    }
    return 0;
}
