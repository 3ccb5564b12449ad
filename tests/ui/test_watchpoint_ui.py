"""Find what writes to this, in the real window against the demo: from the
hex view and the watch list, live counts and rate while the demo runs on,
Stop, double-click to the code."""

from __future__ import annotations

import os
import struct

import pytest

from lainview.models.watchpoint_model import HITS, SYMBOL, watch_length

from tests.models.qt_support import open_demo_window

pytestmark = pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86-64 watchpoints")


def counter(demo) -> int:
    return struct.unpack("<Q", demo.peek(demo.counter, 8))[0]


def test_find_what_writes_the_demo_counter_from_the_hex_view(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    ws.cursor.move_to(demo.counter)
    feature = window.features["watchpoint"]
    assert feature.writes_action in window.editor.view.actions()    # the hex view's menu
    feature.writes_action.trigger()
    model = feature.model
    assert feature.dock.isVisible() and model.length == 8        # a u64 there, as Ctrl+W
    qtbot.waitUntil(lambda: model.rowCount() >= 1 and model.hits_of(0) > 0, timeout=20000)
    first, start = model.hits_of(0), counter(demo)
    qtbot.waitUntil(lambda: model.hits_of(0) > first, timeout=20000)     # live counts
    assert counter(demo) > start                                          # never stopped
    assert "/s" in feature.panel.status.text() and feature.panel.status.text().startswith("running")
    assert model.data(model.index(0, SYMBOL))            # named (a symbol or module+offset)
    assert model.data(model.index(0, HITS)) == str(model.hits_of(0))
    assert feature.panel.stop_button.isEnabled()
    qtbot.mouseClick(feature.panel.stop_button, __import__("PySide6.QtCore").QtCore.Qt
                     .MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not model.running, timeout=10000)
    qtbot.waitUntil(lambda: "ended: stopped" in feature.panel.status.text(), timeout=5000)
    assert not feature.panel.stop_button.isEnabled()

    # Double-click: the accessing instruction in the Disassembly dock.
    code = window.features["code"]
    row = next(r for r in range(model.rowCount()) if model.rows[r].address is not None)
    hit = model.rows[row]
    feature.panel.table.doubleClicked.emit(model.index(row, SYMBOL))
    assert window.docks["disassembly"].isVisible()
    qtbot.waitUntil(lambda: code.model.address == hit.address and bool(code.model.lines),
                    timeout=20000)
    assert code.model.lines[0].address == hit.address        # the line it opened at
    assert code.model.lines[0].text == hit.instruction


def test_find_what_accesses_from_the_watch_list(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    entry = ws.watch.add_address(demo.counter, "u64")
    qtbot.waitUntil(lambda: entry.address == demo.counter, timeout=10000)
    panel = window.watch_docks.watch_panel
    panel.find_what.emit(entry, True)
    model = window.features["watchpoint"].model
    assert model.access and model.length == 8
    qtbot.waitUntil(lambda: model.rowCount() >= 1 and model.snapshot.total > 5, timeout=20000)
    model.stop()
    qtbot.waitUntil(lambda: not model.running, timeout=10000)


def test_without_a_target_it_says_so(qtbot, window):
    model = window.features["watchpoint"].model
    assert not model.start(0x1000, 4, False)
    assert model.status == "attach to a process first"


@pytest.mark.parametrize("address,wanted,length", [
    (0x1000, 4, 4), (0x1004, 8, 4), (0x1002, 4, 2), (0x1001, 8, 1), (0x1000, 3, 2),
    (0x1000, 100, 8), (0x1000, 0, 1)])
def test_watch_length_is_the_longest_aligned_fit(address, wanted, length):
    assert watch_length(address, wanted) == length


def test_hits_of_a_process_no_longer_attached_are_marked_and_inert(qtbot, window, demo, child):
    """Attaching to another process (a second real child) stops the watch
    and marks its hits as the first process's: a note naming the pid, the
    table greyed, double-click (the code at that address, but in the process
    attached now) refused. Re-attaching to the same process clears the mark;
    the same pid with another start time is another process."""
    from tests.models.qt_support import attach
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    feature = window.features["watchpoint"]
    model, panel = feature.model, feature.panel
    assert feature.find(demo.counter, 8, False)
    qtbot.waitUntil(lambda: model.rowCount() >= 1, timeout=20000)
    assert not model.stale and not panel.origin.isVisibleTo(panel)
    assert panel.table.isEnabled()
    opened = []
    panel.open_code.connect(opened.append)

    attach(qtbot, ws, child.pid)
    qtbot.waitUntil(lambda: not model.running, timeout=10000)
    assert model.stale and model.rowCount() >= 1                  # kept, marked
    assert f"from pid {demo.pid}" in model.stale_note
    assert "no longer attached" in model.stale_note
    assert panel.origin.isVisibleTo(panel) and f"pid {demo.pid}" in panel.origin.text()
    assert not panel.table.isEnabled()
    panel.table.doubleClicked.emit(model.index(0, SYMBOL))
    assert opened == []

    attach(qtbot, ws, demo.pid)                                    # the same process again
    qtbot.waitUntil(lambda: not model.stale, timeout=5000)
    assert not panel.origin.isVisibleTo(panel) and panel.table.isEnabled()
    panel.table.doubleClicked.emit(model.index(0, SYMBOL))
    assert len(opened) == 1

    pid, ticks, name = model.origin                                # a reused pid
    model.origin = (pid, ticks + 1, name)
    model._check_origin()
    assert model.stale and not panel.table.isEnabled()
