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

CHILD = r"""
import ctypes, mmap, sys
n = int(sys.argv[1])
page = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
base = libc.mmap(None, max(n, 1) * page, 3, 0x22, -1, 0)
for i in range(1, n, 2):
    assert libc.mprotect(base + i * page, page, 1) == 0
print(base, flush=True)
sys.stdin.readline()
"""


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


def spawn(areas: int) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(areas)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child, int(child.stdout.readline())


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
