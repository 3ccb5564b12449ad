"""The watch list and the plot under load: 100 watched values refreshed at
10 Hz, 10 of them plotted at 20 Hz, against a child that changes all of
them continuously.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/watch.py [SECONDS]

Prints the largest event-loop stall (a 1 ms QTimer records the gaps between
its ticks), the CPU use of this process (all threads: GUI and backend), the
refresh and sampling rates achieved, and the plot's frame time. Baseline:
the same window with the watch list paused. Goal: max stall under 20 ms.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from _gui_bench import GapMeter, setup

CHILD = r"""
import ctypes, mmap, sys, time
m = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
values = (ctypes.c_int32 * 100).from_buffer(m)
print(hex(addr), flush=True)
n = 0
while True:
    n += 1
    for i in range(100):
        values[i] = (n * (i + 1)) % 100000
    time.sleep(0.005)
"""


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    app, loop = setup()
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    address = int(child.stdout.readline(), 16)

    async def run() -> None:
        from lainview.backend.service import Backend
        from lainview.models.workspace import Workspace
        from lainview.ui.plot_panel import PlotPanel
        from lainview.ui.watch_panel import WatchPanel
        backend = Backend()
        ws = Workspace(backend)
        watch = ws.watch
        watch_panel, plot_panel = WatchPanel(watch), PlotPanel(watch)
        watch_panel.resize(900, 700)
        plot_panel.resize(900, 500)
        watch_panel.show()
        plot_panel.show()
        try:
            await ws.attach(child.pid)
            watch.set_paused(True)
            entries = [watch.add_address(address + 4 * i, "i32", label=f"v{i}")
                       for i in range(100)]
            for entry in entries[:10]:
                watch.set_plotted(entry, True)
            meter = GapMeter(cpu=True)
            meter.start()
            await asyncio.sleep(2.0)
            print(f"baseline, watch paused (2 s):                   {meter.stop()}")
            watch.set_paused(False)
            ticks, skipped, frames = watch.ticks, watch.skipped_ticks, plot_panel.frames
            first = entries[0]
            count0 = 0
            frame_times: list[float] = []
            plot_panel._timer.timeout.connect(
                lambda: frame_times.append(plot_panel.last_frame_seconds))
            meter.start()
            started = time.perf_counter()
            await asyncio.sleep(0.5)
            count0 = watch.history.trace(first.key).count
            t0 = time.perf_counter()
            await asyncio.sleep(seconds)
            elapsed = time.perf_counter() - started
            result = meter.stop()
            rate = (watch.history.trace(first.key).count - count0) / (time.perf_counter() - t0)
            unplotted_fresh = entries[50].data is not None
            print(f"100 watched at 10 Hz, 10 plotted at 20 Hz ({seconds:g} s): {result}")
            print(f"  {watch.ticks - ticks} batched reads ({(watch.ticks - ticks) / elapsed:.1f}"
                  f"/s, one per tick), {watch.skipped_ticks - skipped} ticks skipped while a "
                  f"read was out; plotted traces sampled at {rate:.1f} Hz; "
                  f"unplotted values {'fresh' if unplotted_fresh else 'MISSING'}")
            drawn = [t for t in frame_times if t]
            print(f"  plot: {plot_panel.frames - frames} frames "
                  f"({(plot_panel.frames - frames) / elapsed:.1f}/s), "
                  f"{sum(drawn) / max(len(drawn), 1) * 1000:.2f} ms mean, "
                  f"{max(drawn, default=0) * 1000:.2f} ms max per frame (10 traces)")
        finally:
            ws.stop()
            plot_panel.stop()
            backend.shutdown()

    try:
        loop.run_until_complete(run())
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    main()
