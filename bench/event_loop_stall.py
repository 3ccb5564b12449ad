"""The largest stall of the Qt event loop while the backend reads 1 GiB
from a child and the hex view refreshes that child at 10 Hz.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/event_loop_stall.py [SIZE_MIB]

A 1 ms QTimer records the gap between its ticks. Baseline: the same 10 Hz
refresh for 2 s with no bulk read. Goal: max stall under 20 ms.
"""

from __future__ import annotations

import asyncio
import sys
import time

from _gui_bench import GapMeter, attach, open_view, setup, start_child


def main() -> None:
    size = int(sys.argv[1]) << 20 if len(sys.argv) > 1 else 1 << 30
    app, loop = setup()
    child, address = start_child(size)

    async def run() -> None:
        backend, ws, view = await open_view(address, size)
        try:
            await attach(ws, child.pid, address, size, 10.0)
            meter = GapMeter()
            refreshes = ws.document.refresh_count
            meter.start()
            await asyncio.sleep(2.0)
            print(f"baseline, 10 Hz refresh only (2 s):        {meter.stop()}, "
                  f"{ws.document.refresh_count - refreshes} refreshes")
            target = ws.target.target
            refreshes = ws.document.refresh_count
            meter.start()
            started = time.perf_counter()
            stats = await asyncio.wrap_future(target.read_bulk(address, size))
            elapsed = time.perf_counter() - started
            print(f"bulk read {size >> 20} MiB + 10 Hz refresh:   {meter.stop()}, "
                  f"{ws.document.refresh_count - refreshes} refreshes")
            print(f"  bulk read took {elapsed:.2f} s ({size / elapsed / (1 << 30):.2f} GiB/s), "
                  f"{stats.unreadable} bytes unreadable")
            # The same 1 GiB through the search consumer (Ctrl+F), which runs
            # Python on the backend thread for every chunk.
            from lainview.models.jobs import start_search
            refreshes = ws.document.refresh_count
            meter.start()
            started = time.perf_counter()
            job, matcher = start_search(target, address, address + size, b"lainview!")
            await job.wait()
            elapsed = time.perf_counter() - started
            print(f"search {size >> 20} MiB + 10 Hz refresh:      {meter.stop()}, "
                  f"{ws.document.refresh_count - refreshes} refreshes")
            print(f"  search took {elapsed:.2f} s, {len(matcher.matches)} matches")
        finally:
            ws.stop()
            view.close()
            backend.shutdown()

    try:
        loop.run_until_complete(run())
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    main()
