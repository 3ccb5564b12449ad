"""CPU cost of the hex view's live refresh: process CPU time (all threads:
GUI and backend) over 10 s with the view refreshing at 10 Hz, against a
baseline of the same window paused.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/refresh_cpu.py
"""

from __future__ import annotations

import asyncio
import os
import time

from _gui_bench import attach, open_view, setup, start_child

SECONDS = 10.0


def cpu() -> float:
    t = os.times()
    return t.user + t.system


async def measure(ws, seconds: float) -> tuple[float, int]:
    refreshes = ws.document.refresh_count
    c0, w0 = cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    c1, w1 = cpu(), time.perf_counter()
    return (c1 - c0) / (w1 - w0) * 100, ws.document.refresh_count - refreshes


def main() -> None:
    app, loop = setup()
    size = 64 << 20
    child, address = start_child(size)

    async def run() -> None:
        backend, ws, view = await open_view(address, size)
        try:
            await attach(ws, child.pid, address, size, 10.0)
            await asyncio.sleep(1.0)
            ws.document.set_paused(True)
            await asyncio.sleep(0.5)
            idle, _ = await measure(ws, SECONDS)
            print(f"baseline, window open, refresh paused: {idle:5.1f} % of one core")
            ws.document.set_paused(False)
            busy, n = await measure(ws, SECONDS)
            pages = len(ws.document.visible_pages())
            print(f"10 Hz live refresh ({pages} pages/refresh, {n} refreshes, repaint each): "
                  f"{busy:5.1f} % of one core  (+{busy - idle:.1f} %)")
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
