"""Scanner throughput on a 1 GiB child with planted matches, in one run.

Part 1, in this process through the backend thread: each row against the
raw process_vm_readv read of the same memory (1 MiB chunks into one reused
page-aligned buffer: the baseline). Every buffer on both sides is
page-aligned (mmap), the rows take turns (one round runs every row once)
and every row runs ``--repeat`` rounds; the best time counts.

- raw process_vm_readv (the baseline);
- the first exact i32 scan;
- the any-offset i32 scan;
- the unknown-initial first scan (snapshot taken), with its peak extra RSS;
- the "changed" next scan over that dense state;
- a two-thread first exact scan (a prototype in this bench: two threads,
  each reading half the memory into its own buffer and comparing with
  numpy), against the one-thread raw read.

Part 2, when ``scanmem`` is installed (Debian package ``scanmem``): whole
processes against the same child, same run, interleaved, ``--repeat``
rounds: wall time and peak RSS (GNU time's ``wait4``) of ``lainview scan`` and
scanmem for a first exact i32 scan, and for an unknown initial value
followed by "changed" (lainview: two invocations with ``--session``;
scanmem: ``snapshot`` then ``!=``). Both scan the writable private areas
(lainview's default; scanmem's ``region_scan_level 3`` takes the same
ones here).

Usage: python bench/scan.py [--size-mib 1024] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import psutil

from lainview.backend.memory import page_buffer
from lainview.backend.procfs import _IoVec
from lainview.backend.scan import AreaFilter, Mode, ScanType, make_condition
from lainview.backend.service import Backend

VALUE = 123456789
CHILD = r"""
import ctypes, mmap, sys
size = int(sys.argv[1])
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
buf = (ctypes.c_char * size).from_buffer(m)
ctypes.memset(buf, 0x11, size)
value = (123456789).to_bytes(4, "little")
for off in range(4096, size, 64 << 20):       # one planted i32 every 64 MiB
    buf[off:off + 4] = value
print(ctypes.addressof(buf), flush=True)
sys.stdin.readline()
"""
CHUNK = 1 << 20

libc = ctypes.CDLL(None, use_errno=True)
vm_readv = libc.process_vm_readv
vm_readv.restype = ctypes.c_ssize_t


class PeakRss:
    """Samples this process's RSS every 5 ms while active."""

    def __init__(self):
        self.proc = psutil.Process()
        self.peak = self.start = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class Reader:
    """Raw process_vm_readv of [lo, hi) of the child in 1 MiB chunks into
    its own page-aligned buffer; ``scan`` also counts the exact i32 hits."""

    def __init__(self, pid: int, base: int):
        self.pid, self.base = pid, base
        self.buf = page_buffer(CHUNK)
        self.cbuf = (ctypes.c_char * CHUNK).from_buffer(self.buf)
        assert ctypes.addressof(self.cbuf) % 4096 == 0
        self.ints = np.frombuffer(self.buf, dtype=np.int32)
        self.local, self.remote = _IoVec(ctypes.addressof(self.cbuf), CHUNK), _IoVec(0, CHUNK)

    def read(self, lo: int, hi: int, compare: bool = False) -> int:
        found = 0
        for off in range(lo, hi, CHUNK):
            self.remote.iov_base = self.base + off
            assert vm_readv(self.pid, ctypes.byref(self.local), 1, ctypes.byref(self.remote),
                            1, 0) == CHUNK
            if compare:
                found += len(np.flatnonzero(self.ints == VALUE))
        return found

    def close(self) -> None:
        del self.cbuf, self.ints


def whole_process(argv: list[str]) -> tuple[float, int | None, str]:
    """Wall seconds, peak RSS (bytes; None without GNU time) and output of
    one process. The peak comes from GNU time's ``wait4`` of a child it
    forked itself: a child forked from this (large) process would report
    this process's RSS, which ``execve`` carries into ``ru_maxrss``."""
    fd, rss_file = tempfile.mkstemp(prefix="bench-rss-")
    os.close(fd)
    timer = ["/usr/bin/time", "-f", "%M", "-o", rss_file] if os.path.exists("/usr/bin/time") \
        else []
    try:
        t0 = time.perf_counter()
        proc = subprocess.run([*timer, *argv], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[:4]} failed ({proc.returncode}): {proc.stdout[-300:]}")
        with open(rss_file) as f:
            text = f.read().strip().splitlines()
        rss = int(text[-1]) * 1024 if timer and text else None
    finally:
        os.unlink(rss_file)
    return elapsed, rss, proc.stdout


