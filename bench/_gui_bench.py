"""Shared set-up for the GUI benchmarks: a child with a large anonymous
mapping, a qasync loop, a backend and a hex view refreshing it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

CHILD = r"""
import ctypes, mmap, sys
size = int(sys.argv[1])
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
m[0:4096] = bytes(range(256)) * 16
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
print(hex(addr), flush=True)
sys.stdin.read()
"""


class GapMeter:
    """The gaps between ticks of a 1 ms timer on the GUI thread: each gap
    longer than 1 ms is time the event loop could not run."""

    def __init__(self, *, cpu: bool = False):
        from PySide6.QtCore import QTimer
        self.with_cpu = cpu
        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(1)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def start(self) -> None:
        self.gaps.clear()
        self.last = time.perf_counter()
        self.cpu = time.process_time()
        self.wall = time.perf_counter()
        self.timer.start()

    def stop(self) -> str:
        """Stop; the largest gap and the 99th percentile (and the process's
        CPU use, if asked for) as one line."""
        self.timer.stop()
        g = sorted(self.gaps)
        text = f"max stall {g[-1] * 1000:6.1f} ms   p99 {g[int(len(g) * 0.99)] * 1000:5.1f} ms"
        if self.with_cpu:
            cpu = (time.process_time() - self.cpu) / (time.perf_counter() - self.wall)
            return f"{text}   CPU {cpu * 100:4.1f} %"
        return f"{text}   ({len(g)} ticks)"


def start_child(size: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(size)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline(), 16)


def setup():
    from PySide6.QtWidgets import QApplication
    import qasync
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    return app, loop


async def open_view(address: int, size: int, hz: float = 10.0):
    from lainview.backend.service import Backend
    from lainview.models.workspace import Workspace
    from lainview.ui.hex_view import HexView
    backend = Backend()
    ws = Workspace(backend)
    view = HexView(ws.document, ws.cursor)
    view.resize(1280, 900)
    view.show()
    return backend, ws, view


async def attach(ws, pid: int, address: int, size: int, hz: float) -> None:
    from lainview.backend.memory import area_at
    await ws.attach(pid)
    area = area_at(ws.target.areas, address)
    ws.open_area(area, address)
    ws.document.set_refresh_rate(hz)
