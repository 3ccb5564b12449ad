"""The pointer scanner on a 1 GiB target with a realistic density of pointers.

The child maps 1 GiB of anonymous memory and fills it like a heap: most
8-byte words are small integers, zeros or doubles, and one word in
``--every`` (default 32: about 3 %, 4 Mi pointers in 1 GiB) points to an
8-byte aligned address inside the same GiB; a chain of five pointers from
its .bss-like first page leads to a target word. Then, in one run:

1. raw ``process_vm_readv`` of every byte the map reads (same areas, 1 MiB
   chunks, one page-aligned buffer): the baseline, best of ``--repeat``;
2. the pointer map through the backend thread (``Target.pointer_map``),
   overlapped (``PtrScanLimits(overlap=True)``: a worker thread finds chunk N's pointers while the backend
   thread reads chunk N+1) and inline (the default),
   interleaved with 1, ``--repeat`` times each: rate and ratio to 1 of the
   same round (goal ≥ 0.5×), median and best, and the ratio of CPU time
   (this process's, all threads), which a loaded machine disturbs less;
3. peak memory: each map variant in a fresh interpreter (``VmHWM`` minus
   its RSS before the map; ``ru_maxrss`` would count the forked parent's), with the default in-memory budget and with a
   small budget that spills to files;
4. a depth-5 search (max offset 0x1000) from the target word.

Usage: python bench/ptrscan.py [--size-mib 1024] [--every 32] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

CHILD = r"""
import ctypes, mmap, sys
import numpy as np
size, every = int(sys.argv[1]), int(sys.argv[2])
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
buf = (ctypes.c_char * size).from_buffer(m)
base = ctypes.addressof(buf)
words = np.frombuffer(m, dtype=np.uint64)
rng = np.random.default_rng(1)
step = 1 << 22
for lo in range(0, len(words), step):
    n = min(step, len(words) - lo)
    w = rng.integers(0, 4096, n, dtype=np.uint64)          # small integers
    w[rng.random(n) < 0.3] = 0                               # zeros
    d = rng.random(n) < 0.05
    w[d] = np.float64(rng.random(int(d.sum())) * 1e3).view(np.uint64)   # doubles
    p = rng.random(n) < 1.0 / every
    w[p] = np.uint64(base) + rng.integers(0, size // 8, int(p.sum()), dtype=np.uint64) * 8
    words[lo:lo + n] = w
# A chain of five pointers from the first word to a target near the end
# (the search walks it; the mapping is anonymous, so it is no static base).
target = base + size - 4096 + 0x28
at = base
hops = [base + size // 2 + i * (size // 16) for i in range(4)]
for hop in hops:
    words[(at - base) // 8] = hop - 0x10
    at = hop
words[(at - base) // 8] = target - 0x8
print(base, target, flush=True)
sys.stdin.readline()
"""

ROW = r"""
import json, sys
from lainview.backend import pointer_scan as ps
from lainview.backend.service import Backend
pid, budget = int(sys.argv[1]), int(sys.argv[2])
def status_kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
with Backend() as b:
    t = b.attach(pid, writable=False).result()
    t.areas().result()
    before = status_kib("VmRSS")
    pmap = t.pointer_map(ps.PtrScanLimits(memory=budget)).result()
    # VmHWM, not ru_maxrss: exec keeps the forked parent's peak in ru_maxrss.
    peak = status_kib("VmHWM")
    print(json.dumps({"pointers": pmap.count, "memory": pmap.memory_bytes,
                      "disk": pmap.disk_bytes, "peak_growth_kib": peak - before}))
    b.close_pointer_map(pmap).result()
"""

CHUNK = 1 << 20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--every", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    size = args.size_mib << 20

    from lainview.backend import pointer_scan as ps
    from lainview.backend.memory import page_buffer
    from lainview.backend.procfs import _IoVec
    from lainview.backend.service import Backend

    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(size), str(args.every)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    base, target_word = map(int, child.stdout.readline().split())
    print(f"child ready in {time.perf_counter() - t0:.1f} s: {args.size_mib} MiB, one word in "
          f"{args.every} a pointer")
    backend = Backend()
    try:
        target = backend.attach(child.pid, writable=False).result()
        chosen = ps.scanned_areas(target.areas().result())
        total = sum(a.size for a in chosen)
        buf = page_buffer(CHUNK)
        cbuf = (ctypes.c_char * CHUNK).from_buffer(buf)
        libc = ctypes.CDLL(None, use_errno=True)
        vm_readv = libc.process_vm_readv
        vm_readv.restype = ctypes.c_ssize_t
        local = _IoVec(ctypes.addressof(cbuf), CHUNK)
        remote = _IoVec(0, CHUNK)

        def raw() -> None:
            for area in chosen:
                for at in range(area.start, area.end, CHUNK):
                    n = min(CHUNK, area.end - at)
                    remote.iov_base, remote.iov_len, local.iov_len = at, n, n
                    vm_readv(child.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)

        maps: list = []

        def build(limits: "ps.PtrScanLimits") -> None:
            pmap = target.pointer_map(limits).result()
            if maps:
                backend.close_pointer_map(maps.pop()).result()
            maps.append(pmap)

        variants = {"map, overlapped": ps.PtrScanLimits(overlap=True),
                    "map, inline": ps.PtrScanLimits(overlap=False)}
        wall: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        raw_wall: list[float] = []
        loads = []
        for _ in range(args.repeat):
            for name, limits in variants.items():
                # Each map against a raw read just before it: same round, same load.
                t0, c0 = time.perf_counter(), time.process_time()
                raw()
                r_wall, r_cpu = time.perf_counter() - t0, time.process_time() - c0
                t0, c0 = time.perf_counter(), time.process_time()
                build(limits)
                m_wall, m_cpu = time.perf_counter() - t0, time.process_time() - c0
                raw_wall.append(r_wall)
                wall[name].append(r_wall / m_wall)
                cpu[name].append(r_cpu / m_cpu)
            loads.append(float(open("/proc/loadavg").read().split()[0]))
        pmap = maps[0]
        gib = total / (1 << 30)
        raw_s = statistics.median(raw_wall)
        print(f"read {total >> 20} MiB (every readable, writable area), {args.repeat} rounds, "
              f"load average {min(loads):.1f}-{max(loads):.1f} on "
              f"{len(os.sched_getaffinity(0))} CPUs:")
        print(f"  raw process_vm_readv  median {gib / raw_s:5.2f} GiB/s, best "
              f"{gib / min(raw_wall):5.2f} GiB/s")
        for name in variants:
            w, c = wall[name], cpu[name]
            print(f"  {name:17s} ratio to the raw read: median {statistics.median(w):.2f}, "
                  f"best {max(w):.2f} (goal >= 0.5; rounds: "
                  f"{' '.join(f'{x:.2f}' for x in w)}); CPU time ratio median "
                  f"{statistics.median(c):.2f}")
        print(f"  map: {pmap.count:,} pointers, {pmap.memory_bytes / (1 << 20):.0f} MiB in memory")
        t0 = time.perf_counter()
        result = target.pointer_scan(target_word, depth=5, max_offset=0x1000, limit=1000,
                                     pointer_map=pmap).result()
        search_s = time.perf_counter() - t0
        print(f"depth-5 search (max offset 0x1000): {search_s:.2f} s, {result.total:,} paths "
              f"from static bases (by depth {result.by_depth}), cut at "
              f"{ps.MAX_NODES:,} addresses a level: {result.cut}")
        backend.close_pointer_map(pmap).result()
        maps.clear()
        for label, budget in (("default budget (256 MiB)", ps.PtrScanLimits().memory),
                              ("32 MiB budget (spills)", 32 << 20)):
            out = subprocess.run([sys.executable, "-c", ROW, str(child.pid), str(budget)],
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout)
            print(f"peak memory, {label}: +{row['peak_growth_kib'] / 1024:.0f} MiB RSS "
                  f"(map {row['memory'] >> 20} MiB in memory, {row['disk'] >> 20} MiB on disk)")
    finally:
        backend.shutdown()
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait()
    load = open("/proc/loadavg").read().split()[:3]
    print(f"load average during the run: {' '.join(load)} on {len(os.sched_getaffinity(0))} CPUs")


if __name__ == "__main__":
    main()
