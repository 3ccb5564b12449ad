"""What a running watchpoint costs, in one run, against a C child writing
one variable in a tight loop:

1. the child's own speed (loop rounds per second) without a watch (the
   baseline) and with one (every write then traps into the kernel);
2. an interactive 8-byte read's latency on the backend thread without a
   watch (the baseline) and while one drains its ring between steps;
3. the hits recorded per second, and how many the kernel lost or throttled.

Usage: python bench/watchpoint.py [--seconds 2]
Prints each figure and its ratio to its baseline (no pass/fail).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from lainview.backend.service import Backend
from lainview.backend.watchpoints import WatchLive

CHILD = r"""
#include <stdio.h>
volatile unsigned long x;
int main(void) {
    printf("%lu\n", (unsigned long)&x);
    fflush(stdout);
    for (;;) x++;
}
"""


def child_rate(pid: int, address: int, seconds: float) -> float:
    """Rounds per second of the child's loop, from its counter."""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        def value() -> int:
            mem.seek(address)
            return int.from_bytes(mem.read(8), "little")
        start, t0 = value(), time.perf_counter()
        time.sleep(seconds)
        return (value() - start) / (time.perf_counter() - t0)


def read_latency(target, address: int, n: int = 300) -> tuple[float, float]:
    """Median and 99th percentile of an 8-byte read, in ms."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        target.read(address, 8).result(5)
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1e3, times[int(n * 0.99)] * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="each measurement's length")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source, exe = os.path.join(tmp, "loop.c"), os.path.join(tmp, "loop")
        with open(source, "w") as f:
            f.write(CHILD)
        subprocess.run(["gcc", "-O2", "-o", exe, source], check=True)
        proc = subprocess.Popen([exe], stdout=subprocess.PIPE, text=True)
        address = int(proc.stdout.readline())
        backend = Backend()
        try:
            target = backend.attach(proc.pid).result(10)
            base_rate = child_rate(proc.pid, address, args.seconds)
            base_latency = read_latency(target, address)
            live = WatchLive()
            future = target.watchpoint(address, 8, live=live)
            time.sleep(0.2)
            rate = child_rate(proc.pid, address, args.seconds)
            latency = read_latency(target, address)
            live.stop()
            final = future.result(10)
        finally:
            proc.kill()
            backend.shutdown()
    print(f"child loop: {base_rate:,.0f}/s without a watch, {rate:,.0f}/s with one "
          f"(ratio {rate / base_rate:.2e}; {1e6 / rate:.1f} µs a round, each one hit)")
    print(f"8-byte read: median {base_latency[0]:.3f} ms, p99 {base_latency[1]:.3f} ms without; "
          f"median {latency[0]:.3f} ms, p99 {latency[1]:.3f} ms with "
          f"(ratios {latency[0] / base_latency[0]:.2f}, {latency[1] / base_latency[1]:.2f})")
    print(f"watch: {final.total:,} hits in {final.seconds:.2f} s ({final.rate:,.0f}/s), "
          f"{final.lost} lost, {final.throttled} throttled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
