"""The scanner dock in the window, against the demo: a first scan typed and
run with Enter finds the planted value, next scans and Undo narrow and widen,
a match opens in the hex editor, the context menu adds to the watch list and
copies, Cancel stops, and a target killed mid-scan leaves a working window."""

from __future__ import annotations

import struct

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QStyledItemDelegate

from lainview.backend.scan import Mode
from lainview.models.scan_model import ADDRESS, VALUE

from tests.conftest import spawn_child
from tests.models.qt_support import wait_loaded


@pytest.fixture
def window(qtbot, window):
    """The shown main window (tests/ui/conftest.py), at a size where every
    dock has room."""
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: window.width() == 1400, timeout=5000)
    return window


def attach_demo(qtbot, window, demo):
    task = window.workspace.spawn(window.attach_and_open(demo.pid, None))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result()


def wait_idle(qtbot, panel, timeout: int = 30000) -> None:
    qtbot.waitUntil(lambda: not panel.controller.running, timeout=timeout)


def rows(panel) -> list[int]:
    model = panel.model
    return [model.address(r) for r in range(model.rowCount())]


def choose(combo, mode: Mode) -> None:
    combo.setCurrentIndex(combo.findData(mode))


def only_the_demo_mapping(window, demo) -> None:
    """Select the area of the demo's rw page in the memory map (the kernel
    may have merged it with a neighbour) and scan only that."""
    window.vma_panel.select_address(demo.base)
    [(start, end)] = window.vma_panel.selected_ranges()
    assert start <= demo.base < end
    window.scanner_panel.only_selected.setChecked(True)


def test_first_scan_with_enter_finds_the_planted_value_and_opens_it(qtbot, window, demo):
    attach_demo(qtbot, window, demo)
    planted = demo.base + 0x100
    demo.poke(planted, struct.pack("<i", 1234567891))
    panel = window.scanner_panel
    assert window.scanner_dock in window.findChildren(type(window.scanner_dock))
    window.scanner_dock.hide()                        # the shortcut below shows it
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert window.scanner_dock.isVisible() and panel.value_edit.hasFocus()
    assert panel.first_button.isEnabled() and not panel.next_button.isEnabled()
    qtbot.keyClicks(panel.value_edit, "1234567891")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)       # default areas: writable private
    wait_idle(qtbot, panel)
    assert planted in rows(panel)
    assert "match" in panel.message.text() and "done" in panel.progress.text()
    assert "match" in panel.summary.text() and "i32" in panel.summary.text()
    assert panel.next_button.isEnabled() and panel.next_button.text() == "Next scan ↵"
    assert panel.first_button.text() == "First scan" and panel.new_button.isEnabled()
    # Double-click the match: the hex editor opens its area with the cursor on it.
    row = rows(panel).index(planted)
    panel.table.scrollTo(panel.model.index(row, 0))
    rect = panel.table.visualRect(panel.model.index(row, ADDRESS))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    ws = window.workspace
    assert ws.document.region.contains(planted) and ws.cursor.address == planted
    assert window.editor.view.hasFocus()
    wait_loaded(qtbot, ws.document)
    assert ws.document.bytes_at(planted, 4) == struct.pack("<i", 1234567891)


