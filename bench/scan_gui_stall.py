"""The largest stall of the Qt event loop while the scanner dock scans a
1 GiB child, with the whole window open: the hex view refreshing at 10 Hz,
the scanner's progress bar polled at 10 Hz, and the match table filled and
refreshed when the scan ends.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/scan_gui_stall.py [SIZE_MIB]

A 1 ms QTimer records the gap between its ticks (see event_loop_stall.py).
On a shared machine much of a gap can be the GUI thread waiting for a CPU
while other processes run; the kernel counts that time
(/proc/self/task/TID/schedstat), so each figure is also given without it:
the stall the program itself caused (GUI work, or waiting for the GIL).
Three scans, each from the Scanner dock's controller as the buttons start
them: a first exact i32 scan (sparse results), an unknown-initial-value
first scan (every position a match: a dense state, the table at its row
limit), then a "changed" next scan of that. Goal: max stall under 20 ms.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

from _gui_bench import setup
from event_loop_stall import GapMeter

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

    def stop(self) -> str:
        text = super().stop()
        own = sorted(self.own)
        return f"{text}\n{'':48}without waits for a CPU: max {own[-1] * 1000:6.1f} ms   " \
               f"p99 {own[int(len(own) * 0.99)] * 1000:5.1f} ms"


def main() -> None:
    size = int(sys.argv[1]) << 20 if len(sys.argv) > 1 else 1 << 30
    app, loop = setup()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(size)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    base = int(child.stdout.readline())

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
            panel = window.scanner_panel
            scanner = ws.scanner
            only = AreaFilter(ranges=((base, base + size),))
            meter = StallMeter()
            await asyncio.sleep(1.0)            # the first paints and map refresh settle
            meter.start()
            await asyncio.sleep(2.0)
            print(f"baseline, window open, 10 Hz hex refresh (2 s):   {meter.stop()}")

            async def timed(label: str, start) -> None:
                meter.start()
                t0 = time.perf_counter()
                task = start()
                await task
                # The table fills and its visible values are read: keep measuring.
                await asyncio.sleep(0.5)
                elapsed = time.perf_counter() - t0 - 0.5
                state = scanner.state
                print(f"{label:<46} {meter.stop()}")
                print(f"  {state.count:,} matches, {size / elapsed / 2**30:.2f} GiB/s "
                      f"end to end, {scanner.matches.rowCount():,} rows, "
                      f"{scanner.matches.materialised_rows} made; {scanner.last_message}")

            await timed(f"first exact i32 scan of {size >> 20} MiB:",
                        lambda: scanner.first_scan("i32", Mode.EXACT, "123456789", areas=only))
            await timed(f"unknown-initial u32 scan of {size >> 20} MiB:",
                        lambda: scanner.first_scan("u32", Mode.UNKNOWN, areas=only))
            await timed("'changed' next scan:", lambda: scanner.next_scan(Mode.CHANGED))
            assert panel.model is scanner.matches
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


if __name__ == "__main__":
    main()
