"""CLI start-up: each command's wall time against a bare interpreter start.

Runs, in one run, ``python -c pass`` of the same interpreter (the baseline)
and the ``lainview`` commands ``--version``, ``ps``, ``maps PID``, ``read
PID ADDR 16`` (hex dump and ``--raw``), ``write PID ADDR BYTES`` on a child
holding one mapped page, each as a whole process, and prints the median wall
time of ``--repeat`` runs and its ratio to the baseline (issue 13's goal:
at most 3x for maps, read, write and ps).

Then ``maps --json`` on a child with ``--areas`` areas (default 60,000; every
other page read-only so the kernel cannot merge them): the median wall time
(issue 10's goal: within 0.5 s) and its ratio to a raw read of
/proc/PID/maps (``cat``, a whole process too).

Journal writes go to a temporary XDG_STATE_HOME, removed at the end.

Usage: python bench/startup.py [--repeat 9] [--areas 60000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _many_areas import spawn



def lainview_command() -> list[str]:
    """The installed ``lainview`` script beside this interpreter, else ``-m``."""
    script = os.path.join(os.path.dirname(sys.executable), "lainview")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "lainview"]


def wall(argv: list[str], env: dict[str, str], repeat: int) -> float:
    """Median wall time of ``argv`` as a whole process (output discarded)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr}")
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9, help="runs per command (median)")
    ap.add_argument("--areas", type=int, default=60000,
                    help="areas of the large child for maps --json")
    args = ap.parse_args()
    state = tempfile.mkdtemp(prefix="lainview-startup-")
    env = {**os.environ, "XDG_STATE_HOME": state}
    lv = lainview_command()
    small, address = spawn(1)
    big = None
    try:
        base = wall([sys.executable, "-c", "pass"], env, args.repeat)
        print(f"bare interpreter: {base * 1000:7.1f} ms (median of {args.repeat})")
        pid = str(small.pid)
        for label, extra in (("--version", ["--version"]), ("ps", ["ps"]),
                             ("maps", ["maps", pid]),
                             ("read", ["read", pid, hex(address), "16"]),
                             ("read --raw", ["read", pid, hex(address), "16", "--raw"]),
                             ("write", ["write", pid, hex(address), "2a"])):
            t = wall([*lv, *extra], env, args.repeat)
            print(f"  {label:12s} {t * 1000:7.1f} ms  {t / base:5.2f}x bare")
        big, _ = spawn(args.areas)
        with open(f"/proc/{big.pid}/maps") as f:
            n = sum(1 for _ in f)
        raw = wall(["cat", f"/proc/{big.pid}/maps"], env, args.repeat)
        t = wall([*lv, "maps", "--json", str(big.pid)], env, args.repeat)
        print(f"maps --json, {n} areas: {t * 1000:7.1f} ms  {t / raw:5.2f}x cat /proc/PID/maps "
              f"({raw * 1000:.1f} ms)  {t / base:5.2f}x bare  (goal: 500 ms)")
    finally:
        for child in (small, big):
            if child is not None:
                child.kill()
                child.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
