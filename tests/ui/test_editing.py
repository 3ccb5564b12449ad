"""Editing in the real window against the demo target, whose counter changes
every 100 ms: what the user types is what is written, once, and journaled
once (issue 12, "never lose what the user types" and "one edit, one journal
entry")."""

from __future__ import annotations

import struct

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from lainview.models.formats import INSPECTOR_TYPES
from lainview.models.inspector_model import LITTLE
from lainview.models.watch_model import VALUE

from tests.models.qt_support import open_demo_window

U64_ROW = [name for name, _, _ in INSPECTOR_TYPES].index("u64")


def _journal(ws, pid):
    return ws.backend.journal_entries(pid).result()


def _type_slowly(qtbot, editor, text: str, refreshed) -> None:
    """One key per live refresh: ``refreshed()`` is a counter that must move
    between keystrokes (so every key lands after at least one update)."""
    for ch in text:
        before = refreshed()
        qtbot.waitUntil(lambda: refreshed() >= before + 2, timeout=10000)
        qtbot.keyClicks(editor, ch)
    before = refreshed()
    qtbot.waitUntil(lambda: refreshed() >= before + 2, timeout=10000)


def _open_editor(qtbot, table, index) -> QLineEdit:
    table.setFocus()
    table.setCurrentIndex(index)
    table.edit(index)
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit), timeout=5000)
    editor = QApplication.focusWidget()
    editor.selectAll()
    return editor


def test_inspector_editor_keeps_what_is_typed_while_the_counter_changes(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    ws.cursor.move_to(demo.counter)
    table = window.inspector_panel.table
    index = ws.inspector.index(U64_ROW, LITTLE)
    qtbot.waitUntil(lambda: index.data() not in ("…", "??"), timeout=10000)
    editor = _open_editor(qtbot, table, index)
    _type_slowly(qtbot, editor, "100", lambda: ws.document.refresh_count)
    assert editor.text() == "100"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(_journal(ws, demo.pid)) == 1, timeout=10000)
    entry = _journal(ws, demo.pid)[0]
    assert (entry.address, entry.new) == (demo.counter, struct.pack("<Q", 100))


def test_watch_editor_keeps_what_is_typed_while_the_counter_changes(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    entry = ws.watch.add_address(demo.counter, "u64", label="counter")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    panel = window.watch_docks.watch_panel
    window.watch_docks.watch_dock.show()
    window.watch_docks.watch_dock.raise_()
    qtbot.waitUntil(panel.table.isVisible, timeout=5000)
    editor = _open_editor(qtbot, panel.table, ws.watch.index(0, VALUE))
    _type_slowly(qtbot, editor, "555", lambda: ws.watch.ticks)
    assert editor.text() == "555"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(_journal(ws, demo.pid)) == 1, timeout=10000)
    written = _journal(ws, demo.pid)[0]
    assert (written.address, written.new) == (demo.counter, struct.pack("<Q", 555))