def part1(target, pid: int, base: int, size: int, repeat: int) -> list[tuple[str, float, str]]:
    only = AreaFilter(ranges=((base, base + size),))
    i32 = ScanType("i32")
    exact = make_condition(i32, Mode.EXACT, str(VALUE))
    planted = len(range(4096, size, 64 << 20))
    raw = Reader(pid, base)
    halves = [Reader(pid, base), Reader(pid, base)]
    times: dict[str, list[float]] = {}
    notes: dict[str, str] = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        result = fn()
        times.setdefault(name, []).append(time.perf_counter() - t0)
        return result

    def two_threads() -> int:
        counts = [0, 0]
        bounds = [(0, size // 2), (size // 2, size)]

        def work(i):
            counts[i] = halves[i].read(*bounds[i], compare=True)
        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(counts)

    try:
        for _ in range(repeat):
            timed("raw process_vm_readv", lambda: raw.read(0, size))
            state = timed("first exact i32 scan",
                          lambda: target.scan_first(i32, exact, areas=only).result())
            assert state.count == planted, (state.count, planted)
            notes["first exact i32 scan"] = f"{state.count} matches"
            state.close()
            state = timed("any-offset i32 scan",
                          lambda: target.scan_first(i32, exact, align=1, areas=only).result())
            assert state.count == planted
            notes["any-offset i32 scan"] = f"{state.count} matches"
            state.close()
            with PeakRss() as rss:
                unknown = timed("unknown-initial first scan", lambda: target.scan_first(
                    i32, make_condition(i32, Mode.UNKNOWN), areas=only).result())
            notes["unknown-initial first scan"] = (
                f"peak extra RSS {(rss.peak - rss.start) / 2**20:.0f} MiB, "
                f"{unknown.disk_bytes / 2**20:.0f} MiB on disk, "
                f"{unknown.memory_bytes / 2**20:.0f} MiB of candidates in memory")
            changed = timed("'changed' next scan (dense)", lambda: target.scan_next(
                unknown, make_condition(i32, Mode.CHANGED)).result())
            notes["'changed' next scan (dense)"] = f"{changed.count} matches"
            changed.close()
            unknown.close()
            found = timed("two-thread exact scan (prototype)", two_threads)
            assert found == planted, found
            notes["two-thread exact scan (prototype)"] = "2 threads, raw reads + numpy"
    finally:
        for reader in (raw, *halves):
            reader.close()
    return [(name, min(t), notes.get(name, "")) for name, t in times.items()]


def part2(pid: int, repeat: int) -> list[tuple[str, str, float, int | None]]:
    """(scan, tool, best wall seconds, peak RSS of the best run)."""
    lainview = [sys.executable, "-m", "lainview", "scan", str(pid), "--type", "i32",
                "--limit", "0"]
    scanmem = ["scanmem", "-p", str(pid), "-c"]
    level = "option region_scan_level 3;option scan_data_type int32;"
    work = tempfile.mkdtemp(prefix="bench-scan-")
    session = os.path.join(work, "s.npz")

    def lainview_unknown_changed():
        t1, rss1, _ = whole_process([*lainview, "--unknown", "--session", session])
        t2, rss2, _ = whole_process([sys.executable, "-m", "lainview", "scan", "--session",
                                     session, "--next", "changed", "--limit", "0"])
        os.unlink(session)
        return t1 + t2, max(rss1, rss2) if rss1 and rss2 else None, ""

    runs = {
        ("first exact i32", "lainview"): lambda: whole_process([*lainview, "--value",
                                                                str(VALUE)]),
        ("first exact i32", "scanmem"): lambda: whole_process([*scanmem,
                                                               f"{level}{VALUE};exit"]),
        ("unknown, then changed", "lainview"): lainview_unknown_changed,
        ("unknown, then changed", "scanmem"): lambda: whole_process(
            [*scanmem, f"{level}snapshot;!=;exit"]),
    }
    best: dict[tuple[str, str], tuple[float, int | None]] = {}
    try:
        for _ in range(repeat):
            for key, fn in runs.items():
                seconds, rss, _out = fn()
                if key not in best or seconds < best[key][0]:
                    best[key] = (seconds, rss)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [(scan, tool, s, rss) for (scan, tool), (s, rss) in best.items()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    size = args.size_mib << 20
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(size)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    base = int(child.stdout.readline())
    planted = len(range(4096, size, 64 << 20))
    gib = size / 2**30
    backend = Backend()
    try:
        target = backend.attach(child.pid, writable=False).result()
        rows = part1(target, child.pid, base, size, args.repeat)
    finally:
        backend.shutdown()
    try:
        versus = part2(child.pid, args.repeat) if shutil.which("scanmem") else None
    finally:
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait()
    raw_s = rows[0][1]
    print(f"{args.size_mib} MiB child, {planted} planted i32 values; best of {args.repeat} "
          "interleaved rounds, page-aligned buffers on both sides")
    print(f"  {'':<34} {'GiB/s':>6}  {'ratio to raw':>12}")
    for name, seconds, note in rows:
        print(f"  {name:<34} {gib / seconds:6.2f}  {raw_s / seconds:12.2f}  {note}")
    if versus is None:
        print("scanmem is not installed (Debian package scanmem): no comparison")
        return
    print(f"whole processes against the same child (writable private areas), best of "
          f"{args.repeat}:")
    print(f"  {'scan':<24} {'tool':<9} {'time':>8} {'peak RSS':>10}")
    for scan, tool, seconds, rss in versus:
        peak = f"{rss / 2**20:7.0f} MiB" if rss is not None else "n/a (no GNU time)"
        print(f"  {scan:<24} {tool:<9} {seconds:7.2f}s {peak:>10}")
    for scan in dict.fromkeys(s for s, *_ in versus):
        mine = next(s for sc, t, s, _ in versus if sc == scan and t == "lainview")
        theirs = next(s for sc, t, s, _ in versus if sc == scan and t == "scanmem")
        print(f"  {scan}: scanmem takes {theirs / mine:.2f}x lainview's time")


if __name__ == "__main__":
    main()
