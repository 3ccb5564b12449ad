"""Scanner throughput on a 1 GiB child with planted matches, in one run.

Prints, each against the raw process_vm_readv read of the same memory:
- raw process_vm_readv GiB/s (1 MiB chunks, reused buffer: the baseline);
- the first exact i32 scan, end to end through the backend thread;
- the any-offset i32 scan;
- the "changed" next scan after an unknown-initial-value first scan;
- the peak extra memory (RSS) of the unknown-initial first scan.

Usage: python bench/scan.py [--size-mib 1024] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ctypes
import subprocess
import sys
import threading
import time

import psutil

from lainview.backend.procfs import _IoVec
from lainview.backend.scan import AreaFilter, Mode, ScanType, make_condition
from lainview.backend.service import Backend

CHILD = r"""
import ctypes, mmap, sys
size = int(sys.argv[1])
m = mmap.mmap(-1, size)
buf = (ctypes.c_char * size).from_buffer(m)
ctypes.memset(buf, 0x11, size)
value = (123456789).to_bytes(4, "little")
for off in range(4096, size, 64 << 20):       # one planted i32 every 64 MiB
    buf[off:off + 4] = value
print(ctypes.addressof(buf), flush=True)
sys.stdin.readline()
"""


def timed(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


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

    chunk = 1 << 20
    buf = bytearray(chunk)
    cbuf = (ctypes.c_char * chunk).from_buffer(buf)
    libc = ctypes.CDLL(None, use_errno=True)
    vm_readv = libc.process_vm_readv
    vm_readv.restype = ctypes.c_ssize_t
    local, remote = _IoVec(ctypes.addressof(cbuf), chunk), _IoVec(0, chunk)

    def raw():
        for off in range(0, size, chunk):
            remote.iov_base = base + off
            assert vm_readv(child.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) == chunk

    backend = Backend()
    rows = []
    try:
        target = backend.attach(child.pid, writable=False).result()
        only = AreaFilter(ranges=((base, base + size),))
        i32 = ScanType("i32")
        exact = make_condition(i32, Mode.EXACT, "123456789")
        raw_s, _ = timed(raw, args.repeat)
        rows.append(("raw process_vm_readv", raw_s, ""))
        s, state = timed(lambda: target.scan_first(i32, exact, areas=only).result(), args.repeat)
        assert state.count == planted, (state.count, planted)
        rows.append(("first exact i32 scan (backend)", s, f"{state.count} matches"))
        s, state = timed(lambda: target.scan_first(i32, exact, align=1, areas=only).result(), 1)
        assert state.count == planted
        rows.append(("any-offset i32 scan", s, f"{state.count} matches"))
        with PeakRss() as rss:
            s, unknown = timed(lambda: target.scan_first(i32, make_condition(i32, Mode.UNKNOWN),
                                                         areas=only).result(), 1)
        rows.append(("unknown-initial first scan", s,
                     f"peak extra RSS {(rss.peak - rss.start) / 2**20:.0f} MiB, "
                     f"{unknown.disk_bytes / 2**20:.0f} MiB on disk, "
                     f"{unknown.memory_bytes / 2**20:.0f} MiB of candidates in memory"))
        s, changed = timed(lambda: target.scan_next(unknown, make_condition(i32, Mode.CHANGED))
                           .result(), 1)
        rows.append(("'changed' next scan (dense)", s, f"{changed.count} matches"))
        unknown.close()
    finally:
        backend.shutdown()
        del cbuf
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait()
    print(f"{args.size_mib} MiB child, {planted} planted i32 values")
    for name, seconds, note in rows:
        print(f"  {name:<32} {gib / seconds:6.2f} GiB/s  ratio to raw {raw_s / seconds:5.2f}  {note}")


if __name__ == "__main__":
    main()
