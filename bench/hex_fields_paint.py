"""Paint cost of a placed structure's field tints in the hex view: the
same 1080p viewport of the demo (a real process, the page cache filled,
refresh paused) repainted with no structure placed (the baseline, same run)
and with a structure whose fields (1, 2, 4 and 8 bytes, about 1,300 of
them) cover every byte on screen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/hex_fields_paint.py

Prints the median and 95th percentile of a repaint, and the ratio of the
medians to the baseline, at 16 and 32 bytes per row.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys

from PySide6.QtWidgets import QApplication

from hexview_paint import fmt, measure

FIELDS = ["uint32_t", "uint8_t", "uint8_t", "uint16_t", "uint64_t"]


def header(size: int) -> str:
    """A packed-enough struct of mixed small fields, ``size`` bytes at least."""
    per = 16
    count = size // per + 1
    body = " ".join(f"{t} f{i}_{j};" for i in range(count) for j, t in enumerate(FIELDS))
    return f"struct cover {{ {body} }};"


def main() -> None:
    app = QApplication.instance() or QApplication([])
    import qasync
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    demo = subprocess.Popen([sys.executable, "-m", "lainview.demo_target"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    layout = json.loads(demo.stdout.readline().split(" ", 1)[1])
    from lainview.backend.service import Backend
    from lainview.models.field_overlay import FieldOverlay
    from lainview.models.structure_model import StructureModel
    from lainview.models.workspace import Workspace
    from lainview.ui.hex_view import HexView
    backend = Backend()
    ws = Workspace(backend)
    view = HexView(ws.document, ws.cursor)
    view.resize(1920, 1080)
    view.show()
    model = StructureModel(ws.document)
    overlay = FieldOverlay(model)

    async def run() -> None:
        await ws.attach(layout["pid"])
        ws.open_span(layout["base"], layout["base"] + layout["size"], "demo", layout["base"])
        ws.document.set_paused(True)
        view.set_field_source(overlay)
        for bpr in (16, 32):
            view.set_bytes_per_row(bpr)
            view.set_first_row(0)
            ws.document.refresh_now()
            while not all(p in ws.document.pages for p in ws.document.visible_pages()):
                await asyncio.sleep(0.01)
            rows = view.layout_.visible_rows(view._rows_height())
            model.clear()
            base = measure(view)
            model.set_declarations(header(rows * bpr))
            model.place("struct cover", layout["base"])
            spans = len(overlay.spans_in(layout["base"], layout["base"] + rows * bpr))
            tinted = measure(view)
            ratio = statistics.median(tinted) / statistics.median(base)
            print(f"{rows} rows x {bpr} bytes/row, no structure:  {fmt(base)}")
            print(f"  {spans} fields tinted on screen:        {fmt(tinted)}   "
                  f"ratio {ratio:.2f}x")

    try:
        loop.run_until_complete(run())
    finally:
        model.stop()
        ws.stop()
        view.close()
        backend.shutdown()
        demo.kill()
        demo.wait()


if __name__ == "__main__":
    main()