def test_next_scans_and_undo_narrow_with_the_buttons(qtbot, window, demo):
    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    spots = [demo.base + 0x100, demo.base + 0x200, demo.struct + 4]
    for spot in spots:
        demo.poke(spot, struct.pack("<i", 4242))
    only_the_demo_mapping(window, demo)
    panel.value_edit.setText("4242")
    qtbot.mouseClick(panel.first_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, panel)
    assert rows(panel) == spots
    assert not panel.undo_button.isEnabled()
    # The visible values are read and shown.
    qtbot.waitUntil(lambda: panel.model.data(panel.model.index(0, VALUE)) == "4242",
                    timeout=5000)
    demo.poke(spots[0], struct.pack("<i", 4243))
    qtbot.waitUntil(lambda: panel.model.data(panel.model.index(0, VALUE)) == "4243",
                    timeout=5000)
    # The matches table paints one cells() call a row, and its pixels are the
    # stock view's: right-aligned numbers, the changed value in its colour.
    table = panel.table
    assert table.itemDelegate() is table.text_delegate and hasattr(panel.model, "cells")
    fast = table.viewport().grab().toImage()
    table.setItemDelegate(QStyledItemDelegate(table))
    assert table.viewport().grab().toImage() == fast
    table.setItemDelegate(table.text_delegate)
    choose(panel.next_mode, Mode.INCREASED)
    assert "no value needed" in panel.value_edit.placeholderText()
    assert panel.next_mode.isEnabled()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, panel)
    assert rows(panel) == spots[:1]
    assert panel.undo_button.isEnabled()
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, panel)
    assert rows(panel) == spots and "back to step 1" in panel.message.text()
    choose(panel.next_mode, Mode.EXACT)
    panel.value_edit.setText("4242")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)       # Enter: the next scan now
    wait_idle(qtbot, panel)
    assert rows(panel) == spots[1:]
    # Bad input is said inline, in red, and nothing runs.
    panel.value_edit.setText("forty")
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert "not an i32 value" in panel.message.text() and "b42318" in panel.message.styleSheet()
    assert rows(panel) == spots[1:]


def test_context_menu_adds_to_watch_and_copies(qtbot, window, demo):
    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    demo.poke(demo.base + 0x300, struct.pack("<h", -1234))
    only_the_demo_mapping(window, demo)
    panel.type_combo.setCurrentText("i16")
    panel.value_edit.setText("-1234")
    panel.start_first()
    wait_idle(qtbot, panel)
    assert rows(panel) == [demo.base + 0x300]
    menu = panel.context_menu([0])
    actions = {a.text().split("  ")[0]: a for a in menu.actions() if a.text()}
    with qtbot.waitSignal(panel.add_to_watch) as signal:
        actions["Add to watch list"].trigger()
    assert signal.args == [demo.base + 0x300, "i16"]
    actions["Copy address"].trigger()
    assert QGuiApplication.clipboard().text() == f"{demo.base + 0x300:#x}"
    shown = [a for a in menu.actions() if a.text().startswith("Show ")][0]
    shown.trigger()
    assert window.workspace.cursor.address == demo.base + 0x300
    menu.deleteLater()


def test_cancel_button_stops_the_scan(qtbot, window, demo, workspace):
    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    demo.map(64 << 20)
    workspace.backend.thread.request_delay = 0.01     # every chunk takes 10 ms more
    try:
        choose(panel.first_mode, Mode.UNKNOWN)
        panel.type_combo.setCurrentText("u8")
        qtbot.mouseClick(panel.first_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "/s" in panel.progress.text() and "found so far" in
                        panel.message.text(), timeout=10000)
        assert panel.cancel_button.isEnabled() and not panel.first_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, panel)
    finally:
        workspace.backend.thread.request_delay = 0
    assert "cancelled" in panel.message.text() and panel.model.rowCount() == 0
    assert panel.first_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_target_killed_mid_scan_leaves_a_working_window(qtbot, window, demo, workspace,
                                                        tmp_path):
    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    demo.poke(demo.base + 0x40, struct.pack("<i", 5555))
    only_the_demo_mapping(window, demo)
    panel.value_edit.setText("5555")
    panel.start_first()
    wait_idle(qtbot, panel)
    assert rows(panel) == [demo.base + 0x40]
    panel.only_selected.setChecked(False)
    panel.include_readonly.setChecked(True)
    panel.include_file_backed.setChecked(True)
    workspace.backend.thread.request_delay = 0.01
    try:
        panel.value_edit.setText("1")
        panel.start_first()
        job = panel.controller.job
        qtbot.waitUntil(lambda: job.progress[0] > 0, timeout=10000)
        demo.kill()
        wait_idle(qtbot, panel)
    finally:
        workspace.backend.thread.request_delay = 0
    assert "the target exited" in panel.message.text()
    assert "b42318" in panel.message.styleSheet()
    assert "exited" in window.state_label.text()
    assert rows(panel) == [demo.base + 0x40]             # the last results stay
    assert not panel.first_button.isEnabled() and not panel.next_button.isEnabled()
    # The window keeps working: attach to another process and scan it.
    child = spawn_child(tmp_path)
    try:
        task = window.attach(child.pid)
        qtbot.waitUntil(task.done, timeout=10000)
        assert task.result() and panel.model.rowCount() == 0
        assert panel.first_button.isEnabled() and panel.first_button.text() == "First scan ↵"
        assert child.command(f"poke {child.scan + 8:x} {struct.pack('<i', 6543).hex()}") == "ok"
        window.vma_panel.select_address(child.scan)
        panel.only_selected.setChecked(True)
        panel.value_edit.setText("6543")
        panel.start_first()
        wait_idle(qtbot, panel)
        assert rows(panel) == [child.scan + 8]
    finally:
        child.kill()


