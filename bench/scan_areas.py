"""Scanner scale in the number of areas: first scan against next scan.

A child maps N pages with every other page read-only, so the kernel cannot
merge them: N areas, N/2 writable ones (scanned by default) holding one
planted i32 each. Prints, for an exact first scan and for an unknown-value
first scan, the time of the first scan, of the next scan ("unchanged"), and
their ratio (next / first). A next scan that looked up each region's live
area linearly was quadratic in the areas (issue 10: 16 s at 10,000 areas);
the goal is a ratio of at most 1.

Usage: python bench/scan_areas.py [--areas 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from lainview.backend.scan import AreaFilter, Mode, ScanType, make_condition
from lainview.backend.service import Backend

CHILD = r"""
import ctypes, mmap, sys
n = int(sys.argv[1])
page = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
base = libc.mmap(None, n * page, 3, 0x22, -1, 0)
value = (123456789).to_bytes(4, "little")
for i in range(0, n, 2):
    ctypes.memmove(base + i * page + 16, value, 4)
for i in range(1, n, 2):
    assert libc.mprotect(base + i * page, page, 1) == 0
print(base, flush=True)
sys.stdin.readline()
"""


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
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(args.areas)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    backend = Backend()
    try:
        base = int(child.stdout.readline())
        target = backend.attach(child.pid, writable=False).result(30)
        areas = AreaFilter(ranges=tuple((base + i * 4096, base + (i + 1) * 4096)
                                        for i in range(0, args.areas, 2)))
        st = ScanType("i32")
        print(f"{args.areas} areas ({args.areas // 2} scanned), best of {args.repeat}")
        for label, first_cond in (("exact i32", make_condition(st, Mode.EXACT, "123456789")),
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
