"""Benchmark: the kernel browser's Type field, one keystroke at a time,
over every type name of /sys/kernel/btf/vmlinux (offscreen, real widgets):
the search, the completer's list and its popup, each key's events
processed. Against a plain QLineEdit (no completer) typed the same keys in
the same run.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ktype_ahead_gui.py

Goal (issue 14): type-ahead at most 16 ms per keystroke. Wall time per key
(median and worst of the words typed), and the ratio to the baseline.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WORDS = ("uts_namespace", "task_struct", "e", "list_h")


def main() -> int:
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit

    from lainview.backend.service import Backend
    from lainview.models.kernel_workspace import KernelWorkspace
    from lainview.ui.symbol_browser import SymbolBrowser

    app = QApplication.instance() or QApplication(sys.argv)
    backend = Backend()
    try:
        ws = KernelWorkspace(backend, source="kallsyms")
        types = ws.kernel.types().result()
        if not types.available:
            print(f"no types here: {types.why_none()}")
            return 1
        ws.typing.types = types                  # as the browser's loading sets it
        browser = SymbolBrowser(ws)
        browser.resize(1280, 720)
        browser.show()
        edit = browser.value.type_edit
        edit.setEnabled(True)
        plain = QLineEdit()
        plain.show()

        def per_key(widget) -> list[float]:
            out = []
            for word in WORDS:
                widget.clear()
                widget.setFocus()
                for ch in word:
                    t = time.perf_counter()
                    QTest.keyClick(widget, ch)
                    app.processEvents()
                    out.append((time.perf_counter() - t) * 1e3)
            return out
        per_key(edit)                            # warm: fonts, the popup's first show
        typed = per_key(edit)
        base = per_key(plain)
        names = len(types.btf.names()) if types.btf is not None else 0
        print(f"{names} BTF type names; {len(typed)} keystrokes of {', '.join(WORDS)}")
        print(f"Type field (search + list + popup): median {statistics.median(typed):.2f} ms, "
              f"worst {max(typed):.2f} ms")
        print(f"plain QLineEdit (baseline):         median {statistics.median(base):.2f} ms, "
              f"worst {max(base):.2f} ms")
        print(f"ratio of medians: {statistics.median(typed) / statistics.median(base):.1f}x")
        browser.close()
        ws.stop()
    finally:
        backend.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
