"""Scanner scale in the number of areas: first scan against next scan.

A child maps N pages with every other page read-only, so the kernel cannot
merge them: N areas, N/2 writable ones (scanned by default) holding one
planted i32 each (bench/_many_areas.py). Prints, for an exact first scan and for an unknown-value
first scan, the time of the first scan, of the next scan ("unchanged"), and
their ratio (next / first). A next scan that looked up each region's live
area linearly was quadratic in the areas (issue 10: 16 s at 10,000 areas);
the goal is a ratio of at most 1.

Usage: python bench/scan_areas.py [--areas 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from _many_areas import PLANTED, spawn

from lainview.backend.scan import AreaFilter, Mode, ScanType, make_condition
from lainview.backend.service import Backend



def timed(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    child, base = spawn(args.areas)
    backend = Backend()
    try:
        target = backend.attach(child.pid, writable=False).result(30)
        areas = AreaFilter(ranges=tuple((base + i * 4096, base + (i + 1) * 4096)
                                        for i in range(0, args.areas, 2)))
        st = ScanType("i32")
        print(f"{args.areas} areas ({args.areas // 2} scanned), best of {args.repeat}")
        for label, first_cond in (("exact i32", make_condition(st, Mode.EXACT, PLANTED)),
                                  ("unknown i32", make_condition(st, Mode.UNKNOWN))):
            states = []

            def first():
                s = target.scan_first(st, first_cond, areas=areas).result(3600)
                states.append(s)
                return s

            t_first, state = timed(first, args.repeat)
            t_next, nxt = timed(lambda: target.scan_next(
                state, make_condition(st, Mode.UNCHANGED)).result(3600), args.repeat)
            print(f"  {label:12s} first {t_first:7.3f} s  next {t_next:7.3f} s  "
                  f"next/first {t_next / t_first:5.2f}x  ({nxt.count} kept, "
                  f"{len(state.regions)} regions)")
            for s in states:
                s.close()
    finally:
        backend.shutdown()
        child.kill()
        child.wait()


if __name__ == "__main__":
    main()
