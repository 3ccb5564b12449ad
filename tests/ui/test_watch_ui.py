"""The watch list, plot, bookmarks and journal docks in the real window,
against the demo and the test child: adding, jumping, markers, plotting,
CSV export, reverting from the journal dock, sessions from the command line."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from lainview.models.watch_model import VALUE

from tests.models.qt_support import attach, open_demo_window


def test_typed_entries_are_added_and_bad_ones_explained(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    panel = window.watch_docks.watch_panel
    qtbot.keyClicks(panel.location, "memfd:lainview-demo+0xf84")
    panel.type.setCurrentText("i32")
    qtbot.keyClicks(panel.label, "health")
    qtbot.keyClick(panel.label, Qt.Key.Key_Return)
    model = window.workspace.watch
    assert [e.label for e in model.entries] == ["health"]
    entry = model.entries[0]
    assert entry.address == demo.struct + 4
    qtbot.waitUntil(lambda: model.data(model.index(0, VALUE)) == "100", timeout=10000)
    assert panel.location.text() == "" and not panel.error.isVisible()
    qtbot.keyClicks(panel.location, "nowhere.so+0x10")
    qtbot.keyClick(panel.location, Qt.Key.Key_Return)
    assert panel.error.isVisible() and "no module named nowhere.so" in panel.error.text()
    assert len(model.entries) == 1
    panel.type.setCurrentText("utf8")
    assert panel.length.isVisibleTo(panel)


def test_ctrl_w_and_ctrl_b_watch_and_bookmark_the_cursor(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    ws.cursor.move_to(demo.struct)
    ws.cursor.move_to(demo.struct + 3, select=True)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    entry = ws.watch.entries[-1]
    assert entry.vtype.label == "i32" and entry.location.text == "memfd:lainview-demo+0xf80"
    qtbot.keyClick(view, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    bookmark = ws.bookmarks.bookmarks[-1]
    assert (bookmark.address, bookmark.size) == (demo.struct, 4)
    assert [m.label for m in view.markers_at(demo.struct + 2)] == [bookmark.name]
    assert view.markers_at(demo.struct + 4) == []
    assert bookmark.name in view.viewport_tooltip(_point_of(view, demo.struct + 1))
    # The marker is painted: the pixels under the byte differ with and without it.
    with_marker = view.viewport().grab().toImage()
    ws.bookmarks.remove_rows([len(ws.bookmarks.bookmarks) - 1])
    assert view.viewport().grab().toImage() != with_marker


def _point_of(view, address):
    from PySide6.QtCore import QPoint
    from lainview.models import hex_geometry as geo
    region = view.document.region
    lay = view.layout_
    row = geo.row_of(address, region.start, view.bytes_per_row) - view.first_row
    column = (address - geo.row_origin(region.start, view.bytes_per_row)) % view.bytes_per_row
    return QPoint(int(lay.hex_cell_x(column) + 2), int(view._header_height + row *
                                                        lay.line_height + 3))


def test_bookmark_dock_jumps_and_marks(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    ws.bookmarks.add_address(demo.string, "greeting", "edit me", size=8)
    ws.cursor.move_to(demo.base)
    panel = window.features["bookmarks"].panel
    window.features["bookmarks"].dock.show()
    window.features["bookmarks"].dock.raise_()
    qtbot.waitUntil(panel.table.isVisible, timeout=5000)
    index = panel.model.index(0, 0)
    rect = panel.table.visualRect(index)
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert ws.cursor.address == demo.string
    assert "1 bookmark" in panel.caption.text()


def test_the_plot_draws_the_samples_and_exports_csv(qtbot, window, demo, tmp_path):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    counter = ws.watch.add_address(demo.counter, "u64", label="counter")
    health = ws.watch.add_address(demo.struct + 4, "i32", label="health")
    health.unit = "HP"
    ws.watch.set_plotted(counter, True)
    ws.watch.set_plotted(health, True)
    plot = window.watch_docks.plot_panel
    qtbot.waitUntil(lambda: plot.shown_data(counter.key)[0] is not None
                    and len(plot.shown_data(counter.key)[0]) >= 5, timeout=10000)
    x, y = plot.shown_data(counter.key)
    assert x[-1] <= 0 and x[0] >= -plot.window_s.value() - 1.5
    assert list(y) == sorted(y) and y[-1] > y[0]        # the demo's counter climbs
    assert set(plot.shown_data(health.key)[1]) == {100.0}
    assert plot.plot.getPlotItem().getAxis("left").labelText == "u64 · HP"
    legend = [label.text for _sample, label in plot.legend.items]
    assert legend == ["counter (u64)", "health (HP)"]
    # Paused: the picture holds while the samples keep coming.
    plot.pause.setChecked(True)
    frames, held = plot.frames, plot.shown_data(counter.key)[1].copy()
    count = ws.watch.history.trace(counter.key).count
    qtbot.waitUntil(lambda: ws.watch.history.trace(counter.key).count >= count + 4, timeout=10000)
    assert plot.frames == frames and list(plot.shown_data(counter.key)[1]) == list(held)
    plot.pause.setChecked(False)
    qtbot.waitUntil(lambda: plot.frames > frames, timeout=10000)
    # The y range follows the data (health 100 .. the counter), set by the
    # panel rather than by pyqtgraph's auto-range, and the x range is the window.
    box = plot.plot.getPlotItem().getViewBox()
    (left, right), (low, high) = box.viewRange()
    assert (left, right) == (-plot.window_s.value(), 0)
    shown = np.concatenate([plot.shown_data(counter.key)[1], plot.shown_data(health.key)[1]])
    assert low <= shown.min() and high >= shown.max() and high - low < 8 * np.ptp(shown) + 10
    # A zoom by the user holds until Resume gives the range back to the data.
    box.scaleBy(y=0.01)
    box.sigRangeChangedManually.emit(box.state["mouseEnabled"])
    zoomed = box.viewRange()[1]
    frames = plot.frames
    qtbot.waitUntil(lambda: plot.frames >= frames + 3, timeout=10000)
    assert box.viewRange()[1] == zoomed
    plot.pause.setChecked(True)
    plot.pause.setChecked(False)
    qtbot.waitUntil(lambda: box.viewRange()[1] != zoomed, timeout=10000)
    path = str(tmp_path / "plot.csv")
    with qtbot.waitSignal(plot.exported, timeout=10000):
        plot.export_to(path)
    lines = open(path).read().splitlines()
    assert lines[0] == "time_s,counter (u64),health (HP)"
    assert len(lines) >= 8 and lines[-1].split(",")[2] == "100"


def test_journal_dock_revert_restores_the_childs_bytes(qtbot, window, child):
    ws = window.workspace
    attach(qtbot, ws, child.pid)
    assert not ws.journal._poll.isActive()          # followed only while on screen
    window.features["journal"].dock.raise_()
    qtbot.waitUntil(ws.journal._poll.isActive, timeout=5000)
    entry = ws.watch.add_address(child.counter + 8, "u32")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    ws.watch.write_text(entry, "1000")
    qtbot.waitUntil(lambda: child.peek(child.counter + 8, 4) == struct.pack("<I", 1000),
                    timeout=10000)
    ws.watch.write_text(entry, "2000")
    panel = window.features["journal"].panel
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2, timeout=10000)
    # Newest first.
    assert panel.proxy.index(0, 5).data() == "d0 07 00 00"
    panel.table.selectRow(0)
    assert panel.revert_button.isEnabled()
    with qtbot.waitSignal(ws.journal.reverted, timeout=10000):
        panel.revert_button.click()
    assert child.peek(child.counter + 8, 4) == struct.pack("<I", 1000)
    assert "#2 reverted" in panel.results.text()
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 3, timeout=10000)
    with qtbot.waitSignal(ws.journal.reverted, timeout=10000) as done:
        panel.revert_all.click()
    assert [o.entry_id for o in done.args[0]] == [1]
    assert child.peek(child.counter + 8, 4) == bytes(4)
    assert panel.targets.count() == 2                       # "all" and this process


def _demo_session(version: int = 1) -> dict:
    return {
        "format": "lainview-session", "version": version,
        "target": {"exe": os.path.realpath(sys.executable), "cmdline": [sys.executable, "-m",
                                                                         "lainview.demo_target"]},
        "watch": [{"location": {"kind": "module", "name": "/memfd:lainview-demo",
                                "offset": 0xf84}, "type": {"name": "i32"}, "label": "health"}],
        "bookmarks": [{"name": "DemoStruct", "location": {"kind": "module",
                                                          "name": "/memfd:lainview-demo",
                                                          "offset": 0xf80}, "size": 40}],
        "view": {"bytes_per_row": 32},
    }


def _screenshot(tmp_path, *args):
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "lainview", *args, "--screenshot", str(shot)],
                          env=env, capture_output=True, text=True, timeout=90)
    shown = next((json.loads(line.split(" ", 1)[1]) for line in proc.stdout.splitlines()
                  if line.startswith("lainview-shown ")), None)
    return proc, shot, shown


def test_session_from_the_command_line(tmp_path, demo):
    """lainview --session on a restarted program: saved against one demo,
    opened with --pid on another; the screenshot shows it resolved."""
    path = tmp_path / "demo.lainview.json"
    path.write_text(json.dumps(_demo_session()))
    proc, shot, shown = _screenshot(tmp_path, "--pid", str(demo.pid), "--session", str(path))
    assert proc.returncode == 0, proc.stderr
    assert shown["pid"] == demo.pid and shown["state"] == "live"
    assert shown["bytes_per_row"] == 32                        # the session's view
    [health] = shown["watch"]
    assert (health["label"], health["address"], health["unresolved"]) == \
        ("health", demo.base + 0xf84, "")
    assert health["value"] == str(int.from_bytes(demo.peek(demo.base + 0xf84, 4), "little",
                                                 signed=True))
    [mark] = shown["bookmarks"]
    assert (mark["name"], mark["address"], mark["unresolved"]) == ("DemoStruct", demo.struct, "")
    # The hex view shows bytes that were read, none left pending.
    assert shown["cells"].get("pending", 0) == 0 and sum(shown["cells"].values()) > 0
    assert not QImage(str(shot)).isNull()


def test_screenshot_fails_when_the_session_does_not_open(tmp_path, demo):
    path = tmp_path / "future.lainview.json"
    path.write_text(json.dumps(_demo_session(version=99)))
    proc, shot, shown = _screenshot(tmp_path, "--pid", str(demo.pid), "--session", str(path))
    # A session this lainview cannot read is bad input (exit 2), as a malformed one is.
    assert proc.returncode == 2 and shown is None and not shot.exists()
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("lainview: no screenshot: session not opened") and "99" in line
    assert "Traceback" not in proc.stderr


def test_screenshot_fails_when_the_target_is_gone(tmp_path, demo):
    demo.kill()
    proc, shot, shown = _screenshot(tmp_path, "--pid", str(demo.pid))
    assert proc.returncode == 1 and not shot.exists()
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("lainview: no screenshot:") and str(demo.pid) in line


def test_journal_dock_exports_a_patch_that_applies_to_a_new_run(qtbot, window, tmp_path,
                                                                  monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    from lainview.backend.patch import load_patch
    from tests.conftest import spawn_child
    ws = window.workspace
    first = spawn_child(tmp_path)
    second = None
    try:
        attach(qtbot, ws, first.pid)
        window.features["journal"].dock.raise_()
        entry = ws.watch.add_address(first.spaced, "bytes", length=6)
        qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
        ws.watch.write_text(entry, "50 41 54 43 48 21")
        panel = window.features["journal"].panel
        qtbot.waitUntil(lambda: panel.proxy.rowCount() == 1, timeout=10000)
        panel.table.selectRow(0)
        out = tmp_path / "fix.json"
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            staticmethod(lambda *a, **k: (str(out), "")))
        panel.export_button.click()
        qtbot.waitUntil(out.exists, timeout=10000)
        first.kill()
        patch = load_patch(out)
        assert [w.new for w in patch.writes] == [b"PATCH!"]
        assert patch.writes[0].location.kind == "module"
        second = spawn_child(tmp_path)
        report = ws.backend.apply_patch(patch, second.pid).result(10)
        assert report.applied and second.peek(second.spaced, 6) == b"PATCH!"
    finally:
        first.kill()
        if second is not None:
            second.kill()


def test_kernel_screenshot_fails_when_the_symbols_do_not_load(tmp_path):
    shot = tmp_path / "kernel.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "lainview", "--kernel", "--ksource", "image",
                           "--image", str(tmp_path / "no-such-vmlinux"), "--screenshot",
                           str(shot)], env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 1 and not shot.exists()
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("lainview: no screenshot: the kernel symbols did not load")


def test_ctrl_w_with_nothing_selected_watches_by_alignment(qtbot, window, demo):
    # A new user's report: Ctrl+W on the demo's u64 counter, nothing
    # selected, added an i32 watch. An 8-aligned address is watched as u64
    # (pointer-sized); any other as the add row's type (i32 by default).
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    assert demo.counter % 8 == 0
    ws.cursor.move_to(demo.counter)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    entry = ws.watch.entries[-1]
    assert entry.address == demo.counter and entry.vtype.label == "u64", entry.vtype
    ws.cursor.move_to(demo.counter + 4)
    qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert ws.watch.entries[-1].vtype.label == "i32"
    window.watch_docks.watch_panel.type.setCurrentText("f32")
    ws.cursor.move_to(demo.counter + 12)
    qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert ws.watch.entries[-1].vtype.label == "f32"


def test_the_watch_table_paints_as_the_stock_view_with_one_call_a_row(qtbot, workspace, child):
    """The watch table repaints its Value column at the list's rate: it is a
    FastTextTable (one ``cells`` call a row, texts laid out once) whose
    pixels are the stock view's — check boxes, a frozen value's background,
    an unresolved row's red, the selected row, a middle-elided path, CJK,
    emoji and tabs in a label."""
    from lainview.backend.locations import parse_location
    from lainview.models.watch_model import ADDRESS
    from lainview.ui.editing import LiveEditDelegate
    from lainview.ui.text_delegate import FastTextTable
    from lainview.ui.watch_panel import WatchPanel

    attach(qtbot, workspace, child.pid)
    model = workspace.watch
    panel = WatchPanel(model)
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    entries = [model.add_address(child.base + i, "u8", label=f"byte {i}") for i in range(1, 4)]
    # Texts drawn from fallback fonts, and tabs, are wider than the main
    # font's widest character says: they are measured and elided too.
    entries[0].label = "体力体力体力体力体力😀😀"
    counter = model.add_address(child.counter + 8, "u32", label="a\tb\tc\td")
    lost = model.add(parse_location("nowhere.so+0x10"), entries[0].vtype)
    qtbot.waitUntil(lambda: all(e.data is not None for e in [*entries, counter]), timeout=10000)
    assert model.set_frozen(entries[1], True)
    model.set_plotted(counter, True)
    panel.table.setColumnWidth(ADDRESS, 60)               # paths elided in the middle
    model.set_paused(True)
    qtbot.waitUntil(lambda: not any(model.poller.fading(e, time.monotonic())
                                    for e in model.entries), timeout=10000)
    panel.table.selectRow(model.row_of(entries[2]))
    table = panel.table
    assert isinstance(table, FastTextTable) and table.itemDelegate() is table.text_delegate
    calls = []
    real = model.cells
    model.cells = lambda row, columns: calls.append(row) or real(row, columns)
    table.text_delegate._texts.clear()
    table.text_delegate._seen.clear()       # every text first seen: drawn without a layout
    fast = table.viewport().grab().toImage()
    assert table.viewport().grab().toImage() == fast        # seen again: laid out, cached
    assert sorted(set(calls)) == [model.row_of(e) for e in (entries[0], entries[1], counter,
                                                            lost)]      # all but the selected
    assert lost.unresolved
    stock = LiveEditDelegate(table)
    table.setItemDelegate(stock)
    assert table.viewport().grab().toImage() == fast
    table.setItemDelegate(table.text_delegate)
    model.set_frozen(entries[1], False)
    model.stop()


def test_the_plot_keeps_a_finite_range_for_the_largest_floats(qtbot, window, demo):
    """An f64 swinging between +1.7e308 and -1.7e308: the y range's span
    overflowed to inf, pyqtgraph took [nan, nan] and every trace vanished
    until the samples left the window. The range stays finite, holds the
    other traces' values, and frames go on."""
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    spot = demo.base + 0x300
    demo.poke(spot, struct.pack("<d", 1.7e308))
    huge = ws.watch.add_address(spot, "f64", label="huge")
    counter = ws.watch.add_address(demo.counter, "u64", label="counter")
    ws.watch.set_plotted(huge, True)
    ws.watch.set_plotted(counter, True)
    plot = window.watch_docks.plot_panel
    qtbot.waitUntil(lambda: 1.7e308 in plot.shown_data(huge.key)[1], timeout=10000)
    demo.poke(spot, struct.pack("<d", -1.7e308))
    qtbot.waitUntil(lambda: -1.7e308 in plot.shown_data(huge.key)[1], timeout=10000)
    frames = plot.frames
    qtbot.waitUntil(lambda: plot.frames >= frames + 3, timeout=10000)
    low, high = plot.plot.getPlotItem().getViewBox().viewRange()[1]
    assert np.isfinite(low) and np.isfinite(high) and low < 0 < high
    assert low <= min(plot.shown_data(counter.key)[1]) and high >= max(
        plot.shown_data(counter.key)[1])
