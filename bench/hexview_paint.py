"""Paint time of the hex view filling a 1080p viewport, from a filled page
cache (a real demo process), offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/hexview_paint.py

Prints the median and 95th percentile of paintEvent for 16 and 32 bytes
per row, with a baseline: painting the same viewport empty (no area open).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication


def measure(view, repeats: int = 60, cold: bool = False) -> list[float]:
    """Repaint the same viewport (rows reused from the view's row-image
    cache, as in a live refresh), or with ``cold`` every row painted afresh
    (as after a jump)."""
    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for _ in range(repeats):
        if cold:
            view.clear_row_cache()
        started = time.perf_counter()
        view.viewport().render(image)
        times.append(time.perf_counter() - started)
    return times


def fmt(times: list[float]) -> str:
    times = sorted(times)
    return (f"median {statistics.median(times) * 1000:6.2f} ms   "
            f"p95 {times[int(len(times) * 0.95)] * 1000:6.2f} ms")


def main() -> None:
    app = QApplication.instance() or QApplication([])
    import qasync
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    demo = subprocess.Popen([sys.executable, "-m", "lainview.demo_target"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    layout = json.loads(demo.stdout.readline().split(" ", 1)[1])
    from lainview.backend.service import Backend
    from lainview.models.workspace import Workspace
    from lainview.ui.hex_view import HexView
    backend = Backend()
    ws = Workspace(backend)
    view = HexView(ws.document, ws.cursor)
    view.resize(1920, 1080)
    view.show()

    async def run() -> None:
        print(f"viewport {view.viewport().width()}x{view.viewport().height()} px, "
              f"font {view.font().family()} {view.font().pointSizeF()} pt")
        print(f"baseline (no area open):  {fmt(measure(view))}")
        await ws.attach(layout["pid"])
        ws.open_span(layout["base"], layout["base"] + layout["size"], "demo", layout["base"])
        ws.document.set_paused(True)
        for bpr in (16, 32):
            view.set_bytes_per_row(bpr)
            view.set_first_row(0)
            ws.document.refresh_now()
            while not all(p in ws.document.pages for p in ws.document.visible_pages()):
                await asyncio.sleep(0.01)
            rows = view.layout_.visible_rows(view._rows_height())
            print(f"{rows} rows x {bpr} bytes ({rows * bpr} cells): {fmt(measure(view))}")
            print(f"  same, every row painted afresh:  {fmt(measure(view, cold=True))}")
        # The worst case for cell states: half the screen is the ?? guard page.
        view.set_bytes_per_row(16)
        ws.document.set_visible(layout["guard"] - 0x200, layout["guard"] + 0x200)
        view.ensure_visible(layout["guard"] + 0x180)
        ws.document.refresh_now()
        await asyncio.sleep(0.3)
        print(f"16 bytes/row, half ?? rows:  {fmt(measure(view))}")
        print(f"  same, every row painted afresh:  {fmt(measure(view, cold=True))}")

    try:
        loop.run_until_complete(run())
    finally:
        ws.stop()
        view.close()
        backend.shutdown()
        demo.kill()
        demo.wait()


if __name__ == "__main__":
    main()
