"""The pointer-scan dock in the real window, against a compiled C child
holding a pointer chain (tests/c/pointer_chain.c): a scan started from a
watch entry finds the chain, a result goes to the watch list, and the
watch follows the chain when the child moves the value."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from lainview.backend.locations import locate
from lainview.models.pointer_scan_model import ADDRESS, PATH, VALUE as PTR_VALUE

from tests.models.qt_support import attach
from tests.pointer_chain_support import chain_child  # noqa: F401


def _scan_from_watch(qtbot, window, chain_child):  # noqa: F811
    ws = window.workspace
    attach(qtbot, ws, chain_child.pid)
    entry = ws.watch.add_address(chain_child.value, "u32", label="value")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    # The watch list's context menu: Find pointers to this…
    window.watch_docks.watch_panel.find_pointers.emit(entry)
    panel = window.features["pointer scan"].panel
    assert window.docks["pointer scan"].isVisible()
    assert f"{chain_child.value:#x}" in panel.goal.text() and "value" in panel.goal.text()
    panel.depth_box.setValue(3)
    task = panel.start()
    assert task is not None
    qtbot.waitUntil(task.done, timeout=60000)
    assert task.result() == "done", ws.pointers.last_message
    return ws, panel, entry


def test_a_scan_from_a_watch_entry_lists_the_chain(qtbot, window, chain_child):  # noqa: F811
    ws, panel, _entry = _scan_from_watch(qtbot, window, chain_child)
    model = panel.model
    assert model.rowCount() >= 1
    want = f"{locate(chain_child.info['global'], ws.target.areas).text}->+0x18->+0x8"
    texts = [model.data(model.index(r, PATH)) for r in range(model.rowCount())]
    assert want in texts, texts
    row = texts.index(want)
    # The visible rows are resolved and read: the address now and the value.
    qtbot.waitUntil(lambda: model.data(model.index(row, PTR_VALUE)) == "1000", timeout=10000)
    assert model.data(model.index(row, ADDRESS)) == f"{chain_child.value:012x}"
    assert "listed" in panel.summary.text()
    panel.table.selectRow(row)
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == want
