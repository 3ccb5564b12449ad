"""Benchmark: kernel BTF (/sys/kernel/btf/vmlinux) loaded and indexed,
against a raw read of the same file in the same run; the name index; and
type-ahead over every type name, one keystroke at a time.

    .venv/bin/python bench/btf.py [--repeat N] [--path FILE]

Goals (issue 14): loading all types at most 300 ms; type-ahead at most
16 ms per keystroke. "Loading" is what a lookup needs: the file read, the
walk of the type section (every type addressable by id) and the name index;
types become objects only when used (building all ~127,000 is printed too,
for scale). Times are CPU time of this process (the machine is shared) and
wall time; best and median of N runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from lainview.backend.btf import BTF


def timed(fn, repeat: int) -> tuple[float, float, float]:
    """(best CPU ms, median CPU ms, median wall ms)"""
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c) * 1e3)
        wall.append((time.perf_counter() - w) * 1e3)
    return min(cpu), statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--path", default="/sys/kernel/btf/vmlinux")
    args = parser.parse_args()

    def raw() -> bytes:
        with open(args.path, "rb") as f:
            return f.read()
    data = raw()

    def load_all() -> BTF:
        b = BTF.load(args.path)
        b.names()
        return b
    b = load_all()
    print(f"{args.path}: {len(data) / 1e6:.1f} MB, {b.last_id} types, "
          f"{len(b.names())} names")
    base = timed(raw, args.repeat)
    rows = [("raw read", raw), ("read + walk (BTF.load)", lambda: BTF.load(args.path)),
            ("walk only", lambda: BTF(data)), ("name index only", lambda: BTF(data).names()),
            ("load all types (read + walk + names)", load_all)]
    for label, fn in rows:
        best, med, wall = timed(fn, args.repeat)
        print(f"{label:<38} CPU best {best:7.1f} ms  median {med:7.1f} ms  wall median "
              f"{wall:7.1f} ms  ({med / max(base[1], 1e-3):5.1f}x raw read)")

    def build_all() -> None:
        fresh = BTF(data)
        for tid in range(1, fresh.last_id + 1):
            fresh.type(tid)
    best, med, wall = timed(build_all, 1)
    print(f"{'every type built as an object (not needed)':<38} CPU {best:7.1f} ms")
    # type-ahead: typing "uts_names" and "task_st" one key at a time
    worst = 0.0
    per_key = []
    for word in ("uts_names", "task_st", "e"):
        for n in range(1, len(word) + 1):
            best, med, wall = timed(lambda: b.search(word[:n], 50), args.repeat)
            per_key.append(med)
            worst = max(worst, med)
    print(f"type-ahead per keystroke (50 results): median {statistics.median(per_key):.2f} "
          f"ms CPU, worst key {worst:.2f} ms")


if __name__ == "__main__":
    main()