def test_a_match_sent_to_the_watch_list_shows_its_live_value(qtbot, window, demo):
    from lainview.models.watch_model import VALUE as WATCH_VALUE
    attach_demo(qtbot, window, demo)
    planted = demo.base + 0x140
    demo.poke(planted, struct.pack("<i", 777000111))
    panel = window.scanner_panel
    window.show_scanner()
    qtbot.keyClicks(panel.value_edit, "777000111")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, panel)
    assert planted in rows(panel)
    panel.add_to_watch.emit(planted, "i32")          # what the context menu emits
    watch = window.workspace.watch
    (entry,) = watch.entries
    assert entry.address == planted and window.watch_docks.watch_dock.isVisible()
    qtbot.waitUntil(lambda: watch.data(watch.index(0, WATCH_VALUE)) == "777000111",
                    timeout=10000)
    demo.poke(planted, struct.pack("<i", 5))
    qtbot.waitUntil(lambda: watch.data(watch.index(0, WATCH_VALUE)) == "5", timeout=10000)


def test_a_tolerance_hidden_by_an_integer_type_does_not_block_its_scans(qtbot, window, demo):
    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    spot = demo.base + 0x180
    demo.poke(spot, struct.pack("<i", 5150))
    only_the_demo_mapping(window, demo)
    panel.type_combo.setCurrentText("f32")
    assert not panel.tolerance.isHidden()
    panel.tolerance.setText("0,5")                 # not a number, and about to be hidden
    panel.type_combo.setCurrentText("i32")
    assert panel.tolerance.isHidden()
    panel.value_edit.setText("5150")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, panel)
    assert rows(panel) == [spot], panel.message.text()
    choose(panel.next_mode, Mode.UNCHANGED)
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, panel)
    assert rows(panel) == [spot], panel.message.text()
    # Where the tolerance is used, it is still checked.
    panel.type_combo.setCurrentText("f32")
    panel.value_edit.setText("1.5")
    qtbot.mouseClick(panel.first_button, Qt.MouseButton.LeftButton)
    assert "the tolerance '0,5' is not a number" in panel.message.text()


