"""Benchmark: /proc/kallsyms read, parse and load, against the raw read in
the same run; and the time to filter the real symbol set per keystroke.

    .venv/bin/python bench/kallsyms_load.py [--repeat N]

Goals (issue 4): read + parse + load at most 100 ms; a filter step at most
16 ms. Prints the best and the median of N runs of each.
"""

from __future__ import annotations

import argparse
import statistics
import time

from lainview.backend.kallsyms import (KALLSYMS_PATH, load_kallsyms, parse_kallsyms,
                                       read_proc_file)


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--path", default=KALLSYMS_PATH)
    args = parser.parse_args()
    data = read_proc_file(args.path)
    table = load_kallsyms(args.path)
    print(f"{args.path}: {len(table)} symbols, {len(data) / 1e6:.1f} MB, "
          f"{len(table.module_names)} modules, addresses hidden: {table.addresses_hidden}")
    rows = [("raw read", lambda: read_proc_file(args.path)),
            ("parse only", lambda: parse_kallsyms(data)),
            ("read + parse (load_kallsyms)", lambda: load_kallsyms(args.path))]
    for label, fn in rows:
        best, median = timed(fn, args.repeat)
        print(f"{label:<32} best {best:7.1f} ms   median {median:7.1f} ms")
    start = time.perf_counter()
    table.select("x", mode="substring")
    print(f"{'filter index, built once':<32} {(time.perf_counter() - start) * 1e3:7.1f} ms")
    # Typing "sched_" one key at a time, each step narrowing the previous result.
    word = "sched_"
    best_steps, worst = [], 0.0
    for _ in range(args.repeat):
        candidates = None
        steps = []
        for n in range(1, len(word) + 1):
            start = time.perf_counter()
            candidates = table.select(word[:n], mode="substring", candidates=candidates)
            steps.append((time.perf_counter() - start) * 1e3)
        best_steps.append(steps)
        worst = max(worst, max(steps))
    first = min(s[0] for s in best_steps)
    print(f"{'filter, first key (full set)':<32} best {first:7.1f} ms")
    print(f"{'filter, slowest keystroke':<32} worst {worst:7.1f} ms "
          f"(incremental narrowing, {len(word)} keys)")
    full = timed(lambda: table.select("sched", mode="substring"), args.repeat)
    print(f"{'filter, full set, no narrowing':<32} best {full[0]:7.1f} ms   "
          f"median {full[1]:7.1f} ms")


if __name__ == "__main__":
    main()
