"""The largest stall of the Qt event loop while the scanner dock scans a
1 GiB child, with the whole window open: the hex view refreshing at 10 Hz,
the scanner's progress bar polled at 10 Hz, and the match table filled and
refreshed when the scan ends.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/scan_gui_stall.py [--size-mib 1024] [--repeat 3]

A 1 ms QTimer records the gap between its ticks (see event_loop_stall.py).
On a shared machine much of a gap can be the GUI thread waiting for a CPU
while other processes run; the kernel counts that time
(/proc/self/task/TID/schedstat), so each figure is also given without it:
the stall the program itself caused (GUI work, or waiting for the GIL).
Three scans, each from the Scanner dock's controller as the buttons start
them: a first exact i32 scan (sparse results), an unknown-initial-value
first scan (every position a match: a dense state, the table at its row
limit), then a "changed" next scan of that; the three, --repeat times.
Goal: max stall under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import threading
import time

from _gui_bench import GapMeter, setup

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


class StallMeter(GapMeter):
    """Gaps between 1 ms ticks, and how much of each the GUI thread spent
    runnable but without a CPU."""

    def __init__(self):
        super().__init__()
        self._schedstat = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self._cpu_wait = self._waited()
        self.own: list[float] = []

    def _waited(self) -> float:
        try:
            with open(self._schedstat) as f:
                return int(f.read().split()[1]) / 1e9
        except OSError:
            return 0.0

    def tick(self) -> None:
        now = time.perf_counter()
        waited = self._waited()
        self.own.append(max(0.0, (now - self.last) - (waited - self._cpu_wait)))
        self._cpu_wait = waited
        super().tick()

    def start(self) -> None:
        self.own.clear()
        self._cpu_wait = self._waited()
        super().start()

    def measure(self) -> tuple[float, float, float]:
        """Stop; (max stall, max stall without CPU waits, p99 stall) in ms."""
        self.timer.stop()
        gaps, own = sorted(self.gaps), sorted(self.own)
        return gaps[-1] * 1000, own[-1] * 1000, gaps[int(len(gaps) * 0.99)] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    size = args.size_mib << 20
    app, loop = setup()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(size)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    base = int(child.stdout.readline())
    phases = ["baseline: window open, no scan (2 s)",
              f"first exact i32 scan, {size >> 20} MiB",
              f"unknown-initial u32 scan, {size >> 20} MiB",
              "'changed' next scan of that"]
    results: dict[str, list[tuple[float, float, float]]] = {p: [] for p in phases}
    notes: dict[str, str] = {}

    async def run() -> None:
        from lainview.backend.scan import AreaFilter, Mode
        from lainview.backend.service import Backend
        from lainview.models.workspace import Workspace
        from lainview.ui.main_window import MainWindow
        backend = Backend()
        ws = Workspace(backend)
        window = MainWindow(ws)
        window.resize(1600, 920)
        window.show()
        try:
            await window.attach_and_open(child.pid, base)
            scanner = ws.scanner
            only = AreaFilter(ranges=((base, base + size),))
            meter = StallMeter()
            await asyncio.sleep(1.0)            # the first paints and map refresh settle

            async def timed(phase: str, start) -> None:
                meter.start()
                t0 = time.perf_counter()
                if start is None:
                    await asyncio.sleep(2.0)
                else:
                    await start()
                    elapsed = time.perf_counter() - t0
                    # The table fills and its visible values are read: keep measuring.
                    await asyncio.sleep(0.5)
                    state = scanner.state
                    notes[phase] = (f"{state.count:,} matches, {size / elapsed / 2**30:.2f} "
                                    f"GiB/s end to end, {scanner.matches.rowCount():,} rows "
                                    f"({scanner.matches.materialised_rows} made)")
                results[phase].append(meter.measure())

            for _ in range(args.repeat):
                await timed(phases[0], None)
                await timed(phases[1], lambda: scanner.first_scan(
                    "i32", Mode.EXACT, "123456789", areas=only))
                await timed(phases[2], lambda: scanner.first_scan("u32", Mode.UNKNOWN,
                                                                   areas=only))
                await timed(phases[3], lambda: scanner.next_scan(Mode.CHANGED))
        finally:
            ws.stop()
            window.hide()
            backend.shutdown()
            window.deleteLater()

    try:
        loop.run_until_complete(run())
    finally:
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait()
    print(f"GUI event-loop stalls (1 ms timer), window open, {size >> 20} MiB child, "
          f"{args.repeat} runs; in ms")
    print(f"  {'':40} {'max stall':>10} {'own':>6} {'p99':>6}   (own: without waits for a CPU; "
          "per run)")
    for phase in phases:
        runs = results[phase]
        worst = max(r[0] for r in runs)
        own = max(r[1] for r in runs)
        p99 = statistics.median(r[2] for r in runs)
        per_run = " ".join(f"{r[0]:.0f}/{r[1]:.0f}" for r in runs)
        print(f"  {phase:<40} {worst:10.1f} {own:6.1f} {p99:6.1f}   runs: {per_run}")
        if phase in notes:
            print(f"  {'':40} {notes[phase]}")


if __name__ == "__main__":
    main()