def test_enter_runs_the_row_chosen_last_and_says_which(qtbot, window, demo):
    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    first_spot, second_spot = demo.base + 0x1c0, demo.base + 0x1c8
    demo.poke(first_spot, struct.pack("<i", 4711))
    demo.poke(second_spot, struct.pack("<i", 100))
    only_the_demo_mapping(window, demo)
    assert panel.first_button.text() == "First scan ↵" and panel.first_button.isDefault()
    qtbot.keyClicks(panel.value_edit, "4711")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, panel)
    assert rows(panel) == [first_spot]
    # After a first scan Enter runs the Next row, and its button says so.
    assert panel.next_button.text() == "Next scan ↵" and panel.next_button.isDefault()
    assert panel.first_button.text() == "First scan" and not panel.first_button.isDefault()
    # The user chooses First "exact value" (arrow keys on the combo box),
    # types 100 and presses Enter: a first scan, as chosen.
    panel.first_mode.setFocus()
    qtbot.keyClick(panel.first_mode, Qt.Key.Key_Down)
    qtbot.keyClick(panel.first_mode, Qt.Key.Key_Up)
    assert panel.first_mode.currentData() is Mode.EXACT
    assert panel.first_button.text() == "First scan ↵"
    panel.value_edit.clear()
    qtbot.keyClicks(panel.value_edit, "100")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, panel)
    assert panel.controller.state.step == 1
    assert second_spot in rows(panel) and first_spot not in rows(panel)
    # Choosing a Next mode makes Enter run the Next row again.
    panel.next_mode.setFocus()
    qtbot.keyClick(panel.next_mode, Qt.Key.Key_Down)
    assert panel.next_button.text() == "Next scan ↵"


def test_new_scan_clears_and_runs_nothing(qtbot, window, demo):
    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    spot = demo.base + 0x1d0
    demo.poke(spot, struct.pack("<i", 8642))
    only_the_demo_mapping(window, demo)
    assert not panel.new_button.isEnabled()
    panel.value_edit.setText("8642")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, panel)
    assert rows(panel) == [spot] and panel.new_button.isEnabled()
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    assert not panel.controller.running and panel.controller.state is None
    assert panel.model.rowCount() == 0 and "no scan yet" in panel.summary.text()
    assert "cleared" in panel.message.text()
    assert panel.first_button.text() == "First scan ↵" and not panel.next_button.isEnabled()


def test_the_dock_says_in_words_when_the_target_exits(qtbot, window, demo):
    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    spot = demo.base + 0x1e0
    demo.poke(spot, struct.pack("<i", 97531))
    only_the_demo_mapping(window, demo)
    panel.value_edit.setText("97531")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, panel)
    assert rows(panel) == [spot]
    demo.kill()                                    # while the dock is idle
    qtbot.waitUntil(lambda: "the target exited" in panel.message.text(), timeout=10000)
    assert "the last results are kept" in panel.message.text()
    assert rows(panel) == [spot]
    assert not panel.first_button.isEnabled() and not panel.next_button.isEnabled()


def test_progress_ticks_do_not_restyle_the_message(qtbot, window, demo, workspace):
    """Each progress tick (10 Hz) sets the message's text; its colour is set
    only when it changes: Qt re-polishes a widget on every setStyleSheet,
    the same sheet or not (a StyleChange event costing up to 26 ms on the
    first scan after start, where the stall goal is 20 ms)."""
    from PySide6.QtCore import QEvent, QObject

    class Restyles(QObject):
        count = 0

        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QEvent.Type.StyleChange:
                self.count += 1
            return False

    attach_demo(qtbot, window, demo)
    panel = window.scanner_panel
    demo.map(32 << 20)
    restyles = Restyles()
    panel.message.installEventFilter(restyles)
    ticks = []
    panel.controller.progress_changed.connect(ticks.append)
    workspace.backend.thread.request_delay = 0.005    # every chunk takes 5 ms more: many ticks
    try:
        choose(panel.first_mode, Mode.UNKNOWN)
        panel.type_combo.setCurrentText("u8")
        qtbot.mouseClick(panel.first_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(ticks) >= 4, timeout=20000)
        during = restyles.count
        wait_idle(qtbot, panel)
    finally:
        workspace.backend.thread.request_delay = 0
        panel.message.removeEventFilter(restyles)
    assert "found so far" in panel.message.text() or "match" in panel.message.text()
    assert during <= 1, f"{during} restyles over {len(ticks)} progress ticks"
