"""Read 1 GiB of a child's memory three ways and compare, in one run:

1. raw process_vm_readv, 1 MiB chunks, one reused buffer (the baseline);
2. raw preadv on /proc/<pid>/mem, same chunks;
3. lainview's backend bulk read, through the backend thread.

Fair by construction: every buffer on both sides is page-aligned (from
mmap: the kernel copies into a buffer 16 bytes past a page about 30 %
slower), the rows run interleaved (row 1, 2, 3, then again), and every
row runs the same number of times.

Usage: python bench/read_throughput.py [--size-mib 1024] [--repeat 5]
Prints GiB/s (best of N) for each and its ratio to raw process_vm_readv.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import time

from lainview.backend.memory import page_buffer
from lainview.backend.procfs import _IoVec
from lainview.backend.service import Backend

CHILD = r"""
import ctypes, mmap, sys
size = int(sys.argv[1])
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
buf = (ctypes.c_char * size).from_buffer(m)
ctypes.memset(buf, 0x5A, size)           # touch every page: resident, not zero-page
print(ctypes.addressof(buf), flush=True)
sys.stdin.readline()
"""

CHUNK = 1 << 20


def interleaved(rows: dict, repeat: int) -> dict[str, float]:
    """Best time of each row; the rows take turns, ``repeat`` rounds."""
    times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(repeat):
        for name, fn in rows.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: min(t) for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    size = args.size_mib << 20
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(size)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    base = int(child.stdout.readline())
    buf = page_buffer(CHUNK)                 # the same kind of buffer the backend reads into
    view = memoryview(buf)
    cbuf = (ctypes.c_char * CHUNK).from_buffer(buf)
    assert ctypes.addressof(cbuf) % 4096 == 0

    libc = ctypes.CDLL(None, use_errno=True)
    vm_readv = libc.process_vm_readv
    vm_readv.restype = ctypes.c_ssize_t
    local = _IoVec(ctypes.addressof(cbuf), CHUNK)
    remote = _IoVec(0, CHUNK)

    def raw_vm_readv():
        # The syscall straight from ctypes, iovecs built once: no lainview code.
        for off in range(0, size, CHUNK):
            remote.iov_base = base + off
            assert vm_readv(child.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) \
                == CHUNK

    fd = os.open(f"/proc/{child.pid}/mem", os.O_RDONLY)

    def raw_pread():
        for off in range(0, size, CHUNK):
            assert os.preadv(fd, [view], base + off) == CHUNK

    backend = Backend()
    try:
        target = backend.attach(child.pid, writable=False).result()

        def lainview_bulk():
            stats = target.read_bulk(base, size).result()
            assert stats.unreadable == 0

        bulk_name = f"lainview bulk read ({target.info.backend})"
        results = interleaved({"raw process_vm_readv": raw_vm_readv,
                               "raw pread /proc/<pid>/mem": raw_pread,
                               bulk_name: lainview_bulk}, args.repeat)
    finally:
        backend.shutdown()
        os.close(fd)
        del cbuf, view
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait()
    gib = size / (1 << 30)
    baseline = results["raw process_vm_readv"]
    print(f"read {args.size_mib} MiB in 1 MiB chunks into page-aligned buffers, "
          f"best of {args.repeat} interleaved runs each:")
    print(f"  {'':<34} {'GiB/s':>6}   ratio to raw process_vm_readv")
    for name, seconds in results.items():
        print(f"  {name:<34} {gib / seconds:6.2f}   {baseline / seconds:5.2f}")
    print(f"backend / raw process_vm_readv = {baseline / results[bulk_name]:.2f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
